import { percent } from "./progress";
import { SeriesChart } from "./SeriesChart";
import type { ReasonCount, Report } from "./types";

function Reasons({ title, rows, testid }: { title: string; rows: ReasonCount[]; testid: string }) {
  return (
    <div>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <table class="camp-reasons" data-testid={testid}>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td>{r.reason}</td>
                <td class="num">{r.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** A campaign's report: rates of what was sent, why some failed or were skipped, and the hours. */
export function ReportView({ id, report }: { id: number; report: Report }) {
  const c = report.counts;
  return (
    <section class="card camp-report" aria-label="Report" data-testid="campaign-report">
      <div class="row camp-report-head">
        <h2>Report</h2>
        <a href={`/api/campaigns/${id}/recipients?format=csv`} download={`campaign-${id}-recipients.csv`} data-testid="recipients-csv">
          Download recipients (CSV)
        </a>
      </div>
      <dl class="camp-figures">
        {(
          [
            ["Recipients", String(c.total)],
            // Whatever left the queue and neither failed nor was skipped was sent.
            ["Sent", String(Math.max(0, c.total - c.queued - c.failed - c.skipped))],
            ["Delivered", percent(report.rates.delivered)],
            ["Read", percent(report.rates.read)],
            ["Replied", percent(report.rates.replied)],
            ["Failed", String(c.failed)],
            ["Skipped", String(c.skipped)],
            ["Opted out after", String(report.opt_outs)],
          ] as const
        ).map(([k, v]) => (
          <div data-testid={`figure-${k.split(" ")[0].toLowerCase()}`}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <SeriesChart series={report.series} />
      <div class="camp-report-reasons">
        <Reasons title="Failures" rows={report.failures} testid="report-failures" />
        <Reasons title="Skipped" rows={report.skips} testid="report-skips" />
      </div>
    </section>
  );
}
