// The hub's objects as the HTTP API and the websocket carry them (docs/websocket.md).

export type Role = "admin" | "manager" | "agent" | "sales" | "marketing";
export type Presence = "online" | "away" | "busy" | "offline";
export type ConversationStatus = "bot" | "pending" | "open" | "resolved";
export type AckStatus = "pending" | "sent" | "delivered" | "read" | "played" | "failed";

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
}

export interface Conversation {
  id: number;
  session_id: number;
  session: string;
  chat_id: string;
  contact_id: number | null;
  is_group: boolean;
  title: string | null;
  status: ConversationStatus;
  assignee_id: number | null;
  unread: number;
  last_message_at: number;
  last_message_preview: string | null;
  created_at: number;
}

export interface Media {
  url: string | null;
  mimetype: string | null;
  filename: string | null;
}

export interface Reaction {
  sender: string;
  emoji: string;
}

export interface Message {
  id: number;
  conversation_id: number;
  session: string;
  direction: "in" | "out";
  text: string;
  waha_id: string | null;
  status: AckStatus;
  sender: string | null;
  sender_name: string | null;
  media: Media | null;
  created_at: number;
  client_id: string | null;
  author_id: number | null;
  bot_id: number | null;
  /** The bot's current name (null when the bot is gone, or not a bot's message). */
  bot_name: string | null;
  revoked: boolean;
  reactions: Reaction[];
}

export interface Counts {
  mine: number;
  unassigned: number;
  by_status: Record<ConversationStatus, number>;
}

export interface PresenceUpdate {
  user_id: number;
  status: Presence;
  cause: string;
  at: number;
}

/** A frame from the hub. */
export interface Frame<T = any> {
  type: string;
  seq: number | null;
  data: T;
}

export const canUseInbox = (r: Role) => r !== "marketing";
export const isSupervisor = (r: Role) => r === "admin" || r === "manager";
/** Every role reads the contacts of its sessions (docs/permissions.md). */
export const readsContacts = (_: Role) => true;
/** Campaigns and their message templates: admins, managers and marketing (docs/permissions.md). */
export const runsCampaigns = (r: Role) => r === "admin" || r === "manager" || r === "marketing";
/** Every role reads some report: supervisors all, agents and sales their own row, marketing the campaigns. */
export const readsReports = (_: Role) => true;
