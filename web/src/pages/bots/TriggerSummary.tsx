import { triggerLine } from "./figures";
import { MATCH_KINDS, type Trigger } from "./types";

interface Props {
  trigger: Trigger;
  rank: number;
  matched: boolean;
  figures?: { matches: number; handoffs: number };
  first: boolean;
  last: boolean;
  busy: boolean;
  open: boolean;
  onDragStart: (e: DragEvent) => void;
  onDragEnd: () => void;
  onMove: (dir: "up" | "down") => void;
  onToggle: () => void;
  onDelete: () => void;
}

const ACTION_LABEL: Record<string, string> = {
  reply: "reply",
  reply_and_handoff: "reply + hand off",
  handoff: "hand off",
  add_tag: "add tag",
  set_contact_field: "set field",
};

export function describeMatch(t: Trigger): string {
  return t.match === "any_keyword" ? t.keywords.join(", ") : t.pattern ?? "";
}

/** One trigger's line: what it matches and does, and its controls. The line is what one drags. */
export function TriggerSummary(p: Props) {
  const t = p.trigger;
  const kind = MATCH_KINDS.find((m) => m.value === t.match)?.label ?? t.match;
  const what = describeMatch(t);
  // The position keeps two triggers with the same pattern apart for screen readers.
  const name = `trigger ${p.rank} “${what}”`;
  return (
    <div class="bots-trigger-head" draggable={!p.busy} onDragStart={p.onDragStart} onDragEnd={p.onDragEnd} data-testid={`trigger-head-${t.id}`}>
      <span class="bots-handle" aria-hidden="true" title="Drag to reorder">
        ⠿
      </span>
      <span class="bots-rank" aria-label={`Position ${p.rank}`}>
        {p.rank}
      </span>
      <div class="bots-trigger-what">
        <div>
          <span class="muted">{kind}</span> <code class="bots-pattern">{what}</code>{" "}
          <span class="chip">{ACTION_LABEL[t.action] ?? t.action}</span>
          {!t.active && <span class="chip bots-off">inactive</span>}
          {p.matched && <span class="badge bots-matched-badge">matched</span>}
        </div>
        {t.response && <div class="muted bots-response-snippet">{t.response}</div>}
        {p.figures && (
          <div class="muted bots-trigger-figures">
            {triggerLine(p.figures)}
          </div>
        )}
      </div>
      <div class="row bots-trigger-actions">
        <button type="button" class="ghost small" data-move="up" data-for={t.id} aria-label={`Move ${name} up`} disabled={p.first} onClick={() => p.onMove("up")}>
          ↑
        </button>
        <button type="button" class="ghost small" data-move="down" data-for={t.id} aria-label={`Move ${name} down`} disabled={p.last} onClick={() => p.onMove("down")}>
          ↓
        </button>
        <button type="button" class="small" aria-expanded={p.open} aria-label={`${p.open ? "Close" : "Edit"} ${name}`} onClick={p.onToggle}>
          {p.open ? "Close" : "Edit"}
        </button>
        <button type="button" class="small danger" aria-label={`Delete ${name}`} onClick={p.onDelete}>
          Delete
        </button>
      </div>
    </div>
  );
}
