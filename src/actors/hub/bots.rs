//! Bots and their triggers: admins and managers (a manager only bots serving nothing
//! outside their sessions). Every change is validated by the engine (`domain::bot`) before
//! it is saved, written with its audit entry in one transaction, and read by the next
//! message (the compiled bots are invalidated after the commit).

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::bot::{BotDef, BusinessHours, CompiledBot, TriggerDef};
use crate::domain::{FieldError, Viewer};
use crate::store::bots::{self, Bot, BotFields, Trigger};
use crate::store::{audit, StoreError};

/// A bot as asked for: its fields and the session names it serves.
#[derive(Debug, Clone)]
pub struct BotInput {
    pub fields: BotFields,
    pub sessions: Vec<String>,
}

/// A change to a bot: `None` keeps a field; for nullable fields `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct BotPatch {
    pub name: Option<String>,
    pub sessions: Option<Vec<String>>,
    pub active: Option<bool>,
    pub greeting: Option<Option<String>>,
    pub fallback: Option<Option<String>>,
    pub handoff_keywords: Option<Vec<String>>,
    pub handoff_after_misses: Option<Option<i64>>,
    pub handoff_immediately: Option<bool>,
    pub answer_groups: Option<bool>,
    pub business_hours: Option<Option<BusinessHours>>,
    pub after_hours_message: Option<Option<String>>,
    pub resolve_after_minutes: Option<Option<i64>>,
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> HubError {
    HubError::Unprocessable(FieldError::new(field, reason))
}

fn bot_not_found(id: i64) -> HubError {
    HubError::NotFound(format!("bot {id}"))
}

fn trigger_not_found(id: i64) -> HubError {
    HubError::NotFound(format!("trigger {id}"))
}

/// Text goes to the database as it is, and a NUL cannot be stored: refused by name.
fn no_nul<'a>(fields: impl IntoIterator<Item = (String, Option<&'a str>)>) -> Result<(), HubError> {
    for (name, v) in fields {
        if v.is_some_and(|v| v.contains('\0')) {
            return Err(invalid(name, "must not contain NUL characters"));
        }
    }
    Ok(())
}

fn no_nul_in(name: &str, items: &[String]) -> Result<(), HubError> {
    no_nul(
        items
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("{name}[{i}]"), Some(k.as_str()))),
    )
}

/// Checks a bot's own fields (its triggers are checked one by one as they are saved).
fn check_bot(f: &BotFields) -> Result<(), HubError> {
    no_nul([
        ("name".to_string(), Some(f.name.as_str())),
        ("greeting".into(), f.greeting.as_deref()),
        ("fallback".into(), f.fallback.as_deref()),
        (
            "after_hours_message".into(),
            f.after_hours_message.as_deref(),
        ),
    ])?;
    no_nul_in("handoff_keywords", &f.handoff_keywords)?;
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", "1 to 200 characters"));
    }
    for (i, k) in f.handoff_keywords.iter().enumerate() {
        if k.trim().is_empty() || k.chars().count() > 100 {
            return Err(invalid(
                format!("handoff_keywords[{i}]"),
                "1 to 100 characters",
            ));
        }
    }
    if let Some(n) = f.handoff_after_misses {
        if !(1..=100).contains(&n) {
            return Err(invalid(
                "handoff_after_misses",
                format!("from 1 to 100, got {n}"),
            ));
        }
    }
    if let Some(n) = f.resolve_after_minutes {
        if !(1..=525_600).contains(&n) {
            return Err(invalid(
                "resolve_after_minutes",
                format!("from 1 to 525600, got {n}"),
            ));
        }
    }
    if let Some(h) = &f.business_hours {
        h.validate("business_hours")?;
    }
    let def = BotDef {
        id: 0,
        version: 0,
        name: f.name.clone(),
        active: f.active,
        greeting: f.greeting.clone(),
        fallback: f.fallback.clone(),
        handoff_keywords: f.handoff_keywords.clone(),
        handoff_after_misses: None,
        handoff_immediately: f.handoff_immediately,
        answer_groups: f.answer_groups,
        business_hours: f.business_hours.clone(),
        after_hours_message: f.after_hours_message.clone(),
        triggers: Vec::new(),
    };
    Ok(def.validate_templates()?)
}

fn check_trigger(f: &TriggerDef) -> Result<(), HubError> {
    no_nul([
        ("pattern".to_string(), f.pattern.as_deref()),
        ("response".into(), f.response.as_deref()),
        ("tag".into(), f.tag.as_deref()),
        ("field".into(), f.field.as_deref()),
        ("value".into(), f.value.as_deref()),
    ])?;
    no_nul_in("keywords", &f.keywords)?;
    Ok(f.validate()?)
}

fn bot_json(b: &Bot) -> serde_json::Value {
    serde_json::to_value(b).unwrap_or_default()
}

fn trigger_json(t: &Trigger) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or_default()
}

impl Hub {
    /// After a change of bots: the compiled ones are dropped, and those of the sessions
    /// concerned compiled again off the writer.
    pub(super) fn bots_changed(&self, sessions: Vec<i64>) {
        self.services.bots.invalidate();
        let services = self.services.clone();
        actix::spawn(async move {
            if let Err(e) = services.bots.warm(&services.db, &sessions).await {
                tracing::debug!(error = %e, "could not compile the changed bots ahead");
            }
        });
    }

    /// A bot `v` may see.
    pub(super) async fn visible_bot(&self, v: &Viewer, id: i64) -> Result<Bot, HubError> {
        v.may_manage_bots()
            .map_err(|d| HubError::denied(d, || format!("bot {id}")))?;
        let bot = bots::get(self.db(), id)
            .await?
            .ok_or_else(|| bot_not_found(id))?;
        v.may_see_bot(&bot.session_ids)
            .map_err(|d| HubError::denied(d, || format!("bot {id}")))?;
        Ok(bot)
    }

    /// Session names for a bot → ids, each one the viewer may attach.
    async fn bot_sessions(&self, v: &Viewer, names: &[String]) -> Result<Vec<i64>, HubError> {
        let ids = self.session_ids(names).await?;
        v.may_attach_bot(&ids)
            .map_err(|d| HubError::denied(d, || "session".into()))?;
        Ok(ids)
    }

    pub async fn bots(
        &self,
        v: &Viewer,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Bot>, HubError> {
        v.may_manage_bots()
            .map_err(|d| HubError::denied(d, || "bots".into()))?;
        let mut all = bots::list(self.db(), after, limit).await?;
        all.retain(|b| v.may_see_bot(&b.session_ids).is_ok());
        Ok(all)
    }

    pub async fn bot(&self, v: &Viewer, id: i64) -> Result<Bot, HubError> {
        self.visible_bot(v, id).await
    }

    pub async fn create_bot(&self, v: &Viewer, input: BotInput) -> Result<Bot, HubError> {
        v.may_manage_bots()
            .map_err(|d| HubError::denied(d, || "bots".into()))?;
        let mut fields = input.fields;
        fields.name = fields.name.trim().to_string();
        check_bot(&fields)?;
        let sessions = self.bot_sessions(v, &input.sessions).await?;
        let concerned = sessions.clone();
        let bot = self
            .services
            .writer
            .run(
                (v.clone(), fields, sessions, input.sessions),
                |tx, (v, fields, sessions, names)| {
                    Box::pin(async move {
                        let id = bots::insert(tx, fields).await?;
                        attach(tx, id, sessions, names).await?;
                        let bot = bots::get_in(tx, id).await?;
                        audit::record(
                            tx,
                            v,
                            &AuditEntry::new("bot.create", "bot", id).after(bot_json(&bot)),
                        )
                        .await?;
                        Ok(bot)
                    })
                },
            )
            .await
            .map_err(conflict)?;
        self.bots_changed(concerned);
        Ok(bot)
    }

    pub async fn update_bot(&self, v: &Viewer, id: i64, p: BotPatch) -> Result<Bot, HubError> {
        let current = self.visible_bot(v, id).await?;
        let mut concerned = current.session_ids.clone();
        let mut f = current.fields();
        if let Some(x) = p.name {
            f.name = x.trim().to_string();
        }
        if let Some(x) = p.active {
            f.active = x;
        }
        if let Some(x) = p.greeting {
            f.greeting = x;
        }
        if let Some(x) = p.fallback {
            f.fallback = x;
        }
        if let Some(x) = p.handoff_keywords {
            f.handoff_keywords = x;
        }
        if let Some(x) = p.handoff_after_misses {
            f.handoff_after_misses = x;
        }
        if let Some(x) = p.handoff_immediately {
            f.handoff_immediately = x;
        }
        if let Some(x) = p.answer_groups {
            f.answer_groups = x;
        }
        if let Some(x) = p.business_hours {
            f.business_hours = x;
        }
        if let Some(x) = p.after_hours_message {
            f.after_hours_message = x;
        }
        if let Some(x) = p.resolve_after_minutes {
            f.resolve_after_minutes = x;
        }
        check_bot(&f)?;
        let sessions = match &p.sessions {
            Some(names) => Some((self.bot_sessions(v, names).await?, names.clone())),
            None => None,
        };
        if let Some((ids, _)) = &sessions {
            concerned.extend(ids);
        }
        let bot = self
            .services
            .writer
            .run(
                (v.clone(), id, f, sessions, current),
                |tx, (v, id, f, sessions, before)| {
                    Box::pin(async move {
                        bots::update(tx, *id, f).await?;
                        if let Some((ids, names)) = sessions {
                            attach(tx, *id, ids, names).await?;
                        }
                        let bot = bots::get_in(tx, *id).await?;
                        audit::record(
                            tx,
                            v,
                            &AuditEntry::new("bot.update", "bot", *id)
                                .before(bot_json(before))
                                .after(bot_json(&bot)),
                        )
                        .await?;
                        Ok(bot)
                    })
                },
            )
            .await
            .map_err(conflict)?;
        self.bots_changed(concerned);
        Ok(bot)
    }

    pub async fn delete_bot(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        let current = self.visible_bot(v, id).await?;
        let concerned = current.session_ids.clone();
        self.services
            .writer
            .run((v.clone(), current), |tx, (v, before)| {
                Box::pin(async move {
                    bots::delete(tx, before.id).await?;
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("bot.delete", "bot", before.id).before(bot_json(before)),
                    )
                    .await
                })
            })
            .await?;
        self.bots_changed(concerned);
        Ok(())
    }

    /// The bot as saved, and compiled (for the tester and replay).
    pub(super) async fn compiled_bot(
        &self,
        v: &Viewer,
        id: i64,
    ) -> Result<(Bot, CompiledBot), HubError> {
        let bot = self.visible_bot(v, id).await?;
        let def = bots::def(self.db(), id)
            .await?
            .ok_or_else(|| bot_not_found(id))?;
        let compiled = CompiledBot::compile(def)
            .map_err(|e| HubError::Conflict(format!("the bot does not compile: {e}")))?;
        Ok((bot, compiled))
    }

    // ---- triggers

    pub async fn triggers(
        &self,
        v: &Viewer,
        bot_id: Option<i64>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Trigger>, HubError> {
        v.may_manage_bots()
            .map_err(|d| HubError::denied(d, || "triggers".into()))?;
        if let Some(b) = bot_id {
            self.visible_bot(v, b).await?;
            return Ok(bots::triggers(self.db(), Some(b), after, limit).await?);
        }
        let attached = bots::attached(self.db(), None).await?;
        let mut all = bots::triggers(self.db(), None, after, limit).await?;
        all.retain(|t| {
            let ids: Vec<i64> = attached
                .get(&t.bot_id)
                .map(|s| s.iter().map(|(id, _)| *id).collect())
                .unwrap_or_default();
            v.may_see_bot(&ids).is_ok()
        });
        Ok(all)
    }

    /// A trigger `v` may see, with the sessions its bot serves.
    async fn visible_trigger(&self, v: &Viewer, id: i64) -> Result<(Trigger, Vec<i64>), HubError> {
        v.may_manage_bots()
            .map_err(|d| HubError::denied(d, || format!("trigger {id}")))?;
        let t = bots::trigger(self.db(), id)
            .await?
            .ok_or_else(|| trigger_not_found(id))?;
        let bot = self
            .visible_bot(v, t.bot_id)
            .await
            .map_err(|_| trigger_not_found(id))?;
        Ok((t, bot.session_ids))
    }

    pub async fn trigger(&self, v: &Viewer, id: i64) -> Result<Trigger, HubError> {
        Ok(self.visible_trigger(v, id).await?.0)
    }

    pub async fn create_trigger(
        &self,
        v: &Viewer,
        bot_id: i64,
        f: TriggerDef,
    ) -> Result<Trigger, HubError> {
        v.may_manage_bots()
            .map_err(|d| HubError::denied(d, || "triggers".into()))?;
        // A bot the viewer cannot see is as unknown as one that does not exist.
        let concerned = self
            .visible_bot(v, bot_id)
            .await
            .map_err(|_| invalid("bot_id", format!("unknown bot {bot_id}")))?
            .session_ids;
        check_trigger(&f)?;
        let t = self
            .services
            .writer
            .run((v.clone(), bot_id, f), |tx, (v, bot_id, f)| {
                Box::pin(async move {
                    let id = bots::insert_trigger(tx, *bot_id, f).await?;
                    let t = bots::trigger_in(tx, id).await?;
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("trigger.create", "trigger", id).after(trigger_json(&t)),
                    )
                    .await?;
                    Ok(t)
                })
            })
            .await?;
        self.bots_changed(concerned);
        Ok(t)
    }

    pub async fn update_trigger(
        &self,
        v: &Viewer,
        id: i64,
        change: impl FnOnce(&mut TriggerDef),
    ) -> Result<Trigger, HubError> {
        let (current, concerned) = self.visible_trigger(v, id).await?;
        let mut f = current.def();
        change(&mut f);
        check_trigger(&f)?;
        let t = self
            .services
            .writer
            .run((v.clone(), f, current), |tx, (v, f, before)| {
                Box::pin(async move {
                    bots::update_trigger(tx, before.id, before.bot_id, f).await?;
                    let t = bots::trigger_in(tx, before.id).await?;
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("trigger.update", "trigger", before.id)
                            .before(trigger_json(before))
                            .after(trigger_json(&t)),
                    )
                    .await?;
                    Ok(t)
                })
            })
            .await?;
        self.bots_changed(concerned);
        Ok(t)
    }

    pub async fn delete_trigger(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        let (current, concerned) = self.visible_trigger(v, id).await?;
        self.services
            .writer
            .run((v.clone(), current), |tx, (v, before)| {
                Box::pin(async move {
                    bots::delete_trigger(tx, before.id, before.bot_id).await?;
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("trigger.delete", "trigger", before.id)
                            .before(trigger_json(before)),
                    )
                    .await
                })
            })
            .await?;
        self.bots_changed(concerned);
        Ok(())
    }
}

/// Attaches a bot to sessions; a session another bot serves is a conflict naming it.
async fn attach(
    tx: &mut crate::store::Tx,
    bot_id: i64,
    sessions: &[i64],
    names: &[String],
) -> Result<(), StoreError> {
    let taken = bots::taken_in(tx, bot_id, sessions).await?;
    if let Some((session, other)) = taken.first() {
        let i = sessions.iter().position(|s| s == session).unwrap_or(0);
        let name = names.get(i).map(String::as_str).unwrap_or("?");
        return Err(StoreError::ConflictOn(FieldError::new(
            format!("sessions[{i}]"),
            format!("session {name:?} is already served by bot {other}"),
        )));
    }
    bots::set_sessions(tx, bot_id, sessions).await
}

fn conflict(e: StoreError) -> HubError {
    match e {
        StoreError::Conflict(m) => HubError::Conflict(m),
        StoreError::ConflictOn(f) => HubError::ConflictOn(f),
        e => HubError::Store(e),
    }
}
