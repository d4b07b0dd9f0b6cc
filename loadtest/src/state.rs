//! What senders and readers share during a run: per-message send instants and answers, per-agent
//! delivery counters, the message-id scheme that ties a frame back to its webhook, and the
//! histogram shape every latency is recorded in.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

use hdrhistogram::Histogram;

use crate::presence::Plan;

/// State shared by senders and readers. Message `i` (warm-up first, then measured) carries the
/// WAHA id `false_<chat>@c.us_<tag:8 hex><i:12 hex>`, so a reader finds its index by parsing the id
/// instead of looking it up in a shared map.
pub struct Run {
    pub tag: u32,
    pub warm: usize,
    pub total: usize,
    pub base: Instant,
    /// nanoseconds since `base` + 1 at which message i was sent; 0 = not sent
    pub sent_ns: Vec<AtomicU64>,
    /// 0 = no answer (yet), 1 = 2xx, 2 = error
    pub status: Vec<AtomicU8>,
    /// POSTs it took (more than 1 with `--retries`)
    pub attempts: Vec<AtomicU8>,
    /// per agent: first deliveries of warm-up and of measured messages (written only by its reader)
    pub counters: Vec<AgentCounter>,
    /// `--presence`: the changes agent 0 makes (empty without it)
    pub presence: Plan,
}

#[repr(align(64))]
#[derive(Default)]
pub struct AgentCounter {
    pub warm: AtomicU64,
    pub measured: AtomicU64,
    /// presence changes matched (agents other than the one making them)
    pub presence: AtomicU64,
}

impl Run {
    /// Nanoseconds since `base`.
    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    pub fn presence_seen(&self) -> u64 {
        self.counters
            .iter()
            .map(|c| c.presence.load(Ordering::Relaxed))
            .sum()
    }

    pub fn index_of(&self, waha_id: &str) -> Option<usize> {
        let b = waha_id.as_bytes();
        if b.len() < 20 {
            return None;
        }
        let tail = &waha_id[b.len() - 20..];
        let tag = u32::from_str_radix(tail.get(..8)?, 16).ok()?;
        let idx = u64::from_str_radix(tail.get(8..)?, 16).ok()? as usize;
        (tag == self.tag && idx < self.total).then_some(idx)
    }

    pub fn sum_counters(&self, measured: bool) -> u64 {
        self.counters
            .iter()
            .map(|c| {
                if measured {
                    c.measured.load(Ordering::Relaxed)
                } else {
                    c.warm.load(Ordering::Relaxed)
                }
            })
            .sum()
    }

    pub fn ok_in(&self, lo: usize, hi: usize) -> u64 {
        self.status[lo..hi]
            .iter()
            .filter(|s| s.load(Ordering::Relaxed) == 1)
            .count() as u64
    }
}

pub fn new_hist() -> Histogram<u64> {
    // microseconds, 1 µs .. 1 h, 3 significant digits
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}
