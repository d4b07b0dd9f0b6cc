// Campaigns and message templates as /api/campaigns and /api/templates carry them
// (docs/templates.md; the campaign API of issue 18).

export type CampaignStatus = "draft" | "scheduled" | "running" | "paused" | "completed" | "cancelled";
export type RecipientState = "pending" | "queued" | "sent" | "delivered" | "read" | "replied" | "failed" | "skipped";

/** Recipients by state; `queued` holds those planned and not yet sent (pending too). */
export interface CampaignCounts {
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
  skipped: number;
}

export interface QuietHours {
  start: string;
  end: string;
}

export interface Campaign {
  id: number;
  name: string;
  /** Its first session (`sessions[0]`). */
  session: string;
  /** Every session it sends over, in order (each recipient from its contact's own). */
  sessions?: string[];
  /** A segment (its name beside its id; absent if it was deleted meanwhile), how many
   * contact ids were given, or nothing: its segment was deleted before it started. */
  audience: CampaignAudience;
  template: string;
  status: CampaignStatus;
  start_at: string | null;
  time_zone: string;
  recurrence: "daily" | "weekly" | null;
  quiet_hours: QuietHours | null;
  rate_per_minute: number;
  jitter: number;
  frequency_cap_hours: number | null;
  pause_reason: string | null;
  counts: CampaignCounts;
  /** The counts per session the recipients are sent from. */
  by_session?: { session: string; counts: CampaignCounts }[];
  created_by: number | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
}

export type CampaignAudience = { segment_id: number; segment_name?: string } | { contact_ids: number } | Record<string, never>;

/** `campaign.progress` on the websocket. */
export interface ProgressEvent {
  campaign_id: number;
  status: CampaignStatus;
  counts: CampaignCounts;
}

/** POST /api/campaigns/audience: the builder's live count. */
export interface AudienceCount {
  total: number;
  eligible: number;
  /** Why the others would be skipped, by reason (`opted_out`, `erased`, …): counts. */
  skipped: Record<string, number>;
}

/** POST /api/campaigns/{id}/audience: what an uploaded list did. */
export interface UploadedAudience {
  rows: number;
  contacts: number;
  created: number;
  duplicates: number;
  errors: { line: number; field: string; reason: string }[];
  errors_total: number;
  audience: AudienceCount;
  campaign: Campaign;
}

export interface ReasonCount {
  reason: string;
  count: number;
}

export interface SeriesPoint {
  at: string;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
}

export interface Report {
  counts: CampaignCounts;
  /** Fractions (0..1) of those sent. */
  rates: { delivered: number; read: number; replied: number };
  failures: ReasonCount[];
  skips: ReasonCount[];
  opt_outs: number;
  series: SeriesPoint[];
}

export interface Recipient {
  contact_id: number;
  name: string | null;
  phone: string | null;
  state: RecipientState;
  reason: string | null;
}

export interface MessageTemplate {
  id: number;
  name: string;
  body: string;
  created_by: number | null;
  created_at: number;
  updated_at: number;
}

export interface SegmentRef {
  id: number;
  name: string;
}

export const STATUS_LABELS: Record<CampaignStatus, string> = {
  draft: "Draft",
  scheduled: "Scheduled",
  running: "Running",
  paused: "Paused",
  completed: "Completed",
  cancelled: "Cancelled",
};

/** The sessions a campaign sends over, as a page shows them. */
export const sessionsLabel = (c: Pick<Campaign, "session" | "sessions">) => (c.sessions?.length ? c.sessions : [c.session]).join(", ");

export const isFinished = (s: CampaignStatus) => s === "completed" || s === "cancelled";

/** Whose settings may change (the hub answers 409 while it sends, and once it is over). */
export const isEditable = (s: CampaignStatus) => s === "draft" || s === "scheduled" || s === "paused";

/** The audience as a page shows it: the segment by name (its id only when the hub did not
 * answer one), the number of contacts named, or that there is none left. */
export function audienceLabel(a: CampaignAudience): string {
  if ("segment_id" in a) return a.segment_name ? `segment “${a.segment_name}”` : `segment #${a.segment_id}`;
  if ("contact_ids" in a) return `${a.contact_ids} contact ids`;
  return "none: its segment was deleted";
}
