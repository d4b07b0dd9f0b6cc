//! The router: assigns waiting conversations to members automatically (the rules are
//! `domain::routing`'s, the transaction scripts `store::routing`'s).
//!
//! One actor per node, reached through the cheap [`Router`] handle in `Services`. Each
//! session's queue is drained strictly first in, first out: the oldest waiting
//! conversation is offered first, through its own conversation actor (one writer per
//! conversation), and when nobody can take it the drain stops there — a later
//! conversation never overtakes it. One drain per session runs at a time; what asks for
//! another meanwhile is remembered and runs after it.
//!
//! A drain starts when a conversation begins to wait ([`Router::route`]: a new unassigned
//! conversation, a handoff) and when someone may have become able to take one
//! ([`Router::changed`]). The router also listens to this node's fanout, like a socket that
//! sees everything, for what changes that: a member coming online, a conversation resolved
//! or taken from someone (load freed), a member's capacity, hours, sessions or activation
//! (`member.updated`); and it sweeps every 30 s for working hours that began. A session
//! whose last drain found nobody stays idle ("blocked") until such a change, so a flood
//! of new conversations with nobody online costs nothing.
//!
//! An agent (or sales member) who goes offline has their open conversations returned to
//! the queue after `TICKHUB_REQUEUE_GRACE_SECS`, unless they come back meanwhile; the
//! queue is then drained to others.
//!
//! In a cluster each session's queue is drained by the node that owns the session, and
//! the coordinator returns offline members' work (docs/routing.md); the row locks of
//! `store::routing` keep capacity right between nodes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use serde::Deserialize;
use tracing::{debug, warn};

use super::error::HubError;
use super::presence::Presence;
use super::registry::SessionRegistry;
use super::services::Services;
use crate::bus::{Deliver, Goodbye, Subscription};
use crate::domain::access::ConversationFilter;
use crate::domain::{ConversationStatus, EventKind, LoggedEvent, PresenceStatus, Role, Viewer};
use crate::store::routing::{self as script, AssignWaiting, PresenceOf, RequeueOffline, Routed};
use crate::store::{conversations, members, StoreError};

/// How often every queue is tried again (working hours that began, anything missed).
const SWEEP: Duration = Duration::from_secs(30);
/// After a drain failed (the database away), when to try again.
const RETRY: Duration = Duration::from_secs(1);
/// Events queued for the router before the fanout would cut it off.
const MAILBOX: usize = 16_384;
/// Events that may wait in the mailbox before the router falls behind and starts over.
const MAILBOX_EVENTS: usize = 4 * MAILBOX;
/// Conversations remembered; beyond, the memory is cleared (a few extra drains).
const MAX_SEEN: usize = 200_000;

/// A conversation now waits in its session's queue.
#[derive(Message, Clone, Copy, Debug)]
#[rtype(result = "()")]
pub struct Route {
    pub session_id: i64,
    pub conversation_id: i64,
}

/// Someone may be able to take a conversation now (`None`: in any session).
#[derive(Message, Clone, Copy, Debug)]
#[rtype(result = "()")]
pub struct Changed(pub Option<i64>);

/// The router, as everyone else calls it: cheap to clone, callable from any thread.
#[derive(Clone, Default)]
pub struct Router {
    addr: Option<Addr<RouterActor>>,
}

static NO_ROUTER: Router = Router { addr: None };

impl Router {
    /// Starts this node's router (on the current arbiter).
    pub fn start(
        services: Arc<Services>,
        registry: Arc<SessionRegistry>,
        presence: Presence,
    ) -> Router {
        let addr = RouterActor {
            services,
            registry,
            presence,
            subscription: None,
            sessions: HashMap::new(),
            seen: HashMap::new(),
            requeues: HashMap::new(),
        }
        .start();
        Router { addr: Some(addr) }
    }

    /// A router that does nothing (before the hub has started one).
    pub(crate) fn none() -> &'static Router {
        &NO_ROUTER
    }

    /// A conversation now waits (a handoff, a new unassigned conversation): drain its
    /// session's queue.
    pub fn route(&self, session_id: i64, conversation_id: i64) {
        if let Some(a) = &self.addr {
            a.do_send(Route {
                session_id,
                conversation_id,
            });
        }
    }

    /// Capacity may have freed up, or someone may have become able to take work, in
    /// `session_id` (`None`: anywhere): drain again.
    pub fn changed(&self, session_id: Option<i64>) {
        if let Some(a) = &self.addr {
            a.do_send(Changed(session_id));
        }
    }
}

/// Why a drain stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Nothing waits.
    Empty,
    /// The head of the queue found nobody to take it.
    Blocked,
    /// The session's automatic assignment is off.
    Off,
}

impl Stop {
    fn as_str(self) -> &'static str {
        match self {
            Stop::Empty => "empty",
            Stop::Blocked => "blocked",
            Stop::Off => "off",
        }
    }
}

/// A session's drains.
#[derive(Debug, Default)]
struct SessionState {
    running: bool,
    /// A conversation began to wait during the running drain.
    again: bool,
    /// Someone may have become able to take work during the running drain.
    again_changed: bool,
    /// The last drain stopped at a head nobody could take (or the session is off), and
    /// nothing has changed since.
    blocked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    status: ConversationStatus,
    assignee: Option<i64>,
}

pub struct RouterActor {
    services: Arc<Services>,
    registry: Arc<SessionRegistry>,
    presence: Presence,
    subscription: Option<Subscription>,
    sessions: HashMap<i64, SessionState>,
    seen: HashMap<i64, Seen>,
    /// Members gone offline whose conversations return to the queue when this fires.
    requeues: HashMap<i64, SpawnHandle>,
}

impl RouterActor {
    fn subscribe(&mut self, ctx: &mut Context<Self>) {
        self.subscription = Some(self.services.bus.fanout().subscribe(
            Viewer::system().events(),
            ctx.address().recipient(),
            ctx.address().recipient(),
            MAILBOX_EVENTS,
        ));
    }

    fn presence_of(&self) -> PresenceOf {
        let p = self.presence.clone();
        Arc::new(move |id| p.current(id))
    }

    /// Drains `session_id` now, or after the running drain; `changed`: someone may have
    /// become able to take work (this lifts a block).
    fn poke(&mut self, session_id: i64, changed: bool, ctx: &mut Context<Self>) {
        // In a cluster a session's queue is drained by the node that owns it.
        if let Some(c) = &self.services.cluster {
            if c.fence(session_id).is_none() {
                return;
            }
        }
        let st = self.sessions.entry(session_id).or_default();
        if changed {
            st.blocked = false;
        }
        if st.running {
            st.again |= !changed;
            st.again_changed |= changed;
            return;
        }
        if st.blocked {
            return;
        }
        st.running = true;
        let (services, registry, presence) = (
            self.services.clone(),
            self.registry.clone(),
            self.presence_of(),
        );
        let work = async move { drain(&services, &registry, presence, session_id).await };
        ctx.spawn(
            work.into_actor(self)
                .map(move |res, act, ctx| act.drained(session_id, res, ctx)),
        );
    }

    fn drained(&mut self, session_id: i64, res: Result<Stop, HubError>, ctx: &mut Context<Self>) {
        let st = self.sessions.entry(session_id).or_default();
        st.running = false;
        let again = std::mem::take(&mut st.again);
        let changed = std::mem::take(&mut st.again_changed);
        if let Ok(stop) = &res {
            metrics::counter!("tickhub_router_drains_total", "stop" => stop.as_str()).increment(1);
        }
        match res {
            Ok(Stop::Blocked | Stop::Off) => {
                // A conversation that began to wait meanwhile is behind the head: it
                // waits too, until something changes.
                st.blocked = true;
                if changed {
                    self.poke(session_id, true, ctx);
                }
            }
            Ok(Stop::Empty) => {
                if again || changed {
                    self.poke(session_id, changed, ctx);
                }
            }
            Err(HubError::Stopped | HubError::Store(StoreError::WriterGone)) => {
                debug!(session_id, "router: the hub is stopping");
            }
            Err(e) => {
                warn!(session_id, error = %e, "router: could not drain the queue; trying again");
                ctx.run_later(RETRY, move |act, ctx| act.poke(session_id, true, ctx));
            }
        }
    }

    /// Every session with a waiting conversation is drained again.
    fn changed_everywhere(&mut self, ctx: &mut Context<Self>) {
        for st in self.sessions.values_mut() {
            st.blocked = false;
        }
        let db = self.services.db.clone();
        ctx.spawn(
            async move { script::sessions_with_queue(&db).await }
                .into_actor(self)
                .map(|res, act, ctx| match res {
                    Ok(ids) => {
                        for id in ids {
                            act.poke(id, true, ctx);
                        }
                    }
                    Err(e) => warn!(error = %e, "router: could not list the queues"),
                }),
        );
    }

    /// A member's presence changed: online may free work for them; offline starts their
    /// grace period, anything else ends it.
    fn presence_changed(&mut self, user_id: i64, status: PresenceStatus, ctx: &mut Context<Self>) {
        if status != PresenceStatus::Offline {
            if let Some(h) = self.requeues.remove(&user_id) {
                ctx.cancel_future(h);
            }
            if status == PresenceStatus::Online {
                self.changed_everywhere(ctx);
            }
            return;
        }
        // One node returns an offline member's work: the coordinator, which keeps presence.
        if self.requeues.contains_key(&user_id) || !self.services.coordinates() {
            return;
        }
        let grace = self.services.config.requeue_grace;
        if grace.is_zero() {
            return self.requeue(user_id, ctx);
        }
        let h = ctx.run_later(grace, move |act, ctx| {
            act.requeues.remove(&user_id);
            act.requeue(user_id, ctx);
        });
        self.requeues.insert(user_id, h);
    }

    /// Returns the open conversations of `user_id` (offline) to the queue, each through
    /// its own actor, then drains the queues they went to.
    fn requeue(&mut self, user_id: i64, ctx: &mut Context<Self>) {
        let (services, registry, presence) = (
            self.services.clone(),
            self.registry.clone(),
            self.presence_of(),
        );
        let work = async move { requeue(&services, &registry, presence, user_id).await };
        ctx.spawn(work.into_actor(self).map(move |res, act, ctx| match res {
            Ok(sessions) => {
                for s in sessions {
                    act.poke(s, true, ctx);
                }
            }
            Err(e) => warn!(user_id, error = %e,
                        "router: could not return an offline member's conversations to the queue"),
        }));
    }

    /// A `conversation.updated`: a conversation that now waits is routed; one taken from
    /// its assignee (resolved, unassigned, handed on) frees their capacity.
    fn conversation_changed(
        &mut self,
        id: i64,
        session_id: i64,
        now: Seen,
        ctx: &mut Context<Self>,
    ) {
        if self.seen.len() >= MAX_SEEN {
            self.seen.clear();
        }
        let before = self.seen.insert(id, now);
        if before == Some(now) {
            return;
        }
        let freed = match before {
            Some(b) => {
                b.assignee.is_some()
                    && b.status != ConversationStatus::Resolved
                    && (now.assignee != b.assignee || now.status == ConversationStatus::Resolved)
            }
            // Unseen before: only a resolve that keeps its assignee can have freed
            // capacity (a resolve keeps the assignee; a conversation resolved with nobody
            // held nobody's: a campaign's new conversation, the bot's own resolve). Taken
            // as freed, each campaign message sent the router over every blocked queue.
            None => now.status == ConversationStatus::Resolved && now.assignee.is_some(),
        };
        if freed {
            return self.changed_everywhere(ctx);
        }
        if now.assignee.is_none() && now.status == ConversationStatus::Pending {
            self.poke(session_id, false, ctx);
        }
    }
}

/// Offers the session's queue, head first, until it is empty or its head finds nobody.
async fn drain(
    services: &Services,
    registry: &SessionRegistry,
    presence: PresenceOf,
    session_id: i64,
) -> Result<Stop, HubError> {
    let db = &services.db;
    // A head that a read pool showed waiting but its actor found taken: read again, a few
    // times at most (the sweep comes back to it).
    let mut stale = 0;
    loop {
        if script::auto_assign(db, session_id).await? != Some(true) {
            return Ok(Stop::Off);
        }
        let Some(head) = script::queue_head(db, session_id).await? else {
            return Ok(Stop::Empty);
        };
        let Some(conv) =
            conversations::get_visible(db, &ConversationFilter::default(), head).await?
        else {
            return Ok(Stop::Empty);
        };
        let job = AssignWaiting {
            conversation_id: head,
            presence: presence.clone(),
        };
        let routed = registry
            .in_conversation(&conv, job, |tx, j| Box::pin(script::assign_waiting(tx, j)))
            .await?;
        match routed {
            Routed::Assigned { assignee, rule, .. } => {
                stale = 0;
                debug!(conversation_id = head, assignee, %rule, "routed");
                metrics::counter!("tickhub_routed_total", "rule" => rule.as_str()).increment(1);
            }
            Routed::NotWaiting if stale < 3 => stale += 1,
            Routed::NotWaiting => return Ok(Stop::Empty),
            Routed::NobodyAvailable => return Ok(Stop::Blocked),
            Routed::Off => return Ok(Stop::Off),
        }
    }
}

/// Returns what `user_id` holds to the queue; answers the sessions it went to. Only an
/// agent's or a sales member's: what a supervisor took stays theirs (their own choice).
async fn requeue(
    services: &Services,
    registry: &SessionRegistry,
    presence: PresenceOf,
    user_id: i64,
) -> Result<Vec<i64>, HubError> {
    let db = &services.db;
    let mut sessions = Vec::new();
    let works_the_queue = members::get(db, user_id)
        .await?
        .is_some_and(|m| matches!(m.role, Role::Agent | Role::Sales));
    if !works_the_queue {
        return Ok(sessions);
    }
    for id in members::open_conversations(db, user_id).await? {
        let Some(conv) = conversations::get_visible(db, &ConversationFilter::default(), id).await?
        else {
            continue;
        };
        let job = RequeueOffline {
            conversation_id: id,
            user_id,
            presence: presence.clone(),
        };
        let done = registry
            .in_conversation(&conv, job, |tx, r| Box::pin(script::requeue_offline(tx, r)))
            .await?;
        if done.is_some() {
            metrics::counter!("tickhub_requeued_total").increment(1);
            if !sessions.contains(&conv.session_id) {
                sessions.push(conv.session_id);
            }
        }
    }
    Ok(sessions)
}

impl Actor for RouterActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.subscribe(ctx);
        ctx.run_interval(SWEEP, |act, ctx| act.changed_everywhere(ctx));
        // What waited when the hub stopped.
        self.changed_everywhere(ctx);
    }
}

impl Handler<Route> for RouterActor {
    type Result = ();

    fn handle(&mut self, r: Route, ctx: &mut Self::Context) {
        debug!(
            session_id = r.session_id,
            conversation_id = r.conversation_id,
            "route"
        );
        self.poke(r.session_id, false, ctx);
    }
}

impl Handler<Changed> for RouterActor {
    type Result = ();

    fn handle(&mut self, Changed(session): Changed, ctx: &mut Self::Context) {
        match session {
            Some(id) => self.poke(id, true, ctx),
            None => self.changed_everywhere(ctx),
        }
    }
}

/// The parts of the frames the router reads.
#[derive(Deserialize)]
struct Frame<T> {
    data: T,
}

#[derive(Deserialize)]
struct ConversationData {
    status: ConversationStatus,
}

#[derive(Deserialize)]
struct PresenceData {
    user_id: i64,
    status: PresenceStatus,
}

impl Handler<Deliver> for RouterActor {
    type Result = ();

    fn handle(&mut self, Deliver(events): Deliver, ctx: &mut Self::Context) {
        let Some(sub) = self.subscription.as_ref() else {
            return;
        };
        if sub.cut_off() {
            // What was missed is unknown: try every queue again.
            warn!("router: fell behind the events; draining every queue again");
            self.subscribe(ctx);
            self.seen.clear();
            return self.changed_everywhere(ctx);
        }
        sub.taken(events.len());
        for ev in events.iter() {
            self.on_event(ev, ctx);
        }
    }
}

impl RouterActor {
    fn on_event(&mut self, ev: &LoggedEvent, ctx: &mut Context<Self>) {
        match ev.kind {
            EventKind::ConversationUpdated => {
                let (Some(id), Some(session)) = (ev.scope.conversation_id, ev.scope.session_id)
                else {
                    return;
                };
                let Ok(f) = serde_json::from_str::<Frame<ConversationData>>(&ev.frame) else {
                    return;
                };
                let now = Seen {
                    status: f.data.status,
                    assignee: ev.scope.assignee_id,
                };
                self.conversation_changed(id, session, now, ctx);
            }
            EventKind::PresenceUpdated => {
                if let Ok(f) = serde_json::from_str::<Frame<PresenceData>>(&ev.frame) {
                    self.presence_changed(f.data.user_id, f.data.status, ctx);
                }
            }
            EventKind::MemberUpdated => self.changed_everywhere(ctx),
            _ => {}
        }
    }
}

impl Handler<Goodbye> for RouterActor {
    type Result = ();

    /// The node is stopping; the router stops with it (its timers too).
    fn handle(&mut self, _: Goodbye, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
