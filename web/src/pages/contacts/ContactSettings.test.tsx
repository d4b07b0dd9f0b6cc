import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { mockFetch, type Call } from "../../test/fakes";
import { attributePatch, choicesOf, ContactSettings, newAttributeBody } from "./ContactSettings";
import type { AttributeDef } from "./types";

const plan: AttributeDef = { name: "plan", label: "Plan", type: "choice", choices: ["gold", "silver"] };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("ContactSettings", () => {
  test("choices are trimmed, deduplicated and empty ones dropped; only a choice sends them", () => {
    expect(choicesOf(" gold, silver,, gold ,")).toEqual(["gold", "silver"]);
    expect(newAttributeBody({ name: " plan ", label: "", type: "choice", choices: "a, b" })).toEqual({
      name: "plan",
      label: undefined,
      type: "choice",
      choices: ["a", "b"],
    });
    expect(newAttributeBody({ name: "visits", label: "Visits", type: "number", choices: "a" })).toEqual({ name: "visits", label: "Visits", type: "number" });
  });

  test("an edit sends only what changed", () => {
    expect(attributePatch(plan, "Plan", "gold, silver")).toBeNull();
    expect(attributePatch(plan, "Tier ", "gold, silver")).toEqual({ label: "Tier" });
    expect(attributePatch(plan, "Plan", "gold, silver, bronze")).toEqual({ choices: ["gold", "silver", "bronze"] });
    expect(attributePatch({ ...plan, type: "text", choices: [] }, "Plan", "x")).toBeNull();
  });

  test("types and attributes are added, edited and deleted (after a confirmation); a 422 shows its field", async () => {
    let types = [{ name: "lead", label: "Lead", position: 1 }];
    let attrs: AttributeDef[] = [plan];
    const changed = vi.fn();
    const calls = mockFetch({
      "GET /api/contact-types": () => ({ items: types, next_cursor: null }),
      "GET /api/contact-attributes": () => ({ items: attrs, next_cursor: null }),
      "POST /api/contact-types": (c: Call) => {
        types = [...types, { name: c.body.name, label: c.body.label, position: 100 }];
        return { status: 201, body: types.at(-1) };
      },
      "DELETE /api/contact-types/lead": () => {
        types = types.filter((t) => t.name !== "lead");
        return { status: 204, body: null };
      },
      "POST /api/contact-attributes": (c: Call) =>
        c.body.name === "Bad"
          ? { status: 422, body: { error: { code: "invalid", field: "name", message: "name: lower-case letters, digits and _" } } }
          : { status: 201, body: c.body },
      "PATCH /api/contact-attributes/plan": (c: Call) => {
        attrs = [{ ...plan, ...c.body }];
        return attrs[0];
      },
    });
    render(<ContactSettings onChanged={changed} />);
    await screen.findByText("Lead");
    const typeForm = screen.getByRole("form", { name: "New contact type" });
    fireEvent.input(within(typeForm).getByLabelText("Name"), { target: { value: "partner" } });
    fireEvent.input(within(typeForm).getByLabelText("Label"), { target: { value: "Partner" } });
    fireEvent.submit(typeForm);
    await screen.findByText("Partner");
    expect(changed).toHaveBeenCalledTimes(1);

    const attrForm = screen.getByRole("form", { name: "New attribute" });
    fireEvent.input(within(attrForm).getByLabelText("Name"), { target: { value: "Bad" } });
    fireEvent.submit(attrForm);
    expect((await within(attrForm).findByTestId("attribute-error-name")).textContent).toBe("name: lower-case letters, digits and _");

    fireEvent.click(screen.getByRole("button", { name: "Edit attribute plan" }));
    fireEvent.input(screen.getByLabelText("Choices of plan"), { target: { value: "gold, silver, bronze" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await screen.findByText("gold, silver, bronze");
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ choices: ["gold", "silver", "bronze"] });

    fireEvent.click(screen.getByRole("button", { name: "Delete type lead" }));
    const dialog = screen.getByRole("dialog", { name: "Delete contact type" });
    fireEvent.click(within(dialog).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByText("Lead")).toBeNull());
    expect(calls.filter((c) => c.method === "DELETE").map((c) => c.path)).toEqual(["/api/contact-types/lead"]);
  });
});
