//! Messages: what agents read and send. One row per WhatsApp message, unique on the
//! WAHA message id within its session, so duplicate webhooks store it once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Db, Result, Tx};

pub use crate::domain::Media;
use crate::domain::{AckStatus, Direction};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct Reaction {
    /// The reacting chat member's WhatsApp id.
    pub sender: String,
    pub emoji: String,
}

/// A message as agents see it over HTTP and in `message.created` / `message.updated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    /// WhatsApp session name.
    pub session: String,
    pub direction: Direction,
    pub text: String,
    /// WAHA's message id (`null` for an outbound message not yet handed to WAHA).
    pub waha_id: Option<String>,
    pub status: AckStatus,
    /// The sender's WhatsApp id (the member, in groups).
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub media: Option<Media>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The id the sending client chose, echoed so it can match its optimistic copy.
    pub client_id: Option<String>,
    /// The agent who wrote it (outbound from tickhub only).
    pub author_id: Option<i64>,
    /// The bot that wrote it (outbound from tickhub only).
    pub bot_id: Option<i64>,
    /// That bot's name as it is now; `null` for a message no bot wrote, or whose bot was
    /// deleted.
    pub bot_name: Option<String>,
    pub revoked: bool,
    pub reactions: Vec<Reaction>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub conversation_id: i64,
    pub session_id: i64,
    pub session: String,
    pub waha_id: Option<String>,
    pub raw_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub direction: Direction,
    pub text: String,
    #[sqlx(try_from = "String")]
    pub status: AckStatus,
    pub sender: Option<String>,
    pub sender_name: Option<String>,
    pub media_url: Option<String>,
    pub media_mimetype: Option<String>,
    pub media_filename: Option<String>,
    pub client_id: Option<String>,
    pub author_id: Option<i64>,
    pub bot_id: Option<i64>,
    pub bot_name: Option<String>,
    pub reactions: String,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        let media = (r.media_url.is_some() || r.media_mimetype.is_some()).then_some(Media {
            url: r.media_url,
            mimetype: r.media_mimetype,
            filename: r.media_filename,
        });
        Message {
            id: r.id,
            conversation_id: r.conversation_id,
            session: r.session,
            direction: r.direction,
            text: r.text,
            waha_id: r.waha_id,
            status: r.status,
            sender: r.sender,
            sender_name: r.sender_name,
            media,
            created_at: r.created_at,
            client_id: r.client_id,
            author_id: r.author_id,
            bot_id: r.bot_id,
            bot_name: r.bot_name,
            revoked: r.revoked_at.is_some(),
            reactions: serde_json::from_str(&r.reactions).unwrap_or_default(),
        }
    }
}

// The statement text must be `'static` for sqlx, so the shared SELECT is pasted by macro.
// The bot's name is joined rather than copied onto each message: a page of messages stays
// one query, and a renamed bot shows under its new name.
macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT m.id, m.conversation_id, m.session_id, s.name AS session, m.waha_id, m.raw_id, ",
            "m.direction, m.text, m.status, m.sender, m.sender_name, m.media_url, m.media_mimetype, ",
            "m.media_filename, m.client_id, m.author_id, m.bot_id, b.name AS bot_name, m.reactions, ",
            "m.revoked_at, m.created_at ",
            "FROM messages m JOIN wa_sessions s ON s.id = m.session_id ",
            "LEFT JOIN bots b ON b.id = m.bot_id ",
            $tail
        )
    };
}

/// Newest first; `before` is the cursor (a message id) for older pages.
pub async fn list(
    db: &Db,
    conversation_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Message>> {
    let rows: Vec<MessageRow> = on_pool!(db, p => sqlx::query_as(select!(
        "WHERE m.conversation_id = $1 AND ($2 IS NULL OR m.id < $2) ORDER BY m.id DESC LIMIT $3"))
        .bind(conversation_id).bind(before).bind(limit)
        .fetch_all(p).await)?;
    Ok(rows.into_iter().map(Message::from).collect())
}

/// The first `limit` messages of a conversation, oldest first.
pub async fn oldest_first(db: &Db, conversation_id: i64, limit: i64) -> Result<Vec<Message>> {
    let rows: Vec<MessageRow> = on_pool!(db, p => sqlx::query_as(select!(
        "WHERE m.conversation_id = $1 ORDER BY m.id LIMIT $2"))
        .bind(conversation_id).bind(limit)
        .fetch_all(p).await)?;
    Ok(rows.into_iter().map(Message::from).collect())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Message>> {
    let row: Option<MessageRow> = on_pool!(db, p => sqlx::query_as(select!("WHERE m.id = $1"))
        .bind(id).fetch_optional(p).await)?;
    Ok(row.map(Message::from))
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<MessageRow> {
    let row: MessageRow = on_tx!(tx, c => sqlx::query_as(select!("WHERE m.id = $1"))
        .bind(id).fetch_one(c).await)?;
    Ok(row)
}

/// Finds a message by WAHA id, comparing the raw part: engines serialize ids differently.
pub async fn find_by_raw_id(
    tx: &mut Tx,
    session_id: i64,
    raw_id: &str,
) -> Result<Option<MessageRow>> {
    let row: Option<MessageRow> = on_tx!(tx, c => sqlx::query_as(select!(
        "WHERE m.session_id = $1 AND m.raw_id = $2 ORDER BY m.id LIMIT 1"))
        .bind(session_id).bind(raw_id).fetch_optional(c).await)?;
    Ok(row)
}

pub async fn find_by_client_id(
    tx: &mut Tx,
    conversation_id: i64,
    client_id: &str,
) -> Result<Option<MessageRow>> {
    let row: Option<MessageRow> = on_tx!(tx, c => sqlx::query_as(select!(
        "WHERE m.conversation_id = $1 AND m.client_id = $2 LIMIT 1"))
        .bind(conversation_id).bind(client_id).fetch_optional(c).await)?;
    Ok(row)
}

pub struct NewMessage<'a> {
    pub conversation_id: i64,
    pub session_id: i64,
    pub waha_id: Option<&'a str>,
    pub direction: Direction,
    pub text: &'a str,
    pub status: AckStatus,
    pub sender: Option<&'a str>,
    pub sender_name: Option<&'a str>,
    pub media: Option<&'a Media>,
    pub client_id: Option<&'a str>,
    pub author_id: Option<i64>,
    /// The bot and trigger that wrote it.
    pub bot: Option<(i64, Option<i64>)>,
    pub wa_timestamp: Option<i64>,
}

impl NewMessage<'_> {
    /// The stored message, without reading it back.
    pub fn stored(&self, id: i64, session: &str, created_at: i64) -> Message {
        Message {
            id,
            conversation_id: self.conversation_id,
            session: session.to_string(),
            direction: self.direction,
            text: self.text.to_string(),
            waha_id: self.waha_id.map(str::to_string),
            status: self.status,
            sender: self.sender.map(str::to_string),
            sender_name: self.sender_name.map(str::to_string),
            media: self.media.cloned(),
            created_at,
            client_id: self.client_id.map(str::to_string),
            author_id: self.author_id,
            bot_id: self.bot.map(|b| b.0),
            // Filled by whoever stores a bot's message (it knows the bot).
            bot_name: None,
            revoked: false,
            reactions: Vec::new(),
        }
    }
}

/// Inserts unless the WAHA id (or its raw part, however the engine serialized it) is
/// already stored; `None` means a duplicate.
pub async fn insert(tx: &mut Tx, m: &NewMessage<'_>) -> Result<Option<i64>> {
    let now = tx.now;
    let raw_id = m.waha_id.map(crate::domain::chat::raw_message_id);
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, session_id, waha_id, raw_id, direction, text, status,
            sender, sender_name, media_url, media_mimetype, media_filename, client_id, author_id,
            wa_timestamp, created_at, bot_id, trigger_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT DO NOTHING RETURNING id")
        .bind(m.conversation_id).bind(m.session_id).bind(m.waha_id).bind(raw_id)
        .bind(m.direction.as_str()).bind(m.text).bind(m.status.as_str()).bind(m.sender).bind(m.sender_name)
        .bind(m.media.and_then(|x| x.url.as_deref()))
        .bind(m.media.and_then(|x| x.mimetype.as_deref()))
        .bind(m.media.and_then(|x| x.filename.as_deref()))
        .bind(m.client_id).bind(m.author_id).bind(m.wa_timestamp).bind(now)
        .bind(m.bot.map(|b| b.0)).bind(m.bot.and_then(|b| b.1))
        .fetch_optional(c).await)?;
    Ok(id)
}

/// Sets a message's status. Every change to a message goes through its conversation's
/// actor, one at a time, so the caller's decision (acks only move forward) stands.
pub async fn set_status(tx: &mut Tx, id: i64, to: AckStatus) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE messages SET status = $2 WHERE id = $1")
        .bind(id).bind(to.as_str()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_waha_id(tx: &mut Tx, id: i64, waha_id: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE messages SET waha_id = $2, raw_id = $3 WHERE id = $1")
        .bind(id).bind(waha_id).bind(crate::domain::chat::raw_message_id(waha_id)).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_reactions(tx: &mut Tx, id: i64, reactions: &[Reaction]) -> Result<()> {
    let json = serde_json::to_string(reactions).unwrap_or_else(|_| "[]".into());
    on_tx!(tx, c => sqlx::query("UPDATE messages SET reactions = $2 WHERE id = $1")
        .bind(id).bind(json).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_revoked(tx: &mut Tx, id: i64) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE messages SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
