// The CRM's objects as /api/contacts, /api/segments and /api/contacts/imports carry them
// (docs/segments.md).

import type { Conversation, Role } from "../../api/types";

export interface Contact {
  id: number;
  session_id: number;
  session: string;
  chat_id: string;
  wa_ids: string[];
  /** E.164 (`+447700900123`) when the number is known. */
  phone: string | null;
  name: string | null;
  push_name: string | null;
  email: string | null;
  notes: string | null;
  type: string | null;
  lifetime_spend: number;
  owner_id: number | null;
  consent: "opted_in" | "opted_out" | null;
  consent_source: string | null;
  consent_at: number | null;
  opted_out: boolean;
  tags: string[];
  attributes: Record<string, unknown>;
  last_message_at: number | null;
  conversation_count: number;
  /** When its personal data was erased (GDPR); null: never. */
  erased_at?: number | null;
  created_at: number;
  updated_at: number;
}

export interface ContactDetail extends Contact {
  conversations: Conversation[];
}

export interface ContactType {
  name: string;
  label: string;
  position: number;
}

export type AttributeKind = "text" | "number" | "date" | "boolean" | "choice";

export interface AttributeDef {
  name: string;
  label: string;
  type: AttributeKind;
  choices: string[];
}

export interface Clause {
  field: string;
  op: string;
  value?: unknown;
}

export type Filter = { all: (Clause | Filter)[] } | { any: (Clause | Filter)[] };

export interface Segment {
  id: number;
  name: string;
  filter: Filter;
  created_by: number | null;
  created_at: number;
  updated_at: number;
}

export interface SegmentView extends Segment {
  count: number;
}

export interface RowError {
  line: number;
  field: string;
  reason: string;
}

export interface ImportStatus {
  id: number;
  session_id: number;
  on_duplicate: "skip" | "update";
  status: "running" | "completed" | "failed";
  rows: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  errors: RowError[];
  errors_total: number;
  failure: string | null;
}

/** `contact_import.progress` over the websocket: the counts after each applied chunk. */
export interface ImportProgress {
  id: number;
  session_id: number;
  status: ImportStatus["status"];
  rows: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
}

/** Everyone reads contacts; agents do not edit them, import them or save segments (docs/permissions.md). */
export const canWriteContacts = (r: Role) => r !== "agent";

/** The name to show: the team's, else WhatsApp's, else the number. */
export const displayName = (c: Pick<Contact, "name" | "push_name" | "phone" | "chat_id">) =>
  c.name || c.push_name || c.phone || c.chat_id;
