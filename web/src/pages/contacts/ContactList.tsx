import { useEffect, useState } from "preact/hooks";
import { get, getAll, withQuery, type Page, type Query } from "../../api/http";
import { onLink } from "../../lib/router";
import { live, me } from "../../state/session";
import { usePages } from "../../lib/usePages";
import { canWriteContacts, displayName, type Contact, type Segment } from "./types";
import type { Schema } from "./useSchema";

export interface Filters {
  q: string;
  tag: string;
  type: string;
  segment_id: string;
  opted_out: string;
  spend_min: string;
  spend_max: string;
  last_message_after: string;
  last_message_before: string;
  conversations_min: string;
  /** A declared attribute and the value it must equal (the `filter` parameter). */
  attr: string;
  attr_value: string;
}

export const EMPTY: Filters = {
  q: "",
  tag: "",
  type: "",
  segment_id: "",
  opted_out: "",
  spend_min: "",
  spend_max: "",
  last_message_after: "",
  last_message_before: "",
  conversations_min: "",
  attr: "",
  attr_value: "",
};

/** datetime-local ("2026-01-05T09:30", local time) → the RFC 3339 instant the API takes. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The filters as `GET /api/contacts` takes them; an empty input is no filter. */
export function toQuery(f: Filters, schema: Pick<Schema, "attributes">): Query {
  const attr = schema.attributes.find((a) => a.name === f.attr);
  let filter: string | undefined;
  if (attr && f.attr_value.trim() !== "") {
    const text = f.attr_value.trim();
    const value =
      attr.type === "number" && /^[+-]?\d+(\.\d+)?$/.test(text) ? Number(text) : attr.type === "boolean" ? text === "true" : text;
    filter = JSON.stringify({ all: [{ field: `attributes.${attr.name}`, op: "eq", value }] });
  }
  return {
    q: f.q.trim(),
    tag: f.tag.trim(),
    type: f.type,
    segment_id: f.segment_id,
    opted_out: f.opted_out,
    spend_min: f.spend_min.trim(),
    spend_max: f.spend_max.trim(),
    last_message_after: instant(f.last_message_after),
    last_message_before: instant(f.last_message_before),
    conversations_min: f.conversations_min.trim(),
    filter,
  };
}

/** The CSV of the contacts the applied filters hold (`GET /api/contacts/export`, the list's parameters). */
export const exportHref = (f: Filters, schema: Pick<Schema, "attributes">) => withQuery("/api/contacts/export", toQuery(f, schema));

/** The filters a link may carry (`/contacts?segment_id=3`, `?tag=vip`). */
function fromLocation(): Filters {
  const p = new URLSearchParams(typeof location === "undefined" ? "" : location.search);
  return { ...EMPTY, tag: p.get("tag") ?? "", type: p.get("type") ?? "", segment_id: p.get("segment_id") ?? "", q: p.get("q") ?? "" };
}

// Preact types `type` per kind of input; a type chosen at run time is one of them.
const inputType = (kind: string) => (kind === "number" ? "number" : kind === "date" ? "date" : "text") as "text";

const when = (ms: number | null) => (ms ? new Date(ms).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "—");

/** The contacts the viewer may see, filtered in the database, a page at a time. */
export function ContactList({ schema }: { schema: Schema }) {
  const [draft, setDraft] = useState<Filters>(fromLocation);
  const [applied, setApplied] = useState<Filters>(draft);
  const [segments, setSegments] = useState<Segment[]>([]);
  // Contacts changed since the list was read: offered as a refresh rather than done under
  // the reader's eyes (a reload drops the pages read so far).
  const [stale, setStale] = useState(false);
  const { items, cursor, busy, error, load } = usePages((after) =>
    get<Page<Contact>>("/api/contacts", { ...toQuery(applied, schema), limit: 50, cursor: after }),
  );
  const reload = () => {
    setStale(false);
    void load(null);
  };
  useEffect(reload, [applied]);
  useEffect(() => {
    getAll<Segment>("/api/segments").then(setSegments, () => {});
    const offs = [live.on("resync", reload), live.on("contact.updated", () => setStale(true))];
    return () => offs.forEach((off) => off());
  }, []);

  const input = (k: keyof Filters) => ({
    value: draft[k],
    onInput: (e: Event) => setDraft((d) => ({ ...d, [k]: (e.currentTarget as HTMLInputElement).value })),
    onChange: (e: Event) => setDraft((d) => ({ ...d, [k]: (e.currentTarget as HTMLInputElement).value })),
  });
  const attr = schema.attributes.find((a) => a.name === draft.attr);

  return (
    <section aria-label="Contact list">
      <form
        class="card contacts-filters"
        aria-label="Filter contacts"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...draft });
        }}
      >
        <label class="contacts-q">
          Search
          <input type="search" {...input("q")} placeholder="Name, number, email, notes" />
        </label>
        <label>
          Tag
          <input {...input("tag")} size={10} />
        </label>
        <label>
          Type
          <select {...input("type")}>
            <option value="">any</option>
            {schema.types.map((t) => (
              <option value={t.name}>{t.label || t.name}</option>
            ))}
          </select>
        </label>
        <label>
          Segment
          <select {...input("segment_id")}>
            <option value="">any</option>
            {segments.map((s) => (
              <option value={String(s.id)}>{s.name}</option>
            ))}
          </select>
        </label>
        <label>
          Spend from
          <input type="number" min="0" step="any" {...input("spend_min")} size={6} />
        </label>
        <label>
          Spend to
          <input type="number" min="0" step="any" {...input("spend_max")} size={6} />
        </label>
        <label>
          Last interaction after
          <input type="datetime-local" {...input("last_message_after")} />
        </label>
        <label>
          Last interaction before
          <input type="datetime-local" {...input("last_message_before")} />
        </label>
        <label>
          Min. conversations
          <input type="number" min="0" step="1" {...input("conversations_min")} size={4} />
        </label>
        <label>
          Consent
          <select {...input("opted_out")}>
            <option value="">any</option>
            <option value="false">not opted out</option>
            <option value="true">opted out</option>
          </select>
        </label>
        {schema.attributes.length > 0 && (
          <label>
            Attribute
            <select {...input("attr")}>
              <option value="">—</option>
              {schema.attributes.map((a) => (
                <option value={a.name}>{a.label || a.name}</option>
              ))}
            </select>
          </label>
        )}
        {attr && (
          <label>
            {`${attr.label || attr.name} is`}
            {attr.type === "choice" || attr.type === "boolean" ? (
              <select {...input("attr_value")}>
                <option value="">—</option>
                {(attr.type === "boolean" ? ["true", "false"] : attr.choices).map((c) => (
                  <option value={c}>{c}</option>
                ))}
              </select>
            ) : (
              <input type={inputType(attr.type)} {...input("attr_value")} />
            )}
          </label>
        )}
        <div class="row contacts-filter-buttons">
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
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {stale && (
        <p class="notice row" role="status" data-testid="contacts-stale">
          Contacts changed since this list was read.
          <button type="button" class="small" onClick={reload}>
            Refresh
          </button>
        </p>
      )}
      {canWriteContacts(me.value!.role) && (
        <div class="row contacts-list-actions">
          <a class="button" href={exportHref(applied, schema)} download="contacts.csv" data-testid="export-list">
            Export CSV
          </a>
        </div>
      )}
      <div class="contacts-table-wrap">
        <table class="contacts-table" aria-label="Contacts">
          <thead>
            <tr>
              <th>Name</th>
              <th>Phone</th>
              <th>Type</th>
              <th>Tags</th>
              <th>Spend</th>
              <th>Last interaction</th>
              <th>Session</th>
            </tr>
          </thead>
          <tbody>
            {items.map((c) => (
              <tr data-testid="contact-row" data-id={c.id}>
                <td data-label="Name">
                  <a href={`/contacts/${c.id}`} onClick={(e) => onLink(e, `/contacts/${c.id}`)}>
                    {displayName(c)}
                  </a>
                  {c.opted_out && <span class="chip contacts-optout">opted out</span>}
                </td>
                <td data-label="Phone">{c.phone ?? "—"}</td>
                <td data-label="Type">{c.type ?? "—"}</td>
                <td data-label="Tags">
                  {c.tags.map((t) => (
                    <span class="chip">{t}</span>
                  ))}
                </td>
                <td data-label="Spend">{c.lifetime_spend ? c.lifetime_spend.toFixed(2) : "—"}</td>
                <td data-label="Last interaction">{when(c.last_message_at)}</td>
                <td data-label="Session">{c.session}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {!busy && items.length === 0 && !error && <p class="muted">No contact matches.</p>}
      {cursor && (
        <button type="button" disabled={busy} onClick={() => void load(cursor)}>
          {busy ? "Loading…" : "More contacts"}
        </button>
      )}
    </section>
  );
}
