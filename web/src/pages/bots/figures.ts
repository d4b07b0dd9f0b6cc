import type { BotMetrics } from "./types";

/** "1 match", "3 matches". */
export function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The last 30 days (the hub's default period) in a line. */
export function metricsLine(m: BotMetrics): string {
  const handoffs = Object.values(m.handoffs).reduce((a, b) => a + b, 0);
  return [
    count(m.conversations, "conversation", "conversations"),
    count(m.matches, "match", "matches"),
    count(m.misses, "miss", "misses"),
    count(handoffs, "handoff", "handoffs"),
    `${m.resolved_without_person} resolved by the bot`,
  ].join(" · ");
}

/** One trigger's figures. */
export function triggerLine(f: { matches: number; handoffs: number }): string {
  return `${count(f.matches, "match", "matches")} · ${count(f.handoffs, "handoff", "handoffs")} in 30 days`;
}
