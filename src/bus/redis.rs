//! The cluster bus: committed events, typing, presence and disconnections travel between
//! nodes over Redis pub/sub (`cluster::link`). Each node's own events go to its fanout at
//! once; everyone's pass through the node's [`Sequencer`], which delivers them in seq
//! order and reads from the log whatever pub/sub lost.
//!
//! Presence: one node — the coordinator of the moment — keeps every member. Nodes send
//! it their socket signals and, every second, a snapshot of their socket counts; it tells
//! every node each member's status.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix::Recipient;
use tokio::sync::watch;
use tracing::debug;

use super::sequencer::Sequencer;
use super::{Bus, Fanout, NodeSockets, PresenceLink, PresenceSignal, SignalKind};
use crate::cluster::link::Link;
use crate::cluster::wire::{self, Wire, WireEvent, WireSignal};
use crate::domain::LoggedEvent;
use crate::store::{events, Db, StoreError};

pub struct RedisBus {
    link: Arc<Link>,
    fanout: Arc<Fanout>,
    sequencer: Sequencer,
    presence: Arc<RedisPresence>,
}

pub struct RedisPresence {
    link: Arc<Link>,
    coordinator: watch::Receiver<bool>,
    keeper: OnceLock<Recipient<PresenceSignal>>,
    nodes: OnceLock<Recipient<NodeSockets>>,
}

impl RedisBus {
    /// Starts the node's sequencer after the log's current head and takes what the
    /// link's subscription brings.
    pub async fn start(
        link: Arc<Link>,
        db: Db,
        coordinator: watch::Receiver<bool>,
    ) -> Result<Arc<RedisBus>, StoreError> {
        let fanout = Arc::new(Fanout::default());
        let head = events::last_seq(&db).await?;
        let sequencer = Sequencer::start(db, fanout.clone(), head);
        let presence = Arc::new(RedisPresence {
            link: link.clone(),
            coordinator,
            keeper: OnceLock::new(),
            nodes: OnceLock::new(),
        });
        let bus = Arc::new(RedisBus {
            link: link.clone(),
            fanout: fanout.clone(),
            sequencer: sequencer.clone(),
            presence: presence.clone(),
        });
        let me = link.node().clone();
        let resumed = sequencer.clone();
        link.on_resumed(Box::new(move || resumed.check()));
        link.on_bus(Box::new(move |w| {
            receive(&me, &sequencer, &fanout, &presence, w)
        }));
        Ok(bus)
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// What another node said, on this node.
fn receive(me: &str, seq: &Sequencer, fanout: &Fanout, presence: &RedisPresence, w: Wire) {
    match w {
        Wire::Events { from, at, events } if from != me => {
            let lag = (now_ms() - at).max(0) as f64 / 1000.0;
            metrics::histogram!("tickhub_bus_lag_seconds").record(lag);
            seq.events(
                events
                    .into_iter()
                    .filter_map(WireEvent::into_event)
                    .collect(),
            );
        }
        Wire::Ephemeral { from, event } if from != me => {
            if let Some(ev) = event.into_event() {
                fanout.deliver(Arc::new(ev));
            }
        }
        Wire::Disconnect {
            from,
            user_id,
            reason,
        } if from != me => fanout.close_user(user_id, &reason),
        Wire::Signal {
            from,
            user_id,
            signal,
        } => presence.to_local_keeper(PresenceSignal {
            user_id,
            node: from.into(),
            kind: match signal {
                WireSignal::Sockets(n) => SignalKind::Sockets(n),
                WireSignal::Activity => SignalKind::Activity,
                WireSignal::Set(s) => SignalKind::Set(s),
                WireSignal::Deactivated => SignalKind::Deactivated,
                WireSignal::Chosen => SignalKind::Chosen,
            },
        }),
        Wire::Sockets { from, counts } if *presence.coordinator.borrow() => {
            if let Some(n) = presence.nodes.get() {
                n.do_send(NodeSockets {
                    node: from.into(),
                    counts,
                });
            }
        }
        Wire::Sockets { .. } => {}
        _ => {}
    }
}

impl Bus for RedisBus {
    fn publish(&self, events: Vec<LoggedEvent>) {
        let wire = Wire::Events {
            from: self.link.node().to_string(),
            at: now_ms(),
            events: events.iter().map(WireEvent::from).collect(),
        };
        self.link.publish(wire::events_channel(), &wire);
        self.sequencer.events(events);
    }

    fn publish_ephemeral(&self, event: LoggedEvent) {
        self.link.publish(
            wire::all_channel(),
            &Wire::Ephemeral {
                from: self.link.node().to_string(),
                event: WireEvent::from(&event),
            },
        );
        self.fanout.deliver(Arc::new(event));
    }

    fn fanout(&self) -> &Arc<Fanout> {
        &self.fanout
    }

    fn presence(&self) -> &dyn PresenceLink {
        self.presence.as_ref()
    }

    fn disconnect_user(&self, user_id: i64, reason: &str) {
        self.fanout.close_user(user_id, reason);
        self.link.publish(
            wire::all_channel(),
            &Wire::Disconnect {
                from: self.link.node().to_string(),
                user_id,
                reason: reason.to_string(),
            },
        );
    }
}

impl RedisPresence {
    /// Only the coordinator's keeper keeps members; elsewhere keeper signals are not
    /// for this node.
    fn to_local_keeper(&self, signal: PresenceSignal) {
        if !*self.coordinator.borrow() {
            return;
        }
        match self.keeper.get() {
            Some(k) => k.do_send(signal),
            None => debug!("no presence keeper yet; signal dropped"),
        }
    }
}

impl PresenceLink for RedisPresence {
    fn register(&self, keeper: Recipient<PresenceSignal>, nodes: Recipient<NodeSockets>) {
        let _ = self.keeper.set(keeper);
        let _ = self.nodes.set(nodes);
    }

    fn to_keeper(&self, signal: PresenceSignal) {
        // The coordinator keeps its own members without a round trip (and while Redis is
        // away).
        if *self.coordinator.borrow() {
            return self.to_local_keeper(signal);
        }
        let signal_kind = match signal.kind {
            SignalKind::Sockets(n) => WireSignal::Sockets(n),
            SignalKind::Activity => WireSignal::Activity,
            SignalKind::Set(s) => WireSignal::Set(s),
            SignalKind::Deactivated => WireSignal::Deactivated,
            SignalKind::Chosen => WireSignal::Chosen,
        };
        self.link.publish(
            wire::keeper_channel(),
            &Wire::Signal {
                from: signal.node.to_string(),
                user_id: signal.user_id,
                signal: signal_kind,
            },
        );
    }

    fn snapshot(&self, node: &Arc<str>, counts: Vec<(i64, u32)>) {
        if *self.coordinator.borrow() {
            if let Some(n) = self.nodes.get() {
                n.do_send(NodeSockets {
                    node: node.clone(),
                    counts,
                });
            }
            return;
        }
        self.link.publish(
            wire::keeper_channel(),
            &Wire::Sockets {
                from: node.to_string(),
                counts,
            },
        );
    }
}

/// How often each node sends the keeper its socket counts.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);
