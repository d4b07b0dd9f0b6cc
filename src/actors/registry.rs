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
//! leaves to send is announced to the owner.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use dashmap::DashMap;

use super::conversation::{Followup, Task};
use super::error::HubError;
use super::services::Services;
use super::session::{ForChat, IngestCmd, Redeliver, SessionActor};
use crate::cluster::link::Answer;
use crate::cluster::wire::{self, Wire};
use crate::cluster::Owners;
use crate::domain::inbound::Account;
use crate::domain::{Reply, SessionRef, Viewer};
use crate::store::conversations::Conversation;
use crate::store::handling::{self, Outcome};
use crate::store::inbox::Received;
use crate::store::ingest::{self, Ingest, Ingested, StoredWebhook};
use crate::store::messages::Message;
use crate::store::sessions::{self, WaSession};
use crate::store::{inbox, outbound as out, StoreError};
use crate::waha::webhook::Envelope;

/// How long a webhook stored for another node's session waits for the owner to put it in
/// line before it is answered anyway (it is durable; the owner's sweep finds it).
const HANDOFF_WAIT: Duration = Duration::from_secs(2);
/// How long a webhook forwarded to its session's owner waits for the owner's commit
/// before this node stores it itself.
const FORWARD_WAIT: Duration = Duration::from_secs(1);

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

    async fn owner(&self, s: &SessionRef) -> Owner {
        if let Some(a) = self.local(s) {
            return Owner::Local(a);
        }
        match &self.services.cluster {
            Some(c) => Owner::Elsewhere(c.owner_of(s.id).await),
            None => unreachable!("a single node runs every session"),
        }
    }

    /// A webhook just received: its conversation stores and applies it in one
    /// transaction; this returns once that has committed. For a session another node
    /// owns: stored here, then handed over.
    pub async fn ingest(&self, item: Ingest) -> Result<Ingested, HubError> {
        let session = item.session.clone();
        let key = item.row.event_key.clone();
        let done = self.ingest_once(item).await?;
        if matches!(done, Ingested::Duplicate) && self.services.cluster.is_some() {
            // WAHA retried a webhook a node stored but never got applied (it died before
            // handing it over): hand the stored row over now rather than leave it to the
            // owner's sweep.
            if let Some(row) = inbox::unprocessed_by_key(&self.services.db, &key).await? {
                self.apply_stored_row(&session, row).await;
            }
        }
        Ok(done)
    }

    /// A stored, unprocessed row, to the session's owner (this node's actor, or another's).
    async fn apply_stored_row(&self, session: &SessionRef, row: inbox::Pending) {
        match self.owner(session).await {
            Owner::Local(a) => {
                if let Some(w) = stored_webhook(&row, session.clone()) {
                    a.do_send(Redeliver(w, row.attempts));
                }
            }
            Owner::Elsewhere(Some(owner)) => {
                if let Some(c) = &self.services.cluster {
                    c.link
                        .request_apply(&owner, session, row.id, row.body, HANDOFF_WAIT)
                        .await;
                }
            }
            Owner::Elsewhere(None) => {}
        }
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

    /// A webhook of a session owned elsewhere: sent to the owner, which stores and
    /// applies it in its one transaction and answers after the commit. When the owner does
    /// not answer in time (dying, or no owner right now), it is stored here unapplied —
    /// durable, so the 2xx may go — and the session's next owner applies it.
    async fn hand_over(&self, item: Ingest, owner: Option<String>) -> Result<Ingested, HubError> {
        metrics::counter!("tickhub_webhooks_forwarded_total").increment(1);
        let cluster = self.services.cluster.as_ref();
        let mut owner_alive = false;
        if let (Some(c), Some(owner)) = (cluster, &owner) {
            let answer = c
                .link
                .request_ingest(owner, &item.session, &item.row, FORWARD_WAIT)
                .await;
            match answer {
                Some(Answer::Ingested {
                    ok: true,
                    duplicate,
                }) => {
                    return Ok(match duplicate {
                        true => Ingested::Duplicate,
                        false => Ingested::Stored(Box::default()),
                    });
                }
                Some(_) => owner_alive = true,
                None => {
                    metrics::counter!("tickhub_webhooks_handoff_timeouts_total").increment(1);
                    tracing::debug!(%owner, "the owner did not answer a forwarded webhook; storing it here");
                }
            }
        }
        let (session, body) = (item.session.clone(), item.row.body.clone());
        let ids = self
            .services
            .writer
            .run(vec![item], |tx, items| {
                Box::pin(ingest::store_unapplied(tx, items))
            })
            .await?;
        let Some(inbox_id) = ids.first().copied().flatten() else {
            return Ok(Ingested::Duplicate);
        };
        // The owner answered but could not take it (its lease just moved): the session's
        // owner now is asked to apply the stored row. A silent owner is left alone: the
        // next one reads the inbox when it takes the session.
        if let (true, Some(c)) = (owner_alive, cluster) {
            if let Some(now) = c.owner_of(session.id).await {
                c.link
                    .request_apply(&now, &session, inbox_id, body, HANDOFF_WAIT)
                    .await;
            }
        }
        Ok(Ingested::Stored(Box::default()))
    }

    /// A webhook another node received for a session this node owns: stored and applied
    /// here, in line with the session's other events; `from` hears how it went.
    pub fn ingest_forwarded(&self, from: String, req: u64, session: SessionRef, row: Received) {
        let answer = move |c: &Arc<crate::cluster::Cluster>, ok, duplicate| {
            c.link
                .answer(&from, req, Answer::Ingested { ok, duplicate });
        };
        let Some(c) = self.services.cluster.clone() else {
            return;
        };
        let Some(a) = self.local(&session) else {
            return answer(&c, false, false);
        };
        let inbound = match serde_json::from_str::<Envelope>(&row.body) {
            Ok(envelope) => Arc::new(crate::waha::events::translate(&envelope)),
            Err(e) => {
                tracing::warn!(error = %e, "a forwarded webhook does not parse");
                return answer(&c, false, false);
            }
        };
        // Sent now, from the subscription's task, so forwarded webhooks keep their order
        // in the session's mailbox; only the answer is awaited elsewhere.
        let reply = a.send(IngestCmd(Ingest {
            session,
            row,
            inbound,
            known: None,
        }));
        tokio::spawn(async move {
            match reply.await {
                Ok(Ok(Ingested::Duplicate)) => answer(&c, true, true),
                Ok(Ok(Ingested::Stored(_))) => answer(&c, true, false),
                Ok(Err(_)) | Err(_) => answer(&c, false, false),
            }
        });
    }

    /// A stored, unapplied webhook, handed to its conversation again (recovery). Only the
    /// session's owner applies it; elsewhere it waits for the owner's sweep.
    pub fn redeliver(&self, w: StoredWebhook, attempts: i64) {
        if let Some(a) = self.local(&w.session) {
            a.do_send(Redeliver(w, attempts));
        }
    }

    /// A webhook another node stored for a session this node owns: in line behind the
    /// session's earlier events; `from` is told once it is.
    pub fn apply_handed_over(
        &self,
        from: &str,
        req: u64,
        session: SessionRef,
        inbox_id: i64,
        body: &str,
    ) {
        let Some(a) = self.local(&session) else {
            return;
        };
        match serde_json::from_str::<Envelope>(body) {
            Ok(envelope) => {
                let inbound = Arc::new(crate::waha::events::translate(&envelope));
                a.do_send(Redeliver(
                    StoredWebhook {
                        inbox_id,
                        session,
                        inbound,
                    },
                    0,
                ));
            }
            Err(e) => tracing::warn!(inbox_id, error = %e, "a handed-over webhook does not parse"),
        }
        if let Some(c) = &self.services.cluster {
            c.link.answer(from, req, Answer::Queued);
        }
    }

    /// An outbox row written on another node for a session this node owns.
    pub fn send_handed_over(&self, session_id: i64, outbox_id: i64, chat_id: String) {
        let Some(s) = self.by_id(session_id) else {
            return;
        };
        if let Some(a) = self.local(&s) {
            a.do_send(super::conversation::Enqueue { outbox_id, chat_id });
        }
    }

    fn by_id(&self, id: i64) -> Option<SessionRef> {
        self.names
            .iter()
            .find(|e| e.value().id == id)
            .map(|e| e.value().clone())
    }

    /// The session's record, by id, cached by name.
    async fn load(&self, id: i64) -> Result<Option<SessionRef>, StoreError> {
        if let Some(s) = self.by_id(id) {
            return Ok(Some(s));
        }
        let all = sessions::list(&self.services.db).await?;
        Ok(all.iter().find(|s| s.id == id).map(|s| self.remember(s)))
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
        if let (Followup::Send(outbox_id), Some(owner), Some(c)) =
            (followup(&out), owner, &self.services.cluster)
        {
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

/// In a cluster, the lease loop tells the registry what this node gained and lost.
pub struct LeaseHandler(pub Arc<SessionRegistry>);

impl Owners for LeaseHandler {
    fn gained(&self, session_id: i64, _token: i64) {
        let registry = self.0.clone();
        tokio::spawn(async move {
            match registry.load(session_id).await {
                Ok(Some(s)) => {
                    // Started now: it applies what waits in the inbox before anything new,
                    // then sends what waits in the outbox; its queue is drained here now.
                    registry.local(&s);
                    registry.services.router().changed(Some(session_id));
                }
                Ok(None) => tracing::warn!(session_id, "took a session the database does not know"),
                Err(e) => {
                    tracing::warn!(session_id, error = %e, "cannot read a session just taken; it starts on its first webhook")
                }
            }
        });
    }

    fn lost(&self, session_id: i64) {
        if let Some((_, a)) = self.0.actors.remove(&session_id) {
            a.do_send(super::session::Release);
        }
    }
}

impl SessionRegistry {
    /// What another node asks of this one (cluster mode).
    pub fn on_cluster_work(&self, w: Wire) {
        match w {
            Wire::Apply {
                from,
                req,
                session_id,
                session,
                inbox_id,
                body,
            } => self.apply_handed_over(
                &from,
                req,
                SessionRef {
                    id: session_id,
                    name: session,
                },
                inbox_id,
                &body,
            ),
            Wire::Ingest {
                from,
                req,
                session_id,
                session,
                event_key,
                event,
                body,
            } => self.ingest_forwarded(
                from,
                req,
                SessionRef {
                    id: session_id,
                    name: session.clone(),
                },
                Received {
                    event_key,
                    session_id,
                    event,
                    body,
                },
            ),
            Wire::Send {
                session_id,
                outbox_id,
                chat_id,
            } => self.send_handed_over(session_id, outbox_id, chat_id),
            Wire::Released { .. } => {
                if let Some(c) = &self.services.cluster {
                    c.released();
                }
            }
            _ => {}
        }
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
