//! Members' presence, bound to their live sockets: the rules are `domain::presence`'s;
//! this actor (the keeper) feeds them, runs their timers (grace period, idle), and logs
//! every transition with its cause through the writer, so each `presence.updated` has a
//! seq and the log says why someone was marked offline.
//!
//! [`Presence`] is the handle sockets and the hub call. Sockets are counted per member on
//! each node and sent to the member's keeper as that node's count (`bus::presence`): all
//! tabs and devices of a member are one presence, on one node or several. In-process this
//! node keeps everyone. In a cluster, members' choices travel through the database
//! (`choices`): unlike counts, a lost one would never be repeated.
//!
//! At start the keeper first logs `hub_restart` → offline for members the log still shows
//! present (their sockets died with the previous process), and reads what members chose
//! (busy, away, offline), which stays until they change it.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix::prelude::*;
use dashmap::mapref::entry::Entry;
use dashmap::{DashMap, DashSet};
use tracing::{debug, warn};

mod choices;
mod cluster;

use choices::Outbox;
use cluster::{joined, Role};

use super::services::Services;
use crate::bus::redis::SNAPSHOT_EVERY;
use crate::bus::{Deliver, PresenceSignal, SignalKind};
use crate::domain::presence::{Choice, Input, MemberPresence, PresenceCause};
use crate::domain::{EventKind, PresenceStatus};
use crate::store::presence::{self as log, Outcome, Transition};
use crate::store::StoreError;

/// After a failed write, when to try logging the transitions again.
const RETRY: Duration = Duration::from_secs(1);
/// Transitions held while the database is away; the oldest go first beyond this.
const MAX_QUEUED: usize = 10_000;
/// A member came back after having had no socket (and no grace period): pushes they may
/// have missed meanwhile are sent again as whole states.
#[derive(Message, Clone, Copy, Debug)]
#[rtype(result = "()")]
pub struct Arrived(pub i64);

/// Members' presence: cheap to clone, callable from any thread.
#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    services: Arc<Services>,
    node: Arc<str>,
    /// This node's sockets per member.
    sockets: DashMap<i64, u32>,
    /// When activity was last passed on per member: at most every `activity_every`.
    activity_sent: DashMap<i64, Instant>,
    activity_every: Duration,
    /// What `current` answers (absent: offline), kept from the keepers' announcements.
    statuses: DashMap<i64, PresenceStatus>,
    /// When each member's present status began (ms), offline included; absent: never seen.
    since: DashMap<i64, i64>,
    /// Members kept here who have a socket or are within their grace period.
    present: DashSet<i64>,
    /// Cluster mode: where this node's members' choices are stored for the keeper.
    outbox: Option<Outbox>,
    arrivals: OnceLock<Recipient<Arrived>>,
}

impl Presence {
    /// Starts this node's keeper (on the current arbiter) and registers it with the bus.
    pub fn start(services: Arc<Services>) -> Presence {
        let idle = services.config.presence_idle;
        let node: Arc<str> = services.config.node_id.as_str().into();
        let outbox = services
            .cluster
            .is_some()
            .then(|| Outbox::start(services.clone(), node.clone()));
        let inner = Arc::new(Inner {
            node,
            sockets: DashMap::new(),
            activity_sent: DashMap::new(),
            // Idle time is measured from the last activity passed on, so it may come this
            // much early; far below any idle time worth configuring.
            activity_every: (idle / 10).min(Duration::from_secs(1)),
            statuses: DashMap::new(),
            since: DashMap::new(),
            present: DashSet::new(),
            outbox,
            arrivals: OnceLock::new(),
            services: services.clone(),
        });
        let keeper = Keeper {
            inner: inner.clone(),
            members: HashMap::new(),
            choices: HashMap::new(),
            queue: Vec::new(),
            writing: false,
            nodes_seen: HashMap::new(),
            keeping: services.cluster.is_none(),
            taken: HashSet::new(),
            released: Vec::new(),
            reading: false,
            read_again: false,
            from_choice: None,
        }
        .start();
        services
            .bus
            .presence()
            .register(keeper.clone().recipient(), keeper.clone().recipient());
        if let Some(cluster) = &services.cluster {
            // Every node follows the keeper's decisions from the log, which reaches it
            // whole and in order (the keeper's own node applies them when decided too).
            services
                .bus
                .fanout()
                .tap(EventKind::PresenceUpdated, keeper.clone().recipient());
            let mut role = cluster.coordinator();
            let to = keeper.clone();
            actix_rt::spawn(async move {
                loop {
                    let keeping = *role.borrow_and_update();
                    to.do_send(Role(keeping));
                    if role.changed().await.is_err() {
                        return;
                    }
                }
            });
            let me = inner.clone();
            actix_rt::spawn(async move {
                let mut every = tokio::time::interval(SNAPSHOT_EVERY);
                loop {
                    every.tick().await;
                    let counts: Vec<(i64, u32)> =
                        me.sockets.iter().map(|e| (*e.key(), *e.value())).collect();
                    me.services.bus.presence().snapshot(&me.node, counts);
                }
            });
        }
        Presence { inner }
    }

    /// A member's presence now (offline for anyone unknown).
    pub fn current(&self, user_id: i64) -> PresenceStatus {
        self.inner
            .statuses
            .get(&user_id)
            .map(|s| *s)
            .unwrap_or(PresenceStatus::Offline)
    }

    /// A member's presence now and when it began (`None`: never seen).
    pub fn current_since(&self, user_id: i64) -> (PresenceStatus, Option<i64>) {
        (
            self.current(user_id),
            self.inner.since.get(&user_id).map(|at| *at),
        )
    }

    /// The member was deactivated: offline now (cause `deactivated`), their choice
    /// forgotten.
    pub fn deactivated(&self, user_id: i64) {
        match &self.inner.outbox {
            Some(o) => drop(o.send(user_id, Choice::Deactivated, self.inner.services.now_ms())),
            None => self.signal(user_id, SignalKind::Deactivated),
        }
    }

    /// The member chose a status (`presence.set`). It is taken in the order of the calls;
    /// in a cluster, what this returns ends once the choice is stored for the keeper.
    pub fn set(&self, user_id: i64, status: PresenceStatus) -> impl Future<Output = ()> {
        let stored = match &self.inner.outbox {
            Some(o) => Some(o.send(user_id, Choice::set(status), self.inner.services.now_ms())),
            None => {
                self.signal(user_id, SignalKind::Set(status));
                None
            }
        };
        async move {
            if let Some(stored) = stored {
                let _ = stored.await;
            }
        }
    }

    /// Has a socket or is within the grace period (members kept by this node).
    pub fn is_present(&self, user_id: i64) -> bool {
        self.inner.present.contains(&user_id)
    }

    pub fn socket_opened(&self, user_id: i64) {
        let mut n = self.inner.sockets.entry(user_id).or_insert(0);
        *n += 1;
        // Sent while the entry is held, so counts leave in the order they were made.
        self.signal(user_id, SignalKind::Sockets(*n));
    }

    pub fn socket_closed(&self, user_id: i64) {
        if let Entry::Occupied(mut e) = self.inner.sockets.entry(user_id) {
            let n = e.get().saturating_sub(1);
            *e.get_mut() = n;
            self.signal(user_id, SignalKind::Sockets(n));
            if n == 0 {
                e.remove();
                self.inner.activity_sent.remove(&user_id);
            }
        }
    }

    /// The member did something on a socket (any command but `ping`).
    pub fn activity(&self, user_id: i64) {
        let now = Instant::now();
        let pass_on = match self.inner.activity_sent.entry(user_id) {
            Entry::Occupied(mut e) => {
                let due = now.duration_since(*e.get()) >= self.inner.activity_every;
                if due {
                    e.insert(now);
                }
                due
            }
            Entry::Vacant(e) => {
                e.insert(now);
                true
            }
        };
        if pass_on {
            self.signal(user_id, SignalKind::Activity);
        }
    }

    /// Where to say that a member arrived (the board and counts).
    pub(crate) fn on_arrival(&self, to: Recipient<Arrived>) {
        if self.inner.arrivals.set(to).is_err() {
            warn!("presence arrivals already go elsewhere");
        }
    }

    fn signal(&self, user_id: i64, kind: SignalKind) {
        self.inner
            .services
            .bus
            .presence()
            .to_keeper(PresenceSignal {
                user_id,
                node: self.inner.node.clone(),
                kind,
            });
    }
}

impl Inner {
    fn set_status(&self, user_id: i64, status: PresenceStatus, at: i64) {
        self.since.insert(user_id, at);
        if status == PresenceStatus::Offline {
            self.statuses.remove(&user_id);
        } else {
            self.statuses.insert(user_id, status);
        }
    }
}

/// One member kept here.
struct Kept {
    state: MemberPresence,
    /// Sockets per node.
    nodes: HashMap<Arc<str>, u32>,
    last_activity: Instant,
    grace: Option<SpawnHandle>,
    idle: Option<SpawnHandle>,
}

struct Keeper {
    inner: Arc<Inner>,
    /// Whether this keeper keeps members: always on a single node; in a cluster, while
    /// its node is the coordinator.
    keeping: bool,
    /// Cluster mode: when each node's last snapshot came.
    nodes_seen: HashMap<Arc<str>, Instant>,
    members: HashMap<i64, Kept>,
    /// Choices read at start, for members not yet seen.
    choices: HashMap<i64, PresenceStatus>,
    /// Transitions to log (and stored choices to take), in order; one writer job at a
    /// time keeps that order.
    queue: Vec<Outcome>,
    writing: bool,
    /// Cluster mode: stored choices applied, until a read after their write (`choices`).
    taken: HashSet<i64>,
    released: Vec<i64>,
    /// Cluster mode: stored choices are being read; read again after (a nudge came).
    reading: bool,
    read_again: bool,
    /// The stored choice being applied (its transition takes it).
    from_choice: Option<i64>,
}

impl Actor for Keeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let services = self.inner.services.clone();
        if services.cluster.is_some() {
            // Other nodes' members are alive: statuses are read, not reset, and the
            // coordinator alone keeps them (see `Role`).
            ctx.wait(
                async move { joined(&services).await }.into_actor(self).map(
                    |res, act, _| match res {
                        Ok((choices, current)) => {
                            act.choices = choices.into_iter().collect();
                            for (user_id, status, at) in current {
                                act.inner.set_status(user_id, status, at);
                            }
                        }
                        Err(e) => warn!(error = %e, "presence: could not read members' statuses"),
                    },
                ),
            );
            ctx.run_interval(SNAPSHOT_EVERY, |act, ctx| {
                act.bury_silent_nodes(ctx);
                act.read_choices(ctx);
            });
            return;
        }
        let node = self.inner.node.to_string();
        // `wait`: no signal is handled before the previous process's members are offline.
        ctx.wait(
            async move { restart(&services, node).await }
                .into_actor(self)
                .map(|res, act, _| match res {
                    Ok((choices, latest)) => {
                        act.choices = choices.into_iter().collect();
                        // Before any signal: what happened before this process began.
                        for (user_id, at) in latest {
                            act.inner.since.entry(user_id).or_insert(at);
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "presence: could not clear the previous run's members")
                    }
                }),
        );
    }
}

/// Members the log shows present are offline now (`hub_restart`); returns what members
/// chose to keep, and when each member's last transition happened.
#[allow(clippy::type_complexity)]
async fn restart(
    services: &Services,
    node: String,
) -> Result<(Vec<(i64, PresenceStatus)>, Vec<(i64, i64)>), StoreError> {
    let choices = log::choices(&services.db).await?;
    let stale = log::not_offline(&services.db).await?;
    if !stale.is_empty() {
        let at = services.now_ms();
        let transitions: Vec<Transition> = stale
            .into_iter()
            .map(|user_id| Transition {
                user_id,
                status: PresenceStatus::Offline,
                cause: PresenceCause::HubRestart,
                at,
            })
            .collect();
        services
            .writer
            .run((node, transitions), |tx, (node, ts)| {
                Box::pin(log::log(tx, node, ts))
            })
            .await?;
    }
    let latest = log::latest(&services.db).await?;
    Ok((choices, latest))
}

impl Handler<PresenceSignal> for Keeper {
    type Result = ();

    fn handle(&mut self, s: PresenceSignal, ctx: &mut Self::Context) {
        let user_id = s.user_id;
        if !self.keeping {
            return;
        }
        let input = match s.kind {
            SignalKind::Chosen => return self.read_choices(ctx),
            SignalKind::Sockets(n) => {
                if self.inner.services.cluster.is_some() {
                    // A node is watched from its first word, snapshot or not.
                    self.nodes_seen
                        .entry(s.node.clone())
                        .or_insert_with(Instant::now);
                }
                let m = self.member(user_id);
                if m.state.sockets == 0 {
                    // Opening the app is activity.
                    m.last_activity = Instant::now();
                }
                if n == 0 {
                    m.nodes.remove(&s.node);
                } else {
                    m.nodes.insert(s.node.clone(), n);
                }
                Input::Sockets(m.nodes.values().sum())
            }
            SignalKind::Activity => {
                self.member(user_id).last_activity = Instant::now();
                Input::Activity
            }
            SignalKind::Set(status) => {
                self.member(user_id).last_activity = Instant::now();
                Input::Set(status)
            }
            SignalKind::Deactivated => Input::Deactivated,
        };
        self.step(user_id, input, ctx);
    }
}

/// `presence.updated` as logged (cluster mode: every node follows the log).
impl Handler<Deliver> for Keeper {
    type Result = ();

    fn handle(&mut self, d: Deliver, _: &mut Self::Context) {
        #[derive(serde::Deserialize)]
        struct Logged {
            data: Transition,
        }
        // A member who does not supervise gets a copy of their own: the supervisors'
        // copy is the one to follow.
        for e in d.0.iter().filter(|e| e.scope.supervisors_only) {
            match serde_json::from_str::<Logged>(e.frame.as_str()) {
                Ok(Logged { data: t }) => {
                    // Other nodes follow the log's order. The keeper applied its own
                    // decisions when it made them: one logged before a later decision
                    // (by its own clock) is not taken back.
                    let later = self.inner.since.get(&t.user_id).is_some_and(|s| *s > t.at);
                    if !(self.keeping && later) {
                        self.inner.set_status(t.user_id, t.status, t.at);
                    }
                }
                Err(err) => {
                    warn!(error = %err, seq = ?e.seq, "presence: an unreadable presence.updated")
                }
            }
        }
    }
}

impl Keeper {
    fn member(&mut self, user_id: i64) -> &mut Kept {
        let choices = &mut self.choices;
        self.members.entry(user_id).or_insert_with(|| Kept {
            state: MemberPresence::new(choices.remove(&user_id)),
            nodes: HashMap::new(),
            last_activity: Instant::now(),
            grace: None,
            idle: None,
        })
    }

    /// Applies an input to a member and carries out what the rules ask.
    fn step(&mut self, user_id: i64, input: Input, ctx: &mut Context<Self>) {
        let grace = self.inner.services.config.presence_grace;
        let m = self.member(user_id);
        let e = m.state.step(input, !grace.is_zero());
        if e.cancel_grace || e.start_grace {
            if let Some(h) = m.grace.take() {
                ctx.cancel_future(h);
            }
        }
        if e.start_grace {
            m.grace = Some(ctx.run_later(grace, move |act, ctx| {
                if let Some(m) = act.members.get_mut(&user_id) {
                    m.grace = None;
                }
                act.step(user_id, Input::GraceExpired, ctx);
            }));
        }
        let present = m.state.present();
        if present {
            self.inner.present.insert(user_id);
        } else {
            self.inner.present.remove(&user_id);
        }
        if let Some((status, cause)) = e.transition {
            self.transition(user_id, status, cause, ctx);
        }
        if e.arrived {
            if let Some(to) = self.inner.arrivals.get() {
                to.do_send(Arrived(user_id));
            }
        }
        self.arm_idle(user_id, ctx);
    }

    fn transition(
        &mut self,
        user_id: i64,
        status: PresenceStatus,
        cause: PresenceCause,
        ctx: &mut Context<Self>,
    ) {
        let at = self.inner.services.now_ms();
        debug!(user_id, %status, %cause, "presence");
        self.inner.set_status(user_id, status, at);
        self.queue.push(Outcome {
            transition: Some(Transition {
                user_id,
                status,
                cause,
                at,
            }),
            choice: self.from_choice.take(),
        });
        self.write(ctx);
    }

    /// While a member is online by the automatic rules, one timer per member checks for
    /// idleness when it would be due (activity only moves the time, not the timer).
    fn arm_idle(&mut self, user_id: i64, ctx: &mut Context<Self>) {
        let idle = self.inner.services.config.presence_idle;
        let Some(m) = self.members.get_mut(&user_id) else {
            return;
        };
        if m.idle.is_some() || !m.state.watching_idle() {
            return;
        }
        let wait = idle.saturating_sub(m.last_activity.elapsed());
        m.idle = Some(ctx.run_later(wait, move |act, ctx| {
            let Some(m) = act.members.get_mut(&user_id) else {
                return;
            };
            m.idle = None;
            if m.state.watching_idle() && m.last_activity.elapsed() >= idle {
                act.step(user_id, Input::Idle, ctx);
            } else {
                act.arm_idle(user_id, ctx);
            }
        }));
    }

    /// Logs the queued transitions in one writer job, one job at a time so they commit
    /// (and get their seqs) in the order they happened.
    fn write(&mut self, ctx: &mut Context<Self>) {
        if self.writing || self.queue.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.queue);
        let again = batch.clone();
        self.writing = true;
        let writer = self.inner.services.writer.clone();
        let node = self.inner.node.to_string();
        let job = async move {
            writer
                .run((node, batch), |tx, (node, outcomes)| {
                    Box::pin(log::log_outcomes(tx, node, outcomes))
                })
                .await
        };
        ctx.spawn(job.into_actor(self).map(move |res, act, ctx| {
            act.writing = false;
            match res {
                Ok(()) => {
                    act.release_choices(&again);
                    act.write(ctx)
                }
                Err(StoreError::WriterGone) => debug!("presence not logged: the hub is stopping"),
                Err(e) => {
                    warn!(error = %e, count = again.len(), "could not log presence; retrying");
                    let mut queue = again;
                    queue.append(&mut act.queue);
                    if queue.len() > MAX_QUEUED {
                        let dropped = queue.len() - MAX_QUEUED;
                        warn!(
                            dropped,
                            "presence transitions dropped while the database is away"
                        );
                        // Their choices stay stored: read again, applied again.
                        let gone: Vec<Outcome> = queue.drain(..dropped).collect();
                        act.release_choices(&gone);
                    }
                    act.queue = queue;
                    ctx.run_later(RETRY, |act, ctx| act.write(ctx));
                }
            }
        }));
    }
}
