//! WhatsApp sessions: registering them in WAHA with the hub's webhook, adopting the ones
//! WAHA has, starting, stopping, pairing.

use serde_json::{json, Value};

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::inbound::Account;
use crate::domain::{SessionRef, Viewer};
use crate::store::sessions::{self, WaSession};
use crate::waha::client::{Qr, SessionInfo};
use crate::waha::events::WahaEvent;

#[derive(Debug, Clone, Copy)]
pub enum SessionAction {
    Start,
    Stop,
    Logout,
}

fn account(info: &SessionInfo) -> Option<Account> {
    info.me.as_ref().map(|m| Account {
        id: m.id.clone(),
        name: m.push_name.clone(),
    })
}

/// WAHA's webhooks of a session config.
fn webhooks(config: Option<&Value>) -> &[Value] {
    config
        .and_then(|c| c.get("webhooks"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// `existing` (WAHA's config of a session) with the hub's webhook in place of any earlier
/// one of the hub's: other tools' webhooks and every other setting survive.
pub fn merged_config(existing: Option<&Value>, ours: Value) -> Value {
    let our_url = ours.get("url").cloned();
    let mut config = match existing {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => json!({}),
    };
    let mut hooks: Vec<Value> = webhooks(existing)
        .iter()
        .filter(|h| h.get("url") != our_url.as_ref())
        .cloned()
        .collect();
    hooks.push(ours);
    config["webhooks"] = Value::Array(hooks);
    config
}

impl Hub {
    /// The webhook WAHA must call for every session of this hub.
    pub fn our_webhook(&self) -> Value {
        let mut hook = json!({
            "url": self.services.webhook_url,
            "events": WahaEvent::names(),
            "retries": { "delaySeconds": 2, "attempts": 15, "policy": "exponential" },
        });
        if let Some(key) = &self.services.config.webhook_hmac_key {
            hook["hmac"] = json!({ "key": key });
        }
        hook
    }

    fn calls_us(&self, info: &SessionInfo) -> bool {
        let url = &self.services.webhook_url;
        webhooks(info.config.as_ref())
            .iter()
            .any(|h| h.get("url").and_then(Value::as_str) == Some(url.as_str()))
    }

    /// Brings one session under the hub: recorded here (its actor started), WAHA's config
    /// carrying our webhook (updated when `refresh`, or when it lacks it), its status
    /// recorded. `existing` is what WAHA said about it, if it has it.
    async fn provision(
        &self,
        name: &str,
        existing: Option<SessionInfo>,
        refresh: bool,
        authoritative: bool,
    ) -> Result<(WaSession, bool), HubError> {
        let (session, created) = self.registry.ensure(name).await?;
        let info = match existing {
            Some(info) if !refresh && self.calls_us(&info) => info,
            existing => {
                let config =
                    merged_config(existing.and_then(|i| i.config).as_ref(), self.our_webhook());
                self.services.waha.upsert_session(name, &config).await?
            }
        };
        let sref = SessionRef {
            id: session.id,
            name: session.name.clone(),
        };
        self.registry
            .report_status(&sref, info.status.clone(), account(&info), authoritative)
            .await?;
        let session = sessions::by_name(self.db(), name).await?.unwrap_or(session);
        Ok((session, created))
    }

    /// Registers a WhatsApp session: stored here, created or updated in WAHA with our
    /// webhook, and started. `true` when the hub did not know it before.
    pub async fn register_session(
        &self,
        v: &Viewer,
        name: &str,
    ) -> Result<(WaSession, bool), HubError> {
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        let existing = self.services.waha.get_session(name).await?;
        self.provision(name, existing, true, false).await
    }

    /// Adopts the sessions WAHA already has: known here, and calling our webhook.
    pub async fn adopt_sessions(&self) -> Result<usize, HubError> {
        let list = self.services.waha.list_sessions().await?;
        let n = list.len();
        for info in list {
            let name = info.name.clone();
            self.provision(&name, Some(info), false, true).await?;
        }
        Ok(n)
    }

    /// A session the viewer may see.
    pub async fn session(&self, v: &Viewer, name: &str) -> Result<WaSession, HubError> {
        let not_found = || HubError::NotFound(format!("session {name:?}"));
        let s = sessions::by_name(self.db(), name)
            .await?
            .ok_or_else(not_found)?;
        v.may_see_session(s.id).map_err(|_| not_found())?;
        Ok(s)
    }

    pub async fn sessions(&self, v: &Viewer) -> Result<Vec<WaSession>, HubError> {
        Ok(sessions::list_for(self.db(), v.sessions_filter().as_deref()).await?)
    }

    /// Starts, stops or logs out a session in WAHA; answers the session with WAHA's word
    /// on its status (the `session.status` event follows).
    pub async fn session_action(
        &self,
        v: &Viewer,
        name: &str,
        action: SessionAction,
    ) -> Result<WaSession, HubError> {
        let mut s = self.session(v, name).await?;
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        let waha = &self.services.waha;
        let info = match action {
            SessionAction::Start => waha.start(name).await?,
            SessionAction::Stop => waha.stop(name).await?,
            SessionAction::Logout => waha.logout(name).await?,
        };
        let sref = SessionRef {
            id: s.id,
            name: s.name.clone(),
        };
        self.registry
            .report_status(&sref, info.status.clone(), account(&info), false)
            .await?;
        s.status = info.status;
        Ok(s)
    }

    pub async fn qr(&self, v: &Viewer, name: &str) -> Result<Qr, HubError> {
        self.session(v, name).await?;
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        Ok(self.services.waha.qr(name).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_keeps_other_tools_webhooks_and_settings() {
        let existing = json!({
            "webhooks": [
                {"url": "http://crm/hook", "events": ["message"]},
                {"url": "http://hub/webhooks/waha", "events": ["message"], "hmac": {"key": "old"}}
            ],
            "metadata": {"team": "sales"},
            "proxy": null
        });
        let ours =
            json!({"url": "http://hub/webhooks/waha", "events": ["message", "session.status"]});
        let merged = merged_config(Some(&existing), ours.clone());
        assert_eq!(merged["metadata"], json!({"team": "sales"}));
        assert!(merged.get("proxy").is_some());
        assert_eq!(
            merged["webhooks"],
            json!([{"url": "http://crm/hook", "events": ["message"]}, ours])
        );
        assert_eq!(
            merged_config(None, ours.clone()),
            json!({ "webhooks": [ours] })
        );
    }
}
