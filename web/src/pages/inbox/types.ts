// The inbox's view of API objects that api/types.ts does not (yet) carry.

import type { Conversation } from "../../api/types";

export interface ContactCard {
  id: number;
  name: string | null;
  push_name?: string | null;
  phone: string | null;
  chat_id?: string;
  wa_id?: string | null;
  tags: string[];
  attributes: Record<string, unknown>;
}

/** GET /api/conversations/{id}: the conversation with its contact. */
export interface ConversationDetail extends Conversation {
  contact?: ContactCard | null;
}

export interface Note {
  id: number;
  conversation_id: number;
  author_id: number | null;
  author_name: string | null;
  text: string;
  created_at: number;
}

export interface QuickReply {
  id: number;
  shortcut: string;
  text: string;
}

export interface SessionInfo {
  id: number;
  name: string;
  status: string;
  reply_policy: "anyone" | "assignee";
  auto_assign: boolean;
}

export interface TeamMember {
  id: number;
  name: string;
  email: string;
  role: string;
  sessions: string[];
  active: boolean;
  presence?: string;
}

/** GET /api/sessions/{name}/members: a colleague who works in the session. */
export interface SessionMember {
  id: number;
  name: string;
  role: string;
  presence: string;
  /** Conversations assigned to them and not resolved, in every session. */
  open: number;
  capacity: number | null;
}

export interface Considered {
  user_id: number;
  load: number;
  capacity: number | null;
  eligible: boolean;
  excluded_because?: string;
}

export interface Assignment {
  id: number;
  at: number;
  from_user_id: number | null;
  to_user_id: number | null;
  by_user_id: number | null;
  reason: string;
  note_id: number | null;
  detail: { rule: string; candidates: Considered[]; handoff_reason?: string | null } | null;
}

/** `conversation.assigned`: to the member the router chose, with why. */
export interface Assigned {
  conversation_id: number;
  assignee_id: number;
  rule: string;
  handoff_reason: string | null;
}

export interface Handoff {
  conversation_id: number;
  reason: string;
  detail: string | null;
  bot_id: number | null;
  trigger_id: number | null;
}

export type View = "mine" | "unassigned" | "all";

export interface ListFilter {
  view: View;
  session: string;
  status: string;
  tag: string;
  q: string;
}
