//! Team members: their login (in `users`), working profile, and the WhatsApp sessions each
//! works in. Changes run in writer transactions so a member and their session access are
//! saved together or not at all.

use serde::Serialize;
use utoipa::ToSchema;

use super::contact_filter::Dialect;
use super::{id_list, in_id_list, Db, Result, StoreError, Tx};
use crate::domain::access::{SessionAccess, Viewer};
use crate::domain::audit::Origin;
use crate::domain::hours::WeeklyHours;
use crate::domain::{PresenceStatus, Role};

/// A member as the team API answers it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The WhatsApp sessions (by name) the member works in; admins work in all.
    pub sessions: Vec<String>,
    /// The most open conversations the member takes at once; `null`: no limit.
    pub capacity: Option<i64>,
    pub working_hours: Option<WeeklyHours>,
    /// Skill tags used by routing.
    pub skills: Vec<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deactivated_at: Option<i64>,
    /// With `?include=presence`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceStatus>,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: i64,
    email: String,
    name: String,
    #[sqlx(try_from = "String")]
    role: Role,
    capacity: Option<i64>,
    working_hours: Option<String>,
    skills: String,
    active: bool,
    created_at: i64,
    updated_at: i64,
    deactivated_at: Option<i64>,
}

const SELECT: &str =
    "SELECT id, email, name, role, capacity, working_hours, skills, active, created_at,
    updated_at, deactivated_at FROM users";

impl MemberRow {
    fn member(self, sessions: Vec<String>) -> Member {
        Member {
            id: self.id,
            email: self.email,
            name: self.name,
            role: self.role,
            sessions,
            capacity: self.capacity,
            // Written only from validated values; an unreadable one shows as none.
            working_hours: self
                .working_hours
                .and_then(|h| serde_json::from_str(&h).ok()),
            skills: serde_json::from_str(&self.skills).unwrap_or_default(),
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
            deactivated_at: self.deactivated_at,
            presence: None,
        }
    }
}

/// The ids of the sessions `user_id` may work in (admins work in all, whatever is listed).
pub async fn session_ids(db: &Db, user_id: i64) -> Result<Vec<i64>> {
    let ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT session_id FROM member_sessions WHERE user_id = $1 ORDER BY session_id")
        .bind(user_id).fetch_all(p).await)?;
    Ok(ids)
}

pub async fn session_ids_in(tx: &mut Tx, user_id: i64) -> Result<Vec<i64>> {
    let ids: Vec<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT session_id FROM member_sessions WHERE user_id = $1 ORDER BY session_id")
        .bind(user_id).fetch_all(c).await)?;
    Ok(ids)
}

#[derive(sqlx::FromRow)]
struct SessionOf {
    user_id: i64,
    name: String,
}

/// Session names per member of `rows`, admins getting every session.
async fn with_sessions(db: &Db, rows: Vec<MemberRow>) -> Result<Vec<Member>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let sql = format!(
        "SELECT ms.user_id, s.name FROM member_sessions ms JOIN wa_sessions s ON s.id = ms.session_id
         WHERE {} ORDER BY s.name",
        in_id_list(Dialect::of(db), "ms.user_id", "$1")
    );
    let listed: Vec<SessionOf> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id_list(Some(&ids))).fetch_all(p).await)?;
    let all: Vec<String> = if rows.iter().any(|r| r.role == Role::Admin) {
        on_pool!(db, p => sqlx::query_scalar("SELECT name FROM wa_sessions ORDER BY name").fetch_all(p).await)?
    } else {
        Vec::new()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let sessions = if r.role == Role::Admin {
                all.clone()
            } else {
                listed
                    .iter()
                    .filter(|s| s.user_id == r.id)
                    .map(|s| s.name.clone())
                    .collect()
            };
            r.member(sessions)
        })
        .collect())
}

/// Members by id, oldest first, after the cursor.
pub async fn list(db: &Db, after: Option<i64>, limit: i64) -> Result<Vec<Member>> {
    let sql = format!("{SELECT} WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2");
    let rows: Vec<MemberRow> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(after).bind(limit).fetch_all(p).await)?;
    with_sessions(db, rows).await
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Member>> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: Option<MemberRow> = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id).fetch_optional(p).await)?;
    match row {
        Some(r) => Ok(with_sessions(db, vec![r]).await?.pop()),
        None => Ok(None),
    }
}

/// What the policy and the assignment rules need to know about a member, read in `tx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub id: i64,
    pub role: Role,
    pub active: bool,
    pub capacity: Option<i64>,
    pub sessions: Vec<i64>,
}

impl MemberFacts {
    pub fn works_in(&self, session_id: i64) -> bool {
        self.role == Role::Admin || self.sessions.contains(&session_id)
    }

    /// The member as the access policy sees them (acting by themselves).
    pub fn viewer(&self) -> Viewer {
        Viewer {
            user_id: self.id,
            role: self.role,
            sessions: if self.role == Role::Admin {
                SessionAccess::All
            } else {
                SessionAccess::Only(self.sessions.clone())
            },
            origin: Origin::system(),
        }
    }
}

pub async fn facts_in(tx: &mut Tx, id: i64) -> Result<Option<MemberFacts>> {
    let row: Option<(i64, String, bool, Option<i64>)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, role, active, capacity FROM users WHERE id = $1").bind(id).fetch_optional(c).await)?;
    let Some((id, role, active, capacity)) = row else {
        return Ok(None);
    };
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::Database(format!("user {id} has role {role:?}")))?;
    Ok(Some(MemberFacts {
        id,
        role,
        active,
        capacity,
        sessions: session_ids_in(tx, id).await?,
    }))
}

/// Every active member's facts, read in `tx`: who may be told of something by name.
pub async fn active_facts_in(tx: &mut Tx) -> Result<Vec<MemberFacts>> {
    let rows: Vec<(i64, String, Option<i64>)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT id, role, capacity FROM users WHERE active ORDER BY id").fetch_all(c).await)?;
    let links: Vec<(i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT m.user_id, m.session_id FROM member_sessions m JOIN users u ON u.id = m.user_id
         WHERE u.active ORDER BY m.user_id, m.session_id").fetch_all(c).await)?;
    let mut sessions: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    for (user, session) in links {
        sessions.entry(user).or_default().push(session);
    }
    rows.into_iter()
        .map(|(id, role, capacity)| {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Database(format!("user {id} has role {role:?}")))?;
            Ok(MemberFacts {
                id,
                role,
                active: true,
                capacity,
                sessions: sessions.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Conversations assigned to `user_id` and not resolved: what capacity counts.
pub async fn open_load_in(tx: &mut Tx, user_id: i64) -> Result<i64> {
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations WHERE assignee_id = $1 AND status <> 'resolved'")
        .bind(user_id).fetch_one(c).await)?;
    Ok(n)
}

/// A new member's saved fields.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub capacity: Option<i64>,
    pub working_hours: Option<WeeklyHours>,
    pub skills: Vec<String>,
    pub sessions: Vec<i64>,
}

fn hours_json(h: &Option<WeeklyHours>) -> Option<String> {
    h.as_ref().and_then(|h| serde_json::to_string(h).ok())
}

fn skills_json(s: &[String]) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "[]".into())
}

/// Inserts a member with their sessions; `ConflictOn` `email` when the email is taken.
pub async fn insert(tx: &mut Tx, m: &NewMember) -> Result<i64> {
    let now = tx.now;
    let email = m.email.trim().to_lowercase();
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO users (email, name, role, password_hash, created_at, updated_at, capacity, working_hours, skills, active)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, TRUE) ON CONFLICT DO NOTHING RETURNING id")
        .bind(&email).bind(&m.name).bind(m.role.as_str()).bind(&m.password_hash).bind(now)
        .bind(m.capacity).bind(hours_json(&m.working_hours)).bind(skills_json(&m.skills))
        .fetch_optional(c).await)?;
    let id = id.ok_or_else(|| {
        StoreError::ConflictOn(crate::domain::FieldError::new(
            "email",
            format!("a member with email {email} exists"),
        ))
    })?;
    set_sessions(tx, id, &m.sessions).await?;
    Ok(id)
}

/// Replaces the sessions a member works in.
pub async fn set_sessions(tx: &mut Tx, user_id: i64, sessions: &[i64]) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM member_sessions WHERE user_id = $1")
        .bind(user_id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    for s in sessions {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO member_sessions (user_id, session_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(user_id).bind(s).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The profile fields of a member, all written at once (the caller merged the change).
#[derive(Debug, Clone)]
pub struct Profile {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub capacity: Option<i64>,
    pub working_hours: Option<WeeklyHours>,
    pub skills: Vec<String>,
}

pub async fn update(tx: &mut Tx, id: i64, p: &Profile) -> Result<()> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE users SET email = $2, name = $3, role = $4, capacity = $5, working_hours = $6, skills = $7,
            updated_at = $8 WHERE id = $1")
        .bind(id).bind(p.email.trim().to_lowercase()).bind(&p.name).bind(p.role.as_str()).bind(p.capacity)
        .bind(hours_json(&p.working_hours)).bind(skills_json(&p.skills)).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Member> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row: MemberRow =
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(c).await)?;
    let sessions: Vec<String> = if row.role == Role::Admin {
        on_tx!(tx, c => sqlx::query_scalar("SELECT name FROM wa_sessions ORDER BY name").fetch_all(c).await)?
    } else {
        on_tx!(tx, c => sqlx::query_scalar(
            "SELECT s.name FROM member_sessions ms JOIN wa_sessions s ON s.id = ms.session_id
             WHERE ms.user_id = $1 ORDER BY s.name").bind(id).fetch_all(c).await)?
    };
    Ok(row.member(sessions))
}

/// Activates or deactivates a member; `false` when it already was so.
pub async fn set_active(tx: &mut Tx, id: i64, active: bool) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE users SET active = $2, deactivated_at = CASE WHEN $2 THEN NULL ELSE $3 END, updated_at = $3
         WHERE id = $1 AND active <> $2")
        .bind(id).bind(active).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn set_password(tx: &mut Tx, id: i64, hash: &str) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id).bind(hash).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Active admins other than `except`: the team must keep one.
pub async fn other_active_admins_in(tx: &mut Tx, except: i64) -> Result<i64> {
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active AND id <> $1")
        .bind(except).fetch_one(c).await)?;
    Ok(n)
}

/// Active members who may work unassigned conversations of `session_id` (agents and
/// sales with access to it): who loses sight of one when it is assigned.
pub async fn queue_workers_in(tx: &mut Tx, session_id: i64) -> Result<Vec<i64>> {
    let ids: Vec<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN member_sessions ms ON ms.user_id = u.id
         WHERE ms.session_id = $1 AND u.active AND u.role IN ('agent', 'sales') ORDER BY u.id")
        .bind(session_id).fetch_all(c).await)?;
    Ok(ids)
}

/// Ids of the conversations assigned to `user_id` and not resolved.
pub async fn open_conversations(db: &Db, user_id: i64) -> Result<Vec<i64>> {
    let ids: Vec<i64> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT id FROM conversations WHERE assignee_id = $1 AND status <> 'resolved' ORDER BY id")
        .bind(user_id).fetch_all(p).await)?;
    Ok(ids)
}

/// A colleague as those who work a session see them (`GET /api/sessions/{name}/members`):
/// enough to hand a conversation on and to name who wrote a message.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct SessionMember {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub presence: PresenceStatus,
    /// Conversations assigned to them and not resolved, in every session: what their
    /// capacity counts.
    pub open: i64,
    /// The most open conversations they take at once; `null`: no limit.
    pub capacity: Option<i64>,
}

/// The active members with an inbox who work in `session_id` (admins work in all), by
/// name, with their open load (`presence` is the caller's to fill: the store cannot see it).
pub async fn in_session(db: &Db, session_id: i64) -> Result<Vec<SessionMember>> {
    let rows: Vec<(i64, String, String, Option<i64>, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT u.id, u.name, u.role, u.capacity,
            (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = u.id AND c.status <> 'resolved') AS open
         FROM users u
         WHERE u.active AND u.role <> 'marketing'
           AND (u.role = 'admin'
                OR EXISTS (SELECT 1 FROM member_sessions ms WHERE ms.user_id = u.id AND ms.session_id = $1))
         ORDER BY u.name, u.id")
        .bind(session_id).fetch_all(p).await)?;
    rows.into_iter()
        .map(|(id, name, role, capacity, open)| {
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Database(format!("user {id} has role {role:?}")))?;
            Ok(SessionMember {
                id,
                name,
                role,
                presence: PresenceStatus::Offline,
                open,
                capacity,
            })
        })
        .collect()
}
