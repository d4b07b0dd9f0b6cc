//! WhatsApp sessions (numbers connected through WAHA).

use serde::Serialize;
use utoipa::ToSchema;

use super::contact_filter::Dialect;
use super::{Db, Result, StoreError, Tx};
use crate::domain::ReplyPolicy;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WaSession {
    pub id: i64,
    pub name: String,
    /// WAHA's status: STOPPED | STARTING | SCAN_QR_CODE | WORKING | FAILED | … (UNKNOWN before WAHA answered)
    pub status: String,
    /// The business's own WhatsApp id once paired.
    pub me_id: Option<String>,
    pub me_name: Option<String>,
    /// `false` after a stop or logout through the hub: the hub leaves it stopped.
    pub wants_running: bool,
    /// Who may reply in its conversations: `anyone` who may see one, or only its `assignee`
    /// (and supervisors).
    #[sqlx(try_from = "String")]
    pub reply_policy: ReplyPolicy,
    /// Whether the router assigns its waiting conversations to members automatically.
    pub auto_assign: bool,
    /// The hours the reports' business-hours figures count (`null`: every hour).
    #[sqlx(try_from = "Option<String>")]
    #[schema(value_type = Option<crate::domain::hours::WeeklyHours>)]
    pub business_hours: HoursColumn,
    /// Whether resolving a conversation sends the customer the rating question
    /// (docs/csat.md).
    pub csat_enabled: bool,
    /// The rating question; `null`: the default one.
    pub csat_question: Option<String>,
    /// Alert supervisors when a customer has waited this long for a reply; `null`: never
    /// (docs/notifications.md).
    pub sla_wait_seconds: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Weekly hours as a column holds them (JSON text; `None`: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct HoursColumn(pub Option<crate::domain::hours::WeeklyHours>);

impl TryFrom<Option<String>> for HoursColumn {
    type Error = serde_json::Error;

    fn try_from(v: Option<String>) -> std::result::Result<HoursColumn, serde_json::Error> {
        Ok(HoursColumn(
            v.map(|s| serde_json::from_str(&s)).transpose()?,
        ))
    }
}

/// Creates the session record if missing; `true` when it was created.
pub async fn ensure(db: &Db, name: &str, now: i64) -> Result<(WaSession, bool)> {
    let created: Option<i64> = on_write_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO wa_sessions (name, status, created_at, updated_at) VALUES ($1, 'UNKNOWN', $2, $2)
         ON CONFLICT (name) DO NOTHING RETURNING id")
        .bind(name).bind(now).fetch_optional(p).await)?;
    let session = by_name_on_writer(db, name).await?;
    Ok((session, created.is_some()))
}

/// `ensure` inside a writer transaction (registering a session records who did it in the
/// same transaction).
pub async fn ensure_in(tx: &mut Tx, name: &str) -> Result<(WaSession, bool)> {
    let now = tx.now;
    let created: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO wa_sessions (name, status, created_at, updated_at) VALUES ($1, 'UNKNOWN', $2, $2)
         ON CONFLICT (name) DO NOTHING RETURNING id")
        .bind(name).bind(now).fetch_optional(c).await)?;
    let session = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, wants_running, reply_policy, auto_assign, business_hours, csat_enabled, csat_question, sla_wait_seconds, created_at, updated_at FROM wa_sessions WHERE name = $1")
        .bind(name).fetch_one(c).await)?;
    Ok((session, created.is_some()))
}

// Read back on the write pool: SQLite's read pool may not yet see the row just written.
async fn by_name_on_writer(db: &Db, name: &str) -> Result<WaSession> {
    let s = on_write_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, wants_running, reply_policy, auto_assign, business_hours, csat_enabled, csat_question, sla_wait_seconds, created_at, updated_at FROM wa_sessions WHERE name = $1")
        .bind(name).fetch_one(p).await)?;
    Ok(s)
}

/// The sessions among `ids` (`None`: all), by name.
pub async fn list_for(db: &Db, ids: Option<&[i64]>) -> Result<Vec<WaSession>> {
    let sql = format!(
        "SELECT id, name, status, me_id, me_name, wants_running, reply_policy, auto_assign, business_hours, csat_enabled, csat_question, sla_wait_seconds, created_at, updated_at FROM wa_sessions
         WHERE {} ORDER BY name",
        super::in_id_list(Dialect::of(db), "id", "$1")
    );
    let rows = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(super::id_list(ids)).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn list(db: &Db) -> Result<Vec<WaSession>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, wants_running, reply_policy, auto_assign, business_hours, csat_enabled, csat_question, sla_wait_seconds, created_at, updated_at FROM wa_sessions ORDER BY name")
        .fetch_all(p).await)?;
    Ok(rows)
}

/// Every session's id (what cluster nodes share out).
pub async fn ids(db: &Db) -> Result<Vec<i64>> {
    let ids = on_pool!(db, p => sqlx::query_scalar("SELECT id FROM wa_sessions ORDER BY id")
        .fetch_all(p).await)?;
    Ok(ids)
}

pub async fn by_name(db: &Db, name: &str) -> Result<Option<WaSession>> {
    let row = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, wants_running, reply_policy, auto_assign, business_hours, csat_enabled, csat_question, sla_wait_seconds, created_at, updated_at FROM wa_sessions WHERE name = $1")
        .bind(name).fetch_optional(p).await)?;
    Ok(row)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<WaSession>> {
    let row = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, wants_running, reply_policy, auto_assign, business_hours, csat_enabled, csat_question, sla_wait_seconds, created_at, updated_at FROM wa_sessions WHERE id = $1")
        .bind(id).fetch_optional(p).await)?;
    Ok(row)
}

/// Records a reported status; `true` when the stored status changed. A report stamped
/// `at` (ms: WAHA's time for a webhook, the hub's time of asking for an answer) is dropped
/// when a newer one is stored; an unstamped one is news as of its arrival.
pub async fn set_status(
    tx: &mut Tx,
    id: i64,
    status: &str,
    me: Option<(&str, Option<&str>)>,
    at: Option<i64>,
) -> Result<bool> {
    let (before, stored_at): (String, i64) = on_tx!(tx, c => sqlx::query_as(
        "SELECT status, status_at FROM wa_sessions WHERE id = $1")
        .bind(id).fetch_one(&mut *c).await)?;
    if at.is_some_and(|at| at < stored_at) {
        return Ok(false);
    }
    let at = at.unwrap_or(tx.now);
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE wa_sessions SET status = $2, me_id = COALESCE($3, me_id), me_name = COALESCE($4, me_name),
            status_at = $6, updated_at = $5 WHERE id = $1")
        .bind(id).bind(status).bind(me.map(|m| m.0)).bind(me.and_then(|m| m.1)).bind(now).bind(at)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(before != status)
}

/// Whether the hub wants the session running (false after a stop or logout through it),
/// set in the transaction that records who asked; answers what it was before.
pub async fn set_wants_running(tx: &mut Tx, id: i64, wants: bool) -> Result<bool> {
    let before: bool = on_tx!(tx, c => sqlx::query_scalar("SELECT wants_running FROM wa_sessions WHERE id = $1")
        .bind(id).fetch_one(c).await)?;
    on_tx!(tx, c => sqlx::query("UPDATE wa_sessions SET wants_running = $2 WHERE id = $1")
        .bind(id).bind(wants).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(before)
}

pub async fn set_reply_policy(tx: &mut Tx, id: i64, policy: ReplyPolicy) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE wa_sessions SET reply_policy = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(policy.as_str()).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Who may reply in the session's conversations, read in the transaction that replies.
pub async fn reply_policy_in(tx: &mut Tx, id: i64) -> Result<ReplyPolicy> {
    let p: String = on_tx!(tx, c => sqlx::query_scalar("SELECT reply_policy FROM wa_sessions WHERE id = $1")
        .bind(id).fetch_one(c).await)?;
    Ok(ReplyPolicy::parse(&p).unwrap_or(ReplyPolicy::Anyone))
}

/// The session's CSAT setting and question (`None`: the default question).
pub async fn set_csat(tx: &mut Tx, id: i64, enabled: bool, question: Option<&str>) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE wa_sessions SET csat_enabled = $2, csat_question = $3, updated_at = $4 WHERE id = $1")
        .bind(id).bind(enabled).bind(question).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The session's SLA on customers' waits (`None`: no alerts).
pub async fn set_sla(tx: &mut Tx, id: i64, seconds: Option<i64>) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE wa_sessions SET sla_wait_seconds = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(seconds).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Turns automatic assignment on or off for the session.
pub async fn set_business_hours(
    tx: &mut Tx,
    id: i64,
    hours: Option<&crate::domain::hours::WeeklyHours>,
) -> Result<()> {
    let hours = hours
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Database(format!("business hours: {e}")))?;
    on_tx!(tx, c => sqlx::query("UPDATE wa_sessions SET business_hours = $2 WHERE id = $1")
        .bind(id).bind(&hours).execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn set_auto_assign(tx: &mut Tx, id: i64, on: bool) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE wa_sessions SET auto_assign = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(on).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Cluster mode: a node that just took the session's lease raises its fencing token; the
/// session's writes carry the new value from then on (see `writer::Fence`).
pub async fn take_fence(db: &Db, id: i64) -> Result<i64> {
    let token: i64 = on_write_pool!(db, p => sqlx::query_scalar(
        "UPDATE wa_sessions SET fence = fence + 1 WHERE id = $1 RETURNING fence")
        .bind(id).fetch_one(p).await)?;
    Ok(token)
}

/// Cluster mode, on a node that does not own the session: takes the row lock of the chat's
/// conversation (or of the session, for the session's own work) first in a job, so the
/// job and the owner's writes to the same conversation take turns.
pub async fn lock_turn(tx: &mut Tx, session_id: i64, chat_id: &str) -> Result<()> {
    let super::writer::Conn::Postgres(t) = &mut tx.conn else {
        return Ok(());
    };
    if chat_id.is_empty() {
        sqlx::query("SELECT id FROM wa_sessions WHERE id = $1 FOR UPDATE")
            .bind(session_id)
            .execute(&mut **t)
            .await?;
    } else {
        sqlx::query(
            "SELECT id FROM conversations WHERE session_id = $1 AND chat_id = $2 FOR UPDATE",
        )
        .bind(session_id)
        .bind(chat_id)
        .execute(&mut **t)
        .await?;
    }
    Ok(())
}
