import { useEffect, useState } from "preact/hooks";
import { getAll } from "../../api/http";
import { navigate } from "../../lib/router";
import { me } from "../../state/session";
import { csvName, defaultRange, REPORTS, reportsFor, reportUrl, type Range, type ReportKind } from "./query";
import { DownloadCsv } from "./DownloadCsv";
import { RangePicker } from "./RangePicker";
import { useReport } from "./useReport";
import { AgentsView, BotsView, CampaignsView, SessionsView } from "./Views";
import type { AgentReport, BotReport, CampaignsReport, SessionReport } from "./types";
import "./reports.css";

/** The report a tab shows: loading, the hub's error, or the figures. */
function ReportBody({ kind, range, showTeam }: { kind: ReportKind; range: Range; showTeam: boolean }) {
  const r = useReport<AgentReport | SessionReport | BotReport | CampaignsReport>(kind, range);
  if (r.error)
    return (
      <p class="error" role="alert" data-testid="report-error">
        {r.error}
      </p>
    );
  if (!r.data)
    return (
      <p class="muted" aria-busy="true">
        Loading the report…
      </p>
    );
  return (
    <div aria-busy={r.loading} class={r.loading ? "rep-stale" : ""} data-testid="report" data-kind={kind}>
      {kind === "agents" && <AgentsView report={r.data as AgentReport} showTeam={showTeam} />}
      {kind === "sessions" && <SessionsView report={r.data as SessionReport} />}
      {kind === "bots" && <BotsView report={r.data as BotReport} />}
      {kind === "campaigns" && <CampaignsView report={r.data as CampaignsReport} />}
    </div>
  );
}

/** Reports over a period: what each role may read of the agents, sessions, bots and campaigns. */
export function Reports({ params }: { params: Record<string, string> }) {
  const role = me.value!.role;
  const kinds = reportsFor(role);
  const kind = kinds.includes(params.tab as ReportKind) ? (params.tab as ReportKind) : kinds[0];
  const [range, setRange] = useState<Range>(() => defaultRange());
  const [sessions, setSessions] = useState<string[]>([]);
  const supervisor = role === "admin" || role === "manager";

  useEffect(() => {
    getAll<{ name: string }>("/api/sessions").then(
      (all) => setSessions(all.map((s) => s.name).sort()),
      () => setSessions([]),
    );
  }, []);

  return (
    <main class="main reports" data-testid="reports">
      <div class="row rep-head">
        <h1>Reports</h1>
        {kinds.length > 1 && (
          <nav class="row rep-tabs" role="tablist" aria-label="Reports">
            {REPORTS.filter((r) => kinds.includes(r.kind)).map((r) => (
              <button
                type="button"
                role="tab"
                aria-selected={r.kind === kind}
                class={r.kind === kind ? "rep-tab active" : "rep-tab"}
                onClick={() => navigate(`/reports/${r.kind}`)}
              >
                {r.label}
              </button>
            ))}
          </nav>
        )}
      </div>
      <RangePicker range={range} onChange={setRange} sessions={sessions} />
      <section class="card rep-body" aria-label={`${REPORTS.find((r) => r.kind === kind)!.label} report`}>
        <div class="row rep-body-head">
          <h2>{REPORTS.find((r) => r.kind === kind)!.label}</h2>
          <DownloadCsv url={reportUrl(kind, range, true)} name={csvName(kind, range)} />
        </div>
        {/* A new kind of report starts empty: another report's rows are not this one's shape. */}
        <ReportBody key={kind} kind={kind} range={range} showTeam={supervisor} />
      </section>
    </main>
  );
}
