// The browser test's window onto the inbox's timings (issue 14's budget): set
// `window.__tickhubPerf = {}` before the app loads and the inbox fills it in. Nothing is
// recorded otherwise.

interface Perf {
  /** performance.now() when each message.created frame was handled, by message id. */
  frames?: Record<number, number>;
  /** performance.now() once the first page of the list was painted, and how many rows it had. */
  listPainted?: number;
  listRows?: number;
}

const perf = (): Perf | undefined => (typeof window === "undefined" ? undefined : (window as any).__tickhubPerf);

export function markFrame(messageId: number) {
  const p = perf();
  if (p) (p.frames ??= {})[messageId] = performance.now();
}

export function markListPainted(rows: number) {
  const p = perf();
  if (!p || p.listPainted !== undefined) return;
  requestAnimationFrame(() => {
    p.listPainted = performance.now();
    p.listRows = rows;
  });
}
