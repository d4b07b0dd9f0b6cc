//! What the bot does with one customer text message ([`CompiledBot::decide`]).
//!
//! The rules, in order:
//! 1. On the contact's first message (`state.first_contact`), the greeting (if set) is
//!    the first reply.
//! 2. `handoff_immediately`: hand off (`immediately`); no trigger is matched.
//! 3. A handoff keyword present as a word (case- and accent-insensitive): hand off
//!    (`keyword`). Checked before the triggers, so a customer asking for a person always
//!    gets one.
//! 4. A trigger matches (see [`super::matcher`] for the winner): the miss count goes back
//!    to 0, and by action: `reply` sends the response; `reply_and_handoff` sends it and
//!    hands off (`trigger`); `handoff` sends the response if there is one and hands off;
//!    `add_tag` and `set_contact_field` report an [`Effect`] (the value is a rendered
//!    template) and send the response if there is one.
//! 5. No trigger matches: if this turn greeted, nothing more (and no miss is counted).
//!    Otherwise the miss count goes up; reaching `handoff_after_misses` hands off
//!    (`misses`); else, outside business hours, the after-hours message is sent if set and
//!    not yet sent in this closed spell; else the fallback, if set.
//! 6. A handoff outside business hours adds the after-hours message (if set and not yet
//!    sent in this closed spell), so the customer knows when a person will answer.
//! 7. Inside business hours, the "after-hours message sent" mark is cleared, so the next
//!    closed spell sends it again.
//!
//! The returned state never has `first_contact` set; a handoff leaves the miss count as
//! the rules above made it (so a handoff after misses reports the count that reached the
//! threshold; the caller starts the next bot spell from a fresh state). Templates see the
//! contact as it was when the message arrived. A reply that renders empty (or blank) is
//! not sent: it is reported in [`Decision::failures`] and the caller hands off with
//! [`HandoffReason::BotFailed`]. Whether the bot should run at all (bot active, group,
//! conversation status) is the caller's business.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::matcher::{CompiledTriggers, WordSet};
use super::normalize::FoldedText;
use super::schedule::Schedule;
use super::template::{Template, Vars};
use super::validate::parse_template;
use super::{BotDef, TriggerAction, TriggerDef};
use crate::domain::FieldError;

/// The contact, as templates see it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactVars {
    pub name: Option<String>,
    /// The WhatsApp profile name, used when the contact has no name.
    pub push_name: Option<String>,
    pub phone: Option<String>,
    #[serde(default)]
    pub attributes: serde_json::Map<String, Value>,
}

impl ContactVars {
    /// The name, else the push name; blank ones count as missing.
    pub fn display_name(&self) -> Option<&str> {
        fn usable(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        usable(&self.name).or_else(|| usable(&self.push_name))
    }
}

/// What the bot remembers about a conversation between messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotState {
    /// Unmatched messages in a row.
    pub misses: u32,
    /// This is the contact's first message (set by the caller; never in the returned state).
    pub first_contact: bool,
    /// The after-hours message went out in the current closed spell.
    pub after_hours_sent: bool,
}

/// One customer message to decide on.
#[derive(Debug, Clone)]
pub struct Turn<'a> {
    pub text: &'a str,
    pub at: DateTime<Utc>,
    pub state: BotState,
    pub contact: &'a ContactVars,
    pub business_name: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    Greeting,
    Trigger,
    Fallback,
    AfterHours,
}

/// A message for the bot to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotReply {
    pub text: String,
    pub kind: ReplyKind,
    pub trigger_id: Option<i64>,
}

/// Why a conversation went to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// A trigger with a handoff action matched.
    Trigger(i64),
    /// The customer used a handoff keyword (as configured).
    Keyword(String),
    /// This many unmatched messages in a row.
    Misses(u32),
    /// The bot hands every conversation over.
    Immediately,
    /// Someone wrote from the business phone.
    PhoneTakeover,
    /// An agent replied.
    AgentReply,
    /// The bot could not answer (a template rendered empty, WhatsApp refused, …).
    BotFailed(String),
}

impl HandoffReason {
    /// A stable code for metrics and the API.
    pub fn code(&self) -> &'static str {
        match self {
            HandoffReason::Trigger(_) => "trigger",
            HandoffReason::Keyword(_) => "keyword",
            HandoffReason::Misses(_) => "misses",
            HandoffReason::Immediately => "immediately",
            HandoffReason::PhoneTakeover => "phone_takeover",
            HandoffReason::AgentReply => "agent_reply",
            HandoffReason::BotFailed(_) => "bot_failed",
        }
    }
}

impl fmt::Display for HandoffReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoffReason::Trigger(id) => {
                write!(f, "trigger {id} hands the conversation to a person")
            }
            HandoffReason::Keyword(kw) => write!(f, "the customer asked for a person (\"{kw}\")"),
            HandoffReason::Misses(1) => {
                f.write_str("the bot did not understand the customer's message")
            }
            HandoffReason::Misses(n) => {
                write!(f, "the bot did not understand {n} messages in a row")
            }
            HandoffReason::Immediately => {
                f.write_str("the bot hands every conversation to a person")
            }
            HandoffReason::PhoneTakeover => f.write_str("someone replied from the business phone"),
            HandoffReason::AgentReply => f.write_str("an agent replied"),
            HandoffReason::BotFailed(why) => write!(f, "the bot failed: {why}"),
        }
    }
}

/// A change to the contact that a trigger asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    AddTag(String),
    /// `field` is `name`, `email`, `notes` or `attributes.<key>`.
    SetField {
        field: String,
        value: String,
    },
}

/// What to do after one customer message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decision {
    /// In send order.
    pub replies: Vec<BotReply>,
    pub handoff: Option<HandoffReason>,
    /// The id of the trigger that matched.
    pub matched: Option<i64>,
    pub effects: Vec<Effect>,
    /// The state to store after this turn.
    pub state: BotState,
    /// Business hours are open at the message's time (true without business hours).
    pub open: bool,
    /// Replies (or values) that rendered empty and were left out, e.g.
    /// "trigger 7: the response rendered empty"; the caller hands off with `BotFailed`.
    pub failures: Vec<String>,
}

/// A bot version compiled for deciding: triggers matched without a loop, templates parsed,
/// business hours prepared. Immutable, so share it as an `Arc` between threads.
#[derive(Debug)]
pub struct CompiledBot {
    def: BotDef,
    triggers: CompiledTriggers,
    /// Per trigger (as in `def.triggers`): the response and the value of set_contact_field.
    responses: Vec<Option<Template>>,
    values: Vec<Option<Template>>,
    greeting: Option<Template>,
    fallback: Option<Template>,
    after_hours: Option<Template>,
    handoff_keywords: WordSet,
    schedule: Option<Schedule>,
}

fn parse_opt(field: &str, src: Option<&str>) -> Result<Option<Template>, FieldError> {
    src.map(|s| parse_template(field, s)).transpose()
}

impl CompiledBot {
    /// Validates `def` (see `BotDef::validate`) and compiles it.
    pub fn compile(def: BotDef) -> Result<CompiledBot, FieldError> {
        def.validate()?;
        // The matcher's own limits (too many triggers) are about the list as a whole.
        let triggers =
            CompiledTriggers::compile(&def.triggers).map_err(|e| FieldError::new("triggers", e))?;
        let mut responses = Vec::with_capacity(def.triggers.len());
        let mut values = Vec::with_capacity(def.triggers.len());
        for (i, t) in def.triggers.iter().enumerate() {
            responses.push(parse_opt(
                &format!("triggers[{i}].response"),
                t.response.as_deref(),
            )?);
            let value = match t.action {
                TriggerAction::SetContactField => t.value.as_deref(),
                _ => None,
            };
            values.push(parse_opt(&format!("triggers[{i}].value"), value)?);
        }
        Ok(CompiledBot {
            greeting: parse_opt("greeting", def.greeting.as_deref())?,
            fallback: parse_opt("fallback", def.fallback.as_deref())?,
            after_hours: parse_opt("after_hours_message", def.after_hours_message.as_deref())?,
            handoff_keywords: WordSet::new(&def.handoff_keywords)
                .map_err(|e| FieldError::new("handoff_keywords", e.to_string()))?,
            schedule: def
                .business_hours
                .as_ref()
                .map(|h| Schedule::compile(h, "business_hours"))
                .transpose()?,
            triggers,
            responses,
            values,
            def,
        })
    }

    pub fn def(&self) -> &BotDef {
        &self.def
    }

    /// A trigger of this version by id.
    pub fn trigger(&self, id: i64) -> Option<&TriggerDef> {
        self.def.triggers.iter().find(|t| t.id == id)
    }

    /// The trigger that wins for `text` (rule 4's matching alone, for testers and replays).
    pub fn find_trigger(&self, text: &str) -> Option<&TriggerDef> {
        self.triggers
            .find(&FoldedText::new(text))
            .map(|i| &self.def.triggers[i])
    }

    /// Business hours are open at `at` (always, without business hours).
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.schedule.as_ref().is_none_or(|s| s.is_open(at))
    }

    /// Today's hours as `{{business.hours_today}}` renders them (empty without hours).
    pub fn hours_today(&self, at: DateTime<Utc>) -> String {
        self.schedule
            .as_ref()
            .map_or(String::new(), |s| s.hours_today(at))
    }

    /// Decides on one customer text message. See the module docs for the rules.
    pub fn decide(&self, input: &Turn<'_>) -> Decision {
        let open = self.is_open(input.at);
        let vars = Vars::new(
            input.contact,
            input.business_name,
            self.schedule.as_ref(),
            input.at,
        );
        let mut out = Decision {
            state: BotState {
                first_contact: false,
                ..input.state
            },
            open,
            ..Decision::default()
        };
        let text = FoldedText::new(input.text);

        // Rule 1.
        let greeted = match (&self.greeting, input.state.first_contact) {
            (Some(greeting), true) => {
                say(
                    &mut out,
                    &vars,
                    greeting,
                    ReplyKind::Greeting,
                    None,
                    "bot: the greeting",
                );
                true
            }
            _ => false,
        };

        if self.def.handoff_immediately {
            // Rule 2.
            out.handoff = Some(HandoffReason::Immediately);
        } else if let Some(i) = self.handoff_keywords.find(&text) {
            // Rule 3.
            out.handoff = Some(HandoffReason::Keyword(self.def.handoff_keywords[i].clone()));
        } else if let Some(i) = self.triggers.find(&text) {
            // Rule 4.
            self.fire(&mut out, &vars, i);
        } else if !greeted {
            // Rule 5.
            out.state.misses = out.state.misses.saturating_add(1);
            match self.def.handoff_after_misses {
                Some(n) if out.state.misses >= n => out.handoff = Some(HandoffReason::Misses(n)),
                _ => {
                    if !(open || out.state.after_hours_sent) && self.after_hours.is_some() {
                        self.say_after_hours(&mut out, &vars);
                    } else if let Some(fallback) = &self.fallback {
                        say(
                            &mut out,
                            &vars,
                            fallback,
                            ReplyKind::Fallback,
                            None,
                            "bot: the fallback",
                        );
                    }
                }
            }
        }

        if out.handoff.is_some() {
            // Rule 6.
            if !(open || out.state.after_hours_sent) {
                self.say_after_hours(&mut out, &vars);
            }
        }
        // Rule 7.
        if open {
            out.state.after_hours_sent = false;
        }
        out
    }

    /// Rule 4: trigger `i` (of `def.triggers`) won.
    fn fire(&self, out: &mut Decision, vars: &Vars<'_>, i: usize) {
        let t = &self.def.triggers[i];
        out.matched = Some(t.id);
        out.state.misses = 0;
        let label = format!("trigger {}: the response", t.id);
        match t.action {
            TriggerAction::AddTag => {
                if let Some(tag) = t.tag.as_deref() {
                    out.effects.push(Effect::AddTag(tag.trim().to_owned()));
                }
            }
            TriggerAction::SetContactField => {
                if let (Some(field), Some(value)) = (&t.field, &self.values[i]) {
                    let value = value.render(vars);
                    if value.trim().is_empty() {
                        out.failures
                            .push(format!("trigger {}: the value rendered empty", t.id));
                    } else {
                        out.effects.push(Effect::SetField {
                            field: field.clone(),
                            value,
                        });
                    }
                }
            }
            TriggerAction::Reply | TriggerAction::ReplyAndHandoff | TriggerAction::Handoff => {}
        }
        if let Some(response) = &self.responses[i] {
            say(out, vars, response, ReplyKind::Trigger, Some(t.id), &label);
        }
        if matches!(
            t.action,
            TriggerAction::ReplyAndHandoff | TriggerAction::Handoff
        ) {
            out.handoff = Some(HandoffReason::Trigger(t.id));
        }
    }

    fn say_after_hours(&self, out: &mut Decision, vars: &Vars<'_>) {
        if let Some(message) = &self.after_hours {
            if say(
                out,
                vars,
                message,
                ReplyKind::AfterHours,
                None,
                "bot: the after-hours message",
            ) {
                out.state.after_hours_sent = true;
            }
        }
    }
}

/// Renders `template` into a reply, or records a failure when it comes out blank.
fn say(
    out: &mut Decision,
    vars: &Vars<'_>,
    template: &Template,
    kind: ReplyKind,
    trigger_id: Option<i64>,
    what: &str,
) -> bool {
    let text = template.render(vars);
    if text.trim().is_empty() {
        out.failures.push(format!("{what} rendered empty"));
        return false;
    }
    out.replies.push(BotReply {
        text,
        kind,
        trigger_id,
    });
    true
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
