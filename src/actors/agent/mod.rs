//! One actor per agent websocket. It replays what the agent missed (`since`) page by
//! page, then relays live events it is entitled to, in seq order, each once; its commands
//! go through the hub's front door, checked by the same access policy as HTTP. Its
//! mailbox is its bounded outbox: when the socket cannot keep up the fanout cuts it off,
//! the actor closes the socket with a reason, and the client resumes with `since`. The
//! socket itself is read and written in the actor's context (`socket`); one node-wide
//! ticker pings every socket (`Ping`), so an idle socket has no timer of its own.

mod socket;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info_span, warn, Instrument};

use super::error::HubError;
use super::hub::Hub;
use crate::bus::{Deliver, Goodbye, OpenSocket, Ping, Subscription};
use crate::domain::event::{encode, frame, FrameText};
use crate::domain::protocol::{Command, CommandError};
use crate::domain::{EventKind, LoggedEvent, Reply, Viewer};
use crate::store::events::{self, Replay};
use crate::store::users::User;

pub use socket::{config as socket_config, Ws};

/// How often every socket is pinged (by one ticker for the node, see `Fanout::ping`).
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// A socket that neither answered nor sent anything this long is closed.
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
/// A socket whose writes could not finish this long (the client stopped reading) is
/// closed as too slow; its mailbox had stopped meanwhile, bounding its memory.
const STUCK_LIMIT: Duration = Duration::from_secs(120);
/// How long a closing socket gets to take its last frames and the close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(10);
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
    /// The connection, once the actor runs.
    ws: Option<socket::Socket>,
    /// A close frame is on its way: nothing else is written.
    closing: bool,
    /// Counts this socket among the node's open ones until the actor is gone (shutdown
    /// waits for them).
    _open: OpenSocket,
}

static NEXT_SOCKET: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl AgentActor {
    pub fn new(hub: Arc<Hub>, user: User, viewer: Viewer, since: Option<i64>) -> Self {
        AgentActor {
            _open: hub.bus().fanout().socket_opened(),
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
            ws: None,
            closing: false,
        }
    }

    /// Runs the actor on `ws` (an upgraded connection) in this thread's arbiter.
    pub fn start_on(mut self, ws: Ws) {
        AgentActor::create(move |ctx| {
            self.ws = Some(socket::Socket::start(ws, ctx));
            self
        });
    }

    fn text(&self, frame: FrameText) {
        if let Some(ws) = &self.ws {
            ws.send(Message::Text(frame));
        }
    }

    /// Lets the client's socket catch up before anything else is handled when it is
    /// behind; it is closed as too slow if it cannot within `STUCK_LIMIT`.
    fn hold_while_blocked(&self, ctx: &mut Context<Self>) {
        if let Some(ws) = self.ws.as_ref().filter(|ws| ws.is_blocked()) {
            ctx.wait(ws.drain(STUCK_LIMIT).map(|written, act: &mut Self, ctx| {
                if !written {
                    act.too_slow(ctx);
                }
            }));
        }
    }

    /// Writes what is queued (the close frame last), then stops.
    fn finish(&mut self, ctx: &mut Context<Self>) {
        self.subscription = None;
        self.closing = true;
        match &self.ws {
            Some(ws) => {
                ws.flush();
                ctx.wait(
                    ws.drain(CLOSE_GRACE)
                        .map(|_, _, ctx: &mut Context<Self>| ctx.stop()),
                );
            }
            None => ctx.stop(),
        }
    }

    fn close(&mut self, ctx: &mut Context<Self>, code: CloseCode, reason: String) {
        if self.closing {
            return;
        }
        if let Some(ws) = &self.ws {
            ws.send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })));
        }
        self.finish(ctx);
    }

    fn too_slow(&mut self, ctx: &mut Context<Self>) {
        let reason = format!("too slow: resume with since={}", self.last_seq);
        debug!(user = self.user.id, %reason, "closing a slow socket");
        self.close(ctx, CloseCode::Again, reason);
    }

    fn write(&mut self, ev: &LoggedEvent) {
        match ev.seq {
            // Ephemeral (typing): no seq, no replay.
            None => self.text(ev.frame.clone()),
            Some(seq) if seq > self.last_seq => {
                self.last_seq = seq;
                self.text(ev.frame.clone());
            }
            Some(_) => {}
        }
    }

    fn send(&self, kind: EventKind, seq: Option<i64>, data: &serde_json::Value) {
        match encode(data) {
            Ok(data) => self.text(frame(kind, seq, &data)),
            Err(e) => warn!(error = %e, "could not encode a frame"),
        }
    }

    fn error(&self, e: CommandError, reference: Option<serde_json::Value>) {
        let mut data =
            serde_json::json!({ "code": e.code, "message": e.message, "client_id": e.client_id });
        if let Some(r) = reference {
            data["ref"] = r;
        }
        self.send(EventKind::Error, None, &data);
    }

    /// hello, then (with `since`) the missed events, then the live ones that queued
    /// meanwhile.
    fn start_stream(&mut self, ctx: &mut Context<Self>) {
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
                act.send(EventKind::Hello, Some(hello_seq), &hello);
                // hello is the first frame: commands are read from now on.
                if let Some(ws) = &act.ws {
                    ws.start_reading(ctx);
                }
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

    fn resync(&mut self, upto: i64, ctx: &mut Context<Self>) {
        self.send(
            EventKind::ResyncRequired,
            None,
            &serde_json::json!({ "seq": upto }),
        );
        self.last_seq = upto;
        self.go_live(ctx);
    }

    /// One page of the replay, written before the next is read: memory holds one page,
    /// and a socket that cannot take it stalls the replay instead of growing a buffer.
    fn replay_page(&mut self, from: i64, upto: i64, ctx: &mut Context<Self>) {
        let hub = self.hub.clone();
        let filter = self.viewer.events();
        let fut = async move { events::replay(hub.db(), &filter, from, upto, REPLAY_PAGE).await }
            .instrument(info_span!("ws_replay", user = self.user.id, from, upto));
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| match res {
            Ok(Replay::ResyncRequired) => act.resync(upto, ctx),
            Ok(Replay::Page { frames, scanned_to }) => {
                for f in frames {
                    act.text(f);
                }
                act.last_seq = act.last_seq.max(scanned_to);
                let Some(ws) = &act.ws else { return };
                ctx.wait(
                    ws.drain(STUCK_LIMIT)
                        .map(move |written, act: &mut Self, ctx| {
                            if !written {
                                act.too_slow(ctx);
                            } else if scanned_to >= upto {
                                act.go_live(ctx);
                            } else {
                                act.replay_page(scanned_to, upto, ctx);
                            }
                        }),
                );
            }
            Err(e) => act.log_unreadable(e, ctx),
        }));
    }

    fn go_live(&mut self, ctx: &mut Context<Self>) {
        for ev in self.pending.take().unwrap_or_default() {
            self.write(&ev);
        }
        self.hold_while_blocked(ctx);
    }

    fn log_unreadable(&mut self, e: crate::store::StoreError, ctx: &mut Context<Self>) {
        warn!(error = %e, "could not read the event log for a websocket");
        self.close(
            ctx,
            CloseCode::Error,
            "the hub could not read its event log; reconnect".into(),
        );
    }

    /// Runs a command's operation; a failure becomes an `error` frame, a success an `ack`
    /// when the command carried a `ref`.
    fn run<T: 'static>(
        &mut self,
        ctx: &mut Context<Self>,
        client_id: Option<String>,
        op: impl Future<Output = Result<T, HubError>> + 'static,
    ) {
        let reference = self.reference.take();
        ctx.spawn(op.into_actor(self).map(move |res, act, _| match res {
            Ok(_) => {
                if let Some(r) = reference {
                    act.send(EventKind::Ack, None, &serde_json::json!({ "ref": r }));
                }
            }
            Err(e) => act.error(
                CommandError {
                    code: error_code(&e),
                    message: e.public_message(),
                    client_id,
                },
                reference,
            ),
        }));
    }

    fn handle_command(&mut self, text: &str, ctx: &mut Context<Self>) {
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
                return self.error(e, r);
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
                self.send(EventKind::Pong, None, &data)
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
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.hub.config().ws_outbox);
        // Subscribe before reading the log: an event committed in between is then both
        // in the replay and in the mailbox, and the seq check drops the second copy.
        self.subscription = Some(self.hub.bus().fanout().subscribe_socket(
            self.viewer.events(),
            ctx.address().recipient(),
            ctx.address().recipient(),
            ctx.address().recipient(),
            self.hub.config().ws_outbox,
        ));
        metrics::gauge!("tickhub_ws_connections").increment(1.0);
        self.start_stream(ctx);
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

    fn handle(&mut self, Deliver(events): Deliver, ctx: &mut Self::Context) {
        let Some(sub) = self.subscription.as_ref() else {
            return;
        };
        if sub.cut_off() {
            return self.too_slow(ctx);
        }
        sub.taken(events.len());
        match &mut self.pending {
            Some(p) => {
                if p.len() + events.len() > self.hub.config().ws_outbox * 4 {
                    return self.too_slow(ctx);
                }
                p.extend(events.iter().cloned());
            }
            None => {
                for ev in events.iter() {
                    self.write(ev);
                }
                // A client that does not read stops this mailbox, which then fills, and
                // the fanout cuts the socket off: its memory stays bounded.
                self.hold_while_blocked(ctx);
            }
        }
    }
}

impl Handler<Goodbye> for AgentActor {
    type Result = ();

    fn handle(&mut self, Goodbye(reason): Goodbye, ctx: &mut Self::Context) {
        self.close(ctx, CloseCode::Restart, reason.to_string());
    }
}

impl Handler<Ping> for AgentActor {
    type Result = ();

    fn handle(&mut self, _: Ping, ctx: &mut Self::Context) {
        if self.last_heard.elapsed() > SILENCE_LIMIT {
            debug!(user = self.user.id, "websocket silent; closing");
            self.close(ctx, CloseCode::Away, "no answer to pings".into());
        } else if let Some(ws) = &self.ws {
            ws.send(Message::Ping(Default::default()));
        }
    }
}

impl socket::SocketHandler for AgentActor {
    fn received(&mut self, msg: Message, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        if self.closing {
            return;
        }
        match msg {
            Message::Text(t) => self.handle_command(&t, ctx),
            Message::Binary(_) => self.error(
                CommandError {
                    code: "bad_command",
                    message: "frames are JSON text".into(),
                    client_id: None,
                },
                None,
            ),
            // tungstenite queued the pong; it leaves with the next flush.
            Message::Ping(_) => {
                if let Some(ws) = &self.ws {
                    ws.flush();
                }
            }
            // tungstenite queued the answering close frame.
            Message::Close(_) => self.finish(ctx),
            Message::Pong(_) | Message::Frame(_) => {}
        }
    }

    fn ended(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
