import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { useState } from "preact/hooks";
import { afterEach, expect, test, vi } from "vitest";
import { SAMPLE_CONTACT } from "./template";
import { mockFetch, trigger } from "./testkit";
import { TriggerList } from "./TriggerList";
import type { Trigger } from "./types";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const vars = { contact: SAMPLE_CONTACT, businessName: null, hoursToday: "" };

function Harness({ initial, onReload = () => {} }: { initial: Trigger[]; onReload?: () => void }) {
  const [ts, setTs] = useState(initial);
  return <TriggerList botId={1} triggers={ts} onChange={setTs} onReload={onReload} matchedId={null} vars={vars} />;
}

/** Answers PUT trigger-order with the triggers in that order at their new priorities, as the hub does. */
function hub(initial: Trigger[]) {
  return mockFetch((c) => {
    const ids: number[] = c.body.trigger_ids;
    const items = ids.map((id, i) => ({ ...initial.find((x) => x.id === id)!, priority: (ids.length - i) * 10 }));
    return [200, { items, next_cursor: null }];
  });
}

/** happy-dom's DragEvent does not dispatch through fireEvent; a plain event carries the same type. */
const drag = (el: HTMLElement, type: "dragstart" | "dragover" | "drop") =>
  act(() => {
    el.dispatchEvent(new Event(type, { bubbles: true, cancelable: true }));
  });

const order = () => screen.getAllByTestId(/^trigger-\d+$/).map((li) => Number(li.dataset.triggerId));

// A tie (1 and 2 at 5) is broken by the lower id, as the hub breaks it.
const initial = [trigger(3, 0), trigger(2, 5), trigger(1, 5)];

test("shown in firing order: highest priority first, a tie to the lower id", () => {
  hub(initial);
  render(<Harness initial={initial} />);
  expect(order()).toEqual([1, 2, 3]);
});

test("dragging the last trigger onto the first saves the whole order in one call", async () => {
  const calls = hub(initial);
  render(<Harness initial={initial} />);
  drag(screen.getByTestId("trigger-head-3"), "dragstart");
  drag(screen.getByTestId("trigger-1"), "dragover");
  drag(screen.getByTestId("trigger-1"), "drop");
  expect(order()).toEqual([3, 1, 2]);
  await waitFor(() => expect(screen.getByTestId("trigger-status").textContent).toContain("Order saved"));
  expect(calls.map((c) => [c.method, c.url, c.body])).toEqual([
    ["PUT", "/api/bots/1/trigger-order", { trigger_ids: [3, 1, 2] }],
  ]);
});

test("Move down by keyboard saves the new order and keeps the focus on the row", async () => {
  const spaced = [trigger(1, 30), trigger(2, 20), trigger(3, 10)];
  const calls = hub(spaced);
  render(<Harness initial={spaced} />);
  const down = screen.getByRole("button", { name: "Move trigger 1 “p1” down" });
  down.focus();
  fireEvent.click(down);
  expect(order()).toEqual([2, 1, 3]);
  await waitFor(() => expect(calls.length).toBe(1));
  expect(calls.map((c) => [c.url, c.body])).toEqual([["/api/bots/1/trigger-order", { trigger_ids: [2, 1, 3] }]]);
  expect(document.activeElement?.getAttribute("aria-label")).toBe("Move trigger 2 “p1” down");
  // At the top, "up" is disabled: moving 2 can only go down.
  expect(screen.getByRole("button", { name: "Move trigger 1 “p2” up" })).toHaveProperty("disabled", true);
});

test("a refused order says so and reads the triggers again", async () => {
  const spaced = [trigger(1, 30), trigger(2, 20)];
  mockFetch(() => [403, { error: { code: "forbidden", message: "not yours" } }]);
  const onReload = vi.fn();
  render(<Harness initial={spaced} onReload={onReload} />);
  fireEvent.click(screen.getByRole("button", { name: "Move trigger 2 “p2” up" }));
  await waitFor(() => expect(onReload).toHaveBeenCalled());
  expect(screen.getByTestId("trigger-status").textContent).toContain("not saved: not yours");
});

test("a new trigger is added below the others", async () => {
  const spaced = [trigger(1, 30), trigger(2, 20)];
  const calls = mockFetch((c) => [201, trigger(9, c.body.priority, { pattern: c.body.pattern, response: c.body.response })]);
  render(<Harness initial={spaced} />);
  fireEvent.click(screen.getByRole("button", { name: "+ Add trigger" }));
  fireEvent.input(screen.getByLabelText("Pattern"), { target: { value: "hours" } });
  fireEvent.input(screen.getByLabelText("Response"), { target: { value: "We open at 9" } });
  fireEvent.click(screen.getByRole("button", { name: "Add trigger" }));
  await waitFor(() => expect(order()).toEqual([1, 2, 9]));
  expect(calls[0].body).toMatchObject({ bot_id: 1, match: "contains", pattern: "hours", keywords: [], priority: 10, response: "We open at 9", action: "reply" });
});
