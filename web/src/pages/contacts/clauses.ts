// The segment builder's model: clauses (field, op, value as typed) joined by "all" or "any",
// and groups of clauses joined the other way inside them (one level: "all of these, and any
// of those"), turned into the filter grammar of docs/segments.md. The hub validates
// the filter (a 422 names the clause); here only what the inputs need: which ops a field
// takes, what kind of value an op asks for, and the typed JSON value of what was typed.

import type { AttributeDef, Clause, Filter } from "./types";

export type ValueKind = "text" | "number" | "days" | "time" | "date" | "boolean" | "consent" | "list" | "none";

export interface FieldSpec {
  field: string;
  label: string;
  ops: string[];
  /** The kind of value most ops take (`in` takes a list, `exists` none, `within_days` days). */
  kind: ValueKind;
  choices?: string[];
}

const TEXT_OPS = ["contains", "not_contains", "eq", "ne", "exists", "not_exists"];
const NUM_OPS = ["gte", "lte", "gt", "lt", "eq", "ne"];
const TIME_OPS = ["within_days", "not_within_days", "gt", "gte", "lt", "lte"];

export const OP_LABELS: Record<string, string> = {
  eq: "is",
  ne: "is not",
  contains: "contains",
  not_contains: "does not contain",
  in: "is any of",
  exists: "is set",
  not_exists: "is not set",
  gt: "more than",
  gte: "at least",
  lt: "less than",
  lte: "at most",
  within_days: "within the last (days)",
  not_within_days: "not within the last (days)",
};

/** The fields every contact has; declared attributes come after them (`fieldSpecs`). */
export const BASE_FIELDS: FieldSpec[] = [
  { field: "tags", label: "Tag", ops: ["contains", "not_contains", "in", "exists", "not_exists"], kind: "text" },
  { field: "type", label: "Type", ops: ["eq", "ne", "in", "exists", "not_exists"], kind: "text" },
  { field: "name", label: "Name", ops: TEXT_OPS, kind: "text" },
  { field: "phone", label: "Phone", ops: TEXT_OPS, kind: "text" },
  { field: "email", label: "Email", ops: TEXT_OPS, kind: "text" },
  { field: "notes", label: "Notes", ops: TEXT_OPS, kind: "text" },
  { field: "lifetime_spend", label: "Lifetime spend", ops: NUM_OPS, kind: "number" },
  { field: "conversation_count", label: "Conversations", ops: NUM_OPS, kind: "number" },
  { field: "last_message_at", label: "Last interaction", ops: [...TIME_OPS, "exists", "not_exists"], kind: "time" },
  { field: "created_at", label: "Created", ops: TIME_OPS, kind: "time" },
  { field: "consent", label: "Consent", ops: ["eq", "ne", "exists", "not_exists"], kind: "consent", choices: ["opted_in", "opted_out"] },
  { field: "opted_out", label: "Opted out", ops: ["eq"], kind: "boolean" },
  { field: "owner_id", label: "Owner (member id)", ops: ["eq", "ne", "exists", "not_exists"], kind: "number" },
  { field: "session", label: "Session", ops: ["eq", "ne"], kind: "text" },
];

function attrSpec(a: AttributeDef): FieldSpec {
  const field = `attributes.${a.name}`;
  const label = `Attribute: ${a.label || a.name}`;
  const set = ["exists", "not_exists"];
  switch (a.type) {
    case "number":
      return { field, label, ops: [...NUM_OPS, ...set], kind: "number" };
    case "date":
      return { field, label, ops: [...NUM_OPS, ...set], kind: "date" };
    case "boolean":
      return { field, label, ops: ["eq", "ne", ...set], kind: "boolean" };
    case "choice":
      return { field, label, ops: ["eq", "ne", "in", ...set], kind: "text", choices: a.choices };
    default:
      return { field, label, ops: ["eq", "ne", "contains", "not_contains", "in", ...set], kind: "text" };
  }
}

export const fieldSpecs = (attrs: AttributeDef[]): FieldSpec[] => [...BASE_FIELDS, ...attrs.map(attrSpec)];

/** What the value input of `op` on `spec` asks for. */
export function valueKind(spec: FieldSpec, op: string): ValueKind {
  if (op === "exists" || op === "not_exists") return "none";
  if (op === "in") return "list";
  if (op === "within_days" || op === "not_within_days") return "days";
  return spec.kind;
}

/** A clause as the builder edits it: the value as the input holds it (text). */
export interface DraftClause {
  field: string;
  op: string;
  value: string;
}

/** A group of clauses inside the top level, with its own join. */
export interface DraftGroup {
  join: "all" | "any";
  clauses: DraftClause[];
}

export type DraftItem = DraftClause | DraftGroup;

export interface Draft {
  join: "all" | "any";
  clauses: DraftItem[];
}

export const isGroup = (x: DraftItem): x is DraftGroup => "clauses" in x;

/** A new group: joined the other way from the top level (the reason to have one), one clause. */
export const newGroup = (top: Draft["join"], spec: FieldSpec): DraftGroup => ({
  join: top === "all" ? "any" : "all",
  clauses: [newClause(spec)],
});

export const newClause = (spec: FieldSpec): DraftClause => ({
  field: spec.field,
  op: spec.ops[0],
  value: spec.kind === "boolean" ? "true" : spec.choices?.[0] && spec.kind !== "text" ? spec.choices[0] : "",
});

/**
 * Another field: its first op unless it also takes the current one; the value is kept only
 * when the value's kind stays the same.
 */
export function changeField(c: DraftClause, spec: FieldSpec, specs: FieldSpec[]): DraftClause {
  const old = specs.find((s) => s.field === c.field);
  const op = spec.ops.includes(c.op) ? c.op : spec.ops[0];
  const keep = old && valueKind(old, c.op) === valueKind(spec, op);
  return { field: spec.field, op, value: keep ? c.value : newClause({ ...spec, ops: [op] }).value };
}

/** Another op: the value stays when its kind does. */
export function changeOp(c: DraftClause, spec: FieldSpec, op: string): DraftClause {
  const keep = valueKind(spec, c.op) === valueKind(spec, op);
  return { ...c, op, value: keep ? c.value : valueKind(spec, op) === "boolean" ? "true" : "" };
}

/** `datetime-local` (local time) → RFC 3339; what is not a time stays as typed (the hub names it). */
const instant = (local: string) => {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
};

/**
 * The typed JSON value of a draft clause, or `undefined` while it is incomplete (an empty
 * value where the op needs one). A number that does not parse is sent as typed, so the
 * hub's 422 names the clause.
 */
export function typedValue(c: DraftClause, spec: FieldSpec | undefined): { value?: unknown } | undefined {
  const kind = spec ? valueKind(spec, c.op) : "text";
  const text = c.value.trim();
  if (kind === "none") return {};
  if (!text) return undefined;
  switch (kind) {
    case "number":
    case "days":
      return { value: /^[+-]?\d+(\.\d+)?$/.test(text) ? Number(text) : text };
    case "boolean":
      return { value: text === "true" };
    case "time":
      return { value: instant(text) };
    case "list": {
      const items = text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      return items.length ? { value: items } : undefined;
    }
    default:
      return { value: text };
  }
}

/**
 * The filter the draft's complete clauses make, and the keys of the incomplete ones (left
 * out, so the live count follows what is there so far; a group with no complete clause is
 * left out too). A key is a clause's place in the draft: `"2"` at the top level, `"2.1"`
 * inside the group at 2. `index` maps each clause's place in the filter (the same kind of
 * key) to its place in the draft, to put the hub's error back on the right row.
 */
export function toFilter(d: Draft, specs: FieldSpec[]): { filter: Filter; incomplete: string[]; index: Record<string, string> } {
  const incomplete: string[] = [];
  const index: Record<string, string> = {};
  const clause = (c: DraftClause, key: string): Clause | null => {
    const v = typedValue(
      c,
      specs.find((s) => s.field === c.field),
    );
    if (!v) {
      incomplete.push(key);
      return null;
    }
    return { field: c.field, op: c.op, ...v };
  };
  const nodes: (Clause | Filter)[] = [];
  d.clauses.forEach((item, i) => {
    if (!isGroup(item)) {
      const c = clause(item, String(i));
      if (c) {
        index[String(nodes.length)] = String(i);
        nodes.push(c);
      }
      return;
    }
    const inner: Clause[] = [];
    const at: [string, string][] = [];
    item.clauses.forEach((x, j) => {
      const c = clause(x, `${i}.${j}`);
      if (c) {
        at.push([String(inner.length), `${i}.${j}`]);
        inner.push(c);
      }
    });
    if (!inner.length) return;
    for (const [k, v] of at) index[`${nodes.length}.${k}`] = v;
    nodes.push(item.join === "all" ? { all: inner } : { any: inner });
  });
  const filter = d.join === "all" ? { all: nodes } : { any: nodes };
  return { filter, incomplete, index };
}

/**
 * `filter.all[2]` (or deeper: `filter.all[2].value`, `filter.all[2].any[1]`) → `"2"`,
 * `"2.1"`: the clause a 422 names, as a key of `toFilter`'s `index`.
 */
export function clauseOfError(field: string | null | undefined): string | null {
  const m = field?.match(/^filter\.(?:all|any)\[(\d+)\](?:\.(?:all|any)\[(\d+)\])?/);
  if (!m) return null;
  return m[2] === undefined ? m[1] : `${m[1]}.${m[2]}`;
}

const pad = (n: number) => String(n).padStart(2, "0");
/** RFC 3339 → the `datetime-local` text of the same instant in local time. */
function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A clause of a saved filter as the builder holds it. */
function draftClause(n: Clause, specs: FieldSpec[]): DraftClause {
  const spec = specs.find((s) => s.field === n.field);
  const kind = spec ? valueKind(spec, n.op) : "text";
  const v = n.value;
  const value =
    v === undefined || v === null
      ? ""
      : Array.isArray(v)
        ? v.join(", ")
        : kind === "time" && typeof v === "string"
          ? localTime(v)
          : String(v);
  return { field: n.field, op: n.op, value };
}

/** A saved filter back in the builder; null when it nests deeper than groups of clauses. */
export function fromFilter(f: Filter, specs: FieldSpec[]): Draft | null {
  const join = "all" in f ? "all" : "any";
  const nodes = "all" in f ? f.all : f.any;
  const clauses: DraftItem[] = [];
  for (const n of nodes) {
    if ("field" in n) {
      clauses.push(draftClause(n, specs));
      continue;
    }
    const inner = "all" in n ? n.all : n.any;
    if (!inner.length || inner.some((x) => !("field" in x))) return null;
    clauses.push({ join: "all" in n ? "all" : "any", clauses: (inner as Clause[]).map((x) => draftClause(x, specs)) });
  }
  return { join, clauses };
}
