// The bot builder's view of the hub's API (contract §3b, docs/bots.md, GET /api/openapi.json).

import type { WeeklyHours } from "../../lib/hours";

export { DAY_NAMES, DAYS, type Day, type Interval } from "../../lib/hours";

export type MatchKind = "exact" | "contains" | "word" | "starts_with" | "regex" | "any_keyword";
export type TriggerAction = "reply" | "reply_and_handoff" | "handoff" | "add_tag" | "set_contact_field";
export const MATCH_KINDS: { value: MatchKind; label: string }[] = [
  { value: "exact", label: "Exact message" },
  { value: "contains", label: "Contains" },
  { value: "word", label: "Whole word(s)" },
  { value: "starts_with", label: "Starts with" },
  { value: "regex", label: "Regular expression" },
  { value: "any_keyword", label: "Any keyword" },
];
/** The actions this page edits; `add_tag` and `set_contact_field` triggers are shown but kept as they are. */
export const ACTIONS: { value: TriggerAction; label: string }[] = [
  { value: "reply", label: "Reply" },
  { value: "reply_and_handoff", label: "Reply and hand off" },
  { value: "handoff", label: "Hand off" },
];

/** A bot's business hours: weekly hours with holidays. */
export type BusinessHours = WeeklyHours;

export interface Bot {
  id: number;
  name: string;
  sessions: string[];
  active: boolean;
  greeting: string | null;
  fallback: string | null;
  handoff_keywords: string[];
  handoff_after_misses: number | null;
  handoff_immediately: boolean;
  answer_groups: boolean;
  business_hours: BusinessHours | null;
  after_hours_message: string | null;
  resolve_after_minutes: number | null;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface Trigger {
  id: number;
  bot_id: number;
  match: MatchKind;
  pattern: string | null;
  keywords: string[];
  case_sensitive: boolean;
  accent_sensitive: boolean;
  priority: number;
  response: string | null;
  action: TriggerAction;
  tag: string | null;
  field: string | null;
  value: string | null;
  active: boolean;
  created_at: number;
  updated_at: number;
}

export interface TestReply {
  text: string;
  kind: "greeting" | "trigger" | "fallback" | "after_hours";
  trigger_id: number | null;
}

export interface TestResult {
  trigger_id: number | null;
  action: string;
  reply: string | null;
  replies: TestReply[];
  handoff: { reason: string; detail: string } | null;
  open: boolean;
  failures: string[];
}

export interface ReplayStep {
  message_id: number;
  text: string;
  at: number;
  silent: boolean;
  result: TestResult | null;
}

export interface BotMetrics {
  bot_id: number;
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
  triggers: { trigger_id: number; matches: number; handoffs: number }[];
}

/** What GET /api/sessions says of a session that the editor needs. */
export interface SessionSummary {
  name: string;
  /** The business's WhatsApp name: the hub renders `{{business.name}}` from it. */
  me_name: string | null;
}
