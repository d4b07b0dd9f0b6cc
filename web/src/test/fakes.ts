// Test doubles at the app's boundaries: the hub's HTTP answers and the live socket.

import { vi } from "vitest";
import type { Frame } from "../api/types";

type Listener = (f: Frame) => void;

/** Stands in for `live` from state/session: pages subscribe, tests push frames. */
export class FakeLive {
  private listeners = new Map<string, Set<Listener>>();
  commands: { type: string; data: unknown }[] = [];
  on(type: string, f: Listener) {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(f);
    return () => void set!.delete(f);
  }
  emit(type: string, data: unknown, seq: number | null = 1) {
    for (const f of this.listeners.get(type) ?? []) f({ type, seq, data });
  }
  listening(type: string) {
    return this.listeners.get(type)?.size ?? 0;
  }
  command(type: string, data: unknown) {
    this.commands.push({ type, data });
    return Promise.resolve({ type: "ack", seq: null, data: {} });
  }
  send() {}
}

/** A JSON body as its value; any other (a CSV upload) as its text. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface Call {
  method: string;
  path: string;
  body: any;
}
type Answer = unknown | { status: number; body: unknown };
type Route = (call: Call) => Answer;

/**
 * `fetch` answering from `routes` keyed "METHOD /path" (the query string is not part of the
 * key); every call is recorded. An unknown route is a 404 so a test notices it.
 */
export function mockFetch(routes: Record<string, Route | Answer>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, "http://hub.test");
    const method = init?.method ?? "GET";
    const call = { method, path: url.pathname + url.search, body: init?.body ? parseBody(String(init.body)) : undefined };
    calls.push(call);
    const r = routes[`${method} ${url.pathname}`];
    let answer: any = typeof r === "function" ? (r as Route)(call) : r;
    if (answer === undefined) answer = { status: 404, body: { error: { code: "not_found", message: "no route" } } };
    const isWrapped = answer && typeof answer === "object" && "status" in answer && "body" in answer;
    const status = isWrapped ? answer.status : 200;
    const body = isWrapped ? answer.body : answer;
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  });
  vi.stubGlobal("fetch", fn);
  return calls;
}
