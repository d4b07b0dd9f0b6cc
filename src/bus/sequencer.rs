//! A cluster node's ordered delivery: events reach this node's fanout exactly once each
//! and in seq order, whichever node committed them and however they arrived — from this
//! node's own writer, from Redis, or read back from the log.
//!
//! Seqs are the log's ids, appended under one advisory lock, so when seq N has committed
//! every smaller seq has committed too or never will (a rolled-back batch leaves a hole).
//! An event that arrives ahead of a missing seq waits briefly for it (batches published by
//! two nodes may cross in Redis); past that the gap is read from the log, where a hole is
//! simply not found. A poll of the log's head catches up what Redis never brought (a
//! restart, a lost message), so agents see every event even while Redis is away.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::Fanout;
use crate::domain::LoggedEvent;
use crate::store::{events, Db};

/// How long an event waits for the seqs before it to arrive before they are read from
/// the log.
const REORDER_WAIT: Duration = Duration::from_millis(20);
/// How often the log's head is compared with what was delivered.
const POLL: Duration = Duration::from_millis(500);
/// Events read from the log per query.
const PAGE: i64 = 1000;
/// Events held while the log cannot be read; beyond, the node's sockets are closed so
/// their clients resume with `since` later, and the held events are dropped.
const MAX_HELD: usize = 50_000;

pub enum Input {
    Events(Vec<LoggedEvent>),
    /// Look at the log's head now (Redis reconnected).
    Check,
}

#[derive(Clone)]
pub struct Sequencer {
    tx: mpsc::UnboundedSender<Input>,
}

impl Sequencer {
    /// Starts delivering after the log's current head (`start`).
    pub fn start(db: Db, fanout: Arc<Fanout>, start: i64) -> Sequencer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(db, fanout, start, rx));
        Sequencer { tx }
    }

    pub fn events(&self, events: Vec<LoggedEvent>) {
        let _ = self.tx.send(Input::Events(events));
    }

    pub fn check(&self) {
        let _ = self.tx.send(Input::Check);
    }
}

struct State {
    db: Db,
    fanout: Arc<Fanout>,
    /// Every seq up to here has been delivered (or is a hole).
    last: i64,
    /// Arrived ahead of a gap, by seq.
    ahead: BTreeMap<i64, LoggedEvent>,
    /// When the current gap was first seen.
    gap_since: Option<Instant>,
}

async fn run(db: Db, fanout: Arc<Fanout>, start: i64, mut rx: mpsc::UnboundedReceiver<Input>) {
    let mut s = State {
        db,
        fanout,
        last: start,
        ahead: BTreeMap::new(),
        gap_since: None,
    };
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let wait = s
            .gap_since
            .map(|t| t + REORDER_WAIT)
            .unwrap_or_else(|| Instant::now() + POLL);
        tokio::select! {
            input = rx.recv() => match input {
                Some(Input::Events(evs)) => s.take(evs),
                Some(Input::Check) => s.catch_up(None).await,
                None => return,
            },
            _ = poll.tick() => s.catch_up(None).await,
            _ = tokio::time::sleep_until(wait), if s.gap_since.is_some() => {
                let upto = s.ahead.keys().next().map(|first| first - 1);
                s.catch_up(upto).await;
            }
        }
        metrics::gauge!("tickhub_bus_held_events").set(s.ahead.len() as f64);
    }
}

impl State {
    fn take(&mut self, evs: Vec<LoggedEvent>) {
        for ev in evs {
            match ev.seq {
                // Not logged (typing): nothing to order.
                None => self.fanout.deliver(Arc::new(ev)),
                Some(seq) if seq <= self.last => {}
                Some(seq) => {
                    self.ahead.insert(seq, ev);
                }
            }
        }
        self.flush();
    }

    /// Delivers the run of held events that follows `last`.
    fn flush(&mut self) {
        let mut run = Vec::new();
        while let Some(entry) = self.ahead.first_entry() {
            if *entry.key() != self.last + 1 {
                break;
            }
            run.push(Arc::new(entry.remove()));
            self.last += 1;
        }
        self.fanout.deliver_all(run);
        match (self.ahead.is_empty(), self.gap_since) {
            (true, _) => self.gap_since = None,
            (false, None) => self.gap_since = Some(Instant::now()),
            (false, Some(_)) => {}
        }
    }

    /// Reads from the log what follows `last`, up to `upto` (default: the log's head),
    /// and delivers it with what was held.
    async fn catch_up(&mut self, upto: Option<i64>) {
        let upto = match upto {
            Some(u) => u,
            None => match events::last_seq(&self.db).await {
                Ok(head) => head,
                Err(e) => return self.unreadable(e),
            },
        };
        while self.last < upto {
            let page = match events::range(&self.db, self.last, upto, PAGE).await {
                Ok(p) => p,
                Err(e) => return self.unreadable(e),
            };
            let reached = if (page.len() as i64) < PAGE {
                upto
            } else {
                page.last().and_then(|e| e.seq).unwrap_or(upto)
            };
            if !page.is_empty() {
                debug!(
                    count = page.len(),
                    from = self.last,
                    "events read back from the log"
                );
                metrics::counter!("tickhub_bus_events_read_back_total")
                    .increment(page.len() as u64);
            }
            let mut run = Vec::with_capacity(page.len());
            for ev in page {
                let Some(seq) = ev.seq else { continue };
                self.ahead.remove(&seq);
                self.last = seq;
                run.push(Arc::new(ev));
            }
            self.fanout.deliver_all(run);
            // Holes (rolled-back seqs) are passed over: nothing will ever fill them.
            self.last = self.last.max(reached);
            self.ahead.retain(|seq, _| *seq > reached);
        }
        self.gap_since = None;
        self.flush();
    }

    fn unreadable(&mut self, e: crate::store::StoreError) {
        warn!(error = %e, held = self.ahead.len(), "cannot read the event log to fill a gap");
        if self.ahead.len() > MAX_HELD {
            warn!("too many events held; closing this node's sockets so they resume with since");
            self.fanout
                .close_all("the hub fell behind its event log; reconnect with since");
            if let Some((&last, _)) = self.ahead.last_key_value() {
                self.last = last;
            }
            self.ahead.clear();
            self.gap_since = None;
        } else {
            // Try the log again after the reorder wait, not in a tight loop.
            self.gap_since = Some(Instant::now());
        }
    }
}
