//! The durable inbox of WAHA webhooks (a transactional inbox): a webhook is a row here
//! before the hub answers 2xx, and is processed from that row, so a crash between the two
//! replays it instead of losing it. Unique on the event key, so WAHA's retries are absorbed.

use super::{Db, Result, Tx};
use crate::{on_pool, on_tx};

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

/// Records a failed attempt at processing a stored webhook.
pub async fn record_failure(tx: &mut Tx, id: i64, error: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE inbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
        .bind(id).bind(error).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
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
}

/// Processing attempts after which a stored webhook is left for an operator (its error is
/// in `inbox.last_error`) instead of blocking its conversation.
pub const MAX_ATTEMPTS: i64 = 5;

/// Unprocessed events received before `before_ms`, oldest first, after `after_id`.
pub async fn pending(db: &Db, after_id: i64, before_ms: i64, limit: i64) -> Result<Vec<Pending>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, session_id, body FROM inbox
         WHERE processed_at IS NULL AND attempts < $4 AND id > $1 AND received_at < $2
         ORDER BY id LIMIT $3")
        .bind(after_id).bind(before_ms).bind(limit).bind(MAX_ATTEMPTS).fetch_all(p).await)?;
    Ok(rows)
}

/// Forgets processed events older than `before_ms` (the event keys have done their job
/// of absorbing WAHA's retries by then).
pub async fn prune(tx: &mut Tx, before_ms: i64) -> Result<u64> {
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM inbox WHERE processed_at IS NOT NULL AND received_at < $1")
        .bind(before_ms).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}
