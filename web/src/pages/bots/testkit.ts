// Shared by this page's component tests: API-shaped objects and a fetch that records calls.

import { vi } from "vitest";
import type { Bot, Trigger } from "./types";

export function trigger(id: number, priority: number, over: Partial<Trigger> = {}): Trigger {
  return {
    id,
    bot_id: 1,
    match: "contains",
    pattern: `p${id}`,
    keywords: [],
    case_sensitive: false,
    accent_sensitive: false,
    priority,
    response: `reply ${id}`,
    action: "reply",
    tag: null,
    field: null,
    value: null,
    active: true,
    created_at: 0,
    updated_at: 0,
    ...over,
  };
}

export function bot(over: Partial<Bot> = {}): Bot {
  return {
    id: 1,
    name: "Front desk",
    sessions: ["default"],
    active: true,
    greeting: null,
    fallback: null,
    handoff_keywords: ["agent"],
    handoff_after_misses: null,
    handoff_immediately: false,
    answer_groups: false,
    business_hours: null,
    after_hours_message: null,
    resolve_after_minutes: null,
    version: 1,
    created_at: 0,
    updated_at: 0,
    ...over,
  };
}

export interface Call {
  method: string;
  url: string;
  body: any;
}

/** Stubs `fetch`: `answer` gets each call and returns [status, json]. */
export function mockFetch(answer: (c: Call) => [number, unknown]) {
  const calls: Call[] = [];
  const f = vi.fn(async (url: string, init: RequestInit = {}) => {
    const c: Call = { method: init.method ?? "GET", url, body: init.body ? JSON.parse(String(init.body)) : undefined };
    calls.push(c);
    const [status, json] = answer(c);
    return new Response(status === 204 ? null : JSON.stringify(json), { status, headers: { "Content-Type": "application/json" } });
  });
  vi.stubGlobal("fetch", f);
  return calls;
}
