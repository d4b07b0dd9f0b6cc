//! Cluster mode's side of the registry: webhooks forwarded to a session's owner (or stored
//! here when it does not answer), what other nodes ask of this one, and what the lease
//! loop says this node gained or lost.

use std::sync::Arc;
use std::time::Duration;

use super::{stored_webhook, Owner, SessionRegistry};
use crate::actors::error::HubError;
use crate::actors::session::{IngestCmd, Redeliver};
use crate::cluster::link::Answer;
use crate::cluster::wire::Wire;
use crate::cluster::Owners;
use crate::domain::SessionRef;
use crate::store::inbox::{self, Received};
use crate::store::ingest::{self, Ingest, Ingested, StoredWebhook};
use crate::store::StoreError;
use crate::waha::webhook::Envelope;

/// How long a webhook stored for another node's session waits for the owner to put it in
/// line before it is answered anyway (it is durable; the owner's sweep finds it).
const HANDOFF_WAIT: Duration = Duration::from_secs(2);
/// How long a webhook forwarded to its session's owner waits for the owner's commit
/// before this node stores it itself.
const FORWARD_WAIT: Duration = Duration::from_secs(1);

impl SessionRegistry {
    /// A stored, unprocessed row, to the session's owner (this node's actor, or another's).
    pub(super) async fn apply_stored_row(&self, session: &SessionRef, row: inbox::Pending) {
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

    /// A webhook of a session owned elsewhere: sent to the owner, which stores and
    /// applies it in its one transaction and answers after the commit. When the owner does
    /// not answer in time (dying, or no owner right now), it is stored here unapplied —
    /// durable, so the 2xx may go — and the session's next owner applies it.
    pub(super) async fn hand_over(
        &self,
        item: Ingest,
        owner: Option<String>,
    ) -> Result<Ingested, HubError> {
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
            a.do_send(crate::actors::conversation::Enqueue {
                outbox_id,
                chat_id,
                bulk: false,
            });
        }
    }

    /// The session's record, by id, cached by name.
    pub(super) async fn load(&self, id: i64) -> Result<Option<SessionRef>, StoreError> {
        if let Some(s) = self.by_id(id) {
            return Ok(Some(s));
        }
        let all = crate::store::sessions::list(&self.services.db).await?;
        Ok(all.iter().find(|s| s.id == id).map(|s| self.remember(s)))
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
            a.do_send(crate::actors::session::Release);
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
