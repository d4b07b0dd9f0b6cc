//! The actor that sends one session's share of a campaign (a campaign over several
//! sessions has one runner per session, each on the node that owns its session): one
//! recipient at a time, each queued in its conversation's turn (message, outbox row and
//! the recipient's state in one transaction), at the campaign's randomised pace, so each
//! session keeps its own pace and two sessions send about twice as fast. The session's
//! queue sends what it queued, after any member's or bot's reply.
//!
//! The runner reads its campaign and session again each second and its next recipients
//! a few at a time; what it holds may be stale, which is safe: queueing checks the
//! campaign's status, the recipient's state and the contact again in its transaction, so
//! a pause or a cancel from any node stops it at the next recipient. It stops when this
//! node no longer owns the session.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tracing::{debug, info, info_span, warn, Instrument};

use super::session_cannot_send;
use crate::actors::registry::SessionRegistry;
use crate::actors::services::Services;
use crate::actors::HubError;
use crate::domain::bot::template::Template;
use crate::domain::campaign::{CampaignStatus, Pace, QuietHours};
use crate::domain::{Media, SessionRef};
use crate::store::campaign_recipients::{self, Next, QueueJob, Queued};
use crate::store::{campaign_flow, campaigns, sessions};

/// The longest a runner sleeps without looking at its campaign again.
const LONGEST_WAIT: Duration = Duration::from_secs(30);
/// How long what the runner read of its campaign and session stands.
const REREAD: Duration = Duration::from_secs(1);
/// Recipients read ahead at a time: a few seconds' worth at the fastest pace.
const READ_AHEAD: i64 = 32;

/// Told to the supervisor when a runner stops: (campaign, session).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RunnerStopped(pub (i64, i64));

/// Stop now (the campaign was paused or cancelled on this node).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopRunner;

pub struct CampaignRunner {
    services: Arc<Services>,
    registry: Arc<SessionRegistry>,
    id: i64,
    session: SessionRef,
    supervisor: Recipient<RunnerStopped>,
    rng: StdRng,
    step: Option<SpawnHandle>,
    /// Lent to each step's future and given back with its result.
    held: Held,
}

/// What a runner read and keeps between steps.
#[derive(Default)]
struct Held {
    plan: Option<Plan>,
    /// The session's next recipients, in order.
    due: VecDeque<Next>,
}

/// The campaign's sending settings as last read.
struct Plan {
    read_at: Instant,
    pace: Pace,
    template: Arc<Template>,
    media: Option<Media>,
    quiet: Option<QuietHours>,
    time_zone: Tz,
    frequency_cap_ms: Option<i64>,
}

impl CampaignRunner {
    pub fn new(
        services: Arc<Services>,
        registry: Arc<SessionRegistry>,
        id: i64,
        session: SessionRef,
        supervisor: Recipient<RunnerStopped>,
    ) -> Self {
        CampaignRunner {
            services,
            registry,
            id,
            session,
            supervisor,
            rng: StdRng::from_os_rng(),
            step: None,
            held: Held::default(),
        }
    }

    fn schedule(&mut self, after: Duration, ctx: &mut Context<Self>) {
        self.step = Some(ctx.run_later(after, |act, ctx| act.run_step(ctx)));
    }

    fn run_step(&mut self, ctx: &mut Context<Self>) {
        let (services, registry, id, session) = (
            self.services.clone(),
            self.registry.clone(),
            self.id,
            self.session.clone(),
        );
        let mut held = std::mem::take(&mut self.held);
        let span = info_span!("campaign", campaign_id = id, session = %session.name);
        let fut = async move {
            let res = step(&services, &registry, id, &session, &mut held).await;
            (res, held)
        }
        .instrument(span)
        .into_actor(self)
        .map(|(res, held), act, ctx| {
            act.held = held;
            match res {
                Ok(Step::Sent(pace)) => {
                    let gap = pace.gap(&mut act.rng);
                    act.schedule(gap, ctx)
                }
                Ok(Step::Again) => act.schedule(Duration::ZERO, ctx),
                Ok(Step::Wait(d)) => act.schedule(d.min(LONGEST_WAIT), ctx),
                Ok(Step::Done) => ctx.stop(),
                Err(e) => {
                    warn!(campaign_id = act.id, error = %e, "campaign step failed; trying again");
                    act.held = Held::default();
                    act.schedule(Duration::from_secs(1), ctx)
                }
            }
        });
        ctx.wait(fut);
    }
}

enum Step {
    /// A recipient was queued: wait the campaign's gap.
    Sent(Pace),
    /// Nothing was sent (a skip, a deferral): go on at once.
    Again,
    Wait(Duration),
    /// The campaign no longer runs here.
    Done,
}

/// Reads the campaign's settings again when they are a second old. False: it no longer
/// runs here (paused, cancelled, its session unable to send or owned elsewhere).
async fn plan(
    services: &Services,
    registry: &SessionRegistry,
    id: i64,
    session: &SessionRef,
    held: &mut Held,
) -> Result<bool, HubError> {
    if !registry.runs_here(session) {
        return Ok(false);
    }
    if held
        .plan
        .as_ref()
        .is_some_and(|p| p.read_at.elapsed() < REREAD)
    {
        return Ok(true);
    }
    held.plan = None;
    let Some(row) = campaigns::get_for_sending(&services.db, id).await? else {
        return Ok(false);
    };
    if row.status != CampaignStatus::Running {
        return Ok(false);
    }
    if let Some(s) = sessions::by_id(&services.db, session.id).await? {
        if session_cannot_send(&s.status) {
            let reason = format!("session {} is {}", s.name, s.status);
            info!(%reason, "pausing the campaign");
            pause(services, id, reason).await?;
            return Ok(false);
        }
    }
    let settings = row.settings();
    let template = match Template::parse(&settings.template) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            pause(services, id, format!("its template does not parse: {e}")).await?;
            return Ok(false);
        }
    };
    held.plan = Some(Plan {
        read_at: Instant::now(),
        pace: settings.pace,
        template,
        media: settings.media.as_ref().map(|m| Media {
            url: Some(m.url.clone()),
            mimetype: Some(m.mimetype.clone()),
            filename: m.filename.clone(),
        }),
        quiet: settings.quiet,
        time_zone: settings.time_zone.parse::<Tz>().unwrap_or(Tz::UTC),
        frequency_cap_ms: settings.frequency_cap_hours.map(|h| h * 3_600_000),
    });
    Ok(true)
}

async fn step(
    services: &Services,
    registry: &SessionRegistry,
    id: i64,
    session: &SessionRef,
    held: &mut Held,
) -> Result<Step, HubError> {
    if !plan(services, registry, id, session, held).await? {
        return Ok(Step::Done);
    }
    let db = &services.db;
    let now = services.now_ms();
    if held.due.is_empty() {
        // Short ranges of the recipients' (campaign, session, state) index, never the
        // whole campaign: a step's cost does not grow with the audience.
        held.due = campaign_recipients::next_pending(db, id, session.id, now, READ_AHEAD)
            .await?
            .into();
    }
    let Some(next) = held.due.pop_front() else {
        return finish_or_wait(services, id, session, now).await;
    };
    let Some(p) = held.plan.as_ref() else {
        return Ok(Step::Again);
    };
    let job = QueueJob {
        campaign_id: id,
        recipient_id: next.id,
        contact_id: next.contact_id,
        chat_id: next.chat_id.clone(),
        session: session.clone(),
        template: p.template.clone(),
        media: p.media.clone(),
        quiet: p.quiet,
        time_zone: p.time_zone,
        frequency_cap_ms: p.frequency_cap_ms,
    };
    let pace = p.pace;
    Ok(
        match registry.queue_campaign_recipient(session, job).await? {
            Queued::Queued { outbox_id } => {
                debug!(recipient = next.id, outbox_id, "queued");
                metrics::counter!("tickhub_campaign_messages_queued_total").increment(1);
                Step::Sent(pace)
            }
            Queued::Skipped(reason) => {
                debug!(recipient = next.id, reason, "skipped");
                Step::Again
            }
            Queued::Busy => {
                held.due.push_front(next);
                Step::Wait(Duration::from_millis(250))
            }
            Queued::Deferred(_) => Step::Again,
            Queued::Stopped => {
                // Paused or cancelled meanwhile, or the recipient handled: look again.
                held.plan = None;
                Step::Again
            }
        },
    )
}

/// No recipient of this session is due: its share is done (and the campaign, once the
/// other sessions' are too: whichever runner sees it last completes it), or it waits
/// for quiet hours to end or for its queued messages to go.
async fn finish_or_wait(
    services: &Services,
    id: i64,
    session: &SessionRef,
    now: i64,
) -> Result<Step, HubError> {
    let db = &services.db;
    let (mut pending, earliest) = campaign_recipients::planned(db, id, Some(session.id)).await?;
    let mut queued = campaign_recipients::queued(db, id, Some(session.id)).await?;
    if !pending && queued == 0 {
        pending = campaign_recipients::planned(db, id, None).await?.0;
        queued = campaign_recipients::queued(db, id, None).await?;
    }
    if !pending && queued == 0 {
        let done = services
            .writer
            .run(id, |tx, id| Box::pin(campaign_flow::complete(tx, *id)))
            .await?;
        if let Some((_, next)) = done {
            info!(next_run = ?next, "campaign completed");
        }
        return Ok(Step::Done);
    }
    Ok(Step::Wait(match earliest {
        Some(at) if pending => Duration::from_millis((at - now).max(1) as u64),
        // Only queued ones are left (or other sessions' shares): their sends decide
        // when it is complete.
        _ => Duration::from_millis(500),
    }))
}

async fn pause(services: &Services, id: i64, reason: String) -> Result<(), HubError> {
    services
        .writer
        .run((id, reason), |tx, (id, reason)| {
            Box::pin(campaign_flow::transition(
                tx,
                *id,
                CampaignStatus::Running,
                CampaignStatus::Paused,
                Some(reason),
                None,
            ))
        })
        .await?;
    Ok(())
}

impl Actor for CampaignRunner {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        info!(campaign_id = self.id, session = %self.session.name, "campaign runner started");
        self.schedule(Duration::ZERO, ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        debug!(campaign_id = self.id, "campaign runner stopped");
        self.supervisor
            .do_send(RunnerStopped((self.id, self.session.id)));
    }
}

impl Handler<StopRunner> for CampaignRunner {
    type Result = ();

    fn handle(&mut self, _: StopRunner, ctx: &mut Self::Context) {
        if let Some(h) = self.step.take() {
            ctx.cancel_future(h);
        }
        ctx.stop();
    }
}
