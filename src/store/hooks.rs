//! Outbound webhook subscriptions: where to POST which event types, with a secret
//! (stored sealed: `crate::secrets`) to sign each delivery. The queue of deliveries is in
//! `hook_queue`.

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result, Tx};
use crate::domain::hook::HookEvent;

/// A subscription as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Subscription {
    pub id: i64,
    pub url: String,
    pub events: Vec<HookEvent>,
    /// Inactive: nothing is queued for it and nothing sent until it is active again.
    pub active: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    url: String,
    events: String,
    active: bool,
    created_by: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

pub fn events_text(events: &[HookEvent]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn parse_events(text: &str) -> Vec<HookEvent> {
    text.split(',').filter_map(HookEvent::parse).collect()
}

impl From<Row> for Subscription {
    fn from(r: Row) -> Self {
        Subscription {
            id: r.id,
            url: r.url,
            events: parse_events(&r.events),
            active: r.active,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, url, events, active, created_by, created_at, updated_at";

/// A new subscription; it receives the events logged after this transaction's.
pub async fn insert(
    tx: &mut Tx,
    url: &str,
    events: &[HookEvent],
    sealed_secret: &str,
    user_id: i64,
) -> Result<Subscription> {
    let now = tx.now;
    let row: Row = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_subscriptions (url, events, secret, active, starts_after, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, TRUE, (SELECT COALESCE(MAX(id), 0) FROM events), $4, $5, $5)
         RETURNING {COLUMNS}")))
        .bind(url).bind(events_text(events)).bind(sealed_secret).bind(user_id).bind(now)
        .fetch_one(&mut *c).await)?;
    Ok(row.into())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Subscription>> {
    let row: Option<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_subscriptions WHERE id = $1")))
        .bind(id).fetch_optional(p).await)?;
    Ok(row.map(Subscription::from))
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<Subscription>> {
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_subscriptions WHERE id = $1")))
        .bind(id).fetch_optional(&mut *c).await)?;
    Ok(row.map(Subscription::from))
}

/// Subscriptions by id, after the cursor.
pub async fn list(db: &Db, after: Option<i64>, limit: i64) -> Result<Vec<Subscription>> {
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_subscriptions WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2")))
        .bind(after).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(Subscription::from).collect())
}

/// A change: `None` keeps the field.
#[derive(Debug, Default)]
pub struct Patch {
    pub url: Option<String>,
    pub events: Option<Vec<HookEvent>>,
    pub active: Option<bool>,
    pub sealed_secret: Option<String>,
}

/// Applies `patch`; the subscription after, `None` when there is none. A subscription
/// made active again receives the events logged from then on, not those of its pause
/// (which the copy may not have reached yet).
pub async fn update(tx: &mut Tx, id: i64, patch: &Patch) -> Result<Option<Subscription>> {
    let now = tx.now;
    let events = patch.events.as_deref().map(events_text);
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_subscriptions SET
             url = COALESCE($2, url), events = COALESCE($3, events),
             starts_after = CASE WHEN $4 = TRUE AND active = FALSE
                 THEN (SELECT COALESCE(MAX(id), 0) FROM events) ELSE starts_after END,
             active = COALESCE($4, active), secret = COALESCE($5, secret), updated_at = $6
         WHERE id = $1 RETURNING {COLUMNS}")))
        .bind(id).bind(patch.url.as_deref()).bind(events).bind(patch.active)
        .bind(patch.sealed_secret.as_deref()).bind(now)
        .fetch_optional(&mut *c).await)?;
    Ok(row.map(Subscription::from))
}

/// Deletes the subscription and its queue; whether it existed.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<bool> {
    on_tx!(tx, c => sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1")
        .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1")
        .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The sealed secret of subscription `id`.
pub async fn sealed_secret(db: &Db, id: i64) -> Result<Option<String>> {
    let s: Option<String> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT secret FROM webhook_subscriptions WHERE id = $1")
        .bind(id).fetch_optional(p).await)?;
    Ok(s)
}
