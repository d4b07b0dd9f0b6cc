// A client-side copy of the hub's template language (src/domain/bot/template.rs), for the
// live preview only: the tester (POST /api/bots/{id}/test) is what the hub really renders.

import { DAYS, type BusinessHours } from "./types";

/** The variables the editor offers to insert, in the order of the menu. */
export const VARIABLES: { name: string; label: string }[] = [
  { name: "contact.name", label: "Contact name" },
  { name: "contact.first_name", label: "First name" },
  { name: "contact.phone", label: "Phone" },
  { name: "business.hours_today", label: "Hours today" },
  { name: "business.name", label: "Business name" },
];

export interface PreviewVars {
  contact: { name: string | null; phone: string | null; attributes: Record<string, unknown> };
  businessName: string | null;
  hoursToday: string;
}

export const SAMPLE_CONTACT = { name: "Maria Silva", phone: "+447700900123", attributes: {} as Record<string, unknown> };

export interface Rendered {
  text: string;
  /** What the hub would refuse on save (`unknown variable {{x}}`, `unclosed {{ at 3`), else null. */
  error: string | null;
}

function lookup(name: string, v: PreviewVars): string | null {
  const c = v.contact;
  switch (name) {
    case "contact.name":
      return c.name ?? "";
    case "contact.first_name":
      return (c.name ?? "").trim().split(/\s+/)[0] ?? "";
    case "contact.phone":
      return c.phone ?? "";
    case "business.hours_today":
      return v.hoursToday;
    case "business.name":
      return v.businessName ?? "";
  }
  if (!name.startsWith("contact.")) return null;
  let key = name.slice("contact.".length);
  if (key === "attributes") return null;
  if (key.startsWith("attributes.")) key = key.slice("attributes.".length);
  if (!key || /[\s{}]/.test(key)) return null;
  const val = c.attributes[key];
  if (val === undefined || val === null) return "";
  return typeof val === "string" ? val : JSON.stringify(val);
}

const chars = (s: string) => [...s].length;

/** The placeholder at `open` (its `{{`): the name, the fallback, and where it ends; or the hub's error. */
type Placeholder = { name: string; fallback: string | null; end: number } | { error: string; name?: string };

function placeholder(src: string, open: number): Placeholder {
  const start = open + 2;
  const close = src.indexOf("}}", start);
  let bar = src.indexOf("|", start);
  if (bar >= 0 && close >= 0 && bar > close) bar = -1;
  const nameEnd = bar >= 0 ? bar : close;
  const unclosed = { error: `unclosed {{ at ${chars(src.slice(0, open))}` };
  if (nameEnd < 0) return unclosed;
  const raw = src.slice(start, nameEnd);
  if (raw.includes("{{")) return unclosed;
  const name = raw.trim();
  if (bar < 0) return { name, fallback: null, end: close + 2 };
  // After the `|`: blanks, a quoted text taken as written, blanks, `}}` (as the hub reads it).
  let q = bar + 1;
  while (q < src.length && /\s/.test(src[q])) q++;
  const quote = src[q];
  if (quote !== '"' && quote !== "'") return { name, error: `the fallback of {{${name}}} must be quoted ("…" or '…')` };
  const shut = src.indexOf(quote, q + 1);
  if (shut < 0) return { name, error: `unclosed ${quote} at ${chars(src.slice(0, q))}` };
  let e = shut + 1;
  while (e < src.length && /\s/.test(src[e])) e++;
  if (!src.startsWith("}}", e)) return { name, error: `expected }} at ${chars(src.slice(0, e))}` };
  const text = src.slice(q + 1, shut);
  return { name, fallback: text || null, end: e + 2 };
}

/**
 * Renders `src` as the hub would: a missing value renders empty, never as the placeholder,
 * or as its fallback (`{{contact.first_name | "there"}}`) when it has one and the value is blank.
 */
export function renderTemplate(src: string, vars: PreviewVars): Rendered {
  let out = "";
  let rest = 0;
  for (;;) {
    const open = src.indexOf("{{", rest);
    if (open < 0) break;
    out += src.slice(rest, open);
    const p = placeholder(src, open);
    // The hub names an unknown variable before it looks at the fallback.
    const val = p.name === undefined ? null : lookup(p.name, vars);
    if (p.name !== undefined && val === null) return { text: out + src.slice(open), error: `unknown variable {{${p.name}}}` };
    if ("error" in p) return { text: out + src.slice(open), error: p.error };
    out += p.fallback !== null && val!.trim() === "" ? p.fallback : val;
    rest = p.end;
  }
  return { text: out + src.slice(rest), error: null };
}

/** The local weekday (0 = Monday) and date (YYYY-MM-DD) at `at` in `timeZone`. */
function localDay(at: Date, timeZone: string): { day: number; date: string } | null {
  try {
    const parts = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    }).formatToParts(at);
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
    const day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(get("weekday"));
    return day < 0 ? null : { day, date: `${get("year")}-${get("month")}-${get("day")}` };
  } catch {
    return null; // an unknown zone: the hub refuses it on save
  }
}

/** `{{business.hours_today}}` as the hub shows it: `09:00–12:00, 13:00–17:00`, `closed`, or empty without hours. */
export function hoursToday(hours: BusinessHours | null, at: Date = new Date()): string {
  if (!hours) return "";
  const local = localDay(at, hours.time_zone);
  if (!local) return "";
  if (hours.holidays?.includes(local.date)) return "closed";
  const spans = [...(hours.weekly[DAYS[local.day]] ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return spans.length ? spans.map(([a, b]) => `${a}–${b}`).join(", ") : "closed";
}

/** `text` with `insert` put in place of the selection [start, end); answers the new text and caret. */
export function insertAt(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}
