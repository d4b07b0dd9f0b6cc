//! One actor per active conversation: every change to the chat passes through it, in
//! arrival order, so the conversation has exactly one writer — webhooks, agents' replies
//! and read marks, and the outcomes of its sends. Webhooks that queue up while a commit is
//! under way go together into the next one. The actor holds no state the database lacks;
//! it stops when idle and is rebuilt on the next event.
//!
//! After a message is stored, [`ConversationActor::after_message`] is the one step where
//! what reacts to messages (the bot, the router) plugs in.
//!
//! Session-level events (status changes) go through the session's own instance of this
//! actor, keyed by an empty chat id, so they too apply one at a time and in order.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::future::BoxFuture;
use tokio::sync::oneshot;
use tracing::{debug, info_span, warn, Instrument};

use super::services::Services;
use crate::domain::{Author, Change, EventKind, LoggedEvent, SessionRef};
use crate::store::bot_flow::{Reaction, Tally};
use crate::store::conversations::{self, Conversation};
use crate::store::events::conversation_scope;
use crate::store::ingest::{self, Applied, Ingest, Ingested, Known, StoredWebhook};
use crate::store::messages::Message;
use crate::store::writer::Stager;
use crate::store::{inbox, StoreError, Tx, Writer};

const IDLE_AFTER: Duration = Duration::from_secs(300);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Webhooks applied together in one transaction, at most.
const MAX_BATCH: usize = 64;

pub type IngestResult = Result<Ingested, StoreError>;

/// Work for the conversation, processed strictly in order.
pub enum Work {
    /// A webhook just received: stored and applied together, then acknowledged.
    Ingest(Ingest, oneshot::Sender<IngestResult>),
    /// A stored webhook to apply again (recovery), with the attempts it has had.
    Stored(StoredWebhook, i64),
    /// Any other change: a writer job whose result goes back to whoever asked.
    Task(Task),
}

/// What a conversation asks of its session after a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followup {
    None,
    /// A new outbox row to send.
    Send(i64),
    /// A campaign's outbox row: sent after the replies waiting with it.
    SendBulk(i64),
    /// The conversation was erased (GDPR): the actor forgets the conversation it kept, so
    /// the chat's next message finds (or opens) its conversation afresh.
    Forget,
}

/// A writer job for the conversation's turn, with its reply channel inside.
pub struct Task(Box<dyn FnOnce(Writer) -> BoxFuture<'static, Followup> + Send>);

impl Task {
    /// `job` runs in the writer; its result goes back through `reply`, and `followup`
    /// says what the session should do after a success.
    pub fn new<I, O, F>(
        input: I,
        job: F,
        reply: oneshot::Sender<Result<O, StoreError>>,
        followup: fn(&O) -> Followup,
    ) -> Task
    where
        I: Send + Sync + 'static,
        O: Send + 'static,
        F: for<'a> Fn(&'a mut Tx, &'a I) -> BoxFuture<'a, Result<O, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        Task(Box::new(move |writer| {
            Box::pin(async move {
                let res = writer.run(input, job).await;
                let next = res.as_ref().map(followup).unwrap_or(Followup::None);
                // The asker may have gone (a closed request): the write stands anyway.
                let _ = reply.send(res);
                next
            })
        }))
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Submit(pub Work);

/// Sent by the session once it has forgotten this actor.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

/// Told to the session: an outbox row to send.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enqueue {
    pub outbox_id: i64,
    /// Its chat: a chat's messages are sent one at a time, in order.
    pub chat_id: String,
    /// A campaign's message, which waits behind members' and bots' replies.
    pub bulk: bool,
}

/// Told to the session: this actor has been idle and may stop if nothing was sent to it
/// since (`processed` is compared with what the session submitted).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Idle {
    pub chat_id: String,
    pub processed: u64,
}

/// The session, as a conversation sees it.
#[derive(Clone)]
pub struct SessionLink {
    pub enqueue: Recipient<Enqueue>,
    pub idle: Recipient<Idle>,
}

pub struct ConversationActor {
    services: Arc<Services>,
    /// Every write of the conversation goes through it (fenced by the session's owner in
    /// a cluster).
    writer: Writer,
    session: SessionRef,
    link: SessionLink,
    chat_id: String,
    queue: VecDeque<Work>,
    /// Stored webhooks queued, so a redelivery by the sweeper is not queued twice.
    queued_stored: HashSet<i64>,
    busy: bool,
    /// Work items handled, compared by the session before it lets the actor stop.
    processed: u64,
    last_activity: Instant,
    conversation: Option<Conversation>,
}

impl ConversationActor {
    pub fn new(
        services: Arc<Services>,
        session: SessionRef,
        link: SessionLink,
        chat_id: String,
        writer: Writer,
    ) -> Self {
        ConversationActor {
            services,
            writer,
            session,
            link,
            chat_id,
            queue: VecDeque::new(),
            queued_stored: HashSet::new(),
            busy: false,
            processed: 0,
            last_activity: Instant::now(),
            conversation: None,
        }
    }

    fn span(&self) -> tracing::Span {
        info_span!("conversation", session = %self.session.name, chat = %self.chat_id)
    }

    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        match self.queue.front() {
            None => {}
            Some(Work::Ingest(..)) => self.ingest_batch(ctx),
            Some(Work::Stored(..)) => self.apply_stored(ctx),
            Some(Work::Task(_)) => {
                let Some(Work::Task(Task(task))) = self.queue.pop_front() else {
                    return;
                };
                self.busy = true;
                let fut = task(self.writer.clone()).instrument(self.span());
                ctx.spawn(fut.into_actor(self).map(|next, act, ctx| {
                    act.busy = false;
                    match next {
                        Followup::Send(outbox_id) => act.link.enqueue.do_send(Enqueue {
                            outbox_id,
                            chat_id: act.chat_id.clone(),
                            bulk: false,
                        }),
                        Followup::SendBulk(outbox_id) => act.link.enqueue.do_send(Enqueue {
                            outbox_id,
                            chat_id: act.chat_id.clone(),
                            bulk: true,
                        }),
                        Followup::Forget => act.conversation = None,
                        Followup::None => {}
                    }
                    act.done(1, ctx);
                }));
            }
        }
    }

    /// Runs one writer job, with what it offers its batch's stage if anything
    /// (`Writer::run_staged`); `then` sees its result on the actor.
    fn run<I, O, F>(
        &mut self,
        ctx: &mut Context<Self>,
        input: I,
        stager: Option<Stager<I>>,
        job: F,
        then: impl FnOnce(&mut Self, Result<O, StoreError>, &mut Context<Self>) + 'static,
    ) where
        I: Send + Sync + 'static,
        O: Send + 'static,
        F: for<'a> Fn(&'a mut Tx, &'a I) -> BoxFuture<'a, Result<O, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        self.busy = true;
        let writer = self.writer.clone();
        let fut = async move {
            match stager {
                Some(s) => writer.run_staged(input, s, job).await,
                None => writer.run(input, job).await,
            }
        }
        .instrument(self.span());
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| {
            act.busy = false;
            then(act, res, ctx);
        }));
    }

    /// The webhooks at the head of the queue, stored and applied in one transaction.
    fn ingest_batch(&mut self, ctx: &mut Context<Self>) {
        let known = self.conversation.as_ref().map(|c| Known {
            conversation_id: c.id,
            title: c.title.clone(),
        });
        let items: Vec<Ingest> = self
            .queue
            .iter()
            .take(MAX_BATCH)
            .map_while(|w| match w {
                Work::Ingest(item, _) => Some(Ingest {
                    known: known.clone(),
                    ..item.clone()
                }),
                _ => None,
            })
            .collect();
        let n = items.len();
        self.run(
            ctx,
            (items, self.services.flow()),
            // the first webhook only: the rest of the batch follows it in the job
            Some(|(items, _), stage| items.first().is_some_and(|i| stage.offer(i))),
            |tx, (items, flow)| {
                Box::pin(async move {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(ingest::ingest(tx, item, flow).await?);
                    }
                    Ok(out)
                })
            },
            move |act, res, ctx| match res {
                Ok(outcomes) => {
                    for outcome in outcomes {
                        let Some(Work::Ingest(_, tx)) = act.queue.pop_front() else {
                            continue;
                        };
                        let applied = match &outcome {
                            Ingested::Stored(applied) => {
                                Some((act.remember(applied), applied.reaction.clone()))
                            }
                            Ingested::Duplicate => None,
                        };
                        let _ = tx.send(Ok(outcome));
                        if let Some((Some((msg, author)), reaction)) = applied {
                            act.after_message(&msg, author, &reaction, ctx);
                        }
                    }
                    act.done(n, ctx);
                }
                // The database is away: WAHA gets a 5xx and retries.
                Err(StoreError::Unavailable(reason)) => {
                    for _ in 0..n {
                        if let Some(Work::Ingest(_, tx)) = act.queue.pop_front() {
                            let _ = tx.send(Err(StoreError::Unavailable(reason.clone())));
                        }
                    }
                    act.done(n, ctx);
                }
                // Another node owns the session now: the registry hands them over.
                Err(StoreError::Fenced { session_id }) => {
                    for _ in 0..n {
                        if let Some(Work::Ingest(_, tx)) = act.queue.pop_front() {
                            let _ = tx.send(Err(StoreError::Fenced { session_id }));
                        }
                    }
                    act.done(n, ctx);
                }
                Err(e) => act.store_unapplied(n, e, ctx),
            },
        );
    }

    /// Applying failed for a reason of its own (not the database being away): keep the
    /// webhooks durable and acknowledged, and retry applying them from the inbox.
    fn store_unapplied(&mut self, n: usize, error: StoreError, ctx: &mut Context<Self>) {
        warn!(session = %self.session.name, chat = %self.chat_id, %error, count = n,
            "could not apply webhooks; storing them to retry");
        let items: Vec<Ingest> = self
            .queue
            .iter()
            .take(n)
            .filter_map(|w| match w {
                Work::Ingest(item, _) => Some(item.clone()),
                _ => None,
            })
            .collect();
        let inbound: Vec<_> = items
            .iter()
            .map(|i| (i.session.clone(), i.inbound.clone()))
            .collect();
        self.run(
            ctx,
            items,
            None,
            |tx, items| Box::pin(ingest::store_unapplied(tx, items)),
            move |act, res, ctx| {
                let ids = match res {
                    Ok(ids) => ids,
                    Err(e) => {
                        for _ in 0..n {
                            if let Some(Work::Ingest(_, tx)) = act.queue.pop_front() {
                                let _ = tx.send(Err(StoreError::Unavailable(e.to_string())));
                            }
                        }
                        return act.done(n, ctx);
                    }
                };
                let mut retries = Vec::new();
                for (id, (session, inbound)) in ids.into_iter().zip(inbound) {
                    if let Some(Work::Ingest(_, tx)) = act.queue.pop_front() {
                        let _ = tx.send(Ok(match id {
                            Some(_) => Ingested::Stored(Box::default()),
                            None => Ingested::Duplicate,
                        }));
                    }
                    if let Some(inbox_id) = id {
                        retries.push(StoredWebhook {
                            inbox_id,
                            session,
                            inbound,
                        });
                    }
                }
                act.done(n, ctx);
                for w in retries {
                    act.queued_stored.insert(w.inbox_id);
                    act.queue.push_back(Work::Stored(w, 0));
                }
                act.pump(ctx);
            },
        );
    }

    fn apply_stored(&mut self, ctx: &mut Context<Self>) {
        let Some(Work::Stored(w, _)) = self.queue.front() else {
            return;
        };
        let w = w.clone();
        self.run(
            ctx,
            (w, self.services.flow()),
            None,
            |tx, (w, flow)| Box::pin(ingest::apply_stored(tx, w, flow)),
            |act, res, ctx| match res {
                Ok(applied) => {
                    if let Some(Work::Stored(w, _)) = act.queue.pop_front() {
                        act.queued_stored.remove(&w.inbox_id);
                    }
                    if let Some((msg, author)) = act.remember(&applied) {
                        act.after_message(&msg, author, &applied.reaction, ctx);
                    }
                    act.done(1, ctx);
                }
                Err(e) => act.stored_failed(e, ctx),
            },
        );
    }

    /// A stored webhook could not be applied. While the database is away, keep it at the
    /// head and retry with backoff so later events of this chat do not overtake it. A
    /// failure of its own counts against the webhook's attempts (kept in its row, so they
    /// add up across sweeps and restarts); after the last one it is left in the inbox for
    /// an operator, and the chat moves on.
    fn stored_failed(&mut self, e: StoreError, ctx: &mut Context<Self>) {
        metrics::counter!("tickhub_processing_failures_total").increment(1);
        let Some(Work::Stored(w, attempts)) = self.queue.front() else {
            return;
        };
        let (inbox_id, attempts) = (w.inbox_id, *attempts);
        if matches!(e, StoreError::Unavailable(_)) {
            return self.retry_later(attempts, &e, ctx);
        }
        let error = e.to_string();
        self.run(
            ctx,
            (inbox_id, error),
            None,
            |tx, (id, err)| Box::pin(inbox::record_failure(tx, *id, err)),
            move |act, res, ctx| {
                let attempts = match res {
                    Ok(n) => n,
                    // Not even the failure could be written: the database is the problem.
                    Err(e) => return act.retry_later(attempts + 1, &e, ctx),
                };
                if attempts >= inbox::MAX_ATTEMPTS {
                    if let Some(Work::Stored(w, _)) = act.queue.pop_front() {
                        act.queued_stored.remove(&w.inbox_id);
                    }
                    warn!(inbox_id, attempts, error = %e,
                        "giving up on a stored webhook; see GET /api/admin/failed-webhooks");
                    metrics::counter!("tickhub_webhooks_given_up_total").increment(1);
                    return act.done(1, ctx);
                }
                if let Some(Work::Stored(_, n)) = act.queue.front_mut() {
                    *n = attempts;
                }
                act.retry_later(attempts, &e, ctx);
            },
        );
    }

    fn retry_later(&mut self, attempts: i64, e: &StoreError, ctx: &mut Context<Self>) {
        let delay = Duration::from_millis(100 * 2u64.saturating_pow(attempts.clamp(0, 10) as u32))
            .min(MAX_BACKOFF);
        warn!(session = %self.session.name, chat = %self.chat_id, error = %e, retry_in_ms = delay.as_millis() as u64,
            "could not apply a stored webhook; will retry");
        ctx.run_later(delay, |act, ctx| act.pump(ctx));
    }

    /// Keeps the conversation as last written; returns the new message, if any.
    fn remember(&mut self, applied: &Applied) -> Option<(Message, Author)> {
        if let Some(c) = &applied.conversation {
            self.conversation = Some(c.clone());
        }
        applied.new_message.clone()
    }

    /// The step after a message is stored, committed and pushed to agents: the bot's
    /// replies (stored in the same transaction, `store::bot_flow`) go to the session's
    /// send queue, and a conversation that now waits for a person goes to the router.
    fn after_message(
        &mut self,
        msg: &Message,
        author: Author,
        reaction: &Reaction,
        _ctx: &mut Context<Self>,
    ) {
        metrics::counter!("tickhub_messages_stored_total", "author" => author.as_str())
            .increment(1);
        debug!(
            message_id = msg.id,
            author = author.as_str(),
            "message stored"
        );
        for &outbox_id in &reaction.send {
            self.link.enqueue.do_send(Enqueue {
                outbox_id,
                chat_id: self.chat_id.clone(),
                bulk: false,
            });
        }
        tally(&reaction.tally);
        if reaction.route {
            self.services
                .router()
                .route(self.session.id, msg.conversation_id);
        }
    }

    fn done(&mut self, n: usize, ctx: &mut Context<Self>) {
        self.processed += n as u64;
        self.last_activity = Instant::now();
        self.pump(ctx);
    }

    /// A customer's typing indicator: ephemeral, straight to the agents.
    fn typing_from_customer(&mut self, state: String) {
        let services = self.services.clone();
        let cached = self.conversation.clone();
        let (session_id, chat) = (self.session.id, self.chat_id.clone());
        actix::spawn(async move {
            let conv = match cached {
                Some(c) => Some(c),
                None => conversations::find(&services.db, session_id, &chat)
                    .await
                    .ok()
                    .flatten(),
            };
            let Some(conv) = conv else { return };
            let data =
                serde_json::json!({ "conversation_id": conv.id, "who": "contact", "state": state });
            if let Ok(data) = crate::domain::event::encode(&data) {
                services.bus.publish_ephemeral(LoggedEvent::ephemeral(
                    EventKind::Typing,
                    conversation_scope(&conv),
                    &data,
                ));
            }
        });
    }
}

/// What the bots did, counted once committed.
pub(super) fn tally(items: &[Tally]) {
    for t in items {
        match t {
            Tally::Match { bot_id, trigger_id } => metrics::counter!("tickhub_bot_matches_total",
                "bot" => bot_id.to_string(), "trigger" => trigger_id.to_string())
            .increment(1),
            Tally::Miss { bot_id } => {
                metrics::counter!("tickhub_bot_misses_total", "bot" => bot_id.to_string())
                    .increment(1)
            }
            Tally::Reply { bot_id, kind } => metrics::counter!("tickhub_bot_replies_total",
                "bot" => bot_id.to_string(), "kind" => *kind)
            .increment(1),
            Tally::Handoff { bot_id, reason } => metrics::counter!("tickhub_bot_handoffs_total",
                "bot" => bot_id.to_string(), "reason" => *reason)
            .increment(1),
        }
    }
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        debug!(session = %self.session.name, chat = %self.chat_id, "conversation actor started");
        metrics::gauge!("tickhub_conversation_actors").increment(1.0);
        ctx.run_interval(Duration::from_secs(30), |act, _ctx| {
            if !act.busy && act.queue.is_empty() && act.last_activity.elapsed() >= IDLE_AFTER {
                act.link.idle.do_send(Idle {
                    chat_id: act.chat_id.clone(),
                    processed: act.processed,
                });
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        metrics::gauge!("tickhub_conversation_actors").decrement(1.0);
    }
}

impl Handler<Submit> for ConversationActor {
    type Result = ();

    fn handle(&mut self, Submit(work): Submit, ctx: &mut Self::Context) {
        match &work {
            // Already queued here: count it as handled so the session's tally matches.
            Work::Stored(w, _) if !self.queued_stored.insert(w.inbox_id) => {
                self.processed += 1;
                return;
            }
            Work::Ingest(item, _) => {
                if let Change::Typing { state } = &item.inbound.change {
                    self.typing_from_customer(state.clone());
                }
            }
            _ => {}
        }
        self.queue.push_back(work);
        self.last_activity = Instant::now();
        self.pump(ctx);
    }
}

impl Handler<Stop> for ConversationActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
