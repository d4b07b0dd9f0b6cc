// Test doubles at the page's boundaries: the socket (a Live that tests drive) and fetch.

import { signal } from "@preact/signals";
import { vi } from "vitest";
import type { Conversation, Frame, Message, User } from "../../api/types";

export class FakeLive {
  readonly state = signal("live");
  readonly attempts = signal(0);
  private listeners = new Map<string, Set<(f: Frame) => void>>();
  sent: { type: string; data: any }[] = [];
  commands: { type: string; data: any }[] = [];
  /** What the next command does; by default the hub acks it. */
  onCommand: (type: string, data: any) => Promise<Frame> = async () => ({ type: "ack", seq: null, data: {} });

  on(type: string, f: (fr: Frame) => void) {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(f);
    return () => set!.delete(f);
  }
  emit(type: string, data: any, seq: number | null = 1) {
    for (const f of this.listeners.get(type) ?? []) f({ type, seq, data });
  }
  send(type: string, data: any) {
    this.sent.push({ type, data });
  }
  command(type: string, data: any) {
    this.commands.push({ type, data });
    return this.onCommand(type, data);
  }
}

export const ME: User = { id: 7, email: "ann@example.com", name: "Ann Agent", role: "agent" };

export const session = { live: new FakeLive(), me: signal<User | null>(ME) };

/** Answers fetch by path; anything else is 404. Returns the mock to inspect calls. */
export function mockFetch(routes: Record<string, (url: URL, init?: RequestInit) => unknown>) {
  const f = vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, "http://localhost");
    const key = `${init?.method ?? "GET"} ${url.pathname}`;
    const handler = routes[key];
    if (!handler) return new Response(JSON.stringify({ error: { code: "not_found", message: key } }), { status: 404 });
    return new Response(JSON.stringify(handler(url, init)), { status: 200, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", f);
  return f;
}

export function conv(id: number, over: Partial<Conversation> = {}): Conversation {
  return {
    id,
    session_id: 1,
    session: "default",
    chat_id: `4477009000${String(id).padStart(2, "0")}@c.us`,
    contact_id: id,
    is_group: false,
    title: `Customer ${id}`,
    status: "open",
    assignee_id: null,
    unread: 0,
    last_message_at: 1_700_000_000_000 + id * 1000,
    last_message_preview: `hello ${id}`,
    created_at: 1_700_000_000_000,
    ...over,
  };
}

export function msg(id: number, over: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    session: "default",
    direction: "in",
    text: `text ${id}`,
    waha_id: `w${id}`,
    status: "delivered",
    sender: null,
    sender_name: null,
    media: null,
    created_at: 1_700_000_000_000 + id * 60_000,
    client_id: null,
    author_id: null,
    bot_id: null,
    bot_name: null,
    revoked: false,
    reactions: [],
    ...over,
  };
}
