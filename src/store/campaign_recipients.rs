//! A campaign's recipients: planned once when it starts (one statement over the
//! audience), queued one at a time in the recipient's conversation (the message, its
//! outbox row and the recipient's `queued` commit together, so a crash neither sends
//! twice nor forgets anyone), then moved on by the outbox and WAHA's acks, and by the
//! customer's reply.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::campaigns::Audience;
use super::contact_filter::{bind_params, Dialect, Sql};
use super::conversations::{self, NewConversation};
use super::{Db, Result, Tx};
use crate::domain::bot::template::{Template, Vars};
use crate::domain::bot::ContactVars;
use crate::domain::campaign::{skip, QuietHours, RecipientState, REPLY_WINDOW_MS};
use crate::domain::segment_filter::Filter;
use crate::domain::{AckStatus, ConversationStatus, SessionRef};

/// A contact that may not be messaged.
const BLOCKED: &str = "(c.erased_at IS NOT NULL OR c.consent = 'opted_out')";

/// The audience as a condition over `contacts c`: the segment's filter (none: nobody, its
/// segment was deleted), or the ids named, bound as one JSON array.
fn audience_cond(sql: &mut Sql, audience: &Audience, filter: Option<&Filter>) -> String {
    match (audience, filter) {
        (Audience::Segment(_), Some(f)) => sql.filter(f),
        (Audience::Segment(_), None) => "1 = 0".to_string(),
        (Audience::Contacts(ids), _) => {
            let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
            let p = sql.bind(super::contact_filter::Param::Text(ids));
            in_json_ids(sql.dialect, "c.id", &p)
        }
    }
}

/// `col` is one of the ids in the JSON array bound at `p`.
fn in_json_ids(dialect: Dialect, col: &str, p: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("{col} IN (SELECT value FROM json_each({p}))"),
        Dialect::Postgres => format!(
            "{col} IN (SELECT CAST(v AS BIGINT) FROM jsonb_array_elements_text(CAST({p} AS JSONB)) AS v)"
        ),
    }
}

/// The session ids as one JSON array, bound once (a campaign's sessions are few).
fn session_list(session_ids: &[i64]) -> String {
    serde_json::to_string(session_ids).unwrap_or_else(|_| "[]".into())
}

/// Plans the audience: one row per contact of the campaign's sessions in it, each once,
/// `skipped` (with why) when it may not be messaged: erased, opted out, or a second
/// contact with the same number, in the same session or another (the one that blocks, if
/// any, stands for the number, so an opt-out under one contact covers the others). Each
/// row carries its contact's session, the one it is sent from. Answers how many were
/// planned.
pub async fn plan(
    tx: &mut Tx,
    campaign_id: i64,
    session_ids: &[i64],
    audience: &Audience,
    filter: Option<&Filter>,
) -> Result<u64> {
    let now = tx.now;
    let dialect = match &tx.conn {
        super::writer::Conn::Sqlite(_) => Dialect::Sqlite,
        super::writer::Conn::Postgres(_) => Dialect::Postgres,
    };
    let mut sql = Sql::new(dialect, 4, now);
    let cond = audience_cond(&mut sql, audience, filter);
    let in_sessions = in_json_ids(dialect, "c.session_id", "$3");
    let text = format!(
        "INSERT INTO campaign_recipients (campaign_id, contact_id, chat_id, session_id, state, reason, created_at, updated_at)
         SELECT $1, x.id, x.chat_id, x.session_id, CASE WHEN x.reason IS NULL THEN 'pending' ELSE 'skipped' END, x.reason, $2, $2
         FROM (
             SELECT c.id, c.chat_id, c.session_id,
                 CASE WHEN ROW_NUMBER() OVER (
                           PARTITION BY COALESCE(c.phone, c.chat_id)
                           ORDER BY CASE WHEN {BLOCKED} THEN 0 ELSE 1 END, c.id) > 1
                          THEN '{dup}'
                      WHEN c.erased_at IS NOT NULL THEN '{erased}'
                      WHEN c.consent = 'opted_out' THEN '{opted_out}'
                 END AS reason
             FROM contacts c
             WHERE {in_sessions} AND {cond}
         ) x
         WHERE 1 = 1
         ORDER BY x.id
         ON CONFLICT (campaign_id, contact_id) DO NOTHING",
        dup = skip::DUPLICATE_NUMBER,
        erased = skip::ERASED,
        opted_out = skip::OPTED_OUT,
    );
    let n = on_tx!(tx, c => {
        let q = sqlx::query(sqlx::AssertSqlSafe(text))
            .persistent(false)
            .bind(campaign_id).bind(now).bind(session_list(session_ids));
        bind_params!(q, &sql.params).execute(c).await.map(|r| r.rows_affected())
    })?;
    Ok(n)
}

/// Which of `ids` are contacts of one of the sessions (one query, however many ids).
pub async fn contacts_in_sessions(
    db: &Db,
    session_ids: &[i64],
    ids: &[i64],
) -> Result<std::collections::HashSet<i64>> {
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let dialect = Dialect::of(db);
    let cond = in_json_ids(dialect, "id", "$2");
    let in_sessions = in_json_ids(dialect, "session_id", "$1");
    let text = format!("SELECT id FROM contacts WHERE {in_sessions} AND {cond}");
    let found: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(text))
        .bind(session_list(session_ids)).bind(list).fetch_all(p).await)?;
    Ok(found.into_iter().collect())
}

/// The audience as a builder shows it before anything is planned: how many contacts,
/// how many may be messaged, and why the others may not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AudienceCount {
    pub total: i64,
    pub eligible: i64,
    pub skipped: SkipCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SkipCounts {
    pub opted_out: i64,
    pub erased: i64,
    pub duplicate_number: i64,
}

/// Counts what `plan` would write, without writing it.
pub async fn count_audience(
    db: &Db,
    session_ids: &[i64],
    audience: &Audience,
    filter: Option<&Filter>,
    now: i64,
) -> Result<AudienceCount> {
    let dialect = Dialect::of(db);
    let mut sql = Sql::new(dialect, 2, now);
    let cond = audience_cond(&mut sql, audience, filter);
    let in_sessions = in_json_ids(dialect, "c.session_id", "$1");
    let text = format!(
        "SELECT COUNT(*),
                COALESCE(SUM(CASE WHEN x.n > 1 THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN x.n = 1 AND x.erased THEN 1 ELSE 0 END), 0),
                COALESCE(SUM(CASE WHEN x.n = 1 AND NOT x.erased AND x.opted_out THEN 1 ELSE 0 END), 0)
         FROM (
             SELECT ROW_NUMBER() OVER (
                        PARTITION BY COALESCE(c.phone, c.chat_id)
                        ORDER BY CASE WHEN {BLOCKED} THEN 0 ELSE 1 END, c.id) AS n,
                    c.erased_at IS NOT NULL AS erased,
                    COALESCE(c.consent = 'opted_out', FALSE) AS opted_out
             FROM contacts c WHERE {in_sessions} AND {cond}
         ) x"
    );
    let (total, dup, erased, opted_out): (i64, i64, i64, i64) = on_pool!(db, p => {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(text)).persistent(false).bind(session_list(session_ids));
        bind_params!(q, &sql.params).fetch_one(p).await
    })?;
    Ok(AudienceCount {
        total,
        eligible: total - dup - erased - opted_out,
        skipped: SkipCounts {
            opted_out,
            erased,
            duplicate_number: dup,
        },
    })
}

/// The next recipient to queue: planned, and not waiting out its quiet hours.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Next {
    pub id: i64,
    pub contact_id: i64,
    pub chat_id: String,
}

/// The session's next recipients in order, at most `limit` (each session's runner sends
/// its own share, reading a few ahead).
pub async fn next_pending(
    db: &Db,
    campaign_id: i64,
    session_id: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<Next>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, contact_id, chat_id FROM campaign_recipients
         WHERE campaign_id = $1 AND session_id = $3 AND state = 'pending'
           AND (not_before IS NULL OR not_before <= $2)
         ORDER BY id LIMIT $4")
        .bind(campaign_id).bind(now).bind(session_id).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

/// How many recipients are queued (handed to a session's queue, not yet to WAHA), of
/// one session (`Some`) or of all: a short range of a state index, however large the
/// campaign.
pub async fn queued(db: &Db, campaign_id: i64, session_id: Option<i64>) -> Result<i64> {
    let n = on_pool!(db, p => match session_id {
        Some(s) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM campaign_recipients
             WHERE campaign_id = $1 AND session_id = $2 AND state = 'queued'")
            .bind(campaign_id).bind(s).fetch_one(p).await,
        None => sqlx::query_scalar(
            "SELECT COUNT(*) FROM campaign_recipients WHERE campaign_id = $1 AND state = 'queued'")
            .bind(campaign_id).fetch_one(p).await,
    })?;
    Ok(n)
}

/// Whether any recipient is still planned (of one session, or of all), and the earliest
/// time a planned one waits for (asked only when none is due: every planned one is in
/// its quiet hours).
pub async fn planned(
    db: &Db,
    campaign_id: i64,
    session_id: Option<i64>,
) -> Result<(bool, Option<i64>)> {
    let row: (i64, Option<i64>) = on_pool!(db, p => match session_id {
        Some(s) => sqlx::query_as(
            "SELECT COUNT(*), MIN(not_before) FROM campaign_recipients
             WHERE campaign_id = $1 AND session_id = $2 AND state = 'pending'")
            .bind(campaign_id).bind(s).fetch_one(p).await,
        None => sqlx::query_as(
            "SELECT COUNT(*), MIN(not_before) FROM campaign_recipients
             WHERE campaign_id = $1 AND state = 'pending'")
            .bind(campaign_id).fetch_one(p).await,
    })?;
    Ok((row.0 > 0, row.1))
}

/// What queueing one recipient needs (cheap to clone: the template is shared).
#[derive(Debug, Clone)]
pub struct QueueJob {
    pub campaign_id: i64,
    pub recipient_id: i64,
    pub contact_id: i64,
    pub chat_id: String,
    pub session: SessionRef,
    pub template: std::sync::Arc<Template>,
    /// Sent with the text as its caption.
    pub media: Option<crate::domain::Media>,
    pub quiet: Option<QuietHours>,
    /// The campaign's time zone: the recipient's own (attribute `time_zone`) wins.
    pub time_zone: Tz,
    pub frequency_cap_ms: Option<i64>,
}

/// What became of a recipient.
#[derive(Debug, Clone, PartialEq)]
pub enum Queued {
    /// Its message and outbox row are stored.
    Queued {
        outbox_id: i64,
    },
    Skipped(&'static str),
    /// In its quiet hours: planned again for this time (ms).
    Deferred(i64),
    /// Nothing to do: the campaign no longer runs, or the recipient was already handled.
    Stopped,
    /// Not now: the session's queue holds `MAX_QUEUED` of the campaign's messages not yet
    /// handed to WAHA (a WAHA that fails holds the campaign back, not the queue's memory).
    Busy,
}

/// A campaign's messages queued in one session and not yet handed to WAHA, at most.
pub const MAX_QUEUED: i64 = 2;

/// What queueing a recipient reads first, in one statement: the campaign's status, the
/// recipient's state, how many of the campaign's messages wait in the session's queue,
/// and the contact (`None` fields: erased).
#[derive(sqlx::FromRow)]
struct Check {
    status: Option<String>,
    state: Option<String>,
    queued: i64,
    contact_id: Option<i64>,
    name: Option<String>,
    push_name: Option<String>,
    phone: Option<String>,
    attributes: Option<String>,
    consent: Option<String>,
    erased_at: Option<i64>,
}

/// Queues one recipient, in its conversation's turn: checks again what may have changed
/// since it was planned (the campaign paused, the contact opted out or was erased,
/// another campaign reached it within the frequency cap, its quiet hours), then stores
/// the rendered message with its outbox row and marks the recipient queued.
pub async fn queue(tx: &mut Tx, job: &QueueJob) -> Result<Queued> {
    let now = tx.now;
    let check: Option<Check> = on_tx!(tx, c => sqlx::query_as(
        "SELECT c.status, r.state,
                (SELECT COUNT(*) FROM campaign_recipients q
                 WHERE q.campaign_id = c.id AND q.session_id = $3 AND q.state = 'queued') AS queued,
                k.id AS contact_id, k.name, k.push_name, k.phone, k.attributes, k.consent, k.erased_at
         FROM campaigns c
         JOIN campaign_recipients r ON r.id = $2 AND r.campaign_id = c.id
         LEFT JOIN contacts k ON k.id = r.contact_id
         WHERE c.id = $1")
        .bind(job.campaign_id).bind(job.recipient_id).bind(job.session.id)
        .fetch_optional(c).await)?;
    let Some(check) = check else {
        return Ok(Queued::Stopped);
    };
    if check.status.as_deref() != Some("running") || check.state.as_deref() != Some("pending") {
        return Ok(Queued::Stopped);
    }
    if check.queued >= MAX_QUEUED {
        return Ok(Queued::Busy);
    }
    if check.contact_id.is_none() || check.erased_at.is_some() {
        return skip_now(tx, job.recipient_id, skip::ERASED).await;
    }
    if check.consent.as_deref() == Some("opted_out") {
        return skip_now(tx, job.recipient_id, skip::OPTED_OUT).await;
    }
    if let Some(cap) = job.frequency_cap_ms {
        let recent: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT id FROM campaign_recipients
             WHERE contact_id = $1 AND campaign_id <> $2 AND queued_at IS NOT NULL AND queued_at > $3
             LIMIT 1")
            .bind(job.contact_id).bind(job.campaign_id).bind(now - cap).fetch_optional(c).await)?;
        if recent.is_some() {
            return skip_now(tx, job.recipient_id, skip::FREQUENCY_CAP).await;
        }
    }
    let attributes: serde_json::Map<String, serde_json::Value> = check
        .attributes
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let at = DateTime::<Utc>::from_timestamp_millis(now).unwrap_or_default();
    if let Some(quiet) = job.quiet {
        let tz = attributes
            .get("time_zone")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Tz>().ok())
            .unwrap_or(job.time_zone);
        if let Some(end) = quiet.ends_after(at, tz) {
            let until = end.timestamp_millis();
            on_tx!(tx, c => sqlx::query(
                "UPDATE campaign_recipients SET not_before = $2, updated_at = $3 WHERE id = $1")
                .bind(job.recipient_id).bind(until).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
            return Ok(Queued::Deferred(until));
        }
    }
    let vars = ContactVars {
        name: check.name,
        push_name: check.push_name,
        phone: check.phone,
        attributes,
    };
    let text = job.template.render(&Vars::new(&vars, None, None, at));
    if text.trim().is_empty() {
        return skip_now(tx, job.recipient_id, skip::EMPTY_MESSAGE).await;
    }
    let conv = match conversations::find_in(tx, job.session.id, &job.chat_id).await? {
        Some(c) => c,
        None => {
            // Nothing to answer yet: the conversation waits, resolved, for the customer's
            // reply, which reopens it for the bot or the team like any new message.
            let title = vars
                .display_name()
                .map(str::to_string)
                .or(vars.phone.clone());
            let id = conversations::insert(
                tx,
                &NewConversation {
                    session_id: job.session.id,
                    chat_id: &job.chat_id,
                    contact_id: Some(job.contact_id),
                    is_group: false,
                    title: title.as_deref(),
                    status: ConversationStatus::Resolved,
                    bot_id: None,
                },
            )
            .await?;
            conversations::get_in(tx, id).await?
        }
    };
    let (message_id, outbox_id) =
        super::outbound::store_campaign_message(tx, &conv, &text, job.media.as_ref()).await?;
    on_tx!(tx, c => sqlx::query(
        "UPDATE campaign_recipients SET state = 'queued', message_id = $2, queued_at = $3, updated_at = $3
         WHERE id = $1")
        .bind(job.recipient_id).bind(message_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(Queued::Queued { outbox_id })
}

async fn skip_now(tx: &mut Tx, recipient_id: i64, reason: &'static str) -> Result<Queued> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE campaign_recipients SET state = 'skipped', reason = $2, updated_at = $3
         WHERE id = $1 AND state = 'pending'")
        .bind(recipient_id).bind(reason).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(Queued::Skipped(reason))
}

/// Planned recipients waiting out their quiet hours are due again (checked anew).
pub async fn release_deferred(tx: &mut Tx, campaign_id: i64) -> Result<u64> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE campaign_recipients SET not_before = NULL
         WHERE campaign_id = $1 AND state = 'pending' AND not_before IS NOT NULL")
        .bind(campaign_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// A cancelled campaign's planned recipients will never be messaged.
pub async fn skip_planned(tx: &mut Tx, campaign_id: i64) -> Result<u64> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE campaign_recipients SET state = 'skipped', reason = $2, updated_at = $3
         WHERE campaign_id = $1 AND state = 'pending'")
        .bind(campaign_id).bind(skip::CANCELLED).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// A campaign message's status moved (`update_status`): its recipient follows, forward
/// only. `error`: why it failed. Answers the campaign when a recipient changed.
pub async fn follow_message(
    tx: &mut Tx,
    message_id: i64,
    status: AckStatus,
    error: Option<&str>,
) -> Result<Option<i64>> {
    let state = match status {
        AckStatus::Sent => RecipientState::Sent,
        AckStatus::Delivered => RecipientState::Delivered,
        AckStatus::Read | AckStatus::Played => RecipientState::Read,
        AckStatus::Failed => RecipientState::Failed,
        AckStatus::Pending => return Ok(None),
    };
    let from: Vec<&str> = state.reached_from().iter().map(|s| s.as_str()).collect();
    let now = tx.now;
    // A read implies a delivery, and both a send: earlier stamps are filled when WAHA
    // skipped an ack (it sends only the latest when several happen at once).
    let text = format!(
        "UPDATE campaign_recipients SET state = $2, reason = COALESCE($3, reason), updated_at = $4,
            sent_at = CASE WHEN $2 IN ('sent', 'delivered', 'read') THEN COALESCE(sent_at, $4) ELSE sent_at END,
            delivered_at = CASE WHEN $2 IN ('delivered', 'read') THEN COALESCE(delivered_at, $4) ELSE delivered_at END,
            read_at = CASE WHEN $2 = 'read' THEN COALESCE(read_at, $4) ELSE read_at END
         WHERE message_id = $1 AND state IN ('{}')
         RETURNING campaign_id",
        from.join("', '")
    );
    let campaign: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(text))
        .bind(message_id).bind(state.as_str()).bind(error).bind(now)
        .fetch_optional(c).await)?;
    if campaign.is_none() && matches!(state, RecipientState::Delivered | RecipientState::Read) {
        // After a reply the state stays `replied`; the ack still dates the delivery/read.
        let c2: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
            "UPDATE campaign_recipients SET delivered_at = COALESCE(delivered_at, $2),
                read_at = CASE WHEN $3 THEN COALESCE(read_at, $2) ELSE read_at END
             WHERE message_id = $1 AND state = 'replied' RETURNING campaign_id")
            .bind(message_id).bind(now).bind(state == RecipientState::Read)
            .fetch_optional(c).await)?;
        return Ok(c2);
    }
    Ok(campaign)
}

/// The customer wrote: each campaign message sent to them within the reply window
/// counts as replied to.
pub async fn replied(tx: &mut Tx, contact_id: i64) -> Result<u64> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE campaign_recipients SET state = 'replied', replied_at = $2, updated_at = $2
         WHERE contact_id = $1 AND queued_at IS NOT NULL AND queued_at > $3
           AND state IN ('sent', 'delivered', 'read')")
        .bind(contact_id).bind(now).bind(now - REPLY_WINDOW_MS)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// A recipient as the campaign's page lists it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Recipient {
    #[serde(skip)]
    pub id: i64,
    pub contact_id: i64,
    pub name: Option<String>,
    pub phone: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: RecipientState,
    pub reason: Option<String>,
    pub queued_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub read_at: Option<i64>,
    pub replied_at: Option<i64>,
}

/// In planning order, after `after` (a recipient row id), at most `limit`.
pub async fn list(
    db: &Db,
    campaign_id: i64,
    state: Option<RecipientState>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Recipient>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT r.id, r.contact_id, c.name, c.phone, r.state, r.reason, r.queued_at, r.sent_at,
                r.delivered_at, r.read_at, r.replied_at
         FROM campaign_recipients r JOIN contacts c ON c.id = r.contact_id
         WHERE r.campaign_id = $1 AND ($2 IS NULL OR r.state = $2) AND ($3 IS NULL OR r.id > $3)
         ORDER BY r.id LIMIT $4")
        .bind(campaign_id).bind(state.map(|s| s.as_str())).bind(after).bind(limit)
        .fetch_all(p).await)?;
    Ok(rows)
}

/// How many of a campaign's recipients are in each reason (`state`: failed or skipped).
pub async fn reasons(
    db: &Db,
    campaign_id: i64,
    state: RecipientState,
) -> Result<Vec<(String, i64)>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT COALESCE(reason, 'unknown'), COUNT(*) FROM campaign_recipients
         WHERE campaign_id = $1 AND state = $2 GROUP BY COALESCE(reason, 'unknown') ORDER BY 2 DESC, 1")
        .bind(campaign_id).bind(state.as_str()).fetch_all(p).await)?;
    Ok(rows)
}

/// Reached recipients whose contact opted out after the campaign's message.
pub async fn opt_outs(db: &Db, campaign_id: i64) -> Result<i64> {
    let n = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM campaign_recipients r JOIN contacts c ON c.id = r.contact_id
         WHERE r.campaign_id = $1 AND r.queued_at IS NOT NULL
           AND c.consent = 'opted_out' AND c.consent_at >= r.queued_at")
        .bind(campaign_id).fetch_one(p).await)?;
    Ok(n)
}

/// Reached recipients at each stage, whatever stage they went on to (the report's rates).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Funnel {
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
}

pub async fn funnel(db: &Db, campaign_id: i64) -> Result<Funnel> {
    let (sent, delivered, read, replied): (i64, i64, i64, i64) = on_pool!(db, p => sqlx::query_as(
        "SELECT COUNT(sent_at), COUNT(delivered_at), COUNT(read_at), COUNT(replied_at)
         FROM campaign_recipients WHERE campaign_id = $1")
        .bind(campaign_id).fetch_one(p).await)?;
    Ok(Funnel {
        sent,
        delivered,
        read,
        replied,
    })
}

/// One hour of a campaign's report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct HourPoint {
    /// The hour's start, ms since the Unix epoch.
    #[serde(skip)]
    pub hour_ms: i64,
    /// The hour's start, RFC 3339.
    pub at: String,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub replied: i64,
    pub failed: i64,
}

/// Per hour (UTC), how many were sent, delivered, read, replied to and failed.
pub async fn series(db: &Db, campaign_id: i64) -> Result<Vec<HourPoint>> {
    const HOUR: i64 = 3_600_000;
    let rows: Vec<(String, i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT 'sent', (sent_at / 3600000) * 3600000 AS h, COUNT(*) FROM campaign_recipients
           WHERE campaign_id = $1 AND sent_at IS NOT NULL GROUP BY 2
         UNION ALL SELECT 'delivered', (delivered_at / 3600000) * 3600000, COUNT(*) FROM campaign_recipients
           WHERE campaign_id = $1 AND delivered_at IS NOT NULL GROUP BY 2
         UNION ALL SELECT 'read', (read_at / 3600000) * 3600000, COUNT(*) FROM campaign_recipients
           WHERE campaign_id = $1 AND read_at IS NOT NULL GROUP BY 2
         UNION ALL SELECT 'replied', (replied_at / 3600000) * 3600000, COUNT(*) FROM campaign_recipients
           WHERE campaign_id = $1 AND replied_at IS NOT NULL GROUP BY 2
         UNION ALL SELECT 'failed', (updated_at / 3600000) * 3600000, COUNT(*) FROM campaign_recipients
           WHERE campaign_id = $1 AND state = 'failed' GROUP BY 2")
        .bind(campaign_id).fetch_all(p).await)?;
    let mut points: std::collections::BTreeMap<i64, HourPoint> = Default::default();
    for (what, hour, n) in rows {
        let hour = hour - hour.rem_euclid(HOUR);
        let p = points.entry(hour).or_insert_with(|| HourPoint {
            hour_ms: hour,
            at: DateTime::<Utc>::from_timestamp_millis(hour)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ..Default::default()
        });
        match what.as_str() {
            "sent" => p.sent += n,
            "delivered" => p.delivered += n,
            "read" => p.read += n,
            "replied" => p.replied += n,
            _ => p.failed += n,
        }
    }
    Ok(points.into_values().collect())
}

/// One campaign that planned to reach a contact (its GDPR export).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ContactCampaign {
    pub campaign_id: i64,
    /// The campaign's name.
    pub campaign: String,
    pub state: String,
    pub reason: Option<String>,
    pub queued_at: Option<i64>,
    pub sent_at: Option<i64>,
}

/// The campaign history of a contact (GDPR export), oldest first.
pub async fn of_contact(db: &Db, contact_id: i64) -> Result<Vec<ContactCampaign>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT r.campaign_id, c.name AS campaign, r.state, r.reason, r.queued_at, r.sent_at
         FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
         WHERE r.contact_id = $1 ORDER BY r.id")
        .bind(contact_id).fetch_all(p).await)?;
    Ok(rows)
}
