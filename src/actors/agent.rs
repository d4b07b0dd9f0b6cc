//! One actor per agent websocket. It replays what the agent missed (`since`), then relays
//! live events it is entitled to, in seq order, each once. Its mailbox is its bounded
//! outbox: when the socket cannot keep up the fanout cuts it off and the actor closes the
//! socket with a reason, and the client resumes with `since`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web_actors::ws;
use serde::Deserialize;
use tracing::{debug, info_span, warn, Instrument};

use super::hub::{Hub, HubError};
use crate::bus::{Deliver, Subscription};
use crate::domain::visibility::Viewer;
use crate::store::events::{self, LoggedEvent, Replay};
use crate::store::processing::Reply;
use crate::store::users::User;

const PING_EVERY: Duration = Duration::from_secs(20);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);
const REPLAY_PAGE: i64 = 500;

pub struct AgentActor {
    hub: Arc<Hub>,
    user: User,
    viewer: Arc<Viewer>,
    since: Option<i64>,
    subscription: Option<Subscription>,
    /// The last seq written to the socket; nothing at or below it is written again.
    last_seq: i64,
    /// Live events that arrived while the replay was running.
    pending: Option<Vec<Arc<LoggedEvent>>>,
    last_heard: Instant,
}

impl AgentActor {
    pub fn new(hub: Arc<Hub>, user: User, since: Option<i64>) -> Self {
        let viewer = Arc::new(Viewer {
            user_id: user.id,
            role: user.role,
            sessions: None,
        });
        AgentActor {
            hub,
            user,
            viewer,
            since,
            subscription: None,
            last_seq: 0,
            pending: Some(Vec::new()),
            last_heard: Instant::now(),
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
        if ev.seq == 0 {
            // Ephemeral (typing): no seq, no replay.
            ctx.text(ev.frame.clone());
        } else if ev.seq > self.last_seq {
            self.last_seq = ev.seq;
            ctx.text(ev.frame.clone());
        }
    }

    fn send_json(&self, ctx: &mut ws::WebsocketContext<Self>, kind: &str, data: serde_json::Value) {
        ctx.text(events::frame(kind, None, &data.to_string()));
    }

    /// hello, then (with `since`) the missed events page by page, then the live ones
    /// that queued meanwhile.
    fn start_stream(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        let hub = self.hub.clone();
        let viewer = self.viewer.clone();
        let since = self.since;
        let fut = async move {
            let upto = events::last_seq(&hub.db).await?;
            let mut pages = Vec::new();
            let mut resync = false;
            if let Some(mut from) = since {
                loop {
                    match events::replay(&hub.db, &viewer, from, upto, REPLAY_PAGE).await? {
                        Replay::ResyncRequired => {
                            resync = true;
                            break;
                        }
                        Replay::Events { frames, scanned_to } => {
                            pages.push((frames, scanned_to));
                            if scanned_to >= upto {
                                break;
                            }
                            from = scanned_to;
                        }
                    }
                }
            }
            Ok::<_, crate::store::StoreError>((upto, pages, resync))
        }
        .instrument(info_span!("ws_replay", user = self.user.id, since = ?since));
        ctx.spawn(fut.into_actor(self).map(|res, act, ctx| match res {
            Ok((upto, pages, resync)) => {
                let hello_seq = match act.since {
                    Some(s) if !resync => s,
                    _ => upto,
                };
                let hello = serde_json::json!({
                    "user": act.user,
                    "node": act.hub.config.node_id,
                    "seq": hello_seq,
                });
                ctx.text(format!(
                    r#"{{"type":"hello","seq":{hello_seq},"data":{hello}}}"#
                ));
                act.last_seq = hello_seq;
                if resync {
                    act.send_json(ctx, "resync_required", serde_json::json!({ "seq": upto }));
                    act.last_seq = upto;
                }
                for (frames, scanned_to) in pages {
                    for f in frames {
                        ctx.text(f);
                    }
                    act.last_seq = act.last_seq.max(scanned_to);
                }
                let pending = act.pending.take().unwrap_or_default();
                for ev in pending {
                    act.write(&ev, ctx);
                }
                metrics::counter!("tickhub_ws_connects_total").increment(1);
            }
            Err(e) => {
                warn!(error = %e, "could not start a websocket stream");
                act.close(
                    ctx,
                    ws::CloseCode::Error,
                    "the hub could not read its event log; reconnect".into(),
                );
            }
        }));
    }

    fn handle_command(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        #[derive(Deserialize)]
        struct Command {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            data: serde_json::Value,
        }
        #[derive(Deserialize)]
        struct Send {
            conversation_id: i64,
            text: String,
            #[serde(default)]
            client_id: Option<String>,
        }
        #[derive(Deserialize)]
        struct ConversationRef {
            conversation_id: i64,
        }
        #[derive(Deserialize)]
        struct PresenceSet {
            status: String,
        }
        let cmd: Command = match serde_json::from_str(text) {
            Ok(c) => c,
            Err(e) => return self.error(ctx, "bad_command", &format!("not a command: {e}"), None),
        };
        let hub = self.hub.clone();
        let user_id = self.user.id;
        match cmd.kind.as_str() {
            "message.send" => match serde_json::from_value::<Send>(cmd.data) {
                Ok(s) if !s.text.trim().is_empty() => {
                    let client_id = s.client_id.clone();
                    let reply = Reply {
                        conversation_id: s.conversation_id,
                        text: s.text,
                        client_id: s.client_id,
                        author_id: user_id,
                    };
                    ctx.spawn(async move { hub.reply(reply).await }.into_actor(self).map(
                        move |res, act, ctx| {
                            if let Err(e) = res {
                                act.error(ctx, error_code(&e), &e.to_string(), client_id);
                            }
                        },
                    ));
                }
                Ok(s) => self.error(ctx, "invalid", "text must not be empty", s.client_id),
                Err(e) => self.error(ctx, "invalid", &e.to_string(), None),
            },
            "conversation.read" => match serde_json::from_value::<ConversationRef>(cmd.data) {
                Ok(r) => {
                    ctx.spawn(
                        async move { hub.mark_read(r.conversation_id).await }
                            .into_actor(self)
                            .map(|res, act, ctx| {
                                if let Err(e) = res {
                                    act.error(ctx, error_code(&e), &e.to_string(), None);
                                }
                            }),
                    );
                }
                Err(e) => self.error(ctx, "invalid", &e.to_string(), None),
            },
            "typing" => match serde_json::from_value::<ConversationRef>(cmd.data) {
                Ok(r) => {
                    ctx.spawn(
                        async move { hub.agent_typing(r.conversation_id, user_id).await }
                            .into_actor(self)
                            .map(|res, act, ctx| {
                                if let Err(e) = res {
                                    act.error(ctx, error_code(&e), &e.to_string(), None);
                                }
                            }),
                    );
                }
                Err(e) => self.error(ctx, "invalid", &e.to_string(), None),
            },
            "presence.set" => match serde_json::from_value::<PresenceSet>(cmd.data) {
                Ok(p) if matches!(p.status.as_str(), "online" | "away" | "busy" | "offline") => {
                    ctx.spawn(
                        async move { hub.set_presence(user_id, &p.status).await }
                            .into_actor(self)
                            .map(|res, act, ctx| {
                                if let Err(e) = res {
                                    act.error(ctx, error_code(&e), &e.to_string(), None);
                                }
                            }),
                    );
                }
                Ok(_) => self.error(
                    ctx,
                    "invalid",
                    "status must be online, away, busy or offline",
                    None,
                ),
                Err(e) => self.error(ctx, "invalid", &e.to_string(), None),
            },
            "ping" => self.send_json(ctx, "pong", serde_json::json!({})),
            other => self.error(
                ctx,
                "unknown_command",
                &format!("unknown command {other:?}"),
                None,
            ),
        }
    }

    fn error(
        &self,
        ctx: &mut ws::WebsocketContext<Self>,
        code: &str,
        message: &str,
        client_id: Option<String>,
    ) {
        self.send_json(
            ctx,
            "error",
            serde_json::json!({ "code": code, "message": message, "client_id": client_id }),
        );
    }
}

fn error_code(e: &HubError) -> &'static str {
    match e {
        HubError::ConversationNotFound(_) => "not_found",
        HubError::Store(_) | HubError::Stopped => "unavailable",
    }
}

impl Actor for AgentActor {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.hub.config.ws_outbox);
        // Subscribe before reading the log: an event committed in between is then both
        // in the replay and in the mailbox, and the seq check drops the second copy.
        self.subscription = Some(
            self.hub
                .bus
                .fanout()
                .subscribe(self.viewer.clone(), ctx.address().recipient()),
        );
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
                if p.len() >= self.hub.config.ws_outbox * 4 {
                    return self.too_slow(ctx);
                }
                p.push(ev);
            }
            None => self.write(&ev, ctx),
        }
    }
}

impl StreamHandler<Result<ws::Message, ws::ProtocolError>> for AgentActor {
    fn handle(&mut self, msg: Result<ws::Message, ws::ProtocolError>, ctx: &mut Self::Context) {
        self.last_heard = Instant::now();
        match msg {
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Pong(_)) => {}
            Ok(ws::Message::Text(t)) => self.handle_command(&t, ctx),
            Ok(ws::Message::Binary(_)) => {
                self.error(ctx, "bad_command", "frames are JSON text", None)
            }
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
