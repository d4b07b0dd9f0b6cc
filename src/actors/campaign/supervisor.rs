//! One per node. Every second it looks at the campaigns that may still send: a scheduled
//! one that is due starts (the coordinator's job: one node of a cluster plans it); a
//! running one whose session this node owns gets a runner if it has none. The
//! coordinator also reports each campaign's progress when its counts moved (acks and
//! replies keep moving them after the last send), and every node keeps the set of
//! sessions whose campaigns' replies are still counted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tracing::{info, warn};

use super::runner::{CampaignRunner, RunnerStopped, StopRunner};
use crate::actors::registry::SessionRegistry;
use crate::actors::services::Services;
use crate::domain::campaign::{CampaignStatus, REPLY_WINDOW_MS};
use crate::store::campaigns::{self, CampaignRow, Counts};
use crate::store::{campaign_flow, segments, StoreError};

const TICK: Duration = Duration::from_secs(1);
/// Finished campaigns' acks and replies are reported for this long after they finished.
const REPORT_AFTER_FINISH_MS: i64 = 24 * 3_600_000;
/// How often the sessions with campaigns are read again (ticks).
const SESSIONS_EVERY: u64 = 30;
/// Counting a large campaign's recipients takes time: the next count waits this many
/// times as long as the last one took, so progress reports take at most 0.2 % of a core
/// (a 100,000-recipient campaign's counts move every few seconds, a small one's every
/// second).
const REPORT_COST_FACTOR: u32 = 500;

/// Look now (a campaign was started, resumed, paused or cancelled on this node).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Kick {
    /// A campaign that must stop sending here at once.
    pub stop: Option<i64>,
}

pub struct CampaignSupervisor {
    services: Arc<Services>,
    registry: Arc<SessionRegistry>,
    /// One per (campaign, session) sending here.
    runners: HashMap<(i64, i64), Addr<CampaignRunner>>,
    /// What was last reported of each campaign.
    reported: HashMap<i64, (CampaignStatus, Counts)>,
    ticks: u64,
    looking: bool,
    /// When progress may be counted again.
    next_report: Instant,
}

impl CampaignSupervisor {
    pub fn start(services: Arc<Services>, registry: Arc<SessionRegistry>) -> Addr<Self> {
        let arbiter = services.arbiter();
        CampaignSupervisor::start_in_arbiter(&arbiter, move |_| CampaignSupervisor {
            services,
            registry,
            runners: HashMap::new(),
            reported: HashMap::new(),
            ticks: 0,
            looking: false,
            next_report: Instant::now(),
        })
    }

    fn look(&mut self, ctx: &mut Context<Self>) {
        if self.looking {
            return;
        }
        self.looking = true;
        self.ticks += 1;
        let services = self.services.clone();
        let refresh_sessions = self.ticks % SESSIONS_EVERY == 1;
        let fut = async move {
            let now = services.now_ms();
            let mut live = campaigns::live(&services.db).await?;
            if services.coordinates() {
                let due: Vec<&CampaignRow> = live
                    .iter()
                    .filter(|c| c.status == CampaignStatus::Scheduled)
                    .filter(|c| c.start_at.is_some_and(|at| at <= now))
                    .collect();
                for c in &due {
                    start_due(&services, c).await;
                }
                // Read again only when one started: its status (and plan) changed.
                if !due.is_empty() {
                    live = campaigns::live(&services.db).await?;
                }
            }
            let finished = if services.coordinates() {
                campaigns::finished_since(&services.db, now - REPORT_AFTER_FINISH_MS).await?
            } else {
                Vec::new()
            };
            let sessions = if refresh_sessions {
                Some(campaigns::sessions_with_recent(&services.db, now - REPLY_WINDOW_MS).await?)
            } else {
                None
            };
            Ok::<_, StoreError>((live, finished, sessions))
        }
        .into_actor(self)
        .map(|res, act, ctx| {
            act.looking = false;
            match res {
                Ok((live, finished, sessions)) => {
                    if let Some(ids) = sessions {
                        act.services.campaign_sessions.retain(|s| ids.contains(s));
                        for s in ids {
                            act.services.campaign_sessions.insert(s);
                        }
                    }
                    act.run_live(&live, ctx);
                    if act.services.coordinates() && Instant::now() >= act.next_report {
                        act.report(live, finished, ctx);
                    }
                }
                Err(e) => warn!(error = %e, "could not read the campaigns; looking again soon"),
            }
        });
        ctx.spawn(fut);
    }

    /// A runner for each session, owned by this node, of each running campaign.
    fn run_live(&mut self, live: &[CampaignRow], ctx: &mut Context<Self>) {
        self.runners.retain(|_, a| a.connected());
        for c in live.iter().filter(|c| c.status == CampaignStatus::Running) {
            for session in &c.sessions {
                self.services.campaign_sessions.insert(session.id);
                let key = (c.id, session.id);
                if self.runners.contains_key(&key) || !self.registry.runs_here(session) {
                    continue;
                }
                let runner = CampaignRunner::new(
                    self.services.clone(),
                    self.registry.clone(),
                    c.id,
                    session.clone(),
                    ctx.address().recipient(),
                );
                // On its own thread's turn with the others (it mostly waits).
                let addr = CampaignRunner::start_in_arbiter(&self.services.arbiter(), |_| runner);
                self.runners.insert(key, addr);
            }
        }
    }

    /// `campaign.progress` for each campaign whose status or counts moved since last told.
    fn report(
        &mut self,
        live: Vec<CampaignRow>,
        finished: Vec<(i64, i64)>,
        ctx: &mut Context<Self>,
    ) {
        let mut watch: Vec<(i64, i64, Option<CampaignStatus>)> = live
            .iter()
            .map(|c| (c.id, c.session_id, Some(c.status)))
            .collect();
        watch.extend(finished.into_iter().map(|(id, s)| (id, s, None)));
        if watch.is_empty() {
            self.reported.clear();
            return;
        }
        let services = self.services.clone();
        // Until this count is done, none other starts.
        self.next_report = Instant::now() + Duration::from_secs(3600);
        let fut = async move {
            let started = Instant::now();
            let ids: Vec<i64> = watch.iter().map(|w| w.0).collect();
            let counts = campaigns::counts(&services.db, &ids).await;
            (started.elapsed(), counts.map(|c| (watch, c)))
        }
        .into_actor(self)
        .map(|(took, res), act, _| {
            act.next_report = Instant::now() + TICK.max(took * REPORT_COST_FACTOR);
            let Ok((watch, counts)) = res else { return };
            let mut moved = Vec::new();
            let mut seen = HashMap::new();
            for (id, session_id, status) in watch {
                let c = counts.get(&id).copied().unwrap_or_default();
                let last = act.reported.get(&id).copied();
                // A finished campaign's status is what was last told (it no longer moves).
                let status = status
                    .or(last.map(|l| l.0))
                    .unwrap_or(CampaignStatus::Completed);
                if last != Some((status, c)) {
                    moved.push((id, session_id, status, c));
                }
                seen.insert(id, (status, c));
            }
            act.reported = seen;
            if moved.is_empty() {
                return;
            }
            let writer = act.services.writer.clone();
            actix::spawn(async move {
                let r = writer
                    .run(moved, |tx, moved| {
                        Box::pin(async move {
                            for (id, session_id, status, counts) in moved.iter() {
                                campaign_flow::log_counts(tx, *id, *session_id, *status, counts)
                                    .await?;
                            }
                            Ok(())
                        })
                    })
                    .await;
                if let Err(e) = r {
                    warn!(error = %e, "could not report campaign progress");
                }
            });
        });
        ctx.spawn(fut);
    }
}

/// A scheduled campaign whose time came: planned and running, or back to draft when its
/// audience is gone (`campaign_flow::start_due`).
async fn start_due(services: &Services, c: &CampaignRow) {
    let filter = match c.segment_id {
        Some(sid) => match segments::filter_of(&services.db, sid).await {
            Ok(f) => f.map(|f| f.map_err(|e| e.to_string())),
            Err(e) => return warn!(campaign_id = c.id, error = %e, "could not read the segment"),
        },
        None => None,
    };
    let r = services
        .writer
        .run((c.id, filter), |tx, (id, filter)| {
            Box::pin(campaign_flow::start_due(tx, *id, filter.as_ref()))
        })
        .await;
    match r {
        Ok(Some(row)) if row.status == CampaignStatus::Running => {
            info!(campaign_id = c.id, "scheduled campaign started")
        }
        Ok(Some(row)) => warn!(
            campaign_id = c.id,
            reason = row.pause_reason.as_deref().unwrap_or_default(),
            "a scheduled campaign's audience is gone: back to draft"
        ),
        Ok(None) => {}
        Err(e) => warn!(campaign_id = c.id, error = %e, "could not start a scheduled campaign"),
    }
}

impl Actor for CampaignSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.look(ctx);
        ctx.run_interval(TICK, |act, ctx| act.look(ctx));
    }
}

impl Handler<Kick> for CampaignSupervisor {
    type Result = ();

    fn handle(&mut self, k: Kick, ctx: &mut Self::Context) {
        if let Some(id) = k.stop {
            self.runners.retain(|(campaign, _), a| {
                if *campaign == id {
                    a.do_send(StopRunner);
                }
                *campaign != id
            });
        }
        self.look(ctx);
    }
}

impl Handler<RunnerStopped> for CampaignSupervisor {
    type Result = ();

    fn handle(&mut self, RunnerStopped(key): RunnerStopped, _: &mut Self::Context) {
        if self.runners.get(&key).is_some_and(|a| !a.connected()) {
            self.runners.remove(&key);
        }
    }
}
