//! A WhatsApp session's settings in the hub (not in WAHA): who may reply in its
//! conversations, and whether the router assigns them automatically.

use serde_json::{json, Map, Value};

use super::{Hub, SessionView};
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::hours::WeeklyHours;
use crate::domain::{EventKind, EventScope, ReplyPolicy, Viewer};
use crate::store::{audit, events, sessions};

/// A change of settings: `None` leaves a setting as it is (`business_hours`: `Some(None)`
/// clears them).
#[derive(Debug, Clone, Default)]
pub struct SessionSettingsPatch {
    pub reply_policy: Option<ReplyPolicy>,
    pub auto_assign: Option<bool>,
    pub business_hours: Option<Option<WeeklyHours>>,
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
        let policy = patch.reply_policy.filter(|p| *p != s.reply_policy);
        let auto = patch.auto_assign.filter(|a| *a != s.auto_assign);
        if let Some(Some(h)) = &patch.business_hours {
            h.validate("business_hours")?;
        }
        let current = s.business_hours.0.as_ref();
        let hours = patch.business_hours.filter(|h| h.as_ref() != current);
        if policy.is_none() && auto.is_none() && hours.is_none() {
            return Ok(self.view(s));
        }
        let (mut before, mut after) = (Map::new(), Map::new());
        if let Some(p) = policy {
            before.insert("reply_policy".into(), json!(s.reply_policy));
            after.insert("reply_policy".into(), json!(p));
        }
        if let Some(a) = auto {
            before.insert("auto_assign".into(), json!(s.auto_assign));
            after.insert("auto_assign".into(), json!(a));
        }
        if let Some(h) = &hours {
            before.insert("business_hours".into(), json!(current));
            after.insert("business_hours".into(), json!(h));
        }
        let input = (
            v.clone(),
            s.id,
            s.name.clone(),
            policy,
            auto,
            hours.clone(),
            Value::Object(before),
            Value::Object(after),
        );
        self.services
            .writer
            .run(
                input,
                |tx, (v, id, name, policy, auto, hours, before, after)| {
                    Box::pin(async move {
                        if let Some(p) = policy {
                            sessions::set_reply_policy(tx, *id, *p).await?;
                        }
                        if let Some(a) = auto {
                            sessions::set_auto_assign(tx, *id, *a).await?;
                        }
                        if let Some(h) = hours {
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
                },
            )
            .await?;
        if let Some(p) = policy {
            s.reply_policy = p;
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
