//! Builds the hub from its configuration: database, writer, bus, actors, HTTP server and
//! background jobs. Tests and `demo` start it the same way `serve` does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpServer};
use tracing::{info, warn};

use crate::actors::Hub;
use crate::bus::local::LocalBus;
use crate::bus::Bus;
use crate::config::Config;
use crate::domain::clock::SharedClock;
use crate::domain::SystemClock;
use crate::store::processing::{InboxEvent, SessionRef};
use crate::store::{events, inbox, sessions, Db, StoreError, Writer};
use crate::waha::client::WahaClient;
use crate::waha::webhook::Envelope;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A started hub: its address, its shared state, and the server to await.
pub struct RunningApp {
    pub addr: SocketAddr,
    pub hub: Arc<Hub>,
    pub server: actix_web::dev::Server,
}

/// How long a stored webhook may wait for its actor before the sweeper hands it over again.
const SWEEP_AFTER: Duration = Duration::from_secs(10);
/// Processed inbox rows are kept this long to absorb WAHA's late retries.
const INBOX_KEEP: Duration = Duration::from_secs(7 * 86_400);

pub async fn connect_db(config: &Config) -> Result<Db, StoreError> {
    let db = Db::connect(config).await?;
    db.migrate().await?;
    Ok(db)
}

/// Starts everything; must run inside an actix System (`#[actix_web::main]`).
pub async fn start(config: Config) -> Result<RunningApp, StartError> {
    crate::metrics::install();
    let db = connect_db(&config).await?;
    let clock: SharedClock = Arc::new(SystemClock);
    let bus: Arc<dyn Bus> = Arc::new(LocalBus::new());
    let publisher = bus.clone();
    let writer = Writer::start(
        db.clone(),
        clock.clone(),
        Arc::new(move |evs| publisher.publish(evs)),
    );
    let listener = std::net::TcpListener::bind(config.bind).map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.bind,
        source,
    })?;
    let waha = WahaClient::new(
        config.waha_url.as_str(),
        config.waha_api_key.clone(),
        config.waha_timeout,
    );
    let webhook_url = config.webhook_url(addr);
    let hub = Hub::new(config.clone(), db, writer, bus, waha, clock, webhook_url);

    let data = web::Data::new(hub.clone());
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .wrap(tracing_actix_web::TracingLogger::<
                crate::http::request_span::RequestSpan,
            >::new())
            .configure(crate::http::routes)
    })
    // Nagle's algorithm would hold back small websocket frames until the client's
    // delayed ACK (~40 ms): latency is what this server is for.
    .tcp_nodelay(true)
    .listen(listener)
    .map_err(|source| StartError::Bind { addr, source })?
    .shutdown_timeout(10)
    .run();

    start_background(hub.clone()).await?;
    info!(%addr, node = %config.node_id, database = ?config.database_kind, waha = %config.waha_url, "tickhub started");
    Ok(RunningApp { addr, hub, server })
}

async fn start_background(hub: Arc<Hub>) -> Result<(), StoreError> {
    // Sessions known here get their actor now, so unsent replies resume at once.
    for s in sessions::list(&hub.db).await? {
        let r = SessionRef {
            id: s.id,
            name: s.name,
        };
        hub.session_cache.insert(r.name.clone(), r.clone());
        hub.session(&r);
    }
    actix_rt::spawn(sweep_inbox(hub.clone()));
    actix_rt::spawn(adopt_waha_sessions(hub.clone()));
    actix_rt::spawn(prune(hub));
    Ok(())
}

/// Hands stored-but-unprocessed webhooks to their actors: all of them at start-up (a
/// crash between the 2xx and processing), then any that waited too long (an actor that
/// kept failing, or stopped with work in its mailbox).
async fn sweep_inbox(hub: Arc<Hub>) {
    let mut first = true;
    loop {
        let before = if first {
            i64::MAX
        } else {
            hub.now_ms() - SWEEP_AFTER.as_millis() as i64
        };
        match resend_pending(&hub, before).await {
            Ok(0) => {}
            Ok(n) => info!(count = n, "handed stored webhooks to their actors again"),
            Err(e) => warn!(error = %e, "inbox sweep failed"),
        }
        first = false;
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

async fn resend_pending(hub: &Arc<Hub>, before_ms: i64) -> Result<usize, StoreError> {
    let names: std::collections::HashMap<i64, String> = sessions::list(&hub.db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut after = 0;
    let mut count = 0;
    loop {
        let rows = inbox::pending(&hub.db, after, before_ms, 500).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            let Some(name) = names.get(&row.session_id) else {
                continue;
            };
            match serde_json::from_str::<Envelope>(&row.body) {
                Ok(envelope) => {
                    hub.route(InboxEvent {
                        inbox_id: row.id,
                        session: SessionRef {
                            id: row.session_id,
                            name: name.clone(),
                        },
                        envelope: Arc::new(envelope),
                    });
                    count += 1;
                }
                Err(e) => warn!(inbox_id = row.id, error = %e, "stored webhook no longer parses"),
            }
        }
    }
    Ok(count)
}

/// Reads WAHA's sessions and adopts them; retried while WAHA is unreachable.
async fn adopt_waha_sessions(hub: Arc<Hub>) {
    let mut delay = Duration::from_secs(2);
    loop {
        match hub.adopt_sessions().await {
            Ok(n) => {
                info!(count = n, "adopted WAHA's sessions");
                return;
            }
            Err(e) => {
                warn!(error = %e, retry_in_s = delay.as_secs(), "could not read WAHA's sessions");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(300));
            }
        }
    }
}

async fn prune(hub: Arc<Hub>) {
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let events_before = hub.now_ms() - hub.config.event_retention.as_millis() as i64;
        let inbox_before = hub.now_ms() - INBOX_KEEP.as_millis() as i64;
        let res = hub
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
