// A campaign's progress from its counts, and `campaign.progress` events folded into what a
// page shows.

import { isFinished, type Campaign, type CampaignCounts, type ProgressEvent } from "./types";

export interface Progress {
  total: number;
  /** Recipients past the queue: sent (and further), failed or skipped. */
  done: number;
  /** done / total, 0..1; a finished campaign is full. */
  fraction: number;
  /** The bar's parts as fractions of the total: reached (sent and on), failed, skipped. */
  reached: number;
  failed: number;
  skipped: number;
}

const clamp = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/**
 * `queued` holds the recipients still to send (pending ones too), so what is done is the
 * rest of the total, whatever the hub counts under the later states.
 */
export function progressOf(counts: CampaignCounts, status: Campaign["status"]): Progress {
  const total = Math.max(0, counts.total);
  const done = Math.min(total, Math.max(0, total - counts.queued));
  const part = (n: number) => (total ? clamp(n / total) : 0);
  const failed = part(counts.failed);
  const skipped = part(counts.skipped);
  const reached = clamp(part(done) - failed - skipped);
  const fraction = status === "completed" ? 1 : part(done);
  return { total, done, fraction, reached, failed, skipped };
}

/** "37 of 120 · 30 %" */
export function progressLabel(p: Progress): string {
  if (!p.total) return "No recipients yet";
  return `${p.done} of ${p.total} · ${Math.round(p.fraction * 100)} %`;
}

/**
 * An event applied to the campaign it is about. One older than what the page holds (read
 * by a GET that answered after the event was sent) is dropped: same status, fewer done.
 */
export function applyProgress<T extends Pick<Campaign, "id" | "status" | "counts">>(c: T, ev: ProgressEvent): T {
  if (ev.campaign_id !== c.id) return c;
  const doneNow = c.counts.total - c.counts.queued;
  const doneThen = ev.counts.total - ev.counts.queued;
  if (ev.status === c.status && doneThen < doneNow && ev.counts.total === c.counts.total) return c;
  // A finished campaign does not start again by a late event of its run.
  if (isFinished(c.status) && !isFinished(ev.status)) return c;
  return { ...c, status: ev.status, counts: ev.counts };
}

/** What a member may do to a campaign in `status` (the hub answers 409 to the rest). */
export function actionsFor(status: Campaign["status"]): ("start" | "pause" | "resume" | "cancel" | "delete")[] {
  switch (status) {
    case "draft":
      return ["start", "delete"];
    case "scheduled":
      return ["start", "cancel", "delete"];
    case "running":
      return ["pause", "cancel"];
    case "paused":
      return ["resume", "cancel"];
    default:
      return [];
  }
}

/** "42 %" of a rate in 0..1. */
export const percent = (x: number) => `${Math.round(clamp(x) * 1000) / 10} %`;
