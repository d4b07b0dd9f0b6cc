import { useEffect, useState } from "preact/hooks";
import { post } from "../../api/http";
import { live } from "../../state/session";
import { audienceOf, sessionsOf, type Draft, type Errors } from "./form";
import type { AudienceCount, SegmentRef, UploadedAudience } from "./types";
import { useDebounced } from "./useDebounced";

interface Props {
  draft: Draft;
  set: (d: Partial<Draft>) => void;
  segments: SegmentRef[];
  errors: Errors;
  /** What the list uploaded last did. */
  uploaded?: UploadedAudience | null;
}

const SKIP_LABELS: Record<string, string> = {
  opted_out: "opted out",
  erased: "erased",
  no_number: "without a number",
  duplicate_number: "sharing a number with another",
};

/** "120 will receive it · of 130: 8 opted out, 1 erased, 1 without a number" (the hub's reasons, whichever it gives) */
export function audienceText(a: AudienceCount): string {
  const skipped = Object.entries(a.skipped ?? {})
    .filter(([, n]) => n > 0)
    .map(([why, n]) => `${n} ${SKIP_LABELS[why] ?? why.replace(/_/g, " ")}`);
  const head = `${a.eligible} will receive it`;
  return skipped.length ? `${head} · of ${a.total}: ${skipped.join(", ")}` : `${head} · of ${a.total}`;
}

/** "4 contacts from 7 rows: 2 new, 1 repeated, 2 rows left out" */
export function uploadText(u: UploadedAudience): string {
  const parts = [`${u.created} new`];
  if (u.duplicates) parts.push(`${u.duplicates} repeated`);
  if (u.errors_total) parts.push(`${u.errors_total} ${u.errors_total === 1 ? "row" : "rows"} left out`);
  return `${u.contacts} contacts from ${u.rows} rows: ${parts.join(", ")}`;
}

function UploadField({ draft, set, errors, uploaded }: Omit<Props, "segments">) {
  return (
    <div class="camp-field">
      <label>
        CSV list (a <code>phone</code> column; <code>name</code> and <code>attr.&lt;name&gt;</code> columns fill the message's variables)
        <input
          type="file"
          accept=".csv,text/csv"
          aria-label="CSV list"
          aria-invalid={errors.audience_upload ? true : undefined}
          onChange={async (e) => {
            const f = e.currentTarget.files?.[0];
            if (f) set({ listText: await f.text(), listName: f.name });
          }}
        />
      </label>
      {draft.listName && <span class="muted">{draft.listName}: uploaded when the campaign is saved.</span>}
      {!draft.listText && draft.keptList !== undefined && !uploaded && (
        <span class="muted">Keeps its list of {draft.keptList} contacts; choose a file to replace it.</span>
      )}
      {errors.audience_upload && (
        <span class="error" data-testid="error-audience_upload">
          {errors.audience_upload}
        </span>
      )}
      {uploaded && (
        <div data-testid="upload-result">
          <p>{uploadText(uploaded)}</p>
          {uploaded.errors.length > 0 && (
            <ul class="camp-upload-errors" aria-label="Rows left out">
              {uploaded.errors.map((e) => (
                <li>
                  line {e.line}: {e.field}: {e.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

/** A segment, pasted contact ids or an uploaded list, with the hub's count of who would receive it. */
export function AudiencePicker({ draft, set, segments, errors, uploaded }: Props) {
  // A contact changed anywhere may change who is eligible (an opt-out): ask again.
  const [changes, setChanges] = useState(0);
  useEffect(() => live.on("contact.updated", () => setChanges((n) => n + 1)), []);
  const audience = audienceOf(draft);
  const key = JSON.stringify([draft.session, draft.alsoSessions, audience, changes]);
  const count = useDebounced<AudienceCount>(key, () =>
    audience && draft.session ? post<AudienceCount>("/api/campaigns/audience", { ...sessionsOf(draft), ...audience }) : null,
  );
  return (
    <fieldset class="camp-fieldset" aria-label="Audience">
      <legend>Audience</legend>
      <div class="row">
        <label>
          <input type="radio" name="audience" checked={draft.audience === "segment"} onChange={() => set({ audience: "segment" })} />
          A segment
        </label>
        <label>
          <input type="radio" name="audience" checked={draft.audience === "ids"} onChange={() => set({ audience: "ids" })} />
          Contact ids
        </label>
        <label>
          <input type="radio" name="audience" checked={draft.audience === "upload"} onChange={() => set({ audience: "upload" })} />
          Upload a list
        </label>
      </div>
      {draft.audience === "upload" ? (
        <UploadField draft={draft} set={set} errors={errors} uploaded={uploaded} />
      ) : draft.audience === "segment" ? (
        <label class="camp-field">
          Segment
          <select
            aria-label="Segment"
            value={draft.segmentId === null ? "" : String(draft.segmentId)}
            aria-invalid={errors.segment_id ? true : undefined}
            onChange={(e) => set({ segmentId: e.currentTarget.value ? Number(e.currentTarget.value) : null })}
          >
            <option value="">—</option>
            {segments.map((s) => (
              <option value={String(s.id)}>{s.name}</option>
            ))}
          </select>
          {errors.segment_id && <span class="error" data-testid="error-segment_id">{errors.segment_id}</span>}
        </label>
      ) : (
        <label class="camp-field">
          Contact ids (separated by commas, blanks or lines)
          <textarea
            rows={3}
            value={draft.contactIds}
            aria-invalid={errors.contact_ids ? true : undefined}
            onInput={(e) => set({ contactIds: e.currentTarget.value })}
          />
          {errors.contact_ids && <span class="error" data-testid="error-contact_ids">{errors.contact_ids}</span>}
          {draft.keptIds !== undefined && !draft.contactIds.trim() && (
            <span class="muted">Keeps its {draft.keptIds} contact ids; paste ids to replace them.</span>
          )}
        </label>
      )}
      <output class="camp-audience" data-testid="audience-count" data-state={count.state} aria-live="polite">
        {draft.audience === "upload"
          ? uploaded
            ? audienceText(uploaded.audience)
            : ""
          : count.state === "ok"
          ? audienceText(count.value)
          : count.state === "asking"
            ? "Counting…"
            : count.state === "error"
              ? `No count: ${(count.error as Error).message}`
              : ""}
      </output>
    </fieldset>
  );
}
