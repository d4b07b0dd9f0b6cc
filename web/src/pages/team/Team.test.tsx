import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live, me } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { hoursText } from "../../lib/hours";
import { Team } from "./Team";
import type { Member } from "./types";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin" } } };
});
const fake = live as unknown as FakeLive;

const member = (over: Partial<Member>): Member => ({
  id: 2,
  email: "ana@acme.io",
  name: "Ana Agent",
  role: "agent",
  sessions: ["default"],
  skills: [],
  capacity: 4,
  working_hours: null,
  active: true,
  presence: "online",
  created_at: 1,
  updated_at: 1,
  ...over,
});

function serve(extra: Record<string, unknown> = {}) {
  return mockFetch({
    "GET /api/team-members": {
      items: [member({ id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin", sessions: [] }), member({})],
      next_cursor: null,
    },
    "GET /api/sessions": { items: [{ name: "default" }, { name: "support" }], next_cursor: null },
    "GET /api/audit-log": { items: [], next_cursor: null },
    ...extra,
  });
}

const row = (email: string) => screen.getByTestId(`team-row-${email}`);

/** The team page with Ana's edit form open. */
async function editAna() {
  render(<Team params={{}} />);
  await screen.findByTestId("team-row-ana@acme.io");
  fireEvent.click(screen.getByRole("button", { name: "Edit Ana Agent" }));
  return screen.getByRole("form", { name: "Edit Ana Agent" });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  (me as any).value.role = "admin";
});

describe("Team", () => {
  test("a 422 from the hub is shown next to the field it names, and nothing else is marked", async () => {
    const calls = serve({
      "POST /api/team-members": {
        status: 422,
        body: { error: { code: "invalid", message: "password: must be at least 10 characters", field: "password" } },
      },
    });
    render(<Team params={{}} />);
    await screen.findByTestId("team-row-ana@acme.io");
    fireEvent.click(screen.getByRole("button", { name: "New member" }));
    const form = screen.getByRole("form", { name: "New member" });
    fireEvent.input(within(form).getByLabelText("Name"), { target: { value: "Nia New" } });
    fireEvent.input(within(form).getByLabelText("Email"), { target: { value: "nia@acme.io" } });
    fireEvent.input(within(form).getByLabelText("Password"), { target: { value: "short" } });
    fireEvent.click(within(form).getByLabelText("support"));
    fireEvent.submit(form);
    const err = await within(form).findByTestId("error-password");
    expect(err.textContent).toBe("must be at least 10 characters");
    expect(err.closest("[data-field]")!.getAttribute("data-field")).toBe("password");
    expect(within(form).getByLabelText("Password").getAttribute("aria-invalid")).toBe("true");
    expect(within(form).queryByTestId("error-email")).toBeNull();
    expect(within(form).queryByTestId("error-form")).toBeNull();
    const sent = calls.find((c) => c.method === "POST")!.body;
    expect(sent).toMatchObject({ name: "Nia New", email: "nia@acme.io", role: "agent", sessions: ["support"], capacity: null });
  });

  test("an indexed field (sessions[0]) lands on its field; an unnamed error on the form", async () => {
    let n = 0;
    serve({
      "POST /api/team-members": () =>
        ++n === 1
          ? { status: 422, body: { error: { code: "invalid", message: 'sessions[0]: unknown session "gone"', field: "sessions[0]" } } }
          : { status: 503, body: { error: { code: "unavailable", message: "The database is away" } } },
    });
    render(<Team params={{}} />);
    await screen.findByTestId("team-row-ana@acme.io");
    fireEvent.click(screen.getByRole("button", { name: "New member" }));
    const form = screen.getByRole("form", { name: "New member" });
    fireEvent.submit(form);
    expect((await within(form).findByTestId("error-sessions")).textContent).toContain("unknown session");
    fireEvent.submit(form);
    expect((await within(form).findByTestId("error-form")).textContent).toContain("database is away");
    expect(within(form).queryByTestId("error-sessions")).toBeNull();
  });

  test("managers are offered only the roles they may give", async () => {
    (me as any).value.role = "manager";
    serve();
    render(<Team params={{}} />);
    await screen.findByTestId("team-row-ana@acme.io");
    fireEvent.click(screen.getByRole("button", { name: "New member" }));
    const options = [...(screen.getByLabelText("Role") as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toEqual(["agent", "sales", "marketing"]);
    // nor may they edit the admin
    expect(within(row("ada@acme.io")).queryByRole("button", { name: /Edit/ })).toBeNull();
    expect(within(row("ana@acme.io")).getByRole("button", { name: /Edit/ })).toBeTruthy();
  });

  test("editing sends a PATCH with the weekly hours from the grid", async () => {
    const calls = serve({ "PATCH /api/team-members/2": (c: Call) => member({ ...c.body }) });
    const form = await editAna();
    fireEvent.click(within(form).getByLabelText(/Works set hours/));
    fireEvent.click(within(form).getByRole("button", { name: "Add hours on Saturday" }));
    fireEvent.input(within(form).getByLabelText("Capacity"), { target: { value: "6" } });
    fireEvent.submit(form);
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    const body = calls.find((c) => c.method === "PATCH")!.body;
    expect(body.capacity).toBe(6);
    expect(body.password).toBeUndefined();
    expect(body.working_hours.weekly.mon).toEqual([["09:00", "17:00"]]);
    expect(body.working_hours.weekly.sat).toEqual([["09:00", "17:00"]]);
    expect(body.working_hours.weekly.sun).toBeUndefined();
    await waitFor(() => expect(within(row("ana@acme.io")).getByText(/Mon–Sat 09:00–17:00/)).toBeTruthy());
  });

  test("holidays are added and removed with date inputs, and a 422 on one is shown at that date", async () => {
    const hours = { time_zone: "Europe/London", weekly: { mon: [["09:00", "17:00"]] as [string, string][] }, holidays: ["2026-12-25"] };
    const calls = serve({
      "GET /api/team-members": { items: [member({ working_hours: hours })], next_cursor: null },
      "PATCH /api/team-members/2": {
        status: 422,
        body: {
          error: { code: "invalid", message: "working_hours.holidays[1]: not a date YYYY-MM-DD", field: "working_hours.holidays[1]" },
        },
      },
    });
    render(<Team params={{}} />);
    await screen.findByTestId("team-row-ana@acme.io");
    expect(row("ana@acme.io").textContent).toContain("Mon 09:00–17:00 (Europe/London; 1 holiday)");
    fireEvent.click(screen.getByRole("button", { name: "Edit Ana Agent" }));
    const form = screen.getByRole("form", { name: "Edit Ana Agent" });
    const holidays = within(form).getByRole("group", { name: "Holidays (closed all day)" });
    expect((within(holidays).getByLabelText("Holiday 1") as HTMLInputElement).type).toBe("date");
    fireEvent.click(within(holidays).getByRole("button", { name: "+ Holiday" }));
    fireEvent.input(within(holidays).getByLabelText("Holiday 2"), { target: { value: "2026-12-26" } });
    fireEvent.click(within(holidays).getByRole("button", { name: "+ Holiday" }));
    fireEvent.input(within(holidays).getByLabelText("Holiday 3"), { target: { value: "2027-01-01" } });
    fireEvent.click(within(holidays).getByRole("button", { name: "Remove holiday 1" }));
    fireEvent.submit(form);
    await waitFor(() => expect(within(form).getByLabelText("Holiday 2").getAttribute("aria-invalid")).toBe("true"));
    expect(calls.find((c) => c.method === "PATCH")!.body.working_hours.holidays).toEqual(["2026-12-26", "2027-01-01"]);
    expect(within(form.querySelector('[data-testid="holiday-1"]') as HTMLElement).getByText("not a date YYYY-MM-DD")).toBeTruthy();
    expect(within(form).getByLabelText("Holiday 1").getAttribute("aria-invalid")).toBeNull();
    // Placed at its date, it is not repeated at the end of the hours or on the form.
    expect(within(form).queryByTestId("error-working_hours")).toBeNull();
    expect(within(form).queryByTestId("error-form")).toBeNull();
  });

  test("Copy Monday to Tue–Fri copies Monday's intervals and leaves the weekend", async () => {
    const calls = serve({ "PATCH /api/team-members/2": (c: Call) => member({ ...c.body }) });
    const form = await editAna();
    fireEvent.click(within(form).getByLabelText(/Works set hours/));
    fireEvent.click(within(form).getByRole("button", { name: "Add hours on Monday" }));
    fireEvent.input(within(form).getByLabelText("Monday interval 1 to"), { target: { value: "12:00" } });
    fireEvent.input(within(form).getByLabelText("Monday interval 2 from"), { target: { value: "13:00" } });
    fireEvent.input(within(form).getByLabelText("Monday interval 2 to"), { target: { value: "17:00" } });
    fireEvent.click(within(form).getByRole("button", { name: "Add hours on Saturday" }));
    fireEvent.click(within(form).getByRole("button", { name: "Copy Monday to Tue–Fri" }));
    fireEvent.submit(form);
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    const { weekly } = calls.find((c) => c.method === "PATCH")!.body.working_hours;
    const split = [["09:00", "12:00"], ["13:00", "17:00"]];
    expect(weekly).toEqual({ mon: split, tue: split, wed: split, thu: split, fri: split, sat: [["09:00", "17:00"]] });
  });

  test("a 422 on working_hours itself is shown at the end of the hours", async () => {
    serve({
      "PATCH /api/team-members/2": {
        status: 422,
        body: { error: { code: "invalid", message: "working_hours: set at least one day", field: "working_hours" } },
      },
    });
    const form = await editAna();
    fireEvent.click(within(form).getByLabelText(/Works set hours/));
    fireEvent.submit(form);
    const err = await within(form).findByTestId("error-working_hours");
    expect(err.textContent).toBe("set at least one day");
    expect(err.closest("fieldset")!.querySelector("legend")!.textContent).toBe("Working hours");
  });

  test("member.updated and presence.updated change the row live", async () => {
    serve();
    render(<Team params={{}} />);
    await screen.findByTestId("team-row-ana@acme.io");
    act(() => fake.emit("member.updated", { ...member({ capacity: 9, role: "sales" }), presence: undefined }));
    expect(within(row("ana@acme.io")).getByText("sales")).toBeTruthy();
    expect(within(row("ana@acme.io")).getByText("9")).toBeTruthy();
    expect(row("ana@acme.io").querySelector(".p-online")).not.toBeNull();
    act(() => fake.emit("presence.updated", { user_id: 2, status: "away", cause: "idle", at: 5 }));
    expect(row("ana@acme.io").querySelector(".p-away")).not.toBeNull();
    act(() => fake.emit("member.updated", member({ id: 7, email: "new@acme.io", name: "Newcomer" })));
    expect(row("new@acme.io")).toBeTruthy();
  });

  test("the audit log tab reads the log with the chosen filters", async () => {
    const calls = serve();
    render(<Team params={{}} />);
    await screen.findByTestId("team-row-ana@acme.io");
    fireEvent.click(screen.getByRole("tab", { name: "Audit log" }));
    await waitFor(() => expect(calls.some((c) => c.path.startsWith("/api/audit-log"))).toBe(true));
    fireEvent.change(screen.getByLabelText("Who"), { target: { value: "2" } });
    fireEvent.input(screen.getByLabelText("Action"), { target: { value: "member.create" } });
    fireEvent.submit(screen.getByRole("form", { name: "Filter the audit log" }));
    await waitFor(() =>
      expect(calls.some((c) => c.path === "/api/audit-log?actor_id=2&action=member.create&limit=50")).toBe(true),
    );
  });
});

test("hours read as ranges of days", () => {
  expect(
    hoursText({ time_zone: "Europe/London", weekly: { mon: [["09:00", "17:00"]], tue: [["09:00", "17:00"]], thu: [["10:00", "12:00"]] } }),
  ).toBe("Mon–Tue 09:00–17:00; Thu 10:00–12:00 (Europe/London)");
  expect(hoursText(null)).toBe("any time");
});
