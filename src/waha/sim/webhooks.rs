//! Webhook delivery like WAHA's: one POST per event and webhook, HMAC over the raw body,
//! retries of the identical body on failure, deliveries concurrent (so unordered). What a
//! delivery carries depends on the release played (see `version`): Core before 2024.11.5
//! posts once, unsigned, with no request id or timestamp header.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::watch;

use super::version::WahaVersion;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Retries {
    #[serde(default = "two")]
    pub delay_seconds: f64,
    #[serde(default = "fifteen")]
    pub attempts: u32,
    #[serde(default = "constant")]
    pub policy: String,
}

fn two() -> f64 {
    2.0
}
fn fifteen() -> u32 {
    15
}
fn constant() -> String {
    "constant".into()
}

impl Default for Retries {
    fn default() -> Self {
        Retries {
            delay_seconds: 2.0,
            attempts: 15,
            policy: constant(),
        }
    }
}

impl Retries {
    /// Delay before retry number `n` (1-based), per WAHA's policies.
    fn delay(&self, n: u32) -> Duration {
        let base = self.delay_seconds.max(0.0);
        let secs = match self.policy.as_str() {
            "linear" => base * n as f64,
            "exponential" => {
                let jitter = 1.0 + (rand::random::<f64>() - 0.5) * 0.4;
                base * 2f64.powi(n as i32 - 1) * jitter
            }
            _ => base,
        };
        Duration::from_secs_f64(secs.min(300.0))
    }
}

/// Where a webhook goes.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub events: Vec<String>,
    pub hmac_key: Option<String>,
    pub retries: Retries,
}

impl Target {
    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == "*" || e == event)
    }
}

/// What one delivery sends, by what the release can do.
#[derive(Debug, PartialEq)]
struct Plan {
    attempts: u32,
    /// `X-Webhook-Hmac` (sha512, hex) over the raw body.
    signature: Option<String>,
    /// `X-Webhook-Request-Id` and `X-Webhook-Timestamp`.
    request_headers: bool,
    user_agent: String,
}

impl Plan {
    fn new(target: &Target, version: WahaVersion, body: &[u8]) -> Plan {
        let core = version.core_webhooks();
        Plan {
            attempts: if core {
                target.retries.attempts.max(1)
            } else {
                1
            },
            signature: target
                .hmac_key
                .as_deref()
                .filter(|_| core)
                .map(|k| crate::waha::hmac::sign(k.as_bytes(), body)),
            request_headers: core,
            user_agent: format!("WAHA/{version}"),
        }
    }
}

#[derive(Default)]
pub struct Stats {
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub pending: AtomicU64,
}

pub struct Deliverer {
    http: reqwest::Client,
    pub stats: Stats,
    pause: watch::Sender<bool>,
}

impl Deliverer {
    pub fn new() -> Deliverer {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Deliverer {
            http,
            stats: Stats::default(),
            pause: watch::channel(false).0,
        }
    }

    pub fn set_paused(&self, paused: bool) {
        self.pause.send_replace(paused);
    }

    /// Delivers `body` to `target` in the background as `version` would: retrying per
    /// its policy and signed when that release does.
    pub fn deliver(self: &Arc<Self>, target: Target, body: Bytes, version: WahaVersion) {
        let me = self.clone();
        me.stats.pending.fetch_add(1, Ordering::Relaxed);
        actix_rt::spawn(async move {
            let plan = Plan::new(&target, version, &body);
            let mut paused = me.pause.subscribe();
            for attempt in 1..=plan.attempts {
                // A paused simulator holds deliveries; it loses none.
                let _ = paused.wait_for(|p| !*p).await;
                let mut req = me
                    .http
                    .post(&target.url)
                    .header("Content-Type", "application/json")
                    .header("User-Agent", &plan.user_agent)
                    .body(body.clone());
                if plan.request_headers {
                    req = req
                        .header("X-Webhook-Request-Id", uuid::Uuid::new_v4().to_string())
                        .header("X-Webhook-Timestamp", chrono_ms().to_string());
                }
                if let Some(sig) = &plan.signature {
                    req = req
                        .header("X-Webhook-Hmac", sig)
                        .header("X-Webhook-Hmac-Algorithm", "sha512");
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        me.stats.delivered.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Ok(r) => {
                        tracing::debug!(url = %target.url, status = %r.status(), attempt, "webhook refused")
                    }
                    Err(e) => {
                        tracing::debug!(url = %target.url, error = %e, attempt, "webhook failed")
                    }
                }
                me.stats.failed_attempts.fetch_add(1, Ordering::Relaxed);
                if attempt < plan.attempts {
                    tokio::time::sleep(target.retries.delay(attempt)).await;
                } else {
                    tracing::warn!(url = %target.url, attempts = plan.attempts, "webhook given up");
                }
            }
            me.stats.pending.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

pub fn chrono_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::{Plan, Retries, Target};
    use crate::waha::sim::WahaVersion;
    use std::time::Duration;

    #[test]
    fn old_core_posts_once_unsigned_without_request_headers() {
        let target = Target {
            url: "http://hub/webhooks".into(),
            events: vec!["*".into()],
            hmac_key: Some("k".into()),
            retries: Retries::default(),
        };
        let body = br#"{"event":"message"}"#;
        let old = Plan::new(&target, "2024.10.8".parse().expect("version"), body);
        assert_eq!(
            old,
            Plan {
                attempts: 1,
                signature: None,
                request_headers: false,
                user_agent: "WAHA/2024.10.8".into(),
            }
        );
        let now = Plan::new(&target, WahaVersion::CURRENT, body);
        assert_eq!(now.attempts, 15);
        assert_eq!(
            now.signature.as_deref(),
            Some(crate::waha::hmac::sign(b"k", body).as_str())
        );
        assert!(now.request_headers);
        assert_eq!(now.user_agent, "WAHA/2026.7.1");
    }

    #[test]
    fn retry_policies() {
        let r = |p: &str| Retries {
            delay_seconds: 2.0,
            attempts: 5,
            policy: p.into(),
        };
        assert_eq!(r("constant").delay(3), Duration::from_secs(2));
        assert_eq!(r("linear").delay(3), Duration::from_secs(6));
        let e = r("exponential").delay(3).as_secs_f64();
        assert!((6.4..=9.6).contains(&e), "{e}");
    }
}
