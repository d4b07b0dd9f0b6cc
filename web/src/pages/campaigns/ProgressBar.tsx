import { progressLabel, progressOf } from "./progress";
import { STATUS_LABELS, type Campaign } from "./types";

/** A campaign's progress: sent (and on), failed and skipped as parts of one bar. */
export function ProgressBar({ campaign }: { campaign: Pick<Campaign, "status" | "counts"> }) {
  const p = progressOf(campaign.counts, campaign.status);
  const pct = Math.round(p.fraction * 100);
  return (
    <div class="camp-progress-wrap">
      <div
        class="camp-progress"
        role="progressbar"
        aria-label="Campaign progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={progressLabel(p)}
        data-testid="campaign-progress"
        data-status={campaign.status}
      >
        <span class="camp-bar camp-bar-reached" style={{ width: `${p.reached * 100}%` }} />
        <span class="camp-bar camp-bar-failed" style={{ width: `${p.failed * 100}%` }} />
        <span class="camp-bar camp-bar-skipped" style={{ width: `${p.skipped * 100}%` }} />
      </div>
      <span class="camp-progress-label muted" data-testid="campaign-progress-label">
        {progressLabel(p)}
      </span>
    </div>
  );
}

export function StatusBadge({ status }: { status: Campaign["status"] }) {
  return (
    <span class={`chip camp-status camp-status-${status}`} data-testid="campaign-status">
      {STATUS_LABELS[status]}
    </span>
  );
}
