//! The node's two Redis connections: one for commands and publishing (leases, pub/sub
//! messages, readiness), one subscribed to the cluster's channels. Both are
//! `ConnectionManager`s that reconnect by themselves; the subscriber resubscribes after a
//! reconnect (RESP3 push), and a watchdog pings it so a Redis that was away for longer
//! than the manager's own retries is found again.
//!
//! Publishing never waits on the caller's path: messages go through a bounded queue to one
//! task that pipelines them, in order. What cannot be queued or sent is dropped and
//! counted — the bus is at most once by design (see `wire`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::wire::{self, Wire};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("REDIS_URL: {0}")]
    Url(String),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Messages queued for publishing before new ones are dropped (Redis away for long).
const PUBLISH_QUEUE: usize = 65_536;
/// Commands wait this long for Redis before they count as failed.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the subscriber is pinged (and reconnected when Redis came back).
const WATCHDOG: Duration = Duration::from_secs(1);

/// What arrives for one side of the node: the bus (events, presence) or the node's own
/// work (webhooks to apply, rows to send, sessions released).
pub type Handler = Box<dyn Fn(Wire) + Send + Sync>;

/// What an owner answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Queued,
    Ingested { ok: bool, duplicate: bool },
}

pub struct Link {
    node: Arc<str>,
    conn: ConnectionManager,
    publish: mpsc::Sender<(String, String)>,
    bus: OnceLock<Handler>,
    work: OnceLock<Handler>,
    /// Told when the subscription was lost and when it is back (catch up from the log).
    resumed: OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// Requests waiting for the owner's answer (`Queued` or `Ingested`).
    waiting: Mutex<HashMap<u64, oneshot::Sender<Answer>>>,
    next_req: AtomicU64,
    subscribed: AtomicBool,
}

fn client(url: &str) -> Result<redis::Client, ClusterError> {
    let info = url
        .into_connection_info()
        .map_err(|e| ClusterError::Url(e.to_string()))?;
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    Ok(redis::Client::open(info.set_redis_settings(settings))?)
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_secs(1))
        .set_number_of_retries(6)
}

impl Link {
    /// Connects lazily: a node starts while Redis is away (and is not ready until it is
    /// back, see `ping`).
    pub fn start(url: &str, node: Arc<str>) -> Result<Arc<Link>, ClusterError> {
        let conn = ConnectionManager::new_lazy_with_config(client(url)?, manager_config())?;
        let (push_tx, push_rx) = mpsc::unbounded_channel::<PushInfo>();
        let sub = ConnectionManager::new_lazy_with_config(
            client(url)?,
            manager_config()
                .set_push_sender(push_tx)
                .set_automatic_resubscription(),
        )?;
        let (publish, queue) = mpsc::channel(PUBLISH_QUEUE);
        let link = Arc::new(Link {
            node,
            conn: conn.clone(),
            publish,
            bus: OnceLock::new(),
            work: OnceLock::new(),
            resumed: OnceLock::new(),
            waiting: Mutex::new(HashMap::new()),
            next_req: AtomicU64::new(1),
            subscribed: AtomicBool::new(false),
        });
        tokio::spawn(publisher(conn, queue));
        tokio::spawn(dispatch(Arc::downgrade(&link), push_rx));
        tokio::spawn(subscriber(Arc::downgrade(&link), sub));
        Ok(link)
    }

    pub fn node(&self) -> &Arc<str> {
        &self.node
    }

    /// A connection for commands (leases); clones share it.
    pub fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub fn on_bus(&self, h: Handler) {
        let _ = self.bus.set(h);
    }

    pub fn on_work(&self, h: Handler) {
        let _ = self.work.set(h);
    }

    pub fn on_resumed(&self, h: Box<dyn Fn() + Send + Sync>) {
        let _ = self.resumed.set(h);
    }

    /// Queues `msg` for `channel`; never waits. The sender's name goes first, on a line
    /// of its own, so a node passes over what it published itself without decoding it
    /// (on one node with Redis, that is every event).
    pub fn publish(&self, channel: String, msg: &Wire) {
        let text = match serde_json::to_string(msg) {
            Ok(t) => format!("{}\n{t}", self.node),
            Err(e) => return warn!(error = %e, "could not encode a cluster message"),
        };
        if self.publish.try_send((channel, text)).is_err() {
            metrics::counter!("tickhub_bus_dropped_total").increment(1);
        }
    }

    /// Redis answers a PING within a second (readiness).
    pub async fn ping(&self) -> bool {
        let mut c = self.conn.clone();
        let ping = async move { redis::cmd("PING").query_async::<String>(&mut c).await };
        let ok = matches!(
            tokio::time::timeout(Duration::from_secs(1), ping).await,
            Ok(Ok(_))
        );
        ok && self.subscribed.load(Ordering::Acquire)
    }

    /// Asks `owner` to put stored webhook `inbox_id` in line; `true` once it says it did,
    /// `false` if it did not within `wait` (the row is durable either way, and the owner's
    /// sweep finds it).
    pub async fn request_apply(
        &self,
        owner: &str,
        session: &crate::domain::SessionRef,
        inbox_id: i64,
        body: String,
        wait: Duration,
    ) -> bool {
        let answer = self
            .request(owner, wait, |req, from| Wire::Apply {
                from,
                req,
                session_id: session.id,
                session: session.name.clone(),
                inbox_id,
                body,
            })
            .await;
        answer == Some(Answer::Queued)
    }

    /// Asks `owner` to store and apply a webhook this node received; its answer, or
    /// `None` when none came within `wait`.
    pub async fn request_ingest(
        &self,
        owner: &str,
        session: &crate::domain::SessionRef,
        row: &crate::store::inbox::Received,
        wait: Duration,
    ) -> Option<Answer> {
        self.request(owner, wait, |req, from| Wire::Ingest {
            from,
            req,
            session_id: session.id,
            session: session.name.clone(),
            event_key: row.event_key.clone(),
            event: row.event.clone(),
            body: row.body.clone(),
        })
        .await
    }

    async fn request(
        &self,
        owner: &str,
        wait: Duration,
        make: impl FnOnce(u64, String) -> Wire,
    ) -> Option<Answer> {
        let req = self.next_req.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.lock_waiting().insert(req, tx);
        self.publish(wire::node_channel(owner), &make(req, self.node.to_string()));
        let answer = tokio::time::timeout(wait, rx)
            .await
            .ok()
            .and_then(Result::ok);
        self.lock_waiting().remove(&req);
        answer
    }

    /// Answers a request of `to`.
    pub fn answer(&self, to: &str, req: u64, answer: Answer) {
        let w = match answer {
            Answer::Queued => Wire::Queued { req },
            Answer::Ingested { ok, duplicate } => Wire::Ingested { req, ok, duplicate },
        };
        self.publish(wire::node_channel(to), &w);
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Answer>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn route(&self, w: Wire) {
        match w {
            Wire::Queued { req } => {
                if let Some(tx) = self.lock_waiting().remove(&req) {
                    let _ = tx.send(Answer::Queued);
                }
            }
            Wire::Ingested { req, ok, duplicate } => {
                if let Some(tx) = self.lock_waiting().remove(&req) {
                    let _ = tx.send(Answer::Ingested { ok, duplicate });
                }
            }
            w @ (Wire::Apply { .. }
            | Wire::Ingest { .. }
            | Wire::Send { .. }
            | Wire::Released { .. }) => {
                if let Some(h) = self.work.get() {
                    h(w)
                }
            }
            w => {
                if let Some(h) = self.bus.get() {
                    h(w)
                }
            }
        }
    }
}

/// Sends queued messages in order, many per round trip.
async fn publisher(mut conn: ConnectionManager, mut queue: mpsc::Receiver<(String, String)>) {
    let mut batch = Vec::with_capacity(64);
    while queue.recv_many(&mut batch, 256).await > 0 {
        let mut pipe = redis::pipe();
        for (channel, text) in batch.drain(..) {
            pipe.cmd("PUBLISH").arg(channel).arg(text).ignore();
        }
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            metrics::counter!("tickhub_bus_publish_failures_total").increment(1);
            debug!(error = %e, "publishing to Redis failed; the log and sweeps make it good");
        }
    }
}

/// Subscribes once (the manager resubscribes after reconnects), then pings the
/// subscription every second: a PING on a lost connection makes the manager reconnect
/// even after it gave up its own retries.
async fn subscriber(link: std::sync::Weak<Link>, mut sub: ConnectionManager) {
    let channels = |node: &str| {
        vec![
            wire::events_channel(),
            wire::all_channel(),
            wire::keeper_channel(),
            wire::node_channel(node),
        ]
    };
    let mut subscribed = false;
    loop {
        let Some(l) = link.upgrade() else { return };
        if !subscribed {
            match sub.subscribe(channels(&l.node)).await {
                Ok(()) => {
                    subscribed = true;
                    info!("subscribed to the cluster's channels");
                    l.subscribed.store(true, Ordering::Release);
                    if let Some(h) = l.resumed.get() {
                        h();
                    }
                }
                Err(e) => debug!(error = %e, "cannot subscribe to Redis yet"),
            }
        } else {
            let ok = redis::cmd("PING")
                .query_async::<Value>(&mut sub)
                .await
                .is_ok();
            if ok != l.subscribed.swap(ok, Ordering::AcqRel) {
                if ok {
                    info!("Redis is back");
                } else {
                    warn!("Redis is unreachable; events reach agents from the log meanwhile");
                }
                if let Some(h) = l.resumed.get() {
                    h();
                }
            }
        }
        drop(l);
        tokio::time::sleep(WATCHDOG).await;
    }
}

/// Decodes what the subscription pushes and hands it on, in arrival order.
async fn dispatch(link: std::sync::Weak<Link>, mut pushes: mpsc::UnboundedReceiver<PushInfo>) {
    while let Some(push) = pushes.recv().await {
        let Some(l) = link.upgrade() else { return };
        match push.kind {
            PushKind::Message => {
                let Some(Value::BulkString(payload)) = push.data.get(1) else {
                    continue;
                };
                let Some(split) = payload.iter().position(|b| *b == b'\n') else {
                    continue;
                };
                // What this node published itself it has already acted on.
                if &payload[..split] == l.node.as_bytes() {
                    continue;
                }
                match serde_json::from_slice::<Wire>(&payload[split + 1..]) {
                    Ok(w) => l.route(w),
                    Err(e) => warn!(error = %e, "an unreadable cluster message; dropped"),
                }
            }
            PushKind::Disconnection => {
                l.subscribed.store(false, Ordering::Release);
                metrics::counter!("tickhub_bus_disconnections_total").increment(1);
                if let Some(h) = l.resumed.get() {
                    h();
                }
            }
            // A resubscription after a reconnect: what was published meanwhile is read
            // back from the log.
            PushKind::Subscribe if !l.subscribed.swap(true, Ordering::AcqRel) => {
                if let Some(h) = l.resumed.get() {
                    h();
                }
            }
            _ => {}
        }
    }
}
