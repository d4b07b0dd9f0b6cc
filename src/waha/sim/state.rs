//! The simulator's world: sessions with WAHA's status machine, the messages it has seen
//! and sent, injected faults, and the webhooks it owes, shaped by the WAHA release played.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::ids;
use super::version::WahaVersion;
use super::webhooks::{chrono_ms, Deliverer, Retries, Target};
use super::SimOptions;

pub const ME: &str = "15550000000@c.us";

pub struct Session {
    pub name: String,
    pub status: String,
    pub statuses: Vec<(String, i64)>,
    pub config: Value,
    /// Bumped on every transition so a pending "pairing" step of an older start is void.
    pub generation: u64,
}

impl Session {
    pub fn info(&self, engine: &str) -> Value {
        let working = self.status == "WORKING";
        json!({
            "name": self.name,
            "status": self.status,
            "config": self.config,
            "me": if working { json!({"id": ME, "pushName": "Sim Business"}) } else { Value::Null },
            "engine": {"engine": engine},
            "presence": if working { json!("online") } else { Value::Null },
            "timestamps": {"activity": self.statuses.last().map(|s| s.1)},
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub session: String,
    #[serde(rename = "chatId")]
    pub chat_id: String,
    pub text: String,
    pub id: String,
    pub at_ms: i64,
    /// The file of a `sendImage`/`sendFile` (the text is its caption).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<serde_json::Value>,
}

/// Faults for the next sends, each a count that every send it hits takes one from.
#[derive(Default)]
pub struct Faults {
    /// Refused before anything is sent: the customer gets nothing.
    pub send_fail: u32,
    pub send_fail_status: u16,
    /// Sent to the customer, then answered `send_fail_after_status` (500, or a 4xx that
    /// says "failed" for good): the sender cannot tell it went out.
    pub send_fail_after: u32,
    pub send_fail_after_status: u16,
    /// Sent to the customer, then the answer is held for `send_hang_ms` (a timeout).
    pub send_hang: u32,
    pub send_hang_ms: u64,
}

/// What a send that went out answers, by the faults in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterSend {
    Answer,
    /// Answer with this status.
    Fail(u16),
    Hang(Duration),
}

impl Faults {
    /// Takes one from the first fault that hits a send that went out.
    pub fn after_send(&mut self) -> AfterSend {
        if self.send_fail_after > 0 {
            self.send_fail_after -= 1;
            AfterSend::Fail(self.send_fail_after_status)
        } else if self.send_hang > 0 {
            self.send_hang -= 1;
            AfterSend::Hang(Duration::from_millis(self.send_hang_ms))
        } else {
            AfterSend::Answer
        }
    }
}

#[derive(Default)]
pub struct World {
    pub sessions: HashMap<String, Session>,
    /// Messages per session, by serialized id, in arrival order per chat.
    pub messages: HashMap<String, Vec<Value>>,
    pub sent: Vec<Sent>,
    pub faults: Faults,
    /// WAHA's API refuses calls until then (a restart in progress).
    pub down_until: Option<Instant>,
}

pub struct SimState {
    pub opts: SimOptions,
    pub addr: SocketAddr,
    world: Mutex<World>,
    version: Mutex<WahaVersion>,
    /// A booting session goes no further than this status while it is set.
    boot_hold: watch::Sender<Option<String>>,
    pub deliverer: Arc<Deliverer>,
    /// `GET /api/sessions` calls answered (tests see the hub's reconcile loop go round).
    pub session_lists: std::sync::atomic::AtomicU64,
}

impl SimState {
    pub fn new(opts: SimOptions, addr: SocketAddr) -> Arc<SimState> {
        Arc::new(SimState {
            version: Mutex::new(opts.waha_version),
            opts,
            addr,
            world: Mutex::new(World::default()),
            session_lists: std::sync::atomic::AtomicU64::new(0),
            deliverer: Arc::new(Deliverer::new()),
            boot_hold: watch::channel(None).0,
        })
    }

    /// The WAHA release played.
    pub fn version(&self) -> WahaVersion {
        *self.version.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_version(&self, version: WahaVersion) {
        *self.version.lock().unwrap_or_else(|p| p.into_inner()) = version;
    }

    pub fn engine(&self) -> String {
        self.opts
            .engine
            .clone()
            .unwrap_or_else(|| self.version().default_engine().to_string())
    }

    /// WAHA's `WAHAEnvironment`: `GET /api/version`, envelopes' `environment`, 500 bodies.
    pub fn environment(&self) -> Value {
        let engine = self.engine();
        let browser =
            matches!(engine.as_str(), "WEBJS" | "WPP").then_some("/usr/bin/google-chrome-stable");
        json!({"version": self.version().to_string(), "engine": engine, "tier": "CORE", "browser": browser})
    }

    /// Whether WAHA's API is down (a restart's window).
    pub fn is_down(&self) -> bool {
        let mut w = self.world();
        match w.down_until {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                w.down_until = None;
                false
            }
            None => false,
        }
    }

    /// WAHA restarts: Core keeps session config in memory only, so every session comes
    /// back STOPPED with `config: null` and no webhooks to announce it on; pending boot
    /// steps are void. The API is down for `down` first. Returns the sessions' names.
    pub fn restart(&self, down: Duration) -> Vec<String> {
        let now = chrono_ms();
        let mut w = self.world();
        for s in w.sessions.values_mut() {
            s.status = "STOPPED".into();
            s.statuses = vec![("STOPPED".into(), now)];
            s.config = Value::Null;
            s.generation += 1;
        }
        w.down_until = (!down.is_zero()).then(|| Instant::now() + down);
        let mut names: Vec<String> = w.sessions.keys().cloned().collect();
        names.sort();
        names
    }

    /// Holds booting sessions at `status` (`STARTING` or `SCAN_QR_CODE`), or lets them
    /// all go on (`None`).
    pub fn set_boot_hold(&self, status: Option<String>) {
        self.boot_hold.send_replace(status);
    }

    pub fn boot_hold(&self) -> Option<String> {
        self.boot_hold.borrow().clone()
    }

    async fn pass_hold(&self, status: &str) {
        let mut hold = self.boot_hold.subscribe();
        let _ = hold.wait_for(|h| h.as_deref() != Some(status)).await;
    }

    /// The world, locked; never held across an await.
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn targets(&self, session: &str) -> Vec<Target> {
        let mut out = Vec::new();
        if let Some(s) = self.world().sessions.get(session) {
            if let Some(hooks) = s.config.get("webhooks").and_then(Value::as_array) {
                for h in hooks {
                    let Some(url) = h.get("url").and_then(Value::as_str) else {
                        continue;
                    };
                    out.push(Target {
                        url: url.to_string(),
                        events: h
                            .get("events")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter_map(|e| e.as_str().map(str::to_string))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        hmac_key: h
                            .pointer("/hmac/key")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        retries: h
                            .get("retries")
                            .filter(|r| !r.is_null())
                            .and_then(|r| serde_json::from_value::<Retries>(r.clone()).ok())
                            .unwrap_or_default(),
                    });
                }
            }
        }
        // WAHA concatenates the global webhook with the session's (the same URL twice
        // means two deliveries: that is WAHA's behaviour too).
        if let Some(url) = &self.opts.webhook_url {
            out.push(Target {
                url: url.clone(),
                events: vec!["*".into()],
                hmac_key: self
                    .opts
                    .hmac_key
                    .clone()
                    .filter(|_| self.version().global_webhook_options()),
                retries: Retries::default(),
            });
        }
        out
    }

    /// A full WAHA envelope for `event`. Releases before envelope ids have no `id` nor
    /// `timestamp` (an `id` given here is kept all the same) and copy `metadata` from the
    /// session's config, leaving it out when there is none.
    pub fn envelope(
        &self,
        session: &str,
        event: &str,
        payload: Value,
        id: Option<String>,
    ) -> Value {
        let now = chrono_ms();
        let (working, metadata) = self
            .world()
            .sessions
            .get(session)
            .map(|s| (s.status == "WORKING", s.config.get("metadata").cloned()))
            .unwrap_or_default();
        let mut env = json!({
            "event": event,
            "session": session,
            "me": if working { json!({"id": ME, "pushName": "Sim Business"}) } else { Value::Null },
            "payload": payload,
            "engine": self.engine(),
            "environment": self.environment(),
        });
        let recent = self.version().envelope_ids();
        let id = match id {
            Some(id) => Some(id),
            None if recent => Some(ids::event_id(now)),
            None => None,
        };
        if let Some(id) = id {
            env["id"] = json!(id);
        }
        if recent {
            env["timestamp"] = json!(now);
            env["metadata"] = json!({});
        } else if let Some(m) = metadata.filter(|m| !m.is_null()) {
            env["metadata"] = m;
        }
        env
    }

    /// Posts an event to every webhook that wants it, `deliveries` times (WAHA
    /// duplicates); returns the envelope id, if it has one.
    pub fn emit_envelope(
        &self,
        session: &str,
        envelope: &Value,
        deliveries: usize,
    ) -> Option<String> {
        let event = envelope["event"].as_str().unwrap_or_default().to_string();
        let body = bytes::Bytes::from(envelope.to_string());
        let version = self.version();
        for target in self
            .targets(session)
            .into_iter()
            .filter(|t| t.wants(&event))
        {
            for _ in 0..deliveries.max(1) {
                self.deliverer
                    .deliver(target.clone(), body.clone(), version);
            }
        }
        envelope["id"].as_str().map(str::to_string)
    }

    pub fn emit(&self, session: &str, event: &str, payload: Value) -> Option<String> {
        let env = self.envelope(session, event, payload, None);
        self.emit_envelope(session, &env, 1)
    }

    pub fn remember(&self, session: &str, message: Value) {
        self.world()
            .messages
            .entry(session.to_string())
            .or_default()
            .push(message);
    }

    /// Moves a session to `status` and tells the webhooks.
    pub fn set_status(&self, name: &str, status: &str) -> Option<u64> {
        let generation = {
            let mut w = self.world();
            let s = w.sessions.get_mut(name)?;
            s.status = status.to_string();
            s.statuses.push((status.to_string(), chrono_ms()));
            if s.statuses.len() > 3 {
                s.statuses.remove(0);
            }
            s.generation += 1;
            s.generation
        };
        self.emit(name, "session.status", self.status_payload(name, status));
        Some(generation)
    }

    /// `{name, status}`; with the last statuses and their times in newer releases.
    fn status_payload(&self, name: &str, status: &str) -> Value {
        if !self.version().status_history() {
            return json!({"name": name, "status": status});
        }
        let statuses: Vec<Value> = self
            .world()
            .sessions
            .get(name)
            .map(|s| {
                s.statuses
                    .iter()
                    .map(|(st, ts)| json!({"status": st, "timestamp": ts}))
                    .collect()
            })
            .unwrap_or_default();
        json!({"name": name, "status": status, "statuses": statuses, "data": null})
    }

    /// STARTING → SCAN_QR_CODE → WORKING, as if someone scanned the QR code; a boot hold
    /// keeps the session at its status until it is lifted.
    pub fn boot(self: &Arc<Self>, name: &str) {
        let Some(generation) = self.set_status(name, "STARTING") else {
            return;
        };
        let me = self.clone();
        let name = name.to_string();
        let half = Duration::from_millis(me.opts.pair_delay_ms / 2);
        actix_rt::spawn(async move {
            me.pass_hold("STARTING").await;
            tokio::time::sleep(half).await;
            if me.world().sessions.get(&name).map(|s| s.generation) != Some(generation) {
                return;
            }
            let Some(generation) = me.set_status(&name, "SCAN_QR_CODE") else {
                return;
            };
            me.pass_hold("SCAN_QR_CODE").await;
            tokio::time::sleep(half).await;
            if me.world().sessions.get(&name).map(|s| s.generation) == Some(generation) {
                me.set_status(&name, "WORKING");
            }
        });
    }

    /// A customer writes in: `message` and `message.any` (separate envelopes, one payload).
    pub fn inbound(&self, session: &str, payload: Value, events: &[String]) -> Vec<Option<String>> {
        self.remember(session, payload.clone());
        events
            .iter()
            .map(|e| self.emit(session, e, payload.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sim(version: &str) -> Arc<SimState> {
        let opts = SimOptions {
            waha_version: version.parse().expect("version"),
            ..SimOptions::default()
        };
        SimState::new(opts, SocketAddr::from(([127, 0, 0, 1], 3000)))
    }

    fn add(sim: &SimState, name: &str, status: &str, config: Value) {
        sim.world().sessions.insert(
            name.into(),
            Session {
                name: name.into(),
                status: status.into(),
                statuses: vec![(status.into(), 1)],
                config,
                generation: 0,
            },
        );
    }

    fn status_envelope(sim: &SimState, name: &str) -> String {
        let payload = sim.status_payload(name, "WORKING");
        sim.envelope(name, "session.status", payload, None)
            .to_string()
    }

    #[test]
    fn old_envelopes_have_no_id_or_timestamp_and_repeat_byte_for_byte() {
        let old = sim("2024.10.8");
        add(&old, "s", "WORKING", json!({"metadata": {"tenant": "t1"}}));
        let first = status_envelope(&old, "s");
        assert_eq!(first, status_envelope(&old, "s"));
        let env: Value = serde_json::from_str(&first).expect("json");
        assert!(
            env.get("id").is_none() && env.get("timestamp").is_none(),
            "{env}"
        );
        assert_eq!(env["payload"], json!({"name": "s", "status": "WORKING"}));
        assert_eq!(env["metadata"], json!({"tenant": "t1"}));
        assert_eq!(env["engine"], "WEBJS");
        assert_eq!(
            env["environment"],
            json!({"version": "2024.10.8", "engine": "WEBJS", "tier": "CORE", "browser": "/usr/bin/google-chrome-stable"})
        );
        // An id a test asks for is kept, in any release.
        let given = old.envelope("s", "message", json!({}), Some("evt_x".into()));
        assert_eq!(given["id"], "evt_x");
    }

    #[test]
    fn current_envelopes_are_unique_and_carry_the_status_history() {
        let now = sim("2026.7.1");
        add(&now, "s", "WORKING", json!({"metadata": {"tenant": "t1"}}));
        let a: Value = serde_json::from_str(&status_envelope(&now, "s")).expect("json");
        let b: Value = serde_json::from_str(&status_envelope(&now, "s")).expect("json");
        assert!(a["id"].as_str().is_some_and(|id| id.starts_with("evt_")));
        assert_ne!(a["id"], b["id"]);
        assert!(a["timestamp"].is_i64());
        assert_eq!(a["metadata"], json!({}));
        assert_eq!(a["payload"]["statuses"][0]["status"], "WORKING");
        assert_eq!(a["environment"]["version"], "2026.7.1");
        assert_eq!(a["engine"], "GOWS");
    }

    #[test]
    fn a_restart_forgets_every_config_and_is_down_for_a_while() {
        let s = sim("2024.10.8");
        add(
            &s,
            "b",
            "WORKING",
            json!({"webhooks": [{"url": "http://hub"}]}),
        );
        add(&s, "a", "SCAN_QR_CODE", json!({}));
        assert_eq!(s.restart(Duration::from_secs(60)), ["a", "b"]);
        assert!(s.is_down());
        for session in s.world().sessions.values() {
            assert_eq!(session.status, "STOPPED");
            assert_eq!(session.config, Value::Null);
            assert_eq!(session.generation, 1, "a pending boot step is void");
        }
        s.restart(Duration::ZERO);
        assert!(!s.is_down());
    }

    #[test]
    fn faults_after_a_send_hit_in_turn_and_run_out() {
        let mut f = Faults {
            send_fail_after: 1,
            send_fail_after_status: 500,
            send_hang: 2,
            send_hang_ms: 40,
            ..Faults::default()
        };
        let hang = AfterSend::Hang(Duration::from_millis(40));
        let got: Vec<AfterSend> = (0..4).map(|_| f.after_send()).collect();
        assert_eq!(got, [AfterSend::Fail(500), hang, hang, AfterSend::Answer]);
    }
}
