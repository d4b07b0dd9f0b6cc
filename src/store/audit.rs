//! The audit log: one append-only row per change made through the API or the websocket,
//! written in the same transaction as the change, so neither exists without the other.
//! (The database refuses UPDATE and DELETE on it: migration 0004.)

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::contact_filter::Dialect;
use super::{id_list, in_id_list, Db, Result, Tx};
use crate::domain::access::AuditFilter;
use crate::domain::audit::{ActionMatch, AuditEntry, AuditQuery, Origin, Via};
use crate::domain::Viewer;

/// Records `e`, made by `v`, in the transaction that makes the change.
pub async fn record(tx: &mut Tx, v: &Viewer, e: &AuditEntry) -> Result<()> {
    let actor = (v.origin.via != Via::System).then_some(v.user_id);
    record_as(tx, actor, &v.origin, e).await
}

/// Records a change the hub made by itself (the router, a bot, the reconcile loop).
pub async fn record_system(tx: &mut Tx, e: &AuditEntry) -> Result<()> {
    record_as(tx, None, &Origin::system(), e).await
}

/// Records `e` for a change made before there is a `Viewer`: a login (by the member who
/// logs in), a failed login (by nobody), the command line.
pub async fn record_as(
    tx: &mut Tx,
    actor: Option<i64>,
    origin: &Origin,
    e: &AuditEntry,
) -> Result<()> {
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

/// One entry, as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditItem {
    pub id: i64,
    /// When (ms since the Unix epoch).
    pub at: i64,
    /// Who (null: nobody logged in, e.g. a failed login, the command line, the hub itself).
    pub actor_id: Option<i64>,
    /// The actor's email when the change was made.
    pub actor_email: Option<String>,
    /// `http`, `websocket`, `cli` or `system`.
    pub via: String,
    /// What, e.g. `member.create`, `contact.update`, `auth.login`.
    pub action: String,
    /// e.g. `member`, `contact`, `session`, `conversation`, `message`.
    pub target_type: String,
    pub target_id: Option<String>,
    /// The WhatsApp session the change belongs to, when it belongs to one.
    pub session_id: Option<i64>,
    /// The changed settings before the change (never a password or a token).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The changed settings after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    /// The client's address as the hub saw it.
    pub ip: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    created_at: i64,
    actor_id: Option<i64>,
    actor_email: Option<String>,
    via: String,
    action: String,
    target_type: String,
    target_id: Option<String>,
    session_id: Option<i64>,
    before: Option<String>,
    after: Option<String>,
    ip: Option<String>,
}

/// Stored JSON back as JSON (text that is not JSON, which the hub never writes, as a string).
fn json(text: Option<String>) -> Option<Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

impl From<Row> for AuditItem {
    fn from(r: Row) -> Self {
        AuditItem {
            id: r.id,
            at: r.created_at,
            actor_id: r.actor_id,
            actor_email: r.actor_email,
            via: r.via,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            session_id: r.session_id,
            before: json(r.before),
            after: json(r.after),
            ip: r.ip,
        }
    }
}

/// Entries newest first (by id, below `before` when given) that `access` lets the reader
/// see and that match `q`, all in SQL.
pub async fn list(
    db: &Db,
    access: &AuditFilter,
    q: &AuditQuery,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditItem>> {
    let (exact, prefix) = match &q.action {
        None => (None, None),
        Some(ActionMatch::Exact(a)) => (Some(a.as_str()), None),
        Some(ActionMatch::Prefix(p)) => (None, Some(p.as_str())),
    };
    let sql = format!(
        "SELECT id, created_at, actor_id, actor_email, via, action, target_type, target_id,
                session_id, before, after, ip
           FROM audit_log
          WHERE (session_id IS NULL OR {})
            AND ($2 IS NULL OR actor_id = $2)
            AND ($3 IS NULL OR action = $3)
            AND ($4 IS NULL OR substr(action, 1, length($4)) = $4)
            AND ($5 IS NULL OR target_type = $5)
            AND ($6 IS NULL OR target_id = $6)
            AND ($7 IS NULL OR session_id = $7)
            AND ($8 IS NULL OR created_at >= $8)
            AND ($9 IS NULL OR created_at < $9)
            AND ($10 IS NULL OR id < $10)
          ORDER BY id DESC LIMIT $11",
        in_id_list(Dialect::of(db), "session_id", "$1")
    );
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id_list(access.sessions.as_deref())).bind(q.actor_id).bind(exact).bind(prefix)
        .bind(q.target_type.as_deref()).bind(q.target_id.as_deref()).bind(q.session_id)
        .bind(q.from).bind(q.to).bind(before).bind(limit)
        .fetch_all(p).await)?;
    Ok(rows.into_iter().map(AuditItem::from).collect())
}
