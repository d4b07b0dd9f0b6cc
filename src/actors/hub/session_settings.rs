//! A WhatsApp session's settings in the hub (not in WAHA): who may reply in its
//! conversations, whether the router assigns them automatically, whether resolving asks
//! the customer for a rating (docs/csat.md), how long a customer may wait before
//! supervisors are alerted (docs/notifications.md), and the business hours the reports
//! count (docs/analytics.md).

use serde_json::{json, Map, Value};

use super::{Hub, SessionView};
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::hours::WeeklyHours;
use crate::domain::{csat, EventKind, EventScope, FieldError, ReplyPolicy, Viewer};
use crate::store::{audit, events, sessions};

/// A change of settings: `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct SessionSettingsPatch {
    pub reply_policy: Option<ReplyPolicy>,
    pub auto_assign: Option<bool>,
    pub csat_enabled: Option<bool>,
    /// `Some(None)`: back to the default question.
    pub csat_question: Option<Option<String>>,
    /// `Some(None)`: no SLA alerts.
    pub sla_wait_seconds: Option<Option<i64>>,
    /// `Some(None)`: every hour counts (docs/analytics.md).
    pub business_hours: Option<Option<WeeklyHours>>,
}

/// The longest SLA a session may set: 30 days.
const MAX_SLA_SECS: i64 = 30 * 86_400;

/// The patch's values checked (422 naming the field); a blank question means the default.
fn checked(mut patch: SessionSettingsPatch) -> Result<SessionSettingsPatch, HubError> {
    if let Some(Some(secs)) = patch.sla_wait_seconds {
        if !(1..=MAX_SLA_SECS).contains(&secs) {
            return Err(HubError::Unprocessable(FieldError::new(
                "sla_wait_seconds",
                format!("expected 1 to {MAX_SLA_SECS} seconds, or null for no alerts"),
            )));
        }
    }
    if let Some(Some(q)) = &patch.csat_question {
        let q = q.trim();
        if q.chars().count() > csat::MAX_QUESTION_CHARS {
            return Err(HubError::Unprocessable(FieldError::new(
                "csat_question",
                format!("at most {} characters", csat::MAX_QUESTION_CHARS),
            )));
        }
        patch.csat_question = Some((!q.is_empty()).then(|| q.to_string()));
    }
    if let Some(Some(h)) = &patch.business_hours {
        h.validate("business_hours")?;
    }
    Ok(patch)
}

/// What a patch changes, as the writer job applies it.
struct Changes {
    policy: Option<ReplyPolicy>,
    auto: Option<bool>,
    csat: Option<(bool, Option<String>)>,
    sla: Option<Option<i64>>,
    hours: Option<Option<WeeklyHours>>,
}

impl Hub {
    /// Changes the session's settings (admins), with one audit entry and one
    /// `session.settings` event naming what changed; nothing changed: nothing recorded.
    /// Turning automatic assignment on drains the session's queue.
    pub async fn update_session_settings(
        &self,
        v: &Viewer,
        name: &str,
        patch: SessionSettingsPatch,
    ) -> Result<SessionView, HubError> {
        let mut s = self.session_record(v, name).await?;
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        let patch = checked(patch)?;
        let (mut before, mut after) = (Map::new(), Map::new());
        let mut diff = |key: &str, old: Value, new: Value| {
            if old != new {
                before.insert(key.into(), old);
                after.insert(key.into(), new);
            }
        };
        let policy = patch.reply_policy.filter(|p| *p != s.reply_policy);
        let auto = patch.auto_assign.filter(|a| *a != s.auto_assign);
        if let Some(p) = policy {
            diff("reply_policy", json!(s.reply_policy), json!(p));
        }
        if let Some(a) = auto {
            diff("auto_assign", json!(s.auto_assign), json!(a));
        }
        let csat_enabled = patch.csat_enabled.unwrap_or(s.csat_enabled);
        let csat_question = patch
            .csat_question
            .clone()
            .unwrap_or_else(|| s.csat_question.clone());
        diff("csat_enabled", json!(s.csat_enabled), json!(csat_enabled));
        diff(
            "csat_question",
            json!(s.csat_question),
            json!(csat_question),
        );
        let csat = (csat_enabled != s.csat_enabled || csat_question != s.csat_question)
            .then(|| (csat_enabled, csat_question.clone()));
        let sla = patch
            .sla_wait_seconds
            .filter(|secs| *secs != s.sla_wait_seconds);
        if let Some(secs) = sla {
            diff("sla_wait_seconds", json!(s.sla_wait_seconds), json!(secs));
        }
        let hours = patch
            .business_hours
            .filter(|h| h.as_ref() != s.business_hours.0.as_ref());
        if let Some(h) = &hours {
            diff("business_hours", json!(s.business_hours), json!(h));
        }
        if after.is_empty() {
            return Ok(self.view(s));
        }
        let changes = Changes {
            policy,
            auto,
            csat: csat.clone(),
            sla,
            hours: hours.clone(),
        };
        let input = (
            v.clone(),
            s.id,
            s.name.clone(),
            changes,
            Value::Object(before),
            Value::Object(after),
        );
        self.services
            .writer
            .run(input, |tx, (v, id, name, ch, before, after)| {
                Box::pin(async move {
                    if let Some(p) = ch.policy {
                        sessions::set_reply_policy(tx, *id, p).await?;
                    }
                    if let Some(a) = ch.auto {
                        sessions::set_auto_assign(tx, *id, a).await?;
                    }
                    if let Some((on, q)) = &ch.csat {
                        sessions::set_csat(tx, *id, *on, q.as_deref()).await?;
                    }
                    if let Some(secs) = ch.sla {
                        sessions::set_sla(tx, *id, secs).await?;
                    }
                    if let Some(h) = &ch.hours {
                        sessions::set_business_hours(tx, *id, h.as_ref()).await?;
                    }
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("session.settings", "session", name)
                            .session(*id)
                            .before(before.clone())
                            .after(after.clone()),
                    )
                    .await?;
                    let mut data = after.clone();
                    data["session"] = json!(name);
                    events::append(
                        tx,
                        EventKind::SessionSettings,
                        EventScope::session(*id),
                        &data,
                    )
                    .await
                })
            })
            .await?;
        if let Some(p) = policy {
            s.reply_policy = p;
        }
        if let Some((on, q)) = csat {
            s.csat_enabled = on;
            s.csat_question = q;
        }
        if let Some(secs) = sla {
            s.sla_wait_seconds = secs;
        }
        if let Some(a) = auto {
            s.auto_assign = a;
            if a {
                self.services.router().changed(Some(s.id));
            }
        }
        if let Some(h) = hours {
            s.business_hours = sessions::HoursColumn(h);
        }
        Ok(self.view(s))
    }
}
