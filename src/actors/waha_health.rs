//! What the hub knows of WAHA's health: whether it answers, and whether each session's
//! webhooks are getting through (a WAHA too old to sign them while the hub requires
//! signatures, or webhooks refused for their signature or timestamp). Shown on
//! `GET /api/sessions` and `/readyz`, warned about in the log (refusals at most once a
//! minute per session), counted in /metrics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use dashmap::DashMap;
use tracing::{info, warn};

/// How often the same session's refused webhooks are logged, at most.
const WARN_EVERY_MS: i64 = 60_000;

struct Refusals {
    reason: String,
    last_warned: i64,
}

pub struct WahaHealth {
    /// Session name → why its latest webhook was refused.
    refused: DashMap<String, Refusals>,
    /// A problem of WAHA as a whole (its version), for every session.
    waha: RwLock<Option<String>>,
    reachable: AtomicBool,
}

impl Default for WahaHealth {
    fn default() -> Self {
        WahaHealth {
            refused: DashMap::new(),
            waha: RwLock::new(None),
            // Unknown until the first call; assumed fine so /readyz does not flap at start.
            reachable: AtomicBool::new(true),
        }
    }
}

impl WahaHealth {
    /// Records whether WAHA answered; `true` when it just came back.
    pub fn set_reachable(&self, reachable: bool) -> bool {
        let was = self.reachable.swap(reachable, Ordering::AcqRel);
        metrics::gauge!("tickhub_waha_reachable").set(if reachable { 1.0 } else { 0.0 });
        match (was, reachable) {
            (true, false) => warn!("WAHA is unreachable"),
            (false, true) => info!("WAHA is reachable again"),
            _ => {}
        }
        !was && reachable
    }

    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Acquire)
    }

    /// A webhook (of `session`, when its body names one) was refused for `reason`.
    pub fn refused(&self, session: Option<&str>, reason: &str, now: i64) {
        let Some(session) = session else {
            return;
        };
        let mut entry = self
            .refused
            .entry(session.to_string())
            .or_insert_with(|| Refusals {
                reason: reason.to_string(),
                last_warned: i64::MIN,
            });
        entry.reason = reason.to_string();
        if now.saturating_sub(entry.last_warned) >= WARN_EVERY_MS {
            entry.last_warned = now;
            warn!(session, %reason, "refusing WAHA's webhooks: this session receives no events. \
                If WAHA is older than 2024.11.5 it does not sign webhooks: upgrade WAHA, or unset \
                WAHA_WEBHOOK_HMAC_KEY on a trusted network");
        }
    }

    /// A webhook of `session` got through.
    pub fn accepted(&self, session: &str) {
        if self.refused.contains_key(session) {
            self.refused.remove(session);
        }
    }

    pub fn set_waha_problem(&self, problem: Option<String>) {
        if let Ok(mut w) = self.waha.write() {
            *w = problem;
        }
    }

    /// Why `session` is not receiving events, if it is not.
    pub fn problem(&self, session: &str) -> Option<String> {
        if let Some(p) = self.waha.read().ok().and_then(|w| w.clone()) {
            return Some(p);
        }
        self.refused
            .get(session)
            .map(|r| format!("its webhooks are refused: {}", r.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_show_until_a_webhook_gets_through() {
        let h = WahaHealth::default();
        assert_eq!(h.problem("default"), None);
        h.refused(Some("default"), "missing X-Webhook-Hmac", 0);
        h.refused(None, "invalid JSON", 0);
        assert!(h
            .problem("default")
            .is_some_and(|p| p.contains("missing X-Webhook-Hmac")));
        assert_eq!(h.problem("other"), None);
        h.accepted("default");
        assert_eq!(h.problem("default"), None);
        h.set_waha_problem(Some("WAHA 2024.10.8 does not sign webhooks".into()));
        assert!(h.problem("other").is_some());
    }
}
