import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import { ACTIVE, ConversationListPane } from "./ConversationList";
import { ConversationList, matches } from "./listStore";
import { conv, ME, mockFetch, session } from "./testkit";
import type { ListFilter } from "./types";
import { useInboxList } from "./useInboxList";

vi.mock("../../state/session", async () => (await import("./testkit")).session);

const ALL: ListFilter = { view: "all", session: "", status: "", tag: "", q: "" };

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function Harness({ filter = ALL, onOpen = () => {} }: { filter?: ListFilter; onOpen?: (id: number) => void }) {
  const l = useInboxList(filter);
  return (
    <ConversationListPane
      filter={filter}
      onFilter={() => {}}
      store={l.store}
      counts={l.counts}
      sessions={[]}
      selectedId={null}
      onOpen={onOpen}
      onNearEnd={() => void l.loadMore()}
      loading={l.loading}
      error={l.error}
    />
  );
}

const names = () => screen.queryAllByTestId("conversation").map((r) => r.querySelector(".inbox-name")!.textContent);

describe("the conversation list", () => {
  test("renders a bounded number of rows for 10,000 conversations", () => {
    const store = new ConversationList();
    store.reset(Array.from({ length: 10_000 }, (_, i) => conv(i + 1)));
    render(
      <ConversationListPane
        filter={ALL}
        onFilter={() => {}}
        store={store}
        counts={null}
        sessions={[]}
        selectedId={null}
        onOpen={() => {}}
        onNearEnd={() => {}}
        loading={false}
        error={null}
      />,
    );
    const rows = screen.getAllByTestId("conversation");
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(40);
    // Newest activity on top, and the listbox still tells assistive tech the whole size.
    expect(rows[0]!.textContent).toContain("Customer 10000");
    expect(rows[0]!.getAttribute("aria-setsize")).toBe("10000");
    expect(screen.getByRole("listbox", { name: "Conversations" })).toBeTruthy();
  });

  test("a live update moves a conversation to the top, shows its unread badge, and a removal drops it", async () => {
    mockFetch({
      "GET /api/conversations": () => ({ items: [conv(3), conv(2), conv(1)], next_cursor: null }),
      "GET /api/conversations/counts": () => ({ mine: 0, unassigned: 3, by_status: { bot: 0, pending: 0, open: 3, resolved: 0 } }),
    });
    render(<Harness />);
    await waitFor(() => expect(names()).toEqual(["Customer 3", "Customer 2", "Customer 1"]));
    expect(screen.queryByTestId("unread")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("count-unassigned").textContent).toBe("3"));

    act(() => session.live.emit("conversation.updated", conv(1, { unread: 2, last_message_at: 1_800_000_000_000 })));
    expect(names()).toEqual(["Customer 1", "Customer 3", "Customer 2"]);
    const badge = screen.getByTestId("unread");
    expect(badge.textContent).toBe("2");
    expect(badge.getAttribute("aria-label")).toBe("2 unread");

    act(() => session.live.emit("message.created", { ...conv(2), conversation_id: 2, text: "new words", created_at: 1_900_000_000_000, revoked: false }));
    expect(names()[0]).toBe("Customer 2");
    expect(screen.getAllByTestId("conversation")[0]!.textContent).toContain("new words");

    act(() => session.live.emit("conversation.removed", { conversation_id: 3, reason: "reassigned", assignee_id: 9 }));
    expect(names()).toEqual(["Customer 2", "Customer 1"]);

    act(() => session.live.emit("counts.updated", { mine: 1, unassigned: 1, by_status: { bot: 0, pending: 0, open: 2, resolved: 0 } }));
    expect(screen.getByTestId("count-unassigned").textContent).toBe("1");
  });

  test("in 'mine', a conversation assigned to someone else leaves, and one assigned to me joins", async () => {
    const fetch = mockFetch({
      "GET /api/conversations": () => ({ items: [conv(2, { assignee_id: ME.id }), conv(1, { assignee_id: ME.id })], next_cursor: null }),
      "GET /api/conversations/counts": () => ({ mine: 2, unassigned: 0, by_status: { bot: 0, pending: 0, open: 2, resolved: 0 } }),
    });
    render(<Harness filter={{ ...ALL, view: "mine" }} />);
    await waitFor(() => expect(names()).toEqual(["Customer 2", "Customer 1"]));
    expect(String(fetch.mock.calls[0]![0])).toContain(`assignee_id=${ME.id}`);
    act(() => session.live.emit("conversation.updated", conv(2, { assignee_id: 99 })));
    expect(names()).toEqual(["Customer 1"]);
    act(() => session.live.emit("conversation.updated", conv(5, { assignee_id: ME.id })));
    expect(names()).toEqual(["Customer 5", "Customer 1"]);
  });

  test("after resync_required the list is read again", async () => {
    let served = [conv(1)];
    mockFetch({
      "GET /api/conversations": () => ({ items: served, next_cursor: null }),
      "GET /api/conversations/counts": () => ({ mine: 0, unassigned: 1, by_status: { bot: 0, pending: 0, open: 1, resolved: 0 } }),
    });
    render(<Harness />);
    await waitFor(() => expect(names()).toEqual(["Customer 1"]));
    served = [conv(9), conv(1)];
    act(() => session.live.emit("resync", { seq: 50 }));
    await waitFor(() => expect(names()).toEqual(["Customer 9", "Customer 1"]));
  });

  test("clicking a row opens it", async () => {
    mockFetch({
      "GET /api/conversations": () => ({ items: [conv(4)], next_cursor: null }),
      "GET /api/conversations/counts": () => ({ mine: 0, unassigned: 1, by_status: { bot: 0, pending: 0, open: 1, resolved: 0 } }),
    });
    const opened: number[] = [];
    render(<Harness onOpen={(id) => opened.push(id)} />);
    await waitFor(() => expect(names()).toEqual(["Customer 4"]));
    fireEvent.click(screen.getByTestId("conversation"));
    expect(opened).toEqual([4]);
  });
});

describe("the list store", () => {
  test("keeps newest first through many moves without a full sort", () => {
    const s = new ConversationList();
    s.reset(Array.from({ length: 1000 }, (_, i) => conv(i + 1)));
    for (let k = 0; k < 200; k++) {
      const id = 1 + ((k * 37) % 1000);
      s.upsert({ ...s.get(id)!, last_message_at: 1_800_000_000_000 + k }, true);
      expect(s.items[0]!.id).toBe(id);
    }
    for (let i = 1; i < s.items.length; i++) expect(s.items[i - 1]!.last_message_at >= s.items[i]!.last_message_at).toBe(true);
    expect(s.size).toBe(1000);
  });

  test("a row past the loaded end waits for its page, and a page does not duplicate a moved row", () => {
    const s = new ConversationList();
    s.reset([conv(10), conv(9)], "cursor");
    s.upsert(conv(1), true);
    expect(s.items.map((c) => c.id)).toEqual([10, 9]);
    s.upsert(conv(8, { last_message_at: 1_900_000_000_000 }), true);
    s.appendPage([conv(8), conv(7)], null);
    expect(s.items.map((c) => c.id)).toEqual([8, 10, 9, 7]);
  });

  test("the active view asks for every status but resolved; a resolved one leaving it drops out", async () => {
    const f = mockFetch({
      "GET /api/conversations": () => ({ items: [conv(1, { status: "pending" }), conv(2, { status: "bot" })], next_cursor: null }),
      "GET /api/conversations/counts": () => ({ mine: 0, unassigned: 2, by_status: { bot: 1, pending: 1, open: 0, resolved: 5 } }),
    });
    const picked: ListFilter[] = [];
    function Pane() {
      const filter = { ...ALL, status: ACTIVE };
      const l = useInboxList(filter);
      return (
        <ConversationListPane
          filter={filter}
          onFilter={(x) => picked.push(x)}
          store={l.store}
          counts={l.counts}
          sessions={[]}
          selectedId={null}
          onOpen={() => {}}
          onNearEnd={() => {}}
          loading={l.loading}
          error={l.error}
        />
      );
    }
    render(<Pane />);
    await waitFor(() => expect(names()).toEqual(["Customer 2", "Customer 1"]));
    const asked = new URL(f.mock.calls.find((c) => String(c[0]).startsWith("/api/conversations?"))![0], "http://x");
    expect(asked.searchParams.get("status")).toBe("bot,pending,open");
    const select = screen.getByLabelText("Status") as HTMLSelectElement;
    expect(select.value).toBe(ACTIVE);
    expect(select.selectedOptions[0]!.textContent).toBe("Active");
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "Active",
      "bot",
      "pending",
      "open",
      "resolved",
      "Any status",
    ]);
    fireEvent.change(select, { target: { value: "" } });
    expect(picked.at(-1)?.status).toBe("");
    act(() => session.live.emit("conversation.updated", conv(1, { status: "resolved" })));
    await waitFor(() => expect(names()).toEqual(["Customer 2"]));
  });

  test("matching: views, status, and what only the server can judge", () => {
    expect(matches(conv(1, { assignee_id: 3 }), { ...ALL, view: "unassigned" }, 7)).toBe(false);
    expect(matches(conv(1, { status: "resolved" }), { ...ALL, status: "open" }, 7)).toBe(false);
    // A status list (the "Active" default): any of them.
    expect(matches(conv(1, { status: "pending" }), { ...ALL, status: "bot,pending,open" }, 7)).toBe(true);
    expect(matches(conv(1, { status: "resolved" }), { ...ALL, status: "bot,pending,open" }, 7)).toBe(false);
    expect(matches(conv(1), { ...ALL, tag: "vip" }, 7)).toBe("unknown");
    expect(matches(conv(1), { ...ALL, q: "customer 1" }, 7)).toBe(true);
  });
});
