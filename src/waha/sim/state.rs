//! The simulator's world: sessions with WAHA's status machine, the messages it has seen
//! and sent, injected faults, and the webhooks it owes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use super::ids;
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
    pub fn info(&self) -> Value {
        let working = self.status == "WORKING";
        json!({
            "name": self.name,
            "status": self.status,
            "config": self.config,
            "me": if working { json!({"id": ME, "pushName": "Sim Business"}) } else { Value::Null },
            "engine": {"engine": "GOWS"},
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
}

/// Faults for the next sends, each a count that every send it hits takes one from.
#[derive(Default)]
pub struct Faults {
    /// Refused before anything is sent: the customer gets nothing.
    pub send_fail: u32,
    pub send_fail_status: u16,
    /// Sent to the customer, then answered 500: the sender cannot tell it went out.
    pub send_fail_after: u32,
    /// Sent to the customer, then the answer is held for `send_hang_ms` (a timeout).
    pub send_hang: u32,
    pub send_hang_ms: u64,
}

/// What a send that went out answers, by the faults in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterSend {
    Answer,
    Fail,
    Hang(Duration),
}

impl Faults {
    /// Takes one from the first fault that hits a send that went out.
    pub fn after_send(&mut self) -> AfterSend {
        if self.send_fail_after > 0 {
            self.send_fail_after -= 1;
            AfterSend::Fail
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
}

pub struct SimState {
    pub opts: SimOptions,
    pub addr: SocketAddr,
    world: Mutex<World>,
    pub deliverer: Arc<Deliverer>,
    /// `GET /api/sessions` calls answered (tests see the hub's reconcile loop go round).
    pub session_lists: std::sync::atomic::AtomicU64,
}

impl SimState {
    pub fn new(opts: SimOptions, addr: SocketAddr) -> Arc<SimState> {
        Arc::new(SimState {
            opts,
            addr,
            world: Mutex::new(World::default()),
            session_lists: std::sync::atomic::AtomicU64::new(0),
            deliverer: Arc::new(Deliverer::new()),
        })
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
                hmac_key: self.opts.hmac_key.clone(),
                retries: Retries::default(),
            });
        }
        out
    }

    /// A full WAHA envelope for `event`.
    pub fn envelope(
        &self,
        session: &str,
        event: &str,
        payload: Value,
        id: Option<String>,
    ) -> Value {
        let now = chrono_ms();
        let working = self
            .world()
            .sessions
            .get(session)
            .is_some_and(|s| s.status == "WORKING");
        json!({
            "id": id.unwrap_or_else(|| ids::event_id(now)),
            "timestamp": now,
            "event": event,
            "session": session,
            "metadata": {},
            "me": if working { json!({"id": ME, "pushName": "Sim Business"}) } else { Value::Null },
            "payload": payload,
            "engine": self.opts.engine,
            "environment": {"version": "2026.7.1", "engine": self.opts.engine, "tier": "CORE", "browser": null},
        })
    }

    /// Posts an event to every webhook that wants it, `deliveries` times (WAHA
    /// duplicates); returns the envelope id.
    pub fn emit_envelope(&self, session: &str, envelope: &Value, deliveries: usize) -> String {
        let event = envelope["event"].as_str().unwrap_or_default().to_string();
        let body = bytes::Bytes::from(envelope.to_string());
        for target in self
            .targets(session)
            .into_iter()
            .filter(|t| t.wants(&event))
        {
            for _ in 0..deliveries.max(1) {
                self.deliverer.deliver(target.clone(), body.clone());
            }
        }
        envelope["id"].as_str().unwrap_or_default().to_string()
    }

    pub fn emit(&self, session: &str, event: &str, payload: Value) -> String {
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
        self.emit(
            name,
            "session.status",
            json!({"name": name, "status": status, "statuses": statuses, "data": null}),
        );
        Some(generation)
    }

    /// STARTING → SCAN_QR_CODE → WORKING, as if someone scanned the QR code.
    pub fn boot(self: &Arc<Self>, name: &str) {
        let Some(generation) = self.set_status(name, "STARTING") else {
            return;
        };
        let me = self.clone();
        let name = name.to_string();
        let half = Duration::from_millis(me.opts.pair_delay_ms / 2);
        actix_rt::spawn(async move {
            tokio::time::sleep(half).await;
            if me.world().sessions.get(&name).map(|s| s.generation) != Some(generation) {
                return;
            }
            let Some(generation) = me.set_status(&name, "SCAN_QR_CODE") else {
                return;
            };
            tokio::time::sleep(half).await;
            if me.world().sessions.get(&name).map(|s| s.generation) == Some(generation) {
                me.set_status(&name, "WORKING");
            }
        });
    }

    /// A customer writes in: `message` and `message.any` (separate envelopes, one payload).
    pub fn inbound(&self, session: &str, payload: Value, events: &[String]) -> Vec<String> {
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

    #[test]
    fn faults_after_a_send_hit_in_turn_and_run_out() {
        let mut f = Faults {
            send_fail_after: 1,
            send_hang: 2,
            send_hang_ms: 40,
            ..Faults::default()
        };
        let hang = AfterSend::Hang(Duration::from_millis(40));
        let got: Vec<AfterSend> = (0..4).map(|_| f.after_send()).collect();
        assert_eq!(got, [AfterSend::Fail, hang, hang, AfterSend::Answer]);
    }
}
