//! A WhatsApp session's settings in the hub (not in WAHA): who may reply in its
//! conversations, and whether the router assigns them automatically.

use serde_json::{json, Map, Value};

use super::{Hub, SessionView};
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::{EventKind, EventScope, ReplyPolicy, Viewer};
use crate::store::{audit, events, sessions};

/// A change of settings: `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionSettingsPatch {
    pub reply_policy: Option<ReplyPolicy>,
    pub auto_assign: Option<bool>,
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
        if policy.is_none() && auto.is_none() {
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
        let input = (
            v.clone(),
            s.id,
            s.name.clone(),
            policy,
            auto,
            Value::Object(before),
            Value::Object(after),
        );
        self.services
            .writer
            .run(input, |tx, (v, id, name, policy, auto, before, after)| {
                Box::pin(async move {
                    if let Some(p) = policy {
                        sessions::set_reply_policy(tx, *id, *p).await?;
                    }
                    if let Some(a) = auto {
                        sessions::set_auto_assign(tx, *id, *a).await?;
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
        if let Some(a) = auto {
            s.auto_assign = a;
            if a {
                self.services.router().changed(Some(s.id));
            }
        }
        Ok(self.view(s))
    }
}
