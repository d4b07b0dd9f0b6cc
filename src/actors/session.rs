//! One actor per WhatsApp session: it routes the session's work to conversation actors
//! (session-level work to the session's own, keyed ""), is the one writer of the
//! session's status, and drains the session's outbound queue to WAHA at a bounded rate,
//! each message once (see `outbound`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;
use tracing::{debug, info, info_span, warn, Instrument};

use super::conversation::{
    ConversationActor, Enqueue, Idle, IngestResult, SessionLink, Stop, Submit, Task, Work,
};
use super::outbound;
use super::services::Services;
use crate::domain::{ChatId, SessionRef};
use crate::store::ingest::{Ingest, StoredWebhook};
use crate::store::{outbox, StoreError};

/// A webhook just received; answered once it is durable.
#[derive(Message)]
#[rtype(result = "IngestResult")]
pub struct IngestCmd(pub Ingest);

/// A stored webhook to apply again (recovery), with the attempts it has had.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Redeliver(pub StoredWebhook, pub i64);

/// A writer job for one of the session's conversations (the send pipeline's steps).
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct ForChat {
    pub chat_id: String,
    pub task: Task,
}

struct ConversationEntry {
    addr: Addr<ConversationActor>,
    submitted: u64,
}

pub struct SessionActor {
    services: Arc<Services>,
    session: SessionRef,
    conversations: HashMap<String, ConversationEntry>,
    /// Outbox rows waiting to be sent, in order.
    outbound: VecDeque<i64>,
    sending: bool,
    next_send_at: Instant,
    send_interval: Duration,
}

/// The conversation actor key of a change: its chat, or "" for session-level ones.
fn chat_key(chat: Option<&ChatId>) -> String {
    chat.map(|c| c.as_str().to_string()).unwrap_or_default()
}

impl SessionActor {
    pub fn new(services: Arc<Services>, session: SessionRef) -> Self {
        let send_interval = Duration::from_secs_f64(1.0 / services.config.send_rate_per_session);
        SessionActor {
            services,
            session,
            conversations: HashMap::new(),
            outbound: VecDeque::new(),
            sending: false,
            next_send_at: Instant::now(),
            send_interval,
        }
    }

    /// The chat's conversation actor, started (again) when it has none or it stopped.
    fn conversation(&mut self, chat_id: &str, ctx: &mut Context<Self>) -> &mut ConversationEntry {
        let start = || {
            let me = ctx.address();
            let link = SessionLink {
                enqueue: me.clone().recipient(),
                idle: me.recipient(),
            };
            let (services, session, chat) = (
                self.services.clone(),
                self.session.clone(),
                chat_id.to_string(),
            );
            let addr = ConversationActor::start_in_arbiter(&self.services.arbiter(), move |_| {
                ConversationActor::new(services, session, link, chat)
            });
            ConversationEntry { addr, submitted: 0 }
        };
        match self.conversations.entry(chat_id.to_string()) {
            std::collections::hash_map::Entry::Occupied(o) => {
                let entry = o.into_mut();
                if !entry.addr.connected() {
                    *entry = start();
                }
                entry
            }
            std::collections::hash_map::Entry::Vacant(v) => v.insert(start()),
        }
    }

    fn submit(&mut self, chat_id: &str, work: Work, ctx: &mut Context<Self>) {
        let entry = self.conversation(chat_id, ctx);
        entry.submitted += 1;
        entry.addr.do_send(Submit(work));
    }

    fn pump_outbound(&mut self, ctx: &mut Context<Self>) {
        if self.sending {
            return;
        }
        let Some(&outbox_id) = self.outbound.front() else {
            return;
        };
        let now = Instant::now();
        if now < self.next_send_at {
            let wait = self.next_send_at - now;
            return self.pause_outbound(wait, ctx);
        }
        self.sending = true;
        self.next_send_at = now + self.send_interval;
        let span = info_span!("send", session = %self.session.name, outbox_id);
        let attempt = outbound::send_one(
            self.services.clone(),
            self.session.clone(),
            ctx.address(),
            outbox_id,
        );
        ctx.spawn(
            attempt
                .instrument(span)
                .into_actor(self)
                .map(move |res, act, ctx| {
                    act.sending = false;
                    match res {
                        Ok(None) => {
                            act.outbound.pop_front();
                            act.pump_outbound(ctx);
                        }
                        // Head-of-line: later messages wait, so a chat's order holds.
                        Ok(Some(retry_in)) => act.pause_outbound(retry_in, ctx),
                        Err(e) => {
                            warn!(outbox_id, error = %e, "could not record a send; retrying");
                            act.pause_outbound(Duration::from_secs(1), ctx);
                        }
                    }
                }),
        );
    }

    fn pause_outbound(&mut self, wait: Duration, ctx: &mut Context<Self>) {
        self.sending = true;
        ctx.run_later(wait, |act, ctx| {
            act.sending = false;
            act.pump_outbound(ctx);
        });
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        debug!(session = %self.session.name, "session actor started");
        let services = self.services.clone();
        let id = self.session.id;
        ctx.wait(
            async move { outbox::open_for_session(&services.db, id).await }
                .into_actor(self)
                .map(|res, act, ctx| match res {
                    Ok(items) => {
                        if !items.is_empty() {
                            info!(session = %act.session.name, count = items.len(), "resuming unsent messages");
                        }
                        act.outbound.extend(items.iter().map(|i| i.id));
                        act.pump_outbound(ctx);
                    }
                    Err(e) => warn!(error = %e, "could not read the outbox; it is read again on the next restart"),
                }),
        );
    }
}

impl Handler<IngestCmd> for SessionActor {
    type Result = ResponseFuture<IngestResult>;

    fn handle(&mut self, IngestCmd(item): IngestCmd, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let key = chat_key(item.inbound.chat.as_ref());
        self.submit(&key, Work::Ingest(item, tx), ctx);
        Box::pin(async move { rx.await.map_err(|_| StoreError::WriterGone)? })
    }
}

impl Handler<Redeliver> for SessionActor {
    type Result = ();

    fn handle(&mut self, Redeliver(w, attempts): Redeliver, ctx: &mut Self::Context) {
        let key = chat_key(w.inbound.chat.as_ref());
        self.submit(&key, Work::Stored(w, attempts), ctx);
    }
}

impl Handler<ForChat> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: ForChat, ctx: &mut Self::Context) {
        self.submit(&msg.chat_id, Work::Task(msg.task), ctx);
    }
}

impl Handler<Enqueue> for SessionActor {
    type Result = ();

    fn handle(&mut self, e: Enqueue, ctx: &mut Self::Context) {
        if !self.outbound.contains(&e.outbox_id) {
            self.outbound.push_back(e.outbox_id);
        }
        self.pump_outbound(ctx);
    }
}

impl Handler<Idle> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: Idle, _ctx: &mut Self::Context) {
        // Only this actor submits work, so equal counts mean nothing is in flight to it.
        if let Some(entry) = self.conversations.get(&msg.chat_id) {
            if entry.submitted == msg.processed {
                if let Some(entry) = self.conversations.remove(&msg.chat_id) {
                    entry.addr.do_send(Stop);
                }
            }
        }
    }
}
