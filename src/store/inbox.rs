//! The durable inbox of WAHA webhooks (a transactional inbox): a webhook is a row here
//! before the hub answers 2xx, and is processed from that row, so a crash between the two
//! replays it instead of losing it. Unique on the event key, so WAHA's retries are absorbed.

use super::{Db, Result, Tx};

#[derive(Debug, Clone)]
pub struct Received {
    pub event_key: String,
    pub session_id: i64,
    pub event: String,
    pub body: String,
}

/// Stores a webhook (already processed when its effects commit with it); `None` when the
/// same event was stored before (a duplicate delivery).
pub async fn insert(tx: &mut Tx, r: &Received, processed: bool) -> Result<Option<i64>> {
    let now = tx.now;
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO inbox (event_key, session_id, event, body, received_at, processed_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (event_key) DO NOTHING RETURNING id")
        .bind(&r.event_key).bind(r.session_id).bind(&r.event).bind(&r.body).bind(now)
        .bind(processed.then_some(now))
        .fetch_optional(c).await)?;
    Ok(id)
}

/// Records a failed attempt at processing a stored webhook; returns the attempts so far.
pub async fn record_failure(tx: &mut Tx, id: i64, error: &str) -> Result<i64> {
    let attempts: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE inbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1 RETURNING attempts")
        .bind(id).bind(error).fetch_one(c).await)?;
    Ok(attempts)
}

pub async fn mark_processed(tx: &mut Tx, id: i64) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE inbox SET processed_at = $2 WHERE id = $1")
        .bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct Pending {
    pub id: i64,
    pub session_id: i64,
    pub body: String,
    pub attempts: i64,
}

/// Processing attempts after which a stored webhook is left for an operator (its error is
/// in `inbox.last_error`) instead of blocking its conversation.
pub const MAX_ATTEMPTS: i64 = 5;

/// Unprocessed events received before `before_ms`, oldest first, after `after_id`.
pub async fn pending(db: &Db, after_id: i64, before_ms: i64, limit: i64) -> Result<Vec<Pending>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, session_id, body, attempts FROM inbox
         WHERE processed_at IS NULL AND attempts < $4 AND id > $1 AND received_at < $2
         ORDER BY id LIMIT $3")
        .bind(after_id).bind(before_ms).bind(limit).bind(MAX_ATTEMPTS).fetch_all(p).await)?;
    Ok(rows)
}

/// A stored webhook not yet processed (`None`: processed meanwhile, or unknown).
pub async fn unprocessed(db: &Db, id: i64) -> Result<Option<Pending>> {
    let row = on_pool!(db, p => sqlx::query_as(
        "SELECT id, session_id, body, attempts FROM inbox WHERE id = $1 AND processed_at IS NULL")
        .bind(id).fetch_optional(p).await)?;
    Ok(row)
}

/// The stored webhook with this event key, if it is not processed yet.
pub async fn unprocessed_by_key(db: &Db, event_key: &str) -> Result<Option<Pending>> {
    let row = on_pool!(db, p => sqlx::query_as(
        "SELECT id, session_id, body, attempts FROM inbox WHERE event_key = $1 AND processed_at IS NULL")
        .bind(event_key).fetch_optional(p).await)?;
    Ok(row)
}

/// The session's unprocessed webhooks, oldest first, after `after_id` (what a node that
/// just took the session over must apply before anything newer).
pub async fn pending_for_session(
    db: &Db,
    session_id: i64,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Pending>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, session_id, body, attempts FROM inbox
         WHERE processed_at IS NULL AND session_id = $1 AND attempts < $4 AND id > $2
         ORDER BY id LIMIT $3")
        .bind(session_id).bind(after_id).bind(limit).bind(MAX_ATTEMPTS).fetch_all(p).await)?;
    Ok(rows)
}

/// Whether the stored webhook is processed, taking its row lock (PostgreSQL) so two
/// nodes applying it at once take turns and the second sees the first's result.
pub async fn is_processed(tx: &mut Tx, id: i64) -> Result<bool> {
    let done: Option<Option<i64>> = match &mut tx.conn {
        super::writer::Conn::Postgres(t) => {
            sqlx::query_scalar("SELECT processed_at FROM inbox WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
        }
        super::writer::Conn::Sqlite(t) => {
            sqlx::query_scalar("SELECT processed_at FROM inbox WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
        }
    };
    Ok(matches!(done, Some(Some(_))))
}

/// Forgets processed events older than `before_ms` (the event keys have done their job
/// of absorbing WAHA's retries by then).
pub async fn prune(tx: &mut Tx, before_ms: i64) -> Result<u64> {
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM inbox WHERE processed_at IS NOT NULL AND received_at < $1")
        .bind(before_ms).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// A stored webhook the hub gave up applying, for operators.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct FailedWebhook {
    pub id: i64,
    /// WhatsApp session name.
    pub session: String,
    /// WAHA's event name.
    pub event: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub received_at: i64,
    /// The webhook body as WAHA sent it.
    pub body: String,
}

/// Webhooks given up on (unprocessed after [`MAX_ATTEMPTS`]), newest first, before the
/// cursor `before` (an inbox id).
pub async fn failed(db: &Db, before: Option<i64>, limit: i64) -> Result<Vec<FailedWebhook>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT i.id, s.name AS session, i.event, i.attempts, i.last_error, i.received_at, i.body
         FROM inbox i JOIN wa_sessions s ON s.id = i.session_id
         WHERE i.processed_at IS NULL AND i.attempts >= $1 AND ($2 IS NULL OR i.id < $2)
         ORDER BY i.id DESC LIMIT $3")
        .bind(MAX_ATTEMPTS).bind(before).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

/// How many webhooks were given up on (for /metrics).
pub async fn count_failed(db: &Db) -> Result<i64> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL AND attempts >= $1")
        .bind(MAX_ATTEMPTS).fetch_one(p).await)?;
    Ok(n)
}
