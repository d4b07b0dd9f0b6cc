//! What the actors share, and the entry points the HTTP layer calls into.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use dashmap::DashMap;

use super::session::{IngestCmd, ReadCmd, ReplyCmd, Route, SessionActor};
use crate::bus::Bus;
use crate::config::Config;
use crate::domain::clock::SharedClock;
use crate::store::conversations::Conversation;
use crate::store::messages::Message;
use crate::store::processing::{InboxEvent, Ingest, Ingested, Reply, SessionRef};
use crate::store::{conversations, Db, StoreError, Writer};
use crate::waha::client::WahaClient;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("conversation {0} not found")]
    ConversationNotFound(i64),
    #[error("the hub is shutting down")]
    Stopped,
}

pub struct Hub {
    pub config: Config,
    pub db: Db,
    pub writer: Writer,
    pub bus: Arc<dyn Bus>,
    pub waha: WahaClient,
    pub clock: SharedClock,
    sessions: DashMap<i64, Addr<SessionActor>>,
    /// Session name → id, for the webhook path (sessions are never renamed or deleted).
    pub session_cache: DashMap<String, SessionRef>,
    /// The URL WAHA is told to call back.
    pub webhook_url: String,
    /// Conversation actors are spread over these threads by a hash of their chat.
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
}

impl Hub {
    pub fn new(
        config: Config,
        db: Db,
        writer: Writer,
        bus: Arc<dyn Bus>,
        waha: WahaClient,
        clock: SharedClock,
        webhook_url: String,
    ) -> Arc<Hub> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        let arbiters = (0..threads).map(|_| Arbiter::new().handle()).collect();
        Arc::new(Hub {
            config,
            db,
            writer,
            bus,
            waha,
            clock,
            sessions: DashMap::new(),
            session_cache: DashMap::new(),
            webhook_url,
            arbiters,
            next_arbiter: AtomicUsize::new(0),
        })
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn arbiter(&self) -> ArbiterHandle {
        let i = self.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.arbiters.len();
        self.arbiters[i].clone()
    }

    /// The session's actor, started on first use. The map entry is held while starting
    /// so two threads can never start two actors (two writers) for one session.
    pub fn session(self: &Arc<Self>, s: &SessionRef) -> Addr<SessionActor> {
        let start = || {
            let (hub, s) = (self.clone(), s.clone());
            SessionActor::start_in_arbiter(&self.arbiter(), move |_| SessionActor::new(hub, s))
        };
        let mut entry = self.sessions.entry(s.id).or_insert_with(start);
        if !entry.connected() {
            *entry = start();
        }
        entry.clone()
    }

    /// A webhook just received: its conversation's actor stores and applies it in one
    /// transaction; this returns once that has committed.
    pub async fn ingest(self: &Arc<Self>, item: Ingest) -> Result<Ingested, HubError> {
        let addr = self.session(&item.session);
        Ok(addr
            .send(IngestCmd(item))
            .await
            .map_err(|_| HubError::Stopped)??)
    }

    /// Hands a stored, unapplied webhook to its conversation's actor again (recovery).
    pub fn route(self: &Arc<Self>, ev: InboxEvent) {
        self.session(&ev.session).do_send(Route(ev));
    }

    async fn conversation_and_session(
        &self,
        conversation_id: i64,
    ) -> Result<(Conversation, SessionRef), HubError> {
        let conv = conversations::get(&self.db, conversation_id)
            .await?
            .ok_or(HubError::ConversationNotFound(conversation_id))?;
        let s = SessionRef {
            id: conv.session_id,
            name: conv.session.clone(),
        };
        Ok((conv, s))
    }

    /// An agent's reply: stored (with its outbox row) by the conversation's actor, then
    /// sent by the session's queue. Returns the stored message.
    pub async fn reply(self: &Arc<Self>, reply: Reply) -> Result<Message, HubError> {
        let (conv, s) = self.conversation_and_session(reply.conversation_id).await?;
        let id = reply.conversation_id;
        self.session(&s)
            .send(ReplyCmd {
                chat_id: conv.chat_id,
                reply,
            })
            .await
            .map_err(|_| HubError::Stopped)??
            .ok_or(HubError::ConversationNotFound(id))
    }

    pub async fn mark_read(
        self: &Arc<Self>,
        conversation_id: i64,
    ) -> Result<Conversation, HubError> {
        let (conv, s) = self.conversation_and_session(conversation_id).await?;
        let out = self
            .session(&s)
            .send(ReadCmd {
                chat_id: conv.chat_id,
                conversation_id,
            })
            .await
            .map_err(|_| HubError::Stopped)??;
        out.ok_or(HubError::ConversationNotFound(conversation_id))
    }

    /// An agent is typing in a conversation: an ephemeral event to whoever may see it.
    pub async fn agent_typing(&self, conversation_id: i64, user_id: i64) -> Result<(), HubError> {
        let conv = conversations::get(&self.db, conversation_id)
            .await?
            .ok_or(HubError::ConversationNotFound(conversation_id))?;
        let data = serde_json::json!({ "conversation_id": conv.id, "who": "agent", "user_id": user_id, "state": "typing" });
        self.publish_ephemeral_typing(&conv, &data);
        Ok(())
    }

    pub fn publish_ephemeral_typing(&self, conv: &Conversation, data: &serde_json::Value) {
        let kind = crate::domain::EventKind::Typing.as_str();
        self.bus
            .publish_ephemeral(crate::store::events::LoggedEvent {
                seq: 0,
                kind,
                scope: crate::store::processing::conversation_scope(conv),
                frame: crate::store::events::frame(kind, None, &data.to_string()).into(),
            });
    }
}

impl Hub {
    /// Records a member's presence and tells the supervisors. (Presence bound to live
    /// sockets, idle detection and the supervisors' board come with the team features.)
    pub async fn set_presence(&self, user_id: i64, status: &str) -> Result<(), HubError> {
        let data = serde_json::json!({ "user_id": user_id, "status": status });
        self.writer
            .run(data, |tx, data| {
                Box::pin(async move {
                    let scope = crate::domain::EventScope {
                        supervisors_only: true,
                        ..Default::default()
                    };
                    crate::store::events::append(
                        tx,
                        crate::domain::EventKind::PresenceUpdated,
                        scope,
                        data,
                    )
                    .await?;
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }
}

/// The events the hub asks WAHA for.
pub const WAHA_EVENTS: &[&str] = &[
    "message",
    "message.any",
    "message.ack",
    "message.reaction",
    "message.revoked",
    "session.status",
    "presence.update",
];

impl Hub {
    /// The webhook WAHA must call for every session of this hub.
    pub fn waha_session_config(&self) -> crate::waha::client::SessionConfig {
        use crate::waha::client::{HmacConfig, RetriesConfig, SessionConfig, WebhookConfig};
        SessionConfig {
            webhooks: vec![WebhookConfig {
                url: self.webhook_url.clone(),
                events: WAHA_EVENTS.iter().map(|s| s.to_string()).collect(),
                hmac: self
                    .config
                    .webhook_hmac_key
                    .clone()
                    .map(|key| HmacConfig { key }),
                retries: Some(RetriesConfig {
                    delay_seconds: 2,
                    attempts: 15,
                    policy: "exponential".into(),
                }),
            }],
            metadata: None,
        }
    }

    /// Records what WAHA answered about a session (status, own number). An answer is a
    /// snapshot that `session.status` webhooks may already have overtaken, so unless
    /// `authoritative` (a fresh listing at start-up) it only fills in an unknown status.
    pub async fn record_waha_status(
        &self,
        s: &SessionRef,
        info: &crate::waha::client::SessionInfo,
        authoritative: bool,
    ) -> Result<(), HubError> {
        let status = info.status.clone();
        let me = info
            .me
            .as_ref()
            .map(|m| (m.id.clone(), m.push_name.clone()));
        let s = s.clone();
        self.writer
            .run(
                (s, status, me, authoritative),
                |tx, (s, status, me, authoritative)| {
                    Box::pin(async move {
                        if !*authoritative
                            && crate::store::sessions::status_in(tx, s.id).await? != "UNKNOWN"
                        {
                            return Ok(());
                        }
                        crate::store::processing::set_session_status(
                            tx,
                            s,
                            status,
                            me.as_ref().map(|(id, name)| (id.as_str(), name.as_deref())),
                        )
                        .await
                    })
                },
            )
            .await?;
        Ok(())
    }

    /// Registers a WhatsApp session: stored here, created or updated in WAHA with our
    /// webhook, and started. `true` when the hub did not know it before.
    pub async fn register_session(
        self: &Arc<Self>,
        name: &str,
    ) -> Result<(crate::store::sessions::WaSession, bool), RegisterError> {
        let (session, created) =
            crate::store::sessions::ensure(&self.db, name, self.now_ms()).await?;
        let sref = SessionRef {
            id: session.id,
            name: session.name.clone(),
        };
        self.session_cache.insert(sref.name.clone(), sref.clone());
        let info = self
            .waha
            .upsert_session(name, &self.waha_session_config())
            .await?;
        self.record_waha_status(&sref, &info, false).await?;
        self.session(&sref);
        let session = crate::store::sessions::by_name(&self.db, name)
            .await?
            .unwrap_or(session);
        Ok((session, created))
    }

    /// Adopts the sessions WAHA already has: known here, and calling our webhook. A
    /// session whose webhooks lack ours is updated (WAHA restarts it to apply that).
    pub async fn adopt_sessions(self: &Arc<Self>) -> Result<usize, RegisterError> {
        let list = self.waha.list_sessions().await?;
        let mut adopted = 0;
        for info in list {
            let (session, _) =
                crate::store::sessions::ensure(&self.db, &info.name, self.now_ms()).await?;
            let sref = SessionRef {
                id: session.id,
                name: session.name.clone(),
            };
            self.session_cache.insert(sref.name.clone(), sref.clone());
            let ours = info
                .config
                .as_ref()
                .and_then(|c| c.get("webhooks"))
                .and_then(|w| w.as_array())
                .is_some_and(|hooks| {
                    hooks.iter().any(|h| {
                        h.get("url").and_then(|u| u.as_str()) == Some(self.webhook_url.as_str())
                    })
                });
            let info = if ours {
                info
            } else {
                self.waha
                    .upsert_session(&info.name, &self.waha_session_config())
                    .await?
            };
            self.record_waha_status(&sref, &info, true).await?;
            self.session(&sref);
            adopted += 1;
        }
        Ok(adopted)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("WAHA: {0}")]
    Waha(#[from] crate::waha::client::WahaError),
}
