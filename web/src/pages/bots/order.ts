// The order triggers fire in, and the priorities that keep an order the user chose.

import type { Trigger } from "./types";

/** How the hub picks: the highest priority wins, a tie goes to the oldest trigger (lowest id). */
export function byFiringOrder(a: Trigger, b: Trigger): number {
  return b.priority - a.priority || a.id - b.id;
}

/** `list` with the item at `from` moved to index `to`. */
export function move<T>(list: T[], from: number, to: number): T[] {
  if (from === to || from < 0 || from >= list.length || to < 0 || to >= list.length) return list;
  const out = [...list];
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item);
  return out;
}

/** The step between priorities, so a trigger added later can slot in without touching the rest. */
export const STEP = 10;

/**
 * Distinct priorities, highest first, for `ordered` (the order the user wants): only the
 * triggers whose priority has to change are answered, top first, so the fewest PATCHes go out.
 * Priorities are rewritten as (n - i) × STEP rather than nudged: ties and gaps left by
 * earlier edits would otherwise make the hub's order (priority, then id) differ from the list.
 */
export function rewritePriorities(ordered: Trigger[]): { id: number; priority: number }[] {
  const n = ordered.length;
  return ordered
    .map((t, i) => ({ id: t.id, priority: (n - i) * STEP, old: t.priority }))
    .filter((x) => x.priority !== x.old)
    .map(({ id, priority }) => ({ id, priority }));
}

/** A new trigger goes below the others: it fires last until it is moved. */
export function priorityForNew(list: Trigger[]): number {
  if (!list.length) return STEP;
  return Math.min(...list.map((t) => t.priority)) - STEP;
}
