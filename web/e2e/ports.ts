// Ports for the servers a test starts: any the system gives, or, with
// `TICKHUB_TEST_PORTS=LOW-HIGH`, one of that range (as tests/common/proc.rs does for the Rust
// suites: machines where several suites share the ports give each its own range).

import { createServer } from "node:net";

function range(): [number, number] | null {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(process.env.TICKHUB_TEST_PORTS ?? "");
  if (!m) return null;
  const [low, high] = [Number(m[1]), Number(m[2])];
  return low <= high && high < 65536 ? [low, high] : null;
}

/** Whether `port` (0: any) can be bound now; answers the port bound. */
function tryBind(port: number): Promise<number | null> {
  return new Promise((ok) => {
    const s = createServer();
    s.once("error", () => ok(null));
    s.listen(port, "127.0.0.1", () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => ok(bound));
    });
  });
}

/** A port nothing listens on. */
export async function freePort(): Promise<number> {
  const r = range();
  if (!r) {
    const port = await tryBind(0);
    if (port === null) throw new Error("no free port");
    return port;
  }
  const [low, high] = r;
  const span = high - low + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = low + ((start + i) % span);
    if ((await tryBind(port)) !== null) return port;
  }
  throw new Error(`TICKHUB_TEST_PORTS: no free port in ${low}-${high}`);
}
