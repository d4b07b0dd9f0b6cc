//! WhatsApp sessions: registering them in WAHA with the hub's webhook, adopting the ones
//! WAHA has, starting, stopping, pairing.

use serde_json::{json, Value};

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::inbound::Account;
use crate::domain::{SessionRef, Viewer};
use crate::store::audit;
use crate::store::sessions::{self, WaSession};
use crate::waha::client::{Qr, SessionInfo, WahaError};
use crate::waha::events::WahaEvent;

/// A session as the API shows it: its record, and whether its events get through.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: WaSession,
    /// `false` when the hub knows its webhooks are not getting through.
    pub receiving_events: bool,
    /// Why not, and what to do about it.
    pub events_problem: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub enum SessionAction {
    Start,
    Stop,
    Logout,
}

impl SessionAction {
    /// Its name in the audit log.
    fn audit_action(self) -> &'static str {
        match self {
            SessionAction::Start => "session.start",
            SessionAction::Stop => "session.stop",
            SessionAction::Logout => "session.logout",
        }
    }
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

/// Whether two webhook configs are the same for the hub's purposes (events in any order).
fn same_webhook(theirs: &Value, ours: &Value) -> bool {
    let events = |h: &Value| {
        let mut e: Vec<String> = h
            .get("events")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        e.sort();
        e
    };
    let key = |h: &Value| h.pointer("/hmac/key").cloned().filter(|k| !k.is_null());
    let retries = |h: &Value| {
        ["delaySeconds", "attempts", "policy"]
            .map(|f| h.get("retries").and_then(|r| r.get(f)).cloned())
    };
    theirs.get("url") == ours.get("url")
        && events(theirs) == events(ours)
        && key(theirs) == key(ours)
        && retries(theirs) == retries(ours)
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
    /// Records what WAHA answered about `session` (asked at `asked`) through its actor.
    async fn record(
        &self,
        session: &WaSession,
        info: &SessionInfo,
        asked: i64,
    ) -> Result<(), HubError> {
        let sref = SessionRef {
            id: session.id,
            name: session.name.clone(),
        };
        self.registry
            .report_status(&sref, info.status.clone(), account(info), asked)
            .await
    }

    pub(super) fn view(&self, session: WaSession) -> SessionView {
        let events_problem = self.health.problem(&session.name);
        SessionView {
            receiving_events: events_problem.is_none(),
            events_problem,
            session,
        }
    }

    /// Asks WAHA its version and says loudly when it cannot deliver what the hub needs:
    /// with `WAHA_WEBHOOK_HMAC_KEY` set, a WAHA before 2024.11.5 sends unsigned webhooks
    /// (and never retries), so every one of them would be refused.
    pub async fn check_waha(&self) -> Result<(), HubError> {
        let v = self.services.waha.version().await?;
        let problem = (self.services.config.webhook_hmac_key.is_some() && !v.signs_webhooks())
            .then(|| {
                format!(
                    "WAHA {} does not sign webhooks (HMAC came with 2024.11.5), so the hub refuses                      all of them: upgrade WAHA, or unset WAHA_WEBHOOK_HMAC_KEY on a trusted network",
                    v.version
                )
            });
        match &problem {
            Some(p) => tracing::warn!(waha = %v.version, "{p}"),
            None => tracing::info!(waha = %v.version, engine = ?v.engine, "WAHA version"),
        }
        self.health.set_waha_problem(problem);
        Ok(())
    }

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

    /// Whether WAHA's config of the session carries our webhook exactly as we want it
    /// (URL, events, HMAC key, retries).
    fn calls_us(&self, info: &SessionInfo) -> bool {
        let ours = self.our_webhook();
        webhooks(info.config.as_ref())
            .iter()
            .any(|h| same_webhook(h, &ours))
    }

    /// Brings one session under the hub: recorded here (its actor started), WAHA's config
    /// carrying our webhook (re-applied when `registering`, or when it differs), started
    /// when the hub wants it running, its status recorded. `existing` is what WAHA said
    /// about it, if it has it.
    async fn provision(
        &self,
        name: &str,
        existing: Option<SessionInfo>,
        registering: bool,
        asked: i64,
    ) -> Result<(WaSession, bool), HubError> {
        let (session, created) = self.registry.ensure(name).await?;
        let start = registering || session.wants_running;
        let (info, asked) = match existing {
            Some(info) if !registering && self.calls_us(&info) => (info, asked),
            existing => {
                let asked = self.now_ms();
                let config =
                    merged_config(existing.and_then(|i| i.config).as_ref(), self.our_webhook());
                let info = self
                    .services
                    .waha
                    .upsert_session(name, &config, start)
                    .await?;
                (info, asked)
            }
        };
        self.record(&session, &info, asked).await?;
        let session = sessions::by_name(self.db(), name).await?.unwrap_or(session);
        Ok((session, created))
    }

    /// Registers a WhatsApp session: stored here, created or updated in WAHA with our
    /// webhook, and started. `true` when the hub did not know it before.
    pub async fn register_session(
        &self,
        v: &Viewer,
        name: &str,
    ) -> Result<(SessionView, bool), HubError> {
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        if let Err(e) = self.check_waha().await {
            tracing::warn!(error = %e, "could not read WAHA's version");
        }
        let asked = self.now_ms();
        let existing = self.services.waha.get_session(name).await?;
        // The hub's record of the session (and that it wants it running) is written with
        // the audit entry of who registered it; WAHA is then brought in line.
        let created = self
            .services
            .writer
            .run((v.clone(), name.to_string()), |tx, (v, name)| {
                Box::pin(async move {
                    let (s, created) = sessions::ensure_in(tx, name).await?;
                    let before = sessions::set_wants_running(tx, s.id, true).await?;
                    let mut entry = AuditEntry::new("session.register", "session", name)
                        .session(s.id)
                        .after(json!({"name": name, "wants_running": true}));
                    if !created {
                        entry = entry.before(json!({"name": name, "wants_running": before}));
                    }
                    audit::record(tx, v, &entry).await?;
                    Ok(created)
                })
            })
            .await?;
        let (session, _) = self.provision(name, existing, true, asked).await?;
        Ok((self.view(session), created))
    }

    /// Brings WAHA in line with the hub: every session WAHA has is known here; every
    /// session's config carries our webhook exactly (re-applied, merged with other tools'
    /// webhooks, where it differs — WAHA Core forgets configs when it restarts); sessions
    /// the hub wants running and WAHA has stopped (or lost) are started; every status WAHA
    /// reports is recorded. Returns how many sessions it looked at.
    pub async fn reconcile(&self) -> Result<usize, HubError> {
        let asked = self.now_ms();
        let listed = match self.services.waha.list_sessions().await {
            Ok(l) => {
                self.health.set_reachable(true);
                l
            }
            Err(e) => {
                if matches!(e, WahaError::Transport(_)) || e.is_retryable() {
                    self.health.set_reachable(false);
                }
                return Err(e.into());
            }
        };
        let mut seen = std::collections::HashSet::new();
        for info in listed {
            let name = info.name.clone();
            seen.insert(name.clone());
            self.reconcile_one(&name, Some(info), asked).await?;
        }
        for s in sessions::list(self.db()).await? {
            if !seen.contains(&s.name) && s.wants_running {
                self.reconcile_one(&s.name, None, asked).await?;
            }
        }
        Ok(seen.len())
    }

    async fn reconcile_one(
        &self,
        name: &str,
        existing: Option<SessionInfo>,
        asked: i64,
    ) -> Result<(), HubError> {
        let (session, _) = self.provision(name, existing, false, asked).await?;
        let stopped = matches!(session.status.as_str(), "STOPPED" | "FAILED");
        if stopped && session.wants_running {
            tracing::info!(session = name, status = %session.status, "starting a session the hub expects running");
            let asked = self.now_ms();
            let info = self.services.waha.start(name).await?;
            self.record(&session, &info, asked).await?;
        }
        Ok(())
    }

    /// A session the viewer may see.
    pub async fn session(&self, v: &Viewer, name: &str) -> Result<SessionView, HubError> {
        Ok(self.view(self.session_record(v, name).await?))
    }

    pub(super) async fn session_record(
        &self,
        v: &Viewer,
        name: &str,
    ) -> Result<WaSession, HubError> {
        let not_found = || HubError::NotFound(format!("session {name:?}"));
        let s = sessions::by_name(self.db(), name)
            .await?
            .ok_or_else(not_found)?;
        v.may_see_session(s.id).map_err(|_| not_found())?;
        Ok(s)
    }

    pub async fn sessions(&self, v: &Viewer) -> Result<Vec<SessionView>, HubError> {
        let all = sessions::list_for(self.db(), v.sessions_filter().as_deref()).await?;
        Ok(all.into_iter().map(|s| self.view(s)).collect())
    }

    /// Starts, stops or logs out a session in WAHA; answers the session with WAHA's word
    /// on its status (the `session.status` event follows).
    pub async fn session_action(
        &self,
        v: &Viewer,
        name: &str,
        action: SessionAction,
    ) -> Result<SessionView, HubError> {
        let mut s = self.session_record(v, name).await?;
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        let waha = &self.services.waha;
        let wants_running = matches!(action, SessionAction::Start);
        self.services
            .writer
            .run(
                (v.clone(), s.id, s.name.clone(), action, wants_running),
                |tx, (v, id, name, action, wants)| {
                    Box::pin(async move {
                        let before = sessions::set_wants_running(tx, *id, *wants).await?;
                        let entry = AuditEntry::new(action.audit_action(), "session", name)
                            .session(*id)
                            .before(json!({"wants_running": before}))
                            .after(json!({"wants_running": *wants}));
                        audit::record(tx, v, &entry).await
                    })
                },
            )
            .await?;
        let asked = self.now_ms();
        let info = match action {
            SessionAction::Start => waha.start(name).await?,
            SessionAction::Stop => waha.stop(name).await?,
            SessionAction::Logout => waha.logout(name).await?,
        };
        self.record(&s, &info, asked).await?;
        s.status = info.status;
        Ok(self.view(s))
    }

    /// The QR code to pair the session. WAHA has one only while the session is in
    /// SCAN_QR_CODE (it answers 422 before): then the hub answers a conflict naming the
    /// session's status, recorded (and pushed as `session.status`) so the app knows when
    /// to ask again.
    pub async fn qr(&self, v: &Viewer, name: &str) -> Result<Qr, HubError> {
        let s = self.session_record(v, name).await?;
        v.may_manage_sessions()
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        let waha = &self.services.waha;
        match waha.qr(name).await {
            Ok(qr) => Ok(qr),
            Err(WahaError::Http { status: 422, .. }) => {
                let asked = self.now_ms();
                let status = match waha.get_session(name).await {
                    Ok(Some(info)) => {
                        self.record(&s, &info, asked).await?;
                        info.status
                    }
                    _ => s.status,
                };
                Err(HubError::Conflict(format!(
                    "the session is {status}: the QR code appears when it reaches SCAN_QR_CODE"
                )))
            }
            Err(e) => Err(e.into()),
        }
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
