//! `--presence N`: agent 0 changes the member's presence N times during the measured phase
//! (busy, online, busy, …, evenly spaced) and every other socket times the matching
//! `presence.updated` frame from the instant the command was written to agent 0's socket.
//!
//! All agents share one login, so every socket is the member's own and a supervisor's: each
//! sees every transition. Changes alternate, so each one is a transition the hub must push,
//! and a socket's k-th matching frame is the k-th change: frames of one socket arrive in seq
//! order, which is the order the changes were made in.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::state::new_hist;
use crate::summary::{q_ms, r2};

/// The status change `k` sets.
pub fn status_of(k: usize) -> &'static str {
    if k.is_multiple_of(2) {
        "busy"
    } else {
        "online"
    }
}

/// The command frame of change `k` (`ref` lets the hub's `ack` or `error` name it).
pub fn command(k: usize) -> String {
    serde_json::json!({
        "type": "presence.set",
        "data": {"status": status_of(k)},
        "ref": format!("presence-{k}"),
    })
    .to_string()
}

/// The command that puts the member back to `online` before the run, so change 0 (busy) is a
/// transition.
pub fn reset_command() -> String {
    serde_json::json!({"type": "presence.set", "data": {"status": "online"}, "ref": "presence-reset"})
        .to_string()
}

/// The changes of a run: when each was written to the socket (ns since the run's base + 1; 0 =
/// not yet).
pub struct Plan {
    pub sent_ns: Vec<AtomicU64>,
}

impl Plan {
    pub fn new(n: usize) -> Self {
        Plan {
            sent_ns: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.sent_ns.len()
    }

    pub fn sent(&self) -> u64 {
        self.sent_ns
            .iter()
            .filter(|s| s.load(Ordering::Relaxed) != 0)
            .count() as u64
    }
}

/// What agent 0's reader is asked to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `online` before the run (not timed)
    Reset,
    /// change k (timed)
    Change(usize),
}

/// Hands change k to agent 0's socket at `start + (k + ½) × seconds / n`: spread evenly over
/// the measured phase, none at its very edges.
pub async fn drive(n: usize, seconds: f64, start: Instant, to_agent: mpsc::UnboundedSender<Cmd>) {
    for k in 0..n {
        let at = start + Duration::from_secs_f64((k as f64 + 0.5) * seconds / n as f64);
        tokio::time::sleep_until(at.into()).await;
        if to_agent.send(Cmd::Change(k)).is_err() {
            return; // agent 0's reader ended: the run is over
        }
    }
}

#[derive(Deserialize)]
pub struct PresenceData<'a> {
    #[serde(borrow)]
    pub status: std::borrow::Cow<'a, str>,
}

/// One reader's side: the next change it waits for and the latencies it saw.
pub struct Matcher {
    next: usize,
    pub lat_us: Histogram<u64>,
    pub matched: u64,
}

impl Default for Matcher {
    fn default() -> Self {
        Matcher {
            next: 0,
            lat_us: new_hist(),
            matched: 0,
        }
    }
}

impl Matcher {
    /// A `presence.updated` with `status` arrived at `arrived_ns` (since the run's base).
    /// Returns whether it matched a change: the latest change of that status sent so far and
    /// not before the one awaited. Changes it passes over stay missing here — a change the
    /// hub dropped makes the next one of the other status no transition at all, so the frame
    /// that finally comes belongs to a later change, not to the old one (which would count
    /// seconds of latency for a change that never arrived). Anything else (a transition the
    /// run did not make, or one before any change was sent) is ignored.
    pub fn on_frame(&mut self, status: &str, arrived_ns: u64, plan: &Plan) -> bool {
        let mut found = None;
        for k in self.next..plan.len() {
            let sent = plan.sent_ns[k].load(Ordering::Acquire);
            if sent == 0 || sent - 1 > arrived_ns {
                break; // changes are sent in order: none after this one either
            }
            if status == status_of(k) {
                found = Some((k, sent));
            }
        }
        let Some((k, sent)) = found else {
            return false;
        };
        self.next = k + 1;
        self.matched += 1;
        let lat_ns = arrived_ns.saturating_sub(sent - 1);
        self.lat_us.saturating_record((lat_ns / 1000).max(1));
        true
    }
}

/// The presence part of the summary line.
#[derive(Serialize)]
pub struct PresenceSummary {
    pub presence_changes: u64,
    pub presence_expected: u64,
    pub presence_seen: u64,
    pub presence_missing: u64,
    pub presence_p50_ms: Option<f64>,
    pub presence_p99_ms: Option<f64>,
    pub presence_max_ms: Option<f64>,
}

impl PresenceSummary {
    /// `observers`: the sockets that time the changes (every agent but the one making them).
    pub fn new(plan: &Plan, observers: u64, lat: &Histogram<u64>, seen: u64) -> Self {
        let changes = plan.sent();
        let expected = changes * observers;
        PresenceSummary {
            presence_changes: changes,
            presence_expected: expected,
            presence_seen: seen,
            presence_missing: expected.saturating_sub(seen),
            presence_p50_ms: q_ms(lat, 0.50),
            presence_p99_ms: q_ms(lat, 0.99),
            presence_max_ms: (!lat.is_empty()).then(|| r2(lat.max() as f64 / 1000.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_alternate_and_match_in_order() {
        let plan = Plan::new(4);
        let mut m = Matcher::default();
        // nothing sent yet: a busy frame is someone else's transition
        assert!(!m.on_frame("busy", 10, &plan));
        plan.sent_ns[0].store(100, Ordering::Release);
        assert!(!m.on_frame("online", 150, &plan));
        assert!(m.on_frame("busy", 2_100, &plan));
        assert_eq!(m.lat_us.max(), 2);
        // change 1 (online) never arrives here; change 2 (busy) does
        plan.sent_ns[1].store(3_000, Ordering::Release);
        plan.sent_ns[2].store(6_000, Ordering::Release);
        assert!(m.on_frame("busy", 9_000, &plan));
        assert_eq!(m.matched, 2);
        assert_eq!(m.lat_us.max(), 3);
        plan.sent_ns[3].store(10_000, Ordering::Release);
        assert!(m.on_frame("online", 12_000, &plan));
        assert!(!m.on_frame("busy", 13_000, &plan));
        assert_eq!(m.matched, 3);
        assert_eq!(plan.sent(), 4);
    }

    #[test]
    fn after_a_run_of_lost_changes_the_frame_belongs_to_the_latest() {
        let plan = Plan::new(8);
        let mut m = Matcher::default();
        for k in 0..8 {
            plan.sent_ns[k].store(1 + k as u64 * 1_000_000, Ordering::Release);
        }
        assert!(m.on_frame("busy", 10_000, &plan)); // change 0
                                                    // changes 1..=5 were lost; change 6 (busy) arrives 2 ms after it was sent, and a
                                                    // frame is never matched to a change sent after it arrived
        assert!(m.on_frame("busy", 6_002_000, &plan));
        assert_eq!(m.lat_us.min(), 2); // µs
        assert_eq!(m.matched, 2);
        assert!(m.on_frame("online", 7_001_000, &plan)); // change 7
        assert_eq!(m.matched, 3);
    }

    #[test]
    fn commands_name_their_status() {
        assert!(command(0).contains(r#""status":"busy""#));
        assert!(command(1).contains(r#""status":"online""#));
    }
}
