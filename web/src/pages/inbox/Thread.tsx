// The open conversation's timeline: history loaded as one scrolls up (keeping one's place),
// held at the bottom while one is there, notes in line, and who else is here.

import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { Message } from "../../api/types";
import { clock, dayKey, dayLabel } from "../../lib/format";
import { Bubble } from "./Bubble";
import { memberName } from "./members";
import { timeline } from "./threadState";
import type { Note } from "./types";
import type { Viewer } from "./useThread";

interface Props {
  messages: Message[];
  notes: Note[];
  complete: boolean;
  loading: boolean;
  error: string | null;
  contactTyping: boolean;
  agentsTyping: number[];
  viewers: Viewer[];
  meId: number;
  contactName: string;
  onOlder: () => void;
  onRetry: (m: Message) => void;
  children?: ComponentChildren;
}

/** Within this many pixels of the bottom counts as "at the bottom". */
const STICK = 48;

export function Thread(p: Props) {
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const before = useRef({ height: 0, top: 0, first: 0 as number | undefined });

  const firstId = p.messages.find((m) => m.id > 0)?.id;

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const b = before.current;
    if (b.first !== undefined && firstId !== undefined && firstId < b.first && !atBottom.current) {
      // Older history came in above: stay on the message one was reading.
      el.scrollTop = b.top + (el.scrollHeight - b.height);
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    before.current = { height: el.scrollHeight, top: el.scrollTop, first: firstId };
  });

  function onScroll() {
    const el = box.current!;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK;
    before.current = { height: el.scrollHeight, top: el.scrollTop, first: firstId };
    if (el.scrollTop < 120 && !p.complete && !p.loading) p.onOlder();
  }

  const items = timeline(p.messages, p.notes, dayKey, p.complete);
  const others = p.viewers.filter((v) => v.user_id !== p.meId);

  return (
    <>
      {others.length > 0 && (
        <div class="inbox-viewers" data-testid="viewers" role="status">
          👀 Also here: {others.map((v) => v.name).join(", ")}
        </div>
      )}
      <div class="inbox-timeline" ref={box} onScroll={onScroll} aria-label="Messages" role="log" aria-live="polite" tabIndex={0}>
        {p.complete && p.messages.length > 0 && <p class="inbox-start muted">Start of the conversation</p>}
        {!p.complete && p.messages.length > 0 && (
          <p class="inbox-start">
            <button type="button" class="ghost small" onClick={p.onOlder}>
              Load earlier messages
            </button>
          </p>
        )}
        {p.error && (
          <p class="error" role="alert">
            {p.error}
          </p>
        )}
        {items.map((it) =>
          it.kind === "day" ? (
            <div class="inbox-day" key={it.key} role="separator" data-testid="day-separator">
              <span>{dayLabel(it.at)}</span>
            </div>
          ) : it.kind === "note" ? (
            <div class="inbox-note" key={it.key} data-testid="note">
              <div class="inbox-author">
                🔒 Private note · {it.n.author_name ?? memberName(it.n.author_id)} · {clock(it.n.created_at)}
              </div>
              <p class="inbox-text">{it.n.text}</p>
            </div>
          ) : (
            <Bubble key={it.key} m={it.m} onRetry={p.onRetry} />
          ),
        )}
      </div>
      <div class="inbox-typing muted" aria-live="polite" data-testid="typing">
        {p.contactTyping ? `${p.contactName} is typing…` : ""}
        {p.agentsTyping.length > 0
          ? `${p.contactTyping ? " · " : ""}${p.agentsTyping.map((id) => p.viewers.find((v) => v.user_id === id)?.name ?? memberName(id)).join(", ")} typing…`
          : ""}
      </div>
      {p.children}
    </>
  );
}
