//! Bots and their triggers. Every change bumps the bot's `version`, by which compiled
//! matchers are cached (`actors::bots`), so a change is picked up by the next message.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Db, Result, StoreError, Tx};
use crate::domain::bot::{BotDef, BusinessHours, MatchKind, TriggerAction, TriggerDef};

/// A bot as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Bot {
    pub id: i64,
    pub name: String,
    /// The WhatsApp sessions (by name) the bot serves; a session has at most one bot.
    pub sessions: Vec<String>,
    /// Their ids (for the access policy).
    #[serde(skip)]
    pub session_ids: Vec<i64>,
    pub active: bool,
    /// Sent to a first-time contact before anything else.
    pub greeting: Option<String>,
    /// Sent when no trigger matches (inside business hours).
    pub fallback: Option<String>,
    /// Words that hand the conversation to a person at once.
    pub handoff_keywords: Vec<String>,
    /// Hand off after this many messages in a row the bot could not match.
    pub handoff_after_misses: Option<i64>,
    /// Hand every conversation to a person at once (after the greeting).
    pub handoff_immediately: bool,
    /// Answer in group chats too.
    pub answer_groups: bool,
    pub business_hours: Option<BusinessHours>,
    /// Sent outside business hours instead of the fallback, and with a handoff.
    pub after_hours_message: Option<String>,
    /// A conversation the bot handled alone is resolved after this many minutes without a
    /// message (`null`: it stays with the bot).
    pub resolve_after_minutes: Option<i64>,
    /// Bumped by every change of the bot or its triggers.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A trigger as the API answers it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Trigger {
    pub id: i64,
    pub bot_id: i64,
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    pub pattern: Option<String>,
    pub keywords: Vec<String>,
    pub case_sensitive: bool,
    pub accent_sensitive: bool,
    pub priority: i64,
    pub response: Option<String>,
    pub action: TriggerAction,
    pub tag: Option<String>,
    pub field: Option<String>,
    pub value: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Trigger {
    pub fn def(&self) -> TriggerDef {
        TriggerDef {
            id: self.id,
            match_kind: self.match_kind,
            pattern: self.pattern.clone(),
            keywords: self.keywords.clone(),
            case_sensitive: self.case_sensitive,
            accent_sensitive: self.accent_sensitive,
            priority: self.priority,
            response: self.response.clone(),
            action: self.action,
            tag: self.tag.clone(),
            field: self.field.clone(),
            value: self.value.clone(),
            active: self.active,
        }
    }
}

/// What a bot is made of, as written (validated by the caller).
#[derive(Debug, Clone, Default)]
pub struct BotFields {
    pub name: String,
    pub active: bool,
    pub greeting: Option<String>,
    pub fallback: Option<String>,
    pub handoff_keywords: Vec<String>,
    pub handoff_after_misses: Option<i64>,
    pub handoff_immediately: bool,
    pub answer_groups: bool,
    pub business_hours: Option<BusinessHours>,
    pub after_hours_message: Option<String>,
    pub resolve_after_minutes: Option<i64>,
}

impl Bot {
    pub fn fields(&self) -> BotFields {
        BotFields {
            name: self.name.clone(),
            active: self.active,
            greeting: self.greeting.clone(),
            fallback: self.fallback.clone(),
            handoff_keywords: self.handoff_keywords.clone(),
            handoff_after_misses: self.handoff_after_misses,
            handoff_immediately: self.handoff_immediately,
            answer_groups: self.answer_groups,
            business_hours: self.business_hours.clone(),
            after_hours_message: self.after_hours_message.clone(),
            resolve_after_minutes: self.resolve_after_minutes,
        }
    }

    /// The definition the engine compiles, with `triggers`.
    pub fn def(&self, triggers: &[Trigger]) -> BotDef {
        BotDef {
            id: self.id,
            version: self.version,
            name: self.name.clone(),
            active: self.active,
            greeting: self.greeting.clone(),
            fallback: self.fallback.clone(),
            handoff_keywords: self.handoff_keywords.clone(),
            handoff_after_misses: self
                .handoff_after_misses
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            handoff_immediately: self.handoff_immediately,
            answer_groups: self.answer_groups,
            business_hours: self.business_hours.clone(),
            after_hours_message: self.after_hours_message.clone(),
            triggers: triggers.iter().map(Trigger::def).collect(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct BotRow {
    id: i64,
    name: String,
    active: bool,
    greeting: Option<String>,
    fallback: Option<String>,
    handoff_keywords: String,
    handoff_after_misses: Option<i64>,
    handoff_immediately: bool,
    answer_groups: bool,
    business_hours: Option<String>,
    after_hours_message: Option<String>,
    resolve_after_minutes: Option<i64>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

// sqlx wants `'static` statement text, so the shared SELECTs are pasted by macro.
macro_rules! bot_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, name, active, greeting, fallback, handoff_keywords, handoff_after_misses, ",
            "handoff_immediately, answer_groups, business_hours, after_hours_message, ",
            "resolve_after_minutes, version, created_at, updated_at FROM bots ",
            $tail
        )
    };
}

impl BotRow {
    // JSON columns are written only from validated values; an unreadable one reads as none.
    fn bot(self, sessions: Vec<(i64, String)>) -> Bot {
        let (session_ids, sessions) = sessions.into_iter().unzip();
        Bot {
            id: self.id,
            name: self.name,
            sessions,
            session_ids,
            active: self.active,
            greeting: self.greeting,
            fallback: self.fallback,
            handoff_keywords: serde_json::from_str(&self.handoff_keywords).unwrap_or_default(),
            handoff_after_misses: self.handoff_after_misses,
            handoff_immediately: self.handoff_immediately,
            answer_groups: self.answer_groups,
            business_hours: self
                .business_hours
                .and_then(|h| serde_json::from_str(&h).ok()),
            after_hours_message: self.after_hours_message,
            resolve_after_minutes: self.resolve_after_minutes,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TriggerRow {
    id: i64,
    bot_id: i64,
    match_kind: String,
    pattern: Option<String>,
    keywords: String,
    case_sensitive: bool,
    accent_sensitive: bool,
    priority: i64,
    response: Option<String>,
    action: String,
    tag: Option<String>,
    field: Option<String>,
    value: Option<String>,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

macro_rules! trigger_select {
    ($tail:literal) => {
        concat!(
            "SELECT id, bot_id, match_kind, pattern, keywords, case_sensitive, accent_sensitive, ",
            "priority, response, action, tag, field, value, active, created_at, updated_at FROM triggers ",
            $tail
        )
    };
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|e| StoreError::Database(format!("unreadable stored value {s:?}: {e}")))
}

impl TryFrom<TriggerRow> for Trigger {
    type Error = StoreError;
    fn try_from(r: TriggerRow) -> Result<Trigger> {
        Ok(Trigger {
            id: r.id,
            bot_id: r.bot_id,
            match_kind: parse_enum(&r.match_kind)?,
            pattern: r.pattern,
            keywords: serde_json::from_str(&r.keywords).unwrap_or_default(),
            case_sensitive: r.case_sensitive,
            accent_sensitive: r.accent_sensitive,
            priority: r.priority,
            response: r.response,
            action: parse_enum(&r.action)?,
            tag: r.tag,
            field: r.field,
            value: r.value,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Which sessions (id, name) each bot serves — one bot's, or every bot's (`None`): a row
/// per session at most, so one read serves a whole list.
pub async fn attached(db: &Db, bot_id: Option<i64>) -> Result<HashMap<i64, Vec<(i64, String)>>> {
    let rows: Vec<(i64, i64, String)> = on_pool!(db, p => sqlx::query_as(
        "SELECT b.bot_id, s.id, s.name FROM bot_sessions b JOIN wa_sessions s ON s.id = b.session_id
         WHERE ($1 IS NULL OR b.bot_id = $1) ORDER BY s.name")
        .bind(bot_id).fetch_all(p).await)?;
    Ok(by_bot(rows))
}

async fn attached_in(tx: &mut Tx, bot_id: i64) -> Result<Vec<(i64, String)>> {
    let rows: Vec<(i64, i64, String)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT b.bot_id, s.id, s.name FROM bot_sessions b JOIN wa_sessions s ON s.id = b.session_id
         WHERE b.bot_id = $1 ORDER BY s.name")
        .bind(bot_id).fetch_all(c).await)?;
    Ok(by_bot(rows).remove(&bot_id).unwrap_or_default())
}

fn by_bot(rows: Vec<(i64, i64, String)>) -> HashMap<i64, Vec<(i64, String)>> {
    let mut map: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    for (bot, id, name) in rows {
        map.entry(bot).or_default().push((id, name));
    }
    map
}

/// Bots by id, after the cursor.
pub async fn list(db: &Db, after: Option<i64>, limit: i64) -> Result<Vec<Bot>> {
    let rows: Vec<BotRow> = on_pool!(db, p => sqlx::query_as(bot_select!("WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2"))
        .bind(after).bind(limit).fetch_all(p).await)?;
    let mut sessions = attached(db, None).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = sessions.remove(&r.id).unwrap_or_default();
            r.bot(s)
        })
        .collect())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Bot>> {
    let row: Option<BotRow> = on_pool!(db, p => sqlx::query_as(bot_select!("WHERE id = $1"))
        .bind(id).fetch_optional(p).await)?;
    match row {
        Some(r) => {
            let s = attached(db, Some(r.id)).await?.remove(&r.id);
            Ok(Some(r.bot(s.unwrap_or_default())))
        }
        None => Ok(None),
    }
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Bot> {
    let row: BotRow = on_tx!(tx, c => sqlx::query_as(bot_select!("WHERE id = $1"))
        .bind(id).fetch_one(c).await)?;
    let s = attached_in(tx, id).await?;
    Ok(row.bot(s))
}

pub async fn insert(tx: &mut Tx, f: &BotFields) -> Result<i64> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO bots (name, active, greeting, fallback, handoff_keywords, handoff_after_misses,
            handoff_immediately, answer_groups, business_hours, after_hours_message,
            resolve_after_minutes, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) RETURNING id")
        .bind(&f.name).bind(f.active).bind(&f.greeting).bind(&f.fallback)
        .bind(json(&f.handoff_keywords)).bind(f.handoff_after_misses).bind(f.handoff_immediately)
        .bind(f.answer_groups).bind(f.business_hours.as_ref().map(json)).bind(&f.after_hours_message)
        .bind(f.resolve_after_minutes).bind(now)
        .fetch_one(c).await)?;
    Ok(id)
}

pub async fn update(tx: &mut Tx, id: i64, f: &BotFields) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE bots SET name = $2, active = $3, greeting = $4, fallback = $5, handoff_keywords = $6,
            handoff_after_misses = $7, handoff_immediately = $8, answer_groups = $9,
            business_hours = $10, after_hours_message = $11, resolve_after_minutes = $12,
            version = version + 1, updated_at = $13
         WHERE id = $1")
        .bind(id).bind(&f.name).bind(f.active).bind(&f.greeting).bind(&f.fallback)
        .bind(json(&f.handoff_keywords)).bind(f.handoff_after_misses).bind(f.handoff_immediately)
        .bind(f.answer_groups).bind(f.business_hours.as_ref().map(json)).bind(&f.after_hours_message)
        .bind(f.resolve_after_minutes).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Which bot serves each of `sessions` other than `bot_id` (a session has one bot).
pub async fn taken_in(tx: &mut Tx, bot_id: i64, sessions: &[i64]) -> Result<Vec<(i64, i64)>> {
    let mut taken = Vec::new();
    for s in sessions {
        let other: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT bot_id FROM bot_sessions WHERE session_id = $1 AND bot_id <> $2")
            .bind(*s).bind(bot_id).fetch_optional(c).await)?;
        if let Some(o) = other {
            taken.push((*s, o));
        }
    }
    Ok(taken)
}

pub async fn set_sessions(tx: &mut Tx, bot_id: i64, sessions: &[i64]) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM bot_sessions WHERE bot_id = $1")
        .bind(bot_id).execute(c).await.map(|r| r.rows_affected()))?;
    for s in sessions {
        on_tx!(tx, c => sqlx::query("INSERT INTO bot_sessions (bot_id, session_id) VALUES ($1, $2)")
            .bind(bot_id).bind(*s).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// Removes a bot with its triggers; its past messages and events keep its id.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
    for sql in [
        "DELETE FROM triggers WHERE bot_id = $1",
        "DELETE FROM bot_sessions WHERE bot_id = $1",
        "DELETE FROM bots WHERE id = $1",
    ] {
        on_tx!(tx, c => sqlx::query(sql).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// A change to a trigger is a new version of its bot.
pub async fn bump(tx: &mut Tx, bot_id: i64) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query("UPDATE bots SET version = version + 1, updated_at = $2 WHERE id = $1")
        .bind(bot_id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// A bot's triggers by id (`bot_id: None`: every bot's), after the cursor.
pub async fn triggers(
    db: &Db,
    bot_id: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Trigger>> {
    let rows: Vec<TriggerRow> = on_pool!(db, p => sqlx::query_as(trigger_select!("WHERE ($1 IS NULL OR bot_id = $1) AND ($2 IS NULL OR id > $2)
         ORDER BY id LIMIT $3"))
        .bind(bot_id).bind(after).bind(limit).fetch_all(p).await)?;
    rows.into_iter().map(Trigger::try_from).collect()
}

pub async fn trigger(db: &Db, id: i64) -> Result<Option<Trigger>> {
    let row: Option<TriggerRow> = on_pool!(db, p => sqlx::query_as(trigger_select!("WHERE id = $1"))
        .bind(id).fetch_optional(p).await)?;
    row.map(Trigger::try_from).transpose()
}

pub async fn trigger_in(tx: &mut Tx, id: i64) -> Result<Trigger> {
    let row: TriggerRow = on_tx!(tx, c => sqlx::query_as(trigger_select!("WHERE id = $1"))
        .bind(id).fetch_one(c).await)?;
    Trigger::try_from(row)
}

pub async fn triggers_in(tx: &mut Tx, bot_id: i64) -> Result<Vec<Trigger>> {
    let rows: Vec<TriggerRow> = on_tx!(tx, c => sqlx::query_as(trigger_select!("WHERE bot_id = $1 ORDER BY id"))
        .bind(bot_id).fetch_all(c).await)?;
    rows.into_iter().map(Trigger::try_from).collect()
}

/// Every trigger of a bot, for compiling it.
pub async fn all_triggers(db: &Db, bot_id: i64) -> Result<Vec<Trigger>> {
    let rows: Vec<TriggerRow> = on_pool!(db, p => sqlx::query_as(trigger_select!("WHERE bot_id = $1 ORDER BY id"))
        .bind(bot_id).fetch_all(p).await)?;
    rows.into_iter().map(Trigger::try_from).collect()
}

/// A new trigger of `bot_id` (`f.id` is ignored).
pub async fn insert_trigger(tx: &mut Tx, bot_id: i64, f: &TriggerDef) -> Result<i64> {
    let now = tx.now;
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO triggers (bot_id, match_kind, pattern, keywords, case_sensitive, accent_sensitive,
            priority, response, action, tag, field, value, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id")
        .bind(bot_id).bind(f.match_kind.as_str()).bind(&f.pattern).bind(json(&f.keywords))
        .bind(f.case_sensitive).bind(f.accent_sensitive).bind(f.priority).bind(&f.response)
        .bind(f.action.as_str()).bind(&f.tag).bind(&f.field).bind(&f.value).bind(f.active).bind(now)
        .fetch_one(c).await)?;
    bump(tx, bot_id).await?;
    Ok(id)
}

pub async fn update_trigger(tx: &mut Tx, id: i64, bot_id: i64, f: &TriggerDef) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE triggers SET match_kind = $2, pattern = $3, keywords = $4, case_sensitive = $5,
            accent_sensitive = $6, priority = $7, response = $8, action = $9, tag = $10, field = $11,
            value = $12, active = $13, updated_at = $14
         WHERE id = $1")
        .bind(id).bind(f.match_kind.as_str()).bind(&f.pattern).bind(json(&f.keywords))
        .bind(f.case_sensitive).bind(f.accent_sensitive).bind(f.priority).bind(&f.response)
        .bind(f.action.as_str()).bind(&f.tag).bind(&f.field).bind(&f.value).bind(f.active).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    bump(tx, bot_id).await
}

/// Sets the priorities of triggers of `bot_id` (`(trigger id, priority)`), one new version.
pub async fn set_priorities(tx: &mut Tx, bot_id: i64, priorities: &[(i64, i64)]) -> Result<()> {
    let now = tx.now;
    for (id, priority) in priorities {
        on_tx!(tx, c => sqlx::query(
            "UPDATE triggers SET priority = $3, updated_at = $4 WHERE id = $1 AND bot_id = $2")
            .bind(id).bind(bot_id).bind(priority).bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
    }
    bump(tx, bot_id).await
}

pub async fn delete_trigger(tx: &mut Tx, id: i64, bot_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM triggers WHERE id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    bump(tx, bot_id).await
}

/// The bot serving a session, with its version (`None`: none, or it is switched off).
pub async fn active_for_session_in(tx: &mut Tx, session_id: i64) -> Result<Option<(i64, i64)>> {
    let row: Option<(i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT b.id, b.version FROM bot_sessions s JOIN bots b ON b.id = s.bot_id
         WHERE s.session_id = $1 AND b.active")
        .bind(session_id).fetch_optional(c).await)?;
    Ok(row)
}

/// `active_for_session_in`, read outside the writer.
pub async fn active_for_session(db: &Db, session_id: i64) -> Result<Option<(i64, i64)>> {
    let row: Option<(i64, i64)> = on_pool!(db, p => sqlx::query_as(
        "SELECT b.id, b.version FROM bot_sessions s JOIN bots b ON b.id = s.bot_id
         WHERE s.session_id = $1 AND b.active")
        .bind(session_id).fetch_optional(p).await)?;
    Ok(row)
}

/// A bot's whole definition (for compiling), read in a writer transaction.
pub async fn def_in(tx: &mut Tx, bot_id: i64) -> Result<BotDef> {
    let bot = get_in(tx, bot_id).await?;
    let triggers = triggers_in(tx, bot_id).await?;
    Ok(bot.def(&triggers))
}

/// A bot's whole definition (for the tester).
pub async fn def(db: &Db, bot_id: i64) -> Result<Option<BotDef>> {
    let Some(bot) = get(db, bot_id).await? else {
        return Ok(None);
    };
    let triggers = all_triggers(db, bot_id).await?;
    Ok(Some(bot.def(&triggers)))
}
