//! `tickhub waha-sim`: a WAHA simulator. It speaks the parts of WAHA's REST API the hub
//! uses, with WAHA's paths, bodies and status codes, and posts WAHA-shaped webhooks
//! (HMAC-signed, retried like WAHA). Only WhatsApp itself is simulated: customers write
//! in through the control API (`/sim/…`, see `control`) or at a fixed rate.
//!
//! It plays one WAHA release (`--waha-version`, default 2026.7.1; `POST /sim/version` at
//! run time), and behaves as that release did (thresholds in `version`):
//! - below 2024.11.5 (e.g. Core 2024.10.8, seen in the field): session webhooks are posted
//!   once whatever the answer, with no HMAC headers even when a key is configured and no
//!   `X-Webhook-Request-Id` / `X-Webhook-Timestamp`;
//! - below 2025.3.1: envelopes have no `id` and no `timestamp`;
//! - below 2025.3.2: the global webhook (`--webhook-url`) is never signed;
//! - below 2025.9.4: `session.status` payloads are `{name, status}`, so a status repeated
//!   (`POST /sim/sessions/{name}/status` twice) is a byte-identical body;
//! - below 2026.4.3: `GET /api/{session}/new-message-id` is 404 (no such route) and a
//!   send's `id` is ignored;
//! - the engine defaults to WEBJS below 2025.1.3 (no GOWS yet), GOWS after (`--engine`).
//!
//! `GET /api/version` and `GET /api/server/version` answer WAHA's `WAHAEnvironment`,
//! `{"version", "engine", "tier": "CORE", "browser"}` (`browser` is Chrome's path for
//! WEBJS/WPP, else null), and every envelope's `environment` is the same object.

mod api;
mod control;
mod ids;
mod png;
mod state;
mod version;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};

pub use state::SimState;
pub use version::{BadVersion, WahaVersion};

#[derive(Debug, Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    /// A global webhook, like WAHA's `WHATSAPP_HOOK_URL`: added to every session's own.
    pub webhook_url: Option<String>,
    /// HMAC key for the global webhook.
    pub hmac_key: Option<String>,
    /// When set, every `/api` call must carry it as `X-Api-Key`.
    pub api_key: Option<String>,
    /// The WAHA release played (see the module doc).
    pub waha_version: WahaVersion,
    /// The engine reported; `None`: the release's default.
    pub engine: Option<String>,
    /// Simulated customers write in at this many messages per second.
    pub rate: Option<f64>,
    /// How many simulated customers.
    pub chats: usize,
    /// Time between the acks of a sent message (SERVER → DEVICE → READ).
    pub ack_delay_ms: u64,
    /// Time from STARTING to WORKING (the "scan").
    pub pair_delay_ms: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            webhook_url: None,
            hmac_key: None,
            api_key: None,
            waha_version: WahaVersion::CURRENT,
            engine: None,
            rate: None,
            chats: 20,
            ack_delay_ms: 150,
            pair_delay_ms: 300,
        }
    }
}

pub struct SimHandle {
    pub addr: SocketAddr,
    pub state: Arc<SimState>,
    pub server: actix_web::dev::ServerHandle,
}

/// Binds and starts the simulator (port 0 allowed); must run inside an actix System.
pub async fn start(opts: SimOptions) -> std::io::Result<SimHandle> {
    let listener = std::net::TcpListener::bind(opts.listen)?;
    let addr = listener.local_addr()?;
    let state = SimState::new(opts.clone(), addr);
    let data = web::Data::from(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(16 * 1024 * 1024)
                    .error_handler(api::json_error),
            )
            .configure(api::routes)
            .configure(control::routes)
    })
    .workers(1)
    .tcp_nodelay(true)
    .listen(listener)?
    .disable_signals()
    .run();
    let handle = server.handle();
    actix_rt::spawn(server);
    if let Some(rate) = opts.rate.filter(|r| *r > 0.0) {
        actix_rt::spawn(control::customers(
            state.clone(),
            Duration::from_secs_f64(1.0 / rate),
        ));
    }
    Ok(SimHandle {
        addr,
        state,
        server: handle,
    })
}

#[cfg(test)]
mod tests {
    //! The simulator over HTTP, with a real webhook receiver: what each release sends.

    use std::sync::Mutex;

    use actix_web::{HttpRequest, HttpResponse};
    use serde_json::{json, Value};

    use super::*;

    type Got = Arc<Mutex<Vec<(actix_web::http::header::HeaderMap, Value)>>>;

    /// A webhook receiver answering `status` to every POST; keeps what it got.
    fn receiver(status: u16) -> (String, Got) {
        let got: Got = Arc::default();
        let keep = got.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = HttpServer::new(move || {
            let keep = keep.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let keep = keep.clone();
                async move {
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    keep.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((req.headers().clone(), body));
                    HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status).expect("status"),
                    )
                    .finish()
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .disable_signals()
        .run();
        actix_rt::spawn(server);
        (format!("http://{addr}/webhooks"), got)
    }

    fn received(got: &Got) -> Vec<(actix_web::http::header::HeaderMap, Value)> {
        got.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    struct Client {
        base: String,
        http: reqwest::Client,
    }

    impl Client {
        async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
            let r = self
                .http
                .request(method, format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }

        async fn get(&self, path: &str) -> (u16, Value) {
            self.call(reqwest::Method::GET, path, Value::Null).await
        }

        async fn post(&self, path: &str, body: Value) -> (u16, Value) {
            self.call(reqwest::Method::POST, path, body).await
        }

        /// Polls `path` until `done` holds for its answer (bounded, not a fixed wait).
        async fn until(&self, path: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
            for _ in 0..500 {
                let (status, body) = self.get(path).await;
                if done(status, &body) {
                    return body;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("{path} never got there");
        }
    }

    async fn sim(version: &str) -> (SimHandle, Client) {
        let handle = start(SimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            waha_version: version.parse().expect("version"),
            pair_delay_ms: 20,
            ..SimOptions::default()
        })
        .await
        .expect("sim");
        let client = Client {
            base: format!("http://{}", handle.addr),
            http: reqwest::Client::new(),
        };
        (handle, client)
    }

    /// Every delivery finished (delivered or given up): nothing more will arrive.
    async fn settled(sim: &SimState) {
        use std::sync::atomic::Ordering;
        for _ in 0..500 {
            if sim.deliverer.stats.pending.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("webhooks never settled");
    }

    fn session(name: &str, url: &str) -> Value {
        json!({"name": name, "start": false, "config": {
            "metadata": {"tenant": "t1"},
            "webhooks": [{"url": url, "events": ["session.status"], "hmac": {"key": "k"},
                          "retries": {"delaySeconds": 0, "attempts": 3, "policy": "constant"}}],
        }})
    }

    #[actix_rt::test]
    async fn old_waha_posts_each_status_once_unsigned_and_identical() {
        let (hook, got) = receiver(500);
        let (sim, c) = sim("2024.10.8").await;
        let (status, env) = c.get("/api/version").await;
        assert_eq!(status, 200);
        assert_eq!(
            env,
            json!({"version": "2024.10.8", "engine": "WEBJS", "tier": "CORE", "browser": "/usr/bin/google-chrome-stable"})
        );
        assert_eq!(c.get("/api/server/version").await.1, env);
        assert_eq!(c.post("/api/sessions", session("s", &hook)).await.0, 201);
        let (status, body) = c.get("/api/s/new-message-id").await;
        assert_eq!(
            (status, body["message"].as_str()),
            (404, Some("Cannot GET /api/s/new-message-id"))
        );

        for _ in 0..2 {
            let (status, _) = c
                .post("/sim/sessions/s/status", json!({"status": "WORKING"}))
                .await;
            assert_eq!(status, 200);
        }
        settled(&sim.state).await;
        let got = received(&got);
        assert_eq!(got.len(), 2, "one POST per event, never retried");
        assert_eq!(
            got[0].1, got[1].1,
            "the same status twice: identical bodies"
        );
        let (headers, body) = &got[0];
        assert_eq!(body["payload"], json!({"name": "s", "status": "WORKING"}));
        assert!(
            body.get("id").is_none() && body.get("timestamp").is_none(),
            "{body}"
        );
        for h in [
            "x-webhook-hmac",
            "x-webhook-hmac-algorithm",
            "x-webhook-request-id",
            "x-webhook-timestamp",
        ] {
            assert!(headers.get(h).is_none(), "{h}");
        }
        assert_eq!(
            headers.get("user-agent").and_then(|v| v.to_str().ok()),
            Some("WAHA/2024.10.8")
        );
    }

    #[actix_rt::test]
    async fn switched_to_a_current_release_it_signs_retries_and_reserves_ids() {
        let (hook, got) = receiver(500);
        let (sim, c) = sim("2024.10.8").await;
        assert_eq!(c.post("/api/sessions", session("s", &hook)).await.0, 201);
        let (status, env) = c.post("/sim/version", json!({"version": "2026.7.1"})).await;
        assert_eq!((status, env["version"].as_str()), (200, Some("2026.7.1")));
        assert_eq!(c.get("/api/version").await.1["engine"], "GOWS");
        assert_eq!(c.get("/api/s/new-message-id").await.0, 200);
        assert_eq!(
            c.post("/sim/version", json!({"version": "old"})).await.0,
            400
        );

        c.post("/sim/sessions/s/status", json!({"status": "WORKING"}))
            .await;
        settled(&sim.state).await;
        let got = received(&got);
        assert_eq!(got.len(), 3, "retried per the webhook's config");
        let (headers, body) = &got[0];
        assert!(body["id"].as_str().is_some_and(|id| id.starts_with("evt_")));
        let signed = crate::waha::hmac::sign(b"k", body.to_string().as_bytes());
        assert_eq!(
            headers.get("x-webhook-hmac").and_then(|v| v.to_str().ok()),
            Some(signed.as_str())
        );
        assert!(headers.get("x-webhook-timestamp").is_some());
    }

    #[actix_rt::test]
    async fn a_restart_forgets_configs_and_refuses_the_api_meanwhile() {
        let (hook, _got) = receiver(200);
        let (_sim, c) = sim("2024.10.8").await;
        let mut create = session("s", &hook);
        create["start"] = json!(true);
        assert_eq!(c.post("/api/sessions", create).await.0, 201);
        c.until("/api/sessions/s", |_, s| s["status"] == "WORKING")
            .await;

        let (status, body) = c.post("/sim/restart", json!({"down_ms": 1000})).await;
        assert_eq!(
            (status, body),
            (200, json!({"sessions": ["s"], "down_ms": 1000}))
        );
        let (status, body) = c.get("/api/sessions?all=true").await;
        assert_eq!((status, body["statusCode"].as_u64()), (503, Some(503)));
        assert_eq!(c.get("/ping").await.0, 503);
        assert_eq!(
            c.post("/sim/faults", json!({})).await.0,
            200,
            "the control API stays up"
        );

        c.until("/ping", |status, _| status == 200).await;
        let (_, list) = c.get("/api/sessions?all=true").await;
        assert_eq!(list[0]["status"], "STOPPED");
        assert_eq!(list[0]["config"], Value::Null);
    }

    #[actix_rt::test]
    async fn a_session_held_at_starting_answers_the_qr_with_422_then_goes_on() {
        let (hook, got) = receiver(200);
        let (sim, c) = sim("2026.7.1").await;
        let (_, faults) = c
            .post("/sim/faults", json!({"boot_hold": "STARTING"}))
            .await;
        assert_eq!(faults["boot_hold"], "STARTING");
        assert_eq!(
            c.post("/sim/faults", json!({"boot_hold": "WORKING"}))
                .await
                .0,
            400
        );
        let (_, faults) = c.post("/sim/faults", json!({})).await;
        assert_eq!(faults["boot_hold"], "STARTING", "absent: unchanged");
        let mut create = session("s", &hook);
        create["start"] = json!(true);
        assert_eq!(
            c.post("/api/sessions", create).await.1["status"],
            "STARTING"
        );

        let (status, body) = c.get("/api/s/auth/qr?format=raw").await;
        assert_eq!(status, 422);
        assert_eq!(
            body,
            json!({"error": "Session status is not as expected. Try again later or restart the session",
                   "session": "s", "status": "STARTING", "expected": ["SCAN_QR_CODE"]})
        );
        c.post("/sim/faults", json!({"boot_hold": "SCAN_QR_CODE"}))
            .await;
        c.until("/api/sessions/s", |_, s| s["status"] == "SCAN_QR_CODE")
            .await;
        assert_eq!(c.get("/api/s/auth/qr?format=raw").await.0, 200);
        let (_, faults) = c.post("/sim/faults", json!({"boot_hold": null})).await;
        assert_eq!(faults["boot_hold"], Value::Null);
        c.until("/api/sessions/s", |_, s| s["status"] == "WORKING")
            .await;

        settled(&sim.state).await;
        // Deliveries are concurrent, so unordered.
        let mut statuses: Vec<String> = received(&got)
            .into_iter()
            .map(|(_, b)| {
                b["payload"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        statuses.sort();
        assert_eq!(statuses, ["SCAN_QR_CODE", "STARTING", "WORKING"]);
    }
}
