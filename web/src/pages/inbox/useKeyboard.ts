// The inbox's single-key shortcuts, never while one types in a field.

import { useEffect, useRef } from "preact/hooks";

interface Keys {
  next: (delta: 1 | -1) => void;
  resolve: () => void;
  search: () => void;
}

export function typingIn(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

export function useKeyboard(keys: Keys) {
  // The latest handlers, without re-subscribing on every render.
  const ref = useRef(keys);
  ref.current = keys;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target)) return;
      const k = ref.current;
      if (e.key === "j") k.next(1);
      else if (e.key === "k") k.next(-1);
      else if (e.key === "e") k.resolve();
      else if (e.key === "/") k.search();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
