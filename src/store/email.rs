//! The email outbox: each email is a row written in the transaction of what causes it
//! (an assignment, an SLA alert, a day's summary), sent later by the background sender
//! (`app::mailer`) and marked sent once the SMTP server has accepted it
//! (docs/notifications.md).

use super::{Db, Result, Tx};
use crate::domain::notify::{Email, EmailKind};

/// An email waiting to be sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Queued {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// Queues an email in `tx`; with a `dedupe_key` already queued, nothing (answers whether
/// it was queued).
pub async fn queue(
    tx: &mut Tx,
    kind: EmailKind,
    user_id: Option<i64>,
    conversation_id: Option<i64>,
    to: &str,
    email: &Email,
    dedupe_key: Option<&str>,
) -> Result<bool> {
    let now = tx.now;
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO email_outbox (kind, user_id, conversation_id, to_address, subject, body,
            dedupe_key, state, attempts, next_attempt_at, created_at)
         VALUES ($1, $2, $8, $3, $4, $5, $6, 'pending', 0, $7, $7)
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")
        .bind(kind.as_str()).bind(user_id).bind(to).bind(&email.subject).bind(&email.body)
        .bind(dedupe_key).bind(now).bind(conversation_id)
        .fetch_optional(c).await)?;
    Ok(id.is_some())
}

/// Emails due at `now`, oldest first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Queued>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, to_address, subject, body, attempts FROM email_outbox
         WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2")
        .bind(now).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

/// The SMTP server accepted the email.
pub async fn mark_sent(db: &Db, id: i64, now: i64) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "UPDATE email_outbox SET state = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL
         WHERE id = $1 AND state = 'pending'")
        .bind(id).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// An attempt failed: tried again at `retry_at`, or given up (`None`).
pub async fn mark_failed(db: &Db, id: i64, error: &str, retry_at: Option<i64>) -> Result<()> {
    let error: String = error.chars().take(500).collect();
    on_write_pool!(db, p => sqlx::query(
        "UPDATE email_outbox SET attempts = attempts + 1, last_error = $2,
            state = CASE WHEN $3 IS NULL THEN 'failed' ELSE state END,
            next_attempt_at = COALESCE($3, next_attempt_at)
         WHERE id = $1 AND state = 'pending'")
        .bind(id).bind(error).bind(retry_at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forgets emails sent or given up before `before`, and pending ones queued before
/// `stale` (a hub without SMTP settings queues them too: nothing is lost when the settings
/// come, but they do not pile up forever).
pub async fn prune(db: &Db, before: i64, stale: i64) -> Result<u64> {
    let n = on_write_pool!(db, p => sqlx::query(
        "DELETE FROM email_outbox WHERE (state <> 'pending' AND created_at < $1)
            OR (state = 'pending' AND created_at < $2)")
        .bind(before).bind(stale).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// GDPR erasure of a conversation: the emails about it lose their text (they named the
/// customer); one not sent yet is not sent.
pub async fn erase_conversation(tx: &mut Tx, conversation_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE email_outbox SET subject = '[tickhub] (erased)', body = '',
            state = CASE WHEN state = 'pending' THEN 'failed' ELSE state END,
            last_error = CASE WHEN state = 'pending' THEN 'erased' ELSE last_error END
         WHERE conversation_id = $1")
        .bind(conversation_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
