import { useState } from "preact/hooks";
import { patch, post } from "../../api/http";
import { ChipsInput } from "./ChipsInput";
import { errorAt, fieldError, type FieldError } from "../../api/fieldErrors";
import { TemplateField } from "./TemplateField";
import type { PreviewVars } from "./template";
import { ACTIONS, MATCH_KINDS, type MatchKind, type Trigger, type TriggerAction } from "./types";

/** A trigger not saved yet: the form POSTs it. */
export interface NewTrigger {
  id: null;
  bot_id: number;
  priority: number;
}

interface Draft {
  match: MatchKind;
  pattern: string;
  keywords: string[];
  action: TriggerAction;
  response: string;
  active: boolean;
  case_sensitive: boolean;
  accent_sensitive: boolean;
}

const draftOf = (t: Trigger | NewTrigger): Draft =>
  t.id === null
    ? { match: "contains", pattern: "", keywords: [], action: "reply", response: "", active: true, case_sensitive: false, accent_sensitive: false }
    : {
        match: t.match,
        pattern: t.pattern ?? "",
        keywords: t.keywords,
        action: t.action,
        response: t.response ?? "",
        active: t.active,
        case_sensitive: t.case_sensitive,
        accent_sensitive: t.accent_sensitive,
      };

/** The body the hub takes: a pattern or keywords as the match kind asks, never both. */
export function triggerBody(d: Draft) {
  const keywordsKind = d.match === "any_keyword";
  return {
    match: d.match,
    pattern: keywordsKind ? null : d.pattern,
    keywords: keywordsKind ? d.keywords : [],
    action: d.action,
    response: d.response.trim() ? d.response : null,
    active: d.active,
    case_sensitive: d.case_sensitive,
    accent_sensitive: d.accent_sensitive,
  };
}

interface Props {
  trigger: Trigger | NewTrigger;
  vars: PreviewVars;
  onSaved: (t: Trigger) => void;
  onCancel: () => void;
}

export function TriggerForm({ trigger, vars, onSaved, onCancel }: Props) {
  const [d, setD] = useState<Draft>(() => draftOf(trigger));
  const [err, setErr] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);
  const key = trigger.id ?? "new";
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const at = (p: string) => errorAt(err, p);
  // Actions this page does not edit (add_tag, set_contact_field) stay selectable on triggers that have them.
  const actions = ACTIONS.some((a) => a.value === d.action) ? ACTIONS : [...ACTIONS, { value: d.action, label: d.action }];

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const body = triggerBody(d);
      const t =
        trigger.id === null
          ? await post<Trigger>("/api/triggers", { ...body, bot_id: trigger.bot_id, priority: trigger.priority })
          : await patch<Trigger>(`/api/triggers/${trigger.id}`, body);
      onSaved(t);
    } catch (x) {
      setErr(fieldError(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="stack bots-trigger-form" onSubmit={save} aria-label={trigger.id === null ? "New trigger" : `Trigger ${trigger.id}`} noValidate>
      <div class="row">
        <label>
          Match
          <select value={d.match} onChange={(e) => set("match", e.currentTarget.value as MatchKind)}>
            {MATCH_KINDS.map((m) => (
              <option key={m.value} value={m.value}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Action
          <select value={d.action} onChange={(e) => set("action", e.currentTarget.value as TriggerAction)}>
            {actions.map((a) => (
              <option key={a.value} value={a.value}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        <label class="inline">
          <input type="checkbox" checked={d.active} onChange={(e) => set("active", e.currentTarget.checked)} />
          Active
        </label>
      </div>
      {d.match === "any_keyword" ? (
        <ChipsInput
          id={`trigger-${key}-keywords`}
          label="Keywords"
          values={d.keywords}
          onChange={(v) => set("keywords", v)}
          placeholder="Type a keyword, press Enter"
          errorFor={(i) => at(i === null ? "keywords" : `keywords[${i}]`)}
        />
      ) : (
        <label>
          {d.match === "regex" ? "Regular expression" : "Pattern"}
          <input
            value={d.pattern}
            class={d.match === "regex" ? "bots-mono" : undefined}
            aria-invalid={at("pattern") ? true : undefined}
            onInput={(e) => set("pattern", e.currentTarget.value)}
          />
          {at("pattern") && <span class="error bots-field-error">{at("pattern")}</span>}
        </label>
      )}
      <div class="row">
        <label class="inline">
          <input type="checkbox" checked={d.case_sensitive} onChange={(e) => set("case_sensitive", e.currentTarget.checked)} />
          Case-sensitive
        </label>
        <label class="inline">
          <input type="checkbox" checked={d.accent_sensitive} onChange={(e) => set("accent_sensitive", e.currentTarget.checked)} />
          Accent-sensitive
        </label>
      </div>
      <TemplateField
        id={`trigger-${key}-response`}
        label={d.action === "handoff" ? "Response (optional)" : "Response"}
        value={d.response}
        onChange={(v) => set("response", v)}
        vars={vars}
        error={at("response")}
      />
      {err && (
        <p class="error" role="alert">
          Not saved: {err.path ? `${err.path}: ` : ""}
          {err.message}
        </p>
      )}
      <div class="row">
        <button class="primary" type="submit" disabled={busy}>
          {trigger.id === null ? "Add trigger" : "Save trigger"}
        </button>
        <button type="button" onClick={onCancel}>
          {trigger.id === null ? "Discard" : "Close"}
        </button>
      </div>
    </form>
  );
}
