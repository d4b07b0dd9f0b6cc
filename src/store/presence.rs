//! The presence log: every transition of a member's presence, with its cause and the node
//! that decided it, each logged with its `presence.updated` event in one transaction.

use serde::Serialize;
use utoipa::ToSchema;

use super::writer::Conn;
use super::{events, Db, Result, Tx};
use crate::domain::presence::{Choice, PresenceCause};
use crate::domain::{EventKind, EventScope, PresenceStatus, Role};

/// One transition, as `presence.updated` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Transition {
    pub user_id: i64,
    pub status: PresenceStatus,
    pub cause: PresenceCause,
    /// When it happened (ms since the Unix epoch).
    pub at: i64,
}

/// A logged transition, as the history answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct PresenceEntry {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub status: PresenceStatus,
    #[sqlx(try_from = "String")]
    pub cause: PresenceCause,
    /// The hub node that decided it.
    pub node: String,
    /// When it happened (ms since the Unix epoch).
    pub at: i64,
}

/// What one input left the keeper to write: the transition it caused, if any, and the
/// stored choice it came from, if it came from one (cluster mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub transition: Option<Transition>,
    pub choice: Option<i64>,
}

/// A member's choice stored on its way to the keeper (cluster mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredChoice {
    pub id: i64,
    pub user_id: i64,
    pub choice: Choice,
}

/// Orders presence writes of nodes sharing a PostgreSQL database ("thpresen" in ASCII),
/// so each decides "unchanged" on the latest logged status.
const PRESENCE_LOCK: i64 = 0x7468_7072_6573_656e;

/// Logs `transitions` in order, each with `presence.updated` to the supervisors and to
/// the member (unless a supervisor, who has it already).
pub async fn log(tx: &mut Tx, node: &str, transitions: &[Transition]) -> Result<()> {
    take_turn(tx).await?;
    for t in transitions {
        log_one(tx, node, t).await?;
    }
    Ok(())
}

/// Logs the keeper's outcomes in order and takes (deletes) the stored choices they came
/// from. A choice another transaction took first — two keepers applied it across a
/// handover — has its transition logged by that one only: announced once.
pub async fn log_outcomes(tx: &mut Tx, node: &str, outcomes: &[Outcome]) -> Result<()> {
    take_turn(tx).await?;
    for o in outcomes {
        if let Some(id) = o.choice {
            let taken = on_tx!(tx, c => sqlx::query("DELETE FROM presence_choices WHERE id = $1")
                .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
            if taken == 0 {
                continue;
            }
        }
        if let Some(t) = &o.transition {
            log_one(tx, node, t).await?;
        }
    }
    Ok(())
}

/// In a cluster, keepers may overlap for a moment while the coordinator's role moves, and
/// one that just took over may not yet have heard the last status its predecessor logged:
/// the lock (held to commit) and `log_one`'s check keep a status from being announced twice.
async fn take_turn(tx: &mut Tx) -> Result<()> {
    if let Conn::Postgres(c) = &mut tx.conn {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PRESENCE_LOCK)
            .execute(&mut **c)
            .await?;
    }
    Ok(())
}

/// Logs a transition unless the member's last logged status is already its status.
async fn log_one(tx: &mut Tx, node: &str, t: &Transition) -> Result<()> {
    let last: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT status FROM presence_log WHERE user_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(t.user_id).fetch_optional(c).await)?;
    if last.as_deref() == Some(t.status.as_str()) {
        return Ok(());
    }
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO presence_log (user_id, status, cause, node, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(t.user_id).bind(t.status.as_str()).bind(t.cause.as_str()).bind(node).bind(t.at)
        .execute(c).await.map(|r| r.rows_affected()))?;
    events::append(tx, EventKind::PresenceUpdated, EventScope::supervisors(), t).await?;
    let role: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT role FROM users WHERE id = $1").bind(t.user_id).fetch_optional(c).await)?;
    let supervises = role
        .and_then(|r| Role::parse(&r))
        .is_some_and(Role::supervises);
    if !supervises {
        events::append(
            tx,
            EventKind::PresenceUpdated,
            EventScope::user(t.user_id),
            t,
        )
        .await?;
    }
    Ok(())
}

/// Stores members' choices made on `node`, in order (cluster mode): `(user_id, choice,
/// at)`.
pub async fn store_choices(tx: &mut Tx, node: &str, choices: &[(i64, Choice, i64)]) -> Result<()> {
    for (user_id, choice, at) in choices {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO presence_choices (user_id, choice, node, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user_id).bind(choice.as_str()).bind(node).bind(at)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// The oldest `limit` stored choices not yet taken, in the order they were stored.
pub async fn pending_choices(db: &Db, limit: i64) -> Result<Vec<StoredChoice>> {
    let rows: Vec<(i64, i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, user_id, choice FROM presence_choices ORDER BY id LIMIT $1")
        .bind(limit).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, user_id, c)| {
            Choice::parse(&c).map(|choice| StoredChoice {
                id,
                user_id,
                choice,
            })
        })
        .collect())
}

/// A member's transitions, newest first, before the cursor (an entry's id).
pub async fn history(
    db: &Db,
    user_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<PresenceEntry>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT id, status, cause, node, created_at AS at FROM presence_log
         WHERE user_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3")
        .bind(user_id).bind(before).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn member_exists(db: &Db, user_id: i64) -> Result<bool> {
    let n: i64 = on_pool!(db, p => sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = $1")
        .bind(user_id).fetch_one(p).await)?;
    Ok(n > 0)
}

/// Members whose last logged status is not offline (at start: their sockets died with
/// the process before).
pub async fn not_offline(db: &Db) -> Result<Vec<i64>> {
    let ids = on_pool!(db, p => sqlx::query_scalar(
        "SELECT p.user_id FROM presence_log p
         JOIN (SELECT user_id, MAX(id) AS id FROM presence_log GROUP BY user_id) last ON last.id = p.id
         WHERE p.status <> 'offline' ORDER BY p.user_id")
        .fetch_all(p).await)?;
    Ok(ids)
}

/// When each member's last logged transition happened (their presence's "since"); members
/// never logged are absent.
pub async fn latest(db: &Db) -> Result<Vec<(i64, i64)>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT p.user_id, p.created_at FROM presence_log p
         JOIN (SELECT user_id, MAX(id) AS id FROM presence_log GROUP BY user_id) last ON last.id = p.id")
        .fetch_all(p).await)?;
    Ok(rows)
}

/// Every member's last logged status and when it began (what a cluster node that just
/// started answers until the keeper tells it more).
pub async fn current(db: &Db) -> Result<Vec<(i64, PresenceStatus, i64)>> {
    let rows: Vec<(i64, String, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT p.user_id, p.status, p.created_at FROM presence_log p
         JOIN (SELECT user_id, MAX(id) AS id FROM presence_log GROUP BY user_id) last ON last.id = p.id")
        .fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, s, at)| PresenceStatus::parse(&s).map(|s| (id, s, at)))
        .collect())
}

/// What active members last chose and keep (busy, away, offline): their last choice,
/// unless a deactivation came after it.
pub async fn choices(db: &Db) -> Result<Vec<(i64, PresenceStatus)>> {
    let rows: Vec<(i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT p.user_id, p.status FROM presence_log p
         JOIN (SELECT user_id, MAX(id) AS id FROM presence_log
               WHERE cause IN ('set_by_member', 'deactivated') GROUP BY user_id) last ON last.id = p.id
         JOIN users u ON u.id = p.user_id
         WHERE p.cause = 'set_by_member' AND p.status <> 'online' AND u.active")
        .fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, s)| PresenceStatus::parse(&s).map(|s| (id, s)))
        .collect())
}
