//! Transaction scripts for handling a conversation: assigning (taking, handing on,
//! returning to the queue), resolving, reopening, private notes. Each runs in the
//! conversation's own actor, so the checks below see the conversation as it is and nothing
//! changes it in between; each records its audit entry and logs its events in the same
//! transaction as the change.

use serde_json::json;

use super::conversations::{self, Conversation};
use super::members::{self, MemberFacts};
use super::messages::Message;
use super::notes::{self, Note};
use super::{audit, events, outbound, sessions, Result, StoreError, Tx};
use crate::domain::access::ConversationFacts;
use crate::domain::audit::AuditEntry;
use crate::domain::{ConversationStatus, Denied, EventKind, EventScope, Reply, Viewer};

/// Why a change was refused (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Denied(Denied),
    /// A value that cannot be used, with its field.
    Invalid(crate::domain::FieldError),
    /// Not possible as things stand (e.g. the assignee is at capacity).
    Conflict(String),
}

impl From<Denied> for Refused {
    fn from(d: Denied) -> Self {
        Refused::Denied(d)
    }
}

pub type Outcome<T> = std::result::Result<T, Refused>;

/// A change of assignee asked for by `by`.
#[derive(Debug, Clone)]
pub struct Assign {
    pub by: Viewer,
    pub conversation_id: i64,
    pub to: Option<i64>,
    pub note: Option<String>,
    /// The new assignee's presence when this was asked (whether they are emailed).
    pub to_presence: crate::domain::PresenceStatus,
}

#[derive(Debug, Clone)]
pub struct Handled {
    pub conversation: Conversation,
    pub note: Option<Note>,
}

/// The conversation as it is now, if `by` may see it.
async fn visible(tx: &mut Tx, by: &Viewer, id: i64) -> Result<Outcome<Conversation>> {
    let conv = match conversations::get_in(tx, id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Ok(Err(Refused::Denied(Denied::Hidden))),
        Err(e) => return Err(e),
    };
    Ok(by
        .may_see_conversation(conv.facts())
        .map(|_| conv)
        .map_err(Refused::from))
}

/// Checks that `target` can take conversations of `session_id`.
fn check_assignee(target: Option<&MemberFacts>, id: i64, session_id: i64) -> Outcome<()> {
    let refuse = |why: &str| {
        Err(Refused::Invalid(crate::domain::FieldError::new(
            "assignee_id",
            format!("member {id} {why}"),
        )))
    };
    match target {
        None => refuse("does not exist"),
        Some(t) if !t.active => refuse("is deactivated"),
        Some(t) if t.role == crate::domain::Role::Marketing => refuse("has no inbox (marketing)"),
        Some(t) if !t.works_in(session_id) => {
            refuse("does not work in this conversation's WhatsApp session")
        }
        Some(_) => Ok(()),
    }
}

/// Takes the member's row lock (an update that changes nothing) so two assignments to one
/// member on parallel PostgreSQL writers count their load one after the other; SQLite has
/// one writer anyway.
async fn lock_member(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn assign(tx: &mut Tx, a: &Assign) -> Result<Outcome<Handled>> {
    let conv = match visible(tx, &a.by, a.conversation_id).await? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if let Err(d) = a.by.may_assign(conv.facts(), a.to) {
        return Ok(Err(d.into()));
    }
    if let Some(to) = a.to {
        lock_member(tx, to).await?;
        let target = members::facts_in(tx, to).await?;
        if let Err(r) = check_assignee(target.as_ref(), to, conv.session_id) {
            return Ok(Err(r));
        }
        let capacity = target.and_then(|t| t.capacity);
        if let (Some(cap), false) = (capacity, conv.assignee_id == Some(to)) {
            let load = members::open_load_in(tx, to).await?;
            if load >= cap && !a.by.may_exceed_capacity() {
                return Ok(Err(Refused::Conflict(format!(
                    "assignee_id: member {to} is at capacity ({load} of {cap} open conversations)"
                ))));
            }
        }
    }
    let note = match a.note.as_deref() {
        Some(text) => Some(notes::insert(tx, conv.id, a.by.user_id, text).await?),
        None => None,
    };
    if conv.assignee_id == a.to {
        // Nothing moves; a note still stands.
        if let Some(n) = &note {
            log_note(tx, &conv, n).await?;
        }
        return Ok(Ok(Handled {
            conversation: conv,
            note,
        }));
    }
    let status = match (a.to, conv.status) {
        (_, ConversationStatus::Resolved) => ConversationStatus::Resolved,
        (Some(_), _) => ConversationStatus::Open,
        (None, ConversationStatus::Open) => ConversationStatus::Pending,
        (None, s) => s,
    };
    conversations::set_handling(tx, conv.id, a.to, status).await?;
    let reason = match (conv.assignee_id, a.to) {
        (None, Some(to)) if to == a.by.user_id => "took",
        (Some(from), None) if from == a.by.user_id => "returned to the queue",
        (_, None) => "unassigned",
        _ if !a.by.role.supervises() => "handed on",
        _ => "assigned",
    };
    record_assignment_with_note(
        tx,
        conv.id,
        conv.assignee_id,
        a.to,
        Some(a.by.user_id),
        reason,
        note.as_ref().map(|n| n.id),
        None,
    )
    .await?;
    audit::record(
        tx,
        &a.by,
        &AuditEntry::new("conversation.assign", "conversation", conv.id)
            .session(conv.session_id)
            .before(json!({"assignee_id": conv.assignee_id, "status": conv.status}))
            .after(
                json!({"assignee_id": a.to, "status": status, "reason": reason,
                "note_id": note.as_ref().map(|n| n.id)}),
            ),
    )
    .await?;
    tell_who_lost_sight(tx, &conv, a.to).await?;
    // Given by someone else: they may want to know (a member taking one knows).
    if let Some(to) = a.to.filter(|to| *to != a.by.user_id) {
        super::notify::handoff(tx, conv.id, to, a.to_presence).await?;
    }
    let conversation = events::log_conversation(tx, conv.id).await?;
    if let Some(n) = &note {
        log_note(tx, &conversation, n).await?;
    }
    Ok(Ok(Handled { conversation, note }))
}

/// One line of a conversation's assignment history: who had it, who has it, who decided
/// (`None`: the hub) and why (`detail`: the router's reasoning).
pub async fn record_assignment(
    tx: &mut Tx,
    conversation_id: i64,
    from: Option<i64>,
    to: Option<i64>,
    by: Option<i64>,
    reason: &str,
    detail: Option<serde_json::Value>,
) -> Result<()> {
    record_assignment_with_note(tx, conversation_id, from, to, by, reason, None, detail).await
}

#[allow(clippy::too_many_arguments)]
async fn record_assignment_with_note(
    tx: &mut Tx,
    conversation_id: i64,
    from: Option<i64>,
    to: Option<i64>,
    by: Option<i64>,
    reason: &str,
    note_id: Option<i64>,
    detail: Option<serde_json::Value>,
) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO assignments (conversation_id, from_user_id, to_user_id, by_user_id, reason, note_id,
            created_at, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(conversation_id).bind(from).bind(to).bind(by).bind(reason).bind(note_id).bind(now)
        .bind(detail.map(|d| d.to_string()))
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Member `id`'s load and capacity when they can take one more conversation of
/// `session_id` now (active, with an inbox, working in the session, below capacity, counted
/// under their row lock); `None` when they cannot.
pub async fn room(tx: &mut Tx, id: i64, session_id: i64) -> Result<Option<(i64, Option<i64>)>> {
    lock_member(tx, id).await?;
    let facts = members::facts_in(tx, id).await?;
    if check_assignee(facts.as_ref(), id, session_id).is_err() {
        return Ok(None);
    }
    let capacity = facts.and_then(|f| f.capacity);
    let load = members::open_load_in(tx, id).await?;
    Ok(capacity
        .is_none_or(|cap| load < cap)
        .then_some((load, capacity)))
}

async fn log_note(tx: &mut Tx, conv: &Conversation, note: &Note) -> Result<()> {
    events::append(
        tx,
        EventKind::NoteCreated,
        events::conversation_scope(conv),
        note,
    )
    .await
}

/// Resolve (`resolved: true`) or reopen a conversation. Doing what is already done
/// changes nothing and logs nothing.
pub async fn set_resolved(
    tx: &mut Tx,
    (by, id, resolved): &(Viewer, i64, bool),
) -> Result<Outcome<Conversation>> {
    let conv = match visible(tx, by, *id).await? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if let Err(d) = by.may_act_on_conversation(conv.facts()) {
        return Ok(Err(d.into()));
    }
    let is_resolved = conv.status == ConversationStatus::Resolved;
    if is_resolved == *resolved {
        return Ok(Ok(conv));
    }
    let status = match (*resolved, conv.assignee_id) {
        (true, _) => ConversationStatus::Resolved,
        (false, Some(_)) => ConversationStatus::Open,
        (false, None) => ConversationStatus::Pending,
    };
    conversations::set_handling(tx, conv.id, conv.assignee_id, status).await?;
    if conv.status == ConversationStatus::Bot {
        resolved_by_bot(tx, conv.id).await?;
    }
    let action = if *resolved {
        "conversation.resolve"
    } else {
        "conversation.reopen"
    };
    audit::record(
        tx,
        by,
        &AuditEntry::new(action, "conversation", conv.id)
            .session(conv.session_id)
            .before(json!({"status": conv.status}))
            .after(json!({"status": status})),
    )
    .await?;
    Ok(Ok(events::log_conversation(tx, conv.id).await?))
}

/// A conversation resolved while the bot still had it: resolved without a person.
pub async fn resolved_by_bot(tx: &mut Tx, conversation_id: i64) -> Result<()> {
    if let Some(bot_id) = super::bot_flow::bot_of(tx, conversation_id).await? {
        super::bot_flow::record(tx, bot_id, None, conversation_id, "resolved", None).await?;
    }
    Ok(())
}

/// A member's reply, refused unless `by` may reply in the conversation as it is now
/// (the session's `reply_policy` against its assignee at this moment); see
/// `outbound::store_member_reply`.
pub async fn reply(
    tx: &mut Tx,
    (r, by): &(Reply, Viewer),
) -> Result<Outcome<Option<(Message, Option<i64>)>>> {
    let conv = match visible(tx, by, r.conversation_id).await? {
        Ok(c) => c,
        Err(refused) => return Ok(Err(refused)),
    };
    let policy = sessions::reply_policy_in(tx, conv.session_id).await?;
    if let Err(d) = by.may_reply(conv.facts(), policy) {
        return Ok(Err(d.into()));
    }
    let stored = outbound::store_member_reply(tx, r, by, conv.session_id).await?;
    // A person answering where the bot was: the bot is silent from now on.
    if conv.status == ConversationStatus::Bot && matches!(stored, Some((_, Some(_)))) {
        super::bot_flow::taken_over(tx, &conv, by.user_id).await?;
    }
    Ok(Ok(stored))
}

/// Sends a failed outbound message again, refused unless `by` may reply in its
/// conversation as it is now (the same rule as `reply`); answers the message, now
/// `pending`, and its queue row for the session to send.
pub async fn retry(
    tx: &mut Tx,
    (by, message_id): &(Viewer, i64),
) -> Result<Outcome<(Message, i64)>> {
    let row = match super::messages::get_in(tx, *message_id).await {
        Ok(r) => r,
        Err(StoreError::NotFound) => return Ok(Err(Refused::Denied(Denied::Hidden))),
        Err(e) => return Err(e),
    };
    let conv = match visible(tx, by, row.conversation_id).await? {
        Ok(c) => c,
        Err(refused) => return Ok(Err(refused)),
    };
    let policy = sessions::reply_policy_in(tx, conv.session_id).await?;
    if let Err(d) = by.may_reply(conv.facts(), policy) {
        return Ok(Err(d.into()));
    }
    let (msg, outbox_id) = match outbound::requeue_failed(tx, *message_id).await? {
        Ok(done) => done,
        Err(why) => return Ok(Err(Refused::Conflict(why))),
    };
    audit::record(
        tx,
        by,
        &AuditEntry::new("message.retry", "message", msg.id)
            .session(conv.session_id)
            .after(json!({"conversation_id": msg.conversation_id})),
    )
    .await?;
    Ok(Ok((msg, outbox_id)))
}

/// A private note by `by`.
pub async fn add_note(
    tx: &mut Tx,
    (by, id, text): &(Viewer, i64, String),
) -> Result<Outcome<Note>> {
    let conv = match visible(tx, by, *id).await? {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if let Err(d) = by.may_act_on_conversation(conv.facts()) {
        return Ok(Err(d.into()));
    }
    let note = notes::insert(tx, conv.id, by.user_id, text).await?;
    audit::record(
        tx,
        by,
        &AuditEntry::new("conversation.note", "conversation", conv.id)
            .session(conv.session_id)
            .after(json!({"note_id": note.id})),
    )
    .await?;
    log_note(tx, &conv, &note).await?;
    Ok(Ok(note))
}

/// `conv` (as it was) goes to `to`: those who saw it only while it was theirs (or in the
/// queue) are told it has gone from their view, once; after that none of its events
/// reach them. Whoever still sees it under the access policy (a supervisor of the
/// session; an agent of the session when it goes back to the queue) is told nothing.
pub(crate) async fn tell_who_lost_sight(
    tx: &mut Tx,
    conv: &Conversation,
    to: Option<i64>,
) -> Result<()> {
    let lost: Vec<i64> = match (conv.assignee_id, to) {
        (Some(from), _) if Some(from) == to => vec![],
        (Some(from), _) => {
            let after = ConversationFacts {
                session_id: conv.session_id,
                assignee_id: to,
            };
            let still_sees = members::facts_in(tx, from)
                .await?
                .is_some_and(|m| m.active && m.viewer().may_see_conversation(after).is_ok());
            if still_sees {
                vec![]
            } else {
                vec![from]
            }
        }
        (None, Some(to)) => members::queue_workers_in(tx, conv.session_id)
            .await?
            .into_iter()
            .filter(|u| *u != to)
            .collect(),
        (None, None) => vec![],
    };
    for user in lost {
        let scope = EventScope {
            user_id: Some(user),
            session_id: Some(conv.session_id),
            conversation_id: Some(conv.id),
            ..Default::default()
        };
        let data = json!({"conversation_id": conv.id, "reason": "reassigned", "assignee_id": to});
        events::append(tx, EventKind::ConversationRemoved, scope, &data).await?;
    }
    Ok(())
}
