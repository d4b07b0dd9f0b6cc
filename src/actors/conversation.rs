//! One actor per active conversation: every event of the chat passes through it, in
//! arrival order, so the conversation has exactly one writer. Webhooks that queue up
//! while a commit is under way go together into the next one. The actor holds no state
//! the database lacks; it stops when idle and is rebuilt on the next event.
//!
//! Session-level events (status changes) go through the session's own instance of this
//! actor, keyed by an empty chat id, so they too apply one at a time and in order.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;
use tracing::{debug, info_span, warn, Instrument};

use super::hub::{Hub, HubError};
use super::session::{ConversationIdle, Enqueue, SessionActor};
use crate::store::conversations::Conversation;
use crate::store::messages::Message;
use crate::store::processing::{self, InboxEvent, Ingest, Ingested, Known, Reply, SessionRef};
use crate::store::{conversations, inbox, StoreError};

const IDLE_AFTER: Duration = Duration::from_secs(300);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Webhooks applied together in one transaction, at most.
const MAX_BATCH: usize = 64;

pub type ReplyResult = Result<Option<Message>, HubError>;
pub type ReadResult = Result<Option<Conversation>, HubError>;
pub type IngestResult = Result<Ingested, StoreError>;

/// Work for the conversation, processed strictly in order.
pub enum Work {
    /// A webhook just received: stored and applied together, then acknowledged.
    Ingest(Ingest, oneshot::Sender<IngestResult>),
    /// A stored webhook to apply again (recovery).
    Inbox(InboxEvent),
    Reply(Reply, oneshot::Sender<ReplyResult>),
    Read(i64, oneshot::Sender<ReadResult>),
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Submit(pub Work);

/// Sent by the session once it has forgotten this actor.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Stop;

pub struct ConversationActor {
    hub: Arc<Hub>,
    session: SessionRef,
    session_addr: Addr<SessionActor>,
    chat_id: String,
    queue: VecDeque<Work>,
    /// Stored webhooks queued, so a redelivery by the sweeper is not queued twice.
    queued_inbox: HashSet<i64>,
    busy: bool,
    failures: u32,
    /// Work items handled, compared by the session before it lets the actor stop.
    processed: u64,
    last_activity: Instant,
    conversation: Option<Conversation>,
}

impl ConversationActor {
    pub fn new(
        hub: Arc<Hub>,
        session: SessionRef,
        session_addr: Addr<SessionActor>,
        chat_id: String,
    ) -> Self {
        ConversationActor {
            hub,
            session,
            session_addr,
            chat_id,
            queue: VecDeque::new(),
            queued_inbox: HashSet::new(),
            busy: false,
            failures: 0,
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
            Some(Work::Inbox(ev)) => {
                let ev = ev.clone();
                self.run(
                    ctx,
                    ev,
                    |tx, ev| Box::pin(processing::apply_stored(tx, ev)),
                    |act, res, ctx| match res {
                        Ok(outcome) => {
                            act.remember(outcome.conversation);
                            if let Some(Work::Inbox(ev)) = act.queue.pop_front() {
                                act.queued_inbox.remove(&ev.inbox_id);
                            }
                            act.done(1, ctx);
                        }
                        Err(e) => act.stored_failed(e, ctx),
                    },
                );
            }
            Some(Work::Reply(reply, _)) => {
                let reply = reply.clone();
                self.run(
                    ctx,
                    reply,
                    |tx, r| Box::pin(processing::store_reply(tx, r)),
                    |act, res, ctx| {
                        let Some(Work::Reply(_, tx)) = act.queue.pop_front() else {
                            return;
                        };
                        match res {
                            Ok(stored) => {
                                let _ = tx.send(Ok(stored.as_ref().map(|(m, _)| m.clone())));
                                if let Some((_, Some(outbox_id))) = stored {
                                    act.session_addr.do_send(Enqueue(outbox_id));
                                }
                            }
                            Err(e) => {
                                let _ = tx.send(Err(e.into()));
                            }
                        }
                        act.done(1, ctx);
                    },
                );
            }
            Some(Work::Read(id, _)) => {
                let id = *id;
                self.run(
                    ctx,
                    id,
                    |tx, id| Box::pin(processing::mark_read(tx, *id)),
                    |act, res, ctx| {
                        if let Some(Work::Read(_, tx)) = act.queue.pop_front() {
                            let _ = tx.send(res.map_err(HubError::from));
                        }
                        act.done(1, ctx);
                    },
                );
            }
        }
    }

    /// Runs one writer job for the head of the queue; `then` sees its result.
    fn run<I, O, F>(
        &mut self,
        ctx: &mut Context<Self>,
        input: I,
        job: F,
        then: impl FnOnce(&mut Self, Result<O, StoreError>, &mut Context<Self>) + 'static,
    ) where
        I: Send + Sync + 'static,
        O: Send + 'static,
        F: for<'a> Fn(
                &'a mut crate::store::Tx,
                &'a I,
            ) -> futures_util::future::BoxFuture<'a, Result<O, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        self.busy = true;
        let hub = self.hub.clone();
        let fut = async move { hub.writer.run(input, job).await }.instrument(self.span());
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
            items,
            |tx, items| {
                Box::pin(async move {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(processing::ingest(tx, item).await?);
                    }
                    Ok(out)
                })
            },
            move |act, res, ctx| match res {
                Ok(outcomes) => {
                    for outcome in outcomes {
                        if let Some(Work::Ingest(_, tx)) = act.queue.pop_front() {
                            if let Ingested::Stored(o) = &outcome {
                                act.conversation =
                                    o.conversation.clone().or(act.conversation.take());
                            }
                            let _ = tx.send(Ok(outcome));
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
        let envelopes: Vec<_> = items
            .iter()
            .map(|i| (i.session.clone(), i.envelope.clone()))
            .collect();
        self.run(
            ctx,
            items,
            |tx, items| Box::pin(processing::store_unapplied(tx, items)),
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
                for (id, (session, envelope)) in ids.into_iter().zip(envelopes) {
                    if let Some(Work::Ingest(_, tx)) = act.queue.pop_front() {
                        let _ = tx.send(Ok(match id {
                            Some(_) => Ingested::Stored(Box::default()),
                            None => Ingested::Duplicate,
                        }));
                    }
                    if let Some(inbox_id) = id {
                        retries.push(Work::Inbox(InboxEvent {
                            inbox_id,
                            session,
                            envelope,
                        }));
                    }
                }
                act.done(n, ctx);
                for w in retries {
                    if let Work::Inbox(ev) = &w {
                        act.queued_inbox.insert(ev.inbox_id);
                    }
                    act.queue.push_back(w);
                }
                act.pump(ctx);
            },
        );
    }

    fn remember(&mut self, conversation: Option<Conversation>) {
        if conversation.is_some() {
            self.conversation = conversation;
        }
    }

    fn done(&mut self, n: usize, ctx: &mut Context<Self>) {
        self.failures = 0;
        self.processed += n as u64;
        self.last_activity = Instant::now();
        self.pump(ctx);
    }

    /// A stored webhook could not be applied. While the database is away, keep it at the
    /// head and retry with backoff so later events of this chat do not overtake it; a
    /// webhook that keeps failing on its own is left in the inbox with its error.
    fn stored_failed(&mut self, e: StoreError, ctx: &mut Context<Self>) {
        self.failures += 1;
        metrics::counter!("tickhub_processing_failures_total").increment(1);
        let gives_up =
            !matches!(e, StoreError::Unavailable(_)) && self.failures as i64 >= inbox::MAX_ATTEMPTS;
        if gives_up {
            if let Some(Work::Inbox(ev)) = self.queue.pop_front() {
                self.queued_inbox.remove(&ev.inbox_id);
                warn!(inbox_id = ev.inbox_id, error = %e, "giving up on a stored webhook; see inbox.last_error");
                let (hub, id, err) = (self.hub.clone(), ev.inbox_id, e.to_string());
                actix::spawn(async move {
                    let _ = hub
                        .writer
                        .run((id, err), |tx, (id, err)| {
                            Box::pin(inbox::record_failure(tx, *id, err))
                        })
                        .await;
                });
            }
            return self.done(1, ctx);
        }
        let delay = Duration::from_millis(100 * 2u64.saturating_pow(self.failures.min(10)))
            .min(MAX_BACKOFF);
        warn!(session = %self.session.name, chat = %self.chat_id, error = %e, retry_in_ms = delay.as_millis() as u64,
            "could not apply a stored webhook; will retry");
        ctx.run_later(delay, |act, ctx| act.pump(ctx));
    }

    /// A customer's typing indicator: ephemeral, straight to the agents.
    fn typing_from_customer(&mut self, envelope: &crate::waha::webhook::Envelope) {
        let state = envelope
            .payload
            .get("presences")
            .and_then(|p| p.as_array())
            .and_then(|a| {
                a.iter()
                    .find_map(|p| p.get("lastKnownPresence").and_then(|s| s.as_str()))
            })
            .map(str::to_string);
        let Some(state) = state else { return };
        let hub = self.hub.clone();
        let cached = self.conversation.clone();
        let (session_id, chat) = (self.session.id, self.chat_id.clone());
        actix::spawn(async move {
            let conv = match cached {
                Some(c) => Some(c),
                None => conversations::find(&hub.db, session_id, &chat)
                    .await
                    .ok()
                    .flatten(),
            };
            if let Some(conv) = conv {
                let data = serde_json::json!({ "conversation_id": conv.id, "who": "contact", "state": state });
                hub.publish_ephemeral_typing(&conv, &data);
            }
        });
    }
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        debug!(session = %self.session.name, chat = %self.chat_id, "conversation actor started");
        metrics::gauge!("tickhub_conversation_actors").increment(1.0);
        ctx.run_interval(Duration::from_secs(30), |act, _ctx| {
            if !act.busy && act.queue.is_empty() && act.last_activity.elapsed() >= IDLE_AFTER {
                act.session_addr.do_send(ConversationIdle {
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
            Work::Inbox(ev) if !self.queued_inbox.insert(ev.inbox_id) => {
                self.processed += 1;
                return;
            }
            Work::Ingest(item, _) if item.envelope.event == "presence.update" => {
                self.typing_from_customer(&item.envelope.clone());
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
