import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, expect, test, vi } from "vitest";
import { BotSettings } from "./BotSettings";
import { SAMPLE_CONTACT } from "./template";
import { bot, mockFetch } from "./testkit";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const vars = { contact: SAMPLE_CONTACT, businessName: null, hoursToday: "" };
const hours = { time_zone: "Europe/London", weekly: { mon: [["09:00", "17:00"]] as [string, string][] }, holidays: ["2026-13-45", "2026-12-25"] };

test("a 422 on business_hours.holidays[0] is shown at that holiday, not the other", async () => {
  const calls = mockFetch(() => [422, { error: { code: "invalid", message: "business_hours.holidays[0]: not a date YYYY-MM-DD", field: "business_hours.holidays[0]" } }]);
  render(<BotSettings bot={bot({ business_hours: hours })} sessions={["default"]} vars={vars} onSaved={() => {}} />);
  fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
  await waitFor(() => expect(within(screen.getByTestId("holiday-0")).queryByText("not a date YYYY-MM-DD")).not.toBeNull());
  expect(within(screen.getByTestId("holiday-1")).queryByText("not a date YYYY-MM-DD")).toBeNull();
  expect(screen.getByLabelText("Holiday 1").getAttribute("aria-invalid")).toBe("true");
  expect(screen.getByLabelText("Holiday 2").getAttribute("aria-invalid")).toBeNull();
  expect(screen.getByRole("alert").textContent).toContain("business_hours.holidays[0]");
  expect(calls[0].method).toBe("PATCH");
  expect(calls[0].body.business_hours.holidays).toEqual(["2026-13-45", "2026-12-25"]);
});

test("a 422 on an interval is shown on that day's interval", async () => {
  mockFetch(() => [422, { error: { code: "invalid", message: "business_hours.weekly.mon[0]: 17:00 is not before 09:00", field: "business_hours.weekly.mon[0]" } }]);
  render(<BotSettings bot={bot({ business_hours: hours })} sessions={["default"]} vars={vars} onSaved={() => {}} />);
  fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
  await waitFor(() => expect(screen.getByLabelText("Monday interval 1 from").getAttribute("aria-invalid")).toBe("true"));
  expect(screen.getByText("17:00 is not before 09:00")).toBeTruthy();
});

test("the form saves what was edited: sessions, keywords, intervals, holidays; empty templates as null", async () => {
  const calls = mockFetch((c) => [200, bot({ ...c.body, version: 2 })]);
  const onSaved = vi.fn();
  render(<BotSettings bot={bot({ business_hours: hours })} sessions={["default", "sales"]} vars={vars} onSaved={onSaved} />);
  fireEvent.click(screen.getByLabelText("sales"));
  const kw = screen.getByLabelText("Add to handoff keywords");
  fireEvent.input(kw, { target: { value: "humano" } });
  fireEvent.keyDown(kw, { key: "Enter" });
  fireEvent.click(screen.getByRole("button", { name: "Remove agent" }));
  fireEvent.click(screen.getByRole("button", { name: "Add hours on Tuesday" }));
  fireEvent.click(screen.getByRole("button", { name: "Remove holiday 1" }));
  fireEvent.input(screen.getByLabelText("Hand off after misses in a row"), { target: { value: "3" } });
  fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
  await waitFor(() => expect(onSaved).toHaveBeenCalled());
  expect(calls[0].url).toBe("/api/bots/1");
  expect(calls[0].body).toEqual({
    name: "Front desk",
    sessions: ["default", "sales"],
    active: true,
    greeting: null,
    fallback: null,
    handoff_keywords: ["humano"],
    handoff_after_misses: 3,
    handoff_immediately: false,
    business_hours: { time_zone: "Europe/London", weekly: { mon: [["09:00", "17:00"]], tue: [["09:00", "17:00"]] }, holidays: ["2026-12-25"] },
    after_hours_message: null,
  });
});

test("a 409 naming sessions[1] is shown at that session", async () => {
  mockFetch(() => [409, { error: { code: "conflict", message: 'sessions[1]: session "sales" is already served by bot 3', field: "sessions[1]" } }]);
  render(<BotSettings bot={bot()} sessions={["default", "sales"]} vars={vars} onSaved={() => {}} />);
  fireEvent.click(screen.getByLabelText("sales"));
  fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
  await waitFor(() => expect(screen.getByLabelText("sales").getAttribute("aria-invalid")).toBe("true"));
  expect(screen.getByLabelText("default").getAttribute("aria-invalid")).toBeNull();
  expect(screen.getByText('session "sales" is already served by bot 3')).toBeTruthy();
});
