//! SLA alerts: conversations whose customer has waited longer than their session's
//! `sla_wait_seconds` for a reply, each wait alerted once (`sla_alerts`), with an event to
//! the session's supervisors and emails to those who want them (docs/notifications.md).

use serde_json::json;

use super::{events, notify, Db, Result, Tx};
use crate::domain::{EventKind, EventScope};

/// A session with an SLA.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Watched {
    pub id: i64,
    pub sla_wait_seconds: i64,
}

/// The sessions with an SLA set (a small table: read every pass).
pub async fn watched(db: &Db) -> Result<Vec<Watched>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, sla_wait_seconds FROM wa_sessions WHERE sla_wait_seconds IS NOT NULL ORDER BY id")
        .fetch_all(p).await)?;
    Ok(rows)
}

/// A wait past its threshold, not yet alerted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Breach {
    pub conversation_id: i64,
    pub session_id: i64,
    pub awaiting_reply_since: i64,
}

/// The waits of `session_id` that began in `(after, upto]` (`upto`: now less the
/// threshold) and have no alert yet, oldest first. Through the partial index on
/// `(session_id, awaiting_reply_since)`, so a pass reads only the waits that crossed the
/// threshold since the last pass.
pub async fn breaches(
    db: &Db,
    session_id: i64,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<Breach>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT c.id AS conversation_id, c.session_id, c.awaiting_reply_since FROM conversations c
         WHERE c.session_id = $1 AND c.awaiting_reply_since IS NOT NULL
           AND c.awaiting_reply_since >= $2 AND c.awaiting_reply_since <= $3
           AND c.status IN ('pending', 'open')
           AND NOT EXISTS (SELECT 1 FROM sla_alerts a
               WHERE a.conversation_id = c.id AND a.wait_started_at = c.awaiting_reply_since)
         ORDER BY c.awaiting_reply_since, c.id LIMIT $4")
        .bind(session_id).bind(after).bind(upto).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

/// Alerts `b` if it still stands in this transaction (the customer still waits since
/// then, the conversation is still pending or open, no alert yet): `sla_alerts` row,
/// `sla.breached` to the session's supervisors, emails. Answers whether it alerted.
pub async fn alert(tx: &mut Tx, b: &Breach, threshold_secs: i64) -> Result<bool> {
    let still: Option<(Option<i64>, String)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT assignee_id, status FROM conversations
         WHERE id = $1 AND awaiting_reply_since = $2 AND status IN ('pending', 'open')")
        .bind(b.conversation_id).bind(b.awaiting_reply_since).fetch_optional(c).await)?;
    let Some((assignee_id, status)) = still else {
        return Ok(false);
    };
    let now = tx.now;
    let alert_id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO sla_alerts (conversation_id, session_id, wait_started_at, threshold_secs, alerted_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id, wait_started_at) DO NOTHING RETURNING id")
        .bind(b.conversation_id).bind(b.session_id).bind(b.awaiting_reply_since)
        .bind(threshold_secs).bind(now).fetch_optional(c).await)?;
    let Some(alert_id) = alert_id else {
        return Ok(false);
    };
    let label = notify::label_in(tx, b.conversation_id).await?;
    let waited = (now - b.awaiting_reply_since).max(0) / 1000;
    let scope = EventScope {
        session_id: Some(b.session_id),
        conversation_id: Some(b.conversation_id),
        assignee_id,
        supervisors_only: true,
        ..Default::default()
    };
    let data = json!({
        "conversation_id": b.conversation_id,
        "session": label.session,
        "chat_id": label.chat_id,
        "title": label.title,
        "status": status,
        "assignee_id": assignee_id,
        "waiting_since": b.awaiting_reply_since,
        "waited_seconds": waited,
        "threshold_seconds": threshold_secs,
    });
    events::append(tx, EventKind::SlaBreached, scope, &data).await?;
    notify::sla_breach(tx, alert_id, &label, b.session_id, waited, threshold_secs).await?;
    Ok(true)
}
