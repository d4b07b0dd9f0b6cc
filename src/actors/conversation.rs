//! One actor per active conversation: every event of the chat passes through it, one at a
//! time and in arrival order, so the conversation has exactly one writer. It holds no
//! state the database does not have, stops when idle and is rebuilt on the next event.

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
use crate::store::processing::{self, InboxEvent, Outcome, Reply, SessionRef};
use crate::store::{conversations, StoreError};

const IDLE_AFTER: Duration = Duration::from_secs(300);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

pub type ReplyResult = Result<Option<Message>, HubError>;
pub type ReadResult = Result<Option<Conversation>, HubError>;

/// Work for the conversation, processed strictly in order.
pub enum Work {
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
    /// Inbox ids queued, so a redelivery by the sweeper is not processed twice in a row.
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

    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        let Some(head) = self.queue.front() else {
            return;
        };
        self.busy = true;
        let hub = self.hub.clone();
        let span = info_span!("conversation", session = %self.session.name, chat = %self.chat_id);
        match head {
            Work::Inbox(ev) => {
                let ev = ev.clone();
                let fut = async move {
                    hub.writer
                        .run(ev, |tx, ev| Box::pin(processing::apply_webhook(tx, ev)))
                        .await
                }
                .instrument(span);
                ctx.spawn(fut.into_actor(self).map(
                    |res: Result<Outcome, StoreError>, act, ctx| {
                        act.busy = false;
                        match res {
                            Ok(outcome) => {
                                if let Some(c) = outcome.conversation {
                                    act.conversation = Some(c);
                                }
                                act.done(ctx);
                            }
                            Err(e) => act.failed(e, ctx),
                        }
                    },
                ));
            }
            Work::Reply(reply, _) => {
                let reply = reply.clone();
                let fut = async move {
                    hub.writer
                        .run(reply, |tx, r| Box::pin(processing::store_reply(tx, r)))
                        .await
                }
                .instrument(span);
                ctx.spawn(fut.into_actor(self).map(|res, act, ctx| {
                    act.busy = false;
                    match res {
                        Ok(stored) => {
                            let Some(Work::Reply(_, tx)) = act.queue.pop_front() else {
                                return;
                            };
                            let _ = tx.send(Ok(stored.as_ref().map(|(m, _)| m.clone())));
                            if let Some((_, Some(outbox_id))) = stored {
                                act.session_addr.do_send(Enqueue(outbox_id));
                            }
                            act.pop_done(ctx);
                        }
                        Err(e) => act.fail_request(e, ctx),
                    }
                }));
            }
            Work::Read(id, _) => {
                let id = *id;
                let fut = async move {
                    hub.writer
                        .run(id, |tx, id| Box::pin(processing::mark_read(tx, *id)))
                        .await
                }
                .instrument(span);
                ctx.spawn(fut.into_actor(self).map(|res, act, ctx| {
                    act.busy = false;
                    match res {
                        Ok(conv) => {
                            if let Some(Work::Read(_, tx)) = act.queue.pop_front() {
                                let _ = tx.send(Ok(conv));
                            }
                            act.pop_done(ctx);
                        }
                        Err(e) => act.fail_request(e, ctx),
                    }
                }));
            }
        }
    }

    /// The head inbox event is done.
    fn done(&mut self, ctx: &mut Context<Self>) {
        if let Some(Work::Inbox(ev)) = self.queue.pop_front() {
            self.queued_inbox.remove(&ev.inbox_id);
        }
        self.pop_done(ctx);
    }

    fn pop_done(&mut self, ctx: &mut Context<Self>) {
        self.failures = 0;
        self.processed += 1;
        self.last_activity = Instant::now();
        self.pump(ctx);
    }

    /// A request from an agent fails back to the agent; it is not retried behind its back.
    fn fail_request(&mut self, e: StoreError, ctx: &mut Context<Self>) {
        match self.queue.pop_front() {
            Some(Work::Reply(_, tx)) => {
                let _ = tx.send(Err(e.into()));
            }
            Some(Work::Read(_, tx)) => {
                let _ = tx.send(Err(e.into()));
            }
            _ => {}
        }
        self.pop_done(ctx);
    }

    /// A stored webhook could not be applied (the database is away): keep it at the head
    /// and retry with backoff, so later events of this chat do not overtake it.
    fn failed(&mut self, e: StoreError, ctx: &mut Context<Self>) {
        self.failures += 1;
        let delay = Duration::from_millis(100 * 2u64.saturating_pow(self.failures.min(10)))
            .min(MAX_BACKOFF);
        warn!(session = %self.session.name, chat = %self.chat_id, error = %e, retry_in_ms = delay.as_millis() as u64,
            "could not apply a webhook; will retry");
        metrics::counter!("tickhub_processing_failures_total").increment(1);
        ctx.run_later(delay, |act, ctx| act.pump(ctx));
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
        if let Work::Inbox(ev) = &work {
            if !self.queued_inbox.insert(ev.inbox_id) {
                // Already queued here: count it as handled so the session's tally matches.
                self.processed += 1;
                return;
            }
            if ev.envelope.event == "presence.update" {
                self.typing_from_customer(ev);
            }
        }
        self.queue.push_back(work);
        self.last_activity = Instant::now();
        self.pump(ctx);
    }
}

impl ConversationActor {
    /// A customer's typing indicator: ephemeral, straight to the agents.
    fn typing_from_customer(&mut self, ev: &InboxEvent) {
        let states: Vec<String> = ev
            .envelope
            .payload
            .get("presences")
            .and_then(|p| p.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|p| {
                        p.get("lastKnownPresence")
                            .and_then(|s| s.as_str())
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let Some(state) = states.into_iter().next() else {
            return;
        };
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

impl Handler<Stop> for ConversationActor {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
