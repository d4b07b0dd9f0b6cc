//! Cluster mode: members' choices (and deactivations) reach the keeper through the
//! database, not pub/sub. Pub/sub loses messages (Redis restarting, a subscriber
//! reconnecting, a keeper dying or changing), and unlike socket counts a choice is no
//! state that the next message repeats: a member who chose busy then away must be
//! announced busy, then away.
//!
//! The member's node stores each choice (in order: one queue, one write at a time)
//! before it acknowledges the command, then nudges the keeper (pub/sub, at most once).
//! The keeper reads what is stored, in id order, on a nudge and every second; it applies
//! each choice once and deletes it in the transaction that logs what it changed
//! (`store::presence::log_outcomes`), so each is announced once even when a keeper dies
//! halfway or two overlap during a handover.

use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use super::{Keeper, RETRY};
use crate::actors::services::Services;
use crate::bus::{PresenceSignal, SignalKind};
use crate::domain::presence::{Choice, Input};
use crate::store::presence::{self as log, Outcome, StoredChoice};
use crate::store::StoreError;

/// Stored choices the keeper reads at once; more wait for the next read.
const READ_AT_MOST: i64 = 1_000;
/// Choices a node stores in one transaction.
const STORE_AT_MOST: usize = 256;

/// A choice made on this node, and who waits for it to be stored.
struct Made {
    user_id: i64,
    choice: Choice,
    at: i64,
    stored: oneshot::Sender<()>,
}

/// This node's choices on their way to the database, in the order they were made.
pub(super) struct Outbox {
    queue: mpsc::UnboundedSender<Made>,
}

impl Outbox {
    /// Starts the task that stores the node's choices.
    pub(super) fn start(services: Arc<Services>, node: Arc<str>) -> Outbox {
        let (queue, made) = mpsc::unbounded_channel();
        actix_rt::spawn(store_in_order(services, node, made));
        Outbox { queue }
    }

    /// Queues `choice`; the answer comes once it is stored (never, should the node be
    /// stopping).
    pub(super) fn send(&self, user_id: i64, choice: Choice, at: i64) -> oneshot::Receiver<()> {
        let (stored, answer) = oneshot::channel();
        let made = Made {
            user_id,
            choice,
            at,
            stored,
        };
        if self.queue.send(made).is_err() {
            debug!(user_id, %choice, "presence choice not stored: the node is stopping");
        }
        answer
    }
}

/// Stores what is queued, a batch at a time, retrying a batch until it is stored (the
/// database away), so choices stay in order; then nudges the keeper.
async fn store_in_order(
    services: Arc<Services>,
    node: Arc<str>,
    mut made: mpsc::UnboundedReceiver<Made>,
) {
    let mut batch = Vec::with_capacity(STORE_AT_MOST);
    while made.recv_many(&mut batch, STORE_AT_MOST).await > 0 {
        let rows: Vec<(i64, Choice, i64)> =
            batch.iter().map(|m| (m.user_id, m.choice, m.at)).collect();
        loop {
            let job = (node.to_string(), rows.clone());
            let res = services
                .writer
                .run(job, |tx, (node, rows)| {
                    Box::pin(log::store_choices(tx, node, rows))
                })
                .await;
            match res {
                Ok(()) => break,
                Err(StoreError::WriterGone) => return,
                Err(e) => {
                    warn!(error = %e, count = rows.len(), "could not store presence choices; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
        let user_id = batch[0].user_id;
        for m in batch.drain(..) {
            let _ = m.stored.send(());
        }
        services.bus.presence().to_keeper(PresenceSignal {
            user_id,
            node: node.clone(),
            kind: SignalKind::Chosen,
        });
    }
}

impl Keeper {
    /// Reads the stored choices and applies those not yet applied, in the order they
    /// were made. One read at a time; a nudge meanwhile reads again after it.
    pub(super) fn read_choices(&mut self, ctx: &mut Context<Self>) {
        if !self.keeping {
            return;
        }
        if self.reading {
            self.read_again = true;
            return;
        }
        self.reading = true;
        // Rows whose write ended before this read began: deleted, or to be applied again.
        for id in self.released.drain(..) {
            self.taken.remove(&id);
        }
        let db = self.inner.services.db.clone();
        let read = async move { log::pending_choices(&db, READ_AT_MOST).await };
        ctx.spawn(read.into_actor(self).map(|res, act, ctx| {
            act.reading = false;
            match res {
                Ok(choices) => {
                    for c in choices {
                        act.apply_choice(c, ctx);
                    }
                }
                Err(e) => warn!(error = %e, "could not read members' presence choices"),
            }
            if std::mem::take(&mut act.read_again) {
                act.read_choices(ctx);
            }
        }));
    }

    /// Applies a stored choice once: it stays `taken` until the write that deletes it
    /// has committed and a read begun after that.
    fn apply_choice(&mut self, c: StoredChoice, ctx: &mut Context<Self>) {
        if !self.keeping || !self.taken.insert(c.id) {
            return;
        }
        let input = c.choice.input();
        if matches!(input, Input::Set(_)) {
            self.member(c.user_id).last_activity = std::time::Instant::now();
        }
        self.from_choice = Some(c.id);
        self.step(c.user_id, input, ctx);
        // A choice that changed nothing is taken all the same.
        if let Some(id) = self.from_choice.take() {
            self.queue.push(Outcome {
                transition: None,
                choice: Some(id),
            });
            self.write(ctx);
        }
    }

    /// A write ended (committed, or given up): its choices are out of hand for the
    /// reads that begin after it (one already under way may still see their rows).
    pub(super) fn release_choices(&mut self, outcomes: &[Outcome]) {
        self.released
            .extend(outcomes.iter().filter_map(|o| o.choice));
    }
}
