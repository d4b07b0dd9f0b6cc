//! WhatsApp sessions (numbers connected through WAHA).

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result, Tx};

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WaSession {
    pub id: i64,
    pub name: String,
    /// WAHA's status: STOPPED | STARTING | SCAN_QR_CODE | WORKING | FAILED | … (UNKNOWN before WAHA answered)
    pub status: String,
    /// The business's own WhatsApp id once paired.
    pub me_id: Option<String>,
    pub me_name: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
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

// Read back on the write pool: SQLite's read pool may not yet see the row just written.
async fn by_name_on_writer(db: &Db, name: &str) -> Result<WaSession> {
    let s = on_write_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, created_at, updated_at FROM wa_sessions WHERE name = $1")
        .bind(name).fetch_one(p).await)?;
    Ok(s)
}

/// The sessions among `ids` (`None`: all), by name.
pub async fn list_for(db: &Db, ids: Option<&[i64]>) -> Result<Vec<WaSession>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, created_at, updated_at FROM wa_sessions
         WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || CAST(id AS TEXT) || ',%'))
         ORDER BY name")
        .bind(super::id_list(ids)).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn list(db: &Db) -> Result<Vec<WaSession>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, created_at, updated_at FROM wa_sessions ORDER BY name")
        .fetch_all(p).await)?;
    Ok(rows)
}

pub async fn by_name(db: &Db, name: &str) -> Result<Option<WaSession>> {
    let row = on_pool!(db, p => sqlx::query_as(
        "SELECT id, name, status, me_id, me_name, created_at, updated_at FROM wa_sessions WHERE name = $1")
        .bind(name).fetch_optional(p).await)?;
    Ok(row)
}

/// Updates status and identity; `true` when the status changed.
pub async fn set_status(
    tx: &mut Tx,
    id: i64,
    status: &str,
    me: Option<(&str, Option<&str>)>,
) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE wa_sessions SET status = $2, me_id = COALESCE($3, me_id), me_name = COALESCE($4, me_name),
            updated_at = $5 WHERE id = $1 AND status <> $2")
        .bind(id).bind(status).bind(me.map(|m| m.0)).bind(me.and_then(|m| m.1)).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn status_in(tx: &mut Tx, id: i64) -> Result<String> {
    let s: String = on_tx!(tx, c => sqlx::query_scalar("SELECT status FROM wa_sessions WHERE id = $1")
        .bind(id).fetch_one(c).await)?;
    Ok(s)
}
