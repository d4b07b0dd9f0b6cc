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
}

export interface Totals {
  agents_online: number;
  open_conversations: number;
  waiting_conversations: number;
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
