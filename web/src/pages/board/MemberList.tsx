import { clock, duration } from "../../lib/format";
import { byPresence, load } from "./boardState";
import type { MemberRow } from "./types";

interface Props {
  members: MemberRow[];
  now: number;
  selected: number | null;
  onSelect: (id: number) => void;
}

/** Every member on the board: live presence and open conversations against capacity. */
export function MemberList({ members, now, selected, onSelect }: Props) {
  if (members.length === 0) return <p class="muted">No members on this board.</p>;
  return (
    <ul class="board-members" aria-label="Members">
      {[...members].sort(byPresence).map((m) => {
        const l = load(m);
        const at = m.presence_since;
        return (
          <li>
            <button
              type="button"
              class={`board-member ${selected === m.user_id ? "board-member-selected" : ""}`}
              aria-pressed={selected === m.user_id}
              data-testid={`member-${m.user_id}`}
              data-presence={m.presence}
              data-open={m.open}
              onClick={() => onSelect(m.user_id)}
            >
              <span class="board-member-who">
                <span class={`presence-dot p-${m.presence}`} aria-hidden="true" />
                <span class="board-member-name">{m.name}</span>
                <span class="chip">{m.role}</span>
              </span>
              <span class="board-member-presence" data-testid="member-presence">
                {m.presence}
                {at !== null && (
                  <span class="muted" title={new Date(at).toLocaleString()}>
                    {" "}
                    since {clock(at)} ({duration((now - at) / 1000)})
                  </span>
                )}
              </span>
              <span class={`board-load board-load-${l.level}`}>
                <span class="board-load-text" data-testid="member-open">
                  {m.open}
                  {m.capacity === null ? " open" : ` / ${m.capacity}`}
                  {l.level === "over" ? " · over" : l.level === "full" ? " · full" : ""}
                </span>
                {m.capacity !== null && (
                  <span
                    class="board-bar"
                    role="meter"
                    aria-label={`${m.name}: ${m.open} of ${m.capacity} conversations`}
                    aria-valuemin={0}
                    aria-valuemax={m.capacity}
                    aria-valuenow={m.open}
                  >
                    <span class="board-bar-fill" style={{ width: `${Math.round(l.ratio * 100)}%` }} />
                  </span>
                )}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
