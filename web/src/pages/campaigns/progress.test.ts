import { describe, expect, test } from "vitest";
import { actionsFor, applyProgress, percent, progressLabel, progressOf } from "./progress";
import type { CampaignCounts } from "./types";

const counts = (c: Partial<CampaignCounts> = {}): CampaignCounts => ({
  total: 0,
  queued: 0,
  sent: 0,
  delivered: 0,
  read: 0,
  replied: 0,
  failed: 0,
  skipped: 0,
  ...c,
});

describe("progress", () => {
  test("done is what left the queue; the bar's parts add up to it", () => {
    const p = progressOf(counts({ total: 200, queued: 120, sent: 40, delivered: 20, read: 5, failed: 10, skipped: 5 }), "running");
    expect(p.done).toBe(80);
    expect(p.fraction).toBe(0.4);
    expect(p.failed).toBe(0.05);
    expect(p.skipped).toBe(0.025);
    expect(p.reached + p.failed + p.skipped).toBeCloseTo(p.fraction);
    expect(progressLabel(p)).toBe("80 of 200 · 40 %");
  });

  test("before planning, nothing; a completed campaign is full; counts never overflow", () => {
    expect(progressOf(counts(), "draft")).toMatchObject({ total: 0, done: 0, fraction: 0 });
    expect(progressLabel(progressOf(counts(), "draft"))).toBe("No recipients yet");
    expect(progressOf(counts({ total: 3, queued: 1 }), "completed").fraction).toBe(1);
    expect(progressOf(counts({ total: 3, queued: -4 }), "running").fraction).toBe(1);
    expect(progressOf(counts({ total: 3, queued: 9 }), "running").fraction).toBe(0);
  });

  test("an event updates its own campaign only, and a stale one is dropped", () => {
    const c = { id: 5, status: "running" as const, counts: counts({ total: 10, queued: 6 }) };
    expect(applyProgress(c, { campaign_id: 6, status: "paused", counts: counts() })).toBe(c);
    const later = applyProgress(c, { campaign_id: 5, status: "running", counts: counts({ total: 10, queued: 2, sent: 8 }) });
    expect(later.counts.queued).toBe(2);
    // Sent before the GET that answered with 4 done: fewer done, same status.
    expect(applyProgress(c, { campaign_id: 5, status: "running", counts: counts({ total: 10, queued: 8 }) })).toBe(c);
    const paused = applyProgress(c, { campaign_id: 5, status: "paused", counts: c.counts });
    expect(paused.status).toBe("paused");
    const done = { ...c, status: "completed" as const };
    expect(applyProgress(done, { campaign_id: 5, status: "running", counts: counts({ total: 10, queued: 0 }) })).toBe(done);
  });

  test("the actions each status offers", () => {
    expect(actionsFor("draft")).toEqual(["start", "delete"]);
    expect(actionsFor("running")).toEqual(["pause", "cancel"]);
    expect(actionsFor("paused")).toEqual(["resume", "cancel"]);
    expect(actionsFor("completed")).toEqual([]);
    expect(percent(0.4567)).toBe("45.7 %");
    expect(percent(2)).toBe("100 %");
  });
});

describe("what the builder and the chart show", async () => {
  const { audienceText } = await import("./AudiencePicker");
  const { linePoints } = await import("./SeriesChart");
  test("the audience line names only the skips there are", () => {
    expect(audienceText({ total: 10, eligible: 8, skipped: { opted_out: 1, erased: 0, no_number: 1 } })).toBe(
      "8 will receive it · of 10: 1 opted out, 1 without a number",
    );
    expect(audienceText({ total: 2, eligible: 2, skipped: { opted_out: 0, erased: 0, no_number: 0 } })).toBe("2 will receive it · of 2");
    expect(audienceText({ total: 5, eligible: 3, skipped: { duplicate_number: 1, bounced_twice: 1 } })).toBe(
      "3 will receive it · of 5: 1 sharing a number with another, 1 bounced twice",
    );
  });
  test("a line spans the chart, scaled to the largest value", () => {
    expect(linePoints([0, 5, 10], 10)).toBe("36.0,176.0 333.0,93.0 630.0,10.0");
    expect(linePoints([3], 0)).toBe("36.0,176.0");
  });
});
