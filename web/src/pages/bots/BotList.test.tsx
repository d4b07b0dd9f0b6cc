import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, expect, test, vi } from "vitest";
import { live } from "../../state/session";
import { BotList } from "./BotList";
import { bot, mockFetch } from "./testkit";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const metrics = (id: number, conversations: number) => ({
  bot_id: id,
  from: 0,
  to: 1,
  conversations,
  matches: 7,
  misses: 2,
  greetings: 3,
  after_hours: 0,
  resolved_without_person: 1,
  failures: 0,
  handoffs: { keyword: 1, trigger: 2 },
  triggers: [],
});

/** A frame from the hub, as the socket would hand it to listeners. */
const frame = (type: string, data: unknown) => act(() => (live as any).emit(type, { type, seq: 1, data }));

test("lists bots with their figures; a handoff by one bot re-reads only its figures; delete asks first", async () => {
  let conversations = 4;
  const calls = mockFetch((c) => {
    if (c.url.startsWith("/api/bots?")) return [200, { items: [bot(), bot({ id: 2, name: "Sales", sessions: [], active: false })], next_cursor: null }];
    if (c.url === "/api/bots/1/metrics") return [200, metrics(1, conversations)];
    if (c.url === "/api/bots/2/metrics") return [200, metrics(2, 0)];
    if (c.method === "DELETE") return [204, null];
    return [404, { error: { code: "not_found", message: c.url } }];
  });
  render(<BotList />);
  await waitFor(() => expect(screen.getByTestId("bot-1").textContent).toContain("4 conversations · 7 matches · 2 misses · 3 handoffs · 1 resolved by the bot"));
  expect(screen.getByTestId("bot-2").textContent).toContain("none");
  expect(screen.getByTestId("bot-2").textContent).toContain("off");

  conversations = 5;
  const before = calls.length;
  frame("conversation.handoff", { conversation_id: 9, reason: "keyword", detail: "agent", bot_id: 1, trigger_id: null });
  await waitFor(() => expect(screen.getByTestId("bot-1").textContent).toContain("5 conversations"));
  expect(calls.slice(before).map((c) => c.url)).toEqual(["/api/bots/1/metrics"]);

  fireEvent.click(screen.getByRole("button", { name: "Delete Sales" }));
  expect(calls.some((c) => c.method === "DELETE")).toBe(false);
  fireEvent.click(screen.getByRole("button", { name: "Delete bot" }));
  await waitFor(() => expect(screen.queryByTestId("bot-2")).toBeNull());
  expect(calls.filter((c) => c.method === "DELETE").map((c) => c.url)).toEqual(["/api/bots/2"]);
});
