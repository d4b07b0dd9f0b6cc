//! The session registry: the only owner of the session actors' addresses and of the
//! name → session cache, and the one place that decides where a session's work runs —
//! this node's actor, or (in cluster mode, later) the node that owns the session.

use std::sync::Arc;

use actix::prelude::*;
use dashmap::DashMap;

use super::conversation::{Followup, Task};
use super::error::HubError;
use super::services::Services;
use super::session::{ForChat, IngestCmd, Redeliver, SessionActor};
use crate::domain::inbound::Account;
use crate::domain::{Reply, SessionRef, Viewer};
use crate::store::conversations::Conversation;
use crate::store::handling::{self, Outcome};
use crate::store::ingest::{self, Ingest, Ingested, StoredWebhook};
use crate::store::messages::Message;
use crate::store::sessions::{self, WaSession};
use crate::store::{outbound as out, StoreError};

/// Where a session's work goes.
enum Owner {
    /// This node runs the session's actor.
    Local(Addr<SessionActor>),
}

pub struct SessionRegistry {
    services: Arc<Services>,
    actors: DashMap<i64, Addr<SessionActor>>,
    /// Session name → session (sessions are never renamed or deleted).
    names: DashMap<String, SessionRef>,
}

impl SessionRegistry {
    pub fn new(services: Arc<Services>) -> SessionRegistry {
        SessionRegistry {
            services,
            actors: DashMap::new(),
            names: DashMap::new(),
        }
    }

    /// The session called `name`, if the hub knows it.
    pub async fn resolve(&self, name: &str) -> Result<Option<SessionRef>, StoreError> {
        if let Some(s) = self.names.get(name) {
            return Ok(Some(s.clone()));
        }
        let Some(s) = sessions::by_name(&self.services.db, name).await? else {
            return Ok(None);
        };
        Ok(Some(self.remember(&s)))
    }

    /// The session's record, created if missing (`true`: it was), with its actor started.
    pub async fn ensure(&self, name: &str) -> Result<(WaSession, bool), StoreError> {
        let (s, created) =
            sessions::ensure(&self.services.db, name, self.services.now_ms()).await?;
        let r = self.remember(&s);
        self.owner(&r);
        Ok((s, created))
    }

    /// Starts the actors of every session the database knows (so unsent replies resume).
    pub async fn start_all(&self) -> Result<usize, StoreError> {
        let all = sessions::list(&self.services.db).await?;
        for s in &all {
            let r = self.remember(s);
            self.owner(&r);
        }
        Ok(all.len())
    }

    fn remember(&self, s: &WaSession) -> SessionRef {
        let r = SessionRef {
            id: s.id,
            name: s.name.clone(),
        };
        self.names.insert(r.name.clone(), r.clone());
        r
    }

    /// The session's actor, started on first use. The map entry is held while starting,
    /// so two threads can never start two actors (two writers) for one session.
    fn owner(&self, s: &SessionRef) -> Owner {
        let start = || {
            let (services, s) = (self.services.clone(), s.clone());
            SessionActor::start_in_arbiter(&self.services.arbiter(), move |_| {
                SessionActor::new(services, s)
            })
        };
        let mut entry = self.actors.entry(s.id).or_insert_with(start);
        if !entry.connected() {
            *entry = start();
        }
        Owner::Local(entry.clone())
    }

    /// A webhook just received: its conversation stores and applies it in one
    /// transaction; this returns once that has committed.
    pub async fn ingest(&self, item: Ingest) -> Result<Ingested, HubError> {
        match self.owner(&item.session) {
            Owner::Local(a) => Ok(a.send(IngestCmd(item)).await??),
        }
    }

    /// A stored, unapplied webhook, handed to its conversation again (recovery).
    pub fn redeliver(&self, w: StoredWebhook, attempts: i64) {
        match self.owner(&w.session) {
            Owner::Local(a) => a.do_send(Redeliver(w, attempts)),
        }
    }

    fn of(conv: &Conversation) -> SessionRef {
        SessionRef {
            id: conv.session_id,
            name: conv.session.clone(),
        }
    }

    /// Runs `job` in the actor of the conversation `chat_id` of session `s` (`""`: the
    /// session's own), in its turn with every other change there, and answers its result;
    /// `followup` tells the session what to do after (send a new outbox row).
    async fn run_in<I, O, F>(
        &self,
        s: &SessionRef,
        chat_id: String,
        input: I,
        job: F,
        followup: fn(&O) -> Followup,
    ) -> Result<O, HubError>
    where
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
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = Task::new(input, job, tx, followup);
        match self.owner(s) {
            Owner::Local(a) => a.do_send(ForChat { chat_id, task }),
        }
        Ok(rx.await.map_err(|_| HubError::Stopped)??)
    }

    /// Runs `job` in `conv`'s actor, in its turn with every other change of the
    /// conversation, and answers its result.
    pub async fn in_conversation<I, O, F>(
        &self,
        conv: &Conversation,
        input: I,
        job: F,
    ) -> Result<O, HubError>
    where
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
        let chat = conv.chat_id.clone();
        self.run_in(&Self::of(conv), chat, input, job, |_| Followup::None)
            .await
    }

    /// A member's reply in `conv`: checked and stored by its conversation (with its outbox
    /// row), then sent by the session's queue. `Ok(None)` when the conversation is gone.
    pub async fn reply(
        &self,
        conv: &Conversation,
        reply: Reply,
        by: &Viewer,
    ) -> Result<Outcome<Option<Message>>, HubError> {
        let stored = self
            .run_in(
                &Self::of(conv),
                conv.chat_id.clone(),
                (reply, by.clone()),
                |tx, input| Box::pin(handling::reply(tx, input)),
                |stored| match stored {
                    Ok(Some((_, Some(outbox_id)))) => Followup::Send(*outbox_id),
                    _ => Followup::None,
                },
            )
            .await?;
        Ok(stored.map(|s| s.map(|(m, _)| m)))
    }

    /// A failed message of `conv` sent again: requeued by its conversation, then sent by
    /// the session's queue.
    pub async fn retry(
        &self,
        conv: &Conversation,
        message_id: i64,
        by: &Viewer,
    ) -> Result<Outcome<Message>, HubError> {
        let requeued = self
            .run_in(
                &Self::of(conv),
                conv.chat_id.clone(),
                (by.clone(), message_id),
                |tx, input| Box::pin(handling::retry(tx, input)),
                |requeued| match requeued {
                    Ok((_, outbox_id)) => Followup::Send(*outbox_id),
                    Err(_) => Followup::None,
                },
            )
            .await?;
        Ok(requeued.map(|(m, _)| m))
    }

    pub async fn mark_read(&self, conv: &Conversation) -> Result<Option<Conversation>, HubError> {
        self.in_conversation(conv, conv.id, |tx, id| Box::pin(out::mark_read(tx, *id)))
            .await
    }

    /// What WAHA answered about a session (`asked_at`: when the hub asked), recorded
    /// through the session's own conversation actor, in order with `session.status`
    /// webhooks.
    pub async fn report_status(
        &self,
        s: &SessionRef,
        status: String,
        me: Option<Account>,
        asked_at: i64,
    ) -> Result<(), HubError> {
        let input = (s.clone(), status, me, asked_at);
        self.run_in(
            s,
            String::new(),
            input,
            |tx, (s, status, me, at)| {
                Box::pin(ingest::report_status(tx, s, status, me.as_ref(), *at))
            },
            |_| Followup::None,
        )
        .await
    }
}
