import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { live } from "../../state/session";
import { mockFetch, type Call, type FakeLive } from "../../test/fakes";
import { ContactList, EMPTY, exportHref, toQuery } from "./ContactList";
import type { Schema } from "./useSchema";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "ada@acme.io", name: "Ada Admin", role: "admin" } } };
});
const fake = live as unknown as FakeLive;

const schema: Schema = {
  types: [{ name: "lead", label: "Lead", position: 1 }],
  attributes: [{ name: "visits", label: "Visits", type: "number", choices: [] }],
  sessions: ["default"],
  loaded: true,
  error: null,
};
const person = (id: number, name: string) => ({
  id,
  session: "default",
  chat_id: `${id}@c.us`,
  phone: `+${id}`,
  name,
  push_name: null,
  type: null,
  tags: [],
  lifetime_spend: 0,
  last_message_at: null,
  opted_out: false,
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("ContactList", () => {
  test("the filters become the API's query; empty ones are left out, an attribute goes as a typed filter", () => {
    expect(toQuery(EMPTY, schema)).toEqual({
      q: "",
      tag: "",
      type: "",
      segment_id: "",
      opted_out: "",
      spend_min: "",
      spend_max: "",
      last_message_after: undefined,
      last_message_before: undefined,
      conversations_min: "",
      filter: undefined,
    });
    const q = toQuery({ ...EMPTY, tag: " vip ", attr: "visits", attr_value: "3", last_message_after: "2026-01-05T09:30" }, schema);
    expect(q.tag).toBe("vip");
    expect(JSON.parse(q.filter as string)).toEqual({ all: [{ field: "attributes.visits", op: "eq", value: 3 }] });
    expect(q.last_message_after).toBe(new Date("2026-01-05T09:30").toISOString());
  });

  test("the export link carries the list's filters, without paging", () => {
    expect(exportHref(EMPTY, schema)).toBe("/api/contacts/export");
    const href = exportHref({ ...EMPTY, q: "ann", attr: "visits", attr_value: "2" }, schema);
    const u = new URL(href, "http://hub.test");
    expect(u.pathname).toBe("/api/contacts/export");
    expect(u.searchParams.get("q")).toBe("ann");
    expect(JSON.parse(u.searchParams.get("filter")!)).toEqual({ all: [{ field: "attributes.visits", op: "eq", value: 2 }] });
    expect(u.searchParams.has("limit")).toBe(false);
  });

  test("filtering asks the hub again; more pages come by cursor; a changed contact offers a refresh", async () => {
    const calls = mockFetch({
      "GET /api/segments": { items: [], next_cursor: null },
      "GET /api/contacts": (c: Call) =>
        c.path.includes("cursor=9")
          ? { items: [person(3, "Cy")], next_cursor: null }
          : { items: [person(10, "Ann"), person(9, "Bo")], next_cursor: "9" },
    });
    render(<ContactList schema={schema} />);
    await waitFor(() => expect(screen.getAllByTestId("contact-row")).toHaveLength(2));
    fireEvent.click(screen.getByRole("button", { name: "More contacts" }));
    await waitFor(() => expect(screen.getAllByTestId("contact-row")).toHaveLength(3));
    const form = screen.getByRole("form", { name: "Filter contacts" });
    fireEvent.input(within(form).getByLabelText("Tag"), { target: { value: "vip" } });
    fireEvent.change(within(form).getByLabelText("Type"), { target: { value: "lead" } });
    fireEvent.input(within(form).getByLabelText("Spend from"), { target: { value: "10" } });
    fireEvent.submit(form);
    await waitFor(() => expect(calls.at(-1)!.path).toBe("/api/contacts?tag=vip&type=lead&spend_min=10&limit=50"));
    // The export takes the filters applied, not those being typed.
    fireEvent.input(within(form).getByLabelText("Tag"), { target: { value: "other" } });
    expect(screen.getByTestId("export-list").getAttribute("href")).toBe("/api/contacts/export?tag=vip&type=lead&spend_min=10");
    expect(screen.queryByTestId("contacts-stale")).toBeNull();
    act(() => fake.emit("contact.updated", { id: 11, session_id: 1, change: "created" }));
    const n = calls.length;
    fireEvent.click(within(await screen.findByTestId("contacts-stale")).getByRole("button", { name: "Refresh" }));
    await waitFor(() => expect(calls.length).toBe(n + 1));
    expect(calls.at(-1)!.path).toBe("/api/contacts?tag=vip&type=lead&spend_min=10&limit=50");
    expect(screen.queryByTestId("contacts-stale")).toBeNull();
  });
});
