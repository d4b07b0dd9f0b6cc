// Each report drawn from its JSON: tables of figures and the traffic charts.

import { BarChart } from "./BarChart";
import { HOURS, WEEKDAYS, rate, secs } from "./format";
import type { AgentFigures, AgentReport, BotReport, CampaignsReport, SessionReport } from "./types";

const AGENT_COLUMNS: { label: string; title: string; cell: (a: AgentFigures) => string }[] = [
  { label: "Handled", title: "Conversations resolved while assigned to them", cell: (a) => String(a.conversations_handled) },
  { label: "First response", title: "Median · 90th percentile", cell: (a) => `${secs(a.first_response_median_s)} · ${secs(a.first_response_p90_s)}` },
  {
    label: "First response (business hours)",
    title: "Median · 90th percentile, counting only the session's business hours",
    cell: (a) => `${secs(a.first_response_business_median_s)} · ${secs(a.first_response_business_p90_s)}`,
  },
  { label: "Responses", title: "Every answer to a customer's wait", cell: (a) => String(a.responses) },
  { label: "Response time", title: "Median · 90th percentile", cell: (a) => `${secs(a.response_median_s)} · ${secs(a.response_p90_s)}` },
  { label: "Resolution", title: "Median · 90th percentile", cell: (a) => `${secs(a.resolution_median_s)} · ${secs(a.resolution_p90_s)}` },
  { label: "Resolution (business hours)", title: "Median", cell: (a) => secs(a.resolution_business_median_s) },
  { label: "Messages sent", title: "Messages they sent through tickhub", cell: (a) => String(a.messages_sent) },
];

export function AgentsView({ report, showTeam }: { report: AgentReport; showTeam: boolean }) {
  if (report.items.length === 0) return <p class="muted">No figures in this period.</p>;
  const row = (a: AgentFigures, team: boolean) => (
    <tr class={team ? "rep-team" : ""} data-testid={team ? "agent-team" : `agent-${a.user_id}`}>
      <th scope="row">{team ? "Team" : (a.name ?? `#${a.user_id}`)}</th>
      {AGENT_COLUMNS.map((c) => (
        <td class="num" data-col={c.label}>
          {c.cell(a)}
        </td>
      ))}
    </tr>
  );
  return (
    <div class="rep-scroll">
      <table class="rep-table" data-testid="agents-table">
        <thead>
          <tr>
            <th>Member</th>
            {AGENT_COLUMNS.map((c) => (
              <th title={c.title}>{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {report.items.map((a) => row(a, false))}
          {showTeam && row(report.team, true)}
        </tbody>
      </table>
      <p class="muted rep-note">Durations: median · 90th percentile.</p>
    </div>
  );
}

export function SessionsView({ report }: { report: SessionReport }) {
  if (report.items.length === 0) return <p class="muted">No sessions in this report.</p>;
  return (
    <div class="stack">
      {report.items.map((s) => (
        <section class="card rep-session" data-testid={`session-${s.session}`} aria-label={`Session ${s.session}`}>
          <h3>{s.session}</h3>
          <dl class="rep-figures">
            <div>
              <dt>Messages in</dt>
              <dd data-testid="messages-in">{s.messages_in}</dd>
            </div>
            <div>
              <dt>Messages out</dt>
              <dd data-testid="messages-out">{s.messages_out}</dd>
            </div>
            <div>
              <dt>Conversations started</dt>
              <dd>{s.conversations_started}</dd>
            </div>
            <div>
              <dt>Bot resolved alone</dt>
              <dd>
                {s.bot_auto_resolved} of {s.bot_conversations}
              </dd>
            </div>
          </dl>
          <div class="rep-charts">
            <BarChart title="By hour of day" slots={s.by_hour_of_day} labels={HOURS} testid="chart-hours" />
            <BarChart title="By weekday" slots={s.by_day_of_week} labels={WEEKDAYS} testid="chart-weekdays" />
          </div>
        </section>
      ))}
    </div>
  );
}

export function BotsView({ report }: { report: BotReport }) {
  if (report.items.length === 0) return <p class="muted">No bots in this report.</p>;
  return (
    <div class="stack">
      {report.items.map((b) => {
        const handoffs = Object.entries(b.handoffs).filter(([, n]) => n > 0);
        const total = handoffs.reduce((n, [, c]) => n + c, 0);
        return (
          <section class="card" data-testid={`bot-${b.bot_id}`} aria-label={`Bot ${b.name}`}>
            <h3>{b.name}</h3>
            <dl class="rep-figures">
              {(
                [
                  ["Conversations", b.conversations],
                  ["Matches", b.matches],
                  ["Misses", b.misses],
                  ["Handoffs", total],
                  ["Resolved without a person", b.resolved_without_person],
                  ["Failures", b.failures],
                ] as const
              ).map(([k, v]) => (
                <div>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
            <div class="rep-bot-tables">
              <table class="rep-table" aria-label="Handoffs by reason">
                <thead>
                  <tr>
                    <th>Handoff reason</th>
                    <th>Count</th>
                  </tr>
                </thead>
                <tbody>
                  {handoffs.length === 0 && (
                    <tr>
                      <td colSpan={2} class="muted">
                        None.
                      </td>
                    </tr>
                  )}
                  {handoffs.map(([reason, n]) => (
                    <tr>
                      <td>{reason.replace(/_/g, " ")}</td>
                      <td class="num">{n}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <table class="rep-table" aria-label="Triggers">
                <thead>
                  <tr>
                    <th>Trigger</th>
                    <th>Matches</th>
                    <th>Handoffs</th>
                  </tr>
                </thead>
                <tbody>
                  {b.triggers.length === 0 && (
                    <tr>
                      <td colSpan={3} class="muted">
                        No triggers matched.
                      </td>
                    </tr>
                  )}
                  {b.triggers.map((t) => (
                    <tr>
                      <td>#{t.trigger_id}</td>
                      <td class="num">{t.matches}</td>
                      <td class="num">{t.handoffs}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        );
      })}
    </div>
  );
}

export function CampaignsView({ report }: { report: CampaignsReport }) {
  if (report.items.length === 0) return <p class="muted">No campaign started in this period.</p>;
  return (
    <div class="rep-scroll">
      <table class="rep-table" data-testid="campaigns-table">
        <thead>
          <tr>
            <th>Campaign</th>
            <th>Sessions</th>
            <th>Status</th>
            <th>Started</th>
            <th>Recipients</th>
            <th>Delivered</th>
            <th>Read</th>
            <th>Replied</th>
            <th>Failed</th>
          </tr>
        </thead>
        <tbody>
          {report.items.map((c) => (
            <tr data-testid={`campaign-${c.id}`}>
              <th scope="row">{c.name}</th>
              <td>{(c.sessions ?? [c.session]).join(", ")}</td>
              <td>{c.status}</td>
              <td>{c.started_at ? new Date(c.started_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "–"}</td>
              <td class="num">{c.counts.total}</td>
              <td class="num">{rate(c.delivery_rate)}</td>
              <td class="num">{rate(c.read_rate)}</td>
              <td class="num">{rate(c.reply_rate)}</td>
              <td class="num">{c.counts.failed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
