//! Users (team members) as login sees them. Passwords are argon2 hashes; tokens live in
//! `tokens`.

use serde::Serialize;
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

/// The user and their password hash, for login (a deactivated member has none).
pub async fn credentials(db: &Db, email: &str) -> Result<Option<(User, String)>> {
    let row: Option<UserRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, email, name, role, password_hash FROM users WHERE email = $1 AND active")
        .bind(email.trim().to_lowercase()).fetch_optional(p).await)?;
    Ok(row.map(|r| (r.user(), r.password_hash)))
}

/// What login needs to know about the member with `email`.
pub struct LoginFacts {
    pub user: User,
    pub password_hash: String,
    pub active: bool,
}

pub async fn for_login(db: &Db, email: &str) -> Result<Option<LoginFacts>> {
    let row: Option<(i64, String, String, String, String, bool)> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, email, name, role, password_hash, active FROM users WHERE email = $1")
        .bind(email.trim().to_lowercase()).fetch_optional(p).await)?;
    Ok(row.map(
        |(id, email, name, role, password_hash, active)| LoginFacts {
            user: UserRow {
                id,
                email,
                name,
                role,
                password_hash: String::new(),
            }
            .user(),
            password_hash,
            active,
        },
    ))
}

/// The member's email and password hash, by id (a member changing their own password).
pub async fn password_of(db: &Db, id: i64) -> Result<Option<(String, String)>> {
    let row: Option<(String, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT email, password_hash FROM users WHERE id = $1")
        .bind(id).fetch_optional(p).await)?;
    Ok(row)
}

pub async fn count(db: &Db) -> Result<i64> {
    let n: i64 =
        on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?;
    Ok(n)
}

pub async fn set_password(db: &Db, email: &str, password_hash: &str) -> Result<()> {
    on_write_pool!(db, p => sqlx::query("UPDATE users SET password_hash = $2 WHERE email = $1")
        .bind(email.trim().to_lowercase()).bind(password_hash).execute(p).await.map(|r| r.rows_affected()))?;
    Ok(())
}

// ---- in a writer transaction, beside the change's audit entry

/// A new user, in a writer transaction (`create-admin` records itself in the same one).
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
