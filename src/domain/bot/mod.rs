//! The bot engine: pure rules, no I/O. A bot's definition ([`BotDef`], its [`TriggerDef`]s
//! and [`BusinessHours`]) is validated when it is saved and compiled once per version into
//! a [`CompiledBot`], which decides what to do with one customer message
//! ([`CompiledBot::decide`]). The store, the HTTP API and the conversation actor's flow
//! live elsewhere and call in here.
//!
//! The rules, as the API documents them:
//!
//! - **Matching** ([`matcher`]): text is folded before matching — Unicode compatibility
//!   decomposition, accents dropped, lower case, runs of whitespace collapsed to one space,
//!   trimmed ([`normalize`]). A case-sensitive trigger skips the lower-casing, an
//!   accent-sensitive one keeps its accents. `exact`: the whole text equals the pattern.
//!   `contains`: the pattern appears anywhere. `word`: the pattern appears bounded by
//!   non-alphanumeric characters or the text's edges (so `price` does not match
//!   `priceless`; multi-word patterns are fine). `starts_with`: the text starts with the
//!   pattern. `regex`: `regex` crate syntax, case-insensitive unless `case_sensitive`, run
//!   on the accent-folded text (with the pattern's own accents dropped) unless
//!   `accent_sensitive`. `any_keyword`: any of the keywords appears as a word.
//! - **The winner**: inactive triggers never match. Of the triggers that match, the one with
//!   the highest `priority` wins; among equal priorities the lowest trigger id (the oldest
//!   trigger) wins.
//! - **Templates** ([`template`]): `{{contact.name}}`, `{{contact.first_name}}`,
//!   `{{contact.phone}}`, `{{contact.<attribute>}}` or `{{contact.attributes.<key>}}`,
//!   `{{business.hours_today}}`, `{{business.name}}`; a missing value renders empty.
//! - **Business hours** ([`schedule`]): open when the weekly hours contain the local time
//!   and the local date is not a holiday.
//! - **The decision** ([`decide`]): greeting, immediate handoff, handoff keywords, triggers,
//!   misses, after-hours message and fallback, in that order.

pub mod decide;
pub mod matcher;
pub mod normalize;
pub mod regexes;
pub mod schedule;
pub mod template;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use decide::{
    BotReply, BotState, CompiledBot, ContactVars, Decision, Effect, HandoffReason, ReplyKind, Turn,
};
pub use schedule::Schedule;
pub use template::Template;
pub(crate) use validate::parse_template;
pub use validate::{MAX_KEYWORDS, MAX_PATTERN_CHARS, MAX_TEMPLATE_CHARS};

/// How a trigger's pattern is compared with the customer's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The whole (folded) text equals the pattern.
    Exact,
    /// The pattern appears anywhere in the text.
    Contains,
    /// The pattern appears bounded by non-alphanumeric characters or the text's edges.
    Word,
    /// The text starts with the pattern.
    StartsWith,
    /// A `regex` crate expression.
    Regex,
    /// Any of `keywords` appears as a word.
    AnyKeyword,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Contains => "contains",
            MatchKind::Word => "word",
            MatchKind::StartsWith => "starts_with",
            MatchKind::Regex => "regex",
            MatchKind::AnyKeyword => "any_keyword",
        }
    }
}

/// What a trigger does when it wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerAction {
    /// Send the response.
    Reply,
    /// Send the response, then hand the conversation to a person.
    ReplyAndHandoff,
    /// Hand the conversation to a person (after the response, if there is one).
    Handoff,
    /// Tag the contact (and send the response, if there is one).
    AddTag,
    /// Set a contact field to the rendered `value` (and send the response, if any).
    SetContactField,
}

impl TriggerAction {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerAction::Reply => "reply",
            TriggerAction::ReplyAndHandoff => "reply_and_handoff",
            TriggerAction::Handoff => "handoff",
            TriggerAction::AddTag => "add_tag",
            TriggerAction::SetContactField => "set_contact_field",
        }
    }
}

fn yes() -> bool {
    true
}

/// One trigger of a bot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TriggerDef {
    #[serde(default)]
    pub id: i64,
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// The text for literal kinds, the expression for `regex`; unused by `any_keyword`.
    #[serde(default)]
    pub pattern: Option<String>,
    /// The keywords of `any_keyword` (only).
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub case_sensitive: bool,
    #[serde(default)]
    pub accent_sensitive: bool,
    /// Highest wins; ties go to the lowest id.
    #[serde(default)]
    pub priority: i64,
    /// A template; required by `reply` and `reply_and_handoff`.
    #[serde(default)]
    pub response: Option<String>,
    pub action: TriggerAction,
    /// The tag of `add_tag`.
    #[serde(default)]
    pub tag: Option<String>,
    /// The field of `set_contact_field`: `name`, `email`, `notes` or `attributes.<key>`.
    #[serde(default)]
    pub field: Option<String>,
    /// The value of `set_contact_field` (a template).
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

/// A bot's business hours: weekly hours in a time zone, minus holidays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BusinessHours {
    /// An IANA time zone name, e.g. `Europe/London`.
    pub time_zone: String,
    /// Day (`mon` … `sun`) → intervals `["HH:MM", "HH:MM"]`; a missing day is closed.
    #[schema(value_type = Object, example = json!({"mon": [["09:00", "17:00"]]}))]
    pub weekly: BTreeMap<String, Vec<[String; 2]>>,
    /// Local dates (`YYYY-MM-DD`, in `time_zone`) closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// A bot, with its triggers, as one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BotDef {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub version: i64,
    pub name: String,
    #[serde(default = "yes")]
    pub active: bool,
    /// Sent (a template) before anything else on a contact's first message.
    #[serde(default)]
    pub greeting: Option<String>,
    /// Sent (a template) when no trigger matches.
    #[serde(default)]
    pub fallback: Option<String>,
    /// A customer's message holding one of these as a word hands off at once.
    #[serde(default)]
    pub handoff_keywords: Vec<String>,
    /// Hand off after this many unmatched messages in a row.
    #[serde(default)]
    pub handoff_after_misses: Option<u32>,
    /// Hand every conversation to a person at once (after the greeting, if any).
    #[serde(default)]
    pub handoff_immediately: bool,
    /// Whether the bot answers in groups.
    #[serde(default)]
    pub answer_groups: bool,
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
    /// Sent (a template) once per closed spell, instead of the fallback or with a handoff.
    #[serde(default)]
    pub after_hours_message: Option<String>,
    #[serde(default)]
    pub triggers: Vec<TriggerDef>,
}
