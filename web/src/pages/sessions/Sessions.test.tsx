import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live, me } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { Sessions } from "./Sessions";
import { QR_RENEW_MS, type SessionView } from "./types";

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
  me_id: "447700900001@c.us",
  me_name: "Acme",
  created_at: 1,
  updated_at: 1,
  receiving_events: true,
  events_problem: null,
  ...over,
});

function serve(list: SessionView[]) {
  let n = 0;
  const byName = (name: string) => list.find((s) => s.name === name);
  const calls = mockFetch({
    "GET /api/sessions": { items: list, next_cursor: null },
    "GET /api/sessions/sales/qr": () => ({ mimetype: "image/png", data: `UVI${++n}` }),
    "GET /api/sessions/sales": () => byName("sales"),
    "GET /api/sessions/default": () => byName("default"),
    "PATCH /api/sessions/default": (c: Call) => session({ ...c.body }),
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
    const calls = serve([session({ id: 2, name: "sales", status: "SCAN_QR_CODE" })]);
    render(<Sessions params={{}} />);
    const sales = await screen.findByTestId("session-sales");
    expect(within(sales).queryByRole("img")).toBeNull();
    expect(within(sales).queryByRole("button", { name: "Start" })).toBeNull();
    expect((within(sales).getByRole("group", { name: "Settings" }) as HTMLFieldSetElement).disabled).toBe(true);
    expect(screen.queryByRole("form", { name: "Register a session" })).toBeNull();
    expect(qrReads(calls)).toBe(0);
  });

  test("settings are PATCHed, and a session.settings event shows another admin's change", async () => {
    const calls = serve([session({})]);
    render(<Sessions params={{}} />);
    const card = await screen.findByTestId("session-default");
    fireEvent.change(within(card).getByRole("combobox"), { target: { value: "assignee" } });
    await waitFor(() =>
      expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ reply_policy: "assignee" }),
    );
    act(() => fake.emit("session.settings", { session: "default", auto_assign: true }));
    expect((within(card).getByRole("checkbox") as HTMLInputElement).checked).toBe(true);
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
