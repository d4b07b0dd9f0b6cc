//! Transaction scripts for a campaign's lifecycle: each move of its status commits with
//! what goes with it (the plan of its recipients when it starts, the next run of a
//! recurring campaign when it completes) and a `campaign.progress` event.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::campaigns::{self, Audience, CampaignRow, Counts};
use super::{campaign_recipients, campaign_sessions, events, members, segments, Result, Tx};
use crate::domain::campaign::{next_run, CampaignStatus};
use crate::domain::segment_filter::Filter;
use crate::domain::{EventKind, EventScope};

/// Logs `campaign.progress` for the campaign as it stands in this transaction.
pub async fn log_progress(tx: &mut Tx, row: &CampaignRow) -> Result<Counts> {
    let counts = campaigns::counts_in(tx, row.id).await?;
    log_counts(tx, row.id, row.session_id, row.status, &counts).await?;
    Ok(counts)
}

pub async fn log_counts(
    tx: &mut Tx,
    id: i64,
    session_id: i64,
    status: CampaignStatus,
    counts: &Counts,
) -> Result<()> {
    let data = json!({"campaign_id": id, "status": status, "counts": counts});
    let sessions: Vec<i64> = campaign_sessions::of_in(tx, &[id])
        .await?
        .remove(&id)
        .map(|s| s.iter().map(|s| s.id).collect())
        .unwrap_or_default();
    if sessions.len() <= 1 {
        return events::append(
            tx,
            EventKind::CampaignProgress,
            EventScope::session(session_id),
            &data,
        )
        .await;
    }
    // Over several sessions, a session's scope would also reach members of that session
    // alone, who may not see the campaign: each member who may run it in every one of
    // them is told by name.
    for m in members::active_facts_in(tx).await? {
        if m.viewer().may_run_campaign_in(&sessions).is_ok() {
            events::append(
                tx,
                EventKind::CampaignProgress,
                EventScope::user(m.id),
                &data,
            )
            .await?;
        }
    }
    Ok(())
}

/// Moves the campaign from `from` to `to`: starting plans its recipients (`filter`: the
/// segment's, read before the transaction), cancelling skips those not yet queued.
/// `None` when it was not in `from` any more.
pub async fn transition(
    tx: &mut Tx,
    id: i64,
    from: CampaignStatus,
    to: CampaignStatus,
    reason: Option<&str>,
    filter: Option<&Filter>,
) -> Result<Option<CampaignRow>> {
    if !campaigns::set_status(tx, id, from, to, reason).await? {
        return Ok(None);
    }
    let Some(row) = campaigns::get_in(tx, id).await? else {
        return Ok(None);
    };
    let planned = matches!(from, CampaignStatus::Draft | CampaignStatus::Scheduled);
    if to == CampaignStatus::Running && planned {
        let s = row.settings();
        campaign_recipients::plan(tx, id, &s.sessions, &s.audience, filter).await?;
    }
    if from == CampaignStatus::Paused && to == CampaignStatus::Running {
        // What held recipients back may have changed while it was paused (its quiet
        // hours, a contact's time zone): each is checked again when its turn comes.
        campaign_recipients::release_deferred(tx, id).await?;
    }
    if to == CampaignStatus::Cancelled {
        campaign_recipients::skip_planned(tx, id).await?;
    }
    log_progress(tx, &row).await?;
    Ok(Some(row))
}

/// Why a scheduled campaign whose segment was deleted was not started.
pub const SEGMENT_DELETED: &str =
    "its segment was deleted before its time came: choose an audience, then schedule or start it again";

/// Why a scheduled campaign without any audience was not started.
pub const NO_AUDIENCE: &str =
    "it has no audience (its segment was deleted, or its list was never uploaded): \
     choose one, then schedule or start it again";

/// A scheduled campaign whose time came, started (only if still scheduled). `filter` is
/// its segment's, read before the transaction: `None` when the segment was gone then,
/// `Some(Err(why))` when its filter no longer reads. A campaign whose audience is gone
/// (its segment deleted in a race with the scheduler, or unreadable) is not completed
/// with nobody planned: it goes back to draft, `pause_reason` saying why, for a member to
/// choose another audience.
pub async fn start_due(
    tx: &mut Tx,
    id: i64,
    filter: Option<&std::result::Result<Filter, String>>,
) -> Result<Option<CampaignRow>> {
    let Some(row) = campaigns::get_in(tx, id).await? else {
        return Ok(None);
    };
    if row.status != CampaignStatus::Scheduled {
        return Ok(None);
    }
    let gone = match (row.settings().audience, filter) {
        (Audience::Segment(sid), _) if segments::get_in(tx, sid).await?.is_none() => {
            Some(SEGMENT_DELETED.to_string())
        }
        (Audience::Segment(_), None) => Some(SEGMENT_DELETED.to_string()),
        (Audience::Segment(_), Some(Err(why))) => Some(format!(
            "its segment no longer reads ({why}): fix the segment or choose another audience"
        )),
        // No contact named: its segment was deleted (the campaign's `segment_id` was
        // cleared with it), or the list it was created for was never uploaded.
        (Audience::Contacts(ids), _) if ids.is_empty() => Some(NO_AUDIENCE.to_string()),
        _ => None,
    };
    let (to, reason) = match &gone {
        Some(why) => (CampaignStatus::Draft, Some(why.as_str())),
        None => (CampaignStatus::Running, None),
    };
    let filter = filter.and_then(|f| f.as_ref().ok());
    transition(tx, id, CampaignStatus::Scheduled, to, reason, filter).await
}

/// Every recipient is handled: the campaign is completed, and a recurring one schedules
/// its next run as a new campaign (answered with it).
pub async fn complete(tx: &mut Tx, id: i64) -> Result<Option<(CampaignRow, Option<i64>)>> {
    let Some(row) = transition(
        tx,
        id,
        CampaignStatus::Running,
        CampaignStatus::Completed,
        None,
        None,
    )
    .await?
    else {
        return Ok(None);
    };
    let s = row.settings();
    let (Some(every), Ok(tz)) = (s.recurrence, s.time_zone.parse::<chrono_tz::Tz>()) else {
        return Ok(Some((row, None)));
    };
    let ms = |t: i64| DateTime::<Utc>::from_timestamp_millis(t).unwrap_or_default();
    let first = ms(s.start_at.or(row.started_at).unwrap_or(tx.now));
    let Some(next) = next_run(first, tz, every, ms(tx.now)) else {
        return Ok(Some((row, None)));
    };
    let mut again = s.clone();
    again.start_at = Some(next.timestamp_millis());
    let parent = row.parent_id.unwrap_or(row.id);
    let next_id = campaigns::insert(
        tx,
        &again,
        CampaignStatus::Scheduled,
        row.created_by,
        Some(parent),
    )
    .await?;
    if let Some(n) = campaigns::get_in(tx, next_id).await? {
        log_progress(tx, &n).await?;
    }
    Ok(Some((row, Some(next_id))))
}
