//! One actor per WhatsApp session: it routes the session's work to conversation actors
//! (session-level work to the session's own, keyed ""), is the one writer of the
//! session's status, and drains the session's outbound queue to WAHA at a bounded rate,
//! each message once (see `outbound`). Sends to different chats overlap (up to
//! `MAX_IN_FLIGHT`); a chat's messages go one at a time, in order, and a chat waiting to
//! retry holds back only its own.

use std::collections::{HashMap, HashSet, VecDeque};
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
use crate::store::{inbox, outbox, Fence, StoreError, Writer};

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

/// Cluster mode: this node no longer owns the session; the actor and its conversations
/// stop (what they had in line fails, and is retried where the session went).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Release;

/// Cluster mode: how often the outbox is read again for rows written on other nodes whose
/// announcement was lost.
const OUTBOX_RESCAN: Duration = Duration::from_secs(5);

/// Cluster mode: when a session just taken reads its inbox again (longer than a node
/// waits for the owner to confirm a handed-over webhook).
const READOPT_AFTER: Duration = Duration::from_secs(3);

/// Sends under way at once per session (each to a different chat).
const MAX_IN_FLIGHT: usize = 8;

/// An outbox row waiting to be sent, and its chat.
struct Queued {
    outbox_id: i64,
    chat_id: String,
    /// A campaign's: sent only when no member's or bot's reply is ready.
    bulk: bool,
}

struct ConversationEntry {
    addr: Addr<ConversationActor>,
    submitted: u64,
}

pub struct SessionActor {
    services: Arc<Services>,
    session: SessionRef,
    /// The writer for the session's changes: fenced by this node's lease in a cluster.
    writer: Writer,
    conversations: HashMap<String, ConversationEntry>,
    /// Outbox rows not yet sent, in order (a row stays here while its send is under way).
    outbound: VecDeque<Queued>,
    /// Chats with a send under way.
    in_flight: HashSet<String>,
    /// Chats waiting to retry, until when.
    retry_at: HashMap<String, Instant>,
    /// A pump scheduled for later (the rate, a retry).
    wake: Option<SpawnHandle>,
    next_send_at: Instant,
    send_interval: Duration,
}

/// The conversation actor key of a change: its chat, or "" for session-level ones.
fn chat_key(chat: Option<&ChatId>) -> String {
    chat.map(|c| c.as_str().to_string()).unwrap_or_default()
}

impl SessionActor {
    pub fn new(services: Arc<Services>, session: SessionRef, fence: Option<Fence>) -> Self {
        let send_interval = Duration::from_secs_f64(1.0 / services.config.send_rate_per_session);
        SessionActor {
            writer: services.writer.fenced(fence),
            services,
            session,
            conversations: HashMap::new(),
            outbound: VecDeque::new(),
            in_flight: HashSet::new(),
            retry_at: HashMap::new(),
            wake: None,
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
            let (services, session, chat, writer) = (
                self.services.clone(),
                self.session.clone(),
                chat_id.to_string(),
                self.writer.clone(),
            );
            // On the session's own thread: a webhook then crosses no thread between the
            // session and its conversation (each crossing is a wake-up, and at 1,000
            // webhooks/s those were a fifth of the hub's CPU). Sessions spread over threads.
            let addr = ConversationActor::new(services, session, link, chat, writer).start();
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

    /// Starts every send it may: the first queued row of each chat that has no send under
    /// way and is not waiting to retry, while fewer than `MAX_IN_FLIGHT` are under way and
    /// the session's rate allows.
    fn pump_outbound(&mut self, ctx: &mut Context<Self>) {
        loop {
            if self.in_flight.len() >= MAX_IN_FLIGHT {
                return;
            }
            let now = Instant::now();
            let mut seen = HashSet::new();
            let mut next_retry: Option<Instant> = None;
            let mut ready = None;
            let mut ready_bulk = None;
            for q in &self.outbound {
                if !seen.insert(q.chat_id.as_str()) || self.in_flight.contains(&q.chat_id) {
                    continue;
                }
                match self.retry_at.get(&q.chat_id) {
                    Some(&at) if at > now => {
                        next_retry = Some(next_retry.map_or(at, |n| n.min(at)));
                    }
                    _ if q.bulk => {
                        if ready_bulk.is_none() {
                            ready_bulk = Some((q.outbox_id, q.chat_id.clone()));
                        }
                    }
                    _ => {
                        ready = Some((q.outbox_id, q.chat_id.clone()));
                        break;
                    }
                }
            }
            // Campaigns wait while a member's or a bot's reply is ready to go.
            let Some((outbox_id, chat_id)) = ready.or(ready_bulk) else {
                if let Some(at) = next_retry {
                    self.wake_at(at, ctx);
                }
                return;
            };
            if now < self.next_send_at {
                let at = self.next_send_at;
                return self.wake_at(at, ctx);
            }
            self.next_send_at = now + self.send_interval;
            self.retry_at.remove(&chat_id);
            self.in_flight.insert(chat_id.clone());
            self.start_send(outbox_id, chat_id, ctx);
        }
    }

    fn start_send(&mut self, outbox_id: i64, chat_id: String, ctx: &mut Context<Self>) {
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
                    act.in_flight.remove(&chat_id);
                    match res {
                        Ok(None) => act.outbound.retain(|q| q.outbox_id != outbox_id),
                        // The row stays at its chat's head: the chat's later rows wait.
                        Ok(Some(retry_in)) => {
                            act.retry_at.insert(chat_id, Instant::now() + retry_in);
                        }
                        Err(e) => {
                            warn!(outbox_id, error = %e, "could not record a send; retrying");
                            act.retry_at
                                .insert(chat_id, Instant::now() + Duration::from_secs(1));
                        }
                    }
                    act.pump_outbound(ctx);
                }),
        );
    }

    /// Pumps again at `at` (one scheduled pump at a time: the earliest wins).
    fn wake_at(&mut self, at: Instant, ctx: &mut Context<Self>) {
        if let Some(h) = self.wake.take() {
            ctx.cancel_future(h);
        }
        let wait = at.saturating_duration_since(Instant::now());
        self.wake = Some(ctx.run_later(wait, |act, ctx| {
            act.wake = None;
            act.pump_outbound(ctx);
        }));
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        debug!(session = %self.session.name, "session actor started");
        if self.services.cluster.is_some() {
            // Taken over: what waits in the inbox (stored by other nodes, or left by the
            // previous owner) goes in line before anything that arrives from now on.
            self.adopt_inbox(ctx);
            // Nodes that stored a webhook for the previous owner while its lease was still
            // running waited for it in vain: their rows are read again once that wait is
            // over (a row already in line is not queued twice, nor applied twice).
            ctx.run_later(READOPT_AFTER, |act, ctx| act.adopt_inbox(ctx));
            ctx.run_interval(OUTBOX_RESCAN, |act, ctx| act.read_outbox(ctx, false));
        }
        self.read_outbox(ctx, true);
    }
}

impl SessionActor {
    /// Queues the outbox rows not yet sent (`first`: at start, before any other message).
    fn read_outbox(&mut self, ctx: &mut Context<Self>, first: bool) {
        let services = self.services.clone();
        let id = self.session.id;
        let fut = async move { outbox::open_for_session(&services.db, id).await }
            .into_actor(self)
            .map(move |res, act, ctx| match res {
                Ok(items) => {
                    let known: HashSet<i64> = act.outbound.iter().map(|q| q.outbox_id).collect();
                    let new: Vec<Queued> = items
                        .into_iter()
                        .filter(|i| !known.contains(&i.id))
                        .map(|i| Queued {
                            outbox_id: i.id,
                            chat_id: i.chat_id,
                            bulk: i.bulk,
                        })
                        .collect();
                    if first && !new.is_empty() {
                        info!(session = %act.session.name, count = new.len(), "resuming unsent messages");
                    }
                    act.outbound.extend(new);
                    act.pump_outbound(ctx);
                }
                Err(e) => warn!(error = %e, "could not read the outbox; it is read again later"),
            });
        if first {
            ctx.wait(fut);
        } else {
            ctx.spawn(fut);
        }
    }

    /// Hands the session's unprocessed webhooks to their conversations, oldest first.
    fn adopt_inbox(&mut self, ctx: &mut Context<Self>) {
        let services = self.services.clone();
        let session = self.session.clone();
        ctx.wait(
            async move {
                let mut rows = Vec::new();
                let mut after = 0;
                loop {
                    let page =
                        inbox::pending_for_session(&services.db, session.id, after, 1000).await?;
                    let Some(last) = page.last() else { break };
                    after = last.id;
                    rows.extend(page);
                }
                Ok::<_, StoreError>(rows)
            }
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(rows) => {
                    if !rows.is_empty() {
                        info!(session = %act.session.name, count = rows.len(), "applying webhooks stored before this node took the session");
                    }
                    for row in rows {
                        let attempts = row.attempts;
                        if let Some(w) = super::registry::stored_webhook(&row, act.session.clone()) {
                            let key = chat_key(w.inbound.chat.as_ref());
                            act.submit(&key, Work::Stored(w, attempts), ctx);
                        }
                    }
                }
                Err(e) => warn!(error = %e, "could not read the inbox; the sweep applies what waits"),
            }),
        );
    }
}

impl Handler<Release> for SessionActor {
    type Result = ();

    fn handle(&mut self, _: Release, ctx: &mut Self::Context) {
        info!(session = %self.session.name, "session released by this node");
        for (_, entry) in self.conversations.drain() {
            entry.addr.do_send(Stop);
        }
        ctx.stop();
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
        if !self.outbound.iter().any(|q| q.outbox_id == e.outbox_id) {
            self.outbound.push_back(Queued {
                outbox_id: e.outbox_id,
                chat_id: e.chat_id,
                bulk: e.bulk,
            });
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
