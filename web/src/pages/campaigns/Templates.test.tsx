import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { mockFetch } from "../../test/fakes";
import { Templates } from "./Templates";

vi.mock("../../state/session", async () => {
  const { FakeLive } = await import("../../test/fakes");
  return { live: new FakeLive(), me: { value: { id: 1, email: "mo@acme.io", name: "Mo", role: "marketing" } } };
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

const saved = { id: 2, name: "Hello", body: "Hi {{contact.name}}", created_by: 1, created_at: 1, updated_at: 1 };

describe("templates", () => {
  test("create with a local syntax check, then edit one; the hub's 422 on body shows under the text", async () => {
    const calls = mockFetch({
      "GET /api/templates": { items: [saved], next_cursor: null },
      "POST /api/templates": { status: 201, body: { ...saved, id: 3, name: "Win-back", body: 'Hi {{contact.first_name | "there"}}' } },
      "PATCH /api/templates/2": { status: 422, body: { error: { code: "invalid", field: "body", message: "body: longer than 4096 characters" } } },
    });
    render(<Templates />);
    await screen.findByTestId("template-row");
    fireEvent.input(screen.getByLabelText("Template name"), { target: { value: "Win-back" } });
    fireEvent.input(screen.getByLabelText("Template text"), { target: { value: "Hi {{contact.first_name | there}}" } });
    expect(screen.getByTestId("error-body").textContent).toBe('the fallback of {{contact.first_name}} must be quoted ("…" or \'…\')');
    fireEvent.submit(screen.getByRole("form", { name: "New template" }));
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    fireEvent.input(screen.getByLabelText("Template text"), { target: { value: 'Hi {{contact.first_name | "there"}}' } });
    expect(screen.queryByTestId("error-body")).toBeNull();
    fireEvent.submit(screen.getByRole("form", { name: "New template" }));
    await waitFor(() => expect(screen.getAllByTestId("template-row")).toHaveLength(2));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ name: "Win-back", body: 'Hi {{contact.first_name | "there"}}' });

    fireEvent.click(screen.getByRole("button", { name: "Hello" }));
    fireEvent.submit(screen.getByRole("form", { name: "Edit template Hello" }));
    await waitFor(() => expect(screen.getByTestId("error-body").textContent).toBe("longer than 4096 characters"));
  });
});
