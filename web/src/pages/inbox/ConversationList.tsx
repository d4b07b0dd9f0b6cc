// The left column: views with their counts, filters, search, and the virtualised list.

import type { Ref } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Conversation, Counts } from "../../api/types";
import { initials, phoneOf, shortTime } from "../../lib/format";
import type { ConversationList as Store } from "./listStore";
import { memberName } from "./members";
import type { ListFilter, SessionInfo, View } from "./types";
import { VirtualList } from "./VirtualList";

export const ROW_HEIGHT = 72;

const VIEWS: { view: View; label: string }[] = [
  { view: "mine", label: "Mine" },
  { view: "unassigned", label: "Unassigned" },
  { view: "all", label: "All" },
];

const STATUSES = ["bot", "pending", "open", "resolved"] as const;

/** The status filter's default: every status but resolved (`?status=` takes a list). */
export const ACTIVE = "bot,pending,open";

export const titleOf = (c: Conversation) => c.title || phoneOf(c.chat_id);

function countOf(v: View, counts: Counts | null): number | null {
  if (!counts) return null;
  if (v === "mine") return counts.mine;
  if (v === "unassigned") return counts.unassigned;
  const s = counts.by_status;
  return s ? s.bot + s.pending + s.open : null;
}

interface Props {
  filter: ListFilter;
  onFilter: (f: ListFilter) => void;
  store: Store;
  counts: Counts | null;
  sessions: SessionInfo[];
  selectedId: number | null;
  onOpen: (id: number) => void;
  onNearEnd: () => void;
  loading: boolean;
  error: string | null;
  searchRef?: Ref<HTMLInputElement>;
}

export function ConversationListPane(p: Props) {
  const { filter } = p;
  const [text, setText] = useState(filter.q);
  // Searching waits for a pause in typing: one request per thought, not per key.
  useEffect(() => {
    if (text === filter.q) return;
    const t = setTimeout(() => p.onFilter({ ...filter, q: text.trim() }), 250);
    return () => clearTimeout(t);
  }, [text]);

  p.store.version.value; // re-render on every list change
  const items = p.store.items;
  const selectedIndex = p.selectedId === null ? -1 : items.findIndex((c) => c.id === p.selectedId);

  return (
    <section class="inbox-list" aria-label="Conversations">
      <div class="inbox-views" role="tablist" aria-label="Views">
        {VIEWS.map(({ view, label }) => {
          const n = countOf(view, p.counts);
          return (
            <button
              type="button"
              role="tab"
              aria-selected={filter.view === view}
              class={filter.view === view ? "inbox-view active" : "inbox-view"}
              data-testid={`view-${view}`}
              onClick={() => p.onFilter({ ...filter, view })}
            >
              {label}
              {n !== null && (
                <span class="inbox-count" data-testid={`count-${view}`}>
                  {n}
                </span>
              )}
            </button>
          );
        })}
      </div>
      <div class="inbox-filters">
        <input
          ref={p.searchRef}
          type="search"
          placeholder="Search name, number or text  ( / )"
          aria-label="Search conversations"
          value={text}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        <div class="row">
          <select
            aria-label="Session"
            value={filter.session}
            onChange={(e) => p.onFilter({ ...filter, session: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">All sessions</option>
            {p.sessions.map((s) => (
              <option value={s.name}>{s.name}</option>
            ))}
          </select>
          <select
            aria-label="Status"
            value={filter.status}
            onChange={(e) => p.onFilter({ ...filter, status: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value={ACTIVE} title="Every status but resolved">Active</option>
            {STATUSES.map((s) => (
              <option value={s}>{s}</option>
            ))}
            <option value="">Any status</option>
          </select>
          <TagFilter value={filter.tag} onChange={(tag) => p.onFilter({ ...filter, tag })} />
        </div>
      </div>
      {p.error && (
        <p class="error inbox-pad" role="alert">
          {p.error}
        </p>
      )}
      {!p.loading && items.length === 0 && !p.error && <p class="muted inbox-pad">No conversations here.</p>}
      <VirtualList
        items={items}
        rowHeight={ROW_HEIGHT}
        label="Conversations"
        class="inbox-rows"
        id="inbox-rows"
        itemKey={(c) => c.id}
        keepVisible={selectedIndex}
        onNearEnd={p.onNearEnd}
        renderRow={(c, i) => (
          <Row c={c} index={i} total={items.length} selected={c.id === p.selectedId} onOpen={p.onOpen} />
        )}
      />
    </section>
  );
}

function TagFilter({ value, onChange }: { value: string; onChange: (t: string) => void }) {
  const [t, setT] = useState(value);
  return (
    <form
      class="inbox-tag"
      onSubmit={(e) => {
        e.preventDefault();
        onChange(t.trim());
      }}
    >
      <input
        aria-label="Tag"
        placeholder="Tag"
        value={t}
        onInput={(e) => setT((e.currentTarget as HTMLInputElement).value)}
        onBlur={() => t.trim() !== value && onChange(t.trim())}
      />
    </form>
  );
}

function Row(p: { c: Conversation; index: number; total: number; selected: boolean; onOpen: (id: number) => void }) {
  const { c } = p;
  const name = titleOf(c);
  return (
    <div
      role="option"
      id={`conv-${c.id}`}
      aria-selected={p.selected}
      aria-setsize={p.total}
      aria-posinset={p.index + 1}
      tabIndex={p.selected ? 0 : -1}
      class={`inbox-row${p.selected ? " selected" : ""}${c.unread > 0 ? " unread" : ""}`}
      data-testid="conversation"
      data-id={c.id}
      onClick={() => p.onOpen(c.id)}
      onKeyDown={(e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          p.onOpen(c.id);
        }
      }}
    >
      <span class="inbox-avatar" aria-hidden="true">
        {initials(name)}
      </span>
      <span class="inbox-row-main">
        <span class="inbox-row-top">
          <span class="inbox-name">{name}</span>
          <time class="muted inbox-time">{shortTime(c.last_message_at)}</time>
        </span>
        <span class="inbox-row-bottom">
          <span class="inbox-preview muted">{c.last_message_preview ?? ""}</span>
          {c.unread > 0 && (
            <span class="badge" data-testid="unread" aria-label={`${c.unread} unread`}>
              {c.unread}
            </span>
          )}
        </span>
        <span class="inbox-row-meta">
          <span class={`chip inbox-status-${c.status}`}>{c.status}</span>
          <span class="muted">{memberName(c.assignee_id)}</span>
          <span class="muted">· {c.session}</span>
        </span>
      </span>
    </div>
  );
}
