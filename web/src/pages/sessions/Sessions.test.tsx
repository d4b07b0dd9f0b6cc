import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live, me } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { Sessions } from "./Sessions";
import { DEFAULT_CSAT_QUESTION, QR_RENEW_MS, type SessionView } from "./types";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "a@x.io", name: "Ada", role: "admin" } } };
});
const fake = live as unknown as FakeLive;

const session = (over: Partial<SessionView>): SessionView => ({
  id: 1,
  name: "default",
  status: "WORKING",
  wants_running: true,
  reply_policy: "anyone",
  auto_assign: false,
  business_hours: null,
  csat_enabled: false,
  csat_question: null,
  sla_wait_seconds: null,
  me_id: "447700900001@c.us",
  me_name: "Acme",
  created_at: 1,
  updated_at: 1,
  receiving_events: true,
  events_problem: null,
  ...over,
});

function serve(list: SessionView[], patchAnswer?: (c: Call) => unknown) {
  let n = 0;
  const byName = (name: string) => list.find((s) => s.name === name);
  const calls = mockFetch({
    "GET /api/sessions": { items: list, next_cursor: null },
    "GET /api/sessions/sales/qr": () => ({ mimetype: "image/png", data: `UVI${++n}` }),
    "GET /api/sessions/sales": () => byName("sales"),
    "GET /api/sessions/default": () => byName("default"),
    "PATCH /api/sessions/default": patchAnswer ?? ((c: Call) => session({ ...byName("default"), ...c.body })),
    "POST /api/sessions/default/logout": () => session({ status: "STOPPED", me_id: null, me_name: null }),
  });
  return calls;
}

const qrReads = (calls: { path: string }[]) => calls.filter((c) => c.path.endsWith("/qr")).length;

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  (me as any).value.role = "admin";
});

describe("Sessions", () => {
  test("shows the QR only for the session in SCAN_QR_CODE", async () => {
    serve([session({}), session({ id: 2, name: "sales", status: "SCAN_QR_CODE", me_id: null, me_name: null })]);
    render(<Sessions params={{}} />);
    const sales = await screen.findByTestId("session-sales");
    const img = await within(sales).findByRole("img", { name: /QR code/ });
    expect(img.getAttribute("src")).toBe("data:image/png;base64,UVI1");
    expect(within(screen.getByTestId("session-default")).queryByTestId("qr-default")).toBeNull();
    expect(within(screen.getByTestId("session-default")).getByTestId("session-status").textContent).toBe("WORKING");
  });

  test("re-reads the QR on WAHA's rhythm while it waits for a scan, and stops once it is WORKING", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const list = [session({ id: 2, name: "sales", status: "SCAN_QR_CODE", me_id: null })];
    const calls = serve(list);
    render(<Sessions params={{}} />);
    const sales = await screen.findByTestId("session-sales");
    await waitFor(() => expect(within(sales).getByRole("img").getAttribute("src")).toContain("UVI1"));
    await act(async () => void vi.advanceTimersByTime(QR_RENEW_MS));
    await waitFor(() => expect(within(sales).getByRole("img").getAttribute("src")).toContain("UVI2"));
    act(() =>
      fake.emit("session.status", { session: "sales", status: "WORKING", me_id: "447700900002@c.us", me_name: "Sales" }),
    );
    expect(within(sales).getByTestId("session-status").textContent).toBe("WORKING");
    expect(within(sales).queryByRole("img")).toBeNull();
    const reads = qrReads(calls);
    await act(async () => void vi.advanceTimersByTime(QR_RENEW_MS * 3));
    expect(qrReads(calls)).toBe(reads);
    await waitFor(() => expect(sales.textContent).toContain("447700900002"));
    // The account came with the event: the session was not read again.
    expect(calls.some((c) => c.method === "GET" && c.path === "/api/sessions/sales")).toBe(false);
  });

  test("a session.status into SCAN_QR_CODE brings the QR up", async () => {
    const list = [session({ id: 2, name: "sales", status: "STARTING" })];
    serve(list);
    render(<Sessions params={{}} />);
    const sales = await screen.findByTestId("session-sales");
    expect(within(sales).queryByRole("img")).toBeNull();
    list[0] = { ...list[0], status: "SCAN_QR_CODE" };
    act(() => fake.emit("session.status", { session: "sales", status: "SCAN_QR_CODE", me_id: null, me_name: null }));
    await within(sales).findByRole("img", { name: /QR code/ });
  });

  test("managers see the sessions but no QR, actions or editable settings", async () => {
    (me as any).value.role = "manager";
    const hours = { time_zone: "Europe/London", weekly: { mon: [["09:00", "17:00"]] as [string, string][] }, holidays: ["2026-12-25"] };
    const calls = serve([
      session({
        id: 2,
        name: "sales",
        status: "SCAN_QR_CODE",
        business_hours: hours,
        csat_enabled: true,
        csat_question: "Rate us 1-5",
        sla_wait_seconds: 1800,
      }),
    ]);
    render(<Sessions params={{}} />);
    const sales = await screen.findByTestId("session-sales");
    expect(within(sales).queryByRole("img")).toBeNull();
    expect(within(sales).queryByRole("button", { name: "Start" })).toBeNull();
    expect((within(sales).getByRole("group", { name: "Settings" }) as HTMLFieldSetElement).disabled).toBe(true);
    expect(screen.queryByRole("form", { name: "Register a session" })).toBeNull();
    expect(qrReads(calls)).toBe(0);
    // The new settings are shown as they are, and none can be changed or saved.
    const sla = within(sales).getByLabelText(/Alert supervisors after/) as HTMLInputElement;
    expect(sla.value).toBe("30");
    expect((within(sales).getByLabelText(/Ask the customer to rate/) as HTMLInputElement).checked).toBe(true);
    expect((within(sales).getByLabelText("Rating question") as HTMLTextAreaElement).value).toBe("Rate us 1-5");
    expect((within(sales).getByLabelText("Holiday 1") as HTMLInputElement).value).toBe("2026-12-25");
    expect((within(sales).getByLabelText("Monday interval 1 to") as HTMLInputElement).value).toBe("17:00");
    // The disabled fieldset holds every control, the hours' buttons included (jsdom does not pass it down).
    expect(within(sales).getByLabelText("Holiday 1").closest("fieldset[disabled]")).not.toBeNull();
    expect(within(sales).getByRole("button", { name: "+ Holiday" }).closest("fieldset[disabled]")).not.toBeNull();
    expect(within(sales).queryByRole("button", { name: "Save settings" })).toBeNull();
  });

  test("settings are saved with one PATCH of what changed, and a session.settings event shows another admin's change", async () => {
    const calls = serve([session({})]);
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    const save = within(card).getByRole("button", { name: "Save settings" }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    fireEvent.change(within(card).getByLabelText("Who may reply"), { target: { value: "assignee" } });
    expect(calls.some((c) => c.method === "PATCH")).toBe(false);
    fireEvent.click(save);
    await waitFor(() => expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ reply_policy: "assignee" }));
    await within(card).findByText("Saved");
    act(() => fake.emit("session.settings", { session: "default", auto_assign: true }));
    expect((within(card).getByLabelText(/Assign waiting conversations/) as HTMLInputElement).checked).toBe(true);
  });

  test("business hours with a holiday, CSAT and the SLA alert go in one PATCH, only the changed ones", async () => {
    const calls = serve([session({ csat_question: "Rate us?" })]);
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    fireEvent.click(within(card).getByLabelText(/Set business hours/));
    fireEvent.change(within(card).getByLabelText("Time zone"), { target: { value: "Europe/London" } });
    fireEvent.click(within(card).getByRole("button", { name: "Remove Friday interval 1" }));
    fireEvent.click(within(card).getByRole("button", { name: "+ Holiday" }));
    fireEvent.input(within(card).getByLabelText("Holiday 1"), { target: { value: "2026-12-25" } });
    fireEvent.click(within(card).getByLabelText(/Ask the customer to rate/));
    fireEvent.input(within(card).getByLabelText(/Alert supervisors after/), { target: { value: "30" } });
    // Typed and put back: not a change, not sent.
    const question = within(card).getByLabelText("Rating question") as HTMLTextAreaElement;
    expect(question.placeholder).toBe(DEFAULT_CSAT_QUESTION);
    fireEvent.input(question, { target: { value: "Rate us" } });
    fireEvent.input(question, { target: { value: "Rate us?" } });
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(1));
    const weekday = [["09:00", "17:00"]];
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({
      business_hours: {
        time_zone: "Europe/London",
        weekly: { mon: weekday, tue: weekday, wed: weekday, thu: weekday },
        holidays: ["2026-12-25"],
      },
      csat_enabled: true,
      sla_wait_seconds: 1800,
    });
    await within(card).findByText("Saved");
    expect((within(card).getByLabelText(/Alert supervisors after/) as HTMLInputElement).value).toBe("30");
  });

  test("emptied, the SLA alert, the question and the hours are sent as null", async () => {
    const hours = { time_zone: "UTC", weekly: { sat: [["10:00", "14:00"]] as [string, string][] } };
    const calls = serve([session({ sla_wait_seconds: 600, csat_enabled: true, csat_question: "Rate us?", business_hours: hours })]);
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    expect((within(card).getByLabelText(/Alert supervisors after/) as HTMLInputElement).value).toBe("10");
    fireEvent.input(within(card).getByLabelText(/Alert supervisors after/), { target: { value: "" } });
    fireEvent.input(within(card).getByLabelText("Rating question"), { target: { value: "  " } });
    fireEvent.click(within(card).getByLabelText(/Set business hours/));
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    await waitFor(() =>
      expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ sla_wait_seconds: null, csat_question: null, business_hours: null }),
    );
  });

  test("a 422 is shown beside the field it names: the SLA alert, a holiday", async () => {
    const hours = { time_zone: "Europe/London", weekly: { mon: [["09:00", "17:00"]] as [string, string][] }, holidays: ["2026-12-25"] };
    const refusals = [
      { message: "sla_wait_seconds: expected 1 to 2592000 seconds, or null for no alerts", field: "sla_wait_seconds" },
      { message: "business_hours.holidays[1]: 2026-12-25 is listed twice", field: "business_hours.holidays[1]" },
    ];
    const calls = serve([session({ business_hours: hours })], () => ({
      status: 422,
      body: { error: { code: "invalid", ...refusals.shift()! } },
    }));
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    const sla = within(card).getByLabelText(/Alert supervisors after/);
    fireEvent.input(sla, { target: { value: "50000" } });
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    const err = await within(card).findByTestId("error-sla_wait_seconds");
    expect(err.textContent).toBe("expected 1 to 2592000 seconds, or null for no alerts");
    expect(sla.getAttribute("aria-invalid")).toBe("true");
    expect(sla.getAttribute("aria-describedby")).toBe(err.id);
    expect(within(card).queryByTestId("settings-error")).toBeNull();
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ sla_wait_seconds: 3_000_000 });

    fireEvent.input(sla, { target: { value: "" } });
    fireEvent.click(within(card).getByRole("button", { name: "+ Holiday" }));
    fireEvent.input(within(card).getByLabelText("Holiday 2"), { target: { value: "2026-12-25" } });
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(within(card).getByLabelText("Holiday 2").getAttribute("aria-invalid")).toBe("true"));
    expect(within(card.querySelector('[data-testid="holiday-1"]') as HTMLElement).getByText("2026-12-25 is listed twice")).toBeTruthy();
    expect(within(card).getByLabelText("Holiday 1").getAttribute("aria-invalid")).toBeNull();
    expect(within(card).queryByTestId("error-sla_wait_seconds")).toBeNull();
    expect(sla.getAttribute("aria-invalid")).toBeNull();
    expect(calls.filter((c) => c.method === "PATCH")[1].body).toEqual({
      business_hours: { ...hours, holidays: ["2026-12-25", "2026-12-25"] },
    });
  });

  test("a 422 on the question, and one on no field of the form, are shown", async () => {
    const refusals = [
      { code: "invalid", message: "csat_question: at most 1000 characters", field: "csat_question" },
      { code: "invalid", message: "the session is being removed" },
    ];
    serve([session({ csat_enabled: true })], () => ({ status: 422, body: { error: refusals.shift()! } }));
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    fireEvent.input(within(card).getByLabelText("Rating question"), { target: { value: "x".repeat(20) } });
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    expect((await within(card).findByTestId("error-csat_question")).textContent).toBe("at most 1000 characters");
    expect(within(card).getByLabelText("Rating question").getAttribute("aria-invalid")).toBe("true");
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    expect((await within(card).findByTestId("settings-error")).textContent).toContain("the session is being removed");
    expect(within(card).queryByTestId("error-csat_question")).toBeNull();
  });

  test("another admin's change of the new settings shows live; what this admin is editing stays theirs", async () => {
    const calls = serve([session({})]);
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    fireEvent.input(within(card).getByLabelText(/Alert supervisors after/), { target: { value: "15" } });
    const hours = { time_zone: "Asia/Tokyo", weekly: { sun: [["08:00", "12:00"]] as [string, string][] }, holidays: ["2027-01-01"] };
    act(() =>
      fake.emit("session.settings", {
        session: "default",
        business_hours: hours,
        csat_enabled: true,
        csat_question: "Rate us?",
        sla_wait_seconds: 3600,
      }),
    );
    expect((within(card).getByLabelText(/Ask the customer to rate/) as HTMLInputElement).checked).toBe(true);
    expect((within(card).getByLabelText("Rating question") as HTMLTextAreaElement).value).toBe("Rate us?");
    expect((within(card).getByLabelText("Time zone") as HTMLSelectElement).value).toBe("Asia/Tokyo");
    expect((within(card).getByLabelText("Sunday interval 1 from") as HTMLInputElement).value).toBe("08:00");
    expect((within(card).getByLabelText("Holiday 1") as HTMLInputElement).value).toBe("2027-01-01");
    expect((within(card).getByLabelText(/Alert supervisors after/) as HTMLInputElement).value).toBe("15");
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ sla_wait_seconds: 900 }));
    // Cleared elsewhere: the hours go.
    act(() => fake.emit("session.settings", { session: "default", business_hours: null }));
    expect(within(card).queryByLabelText("Time zone")).toBeNull();
  });

  test("the SLA alert refuses what is not a number without asking the hub", async () => {
    const calls = serve([session({})]);
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    fireEvent.input(within(card).getByLabelText(/Alert supervisors after/), { target: { value: "1e" } });
    fireEvent.click(within(card).getByRole("button", { name: "Save settings" }));
    expect((await within(card).findByTestId("error-sla_wait_seconds")).textContent).toContain("a number of minutes");
    expect(calls.some((c) => c.method === "PATCH")).toBe(false);
  });

  test("log out asks first, and only then calls the hub", async () => {
    const calls = serve([session({})]);
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    fireEvent.click(within(card).getByRole("button", { name: "Log out…" }));
    expect(calls.some((c) => c.path.endsWith("/logout"))).toBe(false);
    fireEvent.click(within(card).getByRole("button", { name: "Cancel" }));
    fireEvent.click(within(card).getByRole("button", { name: "Log out…" }));
    fireEvent.click(within(card).getByRole("button", { name: "Log out" }));
    await waitFor(() => expect(within(card).getByTestId("session-status").textContent).toBe("STOPPED"));
    expect(calls.filter((c) => c.path.endsWith("/logout"))).toHaveLength(1);
  });
});
