//! Transaction scripts of automatic assignment: giving one waiting conversation to a member
//! (`assign_waiting`), returning an offline member's conversation to the queue
//! (`requeue_offline`), and the reads behind them and the supervisors' views (a session's
//! queue, a conversation's assignment history). The rules are `domain::routing`'s.
//!
//! Each script runs in its conversation's actor, so the conversation cannot change under
//! it. Capacity is counted under the candidates' row locks, taken in id order: two
//! writers on PostgreSQL assigning at once count one after the other (and cannot
//! deadlock on each other); SQLite has one writer anyway.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::conversations::{self, Conversation};
use super::handling::tell_who_lost_sight;
use super::writer::Conn;
use super::{audit, events, placeholders, Db, Result, StoreError, Tx};
use crate::domain::audit::AuditEntry;
use crate::domain::hours::WeeklyHours;
use crate::domain::routing::{self, Candidate, Rule, Why};
use crate::domain::{ConversationStatus, EventKind, EventScope, PresenceStatus, Role};

/// A member's presence now, as the presence keeper knows it (the store cannot see it).
pub type PresenceOf = Arc<dyn Fn(i64) -> PresenceStatus + Send + Sync>;

/// The `assignments.reason` of the router's assignments.
pub const REASON_AUTO: &str = "auto";
/// The `assignments.reason` of a conversation taken back from a member who went offline.
pub const REASON_REQUEUED: &str = "requeued: offline";
/// What `store::handling` records when a member returns their own conversation.
const REASON_RETURNED: &str = "returned to the queue";

/// Which conversations wait in a session's queue: unassigned, not resolved and not with
/// the bot (a handoff makes them `pending`), oldest `waiting_since` first.
const WAITING: &str = "c.waiting_since IS NOT NULL AND c.assignee_id IS NULL
    AND c.status <> 'bot' AND c.status <> 'resolved'";

/// Give this waiting conversation to a member, if anyone can take it now.
#[derive(Clone)]
pub struct AssignWaiting {
    pub conversation_id: i64,
    pub presence: PresenceOf,
}

/// What became of an `AssignWaiting`.
#[derive(Debug, Clone)]
pub enum Routed {
    Assigned {
        conversation: Conversation,
        assignee: i64,
        rule: Rule,
    },
    /// Nobody can take it now: it stays at its place in the queue.
    NobodyAvailable,
    /// It no longer waits (someone took it, it was resolved, it went back to the bot).
    NotWaiting,
    /// Its session's automatic assignment is off.
    Off,
}

#[derive(sqlx::FromRow)]
struct Waiting {
    session_id: i64,
    #[sqlx(try_from = "String")]
    status: ConversationStatus,
    assignee_id: Option<i64>,
    waiting_since: Option<i64>,
    handoff_reason: Option<String>,
    previous_assignee_id: Option<i64>,
    auto_assign: bool,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    id: i64,
    #[sqlx(try_from = "String")]
    role: Role,
    active: bool,
    capacity: Option<i64>,
    working_hours: Option<String>,
}

/// The active agents and sales of the session, locked (PostgreSQL) in id order.
async fn lock_candidates(tx: &mut Tx, session_id: i64) -> Result<Vec<CandidateRow>> {
    let lock = match tx.conn {
        Conn::Postgres(_) => " FOR UPDATE OF u",
        Conn::Sqlite(_) => "",
    };
    let sql = format!(
        "SELECT u.id, u.role, u.active, u.capacity, u.working_hours FROM users u
         WHERE u.active AND u.role IN ('agent', 'sales')
           AND u.id IN (SELECT user_id FROM member_sessions WHERE session_id = $1)
         ORDER BY u.id{lock}"
    );
    let rows = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(session_id).fetch_all(c).await)?;
    Ok(rows)
}

/// Each member's open conversations (what capacity counts), in one query.
async fn loads(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, i64>> {
    let sql = format!(
        "SELECT assignee_id, COUNT(*) FROM conversations
         WHERE assignee_id IN ({}) AND status <> 'resolved' GROUP BY assignee_id",
        placeholders(1, ids.len())
    );
    let rows: Vec<(i64, i64)> = on_tx!(tx, c => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().collect())
}

/// When each member was last given a conversation (by anyone), in one query.
async fn last_assigned(tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, i64>> {
    let sql = format!(
        "SELECT to_user_id, MAX(created_at) FROM assignments
         WHERE to_user_id IN ({}) GROUP BY to_user_id",
        placeholders(1, ids.len())
    );
    let rows: Vec<(i64, i64)> = on_tx!(tx, c => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().collect())
}

/// The member who returned the conversation to the queue, when that is its last change
/// of hands.
async fn returned_by(tx: &mut Tx, conversation_id: i64) -> Result<Option<i64>> {
    let last: Option<(Option<i64>, Option<i64>, String)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT from_user_id, to_user_id, reason FROM assignments WHERE conversation_id = $1
         ORDER BY id DESC LIMIT 1")
        .bind(conversation_id).fetch_optional(c).await)?;
    Ok(match last {
        Some((from, None, reason)) if reason == REASON_RETURNED => from,
        _ => None,
    })
}

/// Whether `now` (ms) is inside the stored working hours (none: always; unreadable, which
/// the hub never writes: never, so nobody is given work on a guess).
fn within_hours(hours: Option<&str>, now: i64) -> bool {
    let Some(text) = hours else { return true };
    let (Ok(h), Some(at)) = (
        serde_json::from_str::<WeeklyHours>(text),
        Utc.timestamp_millis_opt(now).single(),
    ) else {
        return false;
    };
    h.contains(at)
}

/// Gives the conversation, if it still waits and its session assigns automatically, to
/// the member the rules choose, with the why; see the module's comment.
pub async fn assign_waiting(tx: &mut Tx, job: &AssignWaiting) -> Result<Routed> {
    let id = job.conversation_id;
    let w: Option<Waiting> = on_tx!(tx, c => sqlx::query_as(
        "SELECT c.session_id, c.status, c.assignee_id, c.waiting_since, c.handoff_reason,
                c.previous_assignee_id, s.auto_assign
           FROM conversations c JOIN wa_sessions s ON s.id = c.session_id WHERE c.id = $1")
        .bind(id).fetch_optional(c).await)?;
    let Some(w) = w else {
        return Ok(Routed::NotWaiting);
    };
    let waits = w.assignee_id.is_none()
        && w.waiting_since.is_some()
        && !matches!(
            w.status,
            ConversationStatus::Bot | ConversationStatus::Resolved
        );
    if !waits {
        return Ok(Routed::NotWaiting);
    }
    if !w.auto_assign {
        return Ok(Routed::Off);
    }
    let rows = lock_candidates(tx, w.session_id).await?;
    if rows.is_empty() {
        return Ok(Routed::NobodyAvailable);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let loads = loads(tx, &ids).await?;
    let last = last_assigned(tx, &ids).await?;
    let returned = returned_by(tx, id).await?;
    let now = tx.now;
    let candidates: Vec<Candidate> = rows
        .iter()
        .map(|r| Candidate {
            user_id: r.id,
            role: r.role,
            active: r.active,
            works_in_session: true,
            presence: (job.presence)(r.id),
            within_working_hours: within_hours(r.working_hours.as_deref(), now),
            capacity: r.capacity,
            load: loads.get(&r.id).copied().unwrap_or(0),
            last_assigned_at: last.get(&r.id).copied(),
            returned_it: returned == Some(r.id),
        })
        .collect();
    let choice = match routing::choose(&candidates, w.previous_assignee_id) {
        Ok(c) => c,
        Err(_) => return Ok(Routed::NobodyAvailable),
    };
    let before = conversations::get_in(tx, id).await?;
    let to = choice.assignee;
    conversations::set_handling(tx, id, Some(to), ConversationStatus::Open).await?;
    record(tx, &before, Some(to), REASON_AUTO, Some(&choice.why)).await?;
    tell_who_lost_sight(tx, &before, Some(to)).await?;
    let conversation = events::log_conversation(tx, id).await?;
    let told = EventScope {
        user_id: Some(to),
        session_id: Some(w.session_id),
        conversation_id: Some(id),
        ..Default::default()
    };
    let data = json!({"conversation_id": id, "assignee_id": to, "rule": choice.why.rule,
        "handoff_reason": w.handoff_reason});
    events::append(tx, EventKind::ConversationAssigned, told, &data).await?;
    super::notify::handoff(tx, id, to, (job.presence)(to)).await?;
    Ok(Routed::Assigned {
        conversation,
        assignee: to,
        rule: choice.why.rule,
    })
}

/// The assignments row and the audit entry (the hub's own) of a change of hands.
async fn record(
    tx: &mut Tx,
    before: &Conversation,
    to: Option<i64>,
    reason: &str,
    why: Option<&Why>,
) -> Result<()> {
    let detail = why
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| StoreError::Database(format!("the why of an assignment: {e}")))?;
    super::handling::record_assignment(tx, before.id, before.assignee_id, to, None, reason, detail)
        .await?;
    let status = if to.is_some() {
        ConversationStatus::Open
    } else {
        ConversationStatus::Pending
    };
    audit::record_system(
        tx,
        &AuditEntry::new("conversation.assign", "conversation", before.id)
            .session(before.session_id)
            .before(json!({"assignee_id": before.assignee_id, "status": before.status}))
            .after(
                json!({"assignee_id": to, "status": status, "reason": reason,
                "rule": why.map(|w| w.rule)}),
            ),
    )
    .await
}

/// Take this conversation back from `user_id`, who went offline, if it is still theirs,
/// open, and they are still offline.
#[derive(Clone)]
pub struct RequeueOffline {
    pub conversation_id: i64,
    pub user_id: i64,
    pub presence: PresenceOf,
}

/// Returns the conversation to the queue (`None`: nothing to do); the member is told it
/// has gone from their view, as `store::handling` does.
pub async fn requeue_offline(tx: &mut Tx, r: &RequeueOffline) -> Result<Option<Conversation>> {
    if (r.presence)(r.user_id) != PresenceStatus::Offline {
        return Ok(None);
    }
    let conv = match conversations::get_in(tx, r.conversation_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    if conv.assignee_id != Some(r.user_id) || conv.status == ConversationStatus::Resolved {
        return Ok(None);
    }
    conversations::set_handling(tx, conv.id, None, ConversationStatus::Pending).await?;
    record(tx, &conv, None, REASON_REQUEUED, None).await?;
    tell_who_lost_sight(tx, &conv, None).await?;
    Ok(Some(events::log_conversation(tx, conv.id).await?))
}

/// The conversation at the head of the session's queue (the next to assign), if any.
pub async fn queue_head(db: &Db, session_id: i64) -> Result<Option<i64>> {
    let sql = format!(
        "SELECT c.id FROM conversations c WHERE c.session_id = $1 AND {WAITING}
         ORDER BY c.waiting_since, c.id LIMIT 1"
    );
    let id: Option<i64> = on_pool!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(session_id).fetch_optional(p).await)?;
    Ok(id)
}

/// The sessions that assign automatically and have conversations waiting.
pub async fn sessions_with_queue(db: &Db) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT DISTINCT c.session_id FROM conversations c JOIN wa_sessions s ON s.id = c.session_id
         WHERE s.auto_assign AND {WAITING} ORDER BY c.session_id"
    );
    let ids: Vec<i64> =
        on_pool!(db, p => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(p).await)?;
    Ok(ids)
}

/// Whether the session assigns automatically (`None`: no such session).
pub async fn auto_assign(db: &Db, session_id: i64) -> Result<Option<bool>> {
    let on: Option<bool> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT auto_assign FROM wa_sessions WHERE id = $1")
        .bind(session_id).fetch_optional(p).await)?;
    Ok(on)
}

/// One waiting conversation, as supervisors see the queue.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct QueueItem {
    /// 1 for the next to be assigned.
    pub position: i64,
    pub conversation_id: i64,
    pub title: Option<String>,
    /// Since when it waits (ms since the Unix epoch).
    pub waiting_since: i64,
    #[sqlx(try_from = "String")]
    pub status: ConversationStatus,
    /// Why it left the bot, when a bot handed it over.
    pub handoff_reason: Option<String>,
}

/// The session's queue in order, from after `after` (`(waiting_since, id)` of the last
/// item of the previous page).
pub async fn queue(
    db: &Db,
    session_id: i64,
    after: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<QueueItem>> {
    let sql = format!(
        "SELECT position, conversation_id, title, waiting_since, status, handoff_reason FROM (
            SELECT ROW_NUMBER() OVER (ORDER BY c.waiting_since, c.id) AS position, c.id AS conversation_id,
                   c.title, c.waiting_since, c.status, c.handoff_reason
              FROM conversations c WHERE c.session_id = $1 AND {WAITING}) q
         WHERE ($2 IS NULL OR waiting_since > $2 OR (waiting_since = $2 AND conversation_id > $3))
         ORDER BY position LIMIT $4"
    );
    let rows = on_pool!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(session_id).bind(after.map(|a| a.0)).bind(after.map(|a| a.1)).bind(limit)
        .fetch_all(p).await)?;
    Ok(rows)
}

/// One change of a conversation's hands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentItem {
    pub id: i64,
    /// When (ms since the Unix epoch).
    pub at: i64,
    /// The assignee before (`null`: the queue).
    pub from_user_id: Option<i64>,
    /// The assignee after (`null`: the queue).
    pub to_user_id: Option<i64>,
    /// Who decided (`null`: the hub itself — the router, or a member's deactivation).
    pub by_user_id: Option<i64>,
    /// `auto` (the router), `requeued: offline`, `took`, `handed on`, `assigned`,
    /// `unassigned`, `returned to the queue`.
    pub reason: String,
    /// The private note kept with the change, if any.
    pub note_id: Option<i64>,
    /// Why the hub chose this member (its own assignments only), as stored.
    #[schema(value_type = Option<Why>)]
    pub detail: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
struct AssignmentRow {
    id: i64,
    created_at: i64,
    from_user_id: Option<i64>,
    to_user_id: Option<i64>,
    by_user_id: Option<i64>,
    reason: String,
    note_id: Option<i64>,
    detail: Option<String>,
}

/// A conversation's changes of hands, oldest first, after the id `after`.
pub async fn assignments(
    db: &Db,
    conversation_id: i64,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<AssignmentItem>> {
    let rows: Vec<AssignmentRow> = on_pool!(db, p => sqlx::query_as(
        "SELECT id, created_at, from_user_id, to_user_id, by_user_id, reason, note_id, detail
           FROM assignments WHERE conversation_id = $1 AND ($2 IS NULL OR id > $2)
          ORDER BY id LIMIT $3")
        .bind(conversation_id).bind(after).bind(limit).fetch_all(p).await)?;
    Ok(rows
        .into_iter()
        .map(|r| AssignmentItem {
            id: r.id,
            at: r.created_at,
            from_user_id: r.from_user_id,
            to_user_id: r.to_user_id,
            by_user_id: r.by_user_id,
            reason: r.reason,
            note_id: r.note_id,
            // Written by the hub as JSON; anything else shows as none.
            detail: r.detail.and_then(|d| serde_json::from_str(&d).ok()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_where_they_start() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(2, 1), "$2");
    }

    #[test]
    fn working_hours_none_is_always_and_garbage_is_never() {
        // Monday 2026-12-07 10:00 UTC.
        let monday_10 = Utc
            .with_ymd_and_hms(2026, 12, 7, 10, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert!(within_hours(None, monday_10));
        let h = r#"{"time_zone": "UTC", "weekly": {"mon": [["09:00", "17:00"]]}}"#;
        assert!(within_hours(Some(h), monday_10));
        assert!(!within_hours(Some(h), monday_10 + 8 * 3_600_000));
        assert!(!within_hours(Some("not json"), monday_10));
    }
}
