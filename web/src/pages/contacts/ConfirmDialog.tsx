import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

/**
 * A modal question before something that cannot be undone (a merge, an erasure). With
 * `typed`, the confirm button waits until that text is typed: a second, deliberate step
 * for what destroys data.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  typed,
  busy = false,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  typed?: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const [text, setText] = useState("");
  const first = useRef<HTMLInputElement & HTMLButtonElement>(null);
  useEffect(() => {
    first.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onCancel();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const ready = typedMatches(typed, text) && !busy;
  return (
    <div class="contacts-dialog-backdrop">
      <div class="card contacts-dialog" role="dialog" aria-modal="true" aria-label={title}>
        <h2>{title}</h2>
        <div>{children}</div>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (ready) onConfirm();
          }}
        >
          {typed !== undefined && (
            <label>
              {`Type ${typed} to confirm`}
              <input ref={first} value={text} autoComplete="off" onInput={(e) => setText(e.currentTarget.value)} />
            </label>
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <div class="row contacts-dialog-buttons">
            <button type="submit" class="danger" disabled={!ready}>
              {busy ? "Working…" : confirmLabel}
            </button>
            <button type="button" class="ghost" ref={typed === undefined ? first : undefined} onClick={onCancel}>
              Cancel
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}

/** Whether the typed confirmation matches (spaces around it do not count). */
export const typedMatches = (expected: string | undefined, got: string) => expected === undefined || got.trim() === expected;
