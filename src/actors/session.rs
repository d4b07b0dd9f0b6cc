//! One actor per WhatsApp session: it routes the session's events to conversation actors
//! (session-level ones to the session's own, keyed ""), and drains the session's
//! outbound queue to WAHA at a bounded rate, each message once.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;
use tracing::{debug, info, info_span, warn, Instrument};

use super::conversation::{
    ConversationActor, IngestResult, ReadResult, ReplyResult, Stop, Submit, Work,
};
use super::hub::{Hub, HubError};
use crate::store::processing::{self, InboxEvent, Ingest, Reply, SendResult, SessionRef};
use crate::store::{outbox, StoreError};
use crate::waha::client::{SendText, WahaError};

/// Give up on a message after this many attempts (about 10 minutes of backoff).
const MAX_SEND_ATTEMPTS: i64 = 12;

/// A stored webhook to apply again (recovery).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Route(pub InboxEvent);

/// A webhook just received; answered once it is durable.
#[derive(Message)]
#[rtype(result = "IngestResult")]
pub struct IngestCmd(pub Ingest);

/// An agent's reply, answered with the stored message once its actor applied it.
#[derive(Message)]
#[rtype(result = "ReplyResult")]
pub struct ReplyCmd {
    pub chat_id: String,
    pub reply: Reply,
}

/// An agent read the conversation.
#[derive(Message)]
#[rtype(result = "ReadResult")]
pub struct ReadCmd {
    pub chat_id: String,
    pub conversation_id: i64,
}

/// An outbox row to send.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Enqueue(pub i64);

/// A conversation actor has been idle; it may stop if nothing was sent to it since.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ConversationIdle {
    pub chat_id: String,
    pub processed: u64,
}

struct ConversationEntry {
    addr: Addr<ConversationActor>,
    submitted: u64,
}

pub struct SessionActor {
    hub: Arc<Hub>,
    session: SessionRef,
    conversations: HashMap<String, ConversationEntry>,
    /// Outbox ids waiting to be sent, in order.
    outbound: VecDeque<i64>,
    sending: bool,
    next_send_at: Instant,
    send_interval: Duration,
}

impl SessionActor {
    pub fn new(hub: Arc<Hub>, session: SessionRef) -> Self {
        let send_interval = Duration::from_secs_f64(1.0 / hub.config.send_rate_per_session);
        SessionActor {
            hub,
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
            let (hub, session, me, chat) = (
                self.hub.clone(),
                self.session.clone(),
                ctx.address(),
                chat_id.to_string(),
            );
            let addr = ConversationActor::start_in_arbiter(&self.hub.arbiter(), move |_| {
                ConversationActor::new(hub, session, me, chat)
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
            self.sending = true;
            ctx.run_later(wait, |act, ctx| {
                act.sending = false;
                act.pump_outbound(ctx);
            });
            return;
        }
        self.sending = true;
        self.next_send_at = now + self.send_interval;
        let hub = self.hub.clone();
        let session = self.session.clone();
        let span = info_span!("send", session = %session.name, outbox_id);
        ctx.spawn(
            send_one(hub, session, outbox_id)
                .instrument(span)
                .into_actor(self)
                .map(move |res, act, ctx| {
                    act.sending = false;
                    match res {
                        Ok(None) => {
                            act.outbound.pop_front();
                        }
                        Ok(Some(retry_in)) => {
                            // Head-of-line: later messages wait, so a chat's order holds.
                            act.sending = true;
                            ctx.run_later(retry_in, |act, ctx| {
                                act.sending = false;
                                act.pump_outbound(ctx);
                            });
                            return;
                        }
                        Err(e) => {
                            warn!(outbox_id, error = %e, "could not record a send; retrying");
                            act.sending = true;
                            ctx.run_later(Duration::from_secs(1), |act, ctx| {
                                act.sending = false;
                                act.pump_outbound(ctx);
                            });
                            return;
                        }
                    }
                    act.pump_outbound(ctx);
                }),
        );
    }
}

fn backoff(attempts: i64) -> Duration {
    Duration::from_millis((500u64 << attempts.clamp(0, 7) as u32).min(60_000))
}

/// One attempt at one outbox row. `Ok(Some(d))`: try again after `d`.
async fn send_one(
    hub: Arc<Hub>,
    session: SessionRef,
    outbox_id: i64,
) -> Result<Option<Duration>, StoreError> {
    let Some(item) = outbox::get(&hub.db, outbox_id).await? else {
        return Ok(None);
    };
    if item.state == "sent" || item.state == "failed" {
        return Ok(None);
    }
    let now = hub.now_ms();
    if item.next_attempt_at > now {
        return Ok(Some(Duration::from_millis(
            (item.next_attempt_at - now) as u64,
        )));
    }
    let result = attempt(&hub, &session, &item).await?;
    let retry = match &result {
        SendResult::Retry { at, .. } => {
            Some(Duration::from_millis((at - hub.now_ms()).max(0) as u64))
        }
        SendResult::Sent(_) => {
            metrics::counter!("tickhub_messages_sent_total").increment(1);
            None
        }
        SendResult::Failed(reason) => {
            warn!(outbox_id, reason = %reason, "message failed");
            metrics::counter!("tickhub_messages_failed_total").increment(1);
            None
        }
    };
    hub.writer
        .run((outbox_id, result), |tx, (id, r)| {
            Box::pin(processing::record_send(tx, *id, r))
        })
        .await?;
    Ok(retry)
}

async fn attempt(
    hub: &Arc<Hub>,
    session: &SessionRef,
    item: &outbox::OutboxItem,
) -> Result<SendResult, StoreError> {
    let retry = |e: &WahaError| SendResult::Retry {
        at: hub.now_ms() + backoff(item.attempts).as_millis() as i64,
        error: e.to_string(),
    };
    if item.attempts >= MAX_SEND_ATTEMPTS {
        return Ok(SendResult::Failed(format!(
            "gave up after {} attempts",
            item.attempts
        )));
    }
    // An earlier attempt may have reached WhatsApp before we lost track of it (a crash,
    // a timeout): ask WAHA for the reserved id before sending again.
    if item.attempts > 0 {
        if let Some(id) = item.waha_id.as_deref() {
            match hub.waha.get_message(&session.name, &item.chat_id, id).await {
                Ok(Some(_)) => {
                    info!(
                        outbox_id = item.id,
                        waha_id = id,
                        "an earlier attempt went through; not sending again"
                    );
                    return Ok(SendResult::Sent(Some(id.to_string())));
                }
                Ok(None) => {}
                Err(e) => return Ok(retry(&e)),
            }
        }
    }
    let raw_id = match item.waha_id.as_deref() {
        Some(id) => Some(crate::domain::chat::raw_message_id(id).to_string()),
        None => match hub.waha.new_message_id(&session.name).await {
            Ok(Some(raw)) => {
                let serialized = format!("true_{}_{}", item.chat_id, raw);
                hub.writer
                    .run((item.message_id, serialized), |tx, (m, id)| {
                        Box::pin(processing::reserve_waha_id(tx, *m, id))
                    })
                    .await?;
                Some(raw)
            }
            // Older WAHA cannot reserve ids: send without one.
            Ok(None) => None,
            Err(e) if e.is_retryable() => return Ok(retry(&e)),
            Err(_) => None,
        },
    };
    hub.writer
        .run(item.id, |tx, id| Box::pin(outbox::mark_sending(tx, *id)))
        .await?;
    let req = SendText {
        session: session.name.clone(),
        chat_id: item.chat_id.clone(),
        text: item.text.clone(),
        reply_to: None,
        id: raw_id.clone(),
    };
    Ok(match hub.waha.send_text(&req).await {
        Ok(sent) => SendResult::Sent(
            sent.id
                .or_else(|| raw_id.map(|r| format!("true_{}_{}", item.chat_id, r))),
        ),
        Err(e) if e.is_retryable() => {
            debug!(error = %e, "WAHA refused for now");
            retry(&e)
        }
        Err(e) => SendResult::Failed(e.to_string()),
    })
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        debug!(session = %self.session.name, "session actor started");
        let hub = self.hub.clone();
        let id = self.session.id;
        ctx.wait(
            async move { outbox::open_for_session(&hub.db, id).await }
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

/// The conversation actor key of an event: its chat, or "" for session-level events.
fn chat_key(envelope: &crate::waha::webhook::Envelope) -> String {
    envelope.chat().map(|c| c.into_string()).unwrap_or_default()
}

impl Handler<Route> for SessionActor {
    type Result = ();

    fn handle(&mut self, Route(ev): Route, ctx: &mut Self::Context) {
        let key = chat_key(&ev.envelope);
        self.submit(&key, Work::Inbox(ev), ctx);
    }
}

impl Handler<IngestCmd> for SessionActor {
    type Result = ResponseFuture<IngestResult>;

    fn handle(&mut self, IngestCmd(item): IngestCmd, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        let key = chat_key(&item.envelope);
        self.submit(&key, Work::Ingest(item, tx), ctx);
        Box::pin(async move { rx.await.map_err(|_| StoreError::WriterGone)? })
    }
}

impl Handler<ReplyCmd> for SessionActor {
    type Result = ResponseFuture<ReplyResult>;

    fn handle(&mut self, cmd: ReplyCmd, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.submit(&cmd.chat_id, Work::Reply(cmd.reply, tx), ctx);
        Box::pin(async move { rx.await.map_err(|_| HubError::Stopped)? })
    }
}

impl Handler<ReadCmd> for SessionActor {
    type Result = ResponseFuture<ReadResult>;

    fn handle(&mut self, cmd: ReadCmd, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.submit(&cmd.chat_id, Work::Read(cmd.conversation_id, tx), ctx);
        Box::pin(async move { rx.await.map_err(|_| HubError::Stopped)? })
    }
}

impl Handler<Enqueue> for SessionActor {
    type Result = ();

    fn handle(&mut self, Enqueue(id): Enqueue, ctx: &mut Self::Context) {
        if !self.outbound.contains(&id) {
            self.outbound.push_back(id);
        }
        self.pump_outbound(ctx);
    }
}

impl Handler<ConversationIdle> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: ConversationIdle, _ctx: &mut Self::Context) {
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
