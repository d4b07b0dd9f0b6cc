import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live } from "../../state/session";
import { mockFetch, type FakeLive } from "../../test/fakes";
import { Board } from "./Board";
import type { BoardData } from "./types";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive() };
});
const fake = live as unknown as FakeLive;

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

const board = (): BoardData => ({
  members: [
    { user_id: 2, name: "Ana Agent", role: "agent", presence: "online", presence_since: T0 - 600_000, open: 2, capacity: 4 },
    { user_id: 3, name: "Sam Sales", role: "sales", presence: "away", presence_since: T0 - 300_000, open: 3, capacity: 3 },
  ],
  sessions: [
    { session_id: 1, session: "default", unassigned: 2, open: 7, oldest_waiting_since: T0 - 65_000, oldest_wait_s: 65, status: "WORKING" },
    { session_id: 2, session: "support", unassigned: 0, open: 1, oldest_waiting_since: null, oldest_wait_s: null, status: "SCAN_QR_CODE" },
  ],
  agents_online: 1,
  open_conversations: 8,
  waiting_conversations: 2,
  messages_today: { in: 12, out: 9 },
  today: { resolved: 4, first_response_median_s: 300, bot_auto_resolved_percent: 25, running_campaigns: 1 },
});

function serve() {
  return mockFetch({
    "GET /api/dashboard": board(),
    "GET /api/team-members/2/presence": {
      items: [{ id: 9, status: "online", cause: "first_socket", node: "node-a", at: T0 - 600_000 }],
      next_cursor: "8",
    },
  });
}

const member = (id: number) => screen.getByTestId(`member-${id}`);

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("Board", () => {
  test("renders members against capacity, the queues and the totals from GET /api/dashboard", async () => {
    const calls = serve();
    render(<Board params={{}} />);
    await screen.findByTestId("member-2");
    expect(within(member(2)).getByTestId("member-open").textContent).toBe("2 / 4");
    expect(within(member(3)).getByTestId("member-open").textContent).toContain("full");
    expect(member(3).querySelector(".board-load-full")).not.toBeNull();
    expect(screen.getByTestId("total-open").textContent).toBe("8");
    expect(within(screen.getByTestId("queue-default")).getByTestId("queue-unassigned").textContent).toContain("2");
    expect(within(screen.getByTestId("queue-support")).getByTestId("queue-wait").textContent).toContain("nobody waiting");
    // "since when" from the board's own rows: no presence log is read to draw the board
    expect(within(member(3)).getByTestId("member-presence").textContent).toMatch(/away since/);
    expect(calls.some((c) => c.path.includes("/presence"))).toBe(false);
  });

  test("applies a dashboard.updated patch by id: changed rows, new rows, removals, totals", async () => {
    serve();
    render(<Board params={{}} />);
    await screen.findByTestId("member-2");
    act(() =>
      fake.emit("dashboard.updated", {
        full: false,
        members: [
          { user_id: 2, name: "Ana Agent", role: "agent", presence: "online", presence_since: T0 - 600_000, open: 5, capacity: 4 },
          { user_id: 4, name: "Nia New", role: "agent", presence: "online", presence_since: null, open: 0, capacity: null },
        ],
        removed_members: [3],
        sessions: [{ session_id: 2, session: "support", unassigned: 1, open: 2, oldest_waiting_since: T0, oldest_wait_s: 0, status: "WORKING" }],
        removed_sessions: [],
        agents_online: 2,
        open_conversations: 9,
        waiting_conversations: 3,
      }),
    );
    expect(within(member(2)).getByTestId("member-open").textContent).toBe("5 / 4 · over");
    expect(member(2).querySelector(".board-load-over")).not.toBeNull();
    expect(screen.getByTestId("member-4")).toBeTruthy();
    expect(screen.queryByTestId("member-3")).toBeNull();
    // the row not in the patch is untouched
    expect(within(screen.getByTestId("queue-default")).getByTestId("queue-unassigned").textContent).toContain("2");
    expect(within(screen.getByTestId("queue-support")).getByTestId("queue-unassigned").textContent).toContain("1");
    expect(screen.getByTestId("total-online").textContent).toBe("2");
    expect(screen.getByTestId("total-waiting").textContent).toBe("3");
  });

  test("the Today strip shows today's figures and each session's status, and follows dashboard.updated alone", async () => {
    const calls = serve();
    render(<Board params={{}} />);
    const today = await screen.findByTestId("today");
    const fig = (id: string) => within(today).getByTestId(id).textContent;
    expect([fig("today-in"), fig("today-out"), fig("today-resolved")]).toEqual(["12", "9", "4"]);
    expect(fig("today-first-response")).toBe("5 min");
    expect(fig("today-bot")).toBe("25 %");
    expect(fig("today-campaigns")).toBe("1");
    expect(within(today).getByTestId("status-default").textContent).toBe("default: working");
    expect(within(today).getByTestId("status-support").textContent).toBe("support: scan qr code");
    expect(within(today).getByTestId("status-support").className).toContain("board-status-warn");
    act(() =>
      fake.emit("dashboard.updated", {
        full: false,
        members: [],
        removed_members: [],
        sessions: [{ session_id: 2, session: "support", unassigned: 0, open: 1, oldest_waiting_since: null, oldest_wait_s: null, status: "WORKING" }],
        removed_sessions: [],
        agents_online: 1,
        open_conversations: 8,
        waiting_conversations: 2,
        messages_today: { in: 13, out: 10 },
        today: { resolved: 5, first_response_median_s: 61_200, bot_auto_resolved_percent: null, running_campaigns: 0 },
      }),
    );
    expect([fig("today-in"), fig("today-out"), fig("today-resolved")]).toEqual(["13", "10", "5"]);
    expect(fig("today-first-response")).toBe("17 h");
    expect(fig("today-bot")).toBe("–");
    expect(fig("today-campaigns")).toBe("0");
    expect(within(today).getByTestId("status-support").dataset.status).toBe("WORKING");
    expect(calls.filter((c) => c.path === "/api/dashboard")).toHaveLength(1);
  });

  test("a full dashboard.updated replaces the board", async () => {
    serve();
    render(<Board params={{}} />);
    await screen.findByTestId("member-2");
    act(() =>
      fake.emit("dashboard.updated", {
        ...board(),
        full: true,
        members: [{ user_id: 3, name: "Sam Sales", role: "sales", presence: "online", presence_since: T0, open: 0, capacity: 3 }],
        sessions: [],
        removed_members: [],
        removed_sessions: [],
      }),
    );
    expect(screen.queryByTestId("member-2")).toBeNull();
    expect(member(3).dataset.presence).toBe("online");
    expect(screen.queryByTestId("queue-default")).toBeNull();
  });

  test("presence.updated moves the member's dot and since-time", async () => {
    serve();
    render(<Board params={{}} />);
    await screen.findByTestId("member-2");
    const at = Date.now();
    act(() => fake.emit("presence.updated", { user_id: 2, status: "busy", cause: "set_by_member", at }));
    expect(member(2).dataset.presence).toBe("busy");
    expect(member(2).querySelector(".p-busy")).not.toBeNull();
    expect(within(member(2)).getByTestId("member-presence").textContent).toContain("busy since");
    expect(within(member(2)).getByTestId("member-presence").textContent).toContain("(0 s)");
  });

  test("the oldest wait ticks each second from oldest_waiting_since without asking the hub again", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    vi.setSystemTime(T0);
    const calls = serve();
    render(<Board params={{}} />);
    await vi.waitFor(() => screen.getByTestId("queue-default"));
    const wait = () => within(screen.getByTestId("queue-default")).getByTestId("queue-wait").textContent;
    expect(wait()).toBe("oldest 1 min 05 s");
    const reads = calls.length;
    act(() => void vi.advanceTimersByTime(1000));
    expect(wait()).toBe("oldest 1 min 06 s");
    act(() => void vi.advanceTimersByTime(60_000));
    expect(wait()).toBe("oldest 2 min 06 s");
    expect(calls.length).toBe(reads);
    expect(calls.filter((c) => c.path === "/api/dashboard")).toHaveLength(1);
  });

  test("resync reads the board again", async () => {
    const calls = serve();
    render(<Board params={{}} />);
    await screen.findByTestId("member-2");
    act(() => fake.emit("resync", { seq: 100 }));
    await waitFor(() => expect(calls.filter((c) => c.path === "/api/dashboard")).toHaveLength(2));
  });

  test("clicking a member shows their presence history, newest first, with cause and node, and pages on", async () => {
    const calls = serve();
    render(<Board params={{}} />);
    await screen.findByTestId("member-2");
    fireEvent.click(member(2));
    const history = await screen.findByTestId("presence-history");
    await waitFor(() => expect(within(history).getAllByTestId("presence-entry")).toHaveLength(1));
    expect(history.textContent).toContain("connected");
    expect(history.textContent).toContain("node-a");
    fireEvent.click(within(history).getByRole("button", { name: "Older" }));
    await waitFor(() => expect(calls.some((c) => c.path.includes("/presence?limit=20&cursor=8"))).toBe(true));
  });
});
