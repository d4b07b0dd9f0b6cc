//! The outbound webhook dispatcher (coordinating node only): woken by new events (or its
//! poll), copies them from the log into the delivery queue (`store::hook_queue`), then POSTs each subscription's queue in
//! order, one delivery at a time, from a task of its own: a slow or failing subscriber
//! holds back only itself, never the inbox nor the other subscribers. A failure (a non-2xx,
//! a timeout, no answer) is retried after an exponential backoff with jitter; the
//! delivery keeps its place at the head of its subscription's queue meanwhile.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tracing::{debug, warn};

use super::shutdown::Shutdown;
use crate::actors::Services;
use crate::domain::hook::{backoff, signature};
use crate::store::hook_queue::{self, Delivered, Due, Failure};
use crate::store::StoreError;

/// Events read from the log per copying transaction.
const COPY_BATCH: i64 = 500;
/// Deliveries a subscription's task reads per query.
const SEND_BATCH: i64 = 50;
/// With no active subscription, how often the copy cursor is moved to the log's end.
const IDLE_COPY_EVERY: Duration = Duration::from_secs(60);
/// How much of a subscriber's answer the log keeps.
const RESPONSE_EXCERPT: usize = 1024;
/// After new events wake the dispatcher, how long it lets more gather before copying:
/// at 1,000 webhooks/s, a copy of ~50 events twenty times a second rather than bursts of
/// 500 on the poll (which showed in the inbox's p99, docs/benchmarks.md).
const GATHER: Duration = Duration::from_millis(50);

pub async fn dispatch(services: Arc<Services>, mut shutdown: Shutdown) {
    let http = reqwest::Client::builder()
        .timeout(services.config.outbound_timeout)
        .connect_timeout(services.config.outbound_timeout.min(Duration::from_secs(5)))
        // A redirect would send the signed body somewhere the subscription does not name.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tickhub/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default();
    let busy: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let mut last_copy: Option<Instant> = None;
    loop {
        let mut active = false;
        if services.coordinates() {
            // With no subscription the cursor only has to keep up for pruning's sake:
            // no write (on SQLite, no turn at the one writer) every poll.
            active = hook_queue::any_active(&services.db).await.unwrap_or(true);
            if active || last_copy.is_none_or(|at| at.elapsed() >= IDLE_COPY_EVERY) {
                copy(&services).await;
                last_copy = Some(Instant::now());
            }
            start_senders(&services, &http, &busy).await;
        }
        // While someone subscribes, new events wake it early; the poll still comes for
        // retries that fall due (and to notice a first subscription).
        let woken = if active {
            tokio::select! {
                _ = services.bus.fanout().logged() => true,
                _ = tokio::time::sleep(services.config.outbound_poll) => false,
                _ = shutdown.wait() => return,
            }
        } else {
            if !shutdown.sleep(services.config.outbound_poll).await {
                return;
            }
            false
        };
        if woken && !shutdown.sleep(GATHER).await {
            return;
        }
    }
}

async fn copy(services: &Services) {
    loop {
        match hook_queue::copy_batch(&services.db, services.now_ms(), COPY_BATCH).await {
            Ok((n, more)) => {
                if n > 0 {
                    debug!(deliveries = n, "queued outbound webhooks");
                    metrics::counter!("tickhub_outbound_queued_total").increment(n as u64);
                }
                if !more {
                    return;
                }
            }
            Err(e) => {
                warn!(error = %e, "could not queue outbound webhooks");
                return;
            }
        }
    }
}

async fn start_senders(
    services: &Arc<Services>,
    http: &reqwest::Client,
    busy: &Arc<Mutex<HashSet<i64>>>,
) {
    let due = match hook_queue::due_subscriptions(&services.db, services.now_ms()).await {
        Ok(d) => d,
        Err(e) => return warn!(error = %e, "could not read the outbound webhook queue"),
    };
    for id in due {
        let fresh = busy
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id);
        if !fresh {
            continue;
        }
        let (services, http, busy) = (services.clone(), http.clone(), busy.clone());
        actix_rt::spawn(async move {
            if let Err(e) = drain(&services, &http, id).await {
                warn!(subscription = id, error = %e, "outbound webhook sending stopped");
            }
            busy.lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .remove(&id);
        });
    }
}

/// Sends subscription `id`'s due deliveries in order until one fails or none is left.
/// A batch's delivered run is recorded in one statement after it (or before a failure is
/// recorded): a crash in between sends those again, with their same `id`, which the
/// at-least-once promise allows; one commit per delivery would cost the database a
/// commit for every event.
async fn drain(services: &Services, http: &reqwest::Client, id: i64) -> Result<(), StoreError> {
    loop {
        if !services.coordinates() {
            return Ok(());
        }
        let batch = hook_queue::next_of(&services.db, id, services.now_ms(), SEND_BATCH).await?;
        if batch.is_empty() {
            return Ok(());
        }
        let mut delivered = Vec::with_capacity(batch.len());
        for d in &batch {
            let outcome = attempt(services, http, d).await?;
            let at = services.now_ms();
            let Some(error) = outcome.error else {
                metrics::counter!("tickhub_outbound_attempts_total", "outcome" => "delivered")
                    .increment(1);
                delivered.push(Delivered {
                    id: d.id,
                    at,
                    status: outcome.status,
                    response: outcome.response,
                });
                continue;
            };
            hook_queue::record_delivered(&services.db, &delivered).await?;
            let attempts = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
            let c = &services.config;
            let wait = backoff(
                attempts,
                c.outbound_retry_base,
                c.outbound_retry_max,
                rand::rng().random(),
            );
            hook_queue::record_failure(
                &services.db,
                d.id,
                &Failure {
                    at,
                    status: outcome.status,
                    error: &error,
                    response: outcome.response.as_deref(),
                    retry_at: at + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2),
                },
            )
            .await?;
            metrics::counter!("tickhub_outbound_attempts_total", "outcome" => "failed")
                .increment(1);
            debug!(delivery = d.id, subscription = d.subscription_id, %error, "outbound webhook failed; will retry");
            return Ok(());
        }
        hook_queue::record_delivered(&services.db, &delivered).await?;
    }
}

/// One attempt at `d`.
async fn attempt(
    services: &Services,
    http: &reqwest::Client,
    d: &Due,
) -> Result<Outcome, StoreError> {
    let body = d.body()?;
    Ok(match services.keys.open(&d.secret) {
        Ok(secret) => post(http, d, &secret, body).await,
        Err(e) => Outcome {
            status: None,
            error: Some(format!(
                "the subscription's secret could not be opened: {e}"
            )),
            response: None,
        },
    })
}

struct Outcome {
    status: Option<u16>,
    /// `None`: delivered.
    error: Option<String>,
    response: Option<String>,
}

async fn post(http: &reqwest::Client, d: &Due, secret: &str, body: String) -> Outcome {
    let sent = http
        .post(&d.url)
        .header("content-type", "application/json")
        .header("X-Tickhub-Signature", signature(secret, body.as_bytes()))
        .header("X-Tickhub-Event", &d.event)
        .header("X-Tickhub-Delivery", d.id.to_string())
        .body(body)
        .send()
        .await;
    match sent {
        Ok(mut r) => {
            let status = r.status();
            let mut excerpt = Vec::new();
            // Only the start of the answer is kept; the rest is not read.
            while excerpt.len() < RESPONSE_EXCERPT {
                match r.chunk().await {
                    Ok(Some(c)) => excerpt.extend_from_slice(&c),
                    _ => break,
                }
            }
            excerpt.truncate(RESPONSE_EXCERPT);
            let response = String::from_utf8_lossy(&excerpt).into_owned();
            Outcome {
                status: Some(status.as_u16()),
                error: (!status.is_success()).then(|| format!("answered {status}")),
                response: Some(response),
            }
        }
        Err(e) => Outcome {
            status: None,
            error: Some(if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "could not connect".to_string()
            } else {
                format!("request failed: {e}")
            }),
            response: None,
        },
    }
}
