// What a report is asked for: a range of local dates in a time zone, maybe one session,
// turned into the query string the hub reads (docs/analytics.md "Parameters").

import { withQuery, type Query } from "../../api/http";
import type { Role } from "../../api/types";

export interface Range {
  /** Local dates `YYYY-MM-DD` in `tz`, both included. */
  from: string;
  to: string;
  /** An IANA zone. */
  tz: string;
  /** One session's name, or "" for every session the viewer sees. */
  session: string;
}

export type ReportKind = "agents" | "sessions" | "bots" | "campaigns";

export const REPORTS: { kind: ReportKind; label: string }[] = [
  { kind: "agents", label: "Agents" },
  { kind: "sessions", label: "Sessions" },
  { kind: "bots", label: "Bots" },
  { kind: "campaigns", label: "Campaigns" },
];

/**
 * The reports a role reads (docs/permissions.md "Reports"): supervisors all four; agents and
 * sales the agents report (the hub answers their own row only); marketing the campaigns.
 */
export function reportsFor(role: Role): ReportKind[] {
  switch (role) {
    case "admin":
    case "manager":
      return ["agents", "sessions", "bots", "campaigns"];
    case "agent":
    case "sales":
      return ["agents"];
    case "marketing":
      return ["campaigns"];
  }
}

/** The browser's own zone, UTC when it names none. */
export function browserZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The date (`YYYY-MM-DD`) an instant falls on in `tz`. */
export function dateIn(tz: string, at: Date): string {
  const opts = { year: "numeric", month: "2-digit", day: "2-digit" } as const;
  // en-CA writes dates as YYYY-MM-DD. A zone this browser does not know reads as UTC
  // (the hub then names it in its 422).
  try {
    return new Intl.DateTimeFormat("en-CA", { ...opts, timeZone: tz }).format(at);
  } catch {
    return new Intl.DateTimeFormat("en-CA", { ...opts, timeZone: "UTC" }).format(at);
  }
}

/** `YYYY-MM-DD` moved by whole days (calendar arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export type Preset = "today" | "last7" | "last30" | "month";

export const PRESETS: { id: Preset; label: string }[] = [
  { id: "today", label: "Today" },
  { id: "last7", label: "Last 7 days" },
  { id: "last30", label: "Last 30 days" },
  { id: "month", label: "This month" },
];

/** A preset's dates, "today" being today in `tz`. */
export function presetRange(p: Preset, tz: string, now: Date = new Date()): { from: string; to: string } {
  const today = dateIn(tz, now);
  switch (p) {
    case "today":
      return { from: today, to: today };
    case "last7":
      return { from: addDays(today, -6), to: today };
    case "last30":
      return { from: addDays(today, -29), to: today };
    case "month":
      return { from: `${today.slice(0, 8)}01`, to: today };
  }
}

/** The preset a range is, if any (to show it pressed). */
export function presetOf(r: Range, now: Date = new Date()): Preset | null {
  for (const { id } of PRESETS) {
    const p = presetRange(id, r.tz, now);
    if (p.from === r.from && p.to === r.to) return id;
  }
  return null;
}

export function defaultRange(now: Date = new Date()): Range {
  const tz = browserZone();
  return { ...presetRange("last7", tz, now), tz, session: "" };
}

export function toQuery(r: Range): Query {
  return { from: r.from, to: r.to, tz: r.tz, session: r.session || undefined };
}

/** The report's address; `csv`: the same rows as CSV. */
export function reportUrl(kind: ReportKind, r: Range, csv = false): string {
  return withQuery(`/api/analytics/${kind}`, { ...toQuery(r), format: csv ? "csv" : undefined });
}

/** The name a downloaded CSV is saved under. */
export const csvName = (kind: ReportKind, r: Range) =>
  `${kind}-${r.from}-to-${r.to}${r.session ? `-${r.session}` : ""}.csv`;

/** Every zone the browser knows, the chosen and the browser's own among them. */
export function zones(...must: string[]): string[] {
  let all: string[] = [];
  try {
    all = (Intl as any).supportedValuesOf?.("timeZone") ?? [];
  } catch {
    all = [];
  }
  return [...new Set([...must, "UTC", ...all])].sort();
}
