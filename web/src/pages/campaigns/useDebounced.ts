// Ask the hub after a pause in typing, and keep only the newest answer.

import { useEffect, useRef, useState } from "preact/hooks";

export type Asked<T> = { state: "idle" } | { state: "asking" } | { state: "ok"; value: T } | { state: "error"; error: unknown };

/** `ask()` `delayMs` after `key` last changed; null from `ask` means nothing to ask (idle). */
export function useDebounced<T>(key: string, ask: () => Promise<T> | null, delayMs = 300): Asked<T> {
  const [out, setOut] = useState<Asked<T>>({ state: "idle" });
  const n = useRef(0);
  const fn = useRef(ask);
  fn.current = ask;
  useEffect(() => {
    const mine = ++n.current;
    const t = setTimeout(async () => {
      const p = fn.current();
      if (!p) return setOut({ state: "idle" });
      setOut({ state: "asking" });
      try {
        const value = await p;
        if (mine === n.current) setOut({ state: "ok", value });
      } catch (error) {
        if (mine === n.current) setOut({ state: "error", error });
      }
    }, delayMs);
    return () => clearTimeout(t);
  }, [key]);
  return out;
}
