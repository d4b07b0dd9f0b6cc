//! The outbound queue to WAHA. A row is written with its message, before anything is
//! sent, and carries the attempt count so a send whose outcome is unknown (a crash or a
//! timeout mid-request) is checked against WAHA before it is ever sent again.

use super::{Db, Result, Tx};
use crate::domain::OutboxState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: i64,
    pub session_id: i64,
    pub chat_id: String,
    pub text: String,
    #[sqlx(try_from = "String")]
    pub state: OutboxState,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The WAHA id reserved for this message, once known.
    pub waha_id: Option<String>,
    /// The bot that wrote the message, if one did.
    pub bot_id: Option<i64>,
    pub conversation_id: i64,
    /// A campaign's message: sent after members' and bots' replies.
    pub bulk: bool,
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT o.id, o.message_id, o.session_id, o.chat_id, o.text, o.state, o.attempts, ",
            "o.next_attempt_at, m.waha_id, m.bot_id, m.conversation_id, o.bulk FROM outbox o JOIN messages m ON m.id = o.message_id ",
            $tail
        )
    };
}

pub async fn insert(
    tx: &mut Tx,
    message_id: i64,
    session_id: i64,
    chat_id: &str,
    text: &str,
    bulk: bool,
) -> Result<i64> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO outbox (message_id, session_id, chat_id, text, state, attempts, next_attempt_at, created_at, updated_at, bulk)
         VALUES ($1, $2, $3, $4, $6, 0, $5, $5, $5, $7) RETURNING id")
        .bind(message_id).bind(session_id).bind(chat_id).bind(text).bind(now).bind(OutboxState::Queued.as_str()).bind(bulk)
        .fetch_one(c).await)?;
    Ok(id)
}

/// Everything not yet sent for a session, oldest first (read at start-up).
pub async fn open_for_session(db: &Db, session_id: i64) -> Result<Vec<OutboxItem>> {
    let rows = on_pool!(db, p => sqlx::query_as(select!(
        "WHERE o.session_id = $1 AND o.state IN ($2, $3) ORDER BY o.id"))
        .bind(session_id).bind(OutboxState::Queued.as_str()).bind(OutboxState::Sending.as_str()).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<OutboxItem> {
    let row =
        on_tx!(tx, c => sqlx::query_as(select!("WHERE o.id = $1")).bind(id).fetch_one(c).await)?;
    Ok(row)
}

/// Counts the attempt before it is made, so a crash during it leaves a trace.
pub async fn mark_sending(tx: &mut Tx, id: i64) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE outbox SET state = $3, attempts = attempts + 1, updated_at = $2 WHERE id = $1")
        .bind(id).bind(now).bind(OutboxState::Sending.as_str()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn finish(tx: &mut Tx, id: i64, state: OutboxState, error: Option<&str>) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE outbox SET state = $2, last_error = $3, updated_at = $4 WHERE id = $1")
        .bind(id).bind(state.as_str()).bind(error).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn retry_at(tx: &mut Tx, id: i64, at: i64, error: &str) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE outbox SET state = $5, next_attempt_at = $2, last_error = $3, updated_at = $4 WHERE id = $1")
        .bind(id).bind(at).bind(error).bind(now).bind(OutboxState::Queued.as_str()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<OutboxItem>> {
    let row = on_pool!(db, p => sqlx::query_as(select!("WHERE o.id = $1")).bind(id).fetch_optional(p).await)?;
    Ok(row)
}

/// The queue row of a message the hub sent: its id and state.
pub async fn of_message(tx: &mut Tx, message_id: i64) -> Result<Option<(i64, OutboxState)>> {
    let row: Option<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, state FROM outbox WHERE message_id = $1")
        .bind(message_id).fetch_optional(c).await)?;
    Ok(row.and_then(|(id, state)| OutboxState::parse(&state).map(|s| (id, s))))
}

/// A failed row goes back in the queue with a fresh count of attempts, due now. Its last
/// error stays until the next attempt records another.
pub async fn requeue(tx: &mut Tx, id: i64) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE outbox SET state = $3, attempts = 0, next_attempt_at = $2, updated_at = $2
         WHERE id = $1 AND state = $4")
        .bind(id).bind(now).bind(OutboxState::Queued.as_str()).bind(OutboxState::Failed.as_str())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
