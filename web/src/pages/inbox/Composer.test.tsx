import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { Composer, slashQuery } from "./Composer";
import { mockFetch, session } from "./testkit";

vi.mock("../../state/session", async () => (await import("./testkit")).session);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  session.live.sent = [];
});

function setup() {
  const sent: string[] = [];
  render(<Composer conversationId={4} blocked={null} onSend={(t) => sent.push(t)} />);
  const box = screen.getByTestId("composer") as HTMLTextAreaElement;
  const type = (v: string) => fireEvent.input(box, { target: { value: v } });
  return { sent, box, type };
}

describe("the composer", () => {
  test("Enter sends, Shift+Enter does not, Ctrl+Enter sends too", () => {
    const { sent, box, type } = setup();
    type("first line");
    const shift = fireEvent.keyDown(box, { key: "Enter", shiftKey: true });
    expect(shift).toBe(true); // not prevented: the textarea breaks the line
    expect(sent).toEqual([]);
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual(["first line"]);
    expect(box.value).toBe("");
    type("second");
    fireEvent.keyDown(box, { key: "Enter", ctrlKey: true });
    expect(sent).toEqual(["first line", "second"]);
    // Blank text is not sent.
    type("   ");
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent.length).toBe(2);
  });

  test("typing tells the others at most every 3 seconds", () => {
    const { type } = setup();
    type("a");
    type("ab");
    type("abc");
    expect(session.live.sent.filter((s) => s.type === "typing")).toEqual([{ type: "typing", data: { conversation_id: 4 } }]);
  });

  test("`/` opens the saved replies; arrows and Enter insert one instead of sending", async () => {
    const fetch = mockFetch({
      "GET /api/quick-replies": (url) => ({
        items: [
          { id: 1, shortcut: "hours", text: "We are open 9 to 5." },
          { id: 2, shortcut: "hello", text: "Hello {{contact.first_name}}!" },
        ].filter((r) => r.shortcut.includes(url.searchParams.get("q") ?? "")),
        next_cursor: null,
      }),
    });
    const { sent, box, type } = setup();
    type("/h");
    await waitFor(() => expect(screen.getAllByRole("option").length).toBe(2));
    expect(new URL(String(fetch.mock.calls.at(-1)![0]), "http://x").searchParams.get("q")).toBe("h");
    expect(screen.getAllByRole("option")[0]!.getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(box, { key: "ArrowDown" });
    expect(screen.getAllByRole("option")[1]!.getAttribute("aria-selected")).toBe("true");
    fireEvent.keyDown(box, { key: "Enter" });
    expect(box.value).toBe("Hello {{contact.first_name}}!");
    expect(sent).toEqual([]);
    expect(screen.queryByRole("listbox")).toBeNull();
    fireEvent.keyDown(box, { key: "Enter" });
    expect(sent).toEqual(["Hello {{contact.first_name}}!"]);
  });

  test("Escape closes the list, then leaves the box", async () => {
    mockFetch({ "GET /api/quick-replies": () => ({ items: [{ id: 1, shortcut: "x", text: "X" }], next_cursor: null }) });
    const { box, type } = setup();
    box.focus();
    type("/");
    await waitFor(() => expect(screen.getByRole("listbox")).toBeTruthy());
    fireEvent.keyDown(box, { key: "Escape" });
    expect(screen.queryByRole("listbox")).toBeNull();
    expect(document.activeElement).toBe(box);
    fireEvent.keyDown(box, { key: "Escape" });
    expect(document.activeElement).not.toBe(box);
  });

  test("a member who may not reply is told why instead of a box", () => {
    render(<Composer conversationId={4} blocked="Only the assignee may reply." onSend={() => {}} />);
    expect(screen.queryByTestId("composer")).toBeNull();
    expect(screen.getByTestId("composer-blocked").textContent).toBe("Only the assignee may reply.");
  });

  test("the slash search is only a leading word", () => {
    expect(slashQuery("/ho")).toBe("ho");
    expect(slashQuery("/")).toBe("");
    expect(slashQuery("a /ho")).toBeNull();
    expect(slashQuery("/ho there")).toBeNull();
  });
});
