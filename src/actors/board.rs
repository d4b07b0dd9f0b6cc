//! Pushes the supervisors' board (`dashboard.updated`) and each member's counts
//! (`counts.updated`), so neither is ever polled.
//!
//! The watcher listens to this node's fanout like a socket that sees everything, for
//! `conversation.updated` (it remembers each conversation's status and assignee, so only
//! a change of those counts — not every new message), `presence.updated`,
//! `member.updated` and `session.status`. Changes are coalesced (at most one round every
//! `COALESCE`): a round reads one GROUP BY (status × assignee) per changed session, then
//! for each present member compares their counts, and for each present supervisor their
//! board, with what it last sent them, and logs what differs as user-scoped events in one
//! writer job. A member who arrives (first socket after being away) gets their whole
//! counts and board, since pushes are only made for members who are present.
//!
//! In a cluster each node would run this for the members it keeps (`bus::presence`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use serde::Deserialize;
use tracing::{debug, warn};

use super::presence::{Arrived, Presence};
use super::services::Services;
use crate::bus::{Deliver, Goodbye, Subscription};
use crate::domain::analytics::report::Period;
use crate::domain::board::{
    self, Board, BoardInput, Counts, SessionTally, Tallies, TeamMember, Today,
};
use crate::domain::event::encode;
use crate::domain::{ConversationStatus, EventKind, LoggedEvent, Viewer};
use crate::store::board::{self as reads, Push};
use crate::store::{analytics, Db, StoreError};

/// Today's figures (messages, first responses, …) are read again this often while a
/// supervisor is present; a board whose figures changed is pushed.
const TODAY_EVERY: Duration = Duration::from_secs(5);
/// Changes are gathered this long before a round.
const COALESCE: Duration = Duration::from_millis(250);
const RETRY: Duration = Duration::from_secs(1);
/// Conversations remembered; beyond, the memory is cleared (each then counts as changed
/// once more: a few extra reads, never a missed change).
const MAX_SEEN: usize = 200_000;
/// Events queued for the watcher before the fanout would cut it off.
const MAILBOX: usize = 16_384;
/// Events that may wait in the mailbox before the board falls behind and reloads.
const MAILBOX_EVENTS: usize = 4 * MAILBOX;

/// What changed since the last round.
#[derive(Default)]
struct Dirty {
    sessions: HashSet<i64>,
    team: bool,
    names: bool,
    presence: bool,
    arrivals: HashSet<i64>,
    /// Read today's figures again.
    today: bool,
    /// Read everything again (first round, or after being cut off).
    reload: bool,
}

impl Dirty {
    fn is_empty(&self) -> bool {
        self.sessions.is_empty()
            && !self.team
            && !self.names
            && !self.presence
            && self.arrivals.is_empty()
            && !self.today
            && !self.reload
    }

    fn merge(&mut self, o: Dirty) {
        self.sessions.extend(o.sessions);
        self.arrivals.extend(o.arrivals);
        self.team |= o.team;
        self.names |= o.names;
        self.presence |= o.presence;
        self.today |= o.today;
        self.reload |= o.reload;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    status: Option<ConversationStatus>,
    assignee: Option<i64>,
}

struct Snapshot {
    team: Vec<TeamMember>,
    names: Vec<(i64, String)>,
    tallies: Tallies,
    today: Today,
}

pub struct BoardWatcher {
    services: Arc<Services>,
    presence: Presence,
    subscription: Option<Subscription>,
    seen: HashMap<i64, Seen>,
    dirty: Dirty,
    scheduled: Option<SpawnHandle>,
    /// A round is reading or writing; the next waits for it (pushes keep their order).
    busy: bool,
    snapshot: Option<Snapshot>,
    sent_counts: HashMap<i64, Counts>,
    sent_boards: HashMap<i64, Board>,
}

impl BoardWatcher {
    pub fn start(services: Arc<Services>, presence: Presence) -> Addr<BoardWatcher> {
        BoardWatcher {
            services,
            presence,
            subscription: None,
            seen: HashMap::new(),
            dirty: Dirty::default(),
            scheduled: None,
            busy: false,
            snapshot: None,
            sent_counts: HashMap::new(),
            sent_boards: HashMap::new(),
        }
        .start()
    }

    fn subscribe(&mut self, ctx: &mut Context<Self>) {
        self.subscription = Some(self.services.bus.fanout().subscribe(
            Viewer::system().events(),
            ctx.address().recipient(),
            ctx.address().recipient(),
            MAILBOX_EVENTS,
        ));
    }

    fn schedule(&mut self, ctx: &mut Context<Self>) {
        if self.scheduled.is_none() {
            self.scheduled = Some(ctx.run_later(COALESCE, |act, ctx| {
                act.scheduled = None;
                act.round(ctx);
            }));
        }
    }

    fn round(&mut self, ctx: &mut Context<Self>) {
        if self.busy || self.dirty.is_empty() {
            return;
        }
        // In a cluster the coordinator pushes (it keeps presence, so it knows who is
        // present); the others keep what changed, and read everything afresh should they
        // become the coordinator.
        if !self.services.coordinates() {
            self.snapshot = None;
            self.sent_counts.clear();
            self.sent_boards.clear();
            return;
        }
        let dirty = std::mem::take(&mut self.dirty);
        self.busy = true;
        let all = dirty.reload || self.snapshot.is_none();
        let reads = Reads {
            team: all || dirty.team,
            names: all || dirty.names,
            all,
            sessions: dirty.sessions.iter().copied().collect(),
            // Names change with a session's status, which today's figures carry.
            today: (all || dirty.today || dirty.names)
                .then(|| Period::today(self.services.config.time_zone, self.services.now_ms())),
        };
        let db = self.services.db.clone();
        ctx.spawn(async move { read(&db, reads).await }.into_actor(self).map(
            move |res, act, ctx| match res {
                Ok(fresh) => act.apply(fresh, dirty, ctx),
                Err(e) => {
                    warn!(error = %e, "board: could not read; trying again");
                    act.dirty.merge(dirty);
                    act.retry(ctx);
                }
            },
        ));
    }

    fn retry(&mut self, ctx: &mut Context<Self>) {
        self.busy = false;
        ctx.run_later(RETRY, |act, ctx| act.round(ctx));
    }

    fn done(&mut self, ctx: &mut Context<Self>) {
        self.busy = false;
        if !self.dirty.is_empty() {
            self.schedule(ctx);
        }
    }

    /// Takes in what was read, works out each present member's pushes, and logs them.
    fn apply(&mut self, fresh: Fresh, dirty: Dirty, ctx: &mut Context<Self>) {
        let snap = match (self.snapshot.take(), fresh.team, fresh.names, fresh.all) {
            (_, Some(team), Some(names), Some(tallies)) => Snapshot {
                team,
                names,
                tallies,
                today: fresh.today.unwrap_or_default(),
            },
            (Some(mut s), team, names, _) => {
                if let Some(t) = team {
                    s.team = t;
                }
                if let Some(n) = names {
                    s.names = n;
                }
                if let Some(t) = fresh.today {
                    s.today = t;
                }
                s
            }
            // Only after a reload, which reads everything.
            (None, ..) => return self.done(ctx),
        };
        let mut snap = snap;
        for (id, t) in fresh.sessions {
            snap.tallies.insert(id, t);
        }
        let presence = self.presence.clone();
        // Those who left get everything when they come back.
        self.sent_counts.retain(|id, _| presence.is_present(*id));
        self.sent_boards.retain(|id, _| presence.is_present(*id));
        let input = BoardInput {
            team: &snap.team,
            sessions: &snap.names,
            tallies: &snap.tallies,
            today: &snap.today,
            now_ms: self.services.now_ms(),
        };
        let everyone = dirty.reload || dirty.team;
        let mut pushes = Vec::new();
        for m in snap.team.iter().filter(|m| presence.is_present(m.id)) {
            let arrived = dirty.arrivals.contains(&m.id);
            let viewer = m.viewer();
            let touched = arrived
                || everyone
                || !self.sent_counts.contains_key(&m.id)
                || dirty.sessions.iter().any(|s| viewer.may_access_session(*s));
            if touched {
                if let Some(c) = board::counts(&viewer, input.tallies) {
                    if arrived || self.sent_counts.get(&m.id) != Some(&c) {
                        push(&mut pushes, EventKind::CountsUpdated, m.id, &c);
                        self.sent_counts.insert(m.id, c);
                    }
                }
            }
            if m.role.supervises() {
                let b = board::board(&viewer, &input, |id| presence.current_since(id));
                let before = if arrived {
                    None
                } else {
                    self.sent_boards.get(&m.id)
                };
                if let Some(u) = board::changes(before, &b) {
                    push(&mut pushes, EventKind::DashboardUpdated, m.id, &u);
                }
                self.sent_boards.insert(m.id, b);
            }
        }
        self.snapshot = Some(snap);
        if pushes.is_empty() {
            return self.done(ctx);
        }
        let writer = self.services.writer.clone();
        let job = async move {
            writer
                .run(pushes, |tx, p| Box::pin(reads::log_pushes(tx, p)))
                .await
        };
        ctx.spawn(job.into_actor(self).map(|res, act, ctx| match res {
            Ok(()) => act.done(ctx),
            Err(StoreError::WriterGone) => debug!("board: the hub is stopping"),
            Err(e) => {
                warn!(error = %e, "board: could not log pushes; sending everything again");
                // What the members hold is unknown now: the next round sends it all.
                act.sent_counts.clear();
                act.sent_boards.clear();
                act.dirty.reload = true;
                act.retry(ctx);
            }
        }));
    }
}

fn push<T: serde::Serialize>(pushes: &mut Vec<Push>, kind: EventKind, user_id: i64, data: &T) {
    match encode(data) {
        Ok(data) => pushes.push(Push {
            kind,
            user_id,
            data,
        }),
        Err(e) => warn!(error = %e, %kind, "could not encode a push"),
    }
}

struct Reads {
    team: bool,
    names: bool,
    all: bool,
    sessions: Vec<i64>,
    today: Option<Period>,
}

struct Fresh {
    team: Option<Vec<TeamMember>>,
    names: Option<Vec<(i64, String)>>,
    all: Option<Tallies>,
    sessions: Vec<(i64, SessionTally)>,
    today: Option<Today>,
}

async fn read(db: &Db, r: Reads) -> Result<Fresh, StoreError> {
    let team = match r.team {
        true => Some(reads::team(db).await?),
        false => None,
    };
    let names = match r.names {
        true => Some(reads::session_names(db).await?),
        false => None,
    };
    let all = match r.all {
        true => Some(board::tallies(&reads::tally_rows(db, None).await?)),
        false => None,
    };
    let mut sessions = Vec::new();
    if !r.all {
        for id in r.sessions {
            let mut t = board::tallies(&reads::session_tally(db, id).await?);
            sessions.push((id, t.remove(&id).unwrap_or_default()));
        }
    }
    let today = match r.today {
        Some(p) => Some(analytics::reports::today(db, &p).await?),
        None => None,
    };
    Ok(Fresh {
        team,
        names,
        all,
        sessions,
        today,
    })
}

impl Actor for BoardWatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
        self.subscribe(ctx);
        self.presence.on_arrival(ctx.address().recipient());
        ctx.run_interval(TODAY_EVERY, |act, ctx| {
            let supervisor_present = act.snapshot.as_ref().is_some_and(|s| {
                s.team
                    .iter()
                    .any(|m| m.role.supervises() && act.presence.is_present(m.id))
            });
            if supervisor_present {
                act.dirty.today = true;
                act.schedule(ctx);
            }
        });
    }
}

/// The part of a `conversation.updated` frame the watcher reads.
#[derive(Deserialize)]
struct Frame {
    data: FrameData,
}

#[derive(Deserialize)]
struct FrameData {
    status: ConversationStatus,
}

impl Handler<Deliver> for BoardWatcher {
    type Result = ();

    fn handle(&mut self, Deliver(events): Deliver, ctx: &mut Self::Context) {
        let Some(sub) = self.subscription.as_ref() else {
            return;
        };
        if sub.cut_off() {
            // What was missed is unknown: read everything again.
            warn!("board: fell behind the events; reading everything again");
            self.subscribe(ctx);
            self.seen.clear();
            self.dirty.reload = true;
            return self.schedule(ctx);
        }
        sub.taken(events.len());
        let mut changed = false;
        for ev in events.iter() {
            changed |= self.on_event(ev);
        }
        if changed {
            self.schedule(ctx);
        }
    }
}

impl BoardWatcher {
    /// Notes what `ev` makes stale; whether anything is.
    fn on_event(&mut self, ev: &LoggedEvent) -> bool {
        match ev.kind {
            EventKind::ConversationUpdated => {
                let (Some(id), Some(session)) = (ev.scope.conversation_id, ev.scope.session_id)
                else {
                    return false;
                };
                let now = Seen {
                    status: serde_json::from_str::<Frame>(&ev.frame)
                        .ok()
                        .map(|f| f.data.status),
                    assignee: ev.scope.assignee_id,
                };
                if self.seen.get(&id) == Some(&now) {
                    return false;
                }
                if self.seen.len() >= MAX_SEEN {
                    self.seen.clear();
                }
                self.seen.insert(id, now);
                self.dirty.sessions.insert(session);
            }
            EventKind::PresenceUpdated => self.dirty.presence = true,
            EventKind::MemberUpdated => self.dirty.team = true,
            EventKind::SessionStatus => self.dirty.names = true,
            _ => return false,
        }
        true
    }
}

impl Handler<Arrived> for BoardWatcher {
    type Result = ();

    fn handle(&mut self, Arrived(user_id): Arrived, ctx: &mut Self::Context) {
        self.dirty.arrivals.insert(user_id);
        self.schedule(ctx);
    }
}

impl Handler<Goodbye> for BoardWatcher {
    type Result = ();

    /// The node is stopping; the watcher stops with it.
    fn handle(&mut self, _: Goodbye, _: &mut Self::Context) {}
}
