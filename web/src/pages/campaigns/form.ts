// The campaign builder's form: what is typed, checked here as the hub checks it (so most
// mistakes show before a request), and the body of POST /api/campaigns.

import type { Campaign } from "./types";

export type When = "now" | "at" | "recurring";

export interface Draft {
  name: string;
  /** The first (or only) session. */
  session: string;
  /** More sessions to send over (new numbers of an uploaded list are spread over all). */
  alsoSessions: string[];
  audience: "segment" | "ids" | "upload";
  segmentId: number | null;
  /** Contact ids pasted: separated by commas, blanks or lines. */
  contactIds: string;
  template: string;
  when: When;
  /** `YYYY-MM-DDTHH:MM` as a datetime-local input gives it, read in `timeZone`. */
  startAt: string;
  timeZone: string;
  recurrence: "daily" | "weekly";
  rate: string;
  jitter: string;
  quiet: boolean;
  quietStart: string;
  quietEnd: string;
  /** Hours; empty: no cap. */
  cap: string;
  /** Editing a campaign of pasted ids: how many it has (the hub does not repeat them); empty text keeps them. */
  keptIds?: number;
  /** A CSV list chosen to upload as the audience (its text), and its file's name. */
  listText?: string;
  listName?: string;
  /** The contacts of the list uploaded already: no file chosen keeps it. */
  keptList?: number;
}

export function newDraft(session = "", timeZone = "UTC"): Draft {
  return {
    name: "",
    session,
    alsoSessions: [],
    audience: "segment",
    segmentId: null,
    contactIds: "",
    template: "",
    when: "now",
    startAt: "",
    timeZone,
    recurrence: "daily",
    rate: "12",
    jitter: "0.5",
    quiet: false,
    quietStart: "21:00",
    quietEnd: "08:00",
    cap: "",
  };
}

/** Field errors by the hub's field names (`name`, `start_at`, `rate_per_minute`, …). */
export type Errors = Record<string, string>;

export const MAX_CONTACT_IDS = 10_000;

/** The ids in `text`; anything that is not a positive whole number is `bad`. */
export function parseContactIds(text: string): { ids: number[]; bad: string[] } {
  const ids: number[] = [];
  const bad: string[] = [];
  const seen = new Set<number>();
  for (const tok of text.split(/[\s,;]+/).filter(Boolean)) {
    const n = /^\d{1,15}$/.test(tok) ? Number(tok) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) bad.push(tok);
    else if (!seen.has(n)) {
      seen.add(n);
      ids.push(n);
    }
  }
  return { ids, bad };
}

/** The zone's offset from UTC at `utcMs`, in ms (London in summer: +3 600 000). */
function offsetAt(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/**
 * `2026-12-08T09:00` on the wall clocks of `timeZone` as an RFC 3339 UTC instant; null when
 * either cannot be read. A wall time skipped by a daylight-saving change reads as the
 * instant an hour later, as most calendars do.
 */
export function zonedToUtc(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const wall = Date.UTC(y, mo - 1, d, h, mi, s || 0);
  if (new Date(wall).getUTCMonth() !== mo - 1 || new Date(wall).getUTCDate() !== d) return null;
  try {
    let utc = wall - offsetAt(wall, timeZone);
    utc = wall - offsetAt(utc, timeZone);
    return new Date(utc).toISOString().replace(/\.\d{3}Z$/, "Z");
  } catch {
    return null; // an unknown zone
  }
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The errors of `d` as the hub would name them; `now` for "is it in the future". */
export function validate(d: Draft, now: Date = new Date()): Errors {
  const e: Errors = {};
  const name = d.name.trim();
  if (!name) e.name = "a name is needed";
  else if ([...name].length > 200) e.name = "at most 200 characters";
  if (!d.session) e.session = "choose a session";
  if (d.audience === "segment") {
    if (d.segmentId === null) e.segment_id = "choose a segment";
  } else if (d.audience === "upload") {
    if (!d.listText?.trim() && !d.keptList) e.audience_upload = "choose a CSV file with a phone column";
  } else {
    const { ids, bad } = parseContactIds(d.contactIds);
    if (bad.length) e.contact_ids = `not contact ids: ${bad.slice(0, 3).join(", ")}${bad.length > 3 ? "…" : ""}`;
    else if (!ids.length && !d.keptIds) e.contact_ids = "paste at least one contact id";
    else if (ids.length > MAX_CONTACT_IDS) e.contact_ids = `at most ${MAX_CONTACT_IDS} ids`;
  }
  if (!d.template.trim()) e.template = "write the message";
  if (d.when !== "now") {
    const at = zonedToUtc(d.startAt, d.timeZone);
    if (!d.startAt) e.start_at = "choose when to start";
    else if (!at) e.start_at = "not a date and time in this time zone";
    else if (d.when === "at" && Date.parse(at) <= now.getTime()) e.start_at = "in the past";
  }
  const rate = Number(d.rate);
  if (!/^\d+$/.test(d.rate.trim()) || rate < 1 || rate > 600) e.rate_per_minute = "a whole number from 1 to 600";
  const jitter = Number(d.jitter);
  if (d.jitter.trim() === "" || !Number.isFinite(jitter) || jitter < 0 || jitter > 0.9) e.jitter = "from 0 to 0.9";
  if (d.quiet) {
    if (!HHMM.test(d.quietStart) || !HHMM.test(d.quietEnd)) e.quiet_hours = "two times as HH:MM";
    else if (d.quietStart === d.quietEnd) e.quiet_hours = "the start and the end are the same";
  }
  if (d.cap.trim() !== "") {
    const cap = Number(d.cap);
    if (!/^\d+$/.test(d.cap.trim()) || cap < 1 || cap > 8760) e.frequency_cap_hours = "whole hours from 1 to 8760, or empty";
  }
  return e;
}

/** `session` for one session, `sessions` for several (the hub takes one or the other). */
export function sessionsOf(d: Pick<Draft, "session" | "alsoSessions">): { session: string } | { sessions: string[] } {
  const more = d.alsoSessions.filter((s) => s && s !== d.session);
  return more.length ? { sessions: [d.session, ...more] } : { session: d.session };
}

/** The audience part of a body (POST /api/campaigns and /api/campaigns/audience); null while incomplete. */
export function audienceOf(d: Draft): { segment_id: number } | { contact_ids: number[] } | null {
  if (d.audience === "segment") return d.segmentId === null ? null : { segment_id: d.segmentId };
  // An uploaded list is counted by its upload (POST /api/campaigns/{id}/audience).
  if (d.audience === "upload") return null;
  const { ids, bad } = parseContactIds(d.contactIds);
  return bad.length || !ids.length ? null : { contact_ids: ids };
}

/** The body of POST /api/campaigns for a valid draft. */
export function toBody(d: Draft): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: d.name.trim(),
    ...sessionsOf(d),
    ...audienceOf(d),
    template: d.template,
    time_zone: d.timeZone,
    rate_per_minute: Number(d.rate),
    jitter: Number(d.jitter),
    quiet_hours: d.quiet ? { start: d.quietStart, end: d.quietEnd } : null,
    frequency_cap_hours: d.cap.trim() === "" ? null : Number(d.cap),
  };
  if (d.audience === "upload") body.audience_upload = true;
  if (d.when !== "now") body.start_at = zonedToUtc(d.startAt, d.timeZone);
  if (d.when === "recurring") body.recurrence = d.recurrence;
  return body;
}

/** Which of the builder's fields a hub error's `field` belongs to. */
export function fieldOfError(field: string | undefined): string | null {
  if (!field) return null;
  const root = field.split(/[.[]/)[0];
  if (root === "recurrence") return "start_at";
  if (root === "time_zone") return "start_at";
  if (root === "sessions") return "session";
  // An uploaded list's refusals: its header, or its rows.
  if (root === "columns" || root === "body") return "audience_upload";
  return root;
}

/** `iso` on the wall clocks of `timeZone`, as a datetime-local input takes it. */
export function utcToZoned(iso: string, timeZone: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  try {
    const wall = new Date(t + offsetAt(t, timeZone));
    return wall.toISOString().slice(0, 16);
  } catch {
    return "";
  }
}

/** The form for an existing campaign (editing a draft, a scheduled or a paused one). */
export function draftOf(c: Campaign): Draft {
  const ids = "contact_ids" in c.audience ? c.audience.contact_ids : undefined;
  return {
    ...newDraft(c.sessions?.[0] ?? c.session, c.time_zone),
    alsoSessions: c.sessions?.slice(1) ?? [],
    name: c.name,
    audience: ids === undefined ? "segment" : "ids",
    segmentId: "segment_id" in c.audience ? c.audience.segment_id : null,
    keptIds: ids,
    template: c.template,
    when: c.recurrence ? "recurring" : c.start_at ? "at" : "now",
    startAt: c.start_at ? utcToZoned(c.start_at, c.time_zone) : "",
    recurrence: c.recurrence ?? "daily",
    rate: String(c.rate_per_minute),
    jitter: String(c.jitter),
    quiet: !!c.quiet_hours,
    quietStart: c.quiet_hours?.start ?? "21:00",
    quietEnd: c.quiet_hours?.end ?? "08:00",
    cap: c.frequency_cap_hours === null ? "" : String(c.frequency_cap_hours),
  };
}

/** The PATCH body for an edited campaign: every field, but the kept ids are not sent again. */
export function toPatch(d: Draft): Record<string, unknown> {
  const body = toBody(d);
  if (d.audience === "ids" && !("contact_ids" in body)) delete body.contact_ids;
  // A list is uploaded on its own, after the settings are saved.
  delete body.audience_upload;
  if (d.when === "now") body.start_at = null;
  body.recurrence = d.when === "recurring" ? d.recurrence : null;
  return body;
}
