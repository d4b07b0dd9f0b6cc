//! A hub in the test's own process, on a clock the test sets, beside an in-process WAHA
//! simulator: for what depends on time (schedules, quiet hours, summaries, reports).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tickhub::app::{AppBuilder, RunningApp};
use tickhub::config::{Config, Source};
use tickhub::domain::Clock;
use tickhub::waha::sim::{SimHandle, SimOptions};

/// A clock the test sets.
#[derive(Clone)]
pub struct Manual(Arc<AtomicI64>);

impl Clock for Manual {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Manual {
    /// A clock showing `rfc3339`.
    pub fn at(rfc3339: &str) -> Manual {
        Manual(Arc::new(AtomicI64::new(ms(rfc3339))))
    }

    pub fn set(&self, rfc3339: &str) {
        self.0.store(ms(rfc3339), Ordering::SeqCst);
    }
}

/// Milliseconds since the Unix epoch of an RFC 3339 time.
pub fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .expect("time")
        .timestamp_millis()
}

/// A simulator on a free port.
pub async fn simulator() -> SimHandle {
    tickhub::waha::sim::start(SimOptions {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Default::default()
    })
    .await
    .expect("simulator")
}

/// A hub on `database_url` and `clock`, calling the simulator at `sim`, with `env` besides.
/// It listens on a known port, so that the simulator's webhooks reach it.
pub async fn hub(
    database_url: &str,
    sim: SocketAddr,
    clock: &Manual,
    env: &[(String, String)],
) -> RunningApp {
    let port = super::proc::free_port();
    let mut vars = BTreeMap::from([
        ("DATABASE_URL".to_string(), database_url.to_string()),
        ("TICKHUB_BIND".to_string(), format!("127.0.0.1:{port}")),
        ("WAHA_URL".to_string(), format!("http://{sim}")),
    ]);
    vars.extend(env.iter().cloned());
    let config = Config::load(&Source::from_map(&vars)).expect("config");
    AppBuilder::new(config)
        .clock(Arc::new(clock.clone()))
        .start()
        .await
        .expect("the hub starts")
}

/// An in-process hub on a fresh database, beside its simulator, with an admin signed in
/// and the session `default` WORKING: where the clock tests start.
pub struct Started {
    pub admin: super::api::Api,
    pub app: RunningApp,
    pub sim: SimHandle,
    pub db: super::db::TestDb,
}

/// [`Started`] on `backend` and `clock`, with `env` besides; the admin is `email`.
pub async fn start(
    backend: super::db::Backend,
    clock: &Manual,
    env: &[(String, String)],
    email: &str,
) -> Started {
    let sim = simulator().await;
    let db = super::db::TestDb::new(backend).await;
    let app = hub(&db.url, sim.addr, clock, env).await;
    tickhub::demo::create_admin(app.hub.db(), email, "Admin", "password-123")
        .await
        .expect("admin");
    let admin = super::api::Api::login(
        &reqwest::Client::new(),
        &format!("http://{}", app.addr),
        email,
        "password-123",
    )
    .await;
    admin
        .send(
            reqwest::Method::POST,
            "/api/sessions",
            serde_json::json!({"name": "default"}),
        )
        .await;
    admin
        .until("/api/sessions/default", |s| s["status"] == "WORKING")
        .await;
    Started {
        admin,
        app,
        sim,
        db,
    }
}

impl Started {
    /// A customer writes `body` from `from` to the session `default`, through the
    /// simulator (which posts the webhook to the hub).
    pub async fn customer_writes(&self, from: &str, body: &str) {
        let r = self
            .admin
            .http
            .post(format!("http://{}/sim/inbound", self.sim.addr))
            .json(&serde_json::json!({"session": "default", "from": from, "body": body}))
            .send()
            .await
            .expect("sim");
        assert!(r.status().is_success(), "sim inbound: {}", r.status());
    }

    /// Stops the hub cleanly, then the simulator.
    pub async fn stop(self) {
        self.app.stop().await.expect("a clean stop");
        self.sim.server.stop(true).await;
    }
}
