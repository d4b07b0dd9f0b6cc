// A WhatsApp session as GET /api/sessions answers it, and its QR (see /api/openapi.json).

export type ReplyPolicy = "anyone" | "assignee";

export interface SessionView {
  id: number;
  name: string;
  /** WAHA's status: STOPPED | STARTING | SCAN_QR_CODE | WORKING | FAILED | … (UNKNOWN before WAHA answered) */
  status: string;
  wants_running: boolean;
  reply_policy: ReplyPolicy;
  auto_assign: boolean;
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

export interface SessionSettingsEvent {
  session: string;
  reply_policy?: ReplyPolicy;
  auto_assign?: boolean;
}

/** WAHA renews the pairing QR about this often and says nothing when it does. */
export const QR_RENEW_MS = 20_000;
