// A WhatsApp session as GET /api/sessions answers it, and its QR (see /api/openapi.json).

import type { WeeklyHours } from "../../lib/hours";

export type ReplyPolicy = "anyone" | "assignee";

export interface SessionView {
  id: number;
  name: string;
  /** WAHA's status: STOPPED | STARTING | SCAN_QR_CODE | WORKING | FAILED | … (UNKNOWN before WAHA answered) */
  status: string;
  wants_running: boolean;
  reply_policy: ReplyPolicy;
  auto_assign: boolean;
  /** The hours the reports' business-hours figures count (docs/analytics.md); null: every hour. */
  business_hours?: WeeklyHours | null;
  /** Whether resolving a conversation asks the customer for a rating (docs/csat.md). */
  csat_enabled: boolean;
  /** null: the default question. */
  csat_question?: string | null;
  /** Alert supervisors when a customer has waited this long (docs/notifications.md); null: never. */
  sla_wait_seconds?: number | null;
  me_id?: string | null;
  me_name?: string | null;
  created_at: number;
  updated_at: number;
  receiving_events: boolean;
  events_problem?: string | null;
}

export interface Qr {
  mimetype: string;
  /** Base64 of the image. */
  data: string;
}

/** `session.status`: the new status with the paired account as the session's record holds it. */
export interface SessionStatusEvent {
  session: string;
  status: string;
  me_id: string | null;
  me_name: string | null;
}

/** What PATCH /api/sessions/{name} takes: only the settings it changes. */
export type SessionSettings = Partial<
  Pick<SessionView, "reply_policy" | "auto_assign" | "business_hours" | "csat_enabled" | "csat_question" | "sla_wait_seconds">
>;

/** `session.settings`: the settings another admin changed, with their new values. */
export type SessionSettingsEvent = SessionSettings & { session: string };

/** Asked when CSAT is on and the session has no question of its own (docs/csat.md). */
export const DEFAULT_CSAT_QUESTION = "How would you rate our help? Reply with a number from 1 (bad) to 5 (excellent).";

/** WAHA renews the pairing QR about this often and says nothing when it does. */
export const QR_RENEW_MS = 20_000;
