//! This node's connected agents and what each may see. Delivery never waits on a socket:
//! each agent has a bounded mailbox, and an agent whose mailbox is full is cut off here
//! and told to close, so one slow client costs a reconnect, never the hub's memory.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use dashmap::DashMap;

use crate::domain::access::EventFilter;
use crate::domain::{EventKind, LoggedEvent};

/// Events for one subscriber, in seq order: a committed batch's, shared by every subscriber
/// that may see all of it, or the part of it this one may see. One message per batch
/// rather than per event: each message is an allocation and a wake-up per subscriber.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver(pub Arc<[Arc<LoggedEvent>]>);

/// Tells an agent's socket to ping its client (and to close if it has been silent): one
/// ticker for the node instead of a timer per socket.
#[derive(Message, Clone, Copy)]
#[rtype(result = "()")]
pub struct Ping;

/// Tells an agent's socket to close: the node is going away.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Goodbye(pub Arc<str>);

struct Subscriber {
    /// What this subscriber may receive, decided once when it subscribed.
    filter: EventFilter,
    recipient: Recipient<Deliver>,
    goodbye: Recipient<Goodbye>,
    /// Sockets are pinged; other subscribers (the router, the board) are not.
    ping: Option<Recipient<Ping>>,
    overflowed: Arc<AtomicBool>,
    /// Events sent and not yet taken (`Subscription::taken`).
    queued: Arc<AtomicUsize>,
    /// How many may be queued before the subscriber is cut off.
    limit: usize,
}

#[derive(Default)]
pub struct Fanout {
    subscribers: DashMap<u64, Subscriber>,
    next_id: AtomicU64,
    /// Agents' sockets alive on this node, subscribed or still closing.
    open_sockets: Arc<AtomicUsize>,
    /// Poked when logged events (with a seq) pass through: readers of the log that would
    /// otherwise poll (the outbound webhook dispatcher) wake on it.
    logged: tokio::sync::Notify,
    /// Told of every event of a kind, whoever may see it: the node's own followers of the
    /// log (the presence keeper follows `presence.updated`), registered at start.
    taps: std::sync::RwLock<Vec<(EventKind, Recipient<Deliver>)>>,
}

/// Counts one agent socket as open until dropped.
pub struct OpenSocket(Arc<AtomicUsize>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Held by an agent; unsubscribes when dropped.
pub struct Subscription {
    id: u64,
    fanout: Arc<Fanout>,
    /// Set when this subscriber fell behind and was cut off.
    pub overflowed: Arc<AtomicBool>,
    queued: Arc<AtomicUsize>,
}

impl Subscription {
    /// Whether this subscriber fell behind and was cut off.
    pub fn cut_off(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// Counts `n` delivered events as taken from the mailbox.
    pub fn taken(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::AcqRel);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.fanout.subscribers.remove(&self.id);
        metrics::gauge!("tickhub_ws_subscribers").set(self.fanout.subscribers.len() as f64);
    }
}

impl Fanout {
    /// Resolves once logged events have passed through since the last time it did (one
    /// waiter: a wake-up that finds nobody waiting is kept for the next).
    pub async fn logged(&self) {
        self.logged.notified().await
    }

    /// Every event of `kind` that passes through this node, in seq order, goes to `to` too
    /// (never cut off: taps follow rare kinds).
    pub fn tap(&self, kind: EventKind, to: Recipient<Deliver>) {
        if let Ok(mut taps) = self.taps.write() {
            taps.push((kind, to));
        }
    }

    /// `limit`: the events that may wait in the subscriber's mailbox before it is cut off.
    pub fn subscribe(
        self: &Arc<Self>,
        filter: EventFilter,
        recipient: Recipient<Deliver>,
        goodbye: Recipient<Goodbye>,
        limit: usize,
    ) -> Subscription {
        self.add(filter, recipient, goodbye, None, limit)
    }

    /// An agent's socket: also pinged by [`Fanout::ping`].
    pub fn subscribe_socket(
        self: &Arc<Self>,
        filter: EventFilter,
        recipient: Recipient<Deliver>,
        goodbye: Recipient<Goodbye>,
        ping: Recipient<Ping>,
        limit: usize,
    ) -> Subscription {
        self.add(filter, recipient, goodbye, Some(ping), limit)
    }

    fn add(
        self: &Arc<Self>,
        filter: EventFilter,
        recipient: Recipient<Deliver>,
        goodbye: Recipient<Goodbye>,
        ping: Option<Recipient<Ping>>,
        limit: usize,
    ) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let overflowed = Arc::new(AtomicBool::new(false));
        let queued = Arc::new(AtomicUsize::new(0));
        self.subscribers.insert(
            id,
            Subscriber {
                filter,
                recipient,
                goodbye,
                ping,
                overflowed: overflowed.clone(),
                queued: queued.clone(),
                limit,
            },
        );
        metrics::gauge!("tickhub_ws_subscribers").set(self.subscribers.len() as f64);
        Subscription {
            id,
            fanout: self.clone(),
            overflowed,
            queued,
        }
    }

    /// Counts an agent's socket until the returned guard is dropped.
    pub fn socket_opened(&self) -> OpenSocket {
        self.open_sockets.fetch_add(1, Ordering::AcqRel);
        OpenSocket(self.open_sockets.clone())
    }

    /// Agents' sockets still open on this node (shutdown waits for none).
    pub fn open_sockets(&self) -> usize {
        self.open_sockets.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.subscribers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
    }

    /// Pings every socket on this node. One whose mailbox is full is behind anyway: it is
    /// skipped, and cut off by the next event if it stays behind.
    pub fn ping(&self) {
        for sub in self.subscribers.iter() {
            if let Some(ping) = &sub.ping {
                let _ = ping.try_send(Ping);
            }
        }
    }

    /// Asks every socket on this node to close (shutdown).
    pub fn close_all(&self, reason: &str) {
        let reason: Arc<str> = reason.into();
        for sub in self.subscribers.iter() {
            sub.goodbye.do_send(Goodbye(reason.clone()));
        }
    }

    /// Asks every socket of `user_id` on this node to close.
    pub fn close_user(&self, user_id: i64, reason: &str) {
        let reason: Arc<str> = reason.into();
        for sub in self.subscribers.iter() {
            if sub.filter.user_id == user_id {
                sub.goodbye.do_send(Goodbye(reason.clone()));
            }
        }
    }

    pub fn deliver(&self, event: Arc<LoggedEvent>) {
        self.deliver_all(vec![event]);
    }

    /// Delivers events in seq order: each subscriber gets those it may see in one message.
    pub fn deliver_all(&self, events: Vec<Arc<LoggedEvent>>) {
        if events.is_empty() {
            return;
        }
        if events.iter().any(|e| e.seq.is_some()) {
            self.logged.notify_one();
        }
        let all: Arc<[Arc<LoggedEvent>]> = events.into();
        if let Ok(taps) = self.taps.read() {
            for (kind, to) in taps.iter() {
                if all.iter().any(|e| e.kind == *kind) {
                    let mine: Arc<[Arc<LoggedEvent>]> =
                        all.iter().filter(|e| e.kind == *kind).cloned().collect();
                    to.do_send(Deliver(mine));
                }
            }
        }
        let mut cut = Vec::new();
        for sub in self.subscribers.iter() {
            let visible = all
                .iter()
                .filter(|e| sub.filter.admits(e.kind, &e.scope))
                .count();
            let mine: Arc<[Arc<LoggedEvent>]> = if visible == all.len() {
                all.clone()
            } else if visible == 0 {
                continue;
            } else {
                all.iter()
                    .filter(|e| sub.filter.admits(e.kind, &e.scope))
                    .cloned()
                    .collect()
            };
            if sub.queued.fetch_add(visible, Ordering::AcqRel) + visible > sub.limit {
                sub.overflowed.store(true, Ordering::Release);
                cut.push((*sub.key(), mine));
                continue;
            }
            match sub.recipient.try_send(Deliver(mine)) {
                Ok(()) => {}
                Err(SendError::Full(Deliver(mine))) => {
                    sub.overflowed.store(true, Ordering::Release);
                    cut.push((*sub.key(), mine));
                }
                Err(SendError::Closed(_)) => cut.push((*sub.key(), all.clone())),
            }
        }
        // Removed after the iteration: a shard lock is held while iterating.
        for (id, mine) in cut {
            if let Some((_, sub)) = self.subscribers.remove(&id) {
                if sub.overflowed.load(Ordering::Acquire) {
                    metrics::counter!("tickhub_ws_slow_disconnects_total").increment(1);
                    // The mailbox may be full, so a message may not get through; the flag
                    // is what the subscriber checks. This wakes it if there is room.
                    let _ = sub.recipient.try_send(Deliver(mine));
                }
            }
        }
        metrics::counter!("tickhub_events_delivered_total").increment(all.len() as u64);
    }
}
