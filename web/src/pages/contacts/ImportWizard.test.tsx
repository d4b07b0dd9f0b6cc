import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live, me } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { ImportWizard } from "./ImportWizard";
import type { ImportStatus } from "./types";
import type { Schema } from "./useSchema";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin" } } };
});
const fake = live as unknown as FakeLive;

const schema: Schema = {
  types: [],
  attributes: [{ name: "plan", label: "Plan", type: "choice", choices: ["gold"] }],
  sessions: ["default", "support"],
  loaded: true,
  error: null,
};

const status = (over: Partial<ImportStatus>): ImportStatus => ({
  id: 12,
  session_id: 1,
  on_duplicate: "update",
  status: "running",
  rows: 0,
  created: 0,
  updated: 0,
  skipped: 0,
  failed: 0,
  errors: [],
  errors_total: 0,
  failure: null,
  ...over,
});

const CSV = "Tel,Name,plan,Notes here\n+1,Ann,gold,a\nbad,Bob,,b\n+3,Cy,,c\n+4,Di,,d";

async function toMapping() {
  fireEvent.input(screen.getByLabelText("Or paste the CSV"), { target: { value: CSV } });
  fireEvent.change(screen.getByRole("combobox", { name: /Session/ }), { target: { value: "support" } });
  fireEvent.click(screen.getByLabelText("Update the contact"));
  fireEvent.click(screen.getByRole("button", { name: "Next: columns" }));
  await screen.findByRole("table", { name: "Preview" });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  (me as any).value.role = "admin";
});

describe("ImportWizard", () => {
  test("the preview shows the first rows; the mapping decides the uploaded header; nothing goes without phone", async () => {
    const calls = mockFetch({ "POST /api/contacts/imports": { status: 202, body: { id: 12 } }, "GET /api/contacts/imports/12": status({}) });
    render(<ImportWizard schema={schema} />);
    await toMapping();
    expect(screen.getAllByTestId("preview-row").map((r) => r.textContent)).toEqual(["+1Anngolda", "badBobb", "+3Cyc", "+4Did"]);
    expect((screen.getByLabelText("Column plan maps to") as HTMLSelectElement).value).toBe("attr.plan");
    // `Tel` is not a name the hub maps by: until it is mapped, no upload.
    expect(screen.getByTestId("mapping-problem").textContent).toMatch(/phone/);
    const run = screen.getByRole("button", { name: "Import 4 rows" }) as HTMLButtonElement;
    expect(run.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Column Tel maps to"), { target: { value: "phone" } });
    fireEvent.change(screen.getByLabelText("Column Name maps to"), { target: { value: "name" } });
    expect(screen.queryByTestId("mapping-problem")).toBeNull();
    fireEvent.click(run);
    await screen.findByTestId("import-progress");
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.path).toBe("/api/contacts/imports?session=support&on_duplicate=update");
    expect(post.body).toBe("phone,name,attr.plan\n+1,Ann,gold\nbad,Bob,\n+3,Cy,\n+4,Di,\n");
  });

  test("the bar follows the websocket's progress frames, then the finished import shows its counts and row errors", async () => {
    let final = false;
    const calls = mockFetch({
      "POST /api/contacts/imports": { status: 202, body: { id: 12 } },
      "GET /api/contacts/imports/12": () =>
        final
          ? status({
              status: "completed",
              rows: 4,
              created: 2,
              updated: 1,
              failed: 1,
              errors: [{ line: 3, field: "phone", reason: "not a phone number" }],
              errors_total: 1,
            })
          : status({}),
    });
    render(<ImportWizard schema={schema} />);
    await toMapping();
    fireEvent.change(screen.getByLabelText("Column Tel maps to"), { target: { value: "phone" } });
    fireEvent.click(screen.getByRole("button", { name: "Import 4 rows" }));
    const bar = (await screen.findByTestId("import-progress")) as HTMLProgressElement;
    await waitFor(() => expect(screen.getByTestId("import-counts").textContent).toMatch(/^0 of 4 rows/));
    // A frame of another import changes nothing; this one's moves the bar.
    act(() => fake.emit("contact_import.progress", { id: 99, session_id: 1, status: "running", rows: 4, created: 4, updated: 0, skipped: 0, failed: 0 }));
    expect(bar.value).toBe(0);
    act(() => fake.emit("contact_import.progress", { id: 12, session_id: 1, status: "running", rows: 2, created: 1, updated: 0, skipped: 0, failed: 1 }));
    await waitFor(() => expect(bar.value).toBe(0.5));
    expect(screen.getByTestId("import-counts").textContent).toBe("2 of 4 rows…1 created · 0 updated · 0 skipped · 1 with errors");
    final = true;
    const gets = calls.filter((c: Call) => c.method === "GET").length;
    act(() => fake.emit("contact_import.progress", { id: 12, session_id: 1, status: "completed", rows: 4, created: 2, updated: 1, skipped: 0, failed: 1 }));
    // The last frame reads the status at once, for its row errors.
    const row = await screen.findByTestId("row-error");
    expect(calls.filter((c: Call) => c.method === "GET").length).toBeGreaterThan(gets);
    expect([...row.querySelectorAll("td")].map((td) => td.textContent)).toEqual(["3", "phone", "not a phone number"]);
    expect(bar.value).toBe(1);
    expect(screen.getByTestId("import-counts").getAttribute("data-status")).toBe("completed");
    expect(screen.getByTestId("import-counts").textContent).toBe("Done: 2 created · 1 updated · 0 skipped · 1 with errors");
  });

  test("without frames, polling alone carries the import to its end", async () => {
    let polls = 0;
    mockFetch({
      "POST /api/contacts/imports": { status: 202, body: { id: 12 } },
      "GET /api/contacts/imports/12": () => (++polls < 3 ? status({ rows: polls, created: polls }) : status({ status: "completed", rows: 4, created: 4 })),
    });
    render(<ImportWizard schema={schema} />);
    await toMapping();
    fireEvent.change(screen.getByLabelText("Column Tel maps to"), { target: { value: "phone" } });
    fireEvent.click(screen.getByRole("button", { name: "Import 4 rows" }));
    await waitFor(() => expect(screen.getByTestId("import-counts").getAttribute("data-status")).toBe("completed"), { timeout: 4000 });
    expect(polls).toBe(3);
    expect(screen.queryByTestId("row-error")).toBeNull();
  });

  test("a chosen file is read like a pasted text", async () => {
    mockFetch({});
    const { container } = render(<ImportWizard schema={schema} />);
    const input = container.querySelector("input[type=file]") as HTMLInputElement;
    const file = new File(["phone,name\n+1,Ann\n+2,Bo\n"], "people.csv", { type: "text/csv" });
    Object.defineProperty(input, "files", { value: [file] });
    fireEvent.change(input);
    await screen.findByText("people.csv");
    await waitFor(() => expect((screen.getByLabelText("Or paste the CSV") as HTMLTextAreaElement).value).toBe("phone,name\n+1,Ann\n+2,Bo\n"));
    fireEvent.click(screen.getByRole("button", { name: "Next: columns" }));
    expect(await screen.findAllByTestId("preview-row")).toHaveLength(2);
    expect(screen.getByRole("button", { name: "Import 2 rows" })).toBeTruthy();
  });

  test("the hub's refusal of the upload is shown; an agent is not offered the wizard", async () => {
    mockFetch({
      "POST /api/contacts/imports": { status: 422, body: { error: { code: "invalid", field: "columns[1]", message: "columns[1]: unknown column 'x'" } } },
    });
    const { unmount } = render(<ImportWizard schema={schema} />);
    await toMapping();
    fireEvent.change(screen.getByLabelText("Column Tel maps to"), { target: { value: "phone" } });
    fireEvent.click(screen.getByRole("button", { name: "Import 4 rows" }));
    expect((await screen.findByTestId("import-error")).textContent).toBe("columns[1]: unknown column 'x'");
    expect(screen.queryByTestId("import-progress")).toBeNull();
    unmount();
    (me as any).value.role = "agent";
    render(<ImportWizard schema={schema} />);
    expect(screen.getByText("Agents read contacts but do not import them.")).toBeTruthy();
    expect(screen.queryByLabelText("Or paste the CSV")).toBeNull();
  });
});
