//! The audit log: one append-only row per change made through the API or the websocket,
//! written in the same transaction as the change, so neither exists without the other.

use super::{Result, Tx};
use crate::domain::audit::{AuditEntry, Origin, Via};
use crate::domain::Viewer;

/// Records `e`, made by `v`, in the transaction that makes the change.
pub async fn record(tx: &mut Tx, v: &Viewer, e: &AuditEntry) -> Result<()> {
    let actor = (v.origin.via != Via::System).then_some(v.user_id);
    insert(tx, actor, &v.origin, e).await
}

/// Records a change the hub made by itself (the router, a bot, the reconcile loop).
pub async fn record_system(tx: &mut Tx, e: &AuditEntry) -> Result<()> {
    insert(tx, None, &Origin::system(), e).await
}

async fn insert(tx: &mut Tx, actor: Option<i64>, origin: &Origin, e: &AuditEntry) -> Result<()> {
    let now = tx.now;
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO audit_log (created_at, actor_id, actor_email, via, action, target_type, target_id,
            session_id, before, after, ip)
         VALUES ($1, $2, (SELECT email FROM users WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(now).bind(actor).bind(origin.via.as_str()).bind(e.action).bind(e.target_type)
        .bind(e.target_id.as_deref()).bind(e.session_id).bind(json(&e.before)).bind(json(&e.after))
        .bind(origin.ip.as_deref())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
