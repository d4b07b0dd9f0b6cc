import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { path } from "../../lib/router";
import { live } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { CampaignBuilder } from "./CampaignBuilder";
import { campaign } from "./testkit";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "mo@acme.io", name: "Mo Marketing", role: "marketing" } } };
});
const fake = live as unknown as FakeLive;

function serve(extra: Record<string, unknown> = {}) {
  let eligible = 8;
  const calls = mockFetch({
    "GET /api/sessions": { items: [{ name: "default" }], next_cursor: null },
    "GET /api/segments": { items: [{ id: 3, name: "VIP" }], next_cursor: null },
    "GET /api/templates": { items: [{ id: 9, name: "Win-back", body: 'We miss you, {{contact.first_name | "friend"}}' }], next_cursor: null },
    "GET /api/contacts": { items: [{ id: 41, name: "Ana Souza", phone: "+447700900101" }], next_cursor: null },
    "POST /api/campaigns/audience": () => ({ total: 10, eligible: eligible--, skipped: { opted_out: 1, erased: 0, no_number: 1 } }),
    "POST /api/campaigns/render": (c: Call) =>
      c.body.template.includes("{{contact.nope}}")
        ? { status: 422, body: { error: { code: "invalid", field: "template", message: "template: unknown variable {{contact.nope}}" } } }
        : { text: c.body.template.replace(/\{\{[^}]*\}\}/g, "Ana") },
    "POST /api/campaigns": { status: 201, body: campaign({ id: 77 }) },
    "POST /api/campaigns/77/start": campaign({ id: 77, status: "running" }),
    ...extra,
  });
  return calls;
}
const NOW = () => new Date("2026-12-07T12:00:00Z");
const byPath = (calls: Call[], p: string) => calls.filter((c) => c.path === p);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("CampaignBuilder", () => {
  test("a segment's live audience count says how many are skipped, and follows contact changes", async () => {
    const calls = serve();
    render(<CampaignBuilder now={NOW} />);
    const count = () => screen.getByTestId("audience-count").textContent;
    await waitFor(() => expect(screen.getByRole("option", { name: "VIP" })).toBeTruthy());
    expect(count()).toBe("");
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "3" } });
    await waitFor(() => expect(count()).toBe("8 will receive it · of 10: 1 opted out, 1 without a number"));
    expect(byPath(calls, "/api/campaigns/audience")[0].body).toEqual({ session: "default", segment_id: 3 });
    act(() => fake.emit("contact.updated", { id: 1, session_id: 1, change: "updated" }));
    await waitFor(() => expect(count()).toBe("7 will receive it · of 10: 1 opted out, 1 without a number"));
    // Pasted ids: counted once they read as ids.
    fireEvent.click(screen.getByLabelText("Contact ids"));
    fireEvent.input(screen.getByLabelText(/Contact ids \(separated/), { target: { value: "4, 5\n6" } });
    await waitFor(() => expect(byPath(calls, "/api/campaigns/audience").at(-1)!.body).toEqual({ session: "default", contact_ids: [4, 5, 6] }));
  });

  test("a saved template fills the message; the preview is the hub's, for a real contact of the audience", async () => {
    const calls = serve();
    render(<CampaignBuilder now={NOW} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "Win-back" })).toBeTruthy());
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "3" } });
    fireEvent.change(screen.getByLabelText("Saved template"), { target: { value: "9" } });
    expect((screen.getByLabelText("Message text") as HTMLTextAreaElement).value).toBe('We miss you, {{contact.first_name | "friend"}}');
    await waitFor(() => expect(screen.getByTestId("template-preview").textContent).toBe("We miss you, Ana"));
    expect(byPath(calls, "/api/campaigns/render").at(-1)!.body).toEqual({ template: 'We miss you, {{contact.first_name | "friend"}}', contact_id: 41 });
    // A syntax error shows at once, and nothing is asked of the hub for it.
    const asked = byPath(calls, "/api/campaigns/render").length;
    fireEvent.input(screen.getByLabelText("Message text"), { target: { value: 'Hi {{contact.name | "x}}' } });
    expect(screen.getByTestId("error-template").textContent).toBe('unclosed " at 20');
    // The hub's 422 on render (a name only it knows to refuse) shows in the preview.
    fireEvent.input(screen.getByLabelText("Message text"), { target: { value: "Hi {{contact.first_name}}" } });
    await waitFor(() => expect(screen.getByTestId("template-preview").textContent).toBe("Hi Ana"));
    expect(byPath(calls, "/api/campaigns/render").length).toBe(asked + 1);
  });

  test("mistakes are shown by field before anything is sent", async () => {
    const calls = serve();
    render(<CampaignBuilder now={NOW} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "default" })).toBeTruthy());
    fireEvent.click(screen.getByLabelText("At a time"));
    fireEvent.input(screen.getByLabelText("Messages per minute"), { target: { value: "0" } });
    fireEvent.click(screen.getByRole("button", { name: "Schedule" }));
    expect(screen.getByTestId("error-name").textContent).toBe("a name is needed");
    expect(screen.getByTestId("error-segment_id").textContent).toBe("choose a segment");
    expect(screen.getByTestId("error-template").textContent).toBe("write the message");
    expect(screen.getByTestId("error-start_at").textContent).toBe("choose when to start");
    expect(screen.getByTestId("error-rate_per_minute").textContent).toBe("a whole number from 1 to 600");
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/campaigns")).toBe(false);
  });

  test("start now creates the campaign, starts it and opens its page; the hub's 422 lands on its field", async () => {
    const calls = serve();
    render(<CampaignBuilder now={NOW} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "VIP" })).toBeTruthy());
    fireEvent.input(screen.getByLabelText("Campaign name"), { target: { value: "Black Friday" } });
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "3" } });
    fireEvent.input(screen.getByLabelText("Message text"), { target: { value: "Hi {{contact.first_name}}" } });
    fireEvent.click(screen.getByLabelText(/Quiet hours/));
    fireEvent.input(screen.getByLabelText(/Skip contacts messaged/), { target: { value: "24" } });
    fireEvent.click(screen.getByRole("button", { name: "Start now" }));
    await waitFor(() => expect(path.value).toBe("/campaigns/77"));
    const created = calls.find((c) => c.method === "POST" && c.path === "/api/campaigns")!;
    expect(created.body).toMatchObject({
      name: "Black Friday",
      session: "default",
      segment_id: 3,
      template: "Hi {{contact.first_name}}",
      rate_per_minute: 12,
      quiet_hours: { start: "21:00", end: "08:00" },
      frequency_cap_hours: 24,
    });
    expect(created.body).not.toHaveProperty("start_at");
    expect(calls.some((c) => c.path === "/api/campaigns/77/start")).toBe(true);

    cleanup();
    serve({
      "POST /api/campaigns": {
        status: 422,
        body: { error: { code: "invalid", field: "rate_per_minute", message: "rate_per_minute: above the session's send rate (10)" } },
      },
    });
    render(<CampaignBuilder now={NOW} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "VIP" })).toBeTruthy());
    fireEvent.input(screen.getByLabelText("Campaign name"), { target: { value: "Too fast" } });
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "3" } });
    fireEvent.input(screen.getByLabelText("Message text"), { target: { value: "Hi" } });
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    await waitFor(() => expect(screen.getByTestId("error-rate_per_minute").textContent).toBe("above the session's send rate (10)"));
  });

  test("several sessions: the others are ticked, counted and sent as `sessions`; an edit keeps them", async () => {
    const calls = serve({ "GET /api/sessions": { items: [{ name: "default" }, { name: "support" }, { name: "sales" }], next_cursor: null } });
    render(<CampaignBuilder now={NOW} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "VIP" })).toBeTruthy());
    await waitFor(() => expect(screen.getByLabelText("support")).toBeTruthy());
    fireEvent.input(screen.getByLabelText("Campaign name"), { target: { value: "Everywhere" } });
    fireEvent.click(screen.getByLabelText("support"));
    fireEvent.change(screen.getByLabelText("Segment"), { target: { value: "3" } });
    await waitFor(() =>
      expect(byPath(calls, "/api/campaigns/audience").at(-1)!.body).toEqual({ sessions: ["default", "support"], segment_id: 3 }),
    );
    fireEvent.input(screen.getByLabelText("Message text"), { target: { value: "Hi" } });
    fireEvent.click(screen.getByRole("button", { name: "Save draft" }));
    await waitFor(() => expect(path.value).toBe("/campaigns/77"));
    const created = calls.find((c) => c.method === "POST" && c.path === "/api/campaigns")!;
    expect(created.body).toMatchObject({ sessions: ["default", "support"], segment_id: 3 });
    expect(created.body).not.toHaveProperty("session");

    cleanup();
    const more = serve({
      "GET /api/sessions": { items: [{ name: "default" }, { name: "support" }], next_cursor: null },
      "PATCH /api/campaigns/5": campaign({ id: 5 }),
    });
    render(<CampaignBuilder now={NOW} campaign={campaign({ id: 5, session: "support", sessions: ["support", "default"] })} />);
    await waitFor(() => expect((screen.getByLabelText("default") as HTMLInputElement).checked).toBe(true));
    // Unticked: one session again, sent as `session`.
    fireEvent.click(screen.getByLabelText("default"));
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(more.some((c) => c.method === "PATCH")).toBe(true));
    const patched = more.find((c) => c.method === "PATCH")!;
    expect(patched.body).toMatchObject({ session: "support" });
    expect(patched.body).not.toHaveProperty("sessions");
  });

  test("an existing campaign is edited with a PATCH and its page opened again", async () => {
    const calls = serve({ "PATCH /api/campaigns/5": campaign({ id: 5, name: "Renamed" }) });
    render(<CampaignBuilder now={NOW} campaign={campaign({ id: 5, status: "paused", audience: { contact_ids: 2 } })} />);
    const form = screen.getByRole("form", { name: "Edit campaign Black Friday" });
    expect(screen.getByText("Keeps its 2 contact ids; paste ids to replace them.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Start now" })).toBeNull();
    fireEvent.input(screen.getByLabelText("Campaign name"), { target: { value: "Renamed" } });
    fireEvent.submit(form);
    await waitFor(() => expect(path.value).toBe("/campaigns/5"));
    const sent = calls.find((c) => c.method === "PATCH")!;
    expect(sent.body).toMatchObject({ name: "Renamed", template: "Hi {{contact.first_name}}", start_at: null, recurrence: null });
    expect(sent.body).not.toHaveProperty("contact_ids");
    expect(calls.some((c) => c.path.endsWith("/start"))).toBe(false);
  });

  test("editing shows the campaign's segment by name, even before (or without) the segment list", async () => {
    serve({ "GET /api/segments": { status: 500, body: { error: { code: "internal", message: "down" } } } });
    render(<CampaignBuilder campaign={campaign({ audience: { segment_id: 12, segment_name: "Lapsed" } })} now={NOW} />);
    const select = screen.getByLabelText("Segment") as HTMLSelectElement;
    await waitFor(() => expect(select.selectedOptions[0]?.textContent).toBe("Lapsed"));
    expect(select.value).toBe("12");
  });

  test("an uploaded list: saved first, then uploaded; its counts and rows left out are shown before going on", async () => {
    const csv = "phone,name,attr.plan\n+447700950001,Ana,gold\nnope,Bad,x\n";
    const uploadedCampaign = campaign({ id: 77, audience: { contact_ids: 4 } });
    const calls = serve({
      "POST /api/campaigns/77/audience": {
        rows: 7,
        contacts: 4,
        created: 2,
        duplicates: 1,
        errors: [
          { line: 5, field: "phone", reason: "not a phone number" },
          { line: 7, field: "phone", reason: "empty" },
        ],
        errors_total: 2,
        audience: { total: 4, eligible: 3, skipped: { opted_out: 1, erased: 0, duplicate_number: 0 } },
        campaign: uploadedCampaign,
      },
      "PATCH /api/campaigns/77": uploadedCampaign,
    });
    render(<CampaignBuilder now={NOW} />);
    await waitFor(() => expect(screen.getByRole("option", { name: "VIP" })).toBeTruthy());
    fireEvent.input(screen.getByLabelText("Campaign name"), { target: { value: "Listed" } });
    fireEvent.input(screen.getByLabelText("Message text"), { target: { value: "Hi {{contact.plan}}" } });
    fireEvent.click(screen.getByLabelText("Upload a list"));
    fireEvent.click(screen.getByRole("button", { name: "Start now" }));
    await waitFor(() => expect(screen.getByTestId("error-audience_upload").textContent).toBe("choose a CSV file with a phone column"));
    fireEvent.change(screen.getByLabelText("CSV list"), { target: { files: [new File([csv], "list.csv", { type: "text/csv" })] } });
    await screen.findByText("list.csv: uploaded when the campaign is saved.");
    fireEvent.click(screen.getByRole("button", { name: "Start now" }));
    const result = await screen.findByTestId("upload-result");
    expect(result.querySelector("p")!.textContent).toBe("4 contacts from 7 rows: 2 new, 1 repeated, 2 rows left out");
    expect([...result.querySelectorAll("li")].map((l) => l.textContent)).toEqual(["line 5: phone: not a phone number", "line 7: phone: empty"]);
    expect(screen.getByTestId("audience-count").textContent).toBe("3 will receive it · of 4: 1 opted out");
    const created = calls.find((c) => c.method === "POST" && c.path === "/api/campaigns")!;
    expect(created.body).toMatchObject({ name: "Listed", audience_upload: true });
    expect(created.body).not.toHaveProperty("segment_id");
    expect(calls.find((c) => c.path === "/api/campaigns/77/audience")!.body).toBe(csv);
    // Not started before the counts were seen; the second go saves (the list kept) and starts.
    expect(calls.some((c) => c.path.endsWith("/start"))).toBe(false);
    fireEvent.click(screen.getByRole("button", { name: "Start now" }));
    await waitFor(() => expect(path.value).toBe("/campaigns/77"));
    const saved = calls.find((c) => c.method === "PATCH")!;
    expect(saved.body).not.toHaveProperty("audience_upload");
    expect(saved.body).not.toHaveProperty("contact_ids");
    expect(calls.filter((c) => c.path === "/api/campaigns/77/audience")).toHaveLength(1);
    expect(calls.some((c) => c.path === "/api/campaigns/77/start")).toBe(true);
  });
});
