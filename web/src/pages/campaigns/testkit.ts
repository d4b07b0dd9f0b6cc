// Campaigns as the hub answers them, for the page tests.

import type { Campaign, CampaignCounts, Report } from "./types";

export const counts = (c: Partial<CampaignCounts> = {}): CampaignCounts => ({
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

export const campaign = (c: Partial<Campaign> = {}): Campaign => ({
  id: 5,
  name: "Black Friday",
  session: "default",
  audience: { segment_id: 3 },
  template: "Hi {{contact.first_name}}",
  status: "draft",
  start_at: null,
  time_zone: "UTC",
  recurrence: null,
  quiet_hours: null,
  rate_per_minute: 12,
  jitter: 0.5,
  frequency_cap_hours: null,
  pause_reason: null,
  counts: counts(),
  created_by: 1,
  created_at: "2026-12-07T10:00:00Z",
  updated_at: "2026-12-07T10:00:00Z",
  started_at: null,
  completed_at: null,
  ...c,
});

export const report = (r: Partial<Report> = {}): Report => ({
  counts: counts(),
  rates: { delivered: 0, read: 0, replied: 0 },
  failures: [],
  skips: [],
  opt_outs: 0,
  series: [],
  ...r,
});
