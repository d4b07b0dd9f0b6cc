//! What a WAHA event or an agent's command does to the stored inbox, as one writer job:
//! the rows it changes and the events it logs, committed together.

use std::sync::Arc;

use serde::Deserialize;

use super::conversations::{self, Conversation, NewConversation};
use super::inbox::Received;
use super::messages::{self, Media, Message, NewMessage, Reaction};
use super::{contacts, events, inbox, outbox, sessions, Result, Tx};
use crate::domain::chat::raw_message_id;
use crate::domain::{AckStatus, ChatId, EventKind, EventScope};
use crate::on_tx;
use crate::waha::webhook::{
    AckBody, Envelope, ReactionBody, RevokedBody, SessionStatusBody, WaMessage,
};

#[derive(Debug, Clone)]
pub struct SessionRef {
    pub id: i64,
    pub name: String,
}

/// A stored webhook on its way through its conversation actor again (recovery: a crash,
/// or a failure, between storing it and applying it).
#[derive(Debug, Clone)]
pub struct InboxEvent {
    pub inbox_id: i64,
    pub session: SessionRef,
    pub envelope: Arc<Envelope>,
}

/// A webhook just received: stored and applied in one transaction by its actor.
#[derive(Debug, Clone)]
pub struct Ingest {
    pub session: SessionRef,
    pub received: Received,
    pub envelope: Arc<Envelope>,
    /// The chat's conversation as its actor last saw it, which spares a read.
    pub known: Option<Known>,
}

/// A conversation's id and title, as the actor holding it knows them.
#[derive(Debug, Clone)]
pub struct Known {
    pub conversation_id: i64,
    pub title: Option<String>,
}

/// What became of a received webhook.
#[derive(Debug)]
pub enum Ingested {
    /// Stored durably and applied.
    Stored(Box<Outcome>),
    /// The same event was stored before.
    Duplicate,
}

/// What processing an event did, for the actor that asked.
#[derive(Debug, Default)]
pub struct Outcome {
    pub conversation: Option<Conversation>,
    /// A new message was stored (not a duplicate).
    pub new_message: Option<Message>,
}

pub fn conversation_scope(c: &Conversation) -> EventScope {
    EventScope {
        session_id: Some(c.session_id),
        conversation_id: Some(c.id),
        assignee_id: c.assignee_id,
        ..Default::default()
    }
}

async fn log_conversation(tx: &mut Tx, id: i64) -> Result<Conversation> {
    let c = conversations::get_in(tx, id).await?;
    events::append(
        tx,
        EventKind::ConversationUpdated,
        conversation_scope(&c),
        &c,
    )
    .await?;
    Ok(c)
}

/// `message.created` and `conversation.updated` for a new message.
async fn log_created(tx: &mut Tx, msg: &Message, conv: &Conversation) -> Result<()> {
    let scope = conversation_scope(conv);
    events::append(tx, EventKind::MessageCreated, scope, msg).await?;
    events::append(tx, EventKind::ConversationUpdated, scope, conv).await
}

async fn log_message(
    tx: &mut Tx,
    kind: EventKind,
    conv: &Conversation,
    id: i64,
) -> Result<Message> {
    let m = Message::from(messages::get_in(tx, id).await?);
    events::append(tx, kind, conversation_scope(conv), &m).await?;
    Ok(m)
}

/// Stores a received webhook and applies it, in the same transaction: the 2xx WAHA gets
/// and the events agents get both follow the one commit.
pub async fn ingest(tx: &mut Tx, item: &Ingest) -> Result<Ingested> {
    if let Some(done) = ingest_inbound_pg(tx, item).await? {
        return Ok(done);
    }
    if inbox::insert(tx, &item.received, true).await?.is_none() {
        return Ok(Ingested::Duplicate);
    }
    Ok(Ingested::Stored(Box::new(
        apply(tx, &item.session, &item.envelope, item.known.as_ref()).await?,
    )))
}

/// Stores received webhooks without applying them (the fallback when applying fails for
/// a reason of its own: the rows are retried later, WAHA gets its 2xx now).
pub async fn store_unapplied(tx: &mut Tx, items: &[Ingest]) -> Result<Vec<Option<i64>>> {
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        ids.push(inbox::insert(tx, &item.received, false).await?);
    }
    Ok(ids)
}

/// Applies a stored webhook again and marks it processed, in the same transaction.
pub async fn apply_stored(tx: &mut Tx, ev: &InboxEvent) -> Result<Outcome> {
    let outcome = apply(tx, &ev.session, &ev.envelope, None).await?;
    inbox::mark_processed(tx, ev.inbox_id).await?;
    Ok(outcome)
}

async fn apply(
    tx: &mut Tx,
    session: &SessionRef,
    env: &Envelope,
    known: Option<&Known>,
) -> Result<Outcome> {
    let p = &env.payload;
    Ok(match env.event.as_str() {
        "message" | "message.any" => match WaMessage::deserialize(p) {
            Ok(m) => store_message(tx, session, &m, known).await?,
            Err(e) => skip(&env.event, e),
        },
        "message.ack" => match AckBody::deserialize(p) {
            Ok(a) => apply_ack(tx, session, &a).await?,
            Err(e) => skip(&env.event, e),
        },
        "message.reaction" => match ReactionBody::deserialize(p) {
            Ok(r) => {
                apply_reaction(tx, session, &r, env.me.as_ref().map(|m| m.id.as_str())).await?
            }
            Err(e) => skip(&env.event, e),
        },
        "message.revoked" => match RevokedBody::deserialize(p) {
            Ok(r) => apply_revoke(tx, session, &r).await?,
            Err(e) => skip(&env.event, e),
        },
        "session.status" => match SessionStatusBody::deserialize(p) {
            Ok(s) => {
                let me = env
                    .me
                    .as_ref()
                    .map(|m| (m.id.as_str(), m.push_name.as_deref()));
                set_session_status(tx, session, &s.status, me).await?;
                Outcome::default()
            }
            Err(e) => skip(&env.event, e),
        },
        _ => Outcome::default(),
    })
}

/// A payload that cannot mean anything is recorded as processed: retrying cannot fix it.
fn skip(event: &str, e: serde_json::Error) -> Outcome {
    tracing::warn!(event, error = %e, "unusable webhook payload; skipped");
    Outcome::default()
}

pub async fn set_session_status(
    tx: &mut Tx,
    s: &SessionRef,
    status: &str,
    me: Option<(&str, Option<&str>)>,
) -> Result<()> {
    if sessions::set_status(tx, s.id, status, me).await? {
        let scope = EventScope {
            session_id: Some(s.id),
            ..Default::default()
        };
        let data = serde_json::json!({ "session": s.name, "status": status });
        events::append(tx, EventKind::SessionStatus, scope, &data).await?;
    }
    Ok(())
}

/// What a WAHA message becomes, before any database work.
struct Prepared {
    chat: ChatId,
    name: Option<String>,
    media: Option<Media>,
    text: String,
    direction: &'static str,
    status: &'static str,
    sender: Option<String>,
    preview: String,
    wa_timestamp: Option<i64>,
}

impl Prepared {
    fn of(m: &WaMessage) -> Option<Prepared> {
        let chat = m.chat()?;
        let name = if m.from_me { None } else { m.sender_name() };
        let media = m.has_media.then(|| Media {
            url: m.media_url().map(str::to_string),
            mimetype: m.media.as_ref().and_then(|x| x.mimetype.clone()),
            filename: m.media.as_ref().and_then(|x| x.filename.clone()),
        });
        let text = m.text();
        let (direction, status) = if m.from_me {
            // Typed on the business phone (or sent by another API client): show it as ours.
            let ack = m
                .ack
                .and_then(AckStatus::from_waha)
                .unwrap_or(AckStatus::Sent);
            ("out", ack.as_str())
        } else {
            ("in", AckStatus::Delivered.as_str())
        };
        let preview = if text.is_empty() {
            media_preview(media.as_ref())
        } else {
            text.clone()
        };
        Some(Prepared {
            chat,
            name,
            media,
            text,
            direction,
            status,
            sender: m.sender(),
            preview,
            wa_timestamp: m.timestamp.map(|t| (t * 1000.0) as i64),
        })
    }

    fn message<'a>(
        &'a self,
        m: &'a WaMessage,
        session_id: i64,
        conversation_id: i64,
    ) -> NewMessage<'a> {
        NewMessage {
            conversation_id,
            session_id,
            waha_id: Some(&m.id),
            direction: self.direction,
            text: &self.text,
            status: self.status,
            sender: self.sender.as_deref(),
            sender_name: self.name.as_deref(),
            media: self.media.as_ref(),
            client_id: None,
            author_id: None,
            wa_timestamp: self.wa_timestamp,
        }
    }

    /// The conversation title a message sets (a person's WhatsApp name).
    fn title(&self) -> Option<&str> {
        if self.chat.is_group() {
            None
        } else {
            self.name.as_deref()
        }
    }
}

async fn store_message(
    tx: &mut Tx,
    s: &SessionRef,
    m: &WaMessage,
    known: Option<&Known>,
) -> Result<Outcome> {
    let Some(p) = Prepared::of(m) else {
        tracing::warn!(id = %m.id, "message without a chat id; skipped");
        return Ok(Outcome::default());
    };
    // `message` and `message.any` carry the same message, and our own API sends come
    // back as `message.any` (source: api): the insert below does nothing for a raw id
    // the session has, however the engine serialized it.
    let conv_id = ensure_conversation(tx, s, &p.chat, p.name.as_deref(), known).await?;
    let new = p.message(m, s.id, conv_id);
    let Some(id) = messages::insert(tx, &new).await? else {
        return Ok(Outcome::default());
    };
    let mut msg = new.stored(id, &s.name, tx.now);
    if m.from_me {
        if let Some(status) =
            apply_backlogged_ack(tx, s.id, raw_message_id(&m.id), id, p.status).await?
        {
            msg.status = status.as_str().to_string();
        }
    }
    let conv =
        conversations::touch(tx, conv_id, &s.name, &p.preview, !m.from_me, p.title()).await?;
    log_created(tx, &msg, &conv).await?;
    Ok(Outcome {
        conversation: Some(conv),
        new_message: Some(msg),
    })
}

/// The hot path on PostgreSQL: a customer's message in a conversation its actor knows.
/// The inbox row, the message and the conversation's summary in one statement (one
/// round trip instead of three); the events follow with the batch. `None`: the fast
/// path does not apply, take the general one.
async fn ingest_inbound_pg(tx: &mut Tx, item: &Ingest) -> Result<Option<Ingested>> {
    let (Some(known), true) = (
        item.known.as_ref(),
        matches!(tx.conn, super::writer::Conn::Postgres(_)),
    ) else {
        return Ok(None);
    };
    if !matches!(item.envelope.event.as_str(), "message" | "message.any") {
        return Ok(None);
    }
    let Ok(m) = WaMessage::deserialize(&item.envelope.payload) else {
        return Ok(None);
    };
    let Some(p) = Prepared::of(&m) else {
        return Ok(None);
    };
    if m.from_me || !(p.chat.is_group() || p.name.is_none() || p.name == known.title) {
        return Ok(None);
    }
    let super::writer::Conn::Postgres(t) = &mut tx.conn else {
        return Ok(None);
    };
    let new = p.message(&m, item.session.id, known.conversation_id);
    let preview: String = p.preview.chars().take(140).collect();
    let row: FastRow = sqlx::query_as(
        "WITH i AS (
            INSERT INTO inbox (event_key, session_id, event, body, received_at, processed_at)
            VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (event_key) DO NOTHING RETURNING id
         ), m AS (
            INSERT INTO messages (conversation_id, session_id, waha_id, raw_id, direction, text, status,
                sender, sender_name, media_url, media_mimetype, media_filename, wa_timestamp, created_at)
            SELECT $6, $2, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $5 FROM i
            ON CONFLICT DO NOTHING RETURNING id
         ), c AS (
            UPDATE conversations SET
                last_message_at = CASE WHEN $5 > last_message_at THEN $5 ELSE last_message_at END,
                last_message_preview = $18, unread = unread + 1, title = COALESCE($19, title), updated_at = $5
            WHERE id = $6 AND EXISTS (SELECT 1 FROM m)
            RETURNING id, session_id, chat_id, contact_id, is_group, title, status, assignee_id, unread,
                last_message_at, last_message_preview, created_at
         )
         SELECT (SELECT id FROM i) AS inbox_id, (SELECT id FROM m) AS message_id,
            c.id, c.session_id, c.chat_id, c.contact_id, c.is_group, c.title, c.status, c.assignee_id,
            c.unread, c.last_message_at, c.last_message_preview, c.created_at
         FROM (SELECT 1) AS one LEFT JOIN c ON TRUE",
    )
    .bind(&item.received.event_key)
    .bind(item.session.id)
    .bind(&item.received.event)
    .bind(&item.received.body)
    .bind(tx.now)
    .bind(known.conversation_id)
    .bind(new.waha_id)
    .bind(new.waha_id.map(raw_message_id))
    .bind(new.direction)
    .bind(new.text)
    .bind(new.status)
    .bind(new.sender)
    .bind(new.sender_name)
    .bind(new.media.and_then(|x| x.url.as_deref()))
    .bind(new.media.and_then(|x| x.mimetype.as_deref()))
    .bind(new.media.and_then(|x| x.filename.as_deref()))
    .bind(new.wa_timestamp)
    .bind(&preview)
    .bind(p.title())
    .fetch_one(&mut **t)
    .await?;
    if row.inbox_id.is_none() {
        return Ok(Some(Ingested::Duplicate));
    }
    let (Some(message_id), Some(id)) = (row.message_id, row.id) else {
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
        status: row.status.unwrap_or_default(),
        assignee_id: row.assignee_id,
        unread: row.unread.unwrap_or(0),
        last_message_at: row.last_message_at.unwrap_or(tx.now),
        last_message_preview: row.last_message_preview,
        created_at: row.created_at.unwrap_or(tx.now),
    };
    let msg = new.stored(message_id, &item.session.name, tx.now);
    log_created(tx, &msg, &conv).await?;
    Ok(Some(Ingested::Stored(Box::new(Outcome {
        conversation: Some(conv),
        new_message: Some(msg),
    }))))
}

#[derive(sqlx::FromRow)]
struct FastRow {
    inbox_id: Option<i64>,
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

fn media_preview(media: Option<&Media>) -> String {
    match media.and_then(|m| m.mimetype.as_deref()) {
        Some(t) if t.starts_with("image/") => "📷 Photo".into(),
        Some(t) if t.starts_with("video/") => "🎥 Video".into(),
        Some(t) if t.starts_with("audio/") => "🎤 Audio".into(),
        Some(_) => "📎 File".into(),
        None => String::new(),
    }
}

/// The chat's conversation id, created (with its contact, for a person) on first sight.
/// Known to the actor, it costs nothing; else one read. The contact is touched only when
/// the customer's WhatsApp name changed.
async fn ensure_conversation(
    tx: &mut Tx,
    s: &SessionRef,
    chat: &ChatId,
    name: Option<&str>,
    known: Option<&Known>,
) -> Result<i64> {
    if let Some(k) = known {
        if chat.is_group() || name.is_none() || k.title.as_deref() == name {
            return Ok(k.conversation_id);
        }
    }
    if let Some(c) = conversations::find_in(tx, s.id, chat.as_str()).await? {
        if !c.is_group && name.is_some() && c.title.as_deref() != name {
            contacts::upsert_seen(tx, s.id, chat.as_str(), chat.phone().as_deref(), name).await?;
        }
        return Ok(c.id);
    }
    let contact_id = if chat.is_group() {
        None
    } else {
        Some(contacts::upsert_seen(tx, s.id, chat.as_str(), chat.phone().as_deref(), name).await?)
    };
    let title = if chat.is_group() {
        None
    } else {
        name.map(str::to_string).or_else(|| chat.phone())
    };
    conversations::insert(
        tx,
        &NewConversation {
            session_id: s.id,
            chat_id: chat.as_str(),
            contact_id,
            is_group: chat.is_group(),
            title: title.as_deref(),
            status: "pending",
        },
    )
    .await
}

async fn update_status(
    tx: &mut Tx,
    row: &messages::MessageRow,
    next: AckStatus,
) -> Result<Option<Message>> {
    let mut status = row.status.clone();
    // Compare-and-set: on PostgreSQL another writer may move the status meanwhile.
    loop {
        let current = AckStatus::parse(&status).unwrap_or(AckStatus::Pending);
        let Some(next) = current.advance(next) else {
            return Ok(None);
        };
        if messages::set_status(tx, row.id, &status, next.as_str()).await? {
            break;
        }
        status = messages::get_in(tx, row.id).await?.status;
    }
    let conv = conversations::get_in(tx, row.conversation_id).await?;
    Ok(Some(
        log_message(tx, EventKind::MessageUpdated, &conv, row.id).await?,
    ))
}

async fn apply_ack(tx: &mut Tx, s: &SessionRef, a: &AckBody) -> Result<Outcome> {
    let Some(status) = a.ack.and_then(AckStatus::from_waha) else {
        return Ok(Outcome::default());
    };
    let raw = raw_message_id(&a.id);
    match messages::find_by_raw_id(tx, s.id, raw).await? {
        Some(row) => {
            update_status(tx, &row, status).await?;
        }
        None => backlog_ack(tx, s.id, raw, status).await?,
    }
    Ok(Outcome::default())
}

/// An ack for a message not stored yet (WAHA does not order events): keep the best one.
async fn backlog_ack(tx: &mut Tx, session_id: i64, raw_id: &str, status: AckStatus) -> Result<()> {
    let now = tx.now;
    let known: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT status FROM ack_backlog WHERE session_id = $1 AND raw_id = $2")
        .bind(session_id).bind(raw_id).fetch_optional(c).await)?;
    let better = match known.as_deref().and_then(AckStatus::parse) {
        Some(k) => k.advance(status).is_some(),
        None => true,
    };
    if better {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO ack_backlog (session_id, raw_id, status, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (session_id, raw_id) DO UPDATE SET status = excluded.status")
            .bind(session_id).bind(raw_id).bind(status.as_str()).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Applies an ack that arrived before its message; returns the new status if any.
async fn apply_backlogged_ack(
    tx: &mut Tx,
    session_id: i64,
    raw_id: &str,
    message_id: i64,
    current: &str,
) -> Result<Option<AckStatus>> {
    let known: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "DELETE FROM ack_backlog WHERE session_id = $1 AND raw_id = $2 RETURNING status")
        .bind(session_id).bind(raw_id).fetch_optional(c).await)?;
    let Some(status) = known.as_deref().and_then(AckStatus::parse) else {
        return Ok(None);
    };
    let Some(next) = AckStatus::parse(current)
        .unwrap_or(AckStatus::Pending)
        .advance(status)
    else {
        return Ok(None);
    };
    // The row was inserted by this transaction a moment ago: nobody else has moved it.
    messages::set_status(tx, message_id, current, next.as_str()).await?;
    Ok(Some(next))
}

async fn apply_reaction(
    tx: &mut Tx,
    s: &SessionRef,
    r: &ReactionBody,
    me: Option<&str>,
) -> Result<Outcome> {
    let Some(row) =
        messages::find_by_raw_id(tx, s.id, raw_message_id(&r.reaction.message_id)).await?
    else {
        tracing::debug!(target_id = %r.reaction.message_id, "reaction to an unknown message; ignored");
        return Ok(Outcome::default());
    };
    let b = &r.base;
    let sender = if b.from_me {
        me.map(str::to_string)
    } else {
        b.participant
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| b.from.clone())
    };
    let Some(sender) = sender.map(|s| ChatId::normalise(&s).into_string()) else {
        return Ok(Outcome::default());
    };
    let mut reactions: Vec<Reaction> = serde_json::from_str(&row.reactions).unwrap_or_default();
    let before = reactions.clone();
    reactions.retain(|x| x.sender != sender);
    if let Some(emoji) = r.reaction.text.as_deref().filter(|t| !t.is_empty()) {
        reactions.push(Reaction {
            sender,
            emoji: emoji.to_string(),
        });
    }
    if reactions == before {
        return Ok(Outcome::default());
    }
    messages::set_reactions(tx, row.id, &reactions).await?;
    let conv = conversations::get_in(tx, row.conversation_id).await?;
    log_message(tx, EventKind::MessageUpdated, &conv, row.id).await?;
    Ok(Outcome::default())
}

async fn apply_revoke(tx: &mut Tx, s: &SessionRef, r: &RevokedBody) -> Result<Outcome> {
    let target = r
        .revoked_message_id
        .clone()
        .or_else(|| r.before.as_ref().map(|m| m.id.clone()));
    let Some(target) = target else {
        return Ok(Outcome::default());
    };
    let Some(row) = messages::find_by_raw_id(tx, s.id, raw_message_id(&target)).await? else {
        return Ok(Outcome::default());
    };
    if row.revoked_at.is_some() {
        return Ok(Outcome::default());
    }
    messages::set_revoked(tx, row.id).await?;
    let conv = conversations::get_in(tx, row.conversation_id).await?;
    log_message(tx, EventKind::MessageUpdated, &conv, row.id).await?;
    Ok(Outcome::default())
}

/// An agent's reply, stored with its outbox row before anything is sent.
#[derive(Debug, Clone)]
pub struct Reply {
    pub conversation_id: i64,
    pub text: String,
    pub client_id: Option<String>,
    pub author_id: i64,
}

/// Stores a reply; the same `client_id` twice gives the first message back (a client
/// retrying its POST must not make us send twice). `None` when the conversation is gone.
pub async fn store_reply(tx: &mut Tx, r: &Reply) -> Result<Option<(Message, Option<i64>)>> {
    if let Some(cid) = r.client_id.as_deref() {
        if let Some(existing) = messages::find_by_client_id(tx, r.conversation_id, cid).await? {
            return Ok(Some((Message::from(existing), None)));
        }
    }
    let conv = match conversations::get_in(tx, r.conversation_id).await {
        Ok(c) => c,
        Err(super::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let new = NewMessage {
        conversation_id: conv.id,
        session_id: conv.session_id,
        waha_id: None,
        direction: "out",
        text: &r.text,
        status: AckStatus::Pending.as_str(),
        sender: None,
        sender_name: None,
        media: None,
        client_id: r.client_id.as_deref(),
        author_id: Some(r.author_id),
        wa_timestamp: None,
    };
    let id = messages::insert(tx, &new)
        .await?
        .ok_or_else(|| super::StoreError::Database("reply insert returned no id".into()))?;
    let msg = new.stored(id, &conv.session, tx.now);
    let outbox_id = outbox::insert(tx, id, conv.session_id, &conv.chat_id, &r.text).await?;
    let conv = conversations::touch(tx, conv.id, &conv.session, &r.text, false, None).await?;
    log_created(tx, &msg, &conv).await?;
    Ok(Some((msg, Some(outbox_id))))
}

/// Marks a conversation read; logs `conversation.updated` when the count changed.
pub async fn mark_read(tx: &mut Tx, conversation_id: i64) -> Result<Option<Conversation>> {
    match conversations::get_in(tx, conversation_id).await {
        Ok(_) => {}
        Err(super::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    }
    if conversations::mark_read(tx, conversation_id).await? {
        Ok(Some(log_conversation(tx, conversation_id).await?))
    } else {
        Ok(Some(conversations::get_in(tx, conversation_id).await?))
    }
}

/// Outcomes of one attempt to hand a message to WAHA.
#[derive(Debug, Clone)]
pub enum SendResult {
    /// WAHA took it (or already had it): its id, when WAHA said.
    Sent(Option<String>),
    /// Try again at this time (ms).
    Retry { at: i64, error: String },
    /// Will never go: the message is failed.
    Failed(String),
}

pub async fn reserve_waha_id(tx: &mut Tx, message_id: i64, waha_id: &str) -> Result<()> {
    messages::set_waha_id(tx, message_id, waha_id).await
}

pub async fn record_send(tx: &mut Tx, outbox_id: i64, result: &SendResult) -> Result<()> {
    let item = outbox::get_in(tx, outbox_id).await?;
    let row = messages::get_in(tx, item.message_id).await?;
    match result {
        SendResult::Sent(waha_id) => {
            if let (Some(id), None) = (waha_id.as_deref(), row.waha_id.as_deref()) {
                messages::set_waha_id(tx, row.id, id).await?;
            }
            outbox::finish(tx, outbox_id, "sent", None).await?;
            update_status(tx, &row, AckStatus::Sent).await?;
        }
        SendResult::Retry { at, error } => outbox::retry_at(tx, outbox_id, *at, error).await?,
        SendResult::Failed(error) => {
            outbox::finish(tx, outbox_id, "failed", Some(error)).await?;
            update_status(tx, &row, AckStatus::Failed).await?;
        }
    }
    Ok(())
}
