//! A WhatsApp session's settings in the hub (not in WAHA): who may reply in its
//! conversations.

use serde_json::json;

use super::{Hub, SessionView};
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::{EventKind, EventScope, ReplyPolicy, Viewer};
use crate::store::{audit, events, sessions};

impl Hub {
    pub async fn set_reply_policy(
        &self,
        v: &Viewer,
        name: &str,
        policy: ReplyPolicy,
    ) -> Result<SessionView, HubError> {
        let mut s = self.session_record(v, name).await?;
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        if s.reply_policy != policy {
            let before = s.reply_policy;
            self.services
                .writer
                .run(
                    (v.clone(), s.id, s.name.clone(), before, policy),
                    |tx, (v, id, name, before, policy)| {
                        Box::pin(async move {
                            sessions::set_reply_policy(tx, *id, *policy).await?;
                            audit::record(
                                tx,
                                v,
                                &AuditEntry::new("session.settings", "session", name)
                                    .session(*id)
                                    .before(json!({"reply_policy": before}))
                                    .after(json!({"reply_policy": policy})),
                            )
                            .await?;
                            let data = json!({"session": name, "reply_policy": policy});
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
            s.reply_policy = policy;
        }
        Ok(self.view(s))
    }
}
