//! This node's connected agents and what each may see. Delivery never waits on a socket:
//! each agent has a bounded mailbox, and an agent whose mailbox is full is cut off here
//! and told to close, so one slow client costs a reconnect, never the hub's memory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use dashmap::DashMap;

use crate::domain::access::EventFilter;
use crate::domain::LoggedEvent;

/// An event for one agent's socket.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver(pub Arc<LoggedEvent>);

/// Tells an agent's socket to close: the node is going away.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Goodbye(pub Arc<str>);

struct Subscriber {
    /// What this subscriber may receive, decided once when it subscribed.
    filter: EventFilter,
    recipient: Recipient<Deliver>,
    goodbye: Recipient<Goodbye>,
    overflowed: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Fanout {
    subscribers: DashMap<u64, Subscriber>,
    next_id: AtomicU64,
}

/// Held by an agent; unsubscribes when dropped.
pub struct Subscription {
    id: u64,
    fanout: Arc<Fanout>,
    /// Set when this subscriber fell behind and was cut off.
    pub overflowed: Arc<AtomicBool>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.fanout.subscribers.remove(&self.id);
        metrics::gauge!("tickhub_ws_subscribers").set(self.fanout.subscribers.len() as f64);
    }
}

impl Fanout {
    pub fn subscribe(
        self: &Arc<Self>,
        filter: EventFilter,
        recipient: Recipient<Deliver>,
        goodbye: Recipient<Goodbye>,
    ) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let overflowed = Arc::new(AtomicBool::new(false));
        self.subscribers.insert(
            id,
            Subscriber {
                filter,
                recipient,
                goodbye,
                overflowed: overflowed.clone(),
            },
        );
        metrics::gauge!("tickhub_ws_subscribers").set(self.subscribers.len() as f64);
        Subscription {
            id,
            fanout: self.clone(),
            overflowed,
        }
    }

    pub fn len(&self) -> usize {
        self.subscribers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.subscribers.is_empty()
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
        let mut cut = Vec::new();
        for sub in self.subscribers.iter() {
            if !sub.filter.matches(&event.scope) {
                continue;
            }
            match sub.recipient.try_send(Deliver(event.clone())) {
                Ok(()) => {}
                Err(SendError::Full(_)) => {
                    sub.overflowed.store(true, Ordering::Release);
                    cut.push(*sub.key());
                }
                Err(SendError::Closed(_)) => cut.push(*sub.key()),
            }
        }
        // Removed after the iteration: a shard lock is held while iterating.
        for id in cut {
            if let Some((_, sub)) = self.subscribers.remove(&id) {
                if sub.overflowed.load(Ordering::Acquire) {
                    metrics::counter!("tickhub_ws_slow_disconnects_total").increment(1);
                    // The mailbox is full, so a message may not get through; the flag is
                    // what the agent checks. This wakes it if there is room after all.
                    let _ = sub.recipient.try_send(Deliver(event.clone()));
                }
            }
        }
        metrics::counter!("tickhub_events_delivered_total").increment(1);
    }
}
