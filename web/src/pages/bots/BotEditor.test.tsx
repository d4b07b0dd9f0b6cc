import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, expect, test, vi } from "vitest";
import { BotEditor } from "./BotEditor";
import { bot, mockFetch, trigger } from "./testkit";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

test("the tester's answer is shown and the trigger that fired is highlighted in the list", async () => {
  const calls = mockFetch((c) => {
    if (c.url === "/api/bots/1") return [200, bot()];
    if (c.url.startsWith("/api/sessions")) return [200, { items: [{ name: "default", me_name: "Bela Salon" }], next_cursor: null }];
    if (c.url.startsWith("/api/triggers")) return [200, { items: [trigger(1, 20), trigger(2, 10, { pattern: "price" })], next_cursor: null }];
    if (c.url === "/api/bots/1/metrics")
      return [
        200,
        { bot_id: 1, from: 0, to: 1, conversations: 5, matches: 4, misses: 1, greetings: 2, after_hours: 0, resolved_without_person: 2, failures: 0, handoffs: { trigger: 3 }, triggers: [{ trigger_id: 2, matches: 3, handoffs: 3 }] },
      ];
    if (c.url === "/api/bots/1/test")
      return [
        200,
        {
          trigger_id: 2,
          action: "reply_and_handoff",
          reply: "From £20",
          replies: [{ text: "From £20", kind: "trigger", trigger_id: 2 }],
          handoff: { reason: "trigger", detail: "price" },
          open: false,
          failures: [],
        },
      ];
    return [404, { error: { code: "not_found", message: c.url } }];
  });
  render(<BotEditor id={1} />);
  await screen.findByTestId("trigger-2");
  expect(screen.getByTestId("trigger-2").getAttribute("aria-current")).toBeNull();
  await waitFor(() => expect(screen.getByTestId("bot-figures").textContent).toContain("5 conversations · 4 matches · 1 miss · 3 handoffs"));
  expect(screen.getByTestId("trigger-2").textContent).toContain("3 matches · 3 handoffs in 30 days");
  fireEvent.input(screen.getByLabelText("Customer message"), { target: { value: "what's the price?" } });
  fireEvent.input(screen.getByLabelText("Contact name"), { target: { value: "Ana Souza" } });
  fireEvent.click(screen.getByLabelText("First contact"));
  fireEvent.click(screen.getByRole("button", { name: "Test" }));
  await screen.findByTestId("test-result");
  expect(screen.getByTestId("test-trigger").textContent).toContain("#2 “price”");
  expect(screen.getByTestId("test-reply").textContent).toBe("From £20");
  expect(screen.getByTestId("test-handoff").textContent).toBe("yes: trigger (price)");
  expect(screen.getByTestId("test-open").textContent).toBe("closed");
  await waitFor(() => expect(screen.getByTestId("trigger-2").getAttribute("aria-current")).toBe("true"));
  expect(screen.getByTestId("trigger-1").getAttribute("aria-current")).toBeNull();
  const sent = calls.find((c) => c.url === "/api/bots/1/test")!;
  expect(sent.body).toEqual({ text: "what's the price?", first_contact: true, contact: { name: "Ana Souza" } });
});
