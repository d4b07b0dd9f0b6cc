//! Cluster mode's side of presence: the coordinator's keeper takes members over from the
//! log's statuses when it becomes the keeper, counts every node's sockets from their
//! snapshots (a node whose snapshots stop is dead); members' choices come through the
//! database (`choices`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tracing::warn;

use super::{Keeper, Kept};
use crate::actors::services::Services;
use crate::bus::NodeSockets;
use crate::domain::presence::{Input, MemberPresence};
use crate::domain::PresenceStatus;
use crate::store::presence as log;
use crate::store::StoreError;

/// Cluster mode: a node whose snapshots stopped this long ago is dead, and its sockets
/// with it.
const NODE_SILENT: Duration = Duration::from_secs(3);
/// Cluster mode: how long a keeper that just took over waits for the nodes' snapshots
/// before members with no socket anywhere are offline.
const TAKEOVER_SETTLE: Duration = Duration::from_secs(3);

/// Cluster mode: whether this node's keeper keeps members now (it is the coordinator).
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Role(pub(super) bool);

/// A cluster node starting: what members chose, and every member's status as logged.
#[allow(clippy::type_complexity)]
pub(super) async fn joined(
    services: &Services,
) -> Result<(Vec<(i64, PresenceStatus)>, Vec<(i64, PresenceStatus, i64)>), StoreError> {
    Ok((
        log::choices(&services.db).await?,
        log::current(&services.db).await?,
    ))
}

impl Handler<Role> for Keeper {
    type Result = ();

    fn handle(&mut self, Role(keeping): Role, ctx: &mut Self::Context) {
        if keeping == self.keeping {
            return;
        }
        self.keeping = keeping;
        for (_, m) in self.members.drain() {
            for h in [m.grace, m.idle].into_iter().flatten() {
                ctx.cancel_future(h);
            }
        }
        self.nodes_seen.clear();
        self.inner.present.clear();
        if !keeping {
            return;
        }
        // What the log says, not what this node heard: the previous keeper's `Status`
        // messages travel over pub/sub and may have been lost (Redis restarting is also
        // when the role moves), and the members' choices changed since this node began.
        let services = self.inner.services.clone();
        ctx.wait(async move { joined(&services).await }.into_actor(self).map(
            |res, act, ctx| {
                match res {
                    Ok((choices, current)) => {
                        act.choices = choices.into_iter().collect();
                        for (user_id, status, at) in current {
                            act.inner.set_status(user_id, status, at);
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "presence: taking over with the statuses this node heard")
                    }
                }
                if act.keeping {
                    act.take_over(ctx);
                }
            },
        ));
    }
}

impl Keeper {
    /// Taking over: everyone present stays so while the nodes report their sockets;
    /// whoever has none anywhere when the settling ends is offline.
    fn take_over(&mut self, ctx: &mut Context<Self>) {
        let present: Vec<(i64, PresenceStatus)> = self
            .inner
            .statuses
            .iter()
            .map(|e| (*e.key(), *e.value()))
            .collect();
        for (user_id, status) in present {
            let chosen = self.choices.get(&user_id).copied();
            self.members.insert(
                user_id,
                Kept {
                    state: MemberPresence::taken_over(status, chosen),
                    nodes: HashMap::new(),
                    last_activity: Instant::now(),
                    grace: Some(ctx.run_later(TAKEOVER_SETTLE, move |act, ctx| {
                        if let Some(m) = act.members.get_mut(&user_id) {
                            m.grace = None;
                        }
                        act.step(user_id, Input::GraceExpired, ctx);
                    })),
                    idle: None,
                },
            );
            self.inner.present.insert(user_id);
        }
        self.read_choices(ctx);
    }
}

impl Handler<NodeSockets> for Keeper {
    type Result = ();

    fn handle(&mut self, s: NodeSockets, ctx: &mut Self::Context) {
        if !self.keeping {
            return;
        }
        self.nodes_seen.insert(s.node.clone(), Instant::now());
        self.take_counts(&s.node, s.counts, ctx);
    }
}

impl Keeper {
    /// A node's whole count of sockets per member: members it no longer lists have none
    /// there.
    pub(super) fn take_counts(
        &mut self,
        node: &Arc<str>,
        counts: Vec<(i64, u32)>,
        ctx: &mut Context<Self>,
    ) {
        let listed: HashMap<i64, u32> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
        let mut changed: Vec<i64> = self
            .members
            .iter()
            .filter(|(id, m)| m.nodes.contains_key(node) && !listed.contains_key(id))
            .map(|(id, _)| *id)
            .collect();
        for (user_id, n) in &listed {
            let m = self.member(*user_id);
            if m.nodes.get(node) != Some(n) {
                if m.state.sockets == 0 {
                    m.last_activity = Instant::now();
                }
                changed.push(*user_id);
            }
        }
        for user_id in changed {
            let m = self.member(user_id);
            match listed.get(&user_id) {
                Some(n) => m.nodes.insert(node.clone(), *n),
                None => m.nodes.remove(node),
            };
            let total = m.nodes.values().sum();
            self.step(user_id, Input::Sockets(total), ctx);
        }
    }

    /// Nodes whose snapshots stopped are dead: their members' sockets are gone.
    pub(super) fn bury_silent_nodes(&mut self, ctx: &mut Context<Self>) {
        if !self.keeping {
            return;
        }
        let silent: Vec<Arc<str>> = self
            .nodes_seen
            .iter()
            .filter(|(_, at)| at.elapsed() >= NODE_SILENT)
            .map(|(n, _)| n.clone())
            .collect();
        for node in silent {
            warn!(%node, "a node stopped reporting its sockets; its members' sockets are gone");
            self.nodes_seen.remove(&node);
            self.take_counts(&node, Vec::new(), ctx);
        }
    }
}
