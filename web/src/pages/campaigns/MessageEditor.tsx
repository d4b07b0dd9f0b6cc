import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, type Page } from "../../api/http";
import { reasonOf } from "../../api/fieldErrors";
import { renderTemplate, SAMPLE_CONTACT } from "../bots/template";
import type { Contact } from "../contacts/types";
import { audienceOf, type Draft } from "./form";
import type { MessageTemplate } from "./types";
import { useDebounced } from "./useDebounced";

export const INSERTS = [
  '{{contact.first_name | "there"}}',
  "{{contact.name}}",
  "{{contact.phone}}",
  "{{business.name}}",
];

interface Props {
  draft: Draft;
  set: (d: Partial<Draft>) => void;
  templates: MessageTemplate[];
  onTemplateSaved: (t: MessageTemplate) => void;
  error: string | undefined;
}

/** The syntax error the hub would give, checked here as it is typed (null: none). */
export function syntaxError(text: string): string | null {
  if (!text) return null;
  return renderTemplate(text, { contact: { ...SAMPLE_CONTACT }, businessName: null, hoursToday: "" }).error;
}

/** Contacts to preview the message for: the segment's first ones, or the pasted ids. */
function usePreviewContacts(draft: Draft): { id: number; label: string }[] {
  const [list, setList] = useState<{ id: number; label: string }[]>([]);
  const audience = audienceOf(draft);
  const key = JSON.stringify(audience);
  useEffect(() => {
    let alive = true;
    if (!audience) setList([]);
    else if ("contact_ids" in audience) setList(audience.contact_ids.slice(0, 20).map((id) => ({ id, label: `Contact #${id}` })));
    else
      get<Page<Contact>>("/api/contacts", { segment_id: audience.segment_id, limit: 20 })
        .then((p) => alive && setList(p.items.map((c) => ({ id: c.id, label: c.name ?? c.push_name ?? c.phone ?? `Contact #${c.id}` }))))
        .catch(() => alive && setList([]));
    return () => {
      alive = false;
    };
  }, [key]);
  return list;
}

/** The message: a saved template to start from, the text, and the hub's rendering for a real contact. */
export function MessageEditor({ draft, set, templates, onTemplateSaved, error }: Props) {
  const contacts = usePreviewContacts(draft);
  const [contactId, setContactId] = useState<number | null>(null);
  const chosen = contacts.find((c) => c.id === contactId)?.id ?? contacts[0]?.id ?? null;
  const local = syntaxError(draft.template);
  const preview = useDebounced<{ text: string }>(JSON.stringify([draft.template, chosen]), () =>
    chosen !== null && draft.template.trim() && !local ? post<{ text: string }>("/api/campaigns/render", { template: draft.template, contact_id: chosen }) : null,
  );
  const [saveName, setSaveName] = useState("");
  const [saveMsg, setSaveMsg] = useState<string | null>(null);

  const save = async () => {
    setSaveMsg(null);
    try {
      const t = await post<MessageTemplate>("/api/templates", { name: saveName.trim(), body: draft.template });
      onTemplateSaved(t);
      setSaveName("");
      setSaveMsg(`Saved as "${t.name}"`);
    } catch (e) {
      setSaveMsg(e instanceof ApiError && e.field ? `${e.field}: ${reasonOf(e.message, e.field)}` : (e as Error).message);
    }
  };

  const hubError = preview.state === "error" ? preview.error : null;
  return (
    <fieldset class="camp-fieldset" aria-label="Message">
      <legend>Message</legend>
      <label class="camp-field">
        Saved template
        <select
          aria-label="Saved template"
          value=""
          onChange={(e) => {
            const t = templates.find((x) => String(x.id) === e.currentTarget.value);
            if (t) set({ template: t.body });
          }}
        >
          <option value="">{templates.length ? "— use a saved template —" : "— no saved template —"}</option>
          {templates.map((t) => (
            <option value={String(t.id)}>{t.name}</option>
          ))}
        </select>
      </label>
      <label class="camp-field">
        Message text
        <textarea
          rows={4}
          value={draft.template}
          aria-invalid={error || local ? true : undefined}
          onInput={(e) => set({ template: e.currentTarget.value })}
        />
      </label>
      <div class="row camp-inserts" role="toolbar" aria-label="Insert a variable">
        {INSERTS.map((v) => (
          <button type="button" class="small ghost" onClick={() => set({ template: draft.template + v })}>
            {v}
          </button>
        ))}
      </div>
      {(error || local) && (
        <p class="error" data-testid="error-template">
          {local ?? error}
        </p>
      )}
      <div class="camp-preview">
        <label>
          Preview for
          <select aria-label="Preview for" value={chosen === null ? "" : String(chosen)} onChange={(e) => setContactId(Number(e.currentTarget.value))} disabled={!contacts.length}>
            {!contacts.length && <option value="">(choose an audience first)</option>}
            {contacts.map((c) => (
              <option value={String(c.id)}>{c.label}</option>
            ))}
          </select>
        </label>
        <output class="camp-bubble" data-testid="template-preview" data-state={preview.state} aria-live="polite">
          {preview.state === "ok"
            ? preview.value.text
            : hubError
              ? `Cannot render: ${hubError instanceof ApiError && hubError.field ? reasonOf(hubError.message, hubError.field) : (hubError as Error).message}`
              : preview.state === "asking"
                ? "Rendering…"
                : ""}
        </output>
      </div>
      <div class="row">
        <label>
          Template name
          <input value={saveName} onInput={(e) => setSaveName(e.currentTarget.value)} />
        </label>
        <button type="button" disabled={!saveName.trim() || !draft.template.trim() || !!local} onClick={() => void save()}>
          Save as template
        </button>
        {saveMsg && (
          <span role="status" class="muted">
            {saveMsg}
          </span>
        )}
      </div>
    </fieldset>
  );
}
