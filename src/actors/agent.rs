//! One actor per agent websocket. It replays what the agent missed (`since`) page by
//! page, then relays live events it is entitled to, in seq order, each once; its commands
//! go through the hub's front door, checked by the same access policy as HTTP. Its
//! mailbox is its bounded outbox: when the socket cannot keep up the fanout cuts it off,
//! the actor closes the socket with a reason, and the client resumes with `since`.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws;
use tracing::{debug, info_span, warn, Instrument};

use super::error::HubError;
use super::hub::Hub;
use crate::bus::{Deliver, Goodbye, Subscription};
use crate::domain::event::{encode, frame};
use crate::domain::protocol::{Command, CommandError};
use crate::domain::{EventKind, LoggedEvent, Reply, Viewer};
use crate::store::events::{self, Replay};
use crate::store::users::User;

const PING_EVERY: Duration = Duration::from_secs(20);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
/// Events read from the log per page of a replay.
const REPLAY_PAGE: i64 = 500;

pub struct AgentActor {
    hub: Arc<Hub>,
    user: User,
    viewer: Arc<Viewer>,
    since: Option<i64>,
    subscription: Option<Subscription>,
    /// The last seq written to the socket; nothing at or below it is written again.
    last_seq: i64,
    /// Live events that arrived while the replay was running (`None` once live).
    pending: Option<Vec<Arc<LoggedEvent>>>,
    last_heard: Instant,
    /// This socket among the member's (they may have several tabs and devices).
    socket: u64,
    /// The `ref` of the command being handled.
    reference: Option<serde_json::Value>,
    /// Counted among the member's sockets by presence (from hello on).
    present: bool,
}

static NEXT_SOCKET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl AgentActor {
    pub fn new(hub: Arc<Hub>, user: User, viewer: Viewer, since: Option<i64>) -> Self {
        AgentActor {
            hub,
            user,
            viewer: Arc::new(viewer),
            since,
            subscription: None,
            last_seq: 0,
            pending: Some(Vec::new()),
            last_heard: Instant::now(),
            socket: NEXT_SOCKET.fetch_add(1, Ordering::Relaxed),
            reference: None,
            present: false,
        }
    }

    fn close(&mut self, ctx: &mut ws::WebsocketContext<Self>, code: ws::CloseCode, reason: String) {
        self.subscription = None;
        ctx.close(Some(ws::CloseReason {
            code,
            description: Some(reason),
        }));
        ctx.stop();
    }

    fn too_slow(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let reason = format!("too slow: resume with since={}", self.last_seq);
        debug!(user = self.user.id, %reason, "closing a slow socket");
        self.close(ctx, ws::CloseCode::Again, reason);
    }

    fn write(&mut self, ev: &LoggedEvent, ctx: &mut ws::WebsocketContext<Self>) {
        match ev.seq {
            // Ephemeral (typing): no seq, no replay.
            None => ctx.text(ev.frame.clone()),
            Some(seq) if seq > self.last_seq => {
                self.last_seq = seq;
                ctx.text(ev.frame.clone());
            }
            Some(_) => {}
        }
    }

    fn send(
        &self,
        ctx: &mut ws::WebsocketContext<Self>,
        kind: EventKind,
        seq: Option<i64>,
        data: &serde_json::Value,
    ) {
        match encode(data) {
            Ok(data) => ctx.text(frame(kind, seq, &data)),
            Err(e) => warn!(error = %e, "could not encode a frame"),
        }
    }

    fn error(
        &self,
        ctx: &mut ws::WebsocketContext<Self>,
        e: CommandError,
        reference: Option<serde_json::Value>,
    ) {
        let mut data =
            serde_json::json!({ "code": e.code, "message": e.message, "client_id": e.client_id });
        if let Some(r) = reference {
            data["ref"] = r;
        }
        self.send(ctx, EventKind::Error, None, &data);
    }

    /// hello, then (with `since`) the missed events, then the live ones that queued
    /// meanwhile.
    fn start_stream(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let hub = self.hub.clone();
        let fut = async move { events::last_seq(hub.db()).await }
            .instrument(info_span!("ws_start", user = self.user.id));
        ctx.spawn(fut.into_actor(self).map(|res, act, ctx| match res {
            Ok(upto) => {
                let resync = act.since.is_some_and(|since| {
                    since > upto || upto - since > act.hub.config().ws_replay_limit
                });
                let hello_seq = match act.since {
                    Some(s) if !resync => s,
                    _ => upto,
                };
                let hello = serde_json::json!({
                    "user": act.user,
                    "node": act.hub.config().node_id,
                    "seq": hello_seq,
                });
                act.send(ctx, EventKind::Hello, Some(hello_seq), &hello);
                act.last_seq = hello_seq;
                // After hello: what the member's presence brings (their own
                // `presence.updated`, their counts) is logged after the seq hello gave,
                // so it reaches this socket.
                act.hub.presence().socket_opened(act.user.id);
                act.present = true;
                metrics::counter!("tickhub_ws_connects_total").increment(1);
                match act.since {
                    Some(_) if resync => act.resync(upto, ctx),
                    Some(since) => act.replay_page(since, upto, ctx),
                    None => act.go_live(ctx),
                }
            }
            Err(e) => act.log_unreadable(e, ctx),
        }));
    }

    fn resync(&mut self, upto: i64, ctx: &mut ws::WebsocketContext<Self>) {
        self.send(
            ctx,
            EventKind::ResyncRequired,
            None,
            &serde_json::json!({ "seq": upto }),
        );
        self.last_seq = upto;
        self.go_live(ctx);
    }

    /// One page of the replay, written before the next is read: memory holds one page,
    /// and a socket that cannot take it stalls the replay instead of growing a buffer.
    fn replay_page(&mut self, from: i64, upto: i64, ctx: &mut ws::WebsocketContext<Self>) {
        let hub = self.hub.clone();
        let filter = self.viewer.events();
        let fut = async move { events::replay(hub.db(), &filter, from, upto, REPLAY_PAGE).await }
            .instrument(info_span!("ws_replay", user = self.user.id, from, upto));
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| match res {
            Ok(Replay::ResyncRequired) => act.resync(upto, ctx),
            Ok(Replay::Page { frames, scanned_to }) => {
                for f in frames {
                    ctx.text(f);
                }
                act.last_seq = act.last_seq.max(scanned_to);
                if scanned_to >= upto {
                    act.go_live(ctx);
                } else {
                    act.replay_page(scanned_to, upto, ctx);
                }
            }
            Err(e) => act.log_unreadable(e, ctx),
        }));
    }

    fn go_live(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        for ev in self.pending.take().unwrap_or_default() {
            self.write(&ev, ctx);
        }
    }

    fn log_unreadable(
        &mut self,
        e: crate::store::StoreError,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        warn!(error = %e, "could not read the event log for a websocket");
        self.close(
            ctx,
            ws::CloseCode::Error,
            "the hub could not read its event log; reconnect".into(),
        );
    }

    /// Runs a command's operation; a failure becomes an `error` frame, a success an `ack`
    /// when the command carried a `ref`.
    fn run<T: 'static>(
        &mut self,
        ctx: &mut ws::WebsocketContext<Self>,
        client_id: Option<String>,
        op: impl Future<Output = Result<T, HubError>> + 'static,
    ) {
        let reference = self.reference.take();
        ctx.spawn(op.into_actor(self).map(move |res, act, ctx| match res {
            Ok(_) => {
                if let Some(r) = reference {
                    act.send(ctx, EventKind::Ack, None, &serde_json::json!({ "ref": r }));
                }
            }
            Err(e) => act.error(
                ctx,
                CommandError {
                    code: error_code(&e),
                    message: e.public_message(),
                    client_id,
                },
                reference,
            ),
        }));
    }

    fn handle_command(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        self.reference = crate::domain::protocol::reference(text);
        let parsed = Command::parse(text);
        // Anything the member sends shows them at work, but the keep-alive `ping`.
        if parsed.as_ref().map_or(true, Command::is_activity) {
            self.hub.presence().activity(self.user.id);
        }
        let cmd = match parsed {
            Ok(c) => c,
            Err(e) => {
                let r = self.reference.take();
                return self.error(ctx, e, r);
            }
        };
        let (hub, viewer) = (self.hub.clone(), self.viewer.clone());
        match cmd {
            Command::MessageSend {
                conversation_id,
                text,
                client_id,
            } => {
                let reply = Reply {
                    conversation_id,
                    text,
                    client_id: client_id.clone(),
                    author_id: viewer.user_id,
                };
                self.run(
                    ctx,
                    client_id,
                    async move { hub.reply(&viewer, reply).await },
                );
            }
            Command::ConversationRead { conversation_id } => {
                self.run(ctx, None, async move {
                    hub.mark_read(&viewer, conversation_id).await
                });
            }
            Command::Typing { conversation_id } => {
                self.run(ctx, None, async move {
                    hub.typing(&viewer, conversation_id).await
                });
            }
            Command::PresenceSet { status } => {
                self.run(
                    ctx,
                    None,
                    async move { hub.set_presence(&viewer, status).await },
                );
            }
            Command::ConversationView { conversation_id }
            | Command::ConversationLeave { conversation_id } => {
                let looking = matches!(cmd, Command::ConversationView { .. });
                let (name, socket) = (self.user.name.clone(), self.socket);
                self.run(ctx, None, async move {
                    hub.set_viewing(&viewer, &name, socket, conversation_id, looking)
                        .await
                });
            }
            Command::ConversationAssign {
                conversation_id,
                assignee_id,
                note,
            } => {
                self.run(ctx, None, async move {
                    hub.assign(&viewer, conversation_id, assignee_id, note)
                        .await
                });
            }
            Command::ConversationResolve { conversation_id }
            | Command::ConversationReopen { conversation_id } => {
                let resolved = matches!(cmd, Command::ConversationResolve { .. });
                self.run(ctx, None, async move {
                    hub.set_resolved(&viewer, conversation_id, resolved).await
                });
            }
            Command::ConversationNote {
                conversation_id,
                text,
            } => {
                self.run(ctx, None, async move {
                    hub.add_note(&viewer, conversation_id, text).await
                });
            }
            Command::Ping => {
                let data = match self.reference.take() {
                    Some(r) => serde_json::json!({ "ref": r }),
                    None => serde_json::json!({}),
                };
                self.send(ctx, EventKind::Pong, None, &data)
            }
            // Counted above.
            Command::Activity => {}
        }
    }
}

fn error_code(e: &HubError) -> &'static str {
    match e {
        HubError::NotFound(_) => "not_found",
        HubError::Forbidden(_) => "forbidden",
        HubError::Invalid(_) | HubError::Unprocessable(_) => "invalid",
        HubError::Conflict(_) | HubError::ConflictOn(_) => "conflict",
        HubError::Waha(_) => "waha_error",
        HubError::Store(_) | HubError::Stopped => "unavailable",
        HubError::Credentials(_) => "internal",
    }
}

impl Actor for AgentActor {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.hub.config().ws_outbox);
        // Subscribe before reading the log: an event committed in between is then both
        // in the replay and in the mailbox, and the seq check drops the second copy.
        self.subscription = Some(self.hub.bus().fanout().subscribe(
            self.viewer.events(),
            ctx.address().recipient(),
            ctx.address().recipient(),
        ));
        metrics::gauge!("tickhub_ws_connections").increment(1.0);
        self.start_stream(ctx);
        ctx.run_interval(PING_EVERY, |act, ctx| {
            if act.last_heard.elapsed() > SILENCE_LIMIT {
                debug!(user = act.user.id, "websocket silent; closing");
                act.close(ctx, ws::CloseCode::Away, "no answer to pings".into());
            } else {
                ctx.ping(b"");
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.subscription = None;
        if self.present {
            self.hub.presence().socket_closed(self.user.id);
        }
        let (hub, user, socket) = (self.hub.clone(), self.user.id, self.socket);
        actix::spawn(async move { hub.socket_closed(user, socket).await });
        metrics::gauge!("tickhub_ws_connections").decrement(1.0);
    }
}

impl Handler<Deliver> for AgentActor {
    type Result = ();

    fn handle(&mut self, Deliver(ev): Deliver, ctx: &mut Self::Context) {
        let cut_off = self
            .subscription
            .as_ref()
            .is_some_and(|s| s.overflowed.load(Ordering::Acquire));
        if cut_off {
            return self.too_slow(ctx);
        }
        match &mut self.pending {
            Some(p) => {
                if p.len() >= self.hub.config().ws_outbox * 4 {
                    return self.too_slow(ctx);
                }
                p.push(ev);
            }
            None => self.write(&ev, ctx),
        }
    }
}

impl Handler<Goodbye> for AgentActor {
    type Result = ();

    fn handle(&mut self, Goodbye(reason): Goodbye, ctx: &mut Self::Context) {
        self.close(ctx, ws::CloseCode::Restart, reason.to_string());
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for AgentActor {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        match msg {
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Pong(_)) => {}
            Ok(ws::Message::Text(t)) => self.handle_command(&t, ctx),
            Ok(ws::Message::Binary(_)) => self.error(
                ctx,
                CommandError {
                    code: "bad_command",
                    message: "frames are JSON text".into(),
                    client_id: None,
                },
                None,
            ),
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(ws::Message::Continuation(_)) | Ok(ws::Message::Nop) => {}
            Err(e) => {
                debug!(error = %e, "websocket protocol error");
                ctx.stop();
            }
        }
    }
}
