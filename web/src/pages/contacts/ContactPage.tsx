import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { reasonOf } from "../../api/fieldErrors";
import { ApiError, get, getAll, patch, post } from "../../api/http";
import { canUseInbox, isSupervisor } from "../../api/types";
import { onLink } from "../../lib/router";
import { live, me } from "../../state/session";
import { fieldErrors, type FieldErrors } from "../team/fieldErrors";
import { ConfirmDialog } from "./ConfirmDialog";
import { canWriteContacts, displayName, type AttributeDef, type ContactDetail } from "./types";
import { useSchema } from "./useSchema";
import "./contacts.css";

const FIELDS = ["name", "email", "type", "lifetime_spend", "owner_id", "consent", "opted_out", "tags", "attributes", "notes"];

export interface ContactForm {
  name: string;
  email: string;
  type: string;
  lifetime_spend: string;
  owner_id: string;
  consent: "" | "opted_in" | "opted_out";
  consent_source: string;
  tags: string;
  notes: string;
  attributes: Record<string, string>;
}

const attrText = (v: unknown) => (v === undefined || v === null ? "" : String(v));

export function formOf(c: ContactDetail, attrs: AttributeDef[]): ContactForm {
  const names = [...new Set([...attrs.map((a) => a.name), ...Object.keys(c.attributes)])];
  return {
    name: c.name ?? "",
    email: c.email ?? "",
    type: c.type ?? "",
    lifetime_spend: String(c.lifetime_spend ?? 0),
    owner_id: c.owner_id === null ? "" : String(c.owner_id),
    consent: c.consent ?? "",
    consent_source: c.consent_source ?? "",
    tags: c.tags.join(", "),
    notes: c.notes ?? "",
    attributes: Object.fromEntries(names.map((n) => [n, attrText(c.attributes[n])])),
  };
}

/**
 * The PATCH for what changed: only the changed fields, typed as the hub takes them (an
 * emptied text is null, an emptied attribute removes its key, a declared number or boolean
 * is sent as one).
 */
export function patchOf(before: ContactForm, after: ContactForm, attrs: AttributeDef[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const text = (k: "name" | "email" | "type" | "notes") => {
    if (before[k] !== after[k]) out[k] = after[k].trim() === "" ? null : after[k].trim();
  };
  (["name", "email", "type", "notes"] as const).forEach(text);
  if (before.lifetime_spend !== after.lifetime_spend) {
    const n = Number(after.lifetime_spend);
    out.lifetime_spend = after.lifetime_spend.trim() === "" ? 0 : Number.isFinite(n) ? n : after.lifetime_spend;
  }
  if (before.owner_id !== after.owner_id) out.owner_id = after.owner_id === "" ? null : Number(after.owner_id);
  if (before.consent !== after.consent || before.consent_source !== after.consent_source)
    out.consent = after.consent === "" ? null : { state: after.consent, source: after.consent_source.trim() || undefined };
  const tags = (s: string) =>
    s
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
  if (JSON.stringify(tags(before.tags)) !== JSON.stringify(tags(after.tags))) out.tags = tags(after.tags);
  const changed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after.attributes)) {
    if ((before.attributes[k] ?? "") === v) continue;
    const def = attrs.find((a) => a.name === k);
    const t = v.trim();
    changed[k] =
      t === ""
        ? null
        : def?.type === "number" && /^[+-]?\d+(\.\d+)?$/.test(t)
          ? Number(t)
          : def?.type === "boolean"
            ? t === "true"
            : t;
  }
  if (Object.keys(changed).length) out.attributes = changed;
  return out;
}

function Field({ name, label, error, children }: { name: string; label: string; error?: string; children: ComponentChildren }) {
  return (
    <div class={`contacts-field ${error ? "contacts-field-error" : ""}`} data-field={name}>
      <label>
        {label}
        {children}
      </label>
      {error && (
        <p class="error" role="alert" data-testid={`error-${name}`}>
          {error}
        </p>
      )}
    </div>
  );
}

/** What must be typed to erase a contact: its number, else its WhatsApp id. */
export const eraseWord = (c: Pick<ContactDetail, "phone" | "chat_id">) => c.phone ?? c.chat_id;

/**
 * GDPR, for admins and managers: a copy of everything held about the person (a JSON file),
 * and the erasure of it, confirmed by typing the contact's number.
 */
function Privacy({ contact, onErased }: { contact: ContactDetail; onErased: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const erase = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`/api/contacts/${contact.id}/erase`);
      setAsking(false);
      onErased();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card contacts-privacy" aria-label="Personal data">
      <h2>Personal data</h2>
      {contact.erased_at ? (
        <p class="muted" data-testid="contact-erased">
          Erased {when(contact.erased_at)}: nothing personal is held any more.
        </p>
      ) : (
        <>
          <p class="muted">Everything held about this person: the profile, conversations with every message and note, audit entries and campaign history.</p>
          <div class="row">
            <a class="button" href={`/api/contacts/${contact.id}/export`} download={`contact-${contact.id}.json`}>
              Download data (JSON)
            </a>
            <button type="button" class="danger" onClick={() => setAsking(true)}>
              Erase…
            </button>
          </div>
        </>
      )}
      {asking && (
        <ConfirmDialog
          title="Erase personal data"
          confirmLabel="Erase"
          typed={eraseWord(contact)}
          busy={busy}
          error={error}
          onConfirm={() => void erase()}
          onCancel={() => setAsking(false)}
        >
          <p>
            Erase everything held about <strong>{displayName(contact)}</strong>? Its profile is emptied and the messages of its {contact.conversations.length} conversation
            {contact.conversations.length === 1 ? "" : "s"} are redacted everywhere. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}

const when = (ms: number | null) => (ms ? new Date(ms).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "—");

/** One contact: its profile (editable by those who write contacts), and its conversations across sessions. */
export function ContactPage({ params }: { params: Record<string, string> }) {
  const viewer = me.value!;
  const canWrite = canWriteContacts(viewer.role);
  const schema = useSchema();
  const [contact, setContact] = useState<ContactDetail | null>(null);
  const [form, setForm] = useState<ContactForm | null>(null);
  const [members, setMembers] = useState<{ id: number; name: string }[] | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const id = Number(params.id);

  const load = async () => {
    try {
      const c = await get<ContactDetail>(`/api/contacts/${id}`);
      setContact(c);
      setLoadError(null);
    } catch (e) {
      setLoadError((e as Error).message);
    }
  };
  useEffect(() => {
    void load();
    // Only supervisors list the team; others see an owner by id.
    if (isSupervisor(viewer.role)) getAll<{ id: number; name: string }>("/api/team-members").then(setMembers, () => {});
    return live.on("contact.updated", (f) => {
      if ((f.data as { id: number }).id === id) void load();
    });
  }, [id]);
  // The form starts from the contact once the declared attributes are known (each gets its
  // input); later pushes do not overwrite what is being typed.
  useEffect(() => {
    if (contact && schema.loaded && !form) setForm(formOf(contact, schema.attributes));
  }, [contact, schema.loaded]);

  if (loadError && !contact)
    return (
      <main class="main contacts">
        <p class="error" role="alert">
          {loadError}
        </p>
      </main>
    );
  if (!contact || !form) return <main class="main contacts" aria-busy="true" />;

  const base = formOf(contact, schema.attributes);
  const set = <K extends keyof ContactForm>(k: K, v: ContactForm[K]) => {
    setSaved(false);
    setForm((f) => f && { ...f, [k]: v });
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const c = await patch<ContactDetail>(`/api/contacts/${id}`, patchOf(base, form, schema.attributes));
      setContact(c);
      setForm(formOf(c, schema.attributes));
      setSaved(true);
    } catch (err) {
      // A declared attribute's error goes next to that attribute (`attributes.plan`).
      if (err instanceof ApiError && err.field?.startsWith("attributes."))
        setErrors({ [err.field]: reasonOf(err.message, err.field) });
      else setErrors(fieldErrors(err, FIELDS));
    } finally {
      setBusy(false);
    }
  };
  const ro = !canWrite;

  return (
    <main class="main contacts" data-testid="contact-page">
      <div class="contacts-top">
        <a href="/contacts" onClick={(e) => onLink(e, "/contacts")}>
          ← Contacts
        </a>
        <h1>{displayName(contact)}</h1>
        {contact.opted_out && <span class="chip contacts-optout">opted out</span>}
      </div>
      <div class="contacts-detail">
        <form class="card contacts-profile" aria-label="Profile" onSubmit={save} noValidate>
          {ro && <p class="notice">Agents read contacts but do not edit them.</p>}
          <dl class="contacts-facts">
            <dt>Phone</dt>
            <dd data-testid="contact-phone">{contact.phone ?? "—"}</dd>
            <dt>WhatsApp</dt>
            <dd>{contact.wa_ids.length ? contact.wa_ids.join(", ") : contact.chat_id}</dd>
            {contact.push_name && (
              <>
                <dt>WhatsApp name</dt>
                <dd>{contact.push_name}</dd>
              </>
            )}
            <dt>Session</dt>
            <dd>{contact.session}</dd>
            <dt>Last interaction</dt>
            <dd>{when(contact.last_message_at)}</dd>
            <dt>Consent</dt>
            <dd data-testid="contact-consent">
              {contact.consent ? `${contact.consent.replace("_", " ")}${contact.consent_source ? ` (${contact.consent_source}` : ""}${contact.consent_at ? `, ${when(contact.consent_at)})` : contact.consent_source ? ")" : ""}` : "never asked"}
            </dd>
          </dl>
          <fieldset disabled={ro} class="contacts-form-grid">
            <Field name="name" label="Name" error={errors.name}>
              <input value={form.name} onInput={(e) => set("name", e.currentTarget.value)} />
            </Field>
            <Field name="email" label="Email" error={errors.email}>
              <input type="email" value={form.email} onInput={(e) => set("email", e.currentTarget.value)} />
            </Field>
            <Field name="type" label="Type" error={errors.type}>
              <select value={form.type} onChange={(e) => set("type", e.currentTarget.value)}>
                <option value="">—</option>
                {schema.types.map((t) => (
                  <option value={t.name}>{t.label || t.name}</option>
                ))}
              </select>
            </Field>
            <Field name="lifetime_spend" label="Lifetime spend" error={errors.lifetime_spend}>
              <input type="number" min="0" step="any" value={form.lifetime_spend} onInput={(e) => set("lifetime_spend", e.currentTarget.value)} />
            </Field>
            <Field name="owner_id" label="Owner" error={errors.owner_id}>
              {members ? (
                <select value={form.owner_id} onChange={(e) => set("owner_id", e.currentTarget.value)}>
                  <option value="">nobody</option>
                  {members.map((m) => (
                    <option value={String(m.id)}>{m.name}</option>
                  ))}
                </select>
              ) : (
                <input type="number" min="1" placeholder="member id" value={form.owner_id} onInput={(e) => set("owner_id", e.currentTarget.value)} />
              )}
            </Field>
            <Field name="consent" label="Consent" error={errors.consent ?? errors.opted_out}>
              <select value={form.consent} onChange={(e) => set("consent", e.currentTarget.value as ContactForm["consent"])}>
                <option value="">never asked</option>
                <option value="opted_in">opted in</option>
                <option value="opted_out">opted out</option>
              </select>
            </Field>
            <Field name="consent_source" label="Consent source" error={undefined}>
              <input value={form.consent_source} placeholder="api, call, a form…" onInput={(e) => set("consent_source", e.currentTarget.value)} />
            </Field>
            <Field name="tags" label="Tags (comma-separated)" error={errors.tags}>
              <input value={form.tags} onInput={(e) => set("tags", e.currentTarget.value)} />
            </Field>
            {Object.keys(form.attributes).map((k) => {
              const def = schema.attributes.find((a) => a.name === k);
              const v = form.attributes[k];
              const setAttr = (x: string) => set("attributes", { ...form.attributes, [k]: x });
              const err = errors[`attributes.${k}`];
              return (
                <Field name={`attributes.${k}`} label={def?.label || k} error={err}>
                  {def?.type === "choice" || def?.type === "boolean" ? (
                    <select value={v} onChange={(e) => setAttr(e.currentTarget.value)}>
                      <option value="">—</option>
                      {(def.type === "boolean" ? ["true", "false"] : def.choices).map((c) => (
                        <option value={c}>{c}</option>
                      ))}
                    </select>
                  ) : (
                    <input
                      type={(def?.type === "number" ? "number" : def?.type === "date" ? "date" : "text") as "text"}
                      step={def?.type === "number" ? "any" : undefined}
                      value={v}
                      onInput={(e) => setAttr(e.currentTarget.value)}
                    />
                  )}
                </Field>
              );
            })}
            <Field name="notes" label="Notes" error={errors.notes}>
              <textarea rows={4} value={form.notes} onInput={(e) => set("notes", e.currentTarget.value)} />
            </Field>
          </fieldset>
          {errors._form && (
            <p class="error" role="alert" data-testid="error-form">
              {errors._form}
            </p>
          )}
          {canWrite && (
            <div class="row">
              <button type="submit" class="primary" disabled={busy}>
                Save contact
              </button>
              {saved && (
                <span class="muted" role="status">
                  Saved
                </span>
              )}
            </div>
          )}
        </form>
        <section class="card contacts-conversations" aria-label="Conversations">
          <h2>Conversations</h2>
          {contact.conversations.length === 0 && <p class="muted">No conversation yet.</p>}
          <ul>
            {contact.conversations.map((c) => (
              <li data-testid="contact-conversation">
                {canUseInbox(viewer.role) ? (
                  <a href={`/inbox/${c.id}`} onClick={(e) => onLink(e, `/inbox/${c.id}`)}>
                    {c.session} · {c.status}
                  </a>
                ) : (
                  <span>
                    {c.session} · {c.status}
                  </span>
                )}
                <span class="muted"> {when(c.last_message_at)}</span>
                {c.last_message_preview && <div class="muted contacts-preview">{c.last_message_preview}</div>}
              </li>
            ))}
          </ul>
        </section>
        {isSupervisor(viewer.role) && (
          <Privacy
            contact={contact}
            onErased={() => {
              // The form showed what is gone: it starts again from the erased contact.
              setForm(null);
              void load();
            }}
          />
        )}
      </div>
    </main>
  );
}
