//! The session registry: the only owner of the session actors' addresses and of the
//! name → session cache, and the one place that decides where a session's work runs —
//! this node's actor, or, in cluster mode, the node that owns the session.
//!
//! In a cluster a node runs actors only for the sessions it holds the lease of (see
//! `cluster`). A webhook for another node's session is stored here, unapplied and
//! durable, before its 2xx, and handed to the owner, which puts it in line behind the
//! session's earlier events; the answer waits (briefly) for that, so webhooks a client
//! sends one after another keep their order across nodes. Other work for a session owned
//! elsewhere (an agent's reply, an assignment) runs on this node's writer, first taking
//! the row lock of the conversation, so it and the owner's writes take turns; what it
//! leaves to send is announced to the owner (`handover`).

mod handover;

pub use handover::LeaseHandler;

use std::sync::Arc;

use actix::prelude::*;
use dashmap::DashMap;

use super::conversation::{Followup, Task};
use super::error::HubError;
use super::services::Services;
use super::session::{ForChat, IngestCmd, Redeliver, SessionActor};
use crate::cluster::wire::{self, Wire};
use crate::domain::inbound::Account;
use crate::domain::{Change, Reply, SessionRef, Viewer};
use crate::store::campaign_recipients::{self, QueueJob, Queued};
use crate::store::conversations::Conversation;
use crate::store::handling::{self, Outcome};
use crate::store::ingest::{self, Ingest, Ingested, StoredWebhook};
use crate::store::messages::Message;
use crate::store::sessions::{self, WaSession};
use crate::store::{inbox, outbound as out, StoreError};
use crate::waha::webhook::Envelope;

/// Where a session's work goes.
enum Owner {
    /// This node runs the session's actor.
    Local(Addr<SessionActor>),
    /// Cluster mode: another node owns the session, or (`None`) nobody does right now.
    Elsewhere(Option<String>),
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
        match &self.services.cluster {
            // A new session gets an owner on the lease loop's next look, now.
            Some(c) => c.released(),
            None => {
                self.local(&r);
            }
        }
        Ok((s, created))
    }

    /// Starts the actors of every session the database knows (so unsent replies resume);
    /// in a cluster, those this node holds (the lease loop starts the others as it takes
    /// them).
    pub async fn start_all(&self) -> Result<usize, StoreError> {
        let all = sessions::list(&self.services.db).await?;
        let mut started = 0;
        for s in &all {
            let r = self.remember(s);
            started += usize::from(self.local(&r).is_some());
        }
        Ok(started)
    }

    fn remember(&self, s: &WaSession) -> SessionRef {
        let r = SessionRef {
            id: s.id,
            name: s.name.clone(),
        };
        self.names.insert(r.name.clone(), r.clone());
        r
    }

    /// The session's actor if this node runs it: always on a single node (started on
    /// first use), only while it holds the session's lease in a cluster. The map entry is
    /// held while starting, so two threads can never start two actors (two writers) for
    /// one session.
    fn local(&self, s: &SessionRef) -> Option<Addr<SessionActor>> {
        let fence = match &self.services.cluster {
            None => None,
            Some(c) => Some(c.fence(s.id)?),
        };
        let start = || {
            let (services, s) = (self.services.clone(), s.clone());
            SessionActor::start_in_arbiter(&self.services.arbiter(), move |_| {
                SessionActor::new(services, s, fence)
            })
        };
        let mut entry = self.actors.entry(s.id).or_insert_with(start);
        if !entry.connected() {
            *entry = start();
        }
        Some(entry.clone())
    }

    /// Whether this node runs the session's work (in a cluster: holds its lease).
    pub fn runs_here(&self, s: &SessionRef) -> bool {
        self.local(s).is_some()
    }

    /// Queues a campaign's recipient in its conversation's turn; the session's queue
    /// then sends what was stored, after any waiting reply.
    pub async fn queue_campaign_recipient(
        &self,
        s: &SessionRef,
        job: QueueJob,
    ) -> Result<Queued, HubError> {
        let chat = job.chat_id.clone();
        self.run_in(
            s,
            chat,
            job,
            |tx, job| Box::pin(campaign_recipients::queue(tx, job)),
            |q| match q {
                Queued::Queued { outbox_id } => Followup::SendBulk(*outbox_id),
                _ => Followup::None,
            },
        )
        .await
    }

    async fn owner(&self, s: &SessionRef) -> Owner {
        if let Some(a) = self.local(s) {
            return Owner::Local(a);
        }
        // (A single node always runs the session: `local` never declines there.)
        match &self.services.cluster {
            Some(c) => Owner::Elsewhere(c.owner_of(s.id).await),
            None => Owner::Elsewhere(None),
        }
    }

    /// A webhook just received: its conversation stores and applies it in one
    /// transaction; this returns once that has committed. For a session another node
    /// owns: stored here, then handed over.
    pub async fn ingest(&self, item: Ingest) -> Result<Ingested, HubError> {
        let session = item.session.clone();
        let key = item.row.event_key.clone();
        // A repeated message is stored already (its key is the message's own), so a row
        // another node kept for it has nothing left to apply: only other events are looked
        // up, which spares a read for WAHA's every `message` / `message.any` pair.
        let is_message = matches!(item.inbound.change, Change::Message(_));
        let done = self.ingest_once(item).await?;
        if matches!(done, Ingested::Duplicate) && !is_message && self.services.cluster.is_some() {
            // WAHA retried a webhook a node stored but never got applied (it died before
            // handing it over): hand the stored row over now rather than leave it to the
            // owner's sweep.
            if let Some(row) = inbox::unprocessed_by_key(&self.services.db, &key).await? {
                self.apply_stored_row(&session, row).await;
            }
        }
        Ok(done)
    }

    async fn ingest_once(&self, item: Ingest) -> Result<Ingested, HubError> {
        match self.owner(&item.session).await {
            Owner::Local(a) => match a.send(IngestCmd(item.clone())).await? {
                // The lease moved while this was in line: the new owner gets it.
                Err(StoreError::Fenced { session_id }) => {
                    if let Some(c) = &self.services.cluster {
                        c.lose(session_id);
                    }
                    let owner = match self.owner(&item.session).await {
                        Owner::Elsewhere(o) => o,
                        Owner::Local(_) => None,
                    };
                    self.hand_over(item, owner).await
                }
                r => Ok(r?),
            },
            Owner::Elsewhere(owner) => self.hand_over(item, owner).await,
        }
    }

    /// A stored, unapplied webhook, handed to its conversation again (recovery). Only the
    /// session's owner applies it; elsewhere it waits for the owner's sweep.
    pub fn redeliver(&self, w: StoredWebhook, attempts: i64) {
        if let Some(a) = self.local(&w.session) {
            a.do_send(Redeliver(w, attempts));
        }
    }

    fn by_id(&self, id: i64) -> Option<SessionRef> {
        self.names
            .iter()
            .find(|e| e.value().id == id)
            .map(|e| e.value().clone())
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
        let owner = match self.owner(s).await {
            Owner::Local(a) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let task = Task::new(input, job, tx, followup);
                a.do_send(ForChat { chat_id, task });
                return Ok(rx.await.map_err(|_| HubError::Stopped)??);
            }
            Owner::Elsewhere(owner) => owner,
        };
        let out = self
            .services
            .writer
            .run(
                (input, s.id, chat_id.clone(), job),
                |tx, (input, sid, chat, job)| {
                    Box::pin(async move {
                        sessions::lock_turn(tx, *sid, chat).await?;
                        job(tx, input).await
                    })
                },
            )
            .await?;
        let to_send = match followup(&out) {
            Followup::Send(id) | Followup::SendBulk(id) => Some(id),
            Followup::None | Followup::Forget => None,
        };
        if let (Some(outbox_id), Some(owner), Some(c)) = (to_send, owner, &self.services.cluster) {
            c.link.publish(
                wire::node_channel(&owner),
                &Wire::Send {
                    session_id: s.id,
                    outbox_id,
                    chat_id,
                },
            );
        }
        Ok(out)
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

    /// `in_conversation` for a job that erases the conversation (GDPR): its actor then
    /// forgets the conversation it kept.
    pub async fn erase_in_conversation<I, O, F>(
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
        self.run_in(&Self::of(conv), chat, input, job, |_| Followup::Forget)
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

    /// Resolves or reopens `conv`; resolving may store the CSAT question (docs/csat.md),
    /// which the session's queue then sends like a reply.
    pub async fn set_resolved(
        &self,
        conv: &Conversation,
        by: &Viewer,
        resolved: bool,
    ) -> Result<Outcome<Conversation>, HubError> {
        let done = self
            .run_in(
                &Self::of(conv),
                conv.chat_id.clone(),
                (by.clone(), conv.id, resolved),
                |tx, input| Box::pin(crate::store::csat::set_resolved(tx, input)),
                |done| match done {
                    Ok((_, Some(outbox_id))) => Followup::Send(*outbox_id),
                    _ => Followup::None,
                },
            )
            .await?;
        Ok(done.map(|(c, _)| c))
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

/// A stored webhook as its actor applies it (`None`: its body no longer parses).
pub fn stored_webhook(row: &inbox::Pending, session: SessionRef) -> Option<StoredWebhook> {
    match serde_json::from_str::<Envelope>(&row.body) {
        Ok(envelope) => Some(StoredWebhook {
            inbox_id: row.id,
            session,
            inbound: Arc::new(crate::waha::events::translate(&envelope)),
        }),
        Err(e) => {
            tracing::warn!(inbox_id = row.id, error = %e, "stored webhook no longer parses");
            None
        }
    }
}
