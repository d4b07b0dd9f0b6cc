import { useEffect, useState } from "preact/hooks";
import { patch } from "../../api/http";
import { HoursEditor } from "../../components/hours/HoursEditor";
import { ChipsInput } from "./ChipsInput";
import { errorAt, fieldError, type FieldError } from "../../api/fieldErrors";
import { TemplateField } from "./TemplateField";
import type { PreviewVars } from "./template";
import type { Bot, BusinessHours } from "./types";

interface Draft {
  name: string;
  sessions: string[];
  active: boolean;
  greeting: string;
  fallback: string;
  handoff_keywords: string[];
  handoff_after_misses: string;
  handoff_immediately: boolean;
  business_hours: BusinessHours | null;
  after_hours_message: string;
}

const draftOf = (b: Bot): Draft => ({
  name: b.name,
  sessions: b.sessions,
  active: b.active,
  greeting: b.greeting ?? "",
  fallback: b.fallback ?? "",
  handoff_keywords: b.handoff_keywords,
  handoff_after_misses: b.handoff_after_misses === null ? "" : String(b.handoff_after_misses),
  handoff_immediately: b.handoff_immediately,
  business_hours: b.business_hours,
  after_hours_message: b.after_hours_message ?? "",
});

// The hub refuses an empty template ("greeting: empty"): an empty box means "none".
const orNull = (s: string) => (s.trim() ? s : null);

export function bodyOf(d: Draft) {
  const misses = d.handoff_after_misses.trim();
  return {
    name: d.name,
    sessions: d.sessions,
    active: d.active,
    greeting: orNull(d.greeting),
    fallback: orNull(d.fallback),
    handoff_keywords: d.handoff_keywords,
    // A non-number goes as it is typed so the hub's 422 names the field.
    handoff_after_misses: misses === "" ? null : Number.isInteger(Number(misses)) ? Number(misses) : misses,
    handoff_immediately: d.handoff_immediately,
    business_hours: d.business_hours,
    after_hours_message: orNull(d.after_hours_message),
  };
}

interface Props {
  bot: Bot;
  /** Every session the member may attach (GET /api/sessions). */
  sessions: string[];
  vars: PreviewVars;
  onSaved: (b: Bot) => void;
  /** Business hours as edited, for the previews' `{{business.hours_today}}`. */
  onHoursChange?: (h: BusinessHours | null) => void;
}

/** The bot's own settings, saved together with one PATCH. */
export function BotSettings({ bot, sessions, vars, onSaved, onHoursChange }: Props) {
  const [d, setD] = useState<Draft>(() => draftOf(bot));
  const [err, setErr] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  useEffect(() => setD(draftOf(bot)), [bot.id, bot.version]);
  useEffect(() => onHoursChange?.(d.business_hours), [d.business_hours]);

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setSaved(false);
    setD((x) => ({ ...x, [k]: v }));
  };
  const at = (path: string) => errorAt(err, path);
  const keywordError = (i: number | null) => at(i === null ? "handoff_keywords" : `handoff_keywords[${i}]`);
  const allSessions = [...new Set([...sessions, ...d.sessions])].sort();

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const b = await patch<Bot>(`/api/bots/${bot.id}`, bodyOf(d));
      setSaved(true);
      onSaved(b);
    } catch (x) {
      setErr(fieldError(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card stack bots-settings" onSubmit={save} aria-label="Bot settings" noValidate>
      <h2>Settings</h2>
      <label>
        Name
        <input value={d.name} required maxLength={200} aria-invalid={at("name") ? true : undefined} onInput={(e) => set("name", e.currentTarget.value)} />
        {at("name") && <span class="error bots-field-error">{at("name")}</span>}
      </label>
      <fieldset class="bots-sessions">
        <legend>Sessions it answers</legend>
        {allSessions.length === 0 && <p class="muted">No WhatsApp sessions yet.</p>}
        {allSessions.map((s) => {
          // The hub names a session by its index in the list sent: `sessions[1]: … already served by bot 3`.
          const i = d.sessions.indexOf(s);
          const e = i < 0 ? null : at(`sessions[${i}]`);
          return (
            <div key={s} class="row">
              <label class="inline">
                <input
                  type="checkbox"
                  checked={i >= 0}
                  aria-invalid={e ? true : undefined}
                  onChange={(ev) => set("sessions", ev.currentTarget.checked ? [...d.sessions, s] : d.sessions.filter((x) => x !== s))}
                />
                {s}
              </label>
              {e && <span class="error bots-field-error">{e}</span>}
            </div>
          );
        })}
        {at("sessions") && <p class="error bots-field-error">{at("sessions")}</p>}
      </fieldset>
      <label class="inline">
        <input type="checkbox" checked={d.active} onChange={(e) => set("active", e.currentTarget.checked)} />
        Active (answers customers)
      </label>
      <TemplateField id="bot-greeting" label="Greeting (to a first-time contact)" value={d.greeting} onChange={(v) => set("greeting", v)} vars={vars} error={at("greeting")} rows={2} />
      <TemplateField id="bot-fallback" label="Fallback (when nothing matches)" value={d.fallback} onChange={(v) => set("fallback", v)} vars={vars} error={at("fallback")} rows={2} />
      <ChipsInput id="bot-keywords" label="Handoff keywords" values={d.handoff_keywords} onChange={(v) => set("handoff_keywords", v)} placeholder="Type a word, press Enter" errorFor={keywordError} />
      <div class="row bots-handoff">
        <label>
          Hand off after misses in a row
          <input
            type="number"
            min={1}
            max={100}
            value={d.handoff_after_misses}
            placeholder="never"
            aria-invalid={at("handoff_after_misses") ? true : undefined}
            onInput={(e) => set("handoff_after_misses", e.currentTarget.value)}
          />
        </label>
        <label class="inline">
          <input type="checkbox" checked={d.handoff_immediately} onChange={(e) => set("handoff_immediately", e.currentTarget.checked)} />
          Hand off immediately (after the greeting)
        </label>
      </div>
      {at("handoff_after_misses") && <p class="error bots-field-error">{at("handoff_after_misses")}</p>}
      <HoursEditor
        field="business_hours"
        legend="Business hours"
        toggle="Only open at set hours (otherwise always open)"
        help="Outside them the bot sends the after-hours message."
        value={d.business_hours}
        onChange={(v) => set("business_hours", v)}
        error={err}
      />
      <TemplateField
        id="bot-after-hours"
        label="After-hours message"
        value={d.after_hours_message}
        onChange={(v) => set("after_hours_message", v)}
        vars={vars}
        error={at("after_hours_message")}
        rows={2}
      />
      {err && (
        <p class="error" role="alert" data-testid="settings-error">
          Not saved: {err.path ? `${err.path}: ` : ""}
          {err.message}
        </p>
      )}
      <div class="row">
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save settings"}
        </button>
        <span class="muted" aria-live="polite">
          {saved ? "Saved" : ""}
        </span>
      </div>
    </form>
  );
}
