// Beside the thread (below it on a phone): the contact, their other conversations, notes,
// assignment and why.

import { useEffect, useState } from "preact/hooks";
import { get, type Page } from "../../api/http";
import type { Conversation } from "../../api/types";
import { navigate } from "../../lib/router";
import { phoneOf, shortTime } from "../../lib/format";
import { addNote } from "./actions";
import { AssignBox } from "./AssignBox";
import { memberName } from "./members";
import type { Assignment, ConversationDetail, Note } from "./types";
import { assignedWhy, handoffs, HANDOFF, RULES } from "./why";

export function SidePanel({ c, notes }: { c: ConversationDetail; notes: Note[] }) {
  const contact = c.contact;
  return (
    <aside class="inbox-side" aria-label="Conversation details">
      <section class="inbox-side-section">
        <h2>{contact?.name || contact?.push_name || c.title || phoneOf(c.chat_id)}</h2>
        <p class="muted">{contact?.phone ?? phoneOf(c.chat_id)}</p>
        {contact && contact.tags.length > 0 && (
          <div class="row" aria-label="Tags">
            {contact.tags.map((t) => (
              <span class="chip">{t}</span>
            ))}
          </div>
        )}
        {contact && Object.keys(contact.attributes ?? {}).length > 0 && (
          <dl class="inbox-attrs">
            {Object.entries(contact.attributes).map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
              </>
            ))}
          </dl>
        )}
      </section>
      <section class="inbox-side-section">
        <h3>Assignment</h3>
        <AssignBox c={c} />
        <Why c={c} />
      </section>
      <section class="inbox-side-section">
        <h3>Private notes</h3>
        <NoteBox id={c.id} />
        <ul class="inbox-notes">
          {[...notes].reverse().map((n) => (
            <li>
              <span class="muted">
                {n.author_name ?? memberName(n.author_id)} · {shortTime(n.created_at)}
              </span>
              <p>{n.text}</p>
            </li>
          ))}
        </ul>
      </section>
      {c.contact_id !== null && <Past c={c} />}
    </aside>
  );
}

function NoteBox({ id }: { id: number }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      class="stack"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!text.trim()) return;
        setError(null);
        try {
          await addNote(id, text.trim());
          setText("");
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <textarea
        rows={2}
        aria-label="Add a private note"
        placeholder="A note for the team (never sent to the customer)"
        value={text}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <button type="submit" class="small" disabled={!text.trim()}>
        Add note
      </button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

// Whoever sees the conversation reads its assignment log, so the why survives a reload;
// the socket's `conversation.assigned` fills in until the log is read.
function Why({ c }: { c: Conversation }) {
  const [log, setLog] = useState<Assignment[] | null>(null);
  useEffect(() => {
    let stale = false;
    get<Page<Assignment>>(`/api/conversations/${c.id}/assignments`, { limit: 200 })
      .then((p) => !stale && setLog(p.items))
      .catch(() => !stale && setLog(null));
    return () => {
      stale = true;
    };
  }, [c.id, c.assignee_id]);

  const told = assignedWhy.value[c.id];
  const handoff = handoffs.value[c.id];
  const last = log?.[log.length - 1];
  const lines: string[] = [];
  if (last) {
    lines.push(`${last.reason}${last.by_user_id !== null ? ` by ${memberName(last.by_user_id)}` : ""} · ${shortTime(last.at)}`);
    if (last.detail?.rule) lines.push(`Rule: ${RULES[last.detail.rule] ?? last.detail.rule}`);
  } else if (told && told.assignee_id === c.assignee_id) {
    lines.push(`Rule: ${RULES[told.rule] ?? told.rule}`);
  }
  const handoffReason = handoff?.reason ?? told?.handoff_reason ?? last?.detail?.handoff_reason;
  if (handoffReason) lines.push(`Handed over by the bot: ${HANDOFF[handoffReason] ?? handoffReason}`);
  if (!lines.length) return null;
  return (
    <div class="inbox-why" data-testid="why">
      {lines.map((l) => (
        <p class="muted">{l}</p>
      ))}
    </div>
  );
}

function Past({ c }: { c: Conversation }) {
  const [items, setItems] = useState<Conversation[]>([]);
  useEffect(() => {
    let stale = false;
    get<Page<Conversation>>("/api/conversations", { contact_id: c.contact_id, limit: 10 })
      .then((p) => !stale && setItems(p.items.filter((x) => x.id !== c.id && x.contact_id === c.contact_id)))
      .catch(() => !stale && setItems([]));
    return () => {
      stale = true;
    };
  }, [c.id, c.contact_id]);
  if (!items.length) return null;
  return (
    <section class="inbox-side-section">
      <h3>Other conversations</h3>
      <ul class="inbox-past">
        {items.map((x) => (
          <li>
            <a href={`/inbox/${x.id}`} onClick={(e) => (e.preventDefault(), navigate(`/inbox/${x.id}`))}>
              {x.session} · {x.status} · {shortTime(x.last_message_at)}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
