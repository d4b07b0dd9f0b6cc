//! Campaigns: their settings and their status. The recipients, and everything a send
//! changes, are `campaign_recipients`.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::contact_filter::Dialect;
use super::{campaign_sessions, id_list, in_id_list, Db, Result, Tx};
use crate::domain::campaign::{
    CampaignMedia, CampaignStatus, Pace, QuietHours, RecipientState, Recurrence,
};
use crate::domain::SessionRef;

/// Who a campaign reaches.
#[derive(Debug, Clone, PartialEq)]
pub enum Audience {
    Segment(i64),
    Contacts(Vec<i64>),
}

/// A campaign's settings, checked (`actors::hub::campaigns`), as they are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub name: String,
    /// The sessions it sends over, in the order named (one or more, each once); the
    /// first is `campaigns.session_id`.
    pub sessions: Vec<i64>,
    pub audience: Audience,
    pub template: String,
    pub media: Option<CampaignMedia>,
    /// ms since the Unix epoch; `None`: not scheduled.
    pub start_at: Option<i64>,
    pub time_zone: String,
    pub recurrence: Option<Recurrence>,
    pub quiet: Option<QuietHours>,
    pub pace: Pace,
    pub frequency_cap_hours: Option<i64>,
}

impl Settings {
    /// The first session: the one its events and audit entries are filed under.
    pub fn first_session(&self) -> i64 {
        self.sessions.first().copied().unwrap_or_default()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    /// Its first session (`sessions[0]`).
    pub session_id: i64,
    pub session: String,
    /// Every session it sends over, in order (filled after the row is read:
    /// `campaign_sessions::attach`).
    #[sqlx(skip)]
    pub sessions: Vec<SessionRef>,
    pub segment_id: Option<i64>,
    /// The segment's name now (`None` with `segment_id`: it was deleted meanwhile).
    pub segment_name: Option<String>,
    pub contact_ids: Option<String>,
    pub template: String,
    pub media_url: Option<String>,
    pub media_mimetype: Option<String>,
    pub media_filename: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: CampaignStatus,
    pub start_at: Option<i64>,
    pub time_zone: String,
    pub recurrence: Option<String>,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    pub rate_per_minute: i64,
    pub jitter: f64,
    pub frequency_cap_hours: Option<i64>,
    pub pause_reason: Option<String>,
    pub parent_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

impl CampaignRow {
    /// The settings again, as they were stored (checked when written).
    pub fn settings(&self) -> Settings {
        let audience = match (self.segment_id, &self.contact_ids) {
            (Some(id), _) => Audience::Segment(id),
            (None, ids) => Audience::Contacts(
                ids.as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or_default(),
            ),
        };
        let quiet = match (&self.quiet_start, &self.quiet_end) {
            (Some(s), Some(e)) => QuietHours::parse(s, e).ok(),
            _ => None,
        };
        let sessions = if self.sessions.is_empty() {
            vec![self.session_id]
        } else {
            self.sessions.iter().map(|s| s.id).collect()
        };
        Settings {
            name: self.name.clone(),
            sessions,
            audience,
            template: self.template.clone(),
            media: match (&self.media_url, &self.media_mimetype) {
                (Some(url), Some(mimetype)) => Some(CampaignMedia {
                    url: url.clone(),
                    mimetype: mimetype.clone(),
                    filename: self.media_filename.clone(),
                }),
                _ => None,
            },
            start_at: self.start_at,
            time_zone: self.time_zone.clone(),
            recurrence: self.recurrence.as_deref().and_then(Recurrence::parse),
            quiet,
            pace: Pace {
                rate_per_minute: self.rate_per_minute,
                jitter: self.jitter,
            },
            frequency_cap_hours: self.frequency_cap_hours,
        }
    }
}

/// Where a campaign's recipients stand now: each is counted once, so they add up to
/// `total` (`queued` holds those not yet handed to WAHA, planned or queued).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = CampaignCounts)]
pub struct Counts {
    pub total: i64,
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
    pub failed: i64,
    pub skipped: i64,
}

impl Counts {
    pub fn merge(&mut self, o: &Counts) {
        self.total += o.total;
        self.queued += o.queued;
        self.sent += o.sent;
        self.delivered += o.delivered;
        self.read += o.read;
        self.replied += o.replied;
        self.failed += o.failed;
        self.skipped += o.skipped;
    }

    fn add(&mut self, state: RecipientState, n: i64) {
        use RecipientState as R;
        self.total += n;
        let slot = match state {
            R::Pending | R::Queued => &mut self.queued,
            R::Sent => &mut self.sent,
            R::Delivered => &mut self.delivered,
            R::Read => &mut self.read,
            R::Replied => &mut self.replied,
            R::Failed => &mut self.failed,
            R::Skipped => &mut self.skipped,
        };
        *slot += n;
    }
}

const SELECT: &str = "SELECT c.id, c.name, c.session_id, s.name AS session, c.segment_id, g.name AS segment_name, c.contact_ids,
        c.template, c.media_url, c.media_mimetype, c.media_filename, c.status, c.start_at, c.time_zone, c.recurrence, c.quiet_start, c.quiet_end,
        c.rate_per_minute, c.jitter, c.frequency_cap_hours, c.pause_reason, c.parent_id, c.created_by,
        c.created_at, c.updated_at, c.started_at, c.completed_at
    FROM campaigns c JOIN wa_sessions s ON s.id = c.session_id LEFT JOIN segments g ON g.id = c.segment_id";

pub async fn get(db: &Db, id: i64) -> Result<Option<CampaignRow>> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    let row: Option<CampaignRow> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
    let mut rows: Vec<CampaignRow> = row.into_iter().collect();
    campaign_sessions::attach_from(db, &mut rows).await?;
    Ok(rows.pop())
}

/// The campaign's row without its list of sessions (`sessions` empty): what a runner
/// reads before each recipient, one query.
pub async fn get_for_sending(db: &Db, id: i64) -> Result<Option<CampaignRow>> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    let row = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
    Ok(row)
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<CampaignRow>> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    let row: Option<CampaignRow> =
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await)?;
    let mut rows: Vec<CampaignRow> = row.into_iter().collect();
    let found = campaign_sessions::of_in(tx, &[id]).await?;
    campaign_sessions::attach(&mut rows, found);
    Ok(rows.pop())
}

/// Within `$n` (an [`id_list`] of sessions, or NULL: all): every session of the campaign
/// is one of them (a campaign is a member's only if all its sessions are).
fn within_sessions(d: Dialect, n: usize) -> String {
    let p = format!("${n}");
    // Past `$n IS NULL`, `in_id_list`'s own NULL test is false: its NOT is "not listed".
    format!(
        "({p} IS NULL OR ({} AND NOT EXISTS (SELECT 1 FROM campaign_sessions cs
               WHERE cs.campaign_id = c.id AND NOT {})))",
        in_id_list(d, "c.session_id", &p),
        in_id_list(d, "cs.session_id", &p)
    )
}

/// Newest first, within `sessions` (`None`: all), optionally of one status.
pub async fn list(
    db: &Db,
    sessions: Option<&[i64]>,
    status: Option<CampaignStatus>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<CampaignRow>> {
    let sql = format!(
        "{SELECT} WHERE ($1 IS NULL OR c.id < $1)
           AND {}
           AND ($3 IS NULL OR c.status = $3)
         ORDER BY c.id DESC LIMIT $4",
        within_sessions(Dialect::of(db), 2)
    );
    let mut rows: Vec<CampaignRow> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(before).bind(id_list(sessions)).bind(status.map(|s| s.as_str())).bind(limit)
        .fetch_all(p).await)?;
    campaign_sessions::attach_from(db, &mut rows).await?;
    Ok(rows)
}

/// Campaigns that started in `[from, to)` within `sessions` (`None`: all; every one of a
/// campaign's sessions must be in it) and, with `over`, sending over that session too;
/// newest first.
pub async fn started_between(
    db: &Db,
    sessions: Option<&[i64]>,
    over: Option<i64>,
    from: i64,
    to: i64,
) -> Result<Vec<CampaignRow>> {
    let sql = format!(
        "{SELECT} WHERE c.started_at >= $1 AND c.started_at < $2
           AND {}
           AND ($4 IS NULL OR EXISTS (SELECT 1 FROM campaign_sessions o
                                      WHERE o.campaign_id = c.id AND o.session_id = $4))
         ORDER BY c.started_at DESC, c.id DESC",
        within_sessions(Dialect::of(db), 3)
    );
    let mut rows: Vec<CampaignRow> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(from).bind(to).bind(id_list(sessions)).bind(over).fetch_all(p).await)?;
    campaign_sessions::attach_from(db, &mut rows).await?;
    Ok(rows)
}

/// The campaigns that may still send or are due to, for the supervisor's look.
pub async fn live(db: &Db) -> Result<Vec<CampaignRow>> {
    let sql =
        format!("{SELECT} WHERE c.status IN ('scheduled', 'running', 'paused') ORDER BY c.id");
    let mut rows: Vec<CampaignRow> =
        on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
    campaign_sessions::attach_from(db, &mut rows).await?;
    Ok(rows)
}

/// A campaign that still needs its segment (not finished), as a refusal names it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SegmentUser {
    pub id: i64,
    pub name: String,
    pub session_id: i64,
    /// All its sessions (filled after the row is read).
    #[sqlx(skip)]
    pub sessions: Vec<i64>,
    #[sqlx(try_from = "String")]
    pub status: CampaignStatus,
}

/// The unfinished campaigns (draft, scheduled, running, paused) whose audience is the
/// segment, read in the transaction that would delete it.
pub async fn using_segment(tx: &mut Tx, segment_id: i64) -> Result<Vec<SegmentUser>> {
    let mut rows: Vec<SegmentUser> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, name, session_id, status FROM campaigns
         WHERE segment_id = $1 AND status IN ('draft', 'scheduled', 'running', 'paused')
         ORDER BY id")
        .bind(segment_id).fetch_all(c).await)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut found = campaign_sessions::of_in(tx, &ids).await?;
    for r in &mut rows {
        r.sessions = found
            .remove(&r.id)
            .map(|s| s.into_iter().map(|s| s.id).collect())
            .unwrap_or_else(|| vec![r.session_id]);
    }
    Ok(rows)
}

/// Campaigns that finished after `since`: their recipients' acks and replies still move.
pub async fn finished_since(db: &Db, since: i64) -> Result<Vec<(i64, i64)>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, session_id FROM campaigns WHERE status IN ('completed', 'cancelled') AND updated_at > $1")
        .bind(since).fetch_all(p).await)?;
    Ok(rows)
}

/// The sessions with a campaign whose replies are still tracked (sent to since `since`).
pub async fn sessions_with_recent(db: &Db, since: i64) -> Result<Vec<i64>> {
    let rows = on_pool!(db, p => sqlx::query_scalar(
        "SELECT DISTINCT cs.session_id FROM campaigns c JOIN campaign_sessions cs ON cs.campaign_id = c.id
         WHERE c.status IN ('running', 'paused') OR (c.started_at IS NOT NULL AND c.updated_at > $1)")
        .bind(since).fetch_all(p).await)?;
    Ok(rows)
}

fn contact_ids_text(a: &Audience) -> (Option<i64>, Option<String>) {
    match a {
        Audience::Segment(id) => (Some(*id), None),
        Audience::Contacts(ids) => (None, serde_json::to_string(ids).ok()),
    }
}

pub async fn insert(
    tx: &mut Tx,
    s: &Settings,
    status: CampaignStatus,
    by: Option<i64>,
    parent_id: Option<i64>,
) -> Result<i64> {
    let now = tx.now;
    let (segment_id, contact_ids) = contact_ids_text(&s.audience);
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO campaigns (name, session_id, segment_id, contact_ids, template, status, start_at,
            time_zone, recurrence, quiet_start, quiet_end, rate_per_minute, jitter, frequency_cap_hours,
            parent_id, created_by, created_at, updated_at, media_url, media_mimetype, media_filename)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19, $20)
         RETURNING id")
        .bind(&s.name).bind(s.first_session()).bind(segment_id).bind(contact_ids).bind(&s.template)
        .bind(status.as_str()).bind(s.start_at).bind(&s.time_zone).bind(s.recurrence.map(|r| r.as_str()))
        .bind(s.quiet.map(|q| q.start_text())).bind(s.quiet.map(|q| q.end_text()))
        .bind(s.pace.rate_per_minute).bind(s.pace.jitter).bind(s.frequency_cap_hours)
        .bind(parent_id).bind(by).bind(now)
        .bind(s.media.as_ref().map(|m| &m.url)).bind(s.media.as_ref().map(|m| &m.mimetype))
        .bind(s.media.as_ref().and_then(|m| m.filename.as_ref()))
        .fetch_one(c).await)?;
    campaign_sessions::set(tx, id, &s.sessions).await?;
    Ok(id)
}

/// Writes every setting, and the status they imply (draft or scheduled) for a campaign
/// not yet started; only while it is editable (`false`: it was not). A campaign not yet
/// started loses the reason it went back to draft: it was edited since.
pub async fn save(tx: &mut Tx, id: i64, s: &Settings, status: CampaignStatus) -> Result<bool> {
    let now = tx.now;
    let (segment_id, contact_ids) = contact_ids_text(&s.audience);
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE campaigns SET name = $2, session_id = $3, segment_id = $4, contact_ids = $5, template = $6,
            start_at = $7, time_zone = $8, recurrence = $9, quiet_start = $10, quiet_end = $11,
            rate_per_minute = $12, jitter = $13, frequency_cap_hours = $14, status = $15, updated_at = $16,
            media_url = $17, media_mimetype = $18, media_filename = $19,
            pause_reason = CASE WHEN $15 = 'paused' THEN pause_reason ELSE NULL END
         WHERE id = $1 AND status IN ('draft', 'scheduled', 'paused')")
        .bind(id).bind(&s.name).bind(s.first_session()).bind(segment_id).bind(contact_ids).bind(&s.template)
        .bind(s.start_at).bind(&s.time_zone).bind(s.recurrence.map(|r| r.as_str()))
        .bind(s.quiet.map(|q| q.start_text())).bind(s.quiet.map(|q| q.end_text()))
        .bind(s.pace.rate_per_minute).bind(s.pace.jitter).bind(s.frequency_cap_hours)
        .bind(status.as_str()).bind(now)
        .bind(s.media.as_ref().map(|m| &m.url)).bind(s.media.as_ref().map(|m| &m.mimetype))
        .bind(s.media.as_ref().and_then(|m| m.filename.as_ref()))
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n > 0 {
        campaign_sessions::set(tx, id, &s.sessions).await?;
    }
    Ok(n > 0)
}

/// Replaces the audience of a campaign not yet started (`false`: it had started, or is
/// gone); a reason it went back to draft goes with the old audience.
pub async fn set_audience(tx: &mut Tx, id: i64, audience: &Audience) -> Result<bool> {
    let now = tx.now;
    let (segment_id, contact_ids) = contact_ids_text(audience);
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE campaigns SET segment_id = $2, contact_ids = $3, pause_reason = NULL, updated_at = $4
         WHERE id = $1 AND status IN ('draft', 'scheduled')")
        .bind(id).bind(segment_id).bind(contact_ids).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Moves a campaign from `from` to `to` (and records why, for a pause); `false` when it
/// was not in `from` (another node or request moved it first).
pub async fn set_status(
    tx: &mut Tx,
    id: i64,
    from: CampaignStatus,
    to: CampaignStatus,
    reason: Option<&str>,
) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE campaigns SET status = $3, pause_reason = $4, updated_at = $5,
            started_at = CASE WHEN $3 = 'running' THEN COALESCE(started_at, $5) ELSE started_at END,
            completed_at = CASE WHEN $3 IN ('completed', 'cancelled') THEN $5 ELSE completed_at END
         WHERE id = $1 AND status = $2")
        .bind(id).bind(from.as_str()).bind(to.as_str()).bind(reason).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Deletes a campaign that never started (`false`: it had).
pub async fn delete(tx: &mut Tx, id: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "DELETE FROM campaigns WHERE id = $1 AND status IN ('draft', 'scheduled')")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The counts of each of `ids`, in one query.
pub async fn counts(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Counts>> {
    Ok(counts_by_session(db, ids)
        .await?
        .into_iter()
        .map(|(id, per)| {
            let mut total = Counts::default();
            for c in per.values() {
                total.merge(c);
            }
            (id, total)
        })
        .collect())
}

/// The counts of each of `ids`, per session its recipients are sent from, in one query.
pub async fn counts_by_session(db: &Db, ids: &[i64]) -> Result<HashMap<i64, HashMap<i64, Counts>>> {
    let mut out: HashMap<i64, HashMap<i64, Counts>> =
        ids.iter().map(|id| (*id, HashMap::new())).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    // One placeholder per id (never the values themselves): each is a range of the
    // (campaign_id, session_id, state) index.
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT campaign_id, COALESCE(session_id, 0), state, COUNT(*) FROM campaign_recipients
         WHERE campaign_id IN ({}) GROUP BY campaign_id, COALESCE(session_id, 0), state",
        marks.join(", ")
    );
    let rows: Vec<(i64, i64, String, i64)> = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    for (id, session, state, n) in rows {
        if let (Some(c), Some(s)) = (out.get_mut(&id), RecipientState::parse(&state)) {
            c.entry(session).or_default().add(s, n);
        }
    }
    Ok(out)
}

pub async fn counts_in(tx: &mut Tx, id: i64) -> Result<Counts> {
    let rows: Vec<(String, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT state, COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 GROUP BY state")
        .bind(id).fetch_all(c).await)?;
    let mut out = Counts::default();
    for (state, n) in rows {
        if let Some(s) = RecipientState::parse(&state) {
            out.add(s, n);
        }
    }
    Ok(out)
}
