//! Fan-out of committed events to the agents entitled to them.
//!
//! A [`Bus`] carries events between nodes; every node delivers what arrives to its own
//! connected agents through its [`Fanout`]. The in-process bus ([`local::LocalBus`]) is the
//! single-node case; a Redis bus for clusters implements the same trait and feeds the same
//! fanout from its subscription. Events are at-most-once on the bus: the event log in the
//! database is the truth, and a socket that misses something resumes with `since`.

pub mod fanout;
pub mod local;
pub mod presence;
pub mod redis;
pub mod sequencer;

use std::sync::Arc;

pub use fanout::{Deliver, Fanout, Goodbye, OpenSocket, Ping, Subscription};
pub use presence::{NodeSockets, PresenceLink, PresenceSignal, SignalKind};

use crate::domain::LoggedEvent;

pub trait Bus: Send + Sync + 'static {
    /// Publishes committed events, in seq order, to every node.
    fn publish(&self, events: Vec<LoggedEvent>);
    /// Publishes an event that is not logged (typing): no seq, no replay.
    fn publish_ephemeral(&self, event: LoggedEvent);
    /// This node's subscribers.
    fn fanout(&self) -> &Arc<Fanout>;
    /// Members' presence between nodes (socket counts, activity, status).
    fn presence(&self) -> &dyn PresenceLink;
    /// Closes every socket of `user_id`, on every node (deactivated, access changed): they
    /// reconnect, if they still may, under the new rules.
    fn disconnect_user(&self, user_id: i64, reason: &str) {
        self.fanout().close_user(user_id, reason);
    }
}
