import { useEffect, useRef, useState } from "preact/hooks";
import { del, getAll } from "../../api/http";
import { onLink } from "../../lib/router";
import { live } from "../../state/session";
import { fieldSpecs, fromFilter, newClause, type Draft } from "./clauses";
import { SegmentBuilder } from "./SegmentBuilder";
import type { SegmentView } from "./types";
import type { Schema } from "./useSchema";

type Editing = { kind: "new" } | { kind: "edit"; segment: SegmentView } | null;

/** The saved segments with their current counts, and the builder. */
export function Segments({ schema, canWrite }: { schema: Schema; canWrite: boolean }) {
  const [segments, setSegments] = useState<SegmentView[] | null>(null);
  const [editing, setEditing] = useState<Editing>({ kind: "new" });
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  // The counts come with the list (`include=count`: the hub counts each now).
  const load = async () => {
    try {
      setSegments(await getAll<SegmentView>("/api/segments", { include: "count" }));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
    // Counts move with contacts and segments: read again, at most every half second.
    const later = () => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => void load(), 500);
    };
    const offs = [live.on("contact.updated", later), live.on("segment.updated", later), live.on("resync", later)];
    return () => {
      clearTimeout(timer.current);
      offs.forEach((off) => off());
    };
  }, []);

  const specs = fieldSpecs(schema.attributes);
  const initial = (): Draft | null =>
    editing?.kind === "edit" ? fromFilter(editing.segment.filter, specs) : { join: "all", clauses: [newClause(specs[0])] };
  const draft = initial();

  return (
    <section class="contacts-segments" aria-label="Segments">
      <div>
        {editing && draft && (
          <SegmentBuilder
            key={editing.kind === "edit" ? `s${editing.segment.id}` : `new-${schema.attributes.length}`}
            attributes={schema.attributes}
            segment={editing.kind === "edit" ? editing.segment : undefined}
            initial={draft}
            canWrite={canWrite}
            onSaved={(s) => {
              setSegments((l) => [...(l ?? []).filter((x) => x.id !== s.id), s].sort((a, b) => a.id - b.id));
              setEditing({ kind: "edit", segment: s });
            }}
            onCancel={editing.kind === "edit" ? () => setEditing({ kind: "new" }) : undefined}
          />
        )}
        {editing && !draft && (
          <p class="notice">This segment nests groups inside groups; the builder edits clauses and one level of groups. Its filter: {JSON.stringify(editing.kind === "edit" && editing.segment.filter)}</p>
        )}
      </div>
      <div class="card">
        <h2>Saved segments</h2>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {segments === null && !error && <p class="muted">Loading…</p>}
        {segments?.length === 0 && <p class="muted">No segment yet.</p>}
        <ul class="contacts-segment-list">
          {segments?.map((s) => (
            <li data-testid="segment-row" data-id={s.id}>
              <button type="button" class="ghost contacts-segment-name" onClick={() => setEditing({ kind: "edit", segment: s })}>
                {s.name}
              </button>
              <span class="badge" data-testid="segment-count">
                {s.count}
              </span>
              <a href={`/contacts?segment_id=${s.id}`} onClick={(e) => onLink(e, `/contacts?segment_id=${s.id}`)}>
                contacts
              </a>
              {canWrite && (
                <a class="button small" href={`/api/segments/${s.id}/export`} download={`segment-${s.id}.csv`} aria-label={`Export segment ${s.name} as CSV`}>
                  CSV
                </a>
              )}
              {canWrite && (
                <button
                  type="button"
                  class="ghost small danger"
                  aria-label={`Delete segment ${s.name}`}
                  onClick={async () => {
                    try {
                      await del(`/api/segments/${s.id}`);
                      setSegments((l) => (l ?? []).filter((x) => x.id !== s.id));
                      if (editing?.kind === "edit" && editing.segment.id === s.id) setEditing({ kind: "new" });
                    } catch (e) {
                      setError((e as Error).message);
                    }
                  }}
                >
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
        <button type="button" onClick={() => setEditing({ kind: "new" })}>
          New segment
        </button>
      </div>
    </section>
  );
}
