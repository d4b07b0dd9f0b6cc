import { useId, useState } from "preact/hooks";
import { patch } from "../../api/http";
import { errorAt, fieldError, type FieldError } from "../../api/fieldErrors";
import { HoursEditor } from "../../components/hours/HoursEditor";
import { sameHours, type WeeklyHours } from "../../lib/hours";
import { DEFAULT_CSAT_QUESTION, type ReplyPolicy, type SessionSettings, type SessionView } from "./types";

/** The settings as the form edits them. */
interface Values {
  reply_policy: ReplyPolicy;
  auto_assign: boolean;
  business_hours: WeeklyHours | null;
  csat_enabled: boolean;
  /** Empty: the default question. */
  csat_question: string;
  /** Minutes as typed; empty: no SLA alerts. */
  sla_minutes: string;
}

const valuesOf = (s: SessionView): Values => ({
  reply_policy: s.reply_policy,
  auto_assign: s.auto_assign,
  business_hours: s.business_hours ?? null,
  csat_enabled: s.csat_enabled,
  csat_question: s.csat_question ?? "",
  sla_minutes: s.sla_wait_seconds == null ? "" : String(Math.round((s.sla_wait_seconds / 60) * 100) / 100),
});

/** Seconds of the minutes typed: null for none, NaN for what is not a number. */
const seconds = (minutes: string): number | null => (minutes.trim() === "" ? null : Math.round(Number(minutes) * 60));

// The fields with a place of their own here; the hours editor places every error under business_hours.
const FIELDS = ["reply_policy", "auto_assign", "csat_enabled", "csat_question", "sla_wait_seconds"];

/** The PATCH body: what `edited` changes in `s`, and nothing else. */
export function changes(s: SessionView, edited: Partial<Values>): SessionSettings {
  const was = valuesOf(s);
  const v = { ...was, ...edited };
  const body: SessionSettings = {};
  if (v.reply_policy !== was.reply_policy) body.reply_policy = v.reply_policy;
  if (v.auto_assign !== was.auto_assign) body.auto_assign = v.auto_assign;
  if (!sameHours(v.business_hours, was.business_hours)) body.business_hours = v.business_hours;
  if (v.csat_enabled !== was.csat_enabled) body.csat_enabled = v.csat_enabled;
  // The hub trims the question and takes a blank one as the default.
  if (v.csat_question.trim() !== was.csat_question.trim()) body.csat_question = v.csat_question.trim() || null;
  const sla = seconds(v.sla_minutes);
  if (sla !== (s.sla_wait_seconds ?? null)) body.sla_wait_seconds = sla; // NaN included: save refuses it
  return body;
}

interface Props {
  session: SessionView;
  /** Admins edit; managers only look. */
  manage: boolean;
  /** Another action on the session is under way. */
  locked: boolean;
  onSaved: (s: SessionView) => void;
}

/**
 * The session's settings, saved together with one PATCH of what changed. Only the settings
 * edited here are held: the others follow the session as `session.settings` changes it.
 */
export function SessionSettingsForm({ session: s, manage, locked, onSaved }: Props) {
  const id = useId();
  const [edited, setEdited] = useState<Partial<Values>>({});
  const [err, setErr] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const v = { ...valuesOf(s), ...edited };
  const body = changes(s, edited);
  const dirty = Object.keys(body).length > 0;
  const set = <K extends keyof Values>(k: K, x: Values[K]) => {
    setSaved(false);
    setEdited((e) => ({ ...e, [k]: x }));
  };
  const at = (field: keyof SessionSettings) => errorAt(err, field);
  const invalid = (field: keyof SessionSettings) =>
    at(field) ? { "aria-invalid": true, "aria-describedby": `${id}-${field}` } : {};
  const note = (field: keyof SessionSettings) =>
    at(field) && (
      <p class="error sessions-field-error" id={`${id}-${field}`} data-testid={`error-${field}`}>
        {at(field)}
      </p>
    );
  const stray = err && !(err.path && (FIELDS.includes(err.path) || /^business_hours\b/.test(err.path))) ? err : null;

  const save = async (e: Event) => {
    e.preventDefault();
    if (Number.isNaN(body.sla_wait_seconds)) {
      setErr({ path: "sla_wait_seconds", message: "a number of minutes, or empty for no alerts" });
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      onSaved(await patch<SessionView>(`/api/sessions/${encodeURIComponent(s.name)}`, body));
      setEdited({});
      setSaved(true);
    } catch (x) {
      setErr(fieldError(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="sessions-settings-form" onSubmit={save} aria-label={`Settings of ${s.name}`} noValidate>
      <fieldset class="sessions-settings" disabled={!manage || locked || busy}>
        <legend>Settings</legend>
        <label>
          Who may reply
          <select value={v.reply_policy} onChange={(e) => set("reply_policy", e.currentTarget.value as ReplyPolicy)} {...invalid("reply_policy")}>
            <option value="anyone">Anyone who sees the conversation</option>
            <option value="assignee">Only its assignee (and supervisors)</option>
          </select>
        </label>
        {note("reply_policy")}
        <label class="inline">
          <input type="checkbox" checked={v.auto_assign} onChange={(e) => set("auto_assign", e.currentTarget.checked)} />
          Assign waiting conversations automatically
        </label>
        {note("auto_assign")}
        <label class="inline">
          <input type="checkbox" checked={v.csat_enabled} onChange={(e) => set("csat_enabled", e.currentTarget.checked)} {...invalid("csat_enabled")} />
          Ask the customer to rate the help when a conversation is resolved
        </label>
        {note("csat_enabled")}
        <label>
          Rating question
          <textarea
            rows={2}
            maxLength={1000}
            value={v.csat_question}
            placeholder={DEFAULT_CSAT_QUESTION}
            disabled={!v.csat_enabled}
            onInput={(e) => set("csat_question", e.currentTarget.value)}
            {...invalid("csat_question")}
          />
        </label>
        {note("csat_question")}
        <label class="sessions-sla">
          Alert supervisors after
          <span>
            <input
              type="number"
              min={1}
              max={43200}
              step="any"
              placeholder="off"
              value={v.sla_minutes}
              onInput={(e) => set("sla_minutes", e.currentTarget.value)}
              {...invalid("sla_wait_seconds")}
            />
            minutes waiting
          </span>
          <span class="muted sessions-hint">Empty: no alerts. At most 43200 (30 days).</span>
        </label>
        {note("sla_wait_seconds")}
        <HoursEditor
          field="business_hours"
          legend="Business hours"
          toggle="Set business hours (otherwise every hour counts)"
          help="Reports count response times within these hours as well as around the clock."
          value={v.business_hours}
          onChange={(h) => set("business_hours", h)}
          error={err}
        />
      </fieldset>
      {stray && (
        <p class="error" role="alert" data-testid="settings-error">
          Not saved: {stray.path ? `${stray.path}: ` : ""}
          {stray.message}
        </p>
      )}
      {manage && (
        <div class="row">
          <button type="submit" class="primary" disabled={!dirty || busy || locked}>
            {busy ? "Saving…" : "Save settings"}
          </button>
          {dirty && (
            <button
              type="button"
              class="ghost"
              disabled={busy}
              onClick={() => {
                setEdited({});
                setErr(null);
              }}
            >
              Discard changes
            </button>
          )}
          <span class="muted" aria-live="polite">
            {saved && !dirty ? "Saved" : ""}
          </span>
        </div>
      )}
    </form>
  );
}
