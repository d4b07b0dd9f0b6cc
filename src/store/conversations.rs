//! Conversations: one per WhatsApp chat (a person or a group) within a session.

use serde::Serialize;
use utoipa::ToSchema;

use super::{id_list, in_id_list, Db, PerDialect, Result, Tx};
use crate::domain::access::ConversationFilter;
use crate::domain::{ConversationFacts, ConversationStatus};

/// A conversation as agents see it over HTTP and in `conversation.updated`.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Conversation {
    pub id: i64,
    pub session_id: i64,
    /// WhatsApp session name.
    pub session: String,
    pub chat_id: String,
    pub contact_id: Option<i64>,
    pub is_group: bool,
    pub title: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ConversationStatus,
    pub assignee_id: Option<i64>,
    /// Inbound messages since an agent last read the conversation.
    pub unread: i64,
    /// Milliseconds since the Unix epoch.
    pub last_message_at: i64,
    pub last_message_preview: Option<String>,
    pub created_at: i64,
}

macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT c.id, c.session_id, s.name AS session, c.chat_id, c.contact_id, c.is_group, c.title, ",
            "c.status, c.assignee_id, c.unread, c.last_message_at, c.last_message_preview, c.created_at ",
            "FROM conversations c JOIN wa_sessions s ON s.id = c.session_id ",
            $tail
        )
    };
}

/// The SELECT of a conversation, for statements built elsewhere (`conversation_list`).
pub(super) const SELECT_PREFIX: &str = select!("");

pub use super::conversation_list::list;

#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Any of these statuses; empty: any status.
    pub status: Vec<ConversationStatus>,
    pub session_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub unassigned: bool,
    /// A substring (any case) of the chat id or the title, the contact's name, WhatsApp
    /// name, phone, email or notes, or the text of any of its messages.
    pub q: Option<String>,
    /// The conversation's contact has this tag.
    pub tag: Option<String>,
    pub contact_id: Option<i64>,
}

/// A position in the activity order (newest first): `<last_message_at>.<id>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }
    pub fn decode(s: &str) -> Option<Cursor> {
        let (a, b) = s.split_once('.')?;
        Some(Cursor {
            at: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

impl Conversation {
    pub fn facts(&self) -> ConversationFacts {
        ConversationFacts {
            session_id: self.session_id,
            assignee_id: self.assignee_id,
        }
    }
}

/// A conversation, only when `access` lets it through (else it does not exist).
pub async fn get_visible(
    db: &Db,
    access: &ConversationFilter,
    id: i64,
) -> Result<Option<Conversation>> {
    static SQL: PerDialect = PerDialect::new(|d| {
        format!(
            "{SELECT_PREFIX}WHERE c.id = $1 AND {}
               AND ($3 IS NULL OR c.assignee_id IS NULL OR c.assignee_id = $3)",
            in_id_list(d, "c.session_id", "$2")
        )
    });
    let row = on_pool!(db, p => sqlx::query_as(SQL.of(db))
        .bind(id).bind(id_list(access.sessions.as_deref())).bind(access.mine_or_unassigned)
        .fetch_optional(p).await)?;
    Ok(row)
}

/// Conversations still with their bot and quiet longer than its `resolve_after_minutes`,
/// quietest first (at most `limit`).
pub async fn quiet_with_bot(db: &Db, now: i64, limit: i64) -> Result<Vec<Conversation>> {
    let rows = on_pool!(db, p => sqlx::query_as(select!(
        "JOIN bots b ON b.id = c.bot_id
         WHERE c.status = 'bot' AND b.resolve_after_minutes IS NOT NULL
           AND c.last_message_at < $1 - b.resolve_after_minutes * 60000
         ORDER BY c.last_message_at LIMIT $2"))
        .bind(now).bind(limit).fetch_all(p).await)?;
    Ok(rows)
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Conversation> {
    let row =
        on_tx!(tx, c => sqlx::query_as(select!("WHERE c.id = $1")).bind(id).fetch_one(c).await)?;
    Ok(row)
}

pub async fn find_in(tx: &mut Tx, session_id: i64, chat_id: &str) -> Result<Option<Conversation>> {
    let row = on_tx!(tx, c => sqlx::query_as(select!("WHERE c.session_id = $1 AND c.chat_id = $2"))
        .bind(session_id).bind(chat_id).fetch_optional(c).await)?;
    Ok(row)
}

pub struct NewConversation<'a> {
    pub session_id: i64,
    pub chat_id: &'a str,
    pub contact_id: Option<i64>,
    pub is_group: bool,
    pub title: Option<&'a str>,
    pub status: ConversationStatus,
    /// The bot it starts with (status `bot`).
    pub bot_id: Option<i64>,
}

/// Creates a chat's conversation (the caller, on the writer, has checked it is new).
pub async fn insert(tx: &mut Tx, n: &NewConversation<'_>) -> Result<i64> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO conversations (session_id, chat_id, contact_id, is_group, title, status, unread,
            last_message_at, created_at, updated_at, waiting_since, bot_id)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7, $7, $8, $9) RETURNING id")
        .bind(n.session_id).bind(n.chat_id).bind(n.contact_id).bind(n.is_group).bind(n.title)
        .bind(n.status.as_str()).bind(now)
        // A conversation with the bot does not wait for a person.
        .bind((n.bot_id.is_none()).then_some(now)).bind(n.bot_id)
        .fetch_one(c).await)?;
    Ok(id)
}

/// Records a new message in the conversation's summary and returns the conversation.
pub async fn touch(
    tx: &mut Tx,
    id: i64,
    session: &str,
    preview: &str,
    inbound: bool,
    title: Option<&str>,
) -> Result<Conversation> {
    let now = tx.now;
    let preview: String = preview.chars().take(140).collect();
    let c = on_tx!(tx, c => sqlx::query_as(
        "UPDATE conversations SET last_message_at = CASE WHEN $2 > last_message_at THEN $2 ELSE last_message_at END,
            last_message_preview = $3, unread = unread + $4, title = COALESCE($5, title), updated_at = $2,
            awaiting_reply_since = CASE WHEN $4 > 0 THEN COALESCE(awaiting_reply_since, $2) ELSE NULL END
         WHERE id = $1
         RETURNING id, session_id, CAST($6 AS TEXT) AS session, chat_id, contact_id, is_group, title, status,
            assignee_id, unread, last_message_at, last_message_preview, created_at")
        .bind(id).bind(now).bind(preview).bind(if inbound { 1i64 } else { 0 }).bind(title).bind(session)
        .fetch_one(c).await)?;
    Ok(c)
}

pub async fn mark_read(tx: &mut Tx, id: i64) -> Result<bool> {
    let now = tx.now;
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE conversations SET unread = 0, updated_at = $2 WHERE id = $1 AND unread <> 0")
        .bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Who handles a conversation and where it stands, with how long it has waited: set while
/// it is unassigned and not resolved (kept when it already waited), cleared otherwise.
pub async fn set_handling(
    tx: &mut Tx,
    id: i64,
    assignee_id: Option<i64>,
    status: ConversationStatus,
) -> Result<()> {
    let now = tx.now;
    let waits = assignee_id.is_none()
        && !matches!(
            status,
            ConversationStatus::Resolved | ConversationStatus::Bot
        );
    on_tx!(tx, c => sqlx::query(
        "UPDATE conversations SET assignee_id = $2, status = $3, updated_at = $4,
            waiting_since = CASE WHEN $5 THEN COALESCE(waiting_since, $4) ELSE NULL END,
            awaiting_reply_since = CASE WHEN $3 = 'resolved' THEN NULL ELSE awaiting_reply_since END
         WHERE id = $1")
        .bind(id).bind(assignee_id).bind(status.as_str()).bind(now).bind(waits)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find(db: &Db, session_id: i64, chat_id: &str) -> Result<Option<Conversation>> {
    let row = on_pool!(db, p => sqlx::query_as(select!("WHERE c.session_id = $1 AND c.chat_id = $2"))
        .bind(session_id).bind(chat_id).fetch_optional(p).await)?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            at: 1700000000000,
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("x.1"), None);
        assert_eq!(Cursor::decode("12"), None);
    }
}
