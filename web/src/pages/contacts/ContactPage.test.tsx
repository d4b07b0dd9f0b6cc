import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { me } from "../../state/session";
import { mockFetch } from "../../test/fakes";
import { ContactPage, eraseWord, formOf, patchOf } from "./ContactPage";
import type { AttributeDef, ContactDetail } from "./types";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "sal@acme.io", name: "Sal Sales", role: "sales" } } };
});

const attrs: AttributeDef[] = [
  { name: "plan", label: "Plan", type: "choice", choices: ["gold", "silver"] },
  { name: "visits", label: "Visits", type: "number", choices: [] },
];

const ana: ContactDetail = {
  id: 5,
  session_id: 1,
  session: "default",
  chat_id: "447700900101@c.us",
  wa_ids: ["447700900101@c.us"],
  phone: "+447700900101",
  name: "Ana",
  push_name: "Ana A",
  email: null,
  notes: null,
  type: "lead",
  lifetime_spend: 12.5,
  owner_id: null,
  consent: null,
  consent_source: null,
  consent_at: null,
  opted_out: false,
  tags: ["vip"],
  attributes: { plan: "gold", legacy: "x" },
  last_message_at: null,
  conversation_count: 1,
  created_at: 1,
  updated_at: 1,
  conversations: [
    {
      id: 31,
      session_id: 2,
      session: "support",
      chat_id: "447700900101@c.us",
      contact_id: null,
      is_group: false,
      title: null,
      status: "open",
      assignee_id: null,
      unread: 0,
      last_message_at: 1_700_000_000_000,
      last_message_preview: "Hello there",
      created_at: 1,
    },
  ],
};

function serve(extra: Record<string, unknown> = {}) {
  return mockFetch({
    "GET /api/contacts/5": ana,
    "GET /api/contact-types": { items: [{ name: "lead", label: "Lead", position: 1 }, { name: "customer", label: "Customer", position: 2 }], next_cursor: null },
    "GET /api/contact-attributes": { items: attrs, next_cursor: null },
    "GET /api/sessions": { items: [{ name: "default" }], next_cursor: null },
    ...extra,
  });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  (me as any).value.role = "sales";
});

describe("ContactPage", () => {
  test("the PATCH holds only what changed, typed: emptied texts null, attributes merged or removed", () => {
    const before = formOf(ana, attrs);
    expect(before.attributes).toEqual({ plan: "gold", visits: "", legacy: "x" });
    const after = {
      ...before,
      email: " ana@acme.io ",
      name: "",
      tags: "vip, , returning",
      lifetime_spend: "20",
      consent: "opted_out" as const,
      consent_source: "call",
      attributes: { plan: "gold", visits: "3", legacy: "" },
    };
    expect(patchOf(before, after, attrs)).toEqual({
      email: "ana@acme.io",
      name: null,
      tags: ["vip", "returning"],
      lifetime_spend: 20,
      consent: { state: "opted_out", source: "call" },
      attributes: { visits: 3, legacy: null },
    });
    expect(patchOf(before, { ...before, tags: "vip," }, attrs)).toEqual({});
    expect(patchOf(before, { ...before, consent: "" }, attrs)).toEqual({});
  });

  test("a writer edits the profile; the hub's 422 on an attribute lands next to that attribute", async () => {
    const calls = serve({
      "PATCH /api/contacts/5": {
        status: 422,
        body: { error: { code: "invalid", field: "attributes.visits", message: "attributes.visits: is declared number, got a text" } },
      },
    });
    render(<ContactPage params={{ id: "5" }} />);
    const form = await screen.findByRole("form", { name: "Profile" });
    expect(screen.getByTestId("contact-phone").textContent).toBe("+447700900101");
    await waitFor(() => expect(within(form).getByLabelText("Visits")).toBeTruthy());
    fireEvent.input(within(form).getByLabelText("Visits"), { target: { value: "3" } });
    fireEvent.submit(form);
    const err = await within(form).findByTestId("error-attributes.visits");
    expect(err.textContent).toBe("is declared number, got a text");
    expect(within(form).queryByTestId("error-attributes.plan")).toBeNull();
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ attributes: { visits: 3 } });
    // Its conversations, across sessions.
    expect(screen.getByTestId("contact-conversation").textContent).toMatch(/support · open/);
  });

  test("an agent reads the contact but every input is disabled and there is no save", async () => {
    (me as any).value.role = "agent";
    serve();
    render(<ContactPage params={{ id: "5" }} />);
    const form = await screen.findByRole("form", { name: "Profile" });
    expect(within(form).getByText("Agents read contacts but do not edit them.")).toBeTruthy();
    expect((within(form).getByLabelText("Name") as HTMLInputElement).value).toBe("Ana");
    expect(form.querySelector("fieldset")!.disabled).toBe(true);
    expect(within(form).queryByRole("button", { name: "Save contact" })).toBeNull();
  });

  test("GDPR: admins and managers download the data and erase it after typing the number; others see neither", async () => {
    expect(eraseWord(ana)).toBe("+447700900101");
    expect(eraseWord({ phone: null, chat_id: "x@c.us" })).toBe("x@c.us");
    (me as any).value.role = "manager";
    let erased = false;
    const calls = serve({
      "GET /api/contacts/5": () => (erased ? { ...ana, name: null, phone: null, tags: [], erased_at: 1_700_000_000_000 } : ana),
      "POST /api/contacts/5/erase": () => {
        erased = true;
        return { id: 5, erased_at: 1_700_000_000_000, conversations: 1, events_rewritten: 3 };
      },
    });
    const { unmount } = render(<ContactPage params={{ id: "5" }} />);
    const privacy = await screen.findByRole("region", { name: "Personal data" });
    expect(within(privacy).getByRole("link", { name: "Download data (JSON)" }).getAttribute("href")).toBe("/api/contacts/5/export");
    fireEvent.click(within(privacy).getByRole("button", { name: "Erase…" }));
    const dialog = screen.getByRole("dialog", { name: "Erase personal data" });
    const go = within(dialog).getByRole("button", { name: "Erase" }) as HTMLButtonElement;
    expect(go.disabled).toBe(true);
    fireEvent.input(within(dialog).getByLabelText("Type +447700900101 to confirm"), { target: { value: "+44770090010" } });
    expect(go.disabled).toBe(true);
    fireEvent.submit(go.closest("form")!);
    expect(calls.some((c) => c.path === "/api/contacts/5/erase")).toBe(false);
    fireEvent.input(within(dialog).getByLabelText("Type +447700900101 to confirm"), { target: { value: " +447700900101 " } });
    expect(go.disabled).toBe(false);
    fireEvent.click(go);
    await screen.findByTestId("contact-erased");
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(calls.filter((c) => c.path === "/api/contacts/5/erase").map((c) => c.method)).toEqual(["POST"]);
    unmount();

    erased = false;
    (me as any).value.role = "sales";
    render(<ContactPage params={{ id: "5" }} />);
    await screen.findByRole("form", { name: "Profile" });
    expect(screen.queryByRole("region", { name: "Personal data" })).toBeNull();
  });
});
