//! Cluster mode: several `tickhub serve` nodes sharing one PostgreSQL database and one
//! Redis. This module holds what a node knows of the others and what it holds:
//!
//! - membership: every node records itself alive in Redis (on Redis's clock) each tick;
//! - the coordinator: one node at a time (a lease) keeps presence, pushes the board's
//!   counts and runs the cluster-wide sweeps;
//! - session ownership: each WhatsApp session has one owning node at a time (a lease per
//!   session, renewed every third of its period). Taking a lease raises the session's
//!   fencing token in the database, and every write of the owner carries that token
//!   (`store::Fence`), so a node that lost a lease — paused, cut off — cannot write.
//!   Free sessions are spread: a node takes one while it holds fewer than its share.
//!
//! What nodes tell each other travels through [`link::Link`]; what each message is, in
//! [`wire`].

pub mod leases;
pub mod link;
pub mod wire;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::{watch, Notify};
use tracing::{info, info_span, warn, Instrument};

use crate::store::{sessions, Db, Fence};
use leases::Renewed;
pub use link::ClusterError;
use link::Link;
use wire::Wire;

/// What a node does when it gains or loses a session (the session registry).
pub trait Owners: Send + Sync {
    fn gained(&self, session_id: i64, token: i64);
    fn lost(&self, session_id: i64);
}

pub struct Cluster {
    pub link: Arc<Link>,
    ttl: Duration,
    db: Db,
    coordinator: watch::Sender<bool>,
    /// Sessions this node owns, with the fencing token it took.
    held: DashMap<i64, i64>,
    alive: Mutex<Vec<String>>,
    owners: OnceLock<Arc<dyn Owners>>,
    /// Wakes the lease loop early (a session was released by a draining node).
    wake: Notify,
    stopping: AtomicBool,
}

/// A snapshot for operators (`GET /api/admin/cluster`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ClusterView {
    /// The node that answered.
    pub node: String,
    /// Nodes alive within a lease period, this one included.
    pub nodes: Vec<String>,
    /// The node that keeps presence and runs the cluster-wide jobs.
    pub coordinator: Option<String>,
    pub sessions: Vec<SessionOwner>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SessionOwner {
    pub name: String,
    /// The owning node (`null`: none right now; its webhooks wait in the inbox).
    pub owner: Option<String>,
}

impl Cluster {
    pub fn new(link: Arc<Link>, db: Db, ttl: Duration) -> Arc<Cluster> {
        Arc::new(Cluster {
            link,
            ttl,
            db,
            coordinator: watch::channel(false).0,
            held: DashMap::new(),
            alive: Mutex::new(Vec::new()),
            owners: OnceLock::new(),
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
        })
    }

    pub fn node(&self) -> &Arc<str> {
        self.link.node()
    }

    /// Whether this node is the coordinator now, and its changes.
    pub fn coordinator(&self) -> watch::Receiver<bool> {
        self.coordinator.subscribe()
    }

    pub fn is_coordinator(&self) -> bool {
        *self.coordinator.borrow()
    }

    /// The fence of a session this node owns (`None`: it does not).
    pub fn fence(&self, session_id: i64) -> Option<Fence> {
        self.held.get(&session_id).map(|t| Fence {
            session_id,
            token: *t,
        })
    }

    /// The node that owns a session, as Redis says now (`None`: nobody).
    pub async fn owner_of(&self, session_id: i64) -> Option<String> {
        if self.held.contains_key(&session_id) {
            return Some(self.node().to_string());
        }
        let mut c = self.link.conn();
        let key = leases::session_key(session_id);
        leases::holders(&mut c, &[key])
            .await
            .ok()
            .and_then(|mut v| v.pop().flatten())
    }

    /// Starts the lease loop; `owners` hears of every session gained or lost.
    pub fn start(self: &Arc<Self>, owners: Arc<dyn Owners>) {
        let _ = self.owners.set(owners);
        let me = self.clone();
        let span = info_span!("cluster", node = %self.node());
        tokio::spawn(
            async move {
                // Ticks are a third of the period apart from start to start, however long
                // one takes (a slow database must not let the leases run out).
                let mut every = tokio::time::interval(me.ttl / 3);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = every.tick() => {}
                        _ = me.wake.notified() => {}
                    }
                    if me.stopping.load(Ordering::Acquire) {
                        break;
                    }
                    me.tick().await;
                }
            }
            .instrument(span),
        );
    }

    /// A session was released elsewhere: look for free sessions now.
    pub fn released(&self) {
        self.wake.notify_one();
    }

    /// Draining (SIGTERM): gives every session and the coordinator's role up at once, and
    /// leaves the membership, so the others take over without waiting for the leases to
    /// run out.
    pub async fn drain(&self) {
        self.stopping.store(true, Ordering::Release);
        let mut c = self.link.conn();
        let node = self.node().to_string();
        let held: Vec<i64> = self.held.iter().map(|e| *e.key()).collect();
        for sid in held {
            self.held.remove(&sid);
            if let Some(o) = self.owners.get() {
                o.lost(sid);
            }
            if let Err(e) = leases::release(&mut c, &leases::session_key(sid), &node).await {
                warn!(session_id = sid, error = %e, "could not release a session; it moves when its lease runs out");
            }
            self.link.publish(
                wire::all_channel(),
                &Wire::Released {
                    from: node.clone(),
                    session_id: sid,
                },
            );
        }
        if self.coordinator.send_replace(false) {
            let _ = leases::release(&mut c, &leases::coordinator_key(), &node).await;
        }
        let _ = leases::heartbeat(&mut c, &node, self.ttl, false).await;
        metrics::gauge!("tickhub_cluster_sessions_owned").set(0.0);
        info!("left the cluster: sessions released");
    }

    async fn tick(&self) {
        let mut c = self.link.conn();
        let node = self.node().to_string();
        let alive = match leases::heartbeat(&mut c, &node, self.ttl, true).await {
            Ok(a) => a,
            Err(e) => {
                // Holding on is safe: anyone who takes a lease meanwhile raises its fence.
                return warn!(error = %e, "Redis unreachable: keeping what this node holds");
            }
        };
        metrics::gauge!("tickhub_cluster_nodes").set(alive.len() as f64);
        *self.alive.lock().unwrap_or_else(|p| p.into_inner()) = alive.clone();
        self.keep_coordinator(&mut c, &node).await;
        self.renew_sessions(&mut c, &node).await;
        self.take_free_sessions(&mut c, &node, alive.len().max(1))
            .await;
        metrics::gauge!("tickhub_cluster_sessions_owned").set(self.held.len() as f64);
    }

    async fn keep_coordinator(&self, c: &mut redis::aio::ConnectionManager, node: &str) {
        let key = leases::coordinator_key();
        let was = self.is_coordinator();
        let is = if was {
            !matches!(
                leases::renew(c, &key, node, self.ttl).await,
                Ok(Renewed::Lost)
            )
        } else {
            leases::acquire(c, &key, node, self.ttl)
                .await
                .unwrap_or(false)
        };
        if is != was {
            info!(coordinator = is, "coordinator role changed");
            self.coordinator.send_replace(is);
        }
        metrics::gauge!("tickhub_cluster_coordinator").set(if is { 1.0 } else { 0.0 });
    }

    async fn renew_sessions(&self, c: &mut redis::aio::ConnectionManager, node: &str) {
        let held: Vec<i64> = self.held.iter().map(|e| *e.key()).collect();
        for sid in held {
            match leases::renew(c, &leases::session_key(sid), node, self.ttl).await {
                Ok(Renewed::Held) => {}
                Ok(Renewed::Retaken) => {
                    info!(session_id = sid, "session lease retaken (Redis lost it)")
                }
                Ok(Renewed::Lost) => {
                    warn!(session_id = sid, "session lease lost to another node");
                    self.lose(sid);
                }
                Err(e) => warn!(session_id = sid, error = %e, "could not renew a session lease"),
            }
        }
    }

    /// This node no longer owns `session_id` (its lease went elsewhere, or a write was
    /// fenced).
    pub fn lose(&self, session_id: i64) {
        if self.held.remove(&session_id).is_some() {
            metrics::counter!("tickhub_cluster_sessions_lost_total").increment(1);
            if let Some(o) = self.owners.get() {
                o.lost(session_id);
            }
        }
    }

    async fn take_free_sessions(
        &self,
        c: &mut redis::aio::ConnectionManager,
        node: &str,
        alive: usize,
    ) {
        let all = match sessions::ids(&self.db).await {
            Ok(ids) => ids,
            Err(e) => return warn!(error = %e, "cannot list sessions to take"),
        };
        let share = all.len().div_ceil(alive);
        let keys: Vec<String> = all.iter().map(|s| leases::session_key(*s)).collect();
        let owners = match leases::holders(c, &keys).await {
            Ok(o) => o,
            Err(e) => return warn!(error = %e, "cannot read session owners"),
        };
        let free: HashSet<i64> = all
            .iter()
            .zip(owners)
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| *s)
            .collect();
        for sid in free {
            if self.held.len() >= share || self.stopping.load(Ordering::Acquire) {
                break;
            }
            let key = leases::session_key(sid);
            match leases::acquire(c, &key, node, self.ttl).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => return warn!(error = %e, "cannot take a session lease"),
            }
            match sessions::take_fence(&self.db, sid).await {
                Ok(token) => {
                    info!(session_id = sid, token, "took a session");
                    metrics::counter!("tickhub_cluster_sessions_taken_total").increment(1);
                    self.held.insert(sid, token);
                    if let Some(o) = self.owners.get() {
                        o.gained(sid, token);
                    }
                }
                Err(e) => {
                    warn!(session_id = sid, error = %e, "cannot raise a session's fence; letting it go");
                    let _ = leases::release(c, &key, node).await;
                }
            }
        }
    }

    /// What an operator sees: nodes, the coordinator, and who owns each session.
    pub async fn view(&self) -> Result<ClusterView, crate::store::StoreError> {
        let all = sessions::list(&self.db).await?;
        let mut c = self.link.conn();
        let keys: Vec<String> = all.iter().map(|s| leases::session_key(s.id)).collect();
        let owners = leases::holders(&mut c, &keys).await.unwrap_or_default();
        let coordinator = leases::holders(&mut c, &[leases::coordinator_key()])
            .await
            .ok()
            .and_then(|mut v| v.pop().flatten());
        Ok(ClusterView {
            node: self.node().to_string(),
            nodes: self.alive.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            coordinator,
            sessions: all
                .into_iter()
                .enumerate()
                .map(|(i, s)| SessionOwner {
                    name: s.name,
                    owner: owners.get(i).cloned().flatten(),
                })
                .collect(),
        })
    }
}
