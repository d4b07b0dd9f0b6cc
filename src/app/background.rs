//! The hub's background jobs: handing stored webhooks to their actors again, adopting
//! WAHA's sessions, pruning old rows. Each stops when shutdown begins.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::shutdown::Shutdown;
use crate::actors::{Hub, Services};
use crate::domain::SessionRef;
use crate::store::ingest::StoredWebhook;
use crate::store::{events, inbox, sessions, StoreError};
use crate::waha::webhook::Envelope;

/// How long a stored webhook may wait for its actor before the sweeper hands it over again.
const SWEEP_AFTER: Duration = Duration::from_secs(10);
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Processed inbox rows are kept this long to absorb WAHA's late retries.
const INBOX_KEEP: Duration = Duration::from_secs(7 * 86_400);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Hands stored-but-unprocessed webhooks to their actors: all of them at start-up (a
/// crash between the 2xx and processing), then any that waited too long (an actor that
/// kept failing, or stopped with work in its mailbox).
pub async fn sweep_inbox(hub: Arc<Hub>, mut shutdown: Shutdown) {
    let mut first = true;
    loop {
        let before = if first {
            i64::MAX
        } else {
            hub.now_ms() - SWEEP_AFTER.as_millis() as i64
        };
        match redeliver_pending(&hub, before).await {
            Ok(0) => {}
            Ok(n) => info!(count = n, "handed stored webhooks to their actors again"),
            Err(e) => warn!(error = %e, "inbox sweep failed"),
        }
        match inbox::count_failed(hub.db()).await {
            Ok(n) => metrics::gauge!("tickhub_inbox_failed").set(n as f64),
            Err(e) => warn!(error = %e, "could not count failed webhooks"),
        }
        first = false;
        if !shutdown.sleep(SWEEP_EVERY).await {
            return;
        }
    }
}

async fn redeliver_pending(hub: &Arc<Hub>, before_ms: i64) -> Result<usize, StoreError> {
    let names: HashMap<i64, String> = sessions::list(hub.db())
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut after = 0;
    let mut count = 0;
    loop {
        let rows = inbox::pending(hub.db(), after, before_ms, 500).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            let Some(name) = names.get(&row.session_id) else {
                continue;
            };
            match serde_json::from_str::<Envelope>(&row.body) {
                Ok(envelope) => {
                    let w = StoredWebhook {
                        inbox_id: row.id,
                        session: SessionRef {
                            id: row.session_id,
                            name: name.clone(),
                        },
                        inbound: Arc::new(crate::waha::events::translate(&envelope)),
                    };
                    hub.registry().redeliver(w, row.attempts);
                    count += 1;
                }
                Err(e) => warn!(inbox_id = row.id, error = %e, "stored webhook no longer parses"),
            }
        }
    }
    Ok(count)
}

/// Reads WAHA's sessions and adopts them; retried while WAHA is unreachable.
pub async fn adopt_waha_sessions(hub: Arc<Hub>, mut shutdown: Shutdown) {
    let mut delay = Duration::from_secs(2);
    loop {
        let adopted = tokio::select! {
            r = hub.adopt_sessions() => r,
            _ = shutdown.wait() => return,
        };
        match adopted {
            Ok(n) => {
                info!(count = n, "adopted WAHA's sessions");
                return;
            }
            Err(e) => {
                warn!(error = %e, retry_in_s = delay.as_secs(), "could not read WAHA's sessions");
                if !shutdown.sleep(delay).await {
                    return;
                }
                delay = (delay * 2).min(Duration::from_secs(300));
            }
        }
    }
}

/// Drops old events (past the retention) and old processed webhooks.
pub async fn prune(services: Arc<Services>, mut shutdown: Shutdown) {
    while shutdown.sleep(PRUNE_EVERY).await {
        let now = services.now_ms();
        let events_before = now - services.config.event_retention.as_millis() as i64;
        let inbox_before = now - INBOX_KEEP.as_millis() as i64;
        let res = services
            .writer
            .run((events_before, inbox_before), |tx, (e, i)| {
                Box::pin(async move {
                    let ev = events::prune(tx, *e).await?;
                    let ib = inbox::prune(tx, *i).await?;
                    Ok((ev, ib))
                })
            })
            .await;
        match res {
            Ok((ev, ib)) => info!(events = ev, inbox = ib, "pruned old events and webhooks"),
            Err(e) => warn!(error = %e, "pruning failed"),
        }
    }
}
