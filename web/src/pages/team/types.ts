// Team members and the audit log as the API answers them (see /api/openapi.json).

import type { Presence, Role } from "../../api/types";
import type { WeeklyHours } from "../../lib/hours";

export interface Member {
  id: number;
  email: string;
  name: string;
  role: Role;
  sessions: string[];
  skills: string[];
  capacity?: number | null;
  working_hours?: WeeklyHours | null;
  active: boolean;
  presence?: Presence | null;
  created_at: number;
  updated_at: number;
  deactivated_at?: number | null;
}

/** What the create and edit forms send (POST takes a password, PATCH does not). */
export interface MemberBody {
  email: string;
  name: string;
  role: Role;
  password?: string;
  sessions: string[];
  skills: string[];
  capacity: number | null;
  working_hours: WeeklyHours | null;
}

export interface AuditItem {
  id: number;
  at: number;
  via: string;
  action: string;
  target_type: string;
  target_id?: string | null;
  actor_id?: number | null;
  actor_email?: string | null;
  session_id?: number | null;
  ip?: string | null;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}
