import { signal } from "@preact/signals";
import type { Presence } from "../api/types";
import { myPresence, setPresence } from "../state/session";

const CHOICES: Presence[] = ["online", "away", "busy"];
const error = signal<string | null>(null);

/** One's own presence: online hands it back to the hub's rules; away and busy stay until changed. */
export function PresenceSwitch() {
  const current = myPresence.value;
  return (
    <label class="presence-switch">
      <span class={`presence-dot p-${current}`} aria-hidden="true" />
      <span class="sr-only">My presence</span>
      <select
        data-testid="presence-switch"
        value={CHOICES.includes(current) ? current : ""}
        onChange={async (e) => {
          const status = (e.currentTarget as HTMLSelectElement).value as Presence;
          error.value = null;
          try {
            await setPresence(status);
          } catch (err) {
            error.value = (err as Error).message;
          }
        }}
        title={error.value ?? undefined}
      >
        {!CHOICES.includes(current) && <option value="">{current}</option>}
        {CHOICES.map((c) => (
          <option value={c}>{c[0].toUpperCase() + c.slice(1)}</option>
        ))}
      </select>
    </label>
  );
}
