// Path routing over the History API; the hub serves the app for each of these paths.

import { signal } from "@preact/signals";

export const path = signal(typeof location === "undefined" ? "/" : location.pathname);

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (to === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  path.value = location.pathname;
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => (path.value = location.pathname));
}

/** `/inbox/12` against `/inbox/:id` → `{id: "12"}`; null when it does not match. */
export function match(pattern: string, p: string): Record<string, string> | null {
  const a = pattern.split("/").filter(Boolean);
  const b = p.split("/").filter(Boolean);
  if (a.length !== b.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(":")) out[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return out;
}

/** A link that routes in the app (and still opens a new tab on a middle click). */
export function onLink(e: MouseEvent, to: string) {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(to);
}
