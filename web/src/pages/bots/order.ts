// The order triggers fire in, and saving an order the user chose.

import { api, type Page } from "../../api/http";
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
 * `ordered` with the priorities the hub gives that order ((n - i) × STEP, highest first), to
 * show the new order at once while it is saved.
 */
export function withPriorities(ordered: Trigger[]): Trigger[] {
  const n = ordered.length;
  return ordered.map((t, i) => ({ ...t, priority: (n - i) * STEP }));
}

/**
 * Saves the order in one call (`PUT /api/bots/{id}/trigger-order`): one transaction, one
 * recompile; all or nothing. Answers the triggers as saved, in that order.
 */
export async function saveOrder(botId: number, ordered: Trigger[]): Promise<Trigger[]> {
  const page = await api<Page<Trigger>>("PUT", `/api/bots/${botId}/trigger-order`, {
    trigger_ids: ordered.map((t) => t.id),
  });
  return page.items;
}

/** A new trigger goes below the others: it fires last until it is moved. */
export function priorityForNew(list: Trigger[]): number {
  if (!list.length) return STEP;
  return Math.min(...list.map((t) => t.priority)) - STEP;
}
