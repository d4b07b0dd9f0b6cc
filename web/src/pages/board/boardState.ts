// The board held by the page, changed only by the hub's pushes: pure functions so the
// patch rules are tested without a DOM.

import type { PresenceUpdate } from "../../api/types";
import type { BoardData, BoardUpdate, MemberRow, SessionRow, Totals } from "./types";

function upsert<T>(rows: T[], changed: T[], removed: number[], key: (r: T) => number): T[] {
  const gone = new Set(removed);
  const byId = new Map(changed.map((r) => [key(r), r]));
  const out = rows.filter((r) => !gone.has(key(r))).map((r) => byId.get(key(r)) ?? r);
  const known = new Set(out.map(key));
  for (const r of changed) if (!known.has(key(r)) && !gone.has(key(r))) out.push(r);
  return out;
}

export const NO_TODAY: Pick<Totals, "messages_today" | "today"> = {
  messages_today: { in: 0, out: 0 },
  today: { resolved: 0, first_response_median_s: null, bot_auto_resolved_percent: null, running_campaigns: 0 },
};

/** `dashboard.updated`: rows by id, removals, the totals (today's figures among them, on every update); `full` replaces everything. */
export function applyUpdate(board: BoardData | null, u: BoardUpdate): BoardData {
  const totals: Totals = {
    agents_online: u.agents_online,
    open_conversations: u.open_conversations,
    waiting_conversations: u.waiting_conversations,
    // A hub from before analytics sends none: what the board held stays.
    messages_today: u.messages_today ?? board?.messages_today ?? NO_TODAY.messages_today,
    today: u.today ?? board?.today ?? NO_TODAY.today,
  };
  if (u.full || !board) return { members: u.members, sessions: u.sessions, ...totals };
  return {
    members: upsert<MemberRow>(board.members, u.members, u.removed_members, (m) => m.user_id),
    sessions: upsert<SessionRow>(board.sessions, u.sessions, u.removed_sessions, (s) => s.session_id),
    ...totals,
  };
}

/** `presence.updated`: the member's dot and since when. The totals follow in the next `dashboard.updated`. */
export function applyPresence(board: BoardData | null, p: PresenceUpdate): BoardData | null {
  if (!board || !board.members.some((m) => m.user_id === p.user_id)) return board;
  const apply = (m: MemberRow) => (m.user_id === p.user_id ? { ...m, presence: p.status, presence_since: p.at } : m);
  return { ...board, members: board.members.map(apply) };
}

/** Open load against capacity: "over" past it, "full" at it. */
export function load(m: MemberRow): { ratio: number; level: "ok" | "full" | "over" } {
  if (m.capacity === null) return { ratio: 0, level: "ok" };
  if (m.capacity === 0) return { ratio: 1, level: m.open > 0 ? "over" : "full" };
  const ratio = m.open / m.capacity;
  return { ratio: Math.min(ratio, 1), level: ratio > 1 ? "over" : ratio === 1 ? "full" : "ok" };
}

const PRESENCE_ORDER = { online: 0, busy: 1, away: 2, offline: 3 } as const;

/** Present people first, then by name: who can take work is what a supervisor looks for. */
export const byPresence = (a: MemberRow, b: MemberRow) =>
  PRESENCE_ORDER[a.presence] - PRESENCE_ORDER[b.presence] || a.name.localeCompare(b.name);
