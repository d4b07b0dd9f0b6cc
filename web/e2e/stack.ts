// A real tickhub and the WAHA simulator, as separate processes of the binary cargo built,
// on a throwaway SQLite database: what the browser tests drive.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "./ports";
import { startWebFront } from "./webfront";

export const ADMIN = { email: "admin@example.com", password: "s3cret-Passw0rd", name: "Ada Admin" };

export function binary(): string {
  if (process.env.TICKHUB_BIN) return process.env.TICKHUB_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? resolve(__dirname, "../../target");
  return join(target, "debug", "tickhub");
}

/** Starts `args` and waits for its "… listening on <url>" line. */
function start(args: string[], env: NodeJS.ProcessEnv, what: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(binary(), args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d) => {
      stderr += d;
      if (process.env.E2E_LOG) process.stderr.write(`[${what}] ${d}`);
    });
    const timer = setTimeout(() => fail(new Error(`${what} did not start in 30 s:\n${stderr}`)), 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`${what} exited with ${code}:\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = line.match(/listening on (\S+)/);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1].replace(/\/$/, "") });
      }
    });
  });
}

export interface Stack {
  hub: string;
  sim: string;
  /** The admin's bearer token, for arranging things over the API. */
  token: string;
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T>;
  /** A customer writes in through the simulator; answers the WAHA message id. */
  inbound(from: string, body: string, extra?: Record<string, unknown>): Promise<string>;
  /** WAHA reports an ack (1 sent, 2 delivered, 3 read) for an outgoing message. */
  ack(wahaId: string, chatId: string, ack: number): Promise<void>;
  member(email: string, name: string, role: string, sessions?: string[]): Promise<{ id: number; token: string }>;
  /** kill -9 the hub and start it again on the same port and database. */
  restartHub(): Promise<void>;
  /** kill -9 the hub (startHub brings it back). */
  killHub(): Promise<void>;
  startHub(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "tickhub-e2e-"));
  const base = { PATH: process.env.PATH ?? "", RUST_LOG: process.env.E2E_RUST_LOG ?? "warn" };
  const sim = await start(["waha-sim", "--listen", `127.0.0.1:${await freePort()}`], base, "waha-sim");
  const port = await freePort();
  const hubEnv = {
    ...base,
    DATABASE_URL: `sqlite://${join(dir, "hub.db")}?mode=rwc`,
    WAHA_URL: sim.url,
    TICKHUB_BIND: `127.0.0.1:${port}`,
    TICKHUB_LOGIN_RATE_PER_IP: "100000",
    TICKHUB_LOGIN_RATE_PER_ACCOUNT: "100000",
    TICKHUB_PRESENCE_GRACE_SECS: "0",
    ...env,
  };
  let hub = await start(["serve"], hubEnv, "tickhub");
  const created = spawnSync(
    binary(),
    ["create-admin", "--email", ADMIN.email, "--name", ADMIN.name, "--password", ADMIN.password],
    { env: hubEnv, encoding: "utf8" },
  );
  if (created.status !== 0) throw new Error(`create-admin failed: ${created.stderr}`);
  const front = process.env.E2E_WEB_DIST ? await startWebFront(resolve(process.env.E2E_WEB_DIST), () => hub.url) : null;

  async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const res = await fetch(hub.url + path, {
      method,
      headers: {
        "Content-Type": "application/json",
        ...(token || stack.token ? { Authorization: `Bearer ${token ?? stack.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
  async function simPost(path: string, body: unknown) {
    const res = await fetch(sim.url + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sim ${path} → ${res.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  }

  const stack: Stack = {
    hub: front?.url ?? hub.url,
    sim: sim.url,
    token: "",
    api,
    async inbound(from, body, extra = {}) {
      const r = await simPost("/sim/inbound", { from, body, ...extra });
      return r.id;
    },
    async ack(wahaId, chatId, ack) {
      const names: Record<number, string> = { 1: "SERVER", 2: "DEVICE", 3: "READ", 4: "PLAYED" };
      await simPost("/sim/event", {
        event: "message.ack",
        payload: { id: wahaId, from: chatId, to: chatId, participant: null, fromMe: true, ack, ackName: names[ack] },
      });
    },
    async member(email, name, role, sessions = ["default"]) {
      const m = await api<{ id: number }>("POST", "/api/team-members", {
        email,
        name,
        role,
        password: ADMIN.password,
        sessions,
      });
      const login = await api<{ token: string }>("POST", "/api/auth/login", { email, password: ADMIN.password }, "");
      return { id: m.id, token: login.token };
    },
    async killHub() {
      hub.child.removeAllListeners("exit");
      if (hub.child.exitCode === null) {
        const exited = new Promise((r) => hub.child.once("exit", r));
        hub.child.kill("SIGKILL");
        await exited;
      }
    },
    async startHub() {
      hub = await start(["serve"], hubEnv, "tickhub");
    },
    async restartHub() {
      await stack.killHub();
      await stack.startHub();
    },
    async stop() {
      front?.close();
      for (const c of [hub.child, sim.child]) {
        c.removeAllListeners("exit");
        c.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  stack.token = (await api<{ token: string }>("POST", "/api/auth/login", { email: ADMIN.email, password: ADMIN.password }, "")).token;
  await api("POST", "/api/sessions", { name: "default" });
  for (let i = 0; i < 100; i++) {
    const s = await api<{ status: string }>("GET", "/api/sessions/default");
    if (s.status === "WORKING") return stack;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the default session never reached WORKING");
}
