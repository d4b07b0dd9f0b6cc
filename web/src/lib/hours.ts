// Weekly hours in a time zone, as the hub takes and answers them for a member's working
// hours, a bot's business hours and a session's business hours (src/domain/hours.rs).

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Day = (typeof DAYS)[number];
export type Interval = [string, string];

export const DAY_NAMES: Record<Day, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

export interface WeeklyHours {
  /** An IANA time zone, e.g. Europe/London. */
  time_zone: string;
  /** Day → intervals ["HH:MM", "HH:MM"] ("24:00" ends a day); a missing day has no hours. */
  weekly: Partial<Record<Day, Interval[]>>;
  /** Local dates (YYYY-MM-DD) closed all day; the hub leaves the list out when it is empty. */
  holidays?: string[];
}

/** Mon–Fri 09:00–17:00 where the browser is. */
export function defaultHours(): WeeklyHours {
  return {
    time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    weekly: Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [["09:00", "17:00"]]])),
    holidays: [],
  };
}

/** Whether two hours mean the same (an absent holiday list is an empty one). */
export function sameHours(a: WeeklyHours | null | undefined, b: WeeklyHours | null | undefined): boolean {
  const canon = (h: WeeklyHours | null | undefined) =>
    h
      ? JSON.stringify([h.time_zone, DAYS.map((d) => h.weekly[d] ?? []), h.holidays ?? []])
      : null;
  return canon(a) === canon(b);
}

/** "Mon–Fri 09:00–17:00 (Europe/London)": a one-line summary of the weekly grid. */
export function hoursText(h: WeeklyHours | null | undefined): string {
  if (!h) return "any time";
  const spans = DAYS.map((d) => (h.weekly[d] ?? []).map(([a, b]) => `${a}–${b}`).join(", "));
  const groups: { from: number; to: number; text: string }[] = [];
  spans.forEach((text, i) => {
    const last = groups[groups.length - 1];
    if (last && last.text === text && last.to === i - 1) last.to = i;
    else groups.push({ from: i, to: i, text });
  });
  const cap = (d: string) => d[0].toUpperCase() + d.slice(1);
  const parts = groups
    .filter((g) => g.text)
    .map((g) => `${cap(DAYS[g.from])}${g.to > g.from ? `–${cap(DAYS[g.to])}` : ""} ${g.text}`);
  const n = h.holidays?.length ?? 0;
  const off = n ? `; ${n} holiday${n === 1 ? "" : "s"}` : "";
  return parts.length ? `${parts.join("; ")} (${h.time_zone}${off})` : `no hours (${h.time_zone}${off})`;
}
