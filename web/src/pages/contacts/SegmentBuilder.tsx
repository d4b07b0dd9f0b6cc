import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, patch, post } from "../../api/http";
import { reasonOf } from "../../api/fieldErrors";
import {
  changeField,
  changeOp,
  clauseOfError,
  fieldSpecs,
  isGroup,
  newClause,
  newGroup,
  OP_LABELS,
  toFilter,
  valueKind,
  type Draft,
  type DraftClause,
  type DraftItem,
  type FieldSpec,
} from "./clauses";
import { live } from "../../state/session";
import type { AttributeDef, SegmentView } from "./types";

/** How long the builder waits after an edit before it asks for the count. */
export const PREVIEW_DELAY_MS = 300;

interface Props {
  attributes: AttributeDef[];
  /** The segment being edited; absent: a new one. */
  segment?: SegmentView;
  initial: Draft;
  canWrite: boolean;
  onSaved: (s: SegmentView) => void;
  onCancel?: () => void;
}

type Count = { state: "idle" } | { state: "counting" } | { state: "ok"; count: number } | { state: "error"; message: string };

function ValueInput({ spec, clause, n, onValue }: { spec: FieldSpec; clause: DraftClause; n: string; onValue: (v: string) => void }) {
  const kind = valueKind(spec, clause.op);
  const label = `Clause ${n} value`;
  if (kind === "none") return <span class="muted contacts-novalue">—</span>;
  if (kind === "boolean")
    return (
      <select aria-label={label} value={clause.value} onChange={(e) => onValue(e.currentTarget.value)}>
        <option value="true">yes</option>
        <option value="false">no</option>
      </select>
    );
  if ((kind === "consent" || (kind === "text" && spec.choices?.length)) && spec.choices)
    return (
      <select aria-label={label} value={clause.value} onChange={(e) => onValue(e.currentTarget.value)}>
        <option value="">—</option>
        {spec.choices.map((c) => (
          <option value={c}>{c}</option>
        ))}
      </select>
    );
  const type = kind === "number" || kind === "days" ? "number" : kind === "time" ? "datetime-local" : kind === "date" ? "date" : "text";
  return (
    <input
      aria-label={label}
      type={type as "text"}
      step={type === "number" ? "any" : undefined}
      value={clause.value}
      placeholder={kind === "list" ? "a, b, c" : undefined}
      onInput={(e) => onValue(e.currentTarget.value)}
    />
  );
}

/** One clause's row: field, op, value, remove; `n` is its number as shown ("2", "3.1"). */
function ClauseRow({
  specs,
  c,
  n,
  incomplete,
  err,
  onChange,
  onRemove,
}: {
  specs: FieldSpec[];
  c: DraftClause;
  n: string;
  incomplete: boolean;
  err: string | null;
  onChange: (c: DraftClause) => void;
  onRemove: () => void;
}) {
  const spec = specs.find((s) => s.field === c.field) ?? { field: c.field, label: c.field, ops: [c.op], kind: "text" as const };
  return (
    <li class={`contacts-clause ${err ? "contacts-clause-error" : ""}`} data-testid={`clause-${n}`}>
      <select aria-label={`Clause ${n} field`} value={c.field} onChange={(e) => onChange(changeField(c, specs.find((s) => s.field === e.currentTarget.value)!, specs))}>
        {specs.map((s) => (
          <option value={s.field}>{s.label}</option>
        ))}
      </select>
      <select aria-label={`Clause ${n} op`} value={c.op} onChange={(e) => onChange(changeOp(c, spec, e.currentTarget.value))}>
        {spec.ops.map((o) => (
          <option value={o}>{OP_LABELS[o] ?? o}</option>
        ))}
      </select>
      <ValueInput spec={spec} clause={c} n={n} onValue={(value) => onChange({ ...c, value })} />
      <button type="button" class="ghost small" aria-label={`Remove clause ${n}`} onClick={onRemove}>
        ✕
      </button>
      {incomplete && <span class="muted small-note">(not counted until it has a value)</span>}
      {err && (
        <p class="error" role="alert" data-testid={`clause-error-${n}`}>
          {err}
        </p>
      )}
    </li>
  );
}

/** The label of a row's number: its key ("2", "2.1") counted from one. */
const shown = (key: string) =>
  key
    .split(".")
    .map((k) => String(Number(k) + 1))
    .join(".");

/**
 * Clauses (field, op, value) joined by all/any, and groups of clauses joined inside them, with the count the hub's preview gives for
 * them as they are edited; save creates or updates the segment. A 422 goes on the clause
 * it names.
 */
export function SegmentBuilder({ attributes, segment, initial, canWrite, onSaved, onCancel }: Props) {
  const specs = useMemo(() => fieldSpecs(attributes), [attributes]);
  const [draft, setDraft] = useState<Draft>(initial);
  const [name, setName] = useState(segment?.name ?? "");
  const [count, setCount] = useState<Count>({ state: "idle" });
  const [clauseError, setClauseError] = useState<{ at: string; message: string } | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const built = useMemo(() => toFilter(draft, specs), [draft, specs]);
  const asked = useRef(0);
  // A contact created, changed or deleted anywhere may change the count: ask again.
  const [changes, setChanges] = useState(0);
  useEffect(() => live.on("contact.updated", () => setChanges((n) => n + 1)), []);

  /** The hub's 422 about `filter.<join>[i]` (or `[i].<join>[j]`), put on the draft row behind it. */
  const placeError = (e: unknown): boolean => {
    if (!(e instanceof ApiError)) return false;
    const at = clauseOfError(e.field);
    if (at === null || built.index[at] === undefined) return false;
    setClauseError({ at: built.index[at], message: reasonOf(e.message, e.field!) });
    return true;
  };

  useEffect(() => {
    const ask = ++asked.current;
    setCount({ state: "counting" });
    const t = setTimeout(async () => {
      try {
        const r = await post<{ count: number }>("/api/segments/preview", { filter: built.filter });
        if (ask !== asked.current) return;
        setClauseError(null);
        setCount({ state: "ok", count: r.count });
      } catch (e) {
        if (ask !== asked.current) return;
        setCount({ state: "error", message: (e as Error).message });
        if (!placeError(e)) setClauseError(null);
      }
    }, PREVIEW_DELAY_MS);
    return () => clearTimeout(t);
  }, [JSON.stringify(built.filter), changes]);

  const setItem = (i: number, c: DraftItem) => setDraft((d) => ({ ...d, clauses: d.clauses.map((x, j) => (j === i ? c : x)) }));
  const removeItem = (i: number) => setDraft((d) => ({ ...d, clauses: d.clauses.filter((_, j) => j !== i) }));
  const row = (c: DraftClause, key: string, onChange: (c: DraftClause) => void, onRemove: () => void) => (
    <ClauseRow
      specs={specs}
      c={c}
      n={shown(key)}
      incomplete={built.incomplete.includes(key)}
      err={clauseError?.at === key ? clauseError.message : null}
      onChange={onChange}
      onRemove={onRemove}
    />
  );

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFormError(null);
    try {
      const body = { name: name.trim(), filter: built.filter };
      onSaved(segment ? await patch<SegmentView>(`/api/segments/${segment.id}`, body) : await post<SegmentView>("/api/segments", body));
    } catch (err) {
      if (!placeError(err)) setFormError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card contacts-builder" aria-label={segment ? `Edit segment ${segment.name}` : "New segment"} onSubmit={save} noValidate>
      <div class="row contacts-builder-head">
        <label>
          Segment name
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} disabled={!canWrite} />
        </label>
        <label>
          Contacts matching
          <select value={draft.join} onChange={(e) => setDraft((d) => ({ ...d, join: e.currentTarget.value as Draft["join"] }))}>
            <option value="all">all clauses</option>
            <option value="any">any clause</option>
          </select>
        </label>
        <output class="contacts-live-count" data-testid="live-count" data-state={count.state} aria-live="polite">
          {count.state === "ok"
            ? `${count.count} contact${count.count === 1 ? "" : "s"}`
            : count.state === "counting"
              ? "Counting…"
              : count.state === "error"
                ? "No count"
                : ""}
        </output>
      </div>
      <ol class="contacts-clauses">
        {draft.clauses.map((item, i) => {
          if (!isGroup(item)) return row(item, String(i), (c) => setItem(i, c), () => removeItem(i));
          const g = item;
          const n = i + 1;
          return (
            <li class="contacts-group" data-testid={`group-${n}`}>
              <div class="row">
                <label>
                  {`Group ${n}: contacts matching`}
                  <select aria-label={`Group ${n} join`} value={g.join} onChange={(e) => setItem(i, { ...g, join: e.currentTarget.value as Draft["join"] })}>
                    <option value="all">all of</option>
                    <option value="any">any of</option>
                  </select>
                </label>
                <button type="button" class="ghost small" aria-label={`Remove group ${n}`} onClick={() => removeItem(i)}>
                  ✕ group
                </button>
              </div>
              <ol class="contacts-clauses">
                {g.clauses.map((c, j) =>
                  row(
                    c,
                    `${i}.${j}`,
                    (x) => setItem(i, { ...g, clauses: g.clauses.map((y, k) => (k === j ? x : y)) }),
                    () => (g.clauses.length > 1 ? setItem(i, { ...g, clauses: g.clauses.filter((_, k) => k !== j) }) : removeItem(i)),
                  ),
                )}
              </ol>
              <button type="button" class="small" onClick={() => setItem(i, { ...g, clauses: [...g.clauses, newClause(specs[0])] })}>
                {`+ Add clause to group ${n}`}
              </button>
            </li>
          );
        })}
      </ol>
      {count.state === "error" && !clauseError && (
        <p class="error" role="alert">
          {count.message}
        </p>
      )}
      <div class="row">
        <button type="button" onClick={() => setDraft((d) => ({ ...d, clauses: [...d.clauses, newClause(specs[0])] }))}>
          + Add clause
        </button>
        <button type="button" onClick={() => setDraft((d) => ({ ...d, clauses: [...d.clauses, newGroup(d.join, specs[0])] }))}>
          {draft.join === "all" ? "+ Add an any-of group" : "+ Add an all-of group"}
        </button>
        {canWrite ? (
          <button type="submit" class="primary" disabled={busy || !name.trim()}>
            {segment ? "Save segment" : "Create segment"}
          </button>
        ) : (
          <span class="muted">Agents read segments but do not save them.</span>
        )}
        {onCancel && (
          <button type="button" class="ghost" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      {formError && (
        <p class="error" role="alert" data-testid="segment-error">
          {formError}
        </p>
      )}
    </form>
  );
}
