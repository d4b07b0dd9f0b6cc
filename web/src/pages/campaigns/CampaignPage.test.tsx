import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { CampaignList } from "./CampaignList";
import { CampaignPage } from "./CampaignPage";
import { campaign, counts, report } from "./testkit";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin" } } };
});
const fake = live as unknown as FakeLive;
const bar = () => screen.getByRole("progressbar");
const actions = () => [...document.querySelectorAll(".camp-actions button")].map((b) => b.textContent);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("a campaign's page", () => {
  test("the bar follows campaign.progress live; the buttons follow the status; the report is read again", async () => {
    let reports = 0;
    let got = campaign({ status: "draft" });
    const calls = mockFetch({
      "GET /api/campaigns/5": () => got,
      "GET /api/campaigns/5/recipients": (c: Call) => ({
        items: [
          { contact_id: 1, name: "Ana", phone: "+447700900101", state: "read", reason: null },
          { contact_id: 2, name: null, phone: "+447700900102", state: "failed", reason: "number not on WhatsApp" },
        ].filter((r) => !c.path.includes("state=") || c.path.includes(`state=${r.state}`)),
        next_cursor: null,
      }),
      "GET /api/campaigns/5/report": () => {
        reports++;
        return report({
          counts: counts({ total: 4, queued: 0, delivered: 2, read: 1, failed: 1 }),
          rates: { delivered: 1, read: 0.333, replied: 0 },
          failures: [{ reason: "number not on WhatsApp", count: 1 }],
          series: [
            { at: "2026-12-07T10:00:00Z", sent: 2, delivered: 1, read: 0, replied: 0, failed: 1 },
            { at: "2026-12-07T11:00:00Z", sent: 1, delivered: 2, read: 1, replied: 0, failed: 0 },
          ],
        });
      },
      "POST /api/campaigns/5/start": campaign({ status: "running", counts: counts({ total: 4, queued: 4 }) }),
      "POST /api/campaigns/5/pause": campaign({ status: "paused", pause_reason: "paused by Ada", counts: counts({ total: 4, queued: 2, sent: 2 }) }),
    });
    render(<CampaignPage id={5} />);
    await screen.findByTestId("campaign-name");
    expect(actions()).toEqual(["Start", "Delete"]);
    fireEvent.click(screen.getByRole("button", { name: "Start" }));
    await waitFor(() => expect(screen.getByTestId("campaign-status").textContent).toBe("Running"));
    expect(bar().getAttribute("aria-valuenow")).toBe("0");
    act(() => fake.emit("campaign.progress", { campaign_id: 5, status: "running", counts: counts({ total: 4, queued: 1, sent: 3 }) }));
    expect(bar().getAttribute("aria-valuenow")).toBe("75");
    expect(screen.getByTestId("campaign-progress-label").textContent).toBe("3 of 4 · 75 %");
    // Another campaign's event changes nothing here.
    act(() => fake.emit("campaign.progress", { campaign_id: 6, status: "completed", counts: counts({ total: 9 }) }));
    expect(bar().getAttribute("aria-valuenow")).toBe("75");
    expect(actions()).toEqual(["Pause", "Cancel"]);
    fireEvent.click(screen.getByRole("button", { name: "Pause" }));
    await waitFor(() => expect(screen.getByTestId("pause-reason").textContent).toBe("paused by Ada"));
    expect(actions()).toEqual(["Resume", "Cancel"]);
    got = campaign({ status: "completed", completed_at: "2026-12-07T11:30:00Z", counts: counts({ total: 4, delivered: 2, read: 1, failed: 1 }) });
    act(() => fake.emit("campaign.progress", { campaign_id: 5, status: "completed", counts: counts({ total: 4, delivered: 2, read: 1, failed: 1 }) }));
    // The end time is read with the campaign on its new status.
    await waitFor(() => expect(screen.getByTestId("campaign-ended").textContent).not.toBe("—"));
    expect(bar().getAttribute("data-status")).toBe("completed");
    expect(bar().getAttribute("aria-valuenow")).toBe("100");
    expect(actions()).toEqual([]);
    // A finished campaign sends no test either.
    expect(screen.queryByRole("form", { name: "Send a test" })).toBeNull();

    const r = await screen.findByTestId("campaign-report");
    expect(r.querySelector("[data-testid=figure-delivered] dd")!.textContent).toBe("100 %");
    expect(r.querySelector("[data-testid=figure-read] dd")!.textContent).toBe("33.3 %");
    expect(r.querySelector("[data-testid=figure-sent] dd")!.textContent).toBe("3");
    expect(screen.getByTestId("report-failures").textContent).toContain("number not on WhatsApp");
    expect(screen.getByTestId("report-chart").querySelectorAll("polyline")).toHaveLength(5);
    expect(screen.getByTestId("recipients-csv").getAttribute("href")).toBe("/api/campaigns/5/recipients?format=csv");
    await waitFor(() => expect(reports).toBeGreaterThan(1), { timeout: 4000 });
    // The recipients, by state.
    await waitFor(() => expect(screen.getAllByTestId("recipient-row")).toHaveLength(2));
    fireEvent.change(screen.getByLabelText("Recipient state"), { target: { value: "failed" } });
    await waitFor(() => expect(screen.getAllByTestId("recipient-row").map((r) => r.textContent)).toEqual(["#2+447700900102failednumber not on WhatsApp"]));
    expect(calls.filter((c: Call) => c.path === "/api/campaigns/5/report").length).toBe(reports);
  });

  test("the hub's 409 is shown", async () => {
    mockFetch({
      "GET /api/campaigns/5": campaign({ status: "draft" }),
      "GET /api/campaigns/5/report": report(),
      "GET /api/campaigns/5/recipients": { items: [], next_cursor: null },
      "POST /api/campaigns/5/start": { status: 409, body: { error: { code: "conflict", message: "session default is FAILED" } } },
    });
    render(<CampaignPage id={5} />);
    fireEvent.click(await screen.findByRole("button", { name: "Start" }));
    expect((await screen.findByRole("alert")).textContent).toBe("session default is FAILED");
  });
  test("the audience reads as the segment's name; a draft whose segment was deleted says why", async () => {
    let got = campaign({ status: "scheduled", audience: { segment_id: 3, segment_name: "VIP buyers" } });
    const none = { items: [], next_cursor: null };
    mockFetch({ "GET /api/campaigns/5": () => got, "GET /api/campaigns/5/report": report(), "GET /api/campaigns/5/recipients": none });
    const { unmount } = render(<CampaignPage id={5} />);
    await waitFor(() => expect(screen.getByTestId("campaign-audience").textContent).toBe("segment “VIP buyers”"));
    expect(screen.getByTestId("campaign-audience").textContent).not.toContain("3");
    unmount();
    const why = "its segment was deleted before its time came: choose an audience, then schedule or start it again";
    got = campaign({ status: "draft", audience: {}, pause_reason: why });
    render(<CampaignPage id={5} />);
    await waitFor(() => expect(screen.getByTestId("campaign-audience").textContent).toBe("none: its segment was deleted"));
    expect(screen.getByTestId("pause-reason").textContent).toBe(why);
  });

  test("a test message goes to the number typed", async () => {
    const calls = mockFetch({
      "GET /api/campaigns/5": campaign({ status: "draft" }),
      "GET /api/campaigns/5/report": report(),
      "GET /api/campaigns/5/recipients": { items: [], next_cursor: null },
      "POST /api/campaigns/5/test": { status: 202, body: { sent: true } },
    });
    render(<CampaignPage id={5} />);
    const form = await screen.findByRole("form", { name: "Send a test" });
    fireEvent.input(screen.getByLabelText("Send a test to"), { target: { value: " +447700900999 " } });
    fireEvent.submit(form);
    expect((await screen.findByTestId("test-note")).textContent).toBe("Sent to +447700900999");
    expect(calls.find((c) => c.path === "/api/campaigns/5/test")!.body).toEqual({ phone: "+447700900999" });
  });

  test("a campaign over several sessions sends its test from the session chosen", async () => {
    const calls = mockFetch({
      "GET /api/campaigns/5": campaign({ status: "draft", session: "default", sessions: ["default", "support"] }),
      "GET /api/campaigns/5/report": report(),
      "GET /api/campaigns/5/recipients": { items: [], next_cursor: null },
      "POST /api/campaigns/5/test": { status: 202, body: { sent: true } },
    });
    render(<CampaignPage id={5} />);
    const form = await screen.findByRole("form", { name: "Send a test" });
    fireEvent.input(screen.getByLabelText("Send a test to"), { target: { value: "+447700900999" } });
    fireEvent.change(screen.getByLabelText("from"), { target: { value: "support" } });
    fireEvent.submit(form);
    expect((await screen.findByTestId("test-note")).textContent).toBe("Sent to +447700900999 from support");
    expect(calls.find((c) => c.path === "/api/campaigns/5/test")!.body).toEqual({ phone: "+447700900999", session: "support" });
  });
});

describe("the campaign list", () => {
  test("rows show their live progress; an unknown campaign's event reads the list again", async () => {
    let list = [campaign({ id: 5, status: "running", counts: counts({ total: 10, queued: 10 }) })];
    const calls = mockFetch({ "GET /api/campaigns": () => ({ items: list, next_cursor: null }) });
    render(<CampaignList />);
    await screen.findByTestId("campaign-row");
    act(() => fake.emit("campaign.progress", { campaign_id: 5, status: "running", counts: counts({ total: 10, queued: 5, sent: 5 }) }));
    expect(bar().getAttribute("aria-valuenow")).toBe("50");
    list = [campaign({ id: 6, name: "New one" }), ...list];
    act(() => fake.emit("campaign.progress", { campaign_id: 6, status: "running", counts: counts({ total: 1, queued: 1 }) }));
    await waitFor(() => expect(screen.getAllByTestId("campaign-row")).toHaveLength(2));
    expect(calls.filter((c) => c.path.startsWith("/api/campaigns")).length).toBe(2);
  });
});
