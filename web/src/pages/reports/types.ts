// The reports as GET /api/analytics/* answer them (docs/analytics.md defines each figure).

export interface PeriodView {
  /** RFC 3339; the period is `[from, to)`. */
  from: string;
  to: string;
  tz: string;
}

export interface AgentFigures {
  /** null in the team row. */
  user_id: number | null;
  name: string | null;
  conversations_handled: number;
  first_responses: number;
  first_response_median_s: number | null;
  first_response_p90_s: number | null;
  first_response_business_median_s: number | null;
  first_response_business_p90_s: number | null;
  responses: number;
  response_median_s: number | null;
  response_p90_s: number | null;
  resolution_median_s: number | null;
  resolution_p90_s: number | null;
  resolution_business_median_s: number | null;
  messages_sent: number;
}

export interface AgentReport {
  period: PeriodView;
  items: AgentFigures[];
  team: AgentFigures;
}

export interface InOut {
  in: number;
  out: number;
}

export interface SessionFigures {
  session: string;
  messages_in: number;
  messages_out: number;
  conversations_started: number;
  /** Index 0 is 00:00–01:00 local time. */
  by_hour_of_day: InOut[];
  /** Index 0 is Monday. */
  by_day_of_week: InOut[];
  bot_conversations: number;
  bot_auto_resolved: number;
}

export interface SessionReport {
  period: PeriodView;
  items: SessionFigures[];
}

export interface TriggerMetrics {
  trigger_id: number;
  matches: number;
  handoffs: number;
}

export interface BotRow {
  bot_id: number;
  name: string;
  from: number;
  to: number;
  conversations: number;
  matches: number;
  misses: number;
  greetings: number;
  after_hours: number;
  resolved_without_person: number;
  failures: number;
  handoffs: Record<string, number>;
  triggers: TriggerMetrics[];
}

export interface BotReport {
  period: PeriodView;
  items: BotRow[];
}

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

export interface CampaignRow {
  id: number;
  name: string;
  /** Its first session. */
  session: string;
  /** Every session it sends over. */
  sessions: string[];
  status: string;
  started_at: string | null;
  /** With a session filter: the share of the recipients sent from that session. */
  counts: CampaignCounts;
  /** 0–1; null before any was sent. */
  delivery_rate: number | null;
  read_rate: number | null;
  reply_rate: number | null;
}

export interface CampaignsReport {
  period: PeriodView;
  items: CampaignRow[];
}
