//! The hot path on PostgreSQL: a customer's message in a conversation its actor knows.
//! The message and the conversation's summary in one statement (data-modifying CTEs: one
//! round trip instead of two); the events follow with the batch. SQLite has no DML in CTEs and no round trips to save, so it takes the general
//! path in `ingest`.

use super::conversations::Conversation;
use super::ingest::{new_message, Applied, Ingest, Ingested};
use super::writer::Conn;
use super::{events, Result, Tx};
use crate::domain::chat::raw_message_id;
use crate::domain::{Change, ConversationStatus};

/// `None`: the fast path does not apply, take the general one.
pub(super) async fn customer_message(tx: &mut Tx, item: &Ingest) -> Result<Option<Ingested>> {
    let (Some(known), Change::Message(m)) = (item.known.as_ref(), &item.inbound.change) else {
        return Ok(None);
    };
    // A name change touches the contact, a group or our own message the counters: the
    // general path knows how.
    if m.from_me || !(m.chat.is_group() || m.sender_name.is_none() || m.sender_name == known.title)
    {
        return Ok(None);
    }
    let Conn::Postgres(t) = &mut tx.conn else {
        return Ok(None);
    };
    let new = new_message(m, item.session.id, known.conversation_id);
    let preview: String = m.preview.chars().take(140).collect();
    let row: FastRow = sqlx::query_as(
        "WITH m AS (
            INSERT INTO messages (conversation_id, session_id, waha_id, raw_id, direction, text, status,
                sender, sender_name, media_url, media_mimetype, media_filename, wa_timestamp, created_at)
            VALUES ($2, $1, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $3)
            ON CONFLICT DO NOTHING RETURNING id
         ), c AS (
            UPDATE conversations SET
                last_message_at = CASE WHEN $3 > last_message_at THEN $3 ELSE last_message_at END,
                last_message_preview = $15, unread = unread + 1, title = COALESCE($16, title), updated_at = $3,
                awaiting_reply_since = COALESCE(awaiting_reply_since, $3)
            WHERE id = $2 AND EXISTS (SELECT 1 FROM m)
            RETURNING id, session_id, chat_id, contact_id, is_group, title, status, assignee_id, unread,
                last_message_at, last_message_preview, created_at
         )
         SELECT (SELECT id FROM m) AS message_id,
            c.id, c.session_id, c.chat_id, c.contact_id, c.is_group, c.title, c.status, c.assignee_id,
            c.unread, c.last_message_at, c.last_message_preview, c.created_at
         FROM (SELECT 1) AS one LEFT JOIN c ON TRUE",
    )
    .bind(item.session.id)
    .bind(known.conversation_id)
    .bind(tx.now)
    .bind(new.waha_id)
    .bind(new.waha_id.map(raw_message_id))
    .bind(new.direction.as_str())
    .bind(new.text)
    .bind(new.status.as_str())
    .bind(new.sender)
    .bind(new.sender_name)
    .bind(new.media.and_then(|x| x.url.as_deref()))
    .bind(new.media.and_then(|x| x.mimetype.as_deref()))
    .bind(new.media.and_then(|x| x.filename.as_deref()))
    .bind(new.wa_timestamp)
    .bind(&preview)
    .bind(m.title())
    .fetch_one(&mut **t)
    .await?;
    // No message id: the message is stored already (messages have no inbox row, see
    // `ingest`).
    let Some(message_id) = row.message_id else {
        return Ok(Some(Ingested::Duplicate));
    };
    let Some(id) = row.id else {
        return Ok(Some(Ingested::Stored(Box::default())));
    };
    let conv = Conversation {
        id,
        session_id: row.session_id.unwrap_or(item.session.id),
        session: item.session.name.clone(),
        chat_id: row.chat_id.unwrap_or_default(),
        contact_id: row.contact_id,
        is_group: row.is_group.unwrap_or(false),
        title: row.title,
        status: row
            .status
            .as_deref()
            .and_then(ConversationStatus::parse)
            .unwrap_or(ConversationStatus::Pending),
        assignee_id: row.assignee_id,
        unread: row.unread.unwrap_or(0),
        last_message_at: row.last_message_at.unwrap_or(tx.now),
        last_message_preview: row.last_message_preview,
        created_at: row.created_at.unwrap_or(tx.now),
    };
    let msg = new.stored(message_id, &item.session.name, tx.now);
    events::log_created(tx, &msg, &conv).await?;
    Ok(Some(Ingested::Stored(Box::new(Applied {
        conversation: Some(conv),
        new_message: Some((msg, m.author())),
        ..Applied::default()
    }))))
}

#[derive(sqlx::FromRow)]
struct FastRow {
    message_id: Option<i64>,
    id: Option<i64>,
    session_id: Option<i64>,
    chat_id: Option<String>,
    contact_id: Option<i64>,
    is_group: Option<bool>,
    title: Option<String>,
    status: Option<String>,
    assignee_id: Option<i64>,
    unread: Option<i64>,
    last_message_at: Option<i64>,
    last_message_preview: Option<String>,
    created_at: Option<i64>,
}
