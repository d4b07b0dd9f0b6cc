//! A real cluster on this machine (contract §4): N `tickhub serve` nodes on loopback
//! ports sharing one fresh PostgreSQL database and a Redis of the test's own, the WAHA
//! simulator, and nginx in front as the load balancer (round robin, no stickiness,
//! websocket upgrade). WAHA is told nginx's URL, so its webhooks spread over the nodes.
//!
//! Nodes are `node-a`, `node-b`, … by index; a node can be killed (`kill9`), drained
//! (`sigterm`), started again on its port (`restart_node`) or added (`start_node`,
//! which also puts it behind nginx). Everything the tests do as a user goes through
//! nginx (`get`, `post`, `lb_socket`), unless they pick a node (`api_at`, `socket`).

use std::time::Duration;

use serde_json::{json, Value};

pub use super::api::Api;
use super::nginx::{Nginx, UPSTREAM_HEADER};
use super::proc::Logs;
use super::redis_server::RedisServer;
use super::{
    http_client, status_json, Backend, Hub, Member, Sim, Socket, TestDb, ADMIN_EMAIL,
    ADMIN_PASSWORD, MEMBER_PASSWORD,
};

/// The session every cluster registers.
pub const SESSION: &str = "default";

/// A node's lease in the tests: short, so a dead owner's sessions move within seconds.
pub const LEASE_TTL_MS: &str = "2000";

pub struct Node {
    pub id: String,
    pub hub: Hub,
}

#[derive(Default, Clone)]
pub struct ClusterOptions {
    /// How many nodes to start with (at least 1).
    pub nodes: usize,
    /// More environment for every node (overrides the cluster's own).
    pub env: Vec<(String, String)>,
}

// Fields drop in this order: the nodes stop before nginx, Redis and their database.
pub struct Cluster {
    nodes: Vec<Node>,
    pub lb: Nginx,
    pub redis: RedisServer,
    pub sim: Sim,
    pub db: TestDb,
    env: Vec<(String, String)>,
    /// The admin's token (`create-admin` ran once, on node a).
    pub token: String,
    pub http: reqwest::Client,
    /// Held for the cluster's life, released last (see `ONE_AT_A_TIME`).
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// Clusters of one test binary run one at a time: each is several hubs, PostgreSQL
/// connections and nginx, on a machine of two cores shared with the rest of the suite.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The name of node `i`: `node-a`, `node-b`, …
pub fn node_id(i: usize) -> String {
    match u8::try_from(i).ok().filter(|i| *i < 26) {
        Some(i) => format!("node-{}", (b'a' + i) as char),
        None => format!("node-{i}"),
    }
}

impl Cluster {
    /// `n` nodes behind nginx, an admin logged in, session `default` WORKING.
    pub async fn start(n: usize) -> Cluster {
        Self::with(ClusterOptions {
            nodes: n,
            ..Default::default()
        })
        .await
    }

    pub async fn with(opts: ClusterOptions) -> Cluster {
        assert!(opts.nodes >= 1, "a cluster has at least one node");
        let turn = ONE_AT_A_TIME.lock().await;
        let redis = RedisServer::start().await;
        let db = TestDb::new(Backend::Postgres).await;
        let sim = Sim::start().await;
        let lb_port = Nginx::pick_port();
        let mut env: Vec<(String, String)> = [
            ("REDIS_URL", redis.url()),
            ("TICKHUB_PUBLIC_URL", format!("http://127.0.0.1:{lb_port}")),
            ("TICKHUB_LEASE_TTL_MS", LEASE_TTL_MS.into()),
            // Tests log in far more often than people do (as `Setup` does).
            ("TICKHUB_LOGIN_RATE_PER_IP", "100000".into()),
            ("TICKHUB_LOGIN_RATE_PER_ACCOUNT", "100000".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in opts.env {
            env.retain(|(ek, _)| *ek != k);
            env.push((k, v));
        }
        // One at a time: the first applies the migrations, the others find them done.
        let mut nodes = Vec::new();
        for i in 0..opts.nodes {
            nodes.push(spawn_node(&db, &sim, &env, i).await);
        }
        let ports: Vec<u16> = nodes.iter().map(|n| n.hub.port).collect();
        let lb = Nginx::start(lb_port, &ports).await;
        nodes[0].hub.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let http = http_client();
        let token = super::login(&http, &lb.url(), ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let c = Cluster {
            nodes,
            lb,
            redis,
            sim,
            db,
            env,
            token,
            http,
            _turn: turn,
        };
        let r = c.post("/api/sessions", json!({ "name": SESSION })).await;
        assert!(r.0 == 201 || r.0 == 200, "register session: {r:?}");
        c.wait_session_status(SESSION, "WORKING").await;
        c
    }

    // --- the nodes -------------------------------------------------------------------

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    pub fn id(&self, i: usize) -> &str {
        &self.nodes[i].id
    }

    /// The index of the node named `id`.
    pub fn index_of(&self, id: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.id == id)
            .unwrap_or_else(|| panic!("no node {id:?} in this cluster"))
    }

    /// Node `i`'s own URL (not through nginx).
    pub fn url(&self, i: usize) -> &str {
        &self.nodes[i].hub.url
    }

    /// nginx's URL: the cluster as clients and WAHA see it.
    pub fn lb_url(&self) -> String {
        self.lb.url()
    }

    /// `kill -9` of node `i`: no drain, nothing flushed.
    pub fn kill9(&mut self, i: usize) {
        self.nodes[i].hub.kill9();
    }

    /// SIGTERM to node `i`; its exit status once it has drained and exited.
    pub async fn sigterm(&mut self, i: usize) -> std::process::ExitStatus {
        self.nodes[i].hub.terminate(Duration::from_secs(60)).await
    }

    /// Starts node `i` again, same name and port (nginx already lists it).
    pub fn restart_node(&mut self, i: usize) {
        self.nodes[i].hub.restart();
    }

    /// A new node, put behind nginx (config rewritten, nginx reloaded); its index, once
    /// nginx has sent it a request.
    pub async fn start_node(&mut self) -> usize {
        let i = self.nodes.len();
        let node = spawn_node(&self.db, &self.sim, &self.env, i).await;
        self.nodes.push(node);
        let ports: Vec<u16> = self.nodes.iter().map(|n| n.hub.port).collect();
        self.lb.set_upstreams(&ports).await;
        i
    }

    pub fn is_running(&mut self, i: usize) -> bool {
        self.nodes[i].hub.is_running()
    }

    // --- Redis -----------------------------------------------------------------------

    /// Redis dies (kill -9); the nodes keep running.
    pub fn redis_stop(&mut self) {
        self.redis.stop();
    }

    /// Kills Redis if it runs and starts it again, empty, on the same port.
    pub async fn redis_restart(&mut self) {
        self.redis.restart().await;
    }

    // --- HTTP --------------------------------------------------------------------------

    /// The admin's client through nginx.
    pub fn api(&self) -> Api {
        Api {
            http: self.http.clone(),
            base: self.lb_url(),
            token: self.token.clone(),
        }
    }

    /// The admin's client on node `i` only.
    pub fn api_at(&self, i: usize) -> Api {
        Api {
            base: self.url(i).to_string(),
            ..self.api()
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.api().get(path).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.api().post(path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.api().patch(path, body).await
    }

    /// `GET path` straight to node `i`, without credentials (`/healthz`, `/readyz`).
    pub async fn probe(&self, i: usize, path: &str) -> u16 {
        Api {
            token: String::new(),
            ..self.api_at(i)
        }
        .request(reqwest::Method::GET, path, None)
        .await
        .0
    }

    /// Node `i`'s `/metrics` (Prometheus text), read straight from it.
    pub async fn metrics(&self, i: usize) -> String {
        let (code, body) = Api {
            token: String::new(),
            ..self.api_at(i)
        }
        .get("/metrics")
        .await;
        assert_eq!(code, 200, "{}'s /metrics: {body}", self.id(i));
        body.as_str().unwrap_or("").to_string()
    }

    /// Waits until `pred` holds for GET `path` through nginx.
    pub async fn eventually(&self, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.api()
            .eventually(path, Duration::from_secs(20), pred)
            .await
    }

    pub async fn wait_session_status(&self, name: &str, status: &str) {
        self.eventually(&format!("/api/sessions/{name}"), |b| b["status"] == status)
            .await;
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        super::login(&self.http, &self.lb_url(), email, password).await
    }

    /// A team member made by the admin through nginx, logged in.
    pub async fn member(&self, email: &str, role: &str, sessions: &[&str]) -> Member {
        let name = email.split('@').next().unwrap_or(email);
        let (code, m) = self
            .post(
                "/api/team-members",
                json!({"email": email, "name": name, "role": role,
                    "password": MEMBER_PASSWORD, "sessions": sessions}),
            )
            .await;
        assert_eq!(code, 201, "create member {email}: {m}");
        Member {
            id: m["id"].as_i64().expect("member id"),
            token: self.login(email, MEMBER_PASSWORD).await,
        }
    }

    /// Turns the router's automatic assignment of a session on or off.
    pub async fn auto_assign(&self, session: &str, on: bool) {
        let (code, r) = self
            .patch(
                &format!("/api/sessions/{session}"),
                json!({ "auto_assign": on }),
            )
            .await;
        assert_eq!(code, 200, "auto_assign {session}: {r}");
    }

    // --- cluster state ------------------------------------------------------------------

    /// `GET /api/admin/cluster` through nginx.
    pub async fn cluster_state(&self) -> Value {
        let (code, body) = self.get("/api/admin/cluster").await;
        assert_eq!(code, 200, "GET /api/admin/cluster: {body}");
        body
    }

    /// The node that owns `session` now, per `/api/admin/cluster`.
    pub async fn owner(&self, session: &str) -> Option<String> {
        owner_in(&self.cluster_state().await, session)
    }

    /// Waits until the owner of `session` satisfies `pred`; that owner.
    pub async fn wait_owner(
        &self,
        session: &str,
        wait: Duration,
        pred: impl Fn(Option<&str>) -> bool,
    ) -> Option<String> {
        let body = self
            .api()
            .eventually("/api/admin/cluster", wait, |b| {
                pred(owner_in(b, session).as_deref())
            })
            .await;
        owner_in(&body, session)
    }

    // --- traffic ------------------------------------------------------------------------

    /// A customer writes in through the simulator, which posts `message` and `message.any`
    /// to nginx and retries like WAHA; the message's WhatsApp id.
    pub async fn customer_writes(&self, from: &str, body: &str) -> String {
        let r = self
            .sim
            .control_created(
                "/sim/inbound",
                json!({"session": SESSION, "from": from, "body": body}),
            )
            .await;
        r["id"].as_str().expect("sim message id").to_string()
    }

    /// Waits until the simulator has no webhook left to deliver (each delivered, or
    /// given up after WAHA's retries).
    pub async fn sim_settled(&self) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let stats = self.sim.get("/sim/stats").await;
            if stats["webhooks_pending"] == 0 {
                return stats;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the simulator still has webhooks to deliver after 90 s: {stats}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Posts a webhook envelope through nginx once: (status, body, the node that answered
    /// as `127.0.0.1:PORT`, when nginx reached one).
    pub async fn webhook(&self, env: &Value) -> (u16, Value, Option<String>) {
        let r = self
            .http
            .post(format!("{}/webhooks/waha", self.lb_url()))
            .timeout(Duration::from_secs(30))
            .json(env)
            .send()
            .await;
        match r {
            Ok(r) => {
                let upstream = r
                    .headers()
                    .get(UPSTREAM_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let (code, body) = status_json(r).await;
                (code, body, upstream)
            }
            Err(e) => (0, Value::String(e.to_string()), None),
        }
    }

    /// Posts the envelope through nginx until it is acknowledged (2xx), as WAHA retries
    /// (the same body each time); the node that acknowledged it.
    pub async fn webhook_acked(&self, env: &Value) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (code, body, upstream) = self.webhook(env).await;
            if (200..300).contains(&code) {
                return upstream.unwrap_or_default();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "webhook never acknowledged within 60 s, last {code}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The index of the node behind `127.0.0.1:PORT` (an upstream nginx named).
    /// The node nginx names in its upstream header; when nginx tried several (`a, b`),
    /// the last is the one that answered.
    pub fn index_of_addr(&self, addr: &str) -> Option<usize> {
        let answered = addr.rsplit(", ").next().unwrap_or(addr).trim();
        self.nodes
            .iter()
            .position(|n| answered == format!("127.0.0.1:{}", n.hub.port))
    }

    // --- websockets --------------------------------------------------------------------

    /// A websocket straight to node `i`.
    pub async fn socket(&self, i: usize, token: &str, since: Option<i64>) -> Socket {
        Socket::connect(self.url(i), token, since).await
    }

    /// A websocket through nginx (to whichever node round robin picks).
    pub async fn lb_socket(&self, token: &str, since: Option<i64>) -> Socket {
        Socket::connect(&self.lb_url(), token, since).await
    }

    // --- reads ---------------------------------------------------------------------------

    pub async fn conversations(&self) -> Vec<Value> {
        self.api().all_pages("/api/conversations?limit=200").await
    }

    /// Every message of a conversation, newest first.
    pub async fn messages(&self, conversation_id: i64) -> Vec<Value> {
        self.api()
            .all_pages(&format!(
                "/api/conversations/{conversation_id}/messages?limit=200"
            ))
            .await
    }

    /// Waits for the conversation of `chat_id` to exist and returns it.
    pub async fn conversation_for(&self, chat_id: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
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
                "no conversation for {chat_id} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn spawn_node(db: &TestDb, sim: &Sim, env: &[(String, String)], i: usize) -> Node {
    let id = node_id(i);
    let mut env = env.to_vec();
    env.push(("TICKHUB_NODE_ID".into(), id.clone()));
    let hub = Hub::start_with(db, &sim.url, env, Some(Logs::labelled(&id))).await;
    Node { id, hub }
}

/// `sessions[name].owner` in an `/api/admin/cluster` body.
pub fn owner_in(state: &Value, session: &str) -> Option<String> {
    state["sessions"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == session)?["owner"]
        .as_str()
        .map(str::to_string)
}

/// The sum over every label set of the metric `name` in a Prometheus text (`None`: the
/// metric is absent). A histogram is read by its `_count` or `_sum` series.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        if !(rest.starts_with(' ') || rest.starts_with('{')) {
            continue;
        }
        if let Some(v) = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            found = Some(found.unwrap_or(0.0) + v);
        }
    }
    found
}
