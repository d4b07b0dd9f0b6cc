import { useEffect, useState } from "preact/hooks";
import { get, type Page } from "../../api/http";
import { onLink } from "../../lib/router";
import { usePages } from "../../lib/usePages";
import { live } from "../../state/session";
import { applyProgress } from "./progress";
import { ProgressBar, StatusBadge } from "./ProgressBar";
import { STATUS_LABELS, sessionsLabel, type Campaign, type CampaignStatus, type ProgressEvent } from "./types";

const PAGE = 50;

/** Campaigns, newest first, each with its live progress; a status filter. */
export function CampaignList() {
  const [status, setStatus] = useState<CampaignStatus | "">("");
  const pages = usePages<Campaign>((cursor) => get<Page<Campaign>>("/api/campaigns", { status, cursor, limit: PAGE }));

  useEffect(() => {
    void pages.load(null);
  }, [status]);

  useEffect(() => {
    const offs = [
      live.on("campaign.progress", (f) => {
        const ev = f.data as ProgressEvent;
        let known = false;
        pages.setItems((items) =>
          items.map((c) => {
            if (c.id !== ev.campaign_id) return c;
            known = true;
            return applyProgress(c, ev);
          }),
        );
        // A campaign this page has not listed yet (made in another tab): the first page again.
        if (!known && !status) void pages.load(null);
      }),
      live.on("resync", () => void pages.load(null)),
    ];
    return () => offs.forEach((off) => off());
  }, [status]);

  const shown = status ? pages.items.filter((c) => c.status === status) : pages.items;
  return (
    <section class="card camp-list" aria-label="Campaigns">
      <div class="row">
        <label>
          Status
          <select aria-label="Status" value={status} onChange={(e) => setStatus(e.currentTarget.value as CampaignStatus | "")}>
            <option value="">all</option>
            {(Object.keys(STATUS_LABELS) as CampaignStatus[]).map((s) => (
              <option value={s}>{STATUS_LABELS[s].toLowerCase()}</option>
            ))}
          </select>
        </label>
        <a class="button primary camp-new" href="/campaigns/new" onClick={(e) => onLink(e, "/campaigns/new")}>
          New campaign
        </a>
      </div>
      {pages.error && (
        <p class="error" role="alert">
          {pages.error}
        </p>
      )}
      {!pages.busy && !pages.error && shown.length === 0 && <p class="muted">No campaign yet.</p>}
      <ul class="camp-rows">
        {shown.map((c) => (
          <li class="camp-row" data-testid="campaign-row" data-id={c.id}>
            <div class="camp-row-head">
              <a href={`/campaigns/${c.id}`} onClick={(e) => onLink(e, `/campaigns/${c.id}`)} class="camp-row-name">
                {c.name}
              </a>
              <StatusBadge status={c.status} />
              <span class="muted" data-testid="campaign-sessions">{sessionsLabel(c)}</span>
              {c.pause_reason && c.status === "paused" && <span class="muted">({c.pause_reason})</span>}
            </div>
            <ProgressBar campaign={c} />
          </li>
        ))}
      </ul>
      {pages.cursor && (
        <button type="button" disabled={pages.busy} onClick={() => void pages.load(pages.cursor)}>
          Load more
        </button>
      )}
    </section>
  );
}
