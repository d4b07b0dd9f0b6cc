//! Transaction scripts for what the business sends and does in a conversation: a reply
//! stored with its outbox row before anything is sent, each attempt counted before it is
//! made, each outcome recorded, read marks.

use super::conversations::{self, Conversation};
use super::messages::{self, Message, NewMessage};
use super::{events, outbox, Result, StoreError, Tx};
use crate::domain::audit::AuditEntry;
use crate::domain::{AckStatus, Direction, OutboxState, Reply, SendOutcome, Viewer};

/// Stores a reply; the same `client_id` twice gives the first message back (a client
/// retrying its POST must not make us send twice). `None` when the conversation is gone;
/// the outbox row's id when there is something new to send.
pub async fn store_reply(tx: &mut Tx, r: &Reply) -> Result<Option<(Message, Option<i64>)>> {
    if let Some(cid) = r.client_id.as_deref() {
        if let Some(existing) = messages::find_by_client_id(tx, r.conversation_id, cid).await? {
            return Ok(Some((Message::from(existing), None)));
        }
    }
    let conv = match conversations::get_in(tx, r.conversation_id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let out = Outgoing {
        text: &r.text,
        client_id: r.client_id.as_deref(),
        author_id: Some(r.author_id),
        bot: None,
        bot_name: None,
        bulk: false,
        media: None,
    };
    let (msg, outbox_id, _) = store_outgoing(tx, &conv, &out).await?;
    Ok(Some((msg, Some(outbox_id))))
}

/// A message the hub sends in a conversation, by a member or by a bot.
struct Outgoing<'a> {
    text: &'a str,
    client_id: Option<&'a str>,
    author_id: Option<i64>,
    bot: Option<(i64, Option<i64>)>,
    /// The bot's name as the caller knows it (the message carries it without a lookup).
    bot_name: Option<&'a str>,
    /// A campaign's: sent after the members' and bots' replies waiting with it.
    bulk: bool,
    /// An attachment, sent with the text as its caption.
    media: Option<&'a crate::domain::Media>,
}

impl<'a> Outgoing<'a> {
    /// A message of the hub's own (no member, no bot wrote it).
    fn from_hub(text: &'a str, bulk: bool, media: Option<&'a crate::domain::Media>) -> Self {
        Outgoing {
            text,
            client_id: None,
            author_id: None,
            bot: None,
            bot_name: None,
            bulk,
            media,
        }
    }
}

/// Stores an outgoing message with its outbox row and logs it; answers the message, the
/// outbox row and the conversation after it.
async fn store_outgoing(
    tx: &mut Tx,
    conv: &Conversation,
    o: &Outgoing<'_>,
) -> Result<(Message, i64, Conversation)> {
    let new = NewMessage {
        conversation_id: conv.id,
        session_id: conv.session_id,
        waha_id: None,
        direction: Direction::Out,
        text: o.text,
        status: AckStatus::Pending,
        sender: None,
        sender_name: None,
        media: o.media,
        client_id: o.client_id,
        author_id: o.author_id,
        bot: o.bot,
        wa_timestamp: None,
    };
    let id = messages::insert(tx, &new)
        .await?
        .ok_or_else(|| StoreError::Database("outgoing message insert returned no id".into()))?;
    let mut msg = new.stored(id, &conv.session, tx.now);
    msg.bot_name = o.bot_name.map(str::to_string);
    let outbox_id = outbox::insert(tx, id, conv.session_id, &conv.chat_id, o.text, o.bulk).await?;
    let conv = conversations::touch(tx, conv.id, &conv.session, o.text, false, None).await?;
    events::log_created(tx, &msg, &conv).await?;
    Ok((msg, outbox_id, conv))
}

/// A bot's reply (`bot`: the bot and the trigger that wrote it, `bot_name` the bot's);
/// its outbox row is added to `send`.
pub async fn store_bot_reply(
    tx: &mut Tx,
    conversation_id: i64,
    text: &str,
    bot: (i64, Option<i64>),
    bot_name: &str,
    send: &mut Vec<i64>,
) -> Result<(Message, Conversation)> {
    let conv = conversations::get_in(tx, conversation_id).await?;
    let out = Outgoing {
        text,
        client_id: None,
        author_id: None,
        bot: Some(bot),
        bot_name: Some(bot_name),
        bulk: false,
        media: None,
    };
    let (msg, outbox_id, conv) = store_outgoing(tx, &conv, &out).await?;
    send.push(outbox_id);
    Ok((msg, conv))
}

/// A campaign's message in `conv` (`campaign_recipients::queue`): its message id and
/// outbox row.
pub async fn store_campaign_message(
    tx: &mut Tx,
    conv: &Conversation,
    text: &str,
    media: Option<&crate::domain::Media>,
) -> Result<(i64, i64)> {
    let out = Outgoing::from_hub(text, true, media);
    let (msg, outbox_id, _) = store_outgoing(tx, conv, &out).await?;
    Ok((msg.id, outbox_id))
}

/// A message the hub itself sends in `conv` (the CSAT question when it is resolved): its
/// message and outbox row, sent like a member's reply.
pub async fn store_hub_message(
    tx: &mut Tx,
    conv: &Conversation,
    text: &str,
) -> Result<(Message, i64)> {
    let (msg, outbox_id, _) =
        store_outgoing(tx, conv, &Outgoing::from_hub(text, false, None)).await?;
    Ok((msg, outbox_id))
}

/// A member's reply (`store_reply`): a new message is recorded in the audit log as
/// `message.send` by `by`, with the message's id and never its text.
pub async fn store_member_reply(
    tx: &mut Tx,
    r: &Reply,
    by: &Viewer,
    session_id: i64,
) -> Result<Option<(Message, Option<i64>)>> {
    let stored = store_reply(tx, r).await?;
    if let Some((m, Some(_))) = &stored {
        let entry = AuditEntry::new("message.send", "message", m.id)
            .session(session_id)
            .after(serde_json::json!({"conversation_id": m.conversation_id}));
        super::audit::record(tx, by, &entry).await?;
    }
    Ok(stored)
}

/// Marks a conversation read; logs `conversation.updated` when the count changed.
pub async fn mark_read(tx: &mut Tx, conversation_id: i64) -> Result<Option<Conversation>> {
    match conversations::get_in(tx, conversation_id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    }
    if conversations::mark_read(tx, conversation_id).await? {
        Ok(Some(events::log_conversation(tx, conversation_id).await?))
    } else {
        Ok(Some(conversations::get_in(tx, conversation_id).await?))
    }
}

/// Queues a failed outbound message again: the same message and queue row, its status
/// back to `pending` (the one way back from `failed`), logged as `message.updated`; the
/// caller has the session send the row. `Ok(Err(why))` when the message is not an
/// outbound one that failed (nothing is written). Runs in the conversation's turn, so a
/// second retry sees the first one's `pending` and is refused.
pub async fn requeue_failed(
    tx: &mut Tx,
    message_id: i64,
) -> Result<std::result::Result<(Message, i64), String>> {
    let row = messages::get_in(tx, message_id).await?;
    if row.direction != Direction::Out || row.status != AckStatus::Failed {
        return Ok(Err(format!(
            "message {message_id} is {} and {}: only an outbound message that failed is sent again",
            row.direction.as_str(),
            row.status.as_str()
        )));
    }
    let outbox_id = match outbox::of_message(tx, message_id).await? {
        Some((id, OutboxState::Failed)) => id,
        // Typed on the business phone (no queue row), or a row that is not failed.
        _ => {
            return Ok(Err(format!(
                "message {message_id} was not sent by the hub, or is already queued"
            )))
        }
    };
    if !outbox::requeue(tx, outbox_id).await? {
        return Ok(Err(format!("message {message_id} is already queued")));
    }
    messages::set_status(tx, message_id, AckStatus::Pending).await?;
    let conv = conversations::get_in(tx, row.conversation_id).await?;
    let msg = events::log_message(
        tx,
        crate::domain::EventKind::MessageUpdated,
        &conv,
        message_id,
    )
    .await?;
    Ok(Ok((msg, outbox_id)))
}

/// Before an attempt: keeps the WAHA id reserved for the message (when newly reserved)
/// and counts the attempt, so a crash during it leaves a trace.
pub async fn begin_attempt(tx: &mut Tx, outbox_id: i64, reserved: Option<&str>) -> Result<()> {
    if let Some(waha_id) = reserved {
        let item = outbox::get_in(tx, outbox_id).await?;
        messages::set_waha_id(tx, item.message_id, waha_id).await?;
    }
    outbox::mark_sending(tx, outbox_id).await
}

/// After an attempt: the outbox row and the message's status follow its outcome. A bot's
/// message that failed for good hands its conversation to a person (the reaction says so).
pub async fn record_send(
    tx: &mut Tx,
    outbox_id: i64,
    outcome: &SendOutcome,
) -> Result<Option<super::bot_flow::Reaction>> {
    let item = outbox::get_in(tx, outbox_id).await?;
    let row = messages::get_in(tx, item.message_id).await?;
    match outcome {
        SendOutcome::Sent(waha_id) => {
            if let (Some(id), None) = (waha_id.as_deref(), row.waha_id.as_deref()) {
                messages::set_waha_id(tx, row.id, id).await?;
            }
            outbox::finish(tx, outbox_id, OutboxState::Sent, None).await?;
            super::ingest::update_status(tx, &row, AckStatus::Sent, None).await?;
        }
        SendOutcome::Retry { at, error } => outbox::retry_at(tx, outbox_id, *at, error).await?,
        SendOutcome::Failed(error) => {
            outbox::finish(tx, outbox_id, OutboxState::Failed, Some(error)).await?;
            super::ingest::update_status(tx, &row, AckStatus::Failed, Some(error)).await?;
            if let Some(bot_id) = row.bot_id {
                return super::bot_flow::send_failed(tx, row.conversation_id, bot_id, error).await;
            }
        }
    }
    Ok(None)
}
