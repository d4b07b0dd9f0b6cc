//! Transaction scripts for what arrives from WhatsApp: a received webhook is stored in the
//! inbox and its meaning (a domain [`Change`]) applied, in one writer job, so the 2xx WAHA
//! gets and the events agents get both follow the one commit.

use std::sync::Arc;

use crate::domain::bot::CompiledBot;

use super::bot_flow::{self, Flow};
use super::conversations::{self, Conversation, NewConversation};
use super::inbox::Received;
use super::messages::{self, Message, MessageRow, NewMessage, Reaction};
use super::{contacts, events, inbox, sessions, Result, Tx};
use crate::domain::inbound::Account;
use crate::domain::{
    AckStatus, Author, Change, ChatId, ConversationStatus, EventKind, EventScope, Inbound,
    IncomingMessage, SessionRef,
};

/// A webhook just received, to store and apply.
#[derive(Debug, Clone)]
pub struct Ingest {
    pub session: SessionRef,
    pub row: Received,
    pub inbound: Arc<Inbound>,
    /// The chat's conversation as its actor last saw it, which spares a read.
    pub known: Option<Known>,
}

/// A stored webhook to apply again (recovery: a crash, or a failure, between storing it
/// and applying it).
#[derive(Debug, Clone)]
pub struct StoredWebhook {
    pub inbox_id: i64,
    pub session: SessionRef,
    pub inbound: Arc<Inbound>,
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
    Stored(Box<Applied>),
    /// The same event was stored before.
    Duplicate,
}

/// What applying a change did, for the actor that asked.
#[derive(Debug, Default)]
pub struct Applied {
    pub conversation: Option<Conversation>,
    /// A message stored for the first time (not a duplicate), and who wrote it.
    pub new_message: Option<(Message, Author)>,
    /// The conversation was created with this message.
    pub created: bool,
    /// What the step after the message (bot, handoff, reopening) asks of the actor.
    pub reaction: bot_flow::Reaction,
}

/// Stores a received webhook and applies it in the same transaction.
pub async fn ingest(tx: &mut Tx, item: &Ingest, flow: &Flow) -> Result<Ingested> {
    let bot = match &item.inbound.change {
        Change::Message(_) => flow.bots.for_session(tx, item.session.id).await?,
        _ => None,
    };
    if let Some(done) = super::ingest_fast::customer_message(tx, item).await? {
        return Ok(match done {
            Ingested::Stored(applied) => {
                Ingested::Stored(Box::new(follow(tx, flow, bot.as_ref(), *applied).await?))
            }
            d => d,
        });
    }
    // A message is its own durable record: its (session, raw id) key absorbs WAHA's
    // retries and the `message` / `message.any` pair, so it needs no inbox row beside it
    // (one row and two index entries fewer per webhook). Other events keep theirs: the
    // inbox's event key is what makes their repeats harmless.
    let is_message = matches!(item.inbound.change, Change::Message(_));
    if !is_message && inbox::insert(tx, &item.row, true).await?.is_none() {
        return Ok(Ingested::Duplicate);
    }
    let applied = apply(
        tx,
        &item.session,
        &item.inbound,
        item.known.as_ref(),
        bot.as_deref(),
    )
    .await?;
    if is_message && applied.new_message.is_none() {
        return Ok(Ingested::Duplicate);
    }
    Ok(Ingested::Stored(Box::new(
        follow(tx, flow, bot.as_ref(), applied).await?,
    )))
}

/// The step after a new message (`bot_flow`), in the same transaction.
async fn follow(
    tx: &mut Tx,
    flow: &Flow,
    bot: Option<&Arc<CompiledBot>>,
    mut applied: Applied,
) -> Result<Applied> {
    let (Some((msg, author)), Some(conv)) = (&applied.new_message, &applied.conversation) else {
        return Ok(applied);
    };
    // A customer's opt-out keyword (contract §3c): compared here, in the message's own
    // transaction; written only on a match.
    if let Some(contact_id) = conv.contact_id {
        if !conv.is_group && msg.direction == crate::domain::Direction::In {
            if crate::domain::contact::is_opt_out(&msg.text, &flow.opt_out_words) {
                contacts::opt_out_by_keyword(tx, contact_id, conv.session_id).await?;
            }
            // Only sessions with a campaign of late look for a campaign message to count
            // the reply against: the others pay nothing.
            if flow.campaign_sessions.contains(&conv.session_id) {
                super::campaign_recipients::replied(tx, contact_id).await?;
            }
        }
    }
    // A rating answering the question asked at resolution is stored and leaves the
    // conversation resolved; anything else cancels the survey and reopens it as usual.
    // Only resolved conversations can have a survey waiting, so others pay nothing.
    if *author == Author::Customer && conv.status == ConversationStatus::Resolved {
        if let super::csat::Answer::Rated(_) = super::csat::on_reply(tx, conv, msg).await? {
            return Ok(applied);
        }
    }
    let (after, reaction) =
        bot_flow::react(tx, flow, bot, conv, msg, *author, applied.created).await?;
    if let Some(c) = after {
        applied.conversation = Some(c);
    }
    applied.reaction = reaction;
    Ok(applied)
}

/// Stores received webhooks without applying them (the fallback when applying fails for
/// a reason of its own: the rows are retried later, WAHA gets its 2xx now).
pub async fn store_unapplied(tx: &mut Tx, items: &[Ingest]) -> Result<Vec<Option<i64>>> {
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        ids.push(inbox::insert(tx, &item.row, false).await?);
    }
    Ok(ids)
}

/// Applies a stored webhook again and marks it processed, in the same transaction.
pub async fn apply_stored(tx: &mut Tx, w: &StoredWebhook, flow: &Flow) -> Result<Applied> {
    // Handed over twice (the forwarding node's notice and a sweep, or two owners in turn):
    // the second finds it done.
    if inbox::is_processed(tx, w.inbox_id).await? {
        return Ok(Applied::default());
    }
    let bot = match &w.inbound.change {
        Change::Message(_) => flow.bots.for_session(tx, w.session.id).await?,
        _ => None,
    };
    let applied = apply(tx, &w.session, &w.inbound, None, bot.as_deref()).await?;
    let applied = follow(tx, flow, bot.as_ref(), applied).await?;
    inbox::mark_processed(tx, w.inbox_id).await?;
    Ok(applied)
}

async fn apply(
    tx: &mut Tx,
    session: &SessionRef,
    inbound: &Inbound,
    known: Option<&Known>,
    bot: Option<&CompiledBot>,
) -> Result<Applied> {
    match &inbound.change {
        Change::Message(m) => store_message(tx, session, m, known, bot).await,
        Change::Ack { raw_id, status } => {
            apply_ack(tx, session.id, raw_id, *status).await?;
            Ok(Applied::default())
        }
        Change::Reaction {
            raw_id,
            sender,
            emoji,
        } => {
            apply_reaction(tx, session.id, raw_id, sender, emoji.as_deref()).await?;
            Ok(Applied::default())
        }
        Change::Revoke { raw_id } => {
            apply_revoke(tx, session.id, raw_id).await?;
            Ok(Applied::default())
        }
        Change::SessionStatus { status, me, at } => {
            set_session_status(tx, session, status, me.as_ref(), *at).await?;
            Ok(Applied::default())
        }
        Change::Typing { .. } => Ok(Applied::default()),
        Change::Nothing { reason } => {
            tracing::debug!(%reason, "webhook has nothing to apply");
            Ok(Applied::default())
        }
    }
}

/// Records a session's status (stamped by WAHA at `at`, when it says; the newest stamp
/// wins); logs `session.status` when it changed.
pub async fn set_session_status(
    tx: &mut Tx,
    s: &SessionRef,
    status: &str,
    me: Option<&Account>,
    at: Option<i64>,
) -> Result<()> {
    let me = me.map(|m| (m.id.as_str(), m.name.as_deref()));
    if sessions::set_status(tx, s.id, status, me, at).await? {
        // The paired account as `GET /api/sessions/{name}` answers it (an event without `me`
        // keeps the stored one), so a client need not read the session again.
        let (me_id, me_name): (Option<String>, Option<String>) = on_tx!(tx, c => sqlx::query_as(
            "SELECT me_id, me_name FROM wa_sessions WHERE id = $1")
            .bind(s.id).fetch_one(c).await)?;
        let data = serde_json::json!({
            "session": s.name, "status": status, "me_id": me_id, "me_name": me_name,
        });
        events::append(
            tx,
            EventKind::SessionStatus,
            EventScope::session(s.id),
            &data,
        )
        .await?;
    }
    Ok(())
}

pub(super) fn new_message<'a>(
    m: &'a IncomingMessage,
    session_id: i64,
    conversation_id: i64,
) -> NewMessage<'a> {
    NewMessage {
        conversation_id,
        session_id,
        waha_id: Some(&m.waha_id),
        direction: m.direction,
        text: &m.text,
        status: m.status,
        sender: m.sender.as_deref(),
        sender_name: m.sender_name.as_deref(),
        media: m.media.as_ref(),
        client_id: None,
        author_id: None,
        bot: None,
        wa_timestamp: m.wa_timestamp,
    }
}

async fn store_message(
    tx: &mut Tx,
    s: &SessionRef,
    m: &IncomingMessage,
    known: Option<&Known>,
    bot: Option<&CompiledBot>,
) -> Result<Applied> {
    // `message` and `message.any` carry the same message, and our own API sends come
    // back as `message.any` (source: api): the insert below does nothing for a raw id
    // the session has, however the engine serialized it.
    // A customer starting a conversation in a session with a bot starts it with the bot.
    let bot_id = bot
        .filter(|b| !m.from_me && bot_flow::answers_in(b, m.chat.as_str(), m.chat.is_group()))
        .map(|b| b.def().id);
    let (conv_id, created) =
        ensure_conversation(tx, s, &m.chat, m.sender_name.as_deref(), known, bot_id).await?;
    let new = new_message(m, s.id, conv_id);
    let Some(id) = messages::insert(tx, &new).await? else {
        return Ok(Applied::default());
    };
    let mut msg = new.stored(id, &s.name, tx.now);
    if m.from_me {
        let raw = crate::domain::chat::raw_message_id(&m.waha_id);
        if let Some(status) = apply_backlogged_ack(tx, s.id, raw, id, m.status).await? {
            msg.status = status;
        }
    }
    let conv =
        conversations::touch(tx, conv_id, &s.name, &m.preview, !m.from_me, m.title()).await?;
    events::log_created(tx, &msg, &conv).await?;
    Ok(Applied {
        conversation: Some(conv),
        new_message: Some((msg, m.author())),
        created,
        reaction: bot_flow::Reaction::default(),
    })
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
    bot_id: Option<i64>,
) -> Result<(i64, bool)> {
    if let Some(k) = known {
        if chat.is_group() || name.is_none() || k.title.as_deref() == name {
            return Ok((k.conversation_id, false));
        }
    }
    if let Some(c) = conversations::find_in(tx, s.id, chat.as_str()).await? {
        if !c.is_group && name.is_some() && c.title.as_deref() != name {
            contacts::upsert_seen(tx, s.id, chat.as_str(), chat.phone().as_deref(), name).await?;
        }
        return Ok((c.id, false));
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
            status: match bot_id {
                Some(_) => ConversationStatus::Bot,
                None => ConversationStatus::Pending,
            },
            bot_id,
        },
    )
    .await
    .map(|id| (id, true))
}

/// Moves a message's status forward (acks only progress) and logs `message.updated`;
/// `None` when nothing changed. A campaign's message moves its recipient along (`error`:
/// why it failed).
pub(super) async fn update_status(
    tx: &mut Tx,
    row: &MessageRow,
    next: AckStatus,
    error: Option<&str>,
) -> Result<Option<Message>> {
    let Some(next) = row.status.advance(next) else {
        return Ok(None);
    };
    messages::set_status(tx, row.id, next).await?;
    // Members' replies carry their author and bots' their bot: only the rest (campaigns,
    // and the rare message typed on the business phone) may be a campaign's.
    if row.direction == crate::domain::Direction::Out
        && row.author_id.is_none()
        && row.bot_id.is_none()
    {
        super::campaign_recipients::follow_message(tx, row.id, next, error).await?;
    }
    let conv = conversations::get_in(tx, row.conversation_id).await?;
    Ok(Some(
        events::log_message(tx, EventKind::MessageUpdated, &conv, row.id).await?,
    ))
}

async fn apply_ack(tx: &mut Tx, session_id: i64, raw: &str, status: AckStatus) -> Result<()> {
    match messages::find_by_raw_id(tx, session_id, raw).await? {
        Some(row) => {
            update_status(tx, &row, status, None).await?;
        }
        None => backlog_ack(tx, session_id, raw, status).await?,
    }
    Ok(())
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
    current: AckStatus,
) -> Result<Option<AckStatus>> {
    let known: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
        "DELETE FROM ack_backlog WHERE session_id = $1 AND raw_id = $2 RETURNING status")
        .bind(session_id).bind(raw_id).fetch_optional(c).await)?;
    let Some(next) = known
        .as_deref()
        .and_then(AckStatus::parse)
        .and_then(|s| current.advance(s))
    else {
        return Ok(None);
    };
    messages::set_status(tx, message_id, next).await?;
    Ok(Some(next))
}

async fn apply_reaction(
    tx: &mut Tx,
    session_id: i64,
    raw_id: &str,
    sender: &str,
    emoji: Option<&str>,
) -> Result<()> {
    let Some(row) = messages::find_by_raw_id(tx, session_id, raw_id).await? else {
        tracing::debug!(target_id = %raw_id, "reaction to an unknown message; ignored");
        return Ok(());
    };
    let mut reactions: Vec<Reaction> = serde_json::from_str(&row.reactions).unwrap_or_default();
    let before = reactions.clone();
    reactions.retain(|x| x.sender != sender);
    if let Some(emoji) = emoji {
        reactions.push(Reaction {
            sender: sender.to_string(),
            emoji: emoji.to_string(),
        });
    }
    if reactions == before {
        return Ok(());
    }
    messages::set_reactions(tx, row.id, &reactions).await?;
    let conv = conversations::get_in(tx, row.conversation_id).await?;
    events::log_message(tx, EventKind::MessageUpdated, &conv, row.id).await?;
    Ok(())
}

async fn apply_revoke(tx: &mut Tx, session_id: i64, raw_id: &str) -> Result<()> {
    let Some(row) = messages::find_by_raw_id(tx, session_id, raw_id).await? else {
        return Ok(());
    };
    if row.revoked_at.is_some() {
        return Ok(());
    }
    messages::set_revoked(tx, row.id).await?;
    let conv = conversations::get_in(tx, row.conversation_id).await?;
    events::log_message(tx, EventKind::MessageUpdated, &conv, row.id).await?;
    Ok(())
}

/// Records what WAHA answered about a session (to start, stop, logout, get, list),
/// stamped with when the hub asked: a webhook WAHA stamped later is newer news.
pub async fn report_status(
    tx: &mut Tx,
    s: &SessionRef,
    status: &str,
    me: Option<&Account>,
    asked_at: i64,
) -> Result<()> {
    set_session_status(tx, s, status, me, Some(asked_at)).await
}
