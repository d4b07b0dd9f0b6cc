import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/preact";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Message } from "../../api/types";
import { Bubble } from "./Bubble";
import { msg, ME, mockFetch, session } from "./testkit";
import { Thread } from "./Thread";
import { useThread } from "./useThread";

vi.mock("../../state/session", async () => (await import("./testkit")).session);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  session.live.sent = [];
  session.live.commands = [];
});

const base = {
  notes: [],
  complete: true,
  loading: false,
  error: null,
  contactTyping: false,
  agentsTyping: [],
  viewers: [],
  meId: ME.id,
  contactName: "Carla",
  onOlder: () => {},
  onRetry: () => {},
};

describe("bubbles", () => {
  test("show a tick per delivery status, read in its own colour", () => {
    const statuses = ["pending", "sent", "delivered", "read", "played", "failed"] as const;
    render(
      <div>
        {statuses.map((s, i) => (
          <Bubble m={msg(i + 1, { direction: "out", status: s, author_id: ME.id })} onRetry={() => {}} />
        ))}
      </div>,
    );
    const ticks = screen.getAllByTestId("ticks");
    expect(ticks.map((t) => [t.dataset.status, t.textContent, t.getAttribute("aria-label")])).toEqual([
      ["pending", "🕓", "Sending"],
      ["sent", "✓", "Sent"],
      ["delivered", "✓✓", "Delivered"],
      ["read", "✓✓", "Read"],
      ["played", "✓✓", "Played"],
      ["failed", "!", "Failed"],
    ]);
    expect(ticks[3]!.className).toContain("inbox-ticks-read");
    expect(ticks[2]!.className).not.toContain("inbox-ticks-read");
    // Outgoing bubbles say who wrote them.
    expect(screen.getAllByText("You").length).toBe(6);
  });

  test("incoming messages carry no ticks; a revoked one says it was deleted", () => {
    render(<Bubble m={msg(1, { revoked: true, text: "secret" })} onRetry={() => {}} />);
    expect(screen.queryByTestId("ticks")).toBeNull();
    expect(screen.getByText("This message was deleted")).toBeTruthy();
    expect(screen.queryByText("secret")).toBeNull();
  });

  test("a failed send offers Retry", () => {
    const retried: Message[] = [];
    const m = msg(5, { direction: "out", status: "failed", author_id: ME.id });
    render(<Bubble m={m} onRetry={(x) => retried.push(x)} />);
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(retried).toEqual([m]);
  });

  test("media: images inline, audio with a player, other files as a download, reactions below", () => {
    render(
      <div>
        <Bubble m={msg(1, { media: { url: "x", mimetype: "image/jpeg", filename: "p.jpg" } })} onRetry={() => {}} />
        <Bubble m={msg(2, { media: { url: "x", mimetype: "audio/ogg", filename: null } })} onRetry={() => {}} />
        <Bubble
          m={msg(3, { media: { url: "x", mimetype: "application/pdf", filename: "bill.pdf" }, reactions: [{ sender: "a", emoji: "👍" }] })}
          onRetry={() => {}}
        />
      </div>,
    );
    expect(screen.getByRole("img", { name: "p.jpg" }).getAttribute("src")).toBe("/api/messages/1/media");
    expect(document.querySelector("audio")!.getAttribute("src")).toBe("/api/messages/2/media");
    expect(screen.getByText(/bill\.pdf/).closest("a")!.getAttribute("href")).toBe("/api/messages/3/media");
    expect(screen.getByLabelText("Reactions").textContent).toBe("👍");
  });
});

describe("the thread", () => {
  test("separates days, and shows notes in line", () => {
    const day1 = new Date(2026, 0, 5, 10, 0).getTime();
    const day2 = new Date(2026, 0, 6, 9, 0).getTime();
    render(
      <Thread
        {...base}
        messages={[msg(1, { created_at: day1 }), msg(2, { created_at: day1 + 60_000 }), msg(3, { created_at: day2 })]}
        notes={[{ id: 1, conversation_id: 1, author_id: 3, author_name: "Max", text: "VIP customer", created_at: day1 + 120_000 }]}
      />,
    );
    expect(screen.getAllByTestId("day-separator").length).toBe(2);
    const order = Array.from(document.querySelectorAll("[data-testid=message],[data-testid=note],[data-testid=day-separator]")).map(
      (e) => e.getAttribute("data-testid"),
    );
    expect(order).toEqual(["day-separator", "message", "message", "note", "day-separator", "message"]);
  });

  test("shows the customer typing and who else is viewing", () => {
    render(<Thread {...base} messages={[]} contactTyping viewers={[{ user_id: ME.id, name: "Ann" }, { user_id: 9, name: "Bob" }]} />);
    expect(screen.getByTestId("typing").textContent).toBe("Carla is typing…");
    expect(screen.getByTestId("viewers").textContent).toContain("Bob");
    expect(screen.getByTestId("viewers").textContent).not.toContain("Ann");
  });
});

function Live({ id }: { id: number }) {
  const t = useThread(id);
  return (
    <Thread {...base} {...t} onRetry={(m) => void t.retry(m)} onOlder={() => void t.loadOlder()}>
      <button type="button" onClick={() => void t.send("hi there")}>
        send
      </button>
    </Thread>
  );
}

describe("the live thread", () => {
  test("a send shows at once as pending and the hub's echo replaces it; a retry of a stored failure asks the hub", async () => {
    const fetch = mockFetch({
      "GET /api/conversations/1/messages": () => ({ items: [msg(2, { direction: "out", status: "failed", author_id: ME.id }), msg(1)], next_cursor: null }),
      "GET /api/conversations/1/notes": () => ({ items: [], next_cursor: null }),
      "POST /api/messages/2/retry": () => msg(2, { direction: "out", status: "pending", author_id: ME.id }),
    });
    render(<Live id={1} />);
    await waitFor(() => expect(screen.getAllByTestId("message").length).toBe(2));
    expect(session.live.sent).toContainEqual({ type: "conversation.view", data: { conversation_id: 1 } });

    fireEvent.click(screen.getByRole("button", { name: "send" }));
    await waitFor(() => expect(screen.getAllByTestId("message").length).toBe(3));
    const cmd = session.live.commands.find((c) => c.type === "message.send")!;
    expect(cmd.data.text).toBe("hi there");
    const pending = screen.getAllByTestId("message")[2]!;
    expect(pending.querySelector("[data-testid=ticks]")!.getAttribute("data-status")).toBe("pending");

    act(() =>
      session.live.emit("message.created", msg(3, { direction: "out", status: "sent", text: "hi there", client_id: cmd.data.client_id, author_id: ME.id })),
    );
    const rows = screen.getAllByTestId("message");
    expect(rows.length).toBe(3);
    expect(rows[2]!.getAttribute("data-message-id")).toBe("3");
    expect(rows[2]!.querySelector("[data-testid=ticks]")!.getAttribute("data-status")).toBe("sent");

    act(() => session.live.emit("message.updated", msg(3, { direction: "out", status: "read", text: "hi there", author_id: ME.id })));
    expect(screen.getAllByTestId("ticks").at(-1)!.getAttribute("data-status")).toBe("read");

    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(screen.queryByRole("button", { name: "Retry" })).toBeNull());
    expect(fetch.mock.calls.some(([u, i]) => String(u).endsWith("/api/messages/2/retry") && i?.method === "POST")).toBe(true);
  });

  test("with the socket down, the send goes over HTTP with the same client_id", async () => {
    const { CommandError } = await import("../../live/socket");
    session.live.onCommand = async () => {
      throw new CommandError("unavailable", "down");
    };
    let posted: any = null;
    mockFetch({
      "GET /api/conversations/1/messages": () => ({ items: [], next_cursor: null }),
      "GET /api/conversations/1/notes": () => ({ items: [], next_cursor: null }),
      "POST /api/conversations/1/messages": (_u, init) => {
        posted = JSON.parse(String(init!.body));
        return msg(10, { direction: "out", status: "pending", text: posted.text, client_id: posted.client_id });
      },
    });
    render(<Live id={1} />);
    await waitFor(() => expect(session.live.sent).toContainEqual({ type: "conversation.view", data: { conversation_id: 1 } }));
    fireEvent.click(screen.getByRole("button", { name: "send" }));
    await waitFor(() => expect(screen.getByTestId("message").getAttribute("data-message-id")).toBe("10"));
    expect(posted.client_id).toBe(session.live.commands.at(-1)!.data.client_id);
    session.live.onCommand = async () => ({ type: "ack", seq: null, data: {} });
  });
});
