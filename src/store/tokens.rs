//! Bearer tokens. Random, stored only as a SHA-256 hash (a database dump holds no usable
//! secret), each with an expiry; a token works only while it has not expired, has not
//! been revoked (logout, a password change, a reset, a deactivation) and its member is
//! active. Expired rows are purged by a background job.

use sha2::{Digest, Sha256};

use super::{Db, Result, Tx};
use crate::domain::Role;
use crate::store::users::User;

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub async fn store(db: &Db, token: &str, user_id: i64, now: i64, expires_at: i64) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(token)).bind(user_id).bind(now).bind(expires_at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TokenUser {
    id: i64,
    email: String,
    name: String,
    role: String,
}

/// The member a token stands for: `None` when it is unknown, expired or revoked, or when
/// the member is deactivated.
pub async fn by_token(db: &Db, token: &str, now: i64) -> Result<Option<User>> {
    let row: Option<TokenUser> = on_pool!(db, p => sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.role FROM auth_tokens t
         JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.expires_at > $2 AND u.active")
        .bind(token_hash(token)).bind(now).fetch_optional(p).await)?;
    Ok(row.map(|r| User {
        id: r.id,
        email: r.email,
        name: r.name,
        role: Role::parse(&r.role).unwrap_or(Role::Agent),
    }))
}

/// Revokes one token (logout); whether it existed.
pub async fn revoke(db: &Db, token: &str) -> Result<bool> {
    let n = on_write_pool!(db, p => sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
        .bind(token_hash(token)).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Revokes every token of `user_id` but `except_token` (the one a member changing their
/// password is using); how many.
pub async fn revoke_all(db: &Db, user_id: i64, except_token: Option<&str>) -> Result<u64> {
    let except = except_token.map(token_hash);
    let n = on_write_pool!(db, p => sqlx::query(
        "DELETE FROM auth_tokens WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)")
        .bind(user_id).bind(except.as_deref()).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// `revoke_all` inside a writer transaction (beside the change that calls for it).
pub async fn revoke_all_in(tx: &mut Tx, user_id: i64, except_token: Option<&str>) -> Result<u64> {
    let except = except_token.map(token_hash);
    let n = on_tx!(tx, c => sqlx::query(
        "DELETE FROM auth_tokens WHERE user_id = $1 AND ($2 IS NULL OR token_hash <> $2)")
        .bind(user_id).bind(except.as_deref()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// Deletes the tokens that expired at or before `now`; how many.
pub async fn purge_expired(db: &Db, now: i64) -> Result<u64> {
    let n = on_write_pool!(db, p => sqlx::query("DELETE FROM auth_tokens WHERE expires_at <= $1")
        .bind(now).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(n)
}

/// How many tokens `user_id` holds, expired ones included (for tests and operators).
pub async fn count_for(db: &Db, user_id: i64) -> Result<i64> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar(
        "SELECT COUNT(*) FROM auth_tokens WHERE user_id = $1")
        .bind(user_id).fetch_one(p).await)?;
    Ok(n)
}

/// Stores a new token's hash in a writer transaction (a login records itself beside it).
pub async fn store_in(tx: &mut Tx, token: &str, user_id: i64, expires_at: i64) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(token)).bind(user_id).bind(now).bind(expires_at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Revokes one token in a writer transaction; `true` when it was there.
pub async fn revoke_in(tx: &mut Tx, token: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
        .bind(token_hash(token)).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
