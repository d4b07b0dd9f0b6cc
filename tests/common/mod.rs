//! Test harness: real `tickhub` processes (hub and WAHA simulator) on random ports, a
//! fresh database per test (a SQLite file, or a new PostgreSQL database), real HTTP and
//! real websockets. Every scenario runs against both databases.

#![allow(dead_code)]

pub mod agent;
pub mod api;
pub mod auth;
pub mod campaigns;
pub mod cluster;
pub mod cluster_checks;
pub mod db;
pub mod in_process;
pub mod nginx;
pub mod proc;
pub mod proxy;
pub mod redis_server;
pub mod smtp;
pub mod subscriber;
pub mod ws;

use std::time::Duration;

pub use db::{Backend, TestDb};
pub use proc::{Hub, Sim};
use serde_json::{json, Value};
pub use ws::Socket;

/// Runs a scenario once per backend: `both!(name)` expects `async fn name(b: Backend)`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await
            }
        }
    };
}

pub const ADMIN_EMAIL: &str = "admin@test.tickhub";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";
pub const MEMBER_PASSWORD: &str = "member-password-1";
/// A `TICKHUB_SECRET_KEY` for tests that store secrets (base64 of 32 bytes).
pub const TEST_SECRET_KEY: &str = "dGlja2h1Yi10ZXN0LXNlY3JldC1rZXktMzItYnl0ZXM=";

/// A member made by `Setup::member`.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: i64,
    pub token: String,
}

/// A hub with a simulator, a registered WORKING session `default`, and an admin token.
// Fields drop in this order: the hub stops before its database is dropped.
pub struct Setup {
    pub hub: Hub,
    pub sim: Sim,
    pub db: TestDb,
    pub token: String,
    pub http: reqwest::Client,
}

#[derive(Default, Clone)]
pub struct Options {
    pub hmac_key: Option<String>,
    pub env: Vec<(String, String)>,
    /// Keep the hub's stderr (its logs) for `s.hub.logs()`.
    pub capture_logs: bool,
    /// The simulator's command-line options (e.g. `--api-key K`).
    pub sim_args: Vec<String>,
}

impl Setup {
    pub async fn new(backend: Backend) -> Setup {
        Self::with(backend, Options::default()).await
    }

    pub async fn with(backend: Backend, opts: Options) -> Setup {
        Self::with_db(TestDb::new(backend).await, opts).await
    }

    /// Like `with`, on a database the test created first (e.g. to route it through a proxy
    /// set in `opts.env`'s `DATABASE_URL`).
    pub async fn with_db(db: TestDb, opts: Options) -> Setup {
        let sim = Sim::start_with(&opts.sim_args).await;
        let mut env = opts.env.clone();
        // Tests log in far more often than people do; the limits' own tests set theirs.
        for var in [
            "TICKHUB_LOGIN_RATE_PER_IP",
            "TICKHUB_LOGIN_RATE_PER_ACCOUNT",
        ] {
            if !env.iter().any(|(k, _)| k == var) {
                env.push((var.into(), "100000".into()));
            }
        }
        if let Some(k) = &opts.hmac_key {
            env.push(("WAHA_WEBHOOK_HMAC_KEY".into(), k.clone()));
        }
        let hub = if opts.capture_logs {
            Hub::start_logged(&db, &sim.url, env).await
        } else {
            Hub::start(&db, &sim.url, env).await
        };
        hub.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let http = http_client();
        let token = login(&http, &hub.url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let setup = Setup {
            db,
            sim,
            hub,
            token,
            http,
        };
        let r = setup
            .post("/api/sessions", json!({"name": "default"}))
            .await;
        assert!(r.0 == 201 || r.0 == 200, "register session: {r:?}");
        setup.wait_session_status("default", "WORKING").await;
        setup
    }

    pub async fn wait_session_status(&self, name: &str, status: &str) {
        self.eventually(&format!("/api/sessions/{name}"), |b| b["status"] == status)
            .await;
    }

    /// `method path` on the hub with what `build` adds to the request (a token, another header,
    /// a body, or nothing), as (status, JSON body).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, Value) {
        let req = self
            .http
            .request(method.clone(), format!("{}{}", self.hub.url, path));
        let r = build(req)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        status_json(r).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::GET, path, |r| r.bearer_auth(&self.token))
            .await
    }

    /// GET `path` without any credentials.
    pub async fn get_anonymous(&self, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::GET, path, |r| r).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::POST, path, |r| {
            r.bearer_auth(&self.token).json(&body)
        })
        .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::PUT, path, |r| {
            r.bearer_auth(&self.token).json(&body)
        })
        .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::PATCH, path, |r| {
            r.bearer_auth(&self.token).json(&body)
        })
        .await
    }

    /// Turns the router's automatic assignment on or off for a session: tests whose
    /// conversations must stay in the queue while agents are online turn it off.
    pub async fn auto_assign(&self, session: &str, on: bool) {
        let (code, r) = self
            .patch(
                &format!("/api/sessions/{session}"),
                json!({ "auto_assign": on }),
            )
            .await;
        assert_eq!(code, 200, "auto_assign {session}: {r}");
        assert_eq!(r["auto_assign"], on, "{r}");
    }

    /// A new team member made through the API by the admin, logged in.
    pub async fn member(&self, email: &str, role: &str, sessions: &[&str]) -> Member {
        self.member_with(email, role, json!({ "sessions": sessions }))
            .await
    }

    /// `member` with more of the member's fields (`sessions`, `capacity`, …) in `fields`.
    pub async fn member_with(&self, email: &str, role: &str, fields: Value) -> Member {
        let mut body = json!({"email": email, "name": email.split('@').next().unwrap_or(email),
            "role": role, "password": MEMBER_PASSWORD});
        if let (Some(b), Some(extra)) = (body.as_object_mut(), fields.as_object()) {
            b.extend(extra.clone());
        }
        let (code, m) = self.post("/api/team-members", body).await;
        assert_eq!(code, 201, "create member {email}: {m}");
        let token = login(&self.http, &self.hub.url, email, MEMBER_PASSWORD).await;
        Member {
            id: m["id"].as_i64().expect("member id"),
            token,
        }
    }

    /// `method path` as the holder of `token`, with an optional JSON body.
    pub async fn as_user(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        self.request(method, path, |r| {
            let r = r.bearer_auth(token);
            match body {
                Some(b) => r.json(&b),
                None => r,
            }
        })
        .await
    }

    pub async fn socket(&self, since: Option<i64>) -> Socket {
        Socket::connect(&self.hub.url, &self.token, since).await
    }

    /// A customer writes in, through the simulator (`message` + `message.any`).
    pub async fn customer_writes(&self, from: &str, body: &str) -> String {
        let r = self
            .sim
            .control_created(
                "/sim/inbound",
                json!({"session": "default", "from": from, "body": body}),
            )
            .await;
        r["id"]
            .as_str()
            .expect("sim returns the message id")
            .to_string()
    }

    /// Waits until `pred` holds for GET `path`'s body.
    pub async fn eventually(&self, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.eventually_within(path, Duration::from_secs(10), pred)
            .await
    }

    /// `eventually` with a deadline of `wait` (for conditions that wait on WAHA's retries).
    pub async fn eventually_within(
        &self,
        path: &str,
        wait: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        poll(path, wait, pred, || self.get(path)).await
    }

    /// POSTs `body` to `/webhooks/waha` as JSON bytes, with extra headers.
    pub async fn webhook_with(
        &self,
        body: &[u8],
        content_type: &str,
        headers: &[(&str, String)],
    ) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}/webhooks/waha", self.hub.url))
            .timeout(Duration::from_secs(60))
            .header("content-type", content_type)
            .body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        status_json(req.send().await.expect("POST /webhooks/waha")).await
    }

    /// The hub's `/metrics` text (empty when it does not answer).
    pub async fn metrics(&self) -> String {
        match self
            .http
            .get(format!("{}/metrics", self.hub.url))
            .send()
            .await
        {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// POSTs a webhook envelope as WAHA does (without HMAC headers).
    pub async fn webhook(&self, body: &Value) -> (u16, Value) {
        self.webhook_with(body.to_string().as_bytes(), "application/json", &[])
            .await
    }

    /// Every message of a conversation (all pages), newest first.
    pub async fn messages(&self, conversation_id: i64) -> Vec<Value> {
        self.all_pages(&format!(
            "/api/conversations/{conversation_id}/messages?limit=200"
        ))
        .await
    }

    /// Every conversation (all pages), most recent activity first.
    pub async fn conversations(&self) -> Vec<Value> {
        self.all_pages("/api/conversations?limit=200").await
    }

    /// The items of every page of the list at `first` (a path with a query), following
    /// `next_cursor` until there is none.
    async fn all_pages(&self, first: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = first.to_string();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={}", urlencode(c)));
            }
            let (code, page) = self.get(&path).await;
            assert_eq!(code, 200, "GET {path}: {page}");
            out.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }

    /// Waits for the conversation of `chat_id` to exist and returns it.
    pub async fn conversation_for(&self, chat_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(c) = self
                .conversations()
                .await
                .into_iter()
                .find(|c| c["chat_id"] == chat_id)
            {
                return c;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no conversation for {chat_id} within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Posts any WAHA event through the simulator (full envelope, signed like WAHA).
    pub async fn sim_event(&self, event: &str, payload: Value) -> Value {
        self.sim
            .control_created(
                "/sim/event",
                json!({"session": "default", "event": event, "payload": payload}),
            )
            .await
    }
}

/// Percent-encodes a query value.
/// A client that drops idle connections before the hub's keep-alive (actix's 5 s) closes
/// them: reusing one the server is closing at that instant fails the request, which a
/// loaded machine makes likely.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .expect("http client")
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// hex HMAC-SHA512 of `body` under `key`, as WAHA signs webhooks.
pub fn hmac_sha512_hex(key: &str, body: &[u8]) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha512>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A 4xx/5xx answer must carry `{"error": {"code", "message"}}`.
pub fn assert_error(what: &str, got: (u16, Value), status: u16) {
    let (code, body) = got;
    assert_eq!(
        code, status,
        "{what}: expected {status}, got {code}: {body}"
    );
    assert!(
        body["error"]["code"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{what}: the error body needs error.code: {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: the error body needs error.message: {body}"
    );
}

/// Asks `get` (a GET of `path`) every 50 ms until it answers 200 with a body `pred`
/// accepts, for at most `wait`: what both test clients' `eventually` do.
pub async fn poll<F, Fut>(
    path: &str,
    wait: Duration,
    pred: impl Fn(&Value) -> bool,
    get: F,
) -> Value
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (u16, Value)>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (code, body) = get().await;
        if code == 200 && pred(&body) {
            return body;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("condition never held for {path} within {wait:?}; last {code}: {body}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let code = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (code, body)
}

pub async fn login(http: &reqwest::Client, url: &str, email: &str, password: &str) -> String {
    let r = http
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login");
    let (code, body) = status_json(r).await;
    assert_eq!(code, 200, "login: {body}");
    body["token"].as_str().expect("token").to_string()
}

/// A WAHA-shaped webhook envelope, as the peers' workload and WAHA send it.
pub fn envelope(event: &str, payload: Value) -> Value {
    json!({
        "id": format!("evt_{}", uuid::Uuid::new_v4().simple()),
        "timestamp": now_ms(),
        "event": event,
        "session": "default",
        "engine": "GOWS",
        "me": {"id": "15550000000@c.us", "pushName": "Test Business"},
        "payload": payload,
        "environment": {"version": "2026.7.1", "engine": "GOWS", "tier": "CORE"}
    })
}

pub fn inbound_payload(from: &str, id: &str, body: &str) -> Value {
    json!({
        "id": id, "timestamp": now_ms() / 1000, "from": from, "fromMe": false, "source": "app",
        "to": "15550000000@c.us", "body": body, "hasMedia": false, "ack": 1, "ackName": "SERVER",
        "_data": {"notifyName": "Customer"}
    })
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
