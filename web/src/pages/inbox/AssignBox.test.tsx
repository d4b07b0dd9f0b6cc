import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { User } from "../../api/types";
import { AssignBox } from "./AssignBox";
import { Bubble } from "./Bubble";
import { sessionMembers } from "./members";
import { conv, ME, mockFetch, msg, session } from "./testkit";
import type { SessionMember } from "./types";

vi.mock("../../state/session", async () => (await import("./testkit")).session);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  session.live.commands = [];
  session.me.value = ME;
  sessionMembers.value = {};
});

const TEAM: SessionMember[] = [
  { id: ME.id, name: "Ann Agent", role: "agent", presence: "online", open: 1, capacity: 5 },
  { id: 8, name: "Bea", role: "agent", presence: "online", open: 2, capacity: 5 },
  { id: 9, name: "Cid", role: "agent", presence: "away", open: 3, capacity: 3 },
  { id: 1, name: "Mo Manager", role: "manager", presence: "offline", open: 0, capacity: null },
];

const team = () => mockFetch({ "GET /api/sessions/default/members": () => ({ items: TEAM, next_cursor: null }) });

describe("handing a conversation on", () => {
  test("an agent hands their own to a colleague from the session's team, within capacity", async () => {
    const f = team();
    render(<AssignBox c={conv(1, { assignee_id: ME.id })} />);
    const picker = (await screen.findByLabelText("Hand over to")) as HTMLSelectElement;
    await waitFor(() => expect(picker.options.length).toBe(5));
    expect(f.mock.calls.some((c) => String(c[0]).startsWith("/api/sessions/default/members"))).toBe(true);
    const opts = [...picker.options].map((o) => [o.textContent, o.disabled]);
    expect(opts).toEqual([
      ["Choose a colleague…", false],
      ["Nobody (back to the queue)", false],
      ["Bea (online · 2/5)", false],
      ["Cid (away · 3/3)", true],
      ["Mo Manager (offline · 0 open)", false],
    ]);
    fireEvent.change(picker, { target: { value: "8" } });
    fireEvent.click(screen.getByRole("button", { name: "Transfer" }));
    await waitFor(() => expect(session.live.commands.length).toBe(1));
    expect(session.live.commands[0]).toEqual({
      type: "conversation.assign",
      data: { conversation_id: 1, assignee_id: 8, note: undefined },
    });
  });

  test("an agent only takes an unassigned one; the names come from the session's team", async () => {
    team();
    render(<AssignBox c={conv(1, { assignee_id: null })} />);
    expect(await screen.findByRole("button", { name: "Take it" })).toBeTruthy();
    expect(screen.queryByLabelText("Hand over to")).toBeNull();
    cleanup();
    render(<AssignBox c={conv(2, { assignee_id: 8 })} />);
    await waitFor(() => expect(screen.getByTestId("assignee").textContent).toBe("Bea"));
  });

  test("a supervisor assigns anyone of the session, past capacity too", async () => {
    session.me.value = { id: 1, email: "mo@example.com", name: "Mo Manager", role: "manager" } as User;
    team();
    render(<AssignBox c={conv(1, { assignee_id: 8 })} />);
    const picker = (await screen.findByLabelText("Assign to")) as HTMLSelectElement;
    await waitFor(() => expect(picker.options.length).toBe(5));
    const cid = [...picker.options].find((o) => o.value === "9")!;
    expect(cid.disabled).toBe(false);
    expect([...picker.options].some((o) => o.value === "8")).toBe(false);
  });
});

describe("bot messages", () => {
  test("carry their bot's name", () => {
    act(() => {
      render(
        <div>
          <Bubble m={{ ...msg(1, { direction: "out", bot_id: 4 }), bot_name: "Front desk" } as never} onRetry={() => {}} />
          <Bubble m={msg(2, { direction: "out", bot_id: 5 })} onRetry={() => {}} />
        </div>,
      );
    });
    expect(screen.getByText("🤖 Front desk")).toBeTruthy();
    expect(screen.getByText("🤖 Bot")).toBeTruthy();
  });
});
