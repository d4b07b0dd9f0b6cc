// The board's objects as GET /api/dashboard and `dashboard.updated` carry them (docs/websocket.md "The board").

import type { Presence, Role } from "../../api/types";

export interface MemberRow {
  user_id: number;
  name: string;
  role: Role;
  presence: Presence;
  /** When that presence began (ms): the member's latest transition; null when never seen. */
  presence_since: number | null;
  open: number;
  capacity: number | null;
}

export interface SessionRow {
  session_id: number;
  session: string;
  unassigned: number;
  open: number;
  oldest_waiting_since: number | null;
  oldest_wait_s: number | null;
  /** The WhatsApp session's status (`WORKING`, `SCAN_QR_CODE`, `FAILED`, …). */
  status: string;
}

/** Today's figures over the board's sessions ("today" from midnight in the hub's zone). */
export interface TodayFigures {
  /** Customers' requests resolved today. */
  resolved: number;
  first_response_median_s: number | null;
  /** Of today's resolved requests the bot took part in, the share it resolved alone (%). */
  bot_auto_resolved_percent: number | null;
  running_campaigns: number;
}

export interface Totals {
  agents_online: number;
  open_conversations: number;
  waiting_conversations: number;
  messages_today: { in: number; out: number };
  today: TodayFigures;
}

export interface BoardData extends Totals {
  members: MemberRow[];
  sessions: SessionRow[];
}

export interface BoardUpdate extends BoardData {
  full: boolean;
  removed_members: number[];
  removed_sessions: number[];
}

export type PresenceCause =
  | "first_socket"
  | "last_socket_closed"
  | "grace_expired"
  | "idle"
  | "active_again"
  | "set_by_member"
  | "deactivated"
  | "hub_restart";

export interface PresenceEntry {
  id: number;
  status: Presence;
  cause: PresenceCause;
  node: string;
  at: number;
}
