import { useEffect, useState } from "preact/hooks";
import { ApiError, del, getAll, patch, post } from "../../api/http";
import { reasonOf } from "../../api/fieldErrors";
import { live } from "../../state/session";
import { INSERTS, syntaxError } from "./MessageEditor";
import type { MessageTemplate } from "./types";

type Editing = { id: number | null; name: string; body: string };
const blank: Editing = { id: null, name: "", body: "" };

/** Saved message templates: the list and one form to write a new one or edit one. */
export function Templates() {
  const [items, setItems] = useState<MessageTemplate[] | null>(null);
  const [editing, setEditing] = useState<Editing>(blank);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () =>
    getAll<MessageTemplate>("/api/templates").then(
      (l) => {
        setItems(l);
        setError(null);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(() => {
    void load();
    const offs = [live.on("template.updated", () => void load()), live.on("resync", () => void load())];
    return () => offs.forEach((off) => off());
  }, []);

  const local = syntaxError(editing.body);
  const save = async (e: Event) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!editing.name.trim()) found.name = "a name is needed";
    if (!editing.body.trim()) found.body = "write the message";
    else if (local) found.body = local;
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const body = { name: editing.name.trim(), body: editing.body };
      const t = editing.id === null ? await post<MessageTemplate>("/api/templates", body) : await patch<MessageTemplate>(`/api/templates/${editing.id}`, body);
      setItems((l) => [...(l ?? []).filter((x) => x.id !== t.id), t].sort((a, b) => a.id - b.id));
      setEditing(blank);
    } catch (err) {
      if (err instanceof ApiError && err.field) setErrors({ [err.field]: reasonOf(err.message, err.field) });
      else setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="camp-templates" aria-label="Message templates">
      <form class="card camp-builder" aria-label={editing.id === null ? "New template" : `Edit template ${editing.name}`} onSubmit={save} noValidate>
        <label class="camp-field">
          Template name
          <input value={editing.name} aria-invalid={errors.name ? true : undefined} onInput={(e) => {
              setEditing({ ...editing, name: e.currentTarget.value });
              setErrors(({ name: _, ...rest }) => rest);
            }} />
          {errors.name && <span class="error" data-testid="error-name">{errors.name}</span>}
        </label>
        <label class="camp-field">
          Template text
          <textarea rows={4} value={editing.body} aria-invalid={errors.body || local ? true : undefined} onInput={(e) => {
              setEditing({ ...editing, body: e.currentTarget.value });
              setErrors(({ body: _, ...rest }) => rest);
            }} />
        </label>
        <div class="row camp-inserts" role="toolbar" aria-label="Insert a variable">
          {INSERTS.map((v) => (
            <button type="button" class="small ghost" onClick={() => setEditing({ ...editing, body: editing.body + v })}>
              {v}
            </button>
          ))}
        </div>
        {(errors.body || local) && (
          <p class="error" data-testid="error-body">
            {local ?? errors.body}
          </p>
        )}
        <p class="muted small-note">
          A fallback stands in for a contact without the value: <code>{'{{contact.first_name | "there"}}'}</code>.
        </p>
        <div class="row">
          <button type="submit" class="primary" disabled={busy}>
            {editing.id === null ? "Create template" : "Save template"}
          </button>
          {editing.id !== null && (
            <button type="button" onClick={() => setEditing(blank)}>
              Cancel
            </button>
          )}
        </div>
      </form>
      <div class="card">
        <h2>Saved templates</h2>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {items === null && !error && <p class="muted">Loading…</p>}
        {items?.length === 0 && <p class="muted">No template yet.</p>}
        <ul class="camp-template-list">
          {items?.map((t) => (
            <li data-testid="template-row" data-id={t.id}>
              <button type="button" class="ghost camp-template-name" onClick={() => setEditing({ id: t.id, name: t.name, body: t.body })}>
                {t.name}
              </button>
              <span class="muted camp-template-body">{t.body}</span>
              <button
                type="button"
                class="ghost small danger"
                aria-label={`Delete template ${t.name}`}
                onClick={async () => {
                  try {
                    await del(`/api/templates/${t.id}`);
                    setItems((l) => (l ?? []).filter((x) => x.id !== t.id));
                    if (editing.id === t.id) setEditing(blank);
                  } catch (e) {
                    setError((e as Error).message);
                  }
                }}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
