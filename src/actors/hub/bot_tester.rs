//! Trying a bot without sending anything: the tester (one text at a time, at any moment),
//! the replay of a real conversation against the bot as it is now, and the bot's figures.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::bot::{BotState, CompiledBot, ContactVars, Decision, ReplyKind, Turn};
use crate::domain::{Direction, Viewer};
use crate::store::bot_metrics::{self, BotMetrics};
use crate::store::{messages, sessions};

/// What the bot would do with one message.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TestResult {
    /// The trigger that fires, if any.
    pub trigger_id: Option<i64>,
    /// The matched trigger's action; else `handoff`, `fallback`, `after_hours`,
    /// `greeting` or `none`.
    pub action: String,
    /// What the customer would receive (several messages joined by a blank line), or null.
    pub reply: Option<String>,
    pub replies: Vec<TestReply>,
    /// Why the bot would hand over, if it would.
    pub handoff: Option<TestHandoff>,
    /// Inside business hours at that moment (always, without business hours).
    pub open: bool,
    /// Replies that rendered empty (the bot would hand over with reason `bot_failed`).
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TestReply {
    pub text: String,
    /// `greeting`, `trigger`, `fallback` or `after_hours`.
    pub kind: String,
    pub trigger_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TestHandoff {
    /// `trigger`, `keyword`, `misses`, `immediately`, `bot_failed`.
    pub reason: String,
    pub detail: String,
}

/// One customer message of a replayed conversation and what the bot would do with it now.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct ReplayStep {
    pub message_id: i64,
    pub text: String,
    /// Milliseconds since the Unix epoch (the moment the bot is asked about).
    pub at: i64,
    /// `true` once an earlier step handed over: the bot says nothing more.
    pub silent: bool,
    pub result: Option<TestResult>,
}

/// Whatever else the tester may be told.
#[derive(Debug, Clone, Default)]
pub struct TestInput {
    pub text: String,
    pub at: Option<DateTime<Utc>>,
    pub first_contact: bool,
    pub contact: ContactVars,
}

fn kind_name(k: &ReplyKind) -> &'static str {
    match k {
        ReplyKind::Greeting => "greeting",
        ReplyKind::Trigger => "trigger",
        ReplyKind::Fallback => "fallback",
        ReplyKind::AfterHours => "after_hours",
    }
}

fn describe(bot: &CompiledBot, d: &Decision) -> TestResult {
    let action = match d.matched {
        Some(id) => bot
            .def()
            .triggers
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.action.as_str().to_string())
            .unwrap_or_default(),
        None if d.handoff.is_some() => "handoff".into(),
        None => d
            .replies
            .last()
            .map(|r| kind_name(&r.kind).to_string())
            .unwrap_or_else(|| "none".into()),
    };
    let replies: Vec<TestReply> = d
        .replies
        .iter()
        .map(|r| TestReply {
            text: r.text.clone(),
            kind: kind_name(&r.kind).into(),
            trigger_id: r.trigger_id,
        })
        .collect();
    let reply = (!replies.is_empty()).then(|| {
        replies
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    });
    TestResult {
        trigger_id: d.matched,
        action,
        reply,
        replies,
        handoff: d.handoff.as_ref().map(|h| TestHandoff {
            reason: h.code().into(),
            detail: h.to_string(),
        }),
        open: d.open,
        failures: d.failures.clone(),
    }
}

impl Hub {
    /// `POST /api/bots/{id}/test`: which trigger fires and what would be said; sends nothing.
    pub async fn test_bot(
        &self,
        v: &Viewer,
        id: i64,
        t: TestInput,
    ) -> Result<TestResult, HubError> {
        let (saved, bot) = self.compiled_bot(v, id).await?;
        // What real replies use: the paired account's name of a session the bot serves (the
        // first by name, as the bot lists them), so the tester shows what customers get.
        let business = match saved.session_ids.is_empty() {
            true => None,
            false => sessions::list_for(self.db(), Some(&saved.session_ids))
                .await?
                .into_iter()
                .next()
                .and_then(|s| s.me_name),
        };
        let at = t.at.unwrap_or_else(|| {
            DateTime::<Utc>::from_timestamp_millis(self.now_ms()).unwrap_or_default()
        });
        let d = bot.decide(&Turn {
            text: &t.text,
            at,
            state: BotState {
                misses: 0,
                first_contact: t.first_contact,
                after_hours_sent: false,
            },
            contact: &t.contact,
            business_name: business.as_deref(),
        });
        Ok(describe(&bot, &d))
    }

    /// The customer's messages of a conversation, oldest first (at most `limit`), through the
    /// bot as it is now, carrying its state from one to the next; sends nothing.
    pub async fn replay_bot(
        &self,
        v: &Viewer,
        id: i64,
        conversation_id: i64,
        limit: i64,
    ) -> Result<Vec<ReplayStep>, HubError> {
        let (_, bot) = self.compiled_bot(v, id).await?;
        let conv = self.conversation(v, conversation_id).await?;
        // The name its real replies used: the paired account of the conversation's session.
        let business = sessions::list_for(self.db(), Some(&[conv.session_id]))
            .await?
            .into_iter()
            .next()
            .and_then(|s| s.me_name);
        let contact = match conv.contact_id {
            Some(c) => crate::store::contacts::vars(self.db(), c).await?,
            None => ContactVars::default(),
        };
        let history = messages::oldest_first(self.db(), conv.id, limit).await?;
        let first_id = history.first().map(|m| m.id);
        let mut state = BotState {
            misses: 0,
            first_contact: false,
            after_hours_sent: false,
        };
        let mut silent = false;
        let mut steps = Vec::new();
        for m in history.iter().filter(|m| m.direction == Direction::In) {
            let at = DateTime::<Utc>::from_timestamp_millis(m.created_at).unwrap_or_default();
            let result = if silent {
                None
            } else {
                state.first_contact = Some(m.id) == first_id;
                let d = bot.decide(&Turn {
                    text: &m.text,
                    at,
                    state,
                    contact: &contact,
                    business_name: business.as_deref(),
                });
                state = d.state;
                let r = describe(&bot, &d);
                silent = r.handoff.is_some() || !r.failures.is_empty();
                Some(r)
            };
            steps.push(ReplayStep {
                message_id: m.id,
                text: m.text.clone(),
                at: m.created_at,
                silent: result.is_none(),
                result,
            });
        }
        Ok(steps)
    }

    /// Resolves the conversations the bot handled alone that have been quiet long enough
    /// (each checked again in its own turn); answers how many.
    pub async fn resolve_quiet_bot_conversations(&self) -> Result<usize, HubError> {
        let quiet =
            crate::store::conversations::quiet_with_bot(self.db(), self.now_ms(), 200).await?;
        let mut n = 0;
        for conv in quiet {
            let done = self
                .registry()
                .in_conversation(&conv, conv.id, |tx, id| {
                    Box::pin(crate::store::bot_flow::resolve_idle(tx, *id))
                })
                .await?;
            if done.is_some() {
                n += 1;
                metrics::counter!("tickhub_bot_resolutions_total").increment(1);
            }
        }
        Ok(n)
    }

    /// A bot's figures over `[from, to)` (milliseconds since the Unix epoch).
    pub async fn bot_metrics(
        &self,
        v: &Viewer,
        id: i64,
        from: i64,
        to: i64,
    ) -> Result<BotMetrics, HubError> {
        self.visible_bot(v, id).await?;
        Ok(bot_metrics::for_bot(self.db(), id, from, to).await?)
    }
}
