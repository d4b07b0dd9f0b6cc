//! Users (team members) and their bearer tokens. Passwords are argon2 hashes; tokens are
//! random and stored only as a SHA-256 hash, so a database dump holds no usable secret.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Db, Result, StoreError, Tx};
use crate::domain::Role;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    password_hash: String,
}

impl UserRow {
    fn user(&self) -> User {
        User {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Agent),
        }
    }
}

pub async fn create(
    db: &Db,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
    now: i64,
) -> Result<User> {
    let email = email.trim().to_lowercase();
    let id: Option<i64> = on_write_pool!(db, p => sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING RETURNING id")
        .bind(&email).bind(name).bind(role.as_str()).bind(password_hash).bind(now)
        .fetch_optional(p).await)?;
    match id {
        Some(id) => Ok(User {
            id,
            email,
            name: name.to_string(),
            role,
        }),
        None => Err(StoreError::Conflict(format!(
            "a user with email {email} exists"
        ))),
    }
}

/// The user and their password hash, for login.
pub async fn credentials(db: &Db, email: &str) -> Result<Option<(User, String)>> {
    let row: Option<UserRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, email, name, role, password_hash FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase()).fetch_optional(p).await)?;
    Ok(row.map(|r| (r.user(), r.password_hash)))
}

pub async fn count(db: &Db) -> Result<i64> {
    let n: i64 =
        on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?;
    Ok(n)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub async fn store_token(
    db: &Db,
    token: &str,
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    on_write_pool!(db, p => sqlx::query(
        "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(token)).bind(user_id).bind(now).bind(expires_at).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn by_token(db: &Db, token: &str, now: i64) -> Result<Option<User>> {
    let row: Option<UserRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.role, u.password_hash FROM auth_tokens t
         JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.expires_at > $2")
        .bind(token_hash(token)).bind(now).fetch_optional(p).await)?;
    Ok(row.map(|r| r.user()))
}

pub async fn revoke_token(db: &Db, token: &str) -> Result<()> {
    on_write_pool!(db, p => sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
        .bind(token_hash(token)).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_password(db: &Db, email: &str, password_hash: &str) -> Result<()> {
    on_write_pool!(db, p => sqlx::query("UPDATE users SET password_hash = $2 WHERE email = $1")
        .bind(email.trim().to_lowercase()).bind(password_hash).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// ---- in a writer transaction, beside the change's audit entry

/// `create` in a writer transaction (`create-admin` records itself in the same one).
pub async fn create_in(
    tx: &mut Tx,
    email: &str,
    name: &str,
    role: Role,
    password_hash: &str,
) -> Result<User> {
    let email = email.trim().to_lowercase();
    let now = tx.now;
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING RETURNING id")
        .bind(&email).bind(name).bind(role.as_str()).bind(password_hash).bind(now)
        .fetch_optional(c).await)?;
    match id {
        Some(id) => Ok(User {
            id,
            email,
            name: name.to_string(),
            role,
        }),
        None => Err(StoreError::Conflict(format!(
            "a user with email {email} exists"
        ))),
    }
}

/// Stores a new token's hash in a writer transaction (a login records itself beside it).
pub async fn store_token_in(tx: &mut Tx, token: &str, user_id: i64, expires_at: i64) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(token)).bind(user_id).bind(now).bind(expires_at).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Revokes one token in a writer transaction; `true` when it was there.
pub async fn revoke_token_in(tx: &mut Tx, token: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
        .bind(token_hash(token)).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
