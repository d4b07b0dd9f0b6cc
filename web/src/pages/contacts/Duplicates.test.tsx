import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { mockFetch, type Call } from "../../test/fakes";
import { Duplicates, inTurns, mergesInto } from "./Duplicates";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin" } } };
});

const person = (id: number, name: string, session = "default") => ({
  id,
  session,
  chat_id: `4477009001${id}@c.us`,
  phone: `+4477009001${id}`,
  name,
  push_name: null,
  email: null,
  conversation_count: 1,
  tags: [],
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("Duplicates", () => {
  test("a group folds into the kept contact: one merge per other contact, oldest first", () => {
    expect(mergesInto([3, 5, 9], 3)).toEqual([5, 9]);
    expect(mergesInto([3, 5, 9], 5)).toEqual([3, 9]);
  });

  test("inTurns keeps the order asked and never runs more than n at once", async () => {
    let running = 0;
    let most = 0;
    const out = await inTurns([1, 2, 3, 4, 5], 2, async (x) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5 - x));
      running--;
      return x * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50]);
    expect(most).toBe(2);
  });

  test("the chosen contact is kept: the confirm dialog names both, and only its Merge merges", async () => {
    let merged = false;
    const calls = mockFetch({
      "GET /api/contacts/duplicates": () =>
        merged ? { items: [] } : { items: [{ reason: "phone", value: "447700900101", contact_ids: [3, 5, 9] }] },
      "GET /api/contacts/3": person(3, "Ann"),
      "GET /api/contacts/5": person(5, "Ann Again", "second"),
      "GET /api/contacts/9": person(9, "A. N."),
      "POST /api/contacts/5/merge": (c: Call) => {
        if (c.body.from === 9) merged = true;
        return person(5, "Ann Again");
      },
    });
    render(<Duplicates canWrite={true} />);
    const group = await screen.findByTestId("duplicate-group");
    await waitFor(() => expect(within(group).getAllByTestId("duplicate-contact")).toHaveLength(3));
    fireEvent.click(within(group).getByLabelText("Keep Ann Again"));
    fireEvent.click(within(group).getByRole("button", { name: "Merge into Ann Again…" }));
    const dialog = screen.getByRole("dialog", { name: "Merge contacts" });
    expect(dialog.textContent).toMatch(/Merge Ann, A\. N\. into Ann Again\?/);
    // Cancel merges nothing.
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(calls.filter((c) => c.method === "POST")).toEqual([]);
    fireEvent.click(within(group).getByRole("button", { name: "Merge into Ann Again…" }));
    fireEvent.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Merge" }));
    await screen.findByText("No probable duplicates.");
    expect(calls.filter((c) => c.method === "POST").map((c) => [c.path, c.body])).toEqual([
      ["/api/contacts/5/merge", { from: 3 }],
      ["/api/contacts/5/merge", { from: 9 }],
    ]);
    expect(screen.getByRole("status").textContent).toBe("Merged into Ann Again.");
  });

  test("a refused merge says why in the dialog; a reader without the right sees no merge", async () => {
    mockFetch({
      "GET /api/contacts/duplicates": { items: [{ reason: "email", value: "ann@x.test", contact_ids: [3, 5] }] },
      "GET /api/contacts/3": person(3, "Ann"),
      "GET /api/contacts/5": person(5, "Ann B"),
      "POST /api/contacts/3/merge": { status: 409, body: { error: { code: "conflict", message: "contact 5 was erased" } } },
    });
    const { unmount } = render(<Duplicates canWrite={true} />);
    const group = await screen.findByTestId("duplicate-group");
    await waitFor(() => expect(within(group).getAllByTestId("duplicate-contact")).toHaveLength(2));
    fireEvent.click(within(group).getByRole("button", { name: "Merge into Ann…" }));
    fireEvent.click(within(screen.getByRole("dialog")).getByRole("button", { name: "Merge" }));
    expect((await within(screen.getByRole("dialog")).findByRole("alert")).textContent).toBe("contact 5 was erased");
    unmount();
    render(<Duplicates canWrite={false} />);
    const ro = await screen.findByTestId("duplicate-group");
    await waitFor(() => expect(within(ro).getAllByTestId("duplicate-contact")).toHaveLength(2));
    expect(within(ro).queryByRole("button")).toBeNull();
    expect(within(ro).queryByRole("radio")).toBeNull();
  });
});
