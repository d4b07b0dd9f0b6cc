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

/** Renders `src` as the hub would; a missing value renders empty, never as the placeholder. */
export function renderTemplate(src: string, vars: PreviewVars): Rendered {
  let out = "";
  let rest = 0;
  for (;;) {
    const open = src.indexOf("{{", rest);
    if (open < 0) break;
    out += src.slice(rest, open);
    const close = src.indexOf("}}", open + 2);
    const inner = close < 0 ? null : src.slice(open + 2, close);
    if (inner === null || inner.includes("{{")) {
      return { text: out + src.slice(open), error: `unclosed {{ at ${[...src.slice(0, open)].length}` };
    }
    const name = inner.trim();
    const val = lookup(name, vars);
    if (val === null) return { text: out + src.slice(open), error: `unknown variable {{${name}}}` };
    out += val;
    rest = close + 2;
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
  if (hours.holidays.includes(local.date)) return "closed";
  const spans = [...(hours.weekly[DAYS[local.day]] ?? [])].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  return spans.length ? spans.map(([a, b]) => `${a}–${b}`).join(", ") : "closed";
}

/** `text` with `insert` put in place of the selection [start, end); answers the new text and caret. */
export function insertAt(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}
