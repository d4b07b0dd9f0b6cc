//! What presence sends between nodes. A member's sockets may be on several nodes; one
//! node keeps the member's presence (decides and logs transitions) from every node's
//! socket count for them. Nodes tell the keeper what happens to the member's sockets. What
//! the keeper decided reaches every node as the logged `presence.updated`, through the
//! event log like any event (each once, in order, also across a Redis outage), so
//! `current` answers the same everywhere.
//!
//! Socket counts travel as each node's absolute count for the member, not as +1/−1, so a
//! lost or repeated signal is corrected by the next one — what an at-most-once bus (Redis
//! pub/sub) needs. Choices are not state the next signal repeats: in a cluster they go
//! through the database, and only a nudge (`Chosen`) travels here. In-process ([`LocalPresenceLink`]) this node keeps everyone.

use std::sync::{Arc, OnceLock};

use actix::prelude::*;

use crate::domain::PresenceStatus;

/// Something about one member, from one node.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct PresenceSignal {
    pub user_id: i64,
    /// The node it comes from.
    pub node: Arc<str>,
    pub kind: SignalKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    /// The node now has this many sockets of the member.
    Sockets(u32),
    /// The member did something on one of the node's sockets.
    Activity,
    /// The member chose a status.
    Set(PresenceStatus),
    /// The member was deactivated: offline now.
    Deactivated,
    /// Cluster mode: a member's choice (or deactivation) was stored; the keeper reads
    /// them (`actors::presence::choices`).
    Chosen,
}

/// Every member with sockets on `node` and how many (a cluster node's periodic snapshot).
/// The keeper takes it as the node's whole truth: members missing from it have no socket
/// there, and a node whose snapshots stop is dead and its sockets with it.
#[derive(Message, Debug, Clone, PartialEq, Eq)]
#[rtype(result = "()")]
pub struct NodeSockets {
    pub node: Arc<str>,
    pub counts: Vec<(i64, u32)>,
}

/// The node-crossing part of presence. A cluster implementation routes `to_keeper` to
/// the node that keeps the member (e.g. by hashing the id over the live nodes) and
/// `to_all` to every node; each node registers its own keeper.
pub trait PresenceLink: Send + Sync + 'static {
    /// This node's presence keeper: signals for the members it keeps arrive here.
    fn register(&self, keeper: Recipient<PresenceSignal>, nodes: Recipient<NodeSockets>);
    /// To the node that keeps `signal.user_id`.
    fn to_keeper(&self, signal: PresenceSignal);
    /// This node's sockets per member, to the keeper (a cluster repeats it every second;
    /// one node has nothing to repeat it to).
    fn snapshot(&self, _node: &Arc<str>, _counts: Vec<(i64, u32)>) {}
}

/// A single node: it keeps every member.
#[derive(Default)]
pub struct LocalPresenceLink {
    keeper: OnceLock<Recipient<PresenceSignal>>,
}

impl LocalPresenceLink {
    fn deliver(&self, signal: PresenceSignal) {
        match self.keeper.get() {
            // `do_send`: never waits and never drops for a full mailbox; presence signals
            // are few (activity is rate-limited where it starts).
            Some(k) => k.do_send(signal),
            None => tracing::debug!(?signal, "no presence keeper yet; signal dropped"),
        }
    }
}

impl PresenceLink for LocalPresenceLink {
    fn register(&self, keeper: Recipient<PresenceSignal>, _nodes: Recipient<NodeSockets>) {
        if self.keeper.set(keeper).is_err() {
            tracing::warn!("a second presence keeper registered on one node; ignored");
        }
    }

    fn to_keeper(&self, signal: PresenceSignal) {
        self.deliver(signal);
    }
}
