import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { fieldSpecs, newClause } from "./clauses";
import { SegmentBuilder } from "./SegmentBuilder";
import type { AttributeDef, SegmentView } from "./types";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin" } } };
});
const fake = live as unknown as FakeLive;

const attrs: AttributeDef[] = [{ name: "plan", label: "Plan", type: "choice", choices: ["gold", "silver"] }];
const initial = () => ({ join: "all" as const, clauses: [newClause(fieldSpecs(attrs)[0])] });

/** The preview answers 10 less 3 for each clause sent: each change of the filter shows. */
function serve(extra: Record<string, unknown> = {}) {
  return mockFetch({
    "POST /api/segments/preview": (c: Call) => ({ count: 10 - (c.body.filter.all ?? c.body.filter.any).length * 3 }),
    ...extra,
  });
}
const previews = (calls: Call[]) => calls.filter((c) => c.path === "/api/segments/preview");
const count = () => screen.getByTestId("live-count").textContent;

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("SegmentBuilder", () => {
  test("the live count follows the clauses as they are edited, one preview per pause, incomplete clauses left out", async () => {
    const calls = serve();
    render(<SegmentBuilder attributes={attrs} initial={initial()} canWrite onSaved={() => {}} />);
    // The empty first clause is not sent: every contact.
    await waitFor(() => expect(count()).toBe("10 contacts"));
    expect(previews(calls).map((c) => c.body)).toEqual([{ filter: { all: [] } }]);
    const value = screen.getByLabelText("Clause 1 value");
    fireEvent.input(value, { target: { value: "v" } });
    fireEvent.input(value, { target: { value: "vi" } });
    fireEvent.input(value, { target: { value: "vip" } });
    await waitFor(() => expect(count()).toBe("7 contacts"));
    // Typing three letters asked once, with the last text.
    expect(previews(calls).map((c) => c.body)).toEqual([
      { filter: { all: [] } },
      { filter: { all: [{ field: "tags", op: "contains", value: "vip" }] } },
    ]);
    fireEvent.click(screen.getByRole("button", { name: "+ Add clause" }));
    fireEvent.change(screen.getByLabelText("Clause 2 field"), { target: { value: "lifetime_spend" } });
    fireEvent.change(screen.getByLabelText("Clause 2 op"), { target: { value: "gt" } });
    fireEvent.input(screen.getByLabelText("Clause 2 value"), { target: { value: "99.5" } });
    fireEvent.change(screen.getByLabelText("Contacts matching"), { target: { value: "any" } });
    await waitFor(() => expect(count()).toBe("4 contacts"));
    expect(previews(calls).at(-1)!.body).toEqual({
      filter: {
        any: [
          { field: "tags", op: "contains", value: "vip" },
          { field: "lifetime_spend", op: "gt", value: 99.5 },
        ],
      },
    });
  });

  test("a group of any-of clauses inside all: counted as a nested filter, its 422 on its own row, removed with its last clause", async () => {
    const calls = serve({
      "POST /api/segments/preview": (c: Call) => {
        const inner = c.body.filter.all?.[1]?.any;
        return inner?.[1]?.value === -1
          ? { status: 422, body: { error: { code: "invalid", field: "filter.all[1].any[1].value", message: "filter.all[1].any[1].value: must be 0 or more" } } }
          : { count: 3 };
      },
    });
    render(<SegmentBuilder attributes={attrs} initial={initial()} canWrite onSaved={() => {}} />);
    fireEvent.input(screen.getByLabelText("Clause 1 value"), { target: { value: "vip" } });
    fireEvent.click(screen.getByRole("button", { name: "+ Add an any-of group" }));
    expect((screen.getByLabelText("Group 2 join") as HTMLSelectElement).value).toBe("any");
    fireEvent.input(screen.getByLabelText("Clause 2.1 value"), { target: { value: "b2b" } });
    fireEvent.click(screen.getByRole("button", { name: "+ Add clause to group 2" }));
    fireEvent.change(screen.getByLabelText("Clause 2.2 field"), { target: { value: "lifetime_spend" } });
    fireEvent.input(screen.getByLabelText("Clause 2.2 value"), { target: { value: "100" } });
    await waitFor(() =>
      expect(previews(calls).at(-1)!.body).toEqual({
        filter: {
          all: [
            { field: "tags", op: "contains", value: "vip" },
            {
              any: [
                { field: "tags", op: "contains", value: "b2b" },
                { field: "lifetime_spend", op: "gte", value: 100 },
              ],
            },
          ],
        },
      }),
    );
    await waitFor(() => expect(count()).toBe("3 contacts"));
    fireEvent.input(screen.getByLabelText("Clause 2.2 value"), { target: { value: "-1" } });
    expect((await screen.findByTestId("clause-error-2.2")).textContent).toBe("must be 0 or more");
    expect(screen.queryByTestId("clause-error-2")).toBeNull();
    // The group's clauses go one by one; the last takes the group with it.
    fireEvent.click(screen.getByRole("button", { name: "Remove clause 2.2" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove clause 2.1" }));
    expect(screen.queryByTestId("group-2")).toBeNull();
    await waitFor(() => expect(previews(calls).at(-1)!.body).toEqual({ filter: { all: [{ field: "tags", op: "contains", value: "vip" }] } }));
  });

  test("a contact changing anywhere asks for the count again", async () => {
    let n = 5;
    const calls = serve({ "POST /api/segments/preview": () => ({ count: n }) });
    render(<SegmentBuilder attributes={attrs} initial={initial()} canWrite onSaved={() => {}} />);
    await waitFor(() => expect(count()).toBe("5 contacts"));
    n = 6;
    act(() => fake.emit("contact.updated", { id: 9, session_id: 1, change: "created" }));
    await waitFor(() => expect(count()).toBe("6 contacts"));
    expect(previews(calls)).toHaveLength(2);
  });

  test("the hub's 422 goes on the clause it names (counting only the complete clauses), and leaves when fixed", async () => {
    serve({
      "POST /api/segments/preview": (c: Call) => {
        const bad = c.body.filter.all.findIndex((x: any) => x.value === "lots");
        return bad < 0
          ? { count: 1 }
          : {
              status: 422,
              body: { error: { code: "invalid", field: `filter.all[${bad}]`, message: `filter.all[${bad}]: 'lifetime_spend' gt takes a number` } },
            };
      },
    });
    render(
      <SegmentBuilder
        attributes={attrs}
        initial={{
          join: "all",
          clauses: [
            { field: "tags", op: "contains", value: "" },
            { field: "lifetime_spend", op: "gt", value: "lots" },
          ],
        }}
        canWrite
        onSaved={() => {}}
      />,
    );
    // filter.all[0] is the draft's second row: the first is incomplete and not sent.
    const err = await screen.findByTestId("clause-error-2");
    expect(err.textContent).toBe("'lifetime_spend' gt takes a number");
    expect(screen.queryByTestId("clause-error-1")).toBeNull();
    expect(count()).toBe("No count");
    fireEvent.input(screen.getByLabelText("Clause 2 value"), { target: { value: "5" } });
    await waitFor(() => expect(count()).toBe("1 contact"));
    expect(screen.queryByTestId("clause-error-2")).toBeNull();
  });

  test("save creates the segment with the built filter; an existing one is patched", async () => {
    const saved: SegmentView = { id: 4, name: "Gold", filter: { all: [] }, created_by: 1, created_at: 1, updated_at: 1, count: 3 };
    const calls = serve({ "POST /api/segments": { status: 201, body: saved }, "PATCH /api/segments/4": saved });
    const onSaved = vi.fn();
    const { unmount } = render(<SegmentBuilder attributes={attrs} initial={initial()} canWrite onSaved={onSaved} />);
    fireEvent.change(screen.getByLabelText("Clause 1 field"), { target: { value: "attributes.plan" } });
    fireEvent.change(screen.getByLabelText("Clause 1 value"), { target: { value: "gold" } });
    const form = screen.getByRole("form", { name: "New segment" });
    expect((within(form).getByRole("button", { name: "Create segment" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.input(screen.getByLabelText("Segment name"), { target: { value: " Gold " } });
    fireEvent.submit(form);
    await waitFor(() => expect(onSaved).toHaveBeenCalledWith(saved));
    expect(calls.find((c) => c.method === "POST" && c.path === "/api/segments")!.body).toEqual({
      name: "Gold",
      filter: { all: [{ field: "attributes.plan", op: "eq", value: "gold" }] },
    });
    unmount();
    render(<SegmentBuilder attributes={attrs} segment={saved} initial={initial()} canWrite onSaved={onSaved} />);
    fireEvent.submit(screen.getByRole("form", { name: "Edit segment Gold" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
  });

  test("an agent counts but cannot save", async () => {
    serve();
    render(<SegmentBuilder attributes={attrs} initial={initial()} canWrite={false} onSaved={() => {}} />);
    await waitFor(() => expect(count()).toBe("10 contacts"));
    expect(screen.queryByRole("button", { name: "Create segment" })).toBeNull();
    expect(screen.getByText("Agents read segments but do not save them.")).toBeTruthy();
    expect((screen.getByLabelText("Segment name") as HTMLInputElement).disabled).toBe(true);
  });
});
