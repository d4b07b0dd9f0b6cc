import { useEffect } from "preact/hooks";
import { get, type Page } from "../../api/http";
import { usePages } from "../../lib/usePages";
import { live } from "../../state/session";
import type { PresenceEntry, PresenceCause } from "./types";

const CAUSE: Record<PresenceCause, string> = {
  first_socket: "connected",
  last_socket_closed: "last tab closed",
  grace_expired: "disconnected",
  idle: "idle",
  active_again: "active again",
  set_by_member: "set by the member",
  deactivated: "deactivated",
  hub_restart: "hub restarted",
};

/** A member's presence transitions, newest first, a page at a time. */
export function PresenceHistory({ userId, name, onClose }: { userId: number; name: string; onClose: () => void }) {
  const { items, setItems, cursor, busy, error, load: loadPage } = usePages((after) =>
    get<Page<PresenceEntry>>(`/api/team-members/${userId}/presence`, { limit: 20, cursor: after }),
  );

  useEffect(() => {
    setItems([]);
    void loadPage(null);
    // A new transition of this member: the first page again, so it shows with its cause and node.
    return live.on("presence.updated", (f) => {
      if (f.data?.user_id === userId) void loadPage(null);
    });
  }, [userId]);

  return (
    <section class="card board-history" aria-label={`Presence history of ${name}`} data-testid="presence-history">
      <div class="row board-history-head">
        <h2>Presence of {name}</h2>
        <button type="button" class="ghost small" onClick={onClose} aria-label="Close the presence history">
          ✕
        </button>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {items.length === 0 && !busy && !error && <p class="muted">No transitions logged yet.</p>}
      <ol class="board-history-list">
        {items.map((e) => (
          <li data-testid="presence-entry">
            <span class={`presence-dot p-${e.status}`} aria-hidden="true" />
            <strong>{e.status}</strong>
            <span>{CAUSE[e.cause] ?? e.cause}</span>
            <span class="muted board-history-when">
              {new Date(e.at).toLocaleString([], { dateStyle: "medium", timeStyle: "medium" })} ·{" "}
              <span class="board-history-node" title="The hub node that decided it">
                {e.node}
              </span>
            </span>
          </li>
        ))}
      </ol>
      {cursor && (
        <button type="button" class="small" disabled={busy} onClick={() => void loadPage(cursor)}>
          {busy ? "Loading…" : "Older"}
        </button>
      )}
    </section>
  );
}
