// The agent's websocket (docs/websocket.md): one per tab, resumed with `since` after every
// drop so nothing is missed and nothing arrives twice, `resync_required` turned into a
// "reload your lists" signal, and commands answered by `ack`/`error` with their `ref`.

import { signal } from "@preact/signals";
import type { Frame } from "../api/types";

export type LinkState = "connecting" | "live" | "reconnecting" | "offline";

type Listener = (frame: Frame) => void;

export interface SocketLike {
  readyState: number;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: { data: any }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveOptions {
  url?: (since: number | null) => string;
  open?: (url: string) => SocketLike;
  /** Asked after the socket failed to open twice in a row: is the login still good? */
  checkAuth?: () => Promise<boolean>;
  /** Delays between attempts, in ms; the last one repeats. */
  backoff?: number[];
  commandTimeoutMs?: number;
}

const defaultUrl = (since: number | null) => {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws${since === null ? "" : `?since=${since}`}`;
};

export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Live {
  readonly state = signal<LinkState>("connecting");
  /** The last seq this tab has seen; the next connection resumes after it. */
  seq: number | null = null;
  /** Attempts since the link went down, for the indicator's "reconnecting (n)". */
  readonly attempts = signal(0);

  private ws: SocketLike | null = null;
  private listeners = new Map<string, Set<Listener>>();
  private pending = new Map<string, { resolve: (f: Frame) => void; reject: (e: Error) => void; timer: any }>();
  private nextRef = 1;
  private stopped = true;
  private failedOpens = 0;
  private retryTimer: any = null;
  private opts: Required<LiveOptions>;

  constructor(opts: LiveOptions = {}) {
    this.opts = {
      url: opts.url ?? defaultUrl,
      open: opts.open ?? ((u) => new WebSocket(u) as unknown as SocketLike),
      checkAuth: opts.checkAuth ?? (async () => true),
      backoff: opts.backoff ?? [250, 1000, 2000, 4000, 8000],
      commandTimeoutMs: opts.commandTimeoutMs ?? 10_000,
    };
  }

  /** `type` is an event name, or "*" for every frame; "resync" fires after `resync_required`. */
  on(type: string, f: Listener): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(f);
    return () => set!.delete(f);
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, "signed out");
    this.failAll(new CommandError("unavailable", "signed out"));
    this.state.value = "offline";
  }

  /** Fire and forget (typing, activity): dropped while the link is down, as they are ephemeral. */
  send(type: string, data: unknown = {}) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify({ type, data }));
  }

  /** A command that the hub acknowledges; rejects with the hub's error, or when the link is down. */
  command(type: string, data: unknown): Promise<Frame> {
    if (!this.ws || this.ws.readyState !== 1) {
      return Promise.reject(new CommandError("unavailable", "Not connected; try again in a moment."));
    }
    const ref = `c${this.nextRef++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new CommandError("unavailable", "The hub did not answer in time."));
      }, this.opts.commandTimeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
      this.ws!.send(JSON.stringify({ type, data, ref }));
    });
  }

  private connect() {
    if (this.stopped) return;
    this.state.value = this.seq === null && this.attempts.value === 0 ? "connecting" : "reconnecting";
    let opened = false;
    const ws = this.opts.open(this.opts.url(this.seq));
    this.ws = ws;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let frame: Frame;
      try {
        frame = JSON.parse(typeof ev.data === "string" ? ev.data : "");
      } catch {
        return;
      }
      this.receive(frame);
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failAll(new CommandError("unavailable", "The connection dropped; try again."));
      if (this.stopped) return;
      this.failedOpens = opened ? 0 : this.failedOpens + 1;
      this.state.value = "reconnecting";
      this.attempts.value += 1;
      // A slow client told to resume (1013) loses nothing by coming straight back.
      const delay =
        ev.code === 1013 ? 0 : this.opts.backoff[Math.min(this.attempts.value - 1, this.opts.backoff.length - 1)];
      const retry = () => {
        this.retryTimer = setTimeout(() => this.connect(), delay * (0.75 + Math.random() * 0.5));
      };
      if (this.failedOpens >= 2) {
        // The upgrade is refused with 401 when the login is gone; a browser cannot see
        // the status, so ask over HTTP (which signs out on 401) before trying again.
        this.opts.checkAuth().then((ok) => (ok ? retry() : this.stop()), retry);
      } else retry();
    };
  }

  private receive(frame: Frame) {
    if (frame.type === "hello") {
      if (this.seq === null) this.seq = frame.seq ?? frame.data?.seq ?? 0;
      this.state.value = "live";
      this.attempts.value = 0;
      this.failedOpens = 0;
    } else if (frame.type === "resync_required") {
      this.seq = frame.data?.seq ?? frame.seq ?? this.seq;
    } else if (typeof frame.seq === "number") {
      // The hub never repeats a seq; a frame at or below ours is from before a resume.
      if (this.seq !== null && frame.seq <= this.seq) return;
      this.seq = frame.seq;
    }
    const ref = frame.data?.ref;
    if ((frame.type === "ack" || frame.type === "error") && ref !== undefined && this.pending.has(String(ref))) {
      const p = this.pending.get(String(ref))!;
      this.pending.delete(String(ref));
      clearTimeout(p.timer);
      if (frame.type === "ack") p.resolve(frame);
      else p.reject(new CommandError(frame.data?.code ?? "error", frame.data?.message ?? "The command failed."));
    }
    this.emit(frame.type === "resync_required" ? "resync" : frame.type, frame);
    this.emit("*", frame);
  }

  private emit(type: string, frame: Frame) {
    for (const f of this.listeners.get(type) ?? []) {
      try {
        f(frame);
      } catch (e) {
        console.error(`listener for ${type} failed`, e);
      }
    }
  }

  private failAll(e: Error) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }
}
