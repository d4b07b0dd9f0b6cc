import { describe, expect, test, vi } from "vitest";
import { Live, type SocketLike } from "./socket";

class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((ev: any) => void) | null = null;
  onmessage: ((ev: { data: any }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: any) => void) | null = null;
  sent: any[] = [];
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.drop(1000);
  }
  open(seq: number) {
    this.readyState = 1;
    this.onopen?.({});
    this.frame({ type: "hello", seq, data: { seq, user: {}, node: "n1" } });
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

function harness() {
  const sockets: FakeSocket[] = [];
  const live = new Live({
    url: (since) => (since === null ? "/ws" : `/ws?since=${since}`),
    open: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    backoff: [0],
  });
  const seen: number[] = [];
  live.on("message.created", (f) => seen.push(f.seq!));
  return { live, sockets, seen };
}

describe("Live", () => {
  test("resumes after a drop with the last seq it saw, and ignores anything at or below it", async () => {
    vi.useFakeTimers();
    const { live, sockets, seen } = harness();
    live.start();
    expect(sockets[0].url).toBe("/ws");
    sockets[0].open(10);
    expect(live.state.value).toBe("live");
    sockets[0].frame({ type: "message.created", seq: 11, data: {} });
    sockets[0].frame({ type: "message.created", seq: 12, data: {} });
    sockets[0].drop();
    expect(live.state.value).toBe("reconnecting");
    await vi.runAllTimersAsync();
    expect(sockets[1].url).toBe("/ws?since=12");
    sockets[1].open(12);
    sockets[1].frame({ type: "message.created", seq: 12, data: {} });
    sockets[1].frame({ type: "message.created", seq: 13, data: {} });
    expect(seen).toEqual([11, 12, 13]);
    expect(live.state.value).toBe("live");
    vi.useRealTimers();
  });

  test("resync_required moves to the hub's seq and tells the pages to reload", () => {
    const { live, sockets } = harness();
    const resyncs: number[] = [];
    live.on("resync", (f) => resyncs.push(f.data.seq));
    live.start();
    sockets[0].open(5);
    sockets[0].frame({ type: "resync_required", seq: null, data: { seq: 900 } });
    expect(resyncs).toEqual([900]);
    expect(live.seq).toBe(900);
  });

  test("a command resolves on its ack and rejects with the hub's error", async () => {
    const { live, sockets } = harness();
    live.start();
    sockets[0].open(1);
    const ok = live.command("presence.set", { status: "busy" });
    const bad = live.command("conversation.resolve", { conversation_id: 9 });
    const [a, b] = sockets[0].sent;
    sockets[0].frame({ type: "ack", seq: null, data: { ref: a.ref } });
    sockets[0].frame({ type: "error", seq: null, data: { ref: b.ref, code: "not_found", message: "no such conversation" } });
    await expect(ok).resolves.toMatchObject({ type: "ack" });
    await expect(bad).rejects.toMatchObject({ code: "not_found" });
  });

  test("commands fail at once while the link is down instead of hanging", async () => {
    const { live } = harness();
    await expect(live.command("presence.set", { status: "away" })).rejects.toMatchObject({ code: "unavailable" });
  });
});
