import { useEffect, useState } from "preact/hooks";
import { del, get, patch, post, type Page } from "../../api/http";
import { fieldErrors, type FieldErrors } from "../team/fieldErrors";
import { ConfirmDialog } from "./ConfirmDialog";
import type { AttributeDef, AttributeKind, ContactType } from "./types";

const KINDS: AttributeKind[] = ["text", "number", "date", "boolean", "choice"];

/** "gold, silver,, gold" → ["gold", "silver"]: a choice list as typed, cleaned. */
export function choicesOf(text: string): string[] {
  return [
    ...new Set(
      text
        .split(",")
        .map((c) => c.trim())
        .filter(Boolean),
    ),
  ];
}

/** The body of `POST /api/contact-attributes` for the form (choices only for a choice). */
export function newAttributeBody(f: { name: string; label: string; type: AttributeKind; choices: string }) {
  return {
    name: f.name.trim(),
    label: f.label.trim() || undefined,
    type: f.type,
    ...(f.type === "choice" ? { choices: choicesOf(f.choices) } : {}),
  };
}

/** The `PATCH /api/contact-attributes/{name}` body for what changed (`null`: nothing did). */
export function attributePatch(before: AttributeDef, label: string, choices: string): Record<string, unknown> | null {
  const out: Record<string, unknown> = {};
  if (label.trim() !== before.label) out.label = label.trim();
  if (before.type === "choice" && JSON.stringify(choicesOf(choices)) !== JSON.stringify(before.choices)) out.choices = choicesOf(choices);
  return Object.keys(out).length ? out : null;
}

type Removal = { kind: "type"; name: string } | { kind: "attribute"; name: string };

/** Admins and managers: what a contact's type may be and which attributes are declared. */
export function ContactSettings({ onChanged }: { onChanged?: () => void }) {
  const [types, setTypes] = useState<ContactType[] | null>(null);
  const [attrs, setAttrs] = useState<AttributeDef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [typeForm, setTypeForm] = useState({ name: "", label: "" });
  const [typeErrors, setTypeErrors] = useState<FieldErrors>({});
  const [attrForm, setAttrForm] = useState({ name: "", label: "", type: "text" as AttributeKind, choices: "" });
  const [attrErrors, setAttrErrors] = useState<FieldErrors>({});
  const [editing, setEditing] = useState<{ name: string; label: string; choices: string } | null>(null);
  const [editErrors, setEditErrors] = useState<FieldErrors>({});
  const [removal, setRemoval] = useState<Removal | null>(null);
  const [removalError, setRemovalError] = useState<string | null>(null);

  const load = async () => {
    try {
      const [t, a] = await Promise.all([get<Page<ContactType>>("/api/contact-types"), get<Page<AttributeDef>>("/api/contact-attributes")]);
      setTypes(t.items);
      setAttrs(a.items);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => void load(), []);
  const changed = async () => {
    await load();
    onChanged?.();
  };

  const addType = async (e: Event) => {
    e.preventDefault();
    setTypeErrors({});
    try {
      await post("/api/contact-types", { name: typeForm.name.trim(), label: typeForm.label.trim() || undefined });
      setTypeForm({ name: "", label: "" });
      await changed();
    } catch (err) {
      setTypeErrors(fieldErrors(err, ["name", "label"]));
    }
  };
  const addAttr = async (e: Event) => {
    e.preventDefault();
    setAttrErrors({});
    try {
      await post("/api/contact-attributes", newAttributeBody(attrForm));
      setAttrForm({ name: "", label: "", type: "text", choices: "" });
      await changed();
    } catch (err) {
      setAttrErrors(fieldErrors(err, ["name", "label", "type", "choices"]));
    }
  };
  const saveAttr = async (def: AttributeDef) => {
    if (!editing) return;
    const body = attributePatch(def, editing.label, editing.choices);
    setEditErrors({});
    try {
      if (body) await patch(`/api/contact-attributes/${encodeURIComponent(def.name)}`, body);
      setEditing(null);
      await changed();
    } catch (err) {
      setEditErrors(fieldErrors(err, ["label", "choices"]));
    }
  };
  const remove = async (r: Removal) => {
    setRemovalError(null);
    try {
      await del(r.kind === "type" ? `/api/contact-types/${encodeURIComponent(r.name)}` : `/api/contact-attributes/${encodeURIComponent(r.name)}`);
      setRemoval(null);
      await changed();
    } catch (err) {
      setRemovalError((err as Error).message);
    }
  };

  return (
    <section class="contacts-settings" aria-label="Contact settings">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="card">
        <h2>Contact types</h2>
        <ul class="contacts-settings-list" aria-label="Contact types">
          {types?.map((t) => (
            <li data-testid="type-row" data-name={t.name}>
              <span>{t.label || t.name}</span>
              <code class="muted">{t.name}</code>
              <button type="button" class="ghost small danger" aria-label={`Delete type ${t.name}`} onClick={() => setRemoval({ kind: "type", name: t.name })}>
                Delete
              </button>
            </li>
          ))}
        </ul>
        <form class="row" aria-label="New contact type" onSubmit={addType}>
          <label>
            Name
            <input value={typeForm.name} placeholder="partner" onInput={(e) => setTypeForm((f) => ({ ...f, name: e.currentTarget.value }))} />
          </label>
          <label>
            Label
            <input value={typeForm.label} placeholder="Partner" onInput={(e) => setTypeForm((f) => ({ ...f, label: e.currentTarget.value }))} />
          </label>
          <button type="submit">Add type</button>
          {Object.entries(typeErrors).map(([k, v]) => (
            <p class="error" role="alert" data-testid={`type-error-${k}`}>
              {k === "_form" ? v : `${k}: ${v}`}
            </p>
          ))}
        </form>
      </div>
      <div class="card">
        <h2>Custom attributes</h2>
        <table class="contacts-table" aria-label="Custom attributes">
          <thead>
            <tr>
              <th>Name</th>
              <th>Label</th>
              <th>Type</th>
              <th>Choices</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {attrs?.map((a) =>
              editing?.name === a.name ? (
                <tr data-testid="attribute-row" data-name={a.name}>
                  <td>
                    <code>{a.name}</code>
                  </td>
                  <td>
                    <input aria-label={`Label of ${a.name}`} value={editing.label} onInput={(e) => setEditing({ ...editing, label: e.currentTarget.value })} />
                  </td>
                  <td>{a.type}</td>
                  <td>
                    {a.type === "choice" ? (
                      <input aria-label={`Choices of ${a.name}`} value={editing.choices} onInput={(e) => setEditing({ ...editing, choices: e.currentTarget.value })} />
                    ) : (
                      "—"
                    )}
                    {Object.entries(editErrors).map(([, v]) => (
                      <p class="error" role="alert">
                        {v}
                      </p>
                    ))}
                  </td>
                  <td>
                    <div class="row">
                      <button type="button" class="small" onClick={() => void saveAttr(a)}>
                        Save
                      </button>
                      <button type="button" class="ghost small" onClick={() => setEditing(null)}>
                        Cancel
                      </button>
                    </div>
                  </td>
                </tr>
              ) : (
                <tr data-testid="attribute-row" data-name={a.name}>
                  <td>
                    <code>{a.name}</code>
                  </td>
                  <td>{a.label}</td>
                  <td>{a.type}</td>
                  <td>{a.choices.join(", ") || "—"}</td>
                  <td>
                    <div class="row">
                      <button
                        type="button"
                        class="ghost small"
                        aria-label={`Edit attribute ${a.name}`}
                        onClick={() => {
                          setEditErrors({});
                          setEditing({ name: a.name, label: a.label, choices: a.choices.join(", ") });
                        }}
                      >
                        Edit
                      </button>
                      <button type="button" class="ghost small danger" aria-label={`Delete attribute ${a.name}`} onClick={() => setRemoval({ kind: "attribute", name: a.name })}>
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
        {attrs?.length === 0 && <p class="muted">No attribute declared: contacts may hold any, as text.</p>}
        <form class="row" aria-label="New attribute" onSubmit={addAttr}>
          <label>
            Name
            <input value={attrForm.name} placeholder="plan" onInput={(e) => setAttrForm((f) => ({ ...f, name: e.currentTarget.value }))} />
          </label>
          <label>
            Label
            <input value={attrForm.label} placeholder="Plan" onInput={(e) => setAttrForm((f) => ({ ...f, label: e.currentTarget.value }))} />
          </label>
          <label>
            Type
            <select value={attrForm.type} onChange={(e) => setAttrForm((f) => ({ ...f, type: e.currentTarget.value as AttributeKind }))}>
              {KINDS.map((k) => (
                <option value={k}>{k}</option>
              ))}
            </select>
          </label>
          {attrForm.type === "choice" && (
            <label>
              Choices (comma-separated)
              <input value={attrForm.choices} placeholder="gold, silver" onInput={(e) => setAttrForm((f) => ({ ...f, choices: e.currentTarget.value }))} />
            </label>
          )}
          <button type="submit">Add attribute</button>
          {Object.entries(attrErrors).map(([k, v]) => (
            <p class="error" role="alert" data-testid={`attribute-error-${k}`}>
              {k === "_form" ? v : `${k}: ${v}`}
            </p>
          ))}
        </form>
      </div>
      {removal && (
        <ConfirmDialog
          title={removal.kind === "type" ? "Delete contact type" : "Delete attribute"}
          confirmLabel="Delete"
          error={removalError}
          onConfirm={() => void remove(removal)}
          onCancel={() => setRemoval(null)}
        >
          <p>
            {removal.kind === "type"
              ? `Delete the type ${removal.name}? A type some contacts have cannot be deleted.`
              : `Delete the attribute ${removal.name}? Contacts keep their values, no longer checked against a type.`}
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
