//! What follows a stored message, in the same transaction as the message itself: a
//! customer reopening a resolved conversation, the bot's turn (its replies are stored with
//! their outbox rows before anything is sent, so a restart between the webhook and the
//! reply sends it once, and a duplicate webhook stores nothing and so answers nothing), and
//! a person taking over from the bot. What needs the router is asked for after the commit
//! (`Reaction::route`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::bot_cache::BotCache;
use super::conversations::{self, Conversation};
use super::messages::Message;
use super::{events, handling, outbound, Result, Tx};
use crate::domain::bot::{
    BotState, CompiledBot, ContactVars, Effect, HandoffReason, ReplyKind, Turn,
};
use crate::domain::routing::{Considered, Rule, Why};
use crate::domain::{Author, ConversationStatus, EventKind};

/// Whether a member is online now (the presence the router also reads).
pub type Online = Arc<dyn Fn(i64) -> bool + Send + Sync>;

/// What the flow needs besides the transaction.
#[derive(Clone)]
pub struct Flow {
    pub bots: Arc<BotCache>,
    pub online: Online,
    /// The opt-out words (`Config::opt_out_words`).
    pub opt_out_words: Arc<[String]>,
    /// Sessions whose campaigns' replies are still counted (`actors::campaign`).
    pub campaign_sessions: Arc<dashmap::DashSet<i64>>,
}

/// What the conversation's actor does after the commit.
#[derive(Debug, Default, Clone)]
pub struct Reaction {
    /// Outbox rows to send, in order.
    pub send: Vec<i64>,
    /// The conversation waits for a person: the router should look at it.
    pub route: bool,
    /// What the bot did, for /metrics once committed.
    pub tally: Vec<Tally>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tally {
    Match { bot_id: i64, trigger_id: i64 },
    Miss { bot_id: i64 },
    Reply { bot_id: i64, kind: &'static str },
    Handoff { bot_id: i64, reason: &'static str },
}

/// Whether the bot may speak in a chat at all: never in status broadcasts or channels, in
/// groups only when it is set to.
pub fn answers_in(bot: &CompiledBot, chat_id: &str, is_group: bool) -> bool {
    if chat_id.ends_with("@broadcast") || chat_id.ends_with("@newsletter") {
        return false;
    }
    !is_group || bot.def().answer_groups
}

fn answers(bot: &CompiledBot, conv: &Conversation) -> bool {
    bot.def().active && answers_in(bot, &conv.chat_id, conv.is_group)
}

/// The step after `msg` was stored in `conv` (`created`: the conversation is new with it).
pub async fn react(
    tx: &mut Tx,
    flow: &Flow,
    bot: Option<&Arc<CompiledBot>>,
    conv: &Conversation,
    msg: &Message,
    author: Author,
    created: bool,
) -> Result<(Option<Conversation>, Reaction)> {
    let mut r = Reaction::default();
    let after = match (author, conv.status) {
        (Author::Customer, ConversationStatus::Resolved) => {
            Some(reopen(tx, flow, bot, conv, msg, &mut r).await?)
        }
        (Author::Customer, ConversationStatus::Bot) => match bot {
            Some(b) if answers(b, conv) => bot_turn(tx, b, conv, msg, created, &mut r).await?,
            _ => {
                let detail = "the session's bot is switched off or removed".to_string();
                Some(handoff(tx, conv, None, None, "bot_off", &detail, &mut r).await?)
            }
        },
        (Author::Customer, ConversationStatus::Pending) if conv.assignee_id.is_none() => {
            r.route = true;
            None
        }
        (Author::BusinessPhone, ConversationStatus::Bot) => {
            let reason = HandoffReason::PhoneTakeover;
            let bot_id = bot_of(tx, conv.id).await?;
            let detail = reason.to_string();
            Some(handoff(tx, conv, bot_id, None, reason.code(), &detail, &mut r).await?)
        }
        _ => None,
    };
    Ok((after, r))
}

/// A customer writes in a resolved conversation: back to the agent who had it when they
/// are online and have room, else like a new conversation (the bot, or the queue).
async fn reopen(
    tx: &mut Tx,
    flow: &Flow,
    bot: Option<&Arc<CompiledBot>>,
    conv: &Conversation,
    msg: &Message,
    r: &mut Reaction,
) -> Result<Conversation> {
    if let Some(prev) = conv.assignee_id.filter(|p| (flow.online)(*p)) {
        if let Some((load, capacity)) = handling::room(tx, prev, conv.session_id).await? {
            conversations::set_handling(tx, conv.id, Some(prev), ConversationStatus::Open).await?;
            let why = Why {
                rule: Rule::PreviousAgent,
                candidates: vec![Considered {
                    user_id: prev,
                    load,
                    capacity,
                    last_assigned_at: None,
                    eligible: true,
                    excluded_because: None,
                }],
            };
            handling::record_assignment(
                tx,
                conv.id,
                Some(prev),
                Some(prev),
                None,
                "reopened by the customer",
                serde_json::to_value(&why).ok(),
            )
            .await?;
            return events::log_conversation(tx, conv.id).await;
        }
    }
    set_previous_assignee(tx, conv.id, conv.assignee_id).await?;
    match bot {
        Some(b) if answers(b, conv) => {
            conversations::set_handling(tx, conv.id, None, ConversationStatus::Bot).await?;
            start_bot(tx, conv.id, b.def().id).await?;
            let in_bot = conversations::get_in(tx, conv.id).await?;
            match bot_turn(tx, b, &in_bot, msg, false, r).await? {
                Some(c) => Ok(c),
                None => events::log_conversation(tx, conv.id).await,
            }
        }
        _ => {
            conversations::set_handling(tx, conv.id, None, ConversationStatus::Pending).await?;
            r.route = true;
            events::log_conversation(tx, conv.id).await
        }
    }
}

/// The bot answers one customer message. `None`: the conversation did not change beyond
/// its new messages (already logged).
async fn bot_turn(
    tx: &mut Tx,
    bot: &CompiledBot,
    conv: &Conversation,
    msg: &Message,
    first_contact: bool,
    r: &mut Reaction,
) -> Result<Option<Conversation>> {
    let bot_id = bot.def().id;
    let (misses, after_hours_sent, business): (i64, bool, Option<String>) = on_tx!(tx, c => sqlx::query_as(
        "SELECT c.bot_misses, c.bot_after_hours_sent, s.me_name FROM conversations c
         JOIN wa_sessions s ON s.id = c.session_id WHERE c.id = $1")
        .bind(conv.id).fetch_one(c).await)?;
    let contact = contact_vars(tx, conv.contact_id).await?;
    let at = DateTime::<Utc>::from_timestamp_millis(tx.now).unwrap_or_default();
    let state = BotState {
        misses: u32::try_from(misses).unwrap_or(0),
        first_contact,
        after_hours_sent,
    };
    let d = bot.decide(&Turn {
        text: &msg.text,
        at,
        state,
        contact: &contact,
        business_name: business.as_deref(),
    });

    let mut latest = None;
    for reply in &d.replies {
        let kind = reply_kind(&reply.kind);
        let (_, c) = outbound::store_bot_reply(
            tx,
            conv.id,
            &reply.text,
            (bot_id, reply.trigger_id),
            &bot.def().name,
            &mut r.send,
        )
        .await?;
        latest = Some(c);
        if reply.trigger_id.is_none() {
            record(tx, bot_id, None, conv.id, kind, None).await?;
        }
        r.tally.push(Tally::Reply { bot_id, kind });
    }
    if let Some(t) = d.matched {
        record(tx, bot_id, Some(t), conv.id, "match", None).await?;
        r.tally.push(Tally::Match {
            bot_id,
            trigger_id: t,
        });
    } else if d.state.misses > state.misses {
        record(tx, bot_id, None, conv.id, "miss", None).await?;
        r.tally.push(Tally::Miss { bot_id });
    }
    for e in &d.effects {
        apply_effect(tx, conv.contact_id, e).await?;
    }
    on_tx!(tx, c => sqlx::query(
        "UPDATE conversations SET bot_id = $2, bot_misses = $3, bot_after_hours_sent = $4 WHERE id = $1")
        .bind(conv.id).bind(bot_id).bind(i64::from(d.state.misses)).bind(d.state.after_hours_sent)
        .execute(c).await.map(|r| r.rows_affected()))?;

    let failed = d
        .failures
        .first()
        .map(|f| HandoffReason::BotFailed(f.clone()));
    for f in &d.failures {
        record(tx, bot_id, d.matched, conv.id, "failed", Some(f)).await?;
    }
    match d.handoff.or(failed) {
        Some(reason) => {
            let detail = reason.to_string();
            let c = handoff(tx, conv, Some(bot_id), d.matched, reason.code(), &detail, r).await?;
            Ok(Some(c))
        }
        None => Ok(latest),
    }
}

fn reply_kind(k: &ReplyKind) -> &'static str {
    match k {
        ReplyKind::Greeting => "greeting",
        ReplyKind::Trigger => "trigger",
        ReplyKind::Fallback => "fallback",
        ReplyKind::AfterHours => "after_hours",
    }
}

/// The bot hands the conversation to a person: it waits in the queue (the router takes it
/// from there), the team is told why, and the bot is silent here until it is resolved.
pub async fn handoff(
    tx: &mut Tx,
    conv: &Conversation,
    bot_id: Option<i64>,
    trigger_id: Option<i64>,
    code: &'static str,
    detail: &str,
    r: &mut Reaction,
) -> Result<Conversation> {
    conversations::set_handling(tx, conv.id, None, ConversationStatus::Pending).await?;
    if let Some(b) = bot_id {
        r.tally.push(Tally::Handoff {
            bot_id: b,
            reason: code,
        });
    }
    r.route = true;
    log_handoff(tx, conv.id, bot_id, trigger_id, code, detail).await
}

/// Records why the conversation left the bot (its reason, the bot's event) and tells
/// whoever sees it (`conversation.handoff`, then `conversation.updated`).
async fn log_handoff(
    tx: &mut Tx,
    id: i64,
    bot_id: Option<i64>,
    trigger_id: Option<i64>,
    code: &'static str,
    detail: &str,
) -> Result<Conversation> {
    on_tx!(tx, c => sqlx::query("UPDATE conversations SET handoff_reason = $2 WHERE id = $1")
        .bind(id).bind(code).execute(c).await.map(|r| r.rows_affected()))?;
    if let Some(b) = bot_id {
        record(tx, b, trigger_id, id, "handoff", Some(code)).await?;
    }
    let after = conversations::get_in(tx, id).await?;
    let data = json!({"conversation_id": id, "reason": code, "detail": detail,
        "bot_id": bot_id, "trigger_id": trigger_id});
    events::append(
        tx,
        EventKind::ConversationHandoff,
        events::conversation_scope(&after),
        &data,
    )
    .await?;
    events::log_conversation(tx, id).await
}

/// A person (an agent's reply) takes a conversation from the bot: it becomes theirs.
pub async fn taken_over(tx: &mut Tx, conv: &Conversation, by: i64) -> Result<Conversation> {
    let bot_id = bot_of(tx, conv.id).await?;
    let assignee = conv.assignee_id.or(Some(by));
    conversations::set_handling(tx, conv.id, assignee, ConversationStatus::Open).await?;
    if conv.assignee_id.is_none() {
        handling::record_assignment(
            tx,
            conv.id,
            None,
            Some(by),
            Some(by),
            "took over from the bot",
            None,
        )
        .await?;
    }
    let reason = HandoffReason::AgentReply;
    log_handoff(
        tx,
        conv.id,
        bot_id,
        None,
        reason.code(),
        &reason.to_string(),
    )
    .await
}

/// The bot's own send failed for good (WAHA refused it after the retries): hand off.
pub async fn send_failed(
    tx: &mut Tx,
    conversation_id: i64,
    bot_id: i64,
    error: &str,
) -> Result<Option<Reaction>> {
    let conv = conversations::get_in(tx, conversation_id).await?;
    if conv.status != ConversationStatus::Bot {
        return Ok(None);
    }
    let mut r = Reaction::default();
    record(tx, bot_id, None, conv.id, "failed", Some(error)).await?;
    let reason = HandoffReason::BotFailed(format!("WAHA refused the bot's reply: {error}"));
    let detail = reason.to_string();
    handoff(
        tx,
        &conv,
        Some(bot_id),
        None,
        reason.code(),
        &detail,
        &mut r,
    )
    .await?;
    Ok(Some(r))
}

/// A conversation's bot (while it has or had one).
pub(super) async fn bot_of(tx: &mut Tx, conversation_id: i64) -> Result<Option<i64>> {
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT bot_id FROM conversations WHERE id = $1")
        .bind(conversation_id).fetch_one(c).await)?;
    Ok(id)
}

/// The conversation starts (again) with `bot_id`, with a clean slate.
pub async fn start_bot(tx: &mut Tx, conversation_id: i64, bot_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE conversations SET bot_id = $2, bot_misses = 0, bot_after_hours_sent = FALSE,
            handoff_reason = NULL WHERE id = $1")
        .bind(conversation_id).bind(bot_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

async fn set_previous_assignee(tx: &mut Tx, id: i64, prev: Option<i64>) -> Result<()> {
    if prev.is_some() {
        on_tx!(tx, c => sqlx::query("UPDATE conversations SET previous_assignee_id = $2 WHERE id = $1")
            .bind(id).bind(prev).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// One line of what a bot did (its metrics are read from these).
pub async fn record(
    tx: &mut Tx,
    bot_id: i64,
    trigger_id: Option<i64>,
    conversation_id: i64,
    kind: &str,
    reason: Option<&str>,
) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO bot_events (bot_id, trigger_id, conversation_id, kind, reason, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(bot_id).bind(trigger_id).bind(conversation_id).bind(kind).bind(reason).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    tx.bot_facts
        .add(bot_id, trigger_id, conversation_id, kind, reason, now);
    Ok(())
}

async fn contact_vars(tx: &mut Tx, contact_id: Option<i64>) -> Result<ContactVars> {
    match contact_id {
        Some(id) => super::contacts::vars_in(tx, id).await,
        None => Ok(ContactVars::default()),
    }
}

async fn apply_effect(tx: &mut Tx, contact_id: Option<i64>, e: &Effect) -> Result<()> {
    let Some(id) = contact_id else {
        return Ok(());
    };
    let now = tx.now;
    match e {
        Effect::AddTag(tag) => {
            on_tx!(tx, c => sqlx::query(
                "INSERT INTO contact_tags (contact_id, tag, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING")
                .bind(id).bind(tag).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
        }
        Effect::SetField { field, value } => {
            let sql = match field.as_str() {
                "name" => Some("UPDATE contacts SET name = $2, updated_at = $3 WHERE id = $1"),
                "email" => Some("UPDATE contacts SET email = $2, updated_at = $3 WHERE id = $1"),
                "notes" => Some("UPDATE contacts SET notes = $2, updated_at = $3 WHERE id = $1"),
                _ => None,
            };
            if let Some(sql) = sql {
                on_tx!(tx, c => sqlx::query(sql).bind(id).bind(value).bind(now)
                    .execute(c).await.map(|r| r.rows_affected()))?;
            } else if let Some(key) = field.strip_prefix("attributes.") {
                let current: String = on_tx!(tx, c => sqlx::query_scalar(
                    "SELECT attributes FROM contacts WHERE id = $1")
                    .bind(id).fetch_one(c).await)?;
                let mut attrs: Map<String, Value> =
                    serde_json::from_str(&current).unwrap_or_default();
                attrs.insert(key.to_string(), Value::String(value.clone()));
                let text = Value::Object(attrs).to_string();
                on_tx!(tx, c => sqlx::query(
                    "UPDATE contacts SET attributes = $2, updated_at = $3 WHERE id = $1")
                    .bind(id).bind(text).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
    }
    Ok(())
}

/// Resolves a conversation the bot handled alone, if it is still with the bot and still
/// quiet (checked again in its turn): resolved without a person.
pub async fn resolve_idle(tx: &mut Tx, id: i64) -> Result<Option<Conversation>> {
    let row: Option<(String, Option<i64>, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT c.status, b.resolve_after_minutes, c.last_message_at FROM conversations c
         LEFT JOIN bots b ON b.id = c.bot_id WHERE c.id = $1")
        .bind(id).fetch_optional(c).await)?;
    let Some((status, Some(minutes), last)) = row else {
        return Ok(None);
    };
    if status != ConversationStatus::Bot.as_str() || last >= tx.now - minutes * 60_000 {
        return Ok(None);
    }
    conversations::set_handling(tx, id, None, ConversationStatus::Resolved).await?;
    handling::resolved_by_bot(tx, id).await?;
    super::audit::record_system(
        tx,
        &crate::domain::audit::AuditEntry::new("conversation.resolve", "conversation", id)
            .before(json!({"status": "bot"}))
            .after(json!({"status": "resolved", "reason": "quiet with the bot"})),
    )
    .await?;
    Ok(Some(events::log_conversation(tx, id).await?))
}
