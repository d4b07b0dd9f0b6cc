import type { SessionRow } from "./types";
import { useNow, waitLabel } from "./useNow";

/** Each session's unassigned queue; the oldest wait counts up locally from `oldest_waiting_since`. */
export function QueueList({ sessions }: { sessions: SessionRow[] }) {
  const waiting = sessions.some((s) => s.oldest_waiting_since !== null);
  const now = useNow(1000, waiting);
  if (sessions.length === 0) return <p class="muted">No sessions on this board.</p>;
  return (
    <ul class="board-queues" aria-label="Queues">
      {[...sessions]
        .sort((a, b) => a.session.localeCompare(b.session))
        .map((s) => {
          const since = s.oldest_waiting_since;
          const wait = since === null ? null : (now - since) / 1000;
          const level = wait === null ? "" : wait >= 600 ? "board-wait-long" : wait >= 120 ? "board-wait-mid" : "";
          return (
            <li class="board-queue" data-testid={`queue-${s.session}`}>
              <div class="board-queue-name">
                <strong>{s.session}</strong>
                <span class="muted">{s.open} open</span>
              </div>
              <div class="board-queue-stats">
                <span class="board-queue-count" data-testid="queue-unassigned" aria-label={`${s.unassigned} waiting`}>
                  {s.unassigned}
                  <span class="muted"> waiting</span>
                </span>
                <span class={`board-queue-wait ${level}`} data-testid="queue-wait">
                  {wait === null ? <span class="muted">nobody waiting</span> : <>oldest {waitLabel(wait)}</>}
                </span>
              </div>
            </li>
          );
        })}
    </ul>
  );
}
