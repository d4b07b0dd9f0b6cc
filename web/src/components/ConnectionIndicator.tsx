import { live } from "../state/session";

const LABEL = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
} as const;

/** Always visible: whether events are arriving live, and that a drop is being resumed. */
export function ConnectionIndicator() {
  const s = live.state.value;
  const tries = live.attempts.value;
  return (
    <span class={`link link-${s}`} role="status" aria-live="polite" data-testid="connection" data-state={s}>
      <span class="dot" aria-hidden="true" />
      {LABEL[s]}
      {s === "reconnecting" && tries > 1 ? ` (${tries})` : ""}
    </span>
  );
}
