import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { me } from "../../state/session";
import { mockFetch } from "../../test/fakes";
import { BarChart, layoutBars } from "./BarChart";
import { presetRange } from "./query";
import { Reports } from "./Reports";
import type { AgentFigures, AgentReport, SessionReport } from "./types";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin" } } };
});
const asRole = (role: string) => ((me as any).value = { id: 2, email: "x@acme.io", name: "X", role });

const period = { from: "2026-05-25T00:00:00Z", to: "2026-06-01T00:00:00Z", tz: "UTC" };
const figures = (over: Partial<AgentFigures>): AgentFigures => ({
  user_id: 2,
  name: "Ana Agent",
  conversations_handled: 3,
  first_responses: 3,
  first_response_median_s: 300,
  first_response_p90_s: 61_200,
  first_response_business_median_s: 240,
  first_response_business_p90_s: 3_600,
  responses: 5,
  response_median_s: 120,
  response_p90_s: 900,
  resolution_median_s: 7_200,
  resolution_p90_s: 90_000,
  resolution_business_median_s: 3_600,
  messages_sent: 8,
  ...over,
});
const agents: AgentReport = {
  period,
  items: [figures({}), figures({ user_id: 3, name: "Sam Sales", conversations_handled: 1, messages_sent: 2 })],
  team: figures({ user_id: null, name: null, conversations_handled: 4, messages_sent: 10 }),
};
const hours = Array.from({ length: 24 }, (_, i) => ({ in: i === 9 ? 6 : 0, out: i === 9 ? 3 : i === 10 ? 2 : 0 }));
const days = Array.from({ length: 7 }, (_, i) => ({ in: i === 0 ? 6 : 0, out: i === 0 ? 5 : 0 }));
const sessions: SessionReport = {
  period,
  items: [
    {
      session: "default",
      messages_in: 6,
      messages_out: 5,
      conversations_started: 2,
      by_hour_of_day: hours,
      by_day_of_week: days,
      bot_conversations: 1,
      bot_auto_resolved: 1,
    },
  ],
};

function serve(extra: Record<string, unknown> = {}) {
  return mockFetch({
    "GET /api/sessions": { items: [{ name: "support" }, { name: "default" }], next_cursor: null },
    "GET /api/analytics/agents": agents,
    "GET /api/analytics/sessions": sessions,
    ...extra,
  });
}
const analyticsCalls = (calls: { path: string }[]) => calls.filter((c) => c.path.startsWith("/api/analytics/"));

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  asRole("admin");
});

describe("Reports", () => {
  test("the agents report: each member's figures read as durations, and the team row", async () => {
    serve();
    render(<Reports params={{ tab: "agents" }} />);
    const ana = await screen.findByTestId("agent-2");
    const cell = (row: HTMLElement, col: string) => row.querySelector(`[data-col="${col}"]`)!.textContent;
    expect(within(ana).getByRole("rowheader").textContent).toBe("Ana Agent");
    expect(cell(ana, "Handled")).toBe("3");
    expect(cell(ana, "First response")).toBe("5 min · 17 h");
    expect(cell(ana, "First response (business hours)")).toBe("4 min · 1 h");
    expect(cell(ana, "Resolution")).toBe("2 h · 1 d");
    expect(cell(ana, "Messages sent")).toBe("8");
    const team = screen.getByTestId("agent-team");
    expect(within(team).getByRole("rowheader").textContent).toBe("Team");
    expect(cell(team, "Handled")).toBe("4");
  });

  test("the range, zone and session go into the query; a preset or a new date reads the report again", async () => {
    const calls = serve();
    render(<Reports params={{ tab: "agents" }} />);
    await screen.findByTestId("agent-2");
    const first = new URL(analyticsCalls(calls)[0].path, "http://x").searchParams;
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    // The default: the last seven days in the browser's zone.
    expect(Object.fromEntries(first)).toEqual({ ...presetRange("last7", tz), tz });

    fireEvent.click(screen.getByRole("button", { name: "Last 30 days" }));
    await waitFor(() => expect(analyticsCalls(calls)).toHaveLength(2));
    expect(new URL(analyticsCalls(calls)[1].path, "http://x").searchParams.get("from")).toBe(presetRange("last30", tz).from);
    expect(screen.getByRole("button", { name: "Last 30 days" }).getAttribute("aria-pressed")).toBe("true");

    fireEvent.change(screen.getByLabelText("Time zone"), { target: { value: "Europe/Berlin" } });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-01-01" } });
    fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-01-31" } });
    await waitFor(() => expect(screen.getByLabelText("Session")).toBeTruthy());
    fireEvent.change(screen.getByLabelText("Session"), { target: { value: "support" } });
    await waitFor(() =>
      expect(analyticsCalls(calls).at(-1)!.path).toBe(
        "/api/analytics/agents?from=2026-01-01&to=2026-01-31&tz=Europe%2FBerlin&session=support",
      ),
    );
    expect(screen.getByRole("button", { name: "Last 30 days" }).getAttribute("aria-pressed")).toBe("false");
  });

  test("Download CSV reads the same query with format=csv and saves it under the period's name; its errors show", async () => {
    serve();
    const json = globalThis.fetch;
    const csvCalls: string[] = [];
    let csvAnswer: () => Response = () => new Response("user_id,name\n2,Ana Agent\n", { headers: { "Content-Type": "text/csv" } });
    vi.stubGlobal("fetch", (input: string, init?: RequestInit) => {
      if (!String(input).includes("format=csv")) return json(input, init);
      csvCalls.push(String(input));
      return Promise.resolve(csvAnswer());
    });
    const saved: { blob: Blob; name: string }[] = [];
    let blob: Blob | null = null;
    const create = vi.spyOn(URL, "createObjectURL").mockImplementation((b) => ((blob = b as Blob), "blob:report"));
    const revoke = vi.spyOn(URL, "revokeObjectURL").mockImplementation(() => {});
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ blob: blob!, name: this.download });
    });
    try {
      render(<Reports params={{ tab: "agents" }} />);
      await screen.findByTestId("agent-2");
      fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-01-01" } });
      fireEvent.change(screen.getByLabelText("To"), { target: { value: "2026-01-31" } });
      fireEvent.change(screen.getByLabelText("Time zone"), { target: { value: "UTC" } });
      fireEvent.click(screen.getByRole("button", { name: "Download CSV" }));
      await waitFor(() => expect(saved).toHaveLength(1));
      expect(csvCalls).toEqual(["/api/analytics/agents?from=2026-01-01&to=2026-01-31&tz=UTC&format=csv"]);
      expect(saved[0].name).toBe("agents-2026-01-01-to-2026-01-31.csv");
      expect(await saved[0].blob.text()).toBe("user_id,name\n2,Ana Agent\n");

      csvAnswer = () =>
        new Response(JSON.stringify({ error: { code: "invalid", message: "tz: unknown time zone", field: "tz" } }), { status: 422 });
      fireEvent.click(screen.getByRole("button", { name: "Download CSV" }));
      expect((await screen.findByRole("alert")).textContent).toBe("tz: unknown time zone");
      expect(saved).toHaveLength(1);
    } finally {
      create.mockRestore();
      revoke.mockRestore();
      click.mockRestore();
    }
  });

  test("a 422 shows the hub's message; an empty report says so", async () => {
    serve({
      "GET /api/analytics/agents": {
        status: 422,
        body: { error: { code: "invalid", message: "from: the period is empty: from is not before to", field: "from" } },
      },
    });
    render(<Reports params={{ tab: "agents" }} />);
    expect((await screen.findByRole("alert")).textContent).toBe("from: the period is empty: from is not before to");
    cleanup();
    serve({ "GET /api/analytics/agents": { period, items: [], team: figures({ user_id: null, name: null }) } });
    render(<Reports params={{ tab: "agents" }} />);
    await screen.findByText("No figures in this period.");
  });

  test("switching from one report to another shows the other's rows, never the first's in its place", async () => {
    serve();
    const { rerender } = render(<Reports params={{ tab: "agents" }} />);
    await screen.findByTestId("agent-2");
    rerender(<Reports params={{ tab: "sessions" }} />);
    await screen.findByTestId("session-default");
    expect(screen.queryByTestId("agent-2")).toBeNull();
    expect(screen.getByRole("tab", { name: "Sessions" }).getAttribute("aria-selected")).toBe("true");
  });

  test("the sessions report draws traffic by hour and weekday from the data", async () => {
    serve();
    render(<Reports params={{ tab: "sessions" }} />);
    const s = await screen.findByTestId("session-default");
    expect(within(s).getByTestId("messages-in").textContent).toBe("6");
    const hoursChart = within(s).getByTestId("chart-hours");
    expect(hoursChart.querySelectorAll("[data-slot]")).toHaveLength(24);
    const bar = (slot: number, dir: string) => hoursChart.querySelector(`[data-slot="${slot}"] [data-dir="${dir}"]`)!;
    // The tallest bar (9:00, 6 in) fills the plot; 3 out is half as tall.
    expect(Number(bar(9, "out").getAttribute("height"))).toBeCloseTo(Number(bar(9, "in").getAttribute("height")) / 2);
    expect(Number(bar(0, "in").getAttribute("height"))).toBe(0);
    expect(within(s).getByTestId("chart-weekdays").querySelectorAll("[data-slot]")).toHaveLength(7);
  });
});

describe("the bots report", () => {
  test("each bot's figures, its handoffs by reason (none at zero) and its triggers", async () => {
    serve({
      "GET /api/analytics/bots": {
        period,
        items: [
          {
            bot_id: 4,
            name: "Orders bot",
            from: 0,
            to: 1,
            conversations: 9,
            matches: 12,
            misses: 3,
            greetings: 2,
            after_hours: 1,
            resolved_without_person: 5,
            failures: 1,
            handoffs: { keyword: 2, misses: 1, bot_off: 0 },
            triggers: [
              { trigger_id: 31, matches: 10, handoffs: 2 },
              { trigger_id: 32, matches: 2, handoffs: 0 },
            ],
          },
        ],
      },
    });
    render(<Reports params={{ tab: "bots" }} />);
    const bot = await screen.findByTestId("bot-4");
    const fig = (label: string) => within(bot).getByText(label, { selector: "dt" }).nextElementSibling!.textContent;
    expect(fig("Matches")).toBe("12");
    expect(fig("Handoffs")).toBe("3");
    expect(fig("Resolved without a person")).toBe("5");
    const reasons = within(within(bot).getByRole("table", { name: "Handoffs by reason" }))
      .getAllByRole("row")
      .slice(1)
      .map((r) => r.textContent);
    expect(reasons).toEqual(["keyword2", "misses1"]);
    const triggers = within(within(bot).getByRole("table", { name: "Triggers" }))
      .getAllByRole("row")
      .slice(1)
      .map((r) => r.textContent);
    expect(triggers).toEqual(["#31102", "#3220"]);
  });
});

describe("who sees which report", () => {
  test("admins and managers: four tabs", async () => {
    for (const role of ["admin", "manager"]) {
      asRole(role);
      serve();
      render(<Reports params={{}} />);
      expect(screen.getAllByRole("tab").map((t) => t.textContent)).toEqual(["Agents", "Sessions", "Bots", "Campaigns"]);
      await screen.findByTestId("agent-2");
      cleanup();
    }
  });

  test("agents and sales: the agents report alone, their row without the team's; another tab's address falls back to it", async () => {
    asRole("agent");
    const calls = serve({ "GET /api/analytics/agents": { ...agents, items: [agents.items[0]], team: agents.items[0] } });
    render(<Reports params={{ tab: "sessions" }} />);
    await screen.findByTestId("agent-2");
    expect(screen.queryAllByRole("tab")).toHaveLength(0);
    expect(screen.queryByTestId("agent-team")).toBeNull();
    expect(analyticsCalls(calls).every((c) => c.path.startsWith("/api/analytics/agents?"))).toBe(true);
  });

  test("marketing: the campaigns report alone", async () => {
    asRole("marketing");
    const calls = serve({
      "GET /api/analytics/campaigns": {
        period,
        items: [
          {
            id: 7,
            name: "June sale",
            session: "default",
            sessions: ["default", "support"],
            status: "completed",
            started_at: "2026-05-28T10:00:00Z",
            counts: { total: 10, queued: 0, sent: 2, delivered: 3, read: 3, replied: 1, failed: 1, skipped: 0 },
            delivery_rate: 0.9,
            read_rate: 0.4,
            reply_rate: null,
          },
        ],
      },
    });
    render(<Reports params={{ tab: "agents" }} />);
    const row = await screen.findByTestId("campaign-7");
    expect(row.textContent).toContain("June sale");
    expect(row.textContent).toContain("default, support");
    expect(row.textContent).toContain("90 %");
    expect(row.textContent).toContain("40 %");
    expect(screen.queryAllByRole("tab")).toHaveLength(0);
    expect(analyticsCalls(calls).map((c) => c.path.split("?")[0])).toEqual(["/api/analytics/campaigns"]);
  });
});

describe("BarChart", () => {
  test("bars scale to the largest value; an empty series says so instead of drawing", () => {
    const { max, bars } = layoutBars([
      { in: 4, out: 2 },
      { in: 0, out: 1 },
    ]);
    expect(max).toBe(4);
    expect(bars[0].out.height).toBeCloseTo(bars[0].in.height / 2);
    expect(bars[0].in.y + bars[0].in.height).toBeCloseTo(bars[1].out.y + bars[1].out.height);
    expect(bars[1].in.height).toBe(0);
    render(<BarChart title="By weekday" slots={[{ in: 0, out: 0 }]} labels={["Mon"]} testid="c" />);
    expect(screen.getByTestId("c").querySelector("svg")).toBeNull();
    expect(screen.getByTestId("c").textContent).toContain("No messages in this period.");
  });
});
