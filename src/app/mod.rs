//! Composition: builds the hub from its configuration — database, writer, bus, WAHA
//! client, clock, actors, HTTP server and background jobs — and stops it cleanly. Tests and
//! `demo` start it the same way `serve` does; tests may swap the clock, the bus or the WAHA
//! client through [`AppBuilder`].
//!
//! Shutdown (SIGTERM, SIGINT, or [`RunningApp::stop`]): stop accepting, close agents'
//! sockets (they reconnect elsewhere or later with `since`), let in-flight requests finish
//! (a webhook in flight is answered after its commit), stop the background jobs, commit
//! what the writer still holds, close the database.

mod background;
mod hooks;
pub mod notifications;
mod server;
pub mod shutdown;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix::Arbiter;
use actix_web::web;
use tracing::{info, warn};

use crate::actors::{Hub, Services};
use crate::bus::local::LocalBus;
use crate::bus::Bus;
use crate::config::Config;
use crate::domain::{SharedClock, SystemClock};
use crate::store::{Db, StoreError, Writer};
use crate::waha::client::WahaClient;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("password hashing: {0}")]
    Credentials(#[from] crate::credentials::CredentialError),
    #[error("cluster: {0}")]
    Cluster(#[from] crate::cluster::ClusterError),
    #[error("secret key: {0}")]
    SecretKey(#[from] crate::secrets::KeyError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// How long in-flight requests get to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn connect_db(config: &Config) -> Result<Db, StartError> {
    let db = Db::connect(config).await?;
    db.migrate().await?;
    Ok(db)
}

/// Builds a hub: the configuration, plus the parts tests may replace (defaults: the
/// system clock, the in-process bus, a WAHA client for `WAHA_URL`).
pub struct AppBuilder {
    config: Config,
    clock: Option<SharedClock>,
    bus: Option<Arc<dyn Bus>>,
    waha: Option<WahaClient>,
}

impl AppBuilder {
    pub fn new(config: Config) -> AppBuilder {
        AppBuilder {
            config,
            clock: None,
            bus: None,
            waha: None,
        }
    }

    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    pub fn bus(mut self, bus: Arc<dyn Bus>) -> Self {
        self.bus = Some(bus);
        self
    }

    pub fn waha(mut self, waha: WahaClient) -> Self {
        self.waha = Some(waha);
        self
    }

    /// Starts everything; must run inside an actix System (`#[actix_web::main]`).
    pub async fn start(self) -> Result<RunningApp, StartError> {
        let config = self.config;
        crate::metrics::install();
        // The hash unknown emails are checked against is made now, not on the first one.
        crate::credentials::start(crate::credentials::Limits {
            concurrency: config.hash_concurrency,
            wait: config.hash_wait,
        })
        .await?;
        let db = connect_db(&config).await?;
        let keys = crate::secrets::load(&config)?;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        // Cluster mode: the Redis bus and the leases, unless a test brought its own bus.
        let cluster = match &config.redis_url {
            Some(url) => {
                let link = crate::cluster::link::Link::start(url, config.node_id.as_str().into())?;
                Some(crate::cluster::Cluster::new(
                    link,
                    db.clone(),
                    config.lease_ttl,
                ))
            }
            None => None,
        };
        let bus: Arc<dyn Bus> = match (self.bus, &cluster) {
            (Some(bus), _) => bus,
            (None, Some(c)) => {
                crate::bus::redis::RedisBus::start(c.link.clone(), db.clone(), c.coordinator())
                    .await?
            }
            (None, None) => Arc::new(LocalBus::new()),
        };
        let waha = self.waha.unwrap_or_else(|| {
            WahaClient::new(
                config.waha_url.as_str(),
                config.waha_api_key.clone(),
                config.waha_timeout,
            )
        });
        let publisher = bus.clone();
        let writer = Writer::start_lingering(
            db.clone(),
            clock.clone(),
            Arc::new(move |evs| publisher.publish(evs)),
            config.write_linger,
        );
        let listener =
            std::net::TcpListener::bind(config.bind).map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
        if !config.bind.ip().is_loopback() && config.webhook_hmac_key.is_none() {
            warn!(
                bind = %config.bind,
                "listening beyond loopback without WAHA_WEBHOOK_HMAC_KEY: anyone who can reach \
                 this port can forge WAHA webhooks; set WAHA_WEBHOOK_HMAC_KEY (and the same key in WAHA)"
            );
        }
        let webhook_url = config.webhook_url(addr);
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        let arbiters: Vec<Arbiter> = (0..threads).map(|_| Arbiter::new()).collect();
        let services = Services::new(
            config.clone(),
            db,
            writer,
            waha,
            clock,
            bus,
            cluster,
            webhook_url,
            arbiters.iter().map(Arbiter::handle).collect(),
            keys,
        );
        // The WAHA API key stored in the settings wins over WAHA_API_KEY from the first
        // call on (`background::refresh_settings` follows later changes).
        match crate::store::secrets::get(
            &services.db,
            &services.keys,
            crate::store::secrets::WAHA_API_KEY,
        )
        .await
        {
            Ok(Some(k)) => services.waha.set_api_key(Some(k)),
            Ok(None) => {}
            Err(e) => {
                warn!(error = %e, "could not read the stored WAHA API key; using WAHA_API_KEY")
            }
        }
        let hub = Hub::new(services.clone());

        let data = web::Data::new(hub.clone());
        let limiter = Arc::new(crate::http::login_limit::LoginLimiter::new(
            config.login_rate_per_account,
            config.login_rate_per_ip,
        ));
        let limiter_data = web::Data::from(limiter.clone());
        let server = server::serve(listener, data, limiter_data, DRAIN_TIMEOUT)
            .map_err(|source| StartError::Bind { addr, source })?;

        // Sessions known here get their actor now, so unsent replies resume at once.
        hub.registry().start_all().await?;
        // Their bots are compiled ahead, off the writer, so the first message after a
        // start does not compile one inside its transaction.
        let warm = services.clone();
        actix_rt::spawn(async move {
            let ids: Vec<i64> = match crate::store::sessions::list(&warm.db).await {
                Ok(all) => all.iter().map(|s| s.id).collect(),
                Err(e) => {
                    return tracing::debug!(error = %e, "could not list sessions to compile their bots")
                }
            };
            if let Err(e) = warm.bots.warm(&warm.db, &ids).await {
                tracing::debug!(error = %e, "could not compile the bots ahead");
            }
        });
        // Contact imports a restart interrupted resume where their last chunk committed.
        let resume = hub.clone();
        actix_rt::spawn(async move {
            if !resume.coordinates() {
                return;
            }
            match resume.resume_imports().await {
                Ok(0) => {}
                Ok(n) => info!(count = n, "resumed contact imports"),
                Err(e) => tracing::warn!(error = %e, "could not resume contact imports"),
            }
        });
        let (trigger, shutdown) = shutdown::channel();
        let mut tasks = vec![
            actix_rt::spawn(background::sweep_inbox(hub.clone(), shutdown.clone())),
            actix_rt::spawn(background::reconcile_waha(hub.clone(), shutdown.clone())),
            actix_rt::spawn(background::resolve_quiet_bot_conversations(
                hub.clone(),
                shutdown.clone(),
            )),
            actix_rt::spawn(background::auth_upkeep(
                hub.clone(),
                limiter,
                shutdown.clone(),
            )),
            actix_rt::spawn(background::ping_sockets(hub.clone(), shutdown.clone())),
            actix_rt::spawn(background::project_analytics(
                services.clone(),
                shutdown.clone(),
            )),
            actix_rt::spawn(background::refresh_settings(
                services.clone(),
                shutdown.clone(),
            )),
            actix_rt::spawn(hooks::dispatch(services.clone(), shutdown.clone())),
            actix_rt::spawn(notifications::send_emails(
                services.clone(),
                shutdown.clone(),
            )),
            actix_rt::spawn(notifications::watch_sla(services.clone(), shutdown.clone())),
            actix_rt::spawn(notifications::daily_summaries(
                services.clone(),
                shutdown.clone(),
            )),
            actix_rt::spawn(background::prune(services.clone(), shutdown.clone())),
        ];
        if matches!(services.db, crate::store::Db::Sqlite { .. }) {
            tasks.push(actix_rt::spawn(background::index_messages(
                services.clone(),
                shutdown,
            )));
        }
        info!(%addr, node = %config.node_id, database = ?config.database_kind, cluster = config.redis_url.is_some(), waha = %crate::config::redact_url(config.waha_url.as_str()), "tickhub started");
        Ok(RunningApp {
            addr,
            hub,
            services,
            handle: server.handle(),
            // Serving from now on (an actix server does nothing until polled).
            server: Some(actix_rt::spawn(server)),
            trigger,
            tasks,
            arbiters,
        })
    }
}

/// Starts a hub with the default parts.
pub async fn start(config: Config) -> Result<RunningApp, StartError> {
    AppBuilder::new(config).start().await
}

/// A started hub: its address, its front door, and what it takes to stop it.
pub struct RunningApp {
    pub addr: SocketAddr,
    pub hub: Arc<Hub>,
    services: Arc<Services>,
    handle: actix_web::dev::ServerHandle,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    trigger: shutdown::ShutdownTrigger,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    arbiters: Vec<Arbiter>,
}

impl RunningApp {
    /// Runs until SIGTERM or SIGINT (or the server ends on its own), then shuts down.
    pub async fn run_until_signalled(mut self) -> std::io::Result<()> {
        let Some(server) = self.server.take() else {
            return Ok(());
        };
        tokio::pin!(server);
        let ended = tokio::select! {
            r = &mut server => Some(r),
            s = signal() => {
                info!(signal = s, "shutting down");
                None
            }
        };
        let r = match ended {
            Some(r) => r,
            None => {
                self.begin_stop();
                server.await
            }
        };
        self.finish().await;
        r.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Shuts down as on SIGTERM.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.begin_stop();
        let r = match self.server.take() {
            Some(server) => server.await,
            None => Ok(Ok(())),
        };
        self.finish().await;
        r.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    fn begin_stop(&self) {
        self.trigger.trigger();
        let fanout = self.services.bus.fanout().clone();
        fanout.close_all("the hub is restarting; reconnect with since");
        let handle = self.handle.clone();
        actix_rt::spawn(async move {
            // Agents' sockets run in the server's worker threads but are no longer its
            // connections (`http::upgrade`): the workers stop once they have closed.
            let deadline = tokio::time::Instant::now() + DRAIN_TIMEOUT;
            while fanout.open_sockets() > 0 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            handle.stop(true).await
        });
    }

    /// After the server has stopped (no webhook in flight any more): background jobs end,
    /// a cluster node hands its sessions over, the writer commits what it holds, the
    /// database closes.
    async fn finish(&mut self) {
        self.trigger.trigger();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        if let Some(c) = &self.services.cluster {
            c.drain().await;
        }
        self.services.writer.close().await;
        self.services.db.close().await;
        for a in self.arbiters.drain(..) {
            a.stop();
        }
        info!("tickhub stopped");
    }
}

/// The first of SIGTERM and SIGINT.
async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
