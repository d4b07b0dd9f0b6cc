import { useEffect, useRef, useState } from "preact/hooks";
import { del, get, post } from "../../api/http";
import { formatErr } from "../../api/fieldErrors";
import { navigate, onLink } from "../../lib/router";
import { live } from "../../state/session";
import { CampaignBuilder } from "./CampaignBuilder";
import { actionsFor, applyProgress } from "./progress";
import { ProgressBar, StatusBadge } from "./ProgressBar";
import { RecipientList } from "./RecipientList";
import { ReportView } from "./ReportView";
import { audienceLabel, isEditable, isFinished, sessionsLabel, type Campaign, type ProgressEvent, type Report } from "./types";

/** How often, at most, the report is read again while progress events arrive. */
export const REPORT_EVERY_MS = 2000;

const LABELS = { start: "Start", pause: "Pause", resume: "Resume", cancel: "Cancel", delete: "Delete" } as const;

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : "—";
}

/** The builder on an existing campaign, once it is read. */
export function EditCampaign({ id }: { id: number }) {
  const [c, setC] = useState<Campaign | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Campaign>(`/api/campaigns/${id}`).then(setC, (e) => setError(formatErr(e)));
  }, [id]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!c) return <p class="muted">Loading…</p>;
  if (!isEditable(c.status)) return <p class="notice">A {c.status} campaign cannot be edited: pause it first.</p>;
  return <CampaignBuilder campaign={c} />;
}

/** Sends the message to one number, over the session chosen when the campaign has several. */
function TestSend({ id, sessions }: { id: number; sessions: string[] }) {
  const [phone, setPhone] = useState("");
  const [session, setSession] = useState(sessions[0]);
  const [note, setNote] = useState<string | null>(null);
  const send = async (e: Event) => {
    e.preventDefault();
    setNote(null);
    try {
      await post(`/api/campaigns/${id}/test`, sessions.length > 1 ? { phone: phone.trim(), session } : { phone: phone.trim() });
      setNote(sessions.length > 1 ? `Sent to ${phone.trim()} from ${session}` : `Sent to ${phone.trim()}`);
    } catch (err) {
      setNote(formatErr(err));
    }
  };
  return (
    <form class="row" aria-label="Send a test" onSubmit={send}>
      <label>
        Send a test to
        <input type="tel" value={phone} placeholder="+447700900123" onInput={(e) => setPhone(e.currentTarget.value)} />
      </label>
      {sessions.length > 1 && (
        <label>
          from
          <select value={session} onChange={(e) => setSession(e.currentTarget.value)}>
            {sessions.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
      )}
      <button type="submit" disabled={!phone.trim()}>
        Send test
      </button>
      {note && (
        <span role="status" class="muted" data-testid="test-note">
          {note}
        </span>
      )}
    </form>
  );
}

/** One campaign: its live progress, what may be done to it, and its report. */
export function CampaignPage({ id }: { id: number }) {
  const [c, setC] = useState<Campaign | null>(null);
  const current = useRef<Campaign | null>(null);
  current.current = c;
  const [report, setReport] = useState<Report | null>(null);
  // Moves each time the report is read again, so the recipients are read with it.
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const reportTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const lastReport = useRef(0);

  const loadReport = async () => {
    lastReport.current = Date.now();
    try {
      setReport(await get<Report>(`/api/campaigns/${id}/report`));
      setVersion((v) => v + 1);
    } catch {
      /* the report follows the next event */
    }
  };
  /** At most every REPORT_EVERY_MS, and once more after the last event. */
  const reportLater = () => {
    clearTimeout(reportTimer.current);
    const wait = Math.max(0, lastReport.current + REPORT_EVERY_MS - Date.now());
    reportTimer.current = setTimeout(() => void loadReport(), wait);
  };

  const load = async () => {
    try {
      setC(await get<Campaign>(`/api/campaigns/${id}`));
      setError(null);
      void loadReport();
    } catch (e) {
      setError(formatErr(e));
    }
  };

  useEffect(() => {
    void load();
    const offs = [
      live.on("campaign.progress", (f) => {
        const ev = f.data as ProgressEvent;
        if (ev.campaign_id !== id) return;
        // A new status brings what the event does not carry (started_at, completed_at,
        // pause_reason): read the campaign again, which answers at least as new as the event.
        if (current.current && ev.status !== current.current.status) void load();
        setC((old) => (old ? applyProgress(old, ev) : old));
        reportLater();
      }),
      live.on("resync", () => void load()),
    ];
    return () => {
      clearTimeout(reportTimer.current);
      offs.forEach((off) => off());
    };
  }, [id]);

  const act = async (a: keyof typeof LABELS) => {
    setBusy(true);
    setError(null);
    try {
      if (a === "delete") {
        await del(`/api/campaigns/${id}`);
        navigate("/campaigns");
        return;
      }
      setC(await post<Campaign>(`/api/campaigns/${id}/${a}`));
      reportLater();
    } catch (e) {
      setError(formatErr(e));
    } finally {
      setBusy(false);
    }
  };

  if (!c)
    return error ? (
      <p class="error" role="alert">
        {error}
      </p>
    ) : (
      <p class="muted">Loading…</p>
    );
  const audience = audienceLabel(c.audience);
  return (
    <div class="camp-page" data-testid="campaign-page" data-id={c.id}>
      <section class="card camp-summary" aria-label="Campaign">
        <div class="row">
          <a href="/campaigns" onClick={(e) => onLink(e, "/campaigns")}>
            ← Campaigns
          </a>
        </div>
        <div class="row camp-title">
          <h2 data-testid="campaign-name">{c.name}</h2>
          <StatusBadge status={c.status} />
          {c.pause_reason && (c.status === "paused" || c.status === "draft") && (
            <span class="muted" data-testid="pause-reason">
              {c.pause_reason}
            </span>
          )}
        </div>
        <ProgressBar campaign={c} />
        <div class="row camp-actions">
          {isEditable(c.status) && (
            <a class="camp-edit" href={`/campaigns/${c.id}/edit`} onClick={(e) => onLink(e, `/campaigns/${c.id}/edit`)}>
              Edit
            </a>
          )}
          {actionsFor(c.status).map((a) => (
            <button
              type="button"
              class={a === "start" || a === "resume" ? "primary" : a === "cancel" || a === "delete" ? "danger" : ""}
              disabled={busy}
              onClick={() => void act(a)}
            >
              {LABELS[a]}
            </button>
          ))}
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <dl class="camp-facts">
          <dt>{(c.sessions?.length ?? 1) > 1 ? "Sessions" : "Session"}</dt>
          <dd data-testid="campaign-sessions">{sessionsLabel(c)}</dd>
          <dt>Audience</dt>
          <dd data-testid="campaign-audience">{audience}</dd>
          <dt>Starts</dt>
          <dd>
            {c.start_at ? `${when(c.start_at)} (${c.time_zone})` : "when started"}
            {c.recurrence ? `, then ${c.recurrence}` : ""}
          </dd>
          <dt>Pace</dt>
          <dd>
            {c.rate_per_minute} a minute (± {Math.round(c.jitter * 100)} %)
            {c.quiet_hours ? `, quiet ${c.quiet_hours.start}–${c.quiet_hours.end}` : ""}
            {c.frequency_cap_hours ? `, at most one campaign message per ${c.frequency_cap_hours} h` : ""}
          </dd>
          <dt>Started</dt>
          <dd>{when(c.started_at)}</dd>
          <dt>{isFinished(c.status) ? "Ended" : "Ends"}</dt>
          <dd data-testid="campaign-ended">{when(c.completed_at)}</dd>
        </dl>
        <h3>Message</h3>
        <p class="camp-bubble camp-template">{c.template}</p>
        {!isFinished(c.status) && <TestSend id={c.id} sessions={c.sessions?.length ? c.sessions : [c.session]} />}
      </section>
      <div class="camp-side">
        {report && <ReportView id={c.id} report={report} />}
        <RecipientList id={c.id} version={version} />
      </div>
    </div>
  );
}
