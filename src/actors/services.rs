//! What every actor and the hub's front door share: configuration, the database and its
//! writer, the WAHA client, the clock, the bus, and the threads actors run on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use actix::ArbiterHandle;

use super::router::Router;
use crate::bus::Bus;
use crate::cluster::Cluster;
use crate::config::Config;
use crate::domain::SharedClock;
use crate::store::bot_cache::BotCache;
use crate::store::bot_flow::{Flow, Online};
use crate::store::{Db, Writer};
use crate::waha::client::WahaClient;

pub struct Services {
    pub config: Config,
    pub db: Db,
    pub(crate) writer: Writer,
    pub waha: WahaClient,
    pub clock: SharedClock,
    pub bus: Arc<dyn Bus>,
    /// Cluster mode: the other nodes and what this one holds (`None`: a single node).
    pub cluster: Option<Arc<Cluster>>,
    /// The URL WAHA is told to call back.
    pub webhook_url: String,
    /// Compiled bots per session.
    pub bots: Arc<BotCache>,
    /// Who is online (set once presence runs).
    online: OnceLock<Online>,
    /// Conversation and session actors are spread over these threads.
    arbiters: Vec<ArbiterHandle>,
    next_arbiter: AtomicUsize,
    /// Set once by the hub when it starts the router.
    router: OnceLock<Router>,
    /// The opt-out words, shared with every stored message's step (`Flow`).
    opt_out_words: Arc<[String]>,
    /// Sessions with a campaign whose replies are still counted, kept by the campaigns'
    /// supervisor and read by every stored message's step (`Flow`).
    pub campaign_sessions: Arc<dashmap::DashSet<i64>>,
    /// Seals and opens the secrets the hub stores (`crate::secrets`).
    pub keys: crate::secrets::Keyring,
}

impl Services {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        config: Config,
        db: Db,
        writer: Writer,
        waha: WahaClient,
        clock: SharedClock,
        bus: Arc<dyn Bus>,
        cluster: Option<Arc<Cluster>>,
        webhook_url: String,
        arbiters: Vec<ArbiterHandle>,
        keys: crate::secrets::Keyring,
    ) -> Arc<Services> {
        let opt_out_words = config.opt_out_words.clone().into();
        Arc::new(Services {
            config,
            opt_out_words,
            db,
            writer,
            waha,
            clock,
            bus,
            webhook_url,
            bots: Arc::new(BotCache::new(cluster.is_some())),
            online: OnceLock::new(),
            cluster,
            arbiters,
            next_arbiter: AtomicUsize::new(0),
            router: OnceLock::new(),
            campaign_sessions: Arc::default(),
            keys,
        })
    }

    /// Whether this node runs what one node in a cluster must run (the coordinator's
    /// jobs); a single node always does.
    pub fn coordinates(&self) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.is_coordinator())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Where presence answers who is online (once, at start).
    pub(crate) fn set_online(&self, online: Online) {
        let _ = self.online.set(online);
    }

    /// What the step after a stored message needs (`store::bot_flow`).
    pub fn flow(&self) -> Flow {
        Flow {
            bots: self.bots.clone(),
            online: self
                .online
                .get()
                .cloned()
                .unwrap_or_else(|| Arc::new(|_| false)),
            opt_out_words: self.opt_out_words.clone(),
            campaign_sessions: self.campaign_sessions.clone(),
        }
    }

    /// The router (automatic assignment); one that does nothing until the hub started it.
    pub fn router(&self) -> &Router {
        self.router.get().unwrap_or_else(|| Router::none())
    }

    /// Where `router()` goes from now on (the hub, once).
    pub(crate) fn set_router(&self, router: Router) {
        if self.router.set(router).is_err() {
            tracing::warn!("the router was already set");
        }
    }

    /// The next thread to start an actor on (round robin).
    pub(crate) fn arbiter(&self) -> ArbiterHandle {
        let i = self.next_arbiter.fetch_add(1, Ordering::Relaxed) % self.arbiters.len();
        self.arbiters[i].clone()
    }
}
