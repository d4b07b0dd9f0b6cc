import { DAYS, type WeeklyHours } from "./types";

/** "Mon–Fri 09:00–17:00 (Europe/London)": a row's summary of the weekly grid. */
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
  return parts.length ? `${parts.join("; ")} (${h.time_zone})` : `no hours (${h.time_zone})`;
}
