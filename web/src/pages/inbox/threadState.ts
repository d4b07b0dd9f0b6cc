// Pure operations on a thread's messages, in history order (by id), with this tab's
// unconfirmed sends (negative ids) after them until the hub's echo replaces them.

import type { Message } from "../../api/types";
import type { Note } from "./types";

export function mergeMessage(list: Message[], m: Message): Message[] {
  // The echo of one of our sends: it takes the optimistic bubble's place.
  if (m.client_id) {
    const i = list.findIndex((x) => x.id < 0 && x.client_id === m.client_id);
    if (i >= 0) return insertById(list.filter((_, j) => j !== i), m);
  }
  const at = list.findIndex((x) => x.id === m.id);
  if (at >= 0) {
    const next = list.slice();
    next[at] = m;
    return next;
  }
  return insertById(list, m);
}

function insertById(list: Message[], m: Message): Message[] {
  const next = list.slice();
  if (m.id < 0) {
    next.push(m);
    return next;
  }
  // Confirmed messages stay in id order before the pending ones.
  let i = next.length;
  while (i > 0 && (next[i - 1]!.id < 0 || next[i - 1]!.id > m.id)) i--;
  next.splice(i, 0, m);
  return next;
}

/** An older page (newest first, as the API answers) put in front. */
export function prependOlder(list: Message[], page: Message[]): Message[] {
  const have = new Set(list.map((m) => m.id));
  const older = page.filter((m) => !have.has(m.id)).reverse();
  return [...older, ...list];
}

export type TimelineItem =
  | { kind: "day"; key: string; at: number }
  | { kind: "message"; key: string; m: Message }
  | { kind: "note"; key: string; n: Note };

/** Messages and notes in time order, with a separator before each new day. */
export function timeline(
  messages: Message[],
  notes: Note[],
  dayKey: (ms: number) => string,
  complete: boolean,
): TimelineItem[] {
  const out: TimelineItem[] = [];
  let lastDay = "";
  const push = (at: number, item: TimelineItem) => {
    const d = dayKey(at);
    if (d !== lastDay) {
      out.push({ kind: "day", key: `day-${d}`, at });
      lastDay = d;
    }
    out.push(item);
  };
  const ns = [...notes].sort((a, b) => a.created_at - b.created_at || a.id - b.id);
  // Notes older than the oldest loaded message belong to history not yet loaded.
  const from = messages.length && !complete ? messages[0]!.created_at : -Infinity;
  let j = 0;
  while (j < ns.length && ns[j]!.created_at < from) j++;
  for (const m of messages) {
    while (j < ns.length && ns[j]!.created_at <= m.created_at && m.id > 0) {
      push(ns[j]!.created_at, { kind: "note", key: `n${ns[j]!.id}`, n: ns[j]! });
      j++;
    }
    push(m.created_at, { kind: "message", key: m.id < 0 ? `c${m.client_id}` : `m${m.id}`, m });
  }
  for (; j < ns.length; j++) push(ns[j]!.created_at, { kind: "note", key: `n${ns[j]!.id}`, n: ns[j]! });
  return out;
}
