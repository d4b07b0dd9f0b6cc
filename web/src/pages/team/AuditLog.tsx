import { useEffect, useState } from "preact/hooks";
import { get, withQuery, type Page, type Query } from "../../api/http";
import { usePages } from "../../lib/usePages";
import type { AuditItem, Member } from "./types";

interface Filters {
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  session: string;
  from: string;
  to: string;
}
const EMPTY: Filters = { actor_id: "", action: "", target_type: "", target_id: "", session: "", from: "", to: "" };
const TARGETS = ["member", "session", "conversation", "contact", "message", "bot", "trigger"];

/** datetime-local ("2026-01-05T09:30", local time) → the RFC 3339 instant the API takes. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

const toQuery = (f: Filters): Query => ({
  actor_id: f.actor_id,
  action: f.action.trim(),
  target_type: f.target_type,
  target_id: f.target_id.trim(),
  session: f.session,
  from: instant(f.from),
  to: instant(f.to),
});

function change(item: AuditItem): string {
  const after = item.after ?? {};
  const before = item.before ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${k in before ? JSON.stringify(before[k]) : "—"} → ${k in after ? JSON.stringify(after[k]) : "—"}`)
    .join("; ");
}

/** Who changed what, newest first, filtered as the API allows, a page at a time. */
export function AuditLog({ members, sessionNames }: { members: Member[]; sessionNames: string[] }) {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const { items, cursor, busy, error, load } = usePages((after) =>
    get<Page<AuditItem>>("/api/audit-log", { ...toQuery(applied), limit: 50, cursor: after }),
  );
  useEffect(() => void load(null), [applied]);

  const input = (k: keyof Filters) => ({
    value: draft[k],
    onInput: (e: Event) => setDraft((d) => ({ ...d, [k]: (e.currentTarget as HTMLInputElement).value })),
  });
  const who = (id: number | null | undefined, email: string | null | undefined) =>
    id == null ? (email ?? "system") : (members.find((m) => m.id === id)?.name ?? email ?? `#${id}`);

  return (
    <section class="team-audit" aria-label="Audit log">
      <form
        class="card team-audit-filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <label>
          Who
          <select {...input("actor_id")} onChange={input("actor_id").onInput}>
            <option value="">anyone</option>
            {members.map((m) => (
              <option value={String(m.id)}>{m.name}</option>
            ))}
          </select>
        </label>
        <label>
          Action
          <input {...input("action")} placeholder="e.g. member.create" />
        </label>
        <label>
          Target
          <select {...input("target_type")} onChange={input("target_type").onInput}>
            <option value="">any</option>
            {TARGETS.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Target id
          <input {...input("target_id")} size={8} />
        </label>
        <label>
          Session
          <select {...input("session")} onChange={input("session").onInput}>
            <option value="">any</option>
            {sessionNames.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" {...input("from")} />
        </label>
        <label>
          To
          <input type="datetime-local" {...input("to")} />
        </label>
        <div class="row team-audit-buttons">
          <button type="submit" class="primary">
            Filter
          </button>
          <button
            type="button"
            class="ghost"
            onClick={() => {
              setDraft(EMPTY);
              setApplied(EMPTY);
            }}
          >
            Clear
          </button>
          <a href={withQuery("/api/audit-log", { ...toQuery(applied), format: "csv", limit: 200 })} download="audit-log.csv">
            CSV
          </a>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table class="team-table team-audit-table" aria-label="Audit entries">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>Action</th>
            <th>Target</th>
            <th>Change</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr data-testid="audit-row">
              <td data-label="When">{new Date(i.at).toLocaleString([], { dateStyle: "short", timeStyle: "medium" })}</td>
              <td data-label="Who">
                {who(i.actor_id, i.actor_email)}
                <span class="muted team-via"> via {i.via}</span>
              </td>
              <td data-label="Action">
                <code>{i.action}</code>
              </td>
              <td data-label="Target">
                {i.target_type}
                {i.target_id ? ` ${i.target_id}` : ""}
              </td>
              <td data-label="Change" class="team-audit-change">
                {change(i)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!busy && items.length === 0 && !error && <p class="muted">Nothing logged matches.</p>}
      {cursor && (
        <button type="button" disabled={busy} onClick={() => void load(cursor)}>
          {busy ? "Loading…" : "Older entries"}
        </button>
      )}
    </section>
  );
}
