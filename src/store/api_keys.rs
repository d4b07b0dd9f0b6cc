//! API keys: random, stored only as a SHA-256 hash (as login tokens are: a key has 256
//! random bits, so a fast hash is enough), with the member it acts as, its scopes and
//! an optional expiry. Revoking keeps the row (the list shows when), and the key stops
//! working at once.

use serde::Serialize;
use utoipa::ToSchema;

use super::tokens::token_hash;
use super::{Db, Result, Tx};
use crate::domain::access::api_keys::Scope;
use crate::domain::Role;
use crate::store::users::User;

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    /// The member the key acts as.
    pub user_id: i64,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    prefix: String,
    scopes: String,
    user_id: i64,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

pub fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

impl From<Row> for ApiKey {
    fn from(r: Row) -> Self {
        ApiKey {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: parse_scopes(&r.scopes),
            user_id: r.user_id,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        }
    }
}

const COLUMNS: &str =
    "id, name, prefix, scopes, user_id, created_at, expires_at, revoked_at, last_used_at";

pub struct NewKey<'a> {
    pub name: &'a str,
    pub key: &'a str,
    pub prefix: &'a str,
    pub scopes: &'a [Scope],
    pub user_id: i64,
    pub expires_at: Option<i64>,
}

pub async fn insert(tx: &mut Tx, k: &NewKey<'_>) -> Result<ApiKey> {
    let now = tx.now;
    let row: Row = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO api_keys (name, key_hash, prefix, scopes, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}")))
        .bind(k.name).bind(token_hash(k.key)).bind(k.prefix).bind(scopes_text(k.scopes))
        .bind(k.user_id).bind(now).bind(k.expires_at)
        .fetch_one(&mut *c).await)?;
    Ok(row.into())
}

/// Keys, newest first, after the cursor (`before`: an id).
pub async fn list(db: &Db, before: Option<i64>, limit: i64) -> Result<Vec<ApiKey>> {
    let rows: Vec<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2")))
        .bind(before).bind(limit).fetch_all(p).await)?;
    Ok(rows.into_iter().map(ApiKey::from).collect())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<ApiKey>> {
    let row: Option<Row> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE id = $1")))
        .bind(id).fetch_optional(p).await)?;
    Ok(row.map(ApiKey::from))
}

/// Revokes key `id`; the key as it was before, `None` when there is none.
pub async fn revoke_in(tx: &mut Tx, id: i64) -> Result<Option<ApiKey>> {
    let now = tx.now;
    let row: Option<Row> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_keys WHERE id = $1")))
        .bind(id).fetch_optional(&mut *c).await)?;
    if row.is_some() {
        on_tx!(tx, c => sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
            .bind(id).bind(now).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    }
    Ok(row.map(ApiKey::from))
}

#[derive(sqlx::FromRow)]
struct KeyUser {
    key_id: i64,
    scopes: String,
    last_used_at: Option<i64>,
    id: i64,
    email: String,
    name: String,
    role: String,
}

/// The member and scopes a key stands for: `None` when it is unknown, revoked or
/// expired, or its member is deactivated.
pub async fn by_key(db: &Db, key: &str, now: i64) -> Result<Option<(i64, User, Vec<Scope>)>> {
    let row: Option<KeyUser> = on_pool!(db, p => sqlx::query_as(
        "SELECT k.id AS key_id, k.scopes, k.last_used_at, u.id, u.email, u.name, u.role
         FROM api_keys k JOIN users u ON u.id = k.user_id
         WHERE k.key_hash = $1 AND k.revoked_at IS NULL
           AND (k.expires_at IS NULL OR k.expires_at > $2) AND u.active")
        .bind(token_hash(key)).bind(now).fetch_optional(p).await)?;
    let Some(r) = row else { return Ok(None) };
    // At most one write a minute per key: a busy integration does not write per call.
    if r.last_used_at.is_none_or(|t| now - t > 60_000) {
        on_write_pool!(db, p => sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
            .bind(r.key_id).bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    }
    let user = User {
        id: r.id,
        email: r.email,
        name: r.name,
        role: Role::parse(&r.role).unwrap_or(Role::Agent),
    };
    Ok(Some((r.key_id, user, parse_scopes(&r.scopes))))
}
