import { useEffect, useState } from "preact/hooks";
import { ApiError, getAll, patch, post, postCsv } from "../../api/http";
import { reasonOf } from "../../api/fieldErrors";
import { navigate } from "../../lib/router";
import { TimeZoneSelect } from "../../components/hours/TimeZoneSelect";
import { AudiencePicker } from "./AudiencePicker";
import { draftOf, fieldOfError, newDraft, toBody, toPatch, validate, type Draft, type Errors } from "./form";
import { MessageEditor, syntaxError } from "./MessageEditor";
import type { Campaign, MessageTemplate, SegmentRef, UploadedAudience } from "./types";

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function FieldError({ errors, name }: { errors: Errors; name: string }) {
  return errors[name] ? (
    <span class="error" data-testid={`error-${name}`}>
      {errors[name]}
    </span>
  ) : null;
}

/** The segments to choose from, with the edited campaign's own by the name the hub gave
 * it, should the list not hold it (not read yet, or not readable). */
export function withOwnSegment(list: SegmentRef[], c?: Campaign): SegmentRef[] {
  if (!c || !("segment_id" in c.audience)) return list;
  const { segment_id: id, segment_name: name } = c.audience;
  return list.some((s) => s.id === id) ? list : [{ id, name: name ?? `#${id}` }, ...list];
}

interface Props {
  /** Editing this campaign (a draft, scheduled or paused one); absent: a new one. */
  campaign?: Campaign;
  /** For tests: the clock "in the past" is checked against. */
  now?: () => Date;
}

/** A campaign: who, what, when and how fast; saved as a draft, scheduled, or started now. */
export function CampaignBuilder({ campaign, now = () => new Date() }: Props) {
  const [draft, setDraft] = useState<Draft>(() => (campaign ? draftOf(campaign) : newDraft("", browserZone())));
  const [sessions, setSessions] = useState<string[]>([]);
  const [segments, setSegments] = useState<SegmentRef[]>([]);
  const [templates, setTemplates] = useState<MessageTemplate[]>([]);
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The campaign as saved so far (a new one is saved before its list is uploaded), and
  // what its uploaded list did.
  const [saved, setSaved] = useState<Campaign | undefined>(campaign);
  const [uploaded, setUploaded] = useState<UploadedAudience | null>(null);
  const set = (d: Partial<Draft>) => {
    setDraft((o) => ({ ...o, ...d }));
    // An edited field's old error would only mislead; the next submit checks again.
    if (d.template !== undefined) setErrors(({ template: _, ...rest }) => rest);
  };

  useEffect(() => {
    getAll<{ name: string }>("/api/sessions")
      .then((ss) => {
        const names = ss.map((s) => s.name).sort();
        setSessions(names);
        setDraft((d) => (d.session ? d : { ...d, session: names[0] ?? "" }));
      })
      .catch((e) => setFormError((e as Error).message));
    getAll<SegmentRef>("/api/segments").then(setSegments, () => setSegments([]));
    getAll<MessageTemplate>("/api/templates").then(setTemplates, () => setTemplates([]));
  }, []);

  const submit = async (start: boolean) => {
    const found = validate(draft, now());
    const local = syntaxError(draft.template);
    if (local) found.template = local;
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const c = saved
        ? await patch<Campaign>(`/api/campaigns/${saved.id}`, toPatch(draft))
        : await post<Campaign>("/api/campaigns", toBody(draft));
      setSaved(c);
      if (draft.audience === "upload" && draft.listText) {
        const r = await postCsv<UploadedAudience>(`/api/campaigns/${c.id}/audience`, draft.listText);
        setUploaded(r);
        set({ listText: undefined, listName: undefined, keptList: r.contacts });
        // Saved with its list: the counts (and the rows left out) are read before going on.
        return;
      }
      if (start) await post<Campaign>(`/api/campaigns/${c.id}/start`);
      navigate(`/campaigns/${c.id}`);
    } catch (e) {
      const field = e instanceof ApiError ? fieldOfError(e.field) : null;
      if (field && e instanceof ApiError) setErrors({ [field]: reasonOf(e.message, e.field!) });
      else setFormError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      class="card camp-builder"
      aria-label={campaign ? `Edit campaign ${campaign.name}` : "New campaign"}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void submit(draft.when === "now" && !campaign);
      }}
    >
      <div class="row">
        <label class="camp-field">
          Campaign name
          <input value={draft.name} aria-invalid={errors.name ? true : undefined} onInput={(e) => set({ name: e.currentTarget.value })} />
          <FieldError errors={errors} name="name" />
        </label>
        <label class="camp-field">
          Session
          <select aria-label="Session" value={draft.session} onChange={(e) => {
              const session = e.currentTarget.value;
              set({ session, alsoSessions: draft.alsoSessions.filter((x) => x !== session) });
            }}>
            {sessions.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
          <FieldError errors={errors} name="session" />
        </label>
        {sessions.length > 1 && (
          <fieldset class="camp-field" aria-label="Also send over">
            <legend>Also send over</legend>
            {sessions
              .filter((s) => s !== draft.session)
              .map((s) => (
                <label>
                  <input
                    type="checkbox"
                    checked={draft.alsoSessions.includes(s)}
                    onChange={(e) =>
                      set({
                        alsoSessions: e.currentTarget.checked
                          ? [...draft.alsoSessions, s]
                          : draft.alsoSessions.filter((x) => x !== s),
                      })
                    }
                  />
                  {s}
                </label>
              ))}
            <small class="muted">each person gets the message from their own contact's session; new numbers of an uploaded list are spread evenly</small>
          </fieldset>
        )}
      </div>
      <AudiencePicker draft={draft} set={set} segments={withOwnSegment(segments, campaign)} errors={errors} uploaded={uploaded} />
      <MessageEditor
        draft={draft}
        set={set}
        templates={templates}
        onTemplateSaved={(t) => setTemplates((l) => [...l, t])}
        error={errors.template}
      />
      <fieldset class="camp-fieldset" aria-label="Schedule">
        <legend>Schedule</legend>
        <div class="row">
          {(
            [
              ["now", "Now"],
              ["at", "At a time"],
              ["recurring", "Recurring"],
            ] as const
          ).map(([w, label]) => (
            <label>
              <input type="radio" name="when" checked={draft.when === w} onChange={() => set({ when: w })} />
              {label}
            </label>
          ))}
        </div>
        {draft.when !== "now" && (
          <div class="camp-schedule">
            <label class="camp-field">
              Start at
              <input
                type="datetime-local"
                value={draft.startAt}
                aria-invalid={errors.start_at ? true : undefined}
                onInput={(e) => set({ startAt: e.currentTarget.value })}
              />
              <FieldError errors={errors} name="start_at" />
            </label>
            {draft.when === "recurring" && (
              <label class="camp-field">
                Repeat
                <select aria-label="Repeat" value={draft.recurrence} onChange={(e) => set({ recurrence: e.currentTarget.value as Draft["recurrence"] })}>
                  <option value="daily">every day</option>
                  <option value="weekly">every week</option>
                </select>
              </label>
            )}
            <TimeZoneSelect value={draft.timeZone} onChange={(timeZone) => set({ timeZone })} error={null} />
          </div>
        )}
      </fieldset>
      <fieldset class="camp-fieldset" aria-label="Pace">
        <legend>Pace and limits</legend>
        <div class="row">
          <label class="camp-field">
            Messages per minute
            <input type="number" min="1" max="600" value={draft.rate} onInput={(e) => set({ rate: e.currentTarget.value })} />
            <FieldError errors={errors} name="rate_per_minute" />
          </label>
          <label class="camp-field">
            Jitter (0–0.9)
            <input type="number" min="0" max="0.9" step="0.1" value={draft.jitter} onInput={(e) => set({ jitter: e.currentTarget.value })} />
            <FieldError errors={errors} name="jitter" />
          </label>
          <label class="camp-field">
            Skip contacts messaged by another campaign within (hours)
            <input type="number" min="1" value={draft.cap} placeholder="no cap" onInput={(e) => set({ cap: e.currentTarget.value })} />
            <FieldError errors={errors} name="frequency_cap_hours" />
          </label>
        </div>
        <div class="row">
          <label>
            <input type="checkbox" checked={draft.quiet} onChange={(e) => set({ quiet: e.currentTarget.checked })} />
            Quiet hours (the recipient's time)
          </label>
          {draft.quiet && (
            <>
              <label>
                From
                <input type="time" value={draft.quietStart} onInput={(e) => set({ quietStart: e.currentTarget.value })} />
              </label>
              <label>
                To
                <input type="time" value={draft.quietEnd} onInput={(e) => set({ quietEnd: e.currentTarget.value })} />
              </label>
            </>
          )}
          <FieldError errors={errors} name="quiet_hours" />
        </div>
      </fieldset>
      {formError && (
        <p class="error" role="alert">
          {formError}
        </p>
      )}
      <div class="row">
        <button type="button" disabled={busy} onClick={() => void submit(false)}>
          {campaign ? "Save changes" : draft.when === "now" ? "Save draft" : "Schedule"}
        </button>
        {draft.when === "now" && !campaign && (
          <button type="submit" class="primary" disabled={busy}>
            Start now
          </button>
        )}
      </div>
    </form>
  );
}
