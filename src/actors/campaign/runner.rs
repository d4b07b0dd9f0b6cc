//! The actor that sends one session's share of a campaign (a campaign over several
//! sessions has one runner per session, each on the node that owns its session): one
//! recipient at a time, each queued in its conversation's turn (message, outbox row and
//! the recipient's state in one transaction), at the campaign's randomised pace, so each
//! session keeps its own pace and two sessions send about twice as fast. The session's
//! queue sends what it queued, after any member's or bot's reply. It reads the campaign's
//! status before each recipient, so a pause or a cancel from any node stops it, and it
//! stops when this node no longer owns the session.

use std::sync::Arc;
use std::time::Duration;

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
use crate::domain::campaign::{CampaignStatus, Pace};
use crate::domain::SessionRef;
use crate::store::campaign_recipients::{self, QueueJob, Queued};
use crate::store::{campaign_flow, campaigns, sessions};

/// Recipients queued and not yet handed to WAHA, at most: the campaign does not run
/// ahead of the session's queue (a WAHA that fails holds the campaign back, not the
/// queue's memory).
const MAX_QUEUED: i64 = 2;
/// The longest a runner sleeps without looking at its campaign again.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

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
        let span = info_span!("campaign", campaign_id = id, session = %session.name);
        let fut = async move { step(&services, &registry, id, &session).await }
            .instrument(span)
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(Step::Sent(pace)) => {
                    let gap = pace.gap(&mut act.rng);
                    act.schedule(gap, ctx)
                }
                Ok(Step::Again) => act.schedule(Duration::ZERO, ctx),
                Ok(Step::Wait(d)) => act.schedule(d.min(LONGEST_WAIT), ctx),
                Ok(Step::Done) => ctx.stop(),
                Err(e) => {
                    warn!(campaign_id = act.id, error = %e, "campaign step failed; trying again");
                    act.schedule(Duration::from_secs(1), ctx)
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

async fn step(
    services: &Services,
    registry: &SessionRegistry,
    id: i64,
    session: &SessionRef,
) -> Result<Step, HubError> {
    let Some(row) = campaigns::get_for_sending(&services.db, id).await? else {
        return Ok(Step::Done);
    };
    if row.status != CampaignStatus::Running || !registry.runs_here(session) {
        return Ok(Step::Done);
    }
    if let Some(s) = sessions::by_id(&services.db, session.id).await? {
        if session_cannot_send(&s.status) {
            let reason = format!("session {} is {}", s.name, s.status);
            info!(%reason, "pausing the campaign");
            pause(services, id, reason).await?;
            return Ok(Step::Done);
        }
    }
    let settings = row.settings();
    let template = match Template::parse(&settings.template) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            pause(services, id, format!("its template does not parse: {e}")).await?;
            return Ok(Step::Done);
        }
    };
    // Each step reads short ranges of the recipients' (campaign, session, state) index,
    // never the whole campaign: its cost does not grow with the audience.
    let db = &services.db;
    let queued = campaign_recipients::queued(db, id, Some(session.id)).await?;
    if queued >= MAX_QUEUED {
        return Ok(Step::Wait(Duration::from_millis(250)));
    }
    let now = services.now_ms();
    let Some(next) = campaign_recipients::next_pending(db, id, session.id, now).await? else {
        let (mut pending, earliest) =
            campaign_recipients::planned(db, id, Some(session.id)).await?;
        let mut queued = queued;
        if !pending && queued == 0 {
            // This session's share is done: the campaign is, once the other sessions'
            // shares are too (whichever runner sees it last completes it).
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
        let wait = match earliest {
            Some(at) if pending => Duration::from_millis((at - now).max(1) as u64),
            // Only queued ones are left (or other sessions' shares): their sends decide
            // when it is complete.
            _ => Duration::from_millis(500),
        };
        return Ok(Step::Wait(wait));
    };
    let job = QueueJob {
        campaign_id: id,
        recipient_id: next.id,
        contact_id: next.contact_id,
        chat_id: next.chat_id,
        session: session.clone(),
        template,
        media: settings.media.as_ref().map(|m| crate::domain::Media {
            url: Some(m.url.clone()),
            mimetype: Some(m.mimetype.clone()),
            filename: m.filename.clone(),
        }),
        quiet: settings.quiet,
        time_zone: settings.time_zone.parse::<Tz>().unwrap_or(Tz::UTC),
        frequency_cap_ms: settings.frequency_cap_hours.map(|h| h * 3_600_000),
    };
    Ok(
        match registry.queue_campaign_recipient(session, job).await? {
            Queued::Queued { outbox_id } => {
                debug!(recipient = next.id, outbox_id, "queued");
                metrics::counter!("tickhub_campaign_messages_queued_total").increment(1);
                Step::Sent(settings.pace)
            }
            Queued::Skipped(reason) => {
                debug!(recipient = next.id, reason, "skipped");
                Step::Again
            }
            Queued::Deferred(_) | Queued::Stopped => Step::Again,
        },
    )
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
