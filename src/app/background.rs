//! The hub's background jobs: handing stored webhooks to their actors again, adopting
//! WAHA's sessions, pruning old rows, purging expired tokens. Each stops when shutdown
//! begins.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, info, warn};

use super::shutdown::Shutdown;
use crate::actors::{Hub, Services};
use crate::domain::SessionRef;
use crate::http::login_limit::LoginLimiter;
use crate::store::{events, hook_queue, inbox, search, secrets, sessions, tokens, StoreError};

/// How long a stored webhook may wait for its actor before the sweeper hands it over again.
const SWEEP_AFTER: Duration = Duration::from_secs(10);
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Processed inbox rows are kept this long to absorb WAHA's late retries.
const INBOX_KEEP: Duration = Duration::from_secs(7 * 86_400);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often to try WAHA again while it does not answer.
const RETRY_WHILE_DOWN: Duration = Duration::from_secs(3);

const BOT_SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Pings every agent socket on this node from one timer: a timer per socket would cost
/// each idle socket its own timer entry and wake-ups (docs/architecture.md).
pub async fn ping_sockets(hub: Arc<Hub>, mut shutdown: Shutdown) {
    while shutdown.sleep(crate::actors::agent::PING_EVERY).await {
        hub.bus().fanout().ping();
    }
}

/// Resolves conversations the bot handled alone once they have been quiet for their bot's
/// `resolve_after_minutes`, each in its conversation's turn.
pub async fn resolve_quiet_bot_conversations(hub: Arc<Hub>, mut shutdown: Shutdown) {
    loop {
        let result = match hub.coordinates() {
            true => hub.resolve_quiet_bot_conversations().await,
            false => Ok(0),
        };
        match result {
            Ok(0) => {}
            Ok(n) => debug!(count = n, "resolved conversations the bot handled alone"),
            Err(e) => warn!(error = %e, "could not resolve quiet bot conversations"),
        }
        if !shutdown.sleep(BOT_SWEEP_EVERY).await {
            return;
        }
    }
}

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
            let session = SessionRef {
                id: row.session_id,
                name: name.clone(),
            };
            if let Some(w) = crate::actors::registry::stored_webhook(&row, session) {
                hub.registry().redeliver(w, row.attempts);
                count += 1;
            }
        }
    }
    Ok(count)
}

/// Keeps WAHA in line with the hub (`Hub::reconcile`): at start, then every
/// `TICKHUB_WAHA_RECONCILE_SECS`, and every few seconds while WAHA is unreachable, so the
/// first answer after an outage (WAHA restarted, its configs forgotten) repairs at once.
pub async fn reconcile_waha(hub: Arc<Hub>, mut shutdown: Shutdown) {
    let every = hub.config().waha_reconcile;
    let mut check_version = true;
    loop {
        // In a cluster one node (the coordinator) speaks for the hub to WAHA.
        if !hub.coordinates() {
            if !shutdown.sleep(RETRY_WHILE_DOWN).await {
                return;
            }
            continue;
        }
        let result = tokio::select! {
            r = async {
                if check_version {
                    if let Err(e) = hub.check_waha().await {
                        warn!(error = %e, "could not read WAHA's version");
                    }
                }
                hub.reconcile().await
            } => r,
            _ = shutdown.wait() => return,
        };
        let wait = match result {
            Ok(n) => {
                debug!(sessions = n, "reconciled with WAHA");
                check_version = false;
                every
            }
            Err(e) => {
                warn!(error = %e, "could not reconcile with WAHA");
                // WAHA may come back as another version.
                check_version = true;
                every.min(RETRY_WHILE_DOWN)
            }
        };
        if !shutdown.sleep(wait).await {
            return;
        }
    }
}

/// Events projected into the analytics tables per transaction.
const ANALYTICS_BATCH: i64 = 2000;
const ANALYTICS_EVERY: Duration = Duration::from_millis(500);

/// Keeps the analytics tables up to date from the event log (the coordinator only, so the
/// projection has one writer): a batch at a time, at once again while there is a backlog.
pub async fn project_analytics(services: Arc<Services>, mut shutdown: Shutdown) {
    loop {
        let mut backlog = false;
        if services.coordinates() {
            let res = crate::store::analytics::project_step(
                &services.db,
                &services.writer,
                services.now_ms(),
                ANALYTICS_BATCH,
            )
            .await;
            match res {
                Ok(n) => backlog = n as i64 >= ANALYTICS_BATCH,
                Err(e) => warn!(error = %e, "analytics projection failed"),
            }
        }
        let wait = if backlog {
            Duration::from_millis(1)
        } else {
            ANALYTICS_EVERY
        };
        if !shutdown.sleep(wait).await {
            return;
        }
    }
}

/// Adds stored messages to SQLite's search index behind the webhooks, a batch per writer
/// transaction, until none wait (store::search). Searches read the ones not yet added
/// row by row, so this only keeps that tail short.
pub async fn index_messages(services: Arc<Services>, mut shutdown: Shutdown) {
    while shutdown.sleep(services.config.search_index_every).await {
        let backlog = search::backlog(&services.db).await;
        if let Ok(n) = &backlog {
            // what each pass found waiting: steady growth means the index falls behind
            metrics::gauge!("tickhub_search_backlog").set(*n as f64);
        }
        match backlog {
            Ok(0) => {}
            Ok(_) => loop {
                let added = services
                    .writer
                    .run(search::INDEX_BATCH, |tx, n| {
                        Box::pin(search::index_messages(tx, *n))
                    })
                    .await;
                match added {
                    // a full batch: more may wait (a start after a bulk load)
                    Ok(n) if n >= search::INDEX_BATCH as u64 => continue,
                    Ok(_) => break,
                    Err(e) => {
                        warn!(error = %e, "could not add messages to the search index");
                        break;
                    }
                }
            },
            Err(e) => warn!(error = %e, "could not read the search index's backlog"),
        }
    }
}

/// Drops old events (past the retention) and old processed webhooks.
pub async fn prune(services: Arc<Services>, mut shutdown: Shutdown) {
    while shutdown.sleep(PRUNE_EVERY).await {
        if !services.coordinates() {
            continue;
        }
        let now = services.now_ms();
        let events_before = now - services.config.event_retention.as_millis() as i64;
        let inbox_before = now - INBOX_KEEP.as_millis() as i64;
        let copied = match hook_queue::scanned_through(&services.db).await {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e, "pruning skipped: could not read the outbound webhooks' cursor");
                continue;
            }
        };
        let res = services
            .writer
            .run(
                (events_before, inbox_before, copied),
                |tx, (e, i, copied)| {
                    Box::pin(async move {
                        let ev = events::prune(tx, *e, *copied).await?;
                        // Delivered webhooks stay in their log as long as events do.
                        hook_queue::prune(tx, *e).await?;
                        let ib = inbox::prune(tx, *i).await?;
                        Ok((ev, ib))
                    })
                },
            )
            .await;
        match res {
            Ok((ev, ib)) => info!(events = ev, inbox = ib, "pruned old events and webhooks"),
            Err(e) => warn!(error = %e, "pruning failed"),
        }
    }
}

const TOKEN_PURGE_EVERY: Duration = Duration::from_secs(3600);
const LIMITER_TIDY_EVERY: Duration = Duration::from_secs(60);

/// Deletes expired tokens at start and then hourly, and lets the login limiter forget
/// keys whose budget is whole again every minute (its memory follows recent attempts,
/// not every email ever tried).
pub async fn auth_upkeep(hub: Arc<Hub>, limiter: Arc<LoginLimiter>, mut shutdown: Shutdown) {
    let mut since_purge = TOKEN_PURGE_EVERY;
    loop {
        if since_purge >= TOKEN_PURGE_EVERY {
            since_purge = Duration::ZERO;
            match tokens::purge_expired(hub.db(), hub.now_ms()).await {
                Ok(0) => {}
                Ok(n) => info!(tokens = n, "purged expired tokens"),
                Err(e) => warn!(error = %e, "purging expired tokens failed"),
            }
        }
        limiter.tidy();
        if !shutdown.sleep(LIMITER_TIDY_EVERY).await {
            return;
        }
        since_purge += LIMITER_TIDY_EVERY;
    }
}

const SETTINGS_EVERY: Duration = Duration::from_secs(5);

/// Keeps this node's WAHA client on the API key stored in the hub's settings (`PUT
/// /api/settings/waha`), or on `WAHA_API_KEY` when none is stored: read at start and then
/// every few seconds, so a change made through any node reaches every node.
pub async fn refresh_settings(services: Arc<Services>, mut shutdown: Shutdown) {
    let mut last: Option<Option<String>> = None;
    loop {
        match secrets::get(&services.db, &services.keys, secrets::WAHA_API_KEY).await {
            Ok(key) => {
                if last.as_ref() != Some(&key) {
                    if last.is_some() {
                        info!(
                            stored = key.is_some(),
                            "the WAHA API key changed in the settings"
                        );
                    }
                    services.waha.set_api_key(key.clone());
                    last = Some(key);
                }
            }
            Err(e) => warn!(error = %e, "could not read the stored WAHA API key"),
        }
        if !shutdown.sleep(SETTINGS_EVERY).await {
            return;
        }
    }
}
