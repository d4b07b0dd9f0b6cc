//! `loadtest`: open-loop webhook -> websocket fan-out load test for tickhub.
//!
//! N agents hold websockets (`/ws?token=…`); WAHA-shaped `message` webhooks are POSTed to
//! `/webhooks/waha` on a fixed schedule (rate R for T seconds, spread over C chats) through a pool of
//! keep-alive connections; every `message.created` frame is matched to its webhook by `data.waha_id`
//! and timed from just before the POST to the frame's arrival at each agent's socket (one monotonic
//! clock). Same workload and fields as `shared/peers/driver/wsbench.py latency --target tickhub`,
//! built to drive 10k+ webhooks/s.
//!
//! Exit status: 0 when nothing is missing or duplicated and there were no HTTP or seq errors,
//! 1 when the run completed but one of those checks failed, 2 when setup failed (login, session,
//! websocket connect, bad arguments).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use futures_util::StreamExt;
use hdrhistogram::Histogram;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::Sha512;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

/// Open-loop WAHA webhook -> websocket fan-out load test for tickhub.
#[derive(Parser, Debug, Clone)]
#[command(name = "loadtest", version, about, long_about = None)]
struct Args {
    /// Base URL of the hub (http://host:port)
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Login email (an admin or manager, so it receives every event of the session)
    #[arg(long, default_value = "bench@acme.test")]
    email: String,
    /// Login password
    #[arg(long, default_value = "s3cret-Passw0rd")]
    password: String,
    /// Websocket connections (agents), all with the one login
    #[arg(long, default_value_t = 50)]
    agents: usize,
    /// Webhooks per second (open loop)
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds of measured sending
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Distinct customer chats the messages are spread over
    #[arg(long, default_value_t = 200)]
    chats: usize,
    /// WAHA session name in the webhooks (registered with POST /api/sessions first)
    #[arg(long, default_value = "default")]
    session: String,
    /// Sign each body as WAHA does: X-Webhook-Hmac = hex HMAC-SHA512 of the raw body
    #[arg(long)]
    hmac_key: Option<String>,
    /// Unmeasured webhooks sent first at the same rate
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Keep-alive HTTP connections = maximum webhook requests in flight
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Append the JSON summary line to this file
    #[arg(long)]
    json_out: Option<String>,
    /// Name of this run in the output
    #[arg(long, default_value = "tickhub")]
    label: String,
    /// Seconds to wait for outstanding deliveries once every webhook has been answered
    #[arg(long, default_value_t = 10.0)]
    drain: f64,
    /// Per-request timeout of a webhook POST, seconds (a timeout counts as an HTTP error)
    #[arg(long, default_value_t = 30.0)]
    post_timeout: f64,
}

// ------------------------------------------------------------------ shared run state

/// State shared by senders and readers. Message `i` (warm-up first, then measured) carries the
/// WAHA id `false_<chat>@c.us_<tag:8 hex><i:12 hex>`, so a reader finds its index by parsing the id
/// instead of looking it up in a shared map.
struct Run {
    tag: u32,
    warm: usize,
    total: usize,
    base: Instant,
    /// nanoseconds since `base` + 1 at which message i was sent; 0 = not sent
    sent_ns: Vec<AtomicU64>,
    /// 0 = no answer (yet), 1 = 2xx, 2 = error
    status: Vec<AtomicU8>,
    /// per agent: first deliveries of warm-up and of measured messages (written only by its reader)
    counters: Vec<AgentCounter>,
}

#[repr(align(64))]
#[derive(Default)]
struct AgentCounter {
    warm: AtomicU64,
    measured: AtomicU64,
}

impl Run {
    fn index_of(&self, waha_id: &str) -> Option<usize> {
        let b = waha_id.as_bytes();
        if b.len() < 20 {
            return None;
        }
        let tail = &waha_id[b.len() - 20..];
        let tag = u32::from_str_radix(tail.get(..8)?, 16).ok()?;
        let idx = u64::from_str_radix(tail.get(8..)?, 16).ok()? as usize;
        (tag == self.tag && idx < self.total).then_some(idx)
    }

    fn sum_counters(&self, measured: bool) -> u64 {
        self.counters
            .iter()
            .map(|c| {
                if measured {
                    c.measured.load(Ordering::Relaxed)
                } else {
                    c.warm.load(Ordering::Relaxed)
                }
            })
            .sum()
    }

    fn ok_in(&self, lo: usize, hi: usize) -> u64 {
        self.status[lo..hi]
            .iter()
            .filter(|s| s.load(Ordering::Relaxed) == 1)
            .count() as u64
    }
}

// ------------------------------------------------------------------ webhook bodies

struct BodyMaker {
    session_json: String,
    tag: u32,
    chats: usize,
    hmac_key: Option<Vec<u8>>,
}

struct Webhook {
    body: Vec<u8>,
    signature: Option<String>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn hmac_sha512_hex(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

impl BodyMaker {
    /// The peers' workload body (peers/README.md "The workload"); `k` is the index within the phase.
    fn make(&self, i: usize, k: usize, measured: bool) -> Webhook {
        let phone = format!("4470{:07}", k % self.chats);
        let ms = now_ms();
        let body = format!(
            concat!(
                r#"{{"id":"evt_{evt}","timestamp":{ms},"event":"message","session":{session},"engine":"WEBJS","#,
                r#""me":{{"id":"15550000000@c.us","pushName":"Bench"}},"#,
                r#""payload":{{"id":"false_{phone}@c.us_{tag:08X}{i:012X}","timestamp":{s},"from":"{phone}@c.us","#,
                r#""fromMe":false,"to":"15550000000@c.us","body":"bench {k} {mw}","hasMedia":false,"ack":1,"#,
                r#""_data":{{"notifyName":"Customer {last4}"}}}},"#,
                r#""environment":{{"version":"bench","engine":"WEBJS","tier":"CORE"}}}}"#
            ),
            evt = uuid::Uuid::new_v4().simple(),
            ms = ms,
            session = self.session_json,
            phone = phone,
            tag = self.tag,
            i = i,
            s = ms / 1000,
            k = k,
            mw = if measured { "m" } else { "w" },
            last4 = &phone[phone.len() - 4..],
        )
        .into_bytes();
        let signature = self
            .hmac_key
            .as_ref()
            .map(|key| hmac_sha512_hex(key, &body));
        Webhook { body, signature }
    }
}

// ------------------------------------------------------------------ senders

struct SendStats {
    post_us: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    lag_max: Duration,
    first_send: Option<Instant>,
    last_send: Option<Instant>,
    last_ok: Option<Instant>,
}

impl SendStats {
    fn new() -> Self {
        SendStats {
            post_us: new_hist(),
            ok: 0,
            errors: BTreeMap::new(),
            lag_max: Duration::ZERO,
            first_send: None,
            last_send: None,
            last_ok: None,
        }
    }

    fn merge(&mut self, o: SendStats) {
        self.post_us.add(&o.post_us).expect("same bounds");
        self.ok += o.ok;
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        self.lag_max = self.lag_max.max(o.lag_max);
        self.first_send = min_opt(self.first_send, o.first_send);
        self.last_send = max_opt(self.last_send, o.last_send);
        self.last_ok = max_opt(self.last_ok, o.last_ok);
    }

    fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }
}

fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn new_hist() -> Histogram<u64> {
    // microseconds, 1 µs .. 1 h, 3 significant digits
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

fn error_kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connect".into()
    } else if e.is_body() || e.is_decode() {
        "body".into()
    } else {
        // hyper's message, e.g. "connection closed before message completed"
        let mut src: Option<&dyn std::error::Error> = Some(e);
        let mut last = String::from("request");
        while let Some(s) = src {
            last = s.to_string();
            src = s.source();
        }
        format!("request: {}", truncate(&last, 80))
    }
}

/// An error and its sources, e.g. "error sending request: … : Connection refused (os error 111)".
fn err_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        s.to_string()
    } else {
        let mut end = n;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

/// Send messages `lo..hi` on a fixed schedule from `start`, at most `connections` in flight.
/// Each worker claims the next index, builds its body while waiting for its slot, takes the send
/// instant just before the POST and records the answer. When every worker is busy the next slot is
/// claimed late: that is the send lag.
#[allow(clippy::too_many_arguments)]
async fn send_phase(
    run: Arc<Run>,
    maker: Arc<BodyMaker>,
    client: reqwest::Client,
    url: Arc<str>,
    (lo, hi): (usize, usize),
    rate: f64,
    connections: usize,
    measured: bool,
) -> SendStats {
    let count = hi - lo;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(5);
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections.min(count.max(1)) {
        let (run, maker, client, url, next) = (
            run.clone(),
            maker.clone(),
            client.clone(),
            url.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut st = SendStats::new();
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= count {
                    break;
                }
                let i = lo + k;
                let wh = maker.make(i, k, measured);
                let sched = start + Duration::from_nanos((k as f64 * 1e9 / rate) as u64);
                if sched > Instant::now() {
                    tokio::time::sleep_until(sched.into()).await;
                }
                let mut headers = HeaderMap::with_capacity(6);
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                headers.insert(USER_AGENT, HeaderValue::from_static("WAHA/bench"));
                headers.insert(
                    "x-webhook-request-id",
                    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).unwrap(),
                );
                headers.insert("x-webhook-timestamp", HeaderValue::from(now_ms()));
                if let Some(sig) = &wh.signature {
                    headers.insert("x-webhook-hmac", HeaderValue::from_str(sig).unwrap());
                    headers.insert(
                        "x-webhook-hmac-algorithm",
                        HeaderValue::from_static("sha512"),
                    );
                }
                let req = client.post(&*url).headers(headers).body(wh.body);
                // the send instant: just before the POST
                let t0 = Instant::now();
                run.sent_ns[i].store((t0 - run.base).as_nanos() as u64 + 1, Ordering::Release);
                st.lag_max = st.lag_max.max(t0.saturating_duration_since(sched));
                st.first_send.get_or_insert(t0);
                st.last_send = Some(t0);
                let res = match req.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.bytes().await {
                            Ok(_) => Ok(status),
                            Err(e) => Err(error_kind(&e)),
                        }
                    }
                    Err(e) => Err(error_kind(&e)),
                };
                let t1 = Instant::now();
                st.post_us
                    .saturating_record((t1 - t0).as_micros().max(1) as u64);
                match res {
                    Ok(s) if s.is_success() => {
                        st.ok += 1;
                        st.last_ok = Some(t1);
                        run.status[i].store(1, Ordering::Relaxed);
                    }
                    Ok(s) => {
                        *st.errors.entry(format!("http_{}", s.as_u16())).or_default() += 1;
                        run.status[i].store(2, Ordering::Relaxed);
                    }
                    Err(kind) => {
                        *st.errors.entry(kind).or_default() += 1;
                        run.status[i].store(2, Ordering::Relaxed);
                    }
                }
            }
            st
        }));
    }
    let mut all = SendStats::new();
    for t in tasks {
        match t.await {
            Ok(st) => all.merge(st),
            Err(e) => *all.errors.entry(format!("sender task: {e}")).or_default() += 1,
        }
    }
    all
}

// ------------------------------------------------------------------ websocket readers

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MsgData<'a> {
    #[serde(borrow, default)]
    waha_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct HelloData {
    #[serde(default)]
    seq: Option<u64>,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct AgentStats {
    lat_us: Histogram<u64>,
    seen: Vec<u64>,
    frames: u64,
    bad_frames: u64,
    duplicates: u64,
    seq_errors: u64,
    unexpected: u64,
    closed: Option<String>,
}

async fn connect_agent(ws_url: &str) -> Result<(Ws, Option<u64>), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(ws_url, None, true)
        .await
        .map_err(|e| format!("websocket connect: {e}"))?;
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .map_err(|_| "no hello frame within 10 s".to_string())?;
    let text = match first {
        Some(Ok(Message::Text(t))) => t,
        Some(Ok(other)) => return Err(format!("first frame is not text: {other:?}")),
        Some(Err(e)) => return Err(format!("websocket error before hello: {e}")),
        None => return Err("websocket closed before hello".into()),
    };
    let f: Frame = serde_json::from_str(text.as_str())
        .map_err(|e| format!("hello is not a JSON frame ({e}): {}", truncate(&text, 200)))?;
    if f.ty != "hello" {
        return Err(format!("first frame is {:?}, not hello", f.ty));
    }
    let data_seq = f
        .data
        .and_then(|d| serde_json::from_str::<HelloData>(d.get()).ok())
        .and_then(|d| d.seq);
    Ok((ws, data_seq.or(f.seq)))
}

async fn read_agent(
    agent: usize,
    mut ws: Ws,
    mut last_seq: Option<u64>,
    run: Arc<Run>,
    mut stop: oneshot::Receiver<()>,
) -> AgentStats {
    let mut st = AgentStats {
        lat_us: new_hist(),
        seen: vec![0u64; run.total.div_ceil(64)],
        frames: 0,
        bad_frames: 0,
        duplicates: 0,
        seq_errors: 0,
        unexpected: 0,
        closed: None,
    };
    let counter = &run.counters[agent];
    loop {
        let msg = tokio::select! {
            biased;
            _ = &mut stop => break,
            m = ws.next() => m,
        };
        let arrived = Instant::now();
        let text = match msg {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(c))) => {
                st.closed = Some(format!("closed by server: {c:?}"));
                continue; // the stream ends after the close handshake
            }
            Some(Ok(_)) => continue, // ping/pong (answered by tungstenite), binary
            Some(Err(e)) => {
                st.closed
                    .get_or_insert_with(|| format!("websocket error: {e}"));
                break;
            }
            None => {
                st.closed.get_or_insert_with(|| "websocket closed".into());
                break;
            }
        };
        st.frames += 1;
        let Ok(f) = serde_json::from_str::<Frame>(text.as_str()) else {
            st.bad_frames += 1;
            continue;
        };
        if let Some(seq) = f.seq {
            if matches!(last_seq, Some(l) if seq <= l) {
                st.seq_errors += 1;
            }
            last_seq = Some(seq);
        }
        if f.ty != "message.created" {
            continue;
        }
        let wid = f
            .data
            .and_then(|d| serde_json::from_str::<MsgData>(d.get()).ok())
            .and_then(|d| d.waha_id);
        let Some(i) = wid.as_deref().and_then(|w| run.index_of(w)) else {
            st.unexpected += 1;
            continue;
        };
        let sent = run.sent_ns[i].load(Ordering::Acquire);
        if sent == 0 {
            st.unexpected += 1;
            continue;
        }
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if st.seen[word] & bit != 0 {
            st.duplicates += 1;
            continue;
        }
        st.seen[word] |= bit;
        if i >= run.warm {
            let at = (arrived - run.base).as_nanos() as u64;
            let lat_ns = at.saturating_sub(sent - 1);
            st.lat_us.saturating_record((lat_ns / 1000).max(1));
            counter.measured.fetch_add(1, Ordering::Relaxed);
        } else {
            counter.warm.fetch_add(1, Ordering::Relaxed);
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
    st
}

// ------------------------------------------------------------------ setup

#[derive(Deserialize)]
struct LoginResp {
    token: String,
}

struct SetupError(String);

impl<E: std::fmt::Display> From<E> for SetupError {
    fn from(e: E) -> Self {
        SetupError(e.to_string())
    }
}

async fn login(client: &reqwest::Client, a: &Args) -> Result<String, SetupError> {
    let url = format!("{}/api/auth/login", a.url);
    let r = client
        .post(&url)
        .json(&serde_json::json!({"email": a.email, "password": a.password}))
        .send()
        .await
        .map_err(|e| SetupError(format!("POST {url}: {}", err_chain(&e))))?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(SetupError(format!(
            "login refused (401): wrong email or password for {} (create it with `tickhub create-admin`); {}",
            a.email,
            truncate(&body, 300)
        )));
    }
    if !status.is_success() {
        return Err(SetupError(format!(
            "POST {url} -> HTTP {}: {}",
            status.as_u16(),
            truncate(&body, 300)
        )));
    }
    let lr: LoginResp = serde_json::from_str(&body).map_err(|e| {
        SetupError(format!(
            "login answer has no token ({e}): {}",
            truncate(&body, 300)
        ))
    })?;
    Ok(lr.token)
}

async fn ensure_session(client: &reqwest::Client, a: &Args, token: &str) -> Result<(), SetupError> {
    let url = format!("{}/api/sessions", a.url);
    let r = client
        .post(&url)
        .bearer_auth(token)
        .json(&serde_json::json!({"name": a.session}))
        .send()
        .await
        .map_err(|e| SetupError(format!("POST {url}: {}", err_chain(&e))))?;
    let status = r.status();
    if status.as_u16() == 200 || status.as_u16() == 201 {
        return Ok(());
    }
    let body = r.text().await.unwrap_or_default();
    Err(SetupError(format!(
        "POST {url} {{\"name\": {:?}}} -> HTTP {}: {}",
        a.session,
        status.as_u16(),
        truncate(&body, 500)
    )))
}

fn ws_url(base: &str, token: &str) -> Result<String, SetupError> {
    let mut u = reqwest::Url::parse(base)?;
    let scheme = match u.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => {
            return Err(SetupError(
                "https/wss is not supported (built without TLS): point --url at the plain-HTTP listener".into(),
            ))
        }
        s => return Err(SetupError(format!("unsupported URL scheme {s}"))),
    };
    u.set_scheme(scheme)
        .map_err(|_| SetupError("cannot build the websocket URL".into()))?;
    u.set_path("/ws");
    u.query_pairs_mut().clear().append_pair("token", token);
    Ok(u.to_string())
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let t0 = Instant::now();
    while !done() && t0.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t0.elapsed()
}

// ------------------------------------------------------------------ summary

#[derive(Serialize)]
struct Summary {
    mode: &'static str,
    target: &'static str,
    label: String,
    url: String,
    agents: usize,
    rate: f64,
    seconds: f64,
    chats: usize,
    connections: usize,
    warmup: usize,
    sent: u64,
    messages: u64,
    http_ok: u64,
    http_errors: u64,
    http_error_kinds: BTreeMap<String, u64>,
    send_rate: f64,
    achieved_rate: f64,
    send_lag_max_ms: f64,
    post_p50_ms: Option<f64>,
    post_p99_ms: Option<f64>,
    post_max_ms: Option<f64>,
    p50_ms: Option<f64>,
    p90_ms: Option<f64>,
    p99_ms: Option<f64>,
    p999_ms: Option<f64>,
    max_ms: Option<f64>,
    mean_ms: Option<f64>,
    expected: u64,
    delivered: u64,
    missing: u64,
    lost: u64,
    duplicates: u64,
    seq_errors: u64,
    unexpected: u64,
    delivered_unacked: u64,
    warmup_missing: u64,
    frames: u64,
    bad_frames: u64,
    disconnects: u64,
    drain_s: f64,
    passed: bool,
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn q_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| r2(h.value_at_quantile(q) as f64 / 1000.0))
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into())
}

fn print_table(s: &Summary) {
    let kinds = if s.http_error_kinds.is_empty() {
        String::new()
    } else {
        format!(
            "  ({})",
            s.http_error_kinds
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let rows: Vec<(&str, String)> = vec![
        ("label", s.label.clone()),
        ("url", s.url.clone()),
        (
            "agents / chats / connections",
            format!("{} / {} / {}", s.agents, s.chats, s.connections),
        ),
        (
            "rate target / sent / achieved",
            format!(
                "{}/s x {} s: {} sent at {:.1}/s, {:.1} 2xx/s",
                s.rate, s.seconds, s.sent, s.send_rate, s.achieved_rate
            ),
        ),
        ("send lag max", format!("{:.1} ms", s.send_lag_max_ms)),
        (
            "HTTP 2xx / errors",
            format!("{} / {}{}", s.http_ok, s.http_errors, kinds),
        ),
        (
            "webhook answer p50 / p99 / max",
            format!(
                "{} / {} / {} ms",
                opt(s.post_p50_ms),
                opt(s.post_p99_ms),
                opt(s.post_max_ms)
            ),
        ),
        (
            "webhook -> ws p50 / p90 / p99",
            format!(
                "{} / {} / {} ms",
                opt(s.p50_ms),
                opt(s.p90_ms),
                opt(s.p99_ms)
            ),
        ),
        (
            "webhook -> ws p99.9 / max / mean",
            format!(
                "{} / {} / {} ms",
                opt(s.p999_ms),
                opt(s.max_ms),
                opt(s.mean_ms)
            ),
        ),
        (
            "delivered / expected",
            format!("{} / {}", s.delivered, s.expected),
        ),
        ("missing", s.missing.to_string()),
        ("duplicates", s.duplicates.to_string()),
        ("seq errors", s.seq_errors.to_string()),
        ("unexpected frames", s.unexpected.to_string()),
        (
            "frames read / unparsable",
            format!("{} / {}", s.frames, s.bad_frames),
        ),
        ("sockets closed early", s.disconnects.to_string()),
        ("drain", format!("{:.2} s", s.drain_s)),
        ("result", if s.passed { "PASS" } else { "FAIL" }.into()),
    ];
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        println!("{k:<w$}  {v}");
    }
}

// ------------------------------------------------------------------ main

async fn run(a: Args) -> Result<bool, SetupError> {
    if !(a.rate > 0.0 && a.seconds > 0.0) || a.agents == 0 || a.chats == 0 || a.connections == 0 {
        return Err(SetupError(
            "rate, seconds, agents, chats and connections must be positive".into(),
        ));
    }
    let n = (a.rate * a.seconds) as usize;
    if n == 0 {
        return Err(SetupError("rate x seconds is below one message".into()));
    }
    let warm = a.warmup.min(n);
    let total = warm + n;
    if total as u64 >= 1u64 << 48 {
        return Err(SetupError("too many messages".into()));
    }

    let client = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(a.connections)
        .pool_idle_timeout(Duration::from_secs(90))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs_f64(a.post_timeout))
        .build()?;

    let token = login(&client, &a).await?;
    ensure_session(&client, &a, &token).await?;
    let ws_url = Arc::new(ws_url(&a.url, &token)?);

    let tag = uuid::Uuid::new_v4().as_u128() as u32;
    let run = Arc::new(Run {
        tag,
        warm,
        total,
        base: Instant::now(),
        sent_ns: (0..total).map(|_| AtomicU64::new(0)).collect(),
        status: (0..total).map(|_| AtomicU8::new(0)).collect(),
        counters: (0..a.agents).map(|_| AgentCounter::default()).collect(),
    });

    // 1. connect every agent (50 handshakes at a time); all must succeed
    let sem = Arc::new(tokio::sync::Semaphore::new(50));
    let mut connects = Vec::with_capacity(a.agents);
    for _ in 0..a.agents {
        let (sem, url) = (sem.clone(), ws_url.clone());
        connects.push(tokio::spawn(async move {
            let _p = sem.acquire().await;
            tokio::time::timeout(Duration::from_secs(30), connect_agent(&url))
                .await
                .unwrap_or_else(|_| Err("websocket connect timed out (30 s)".into()))
        }));
    }
    let mut readers = Vec::with_capacity(a.agents);
    let mut stops = Vec::with_capacity(a.agents);
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut sockets = Vec::new();
    for c in connects {
        match c.await {
            Ok(Ok(s)) => sockets.push(s),
            Ok(Err(e)) => *failures.entry(e).or_default() += 1,
            Err(e) => *failures.entry(e.to_string()).or_default() += 1,
        }
    }
    if !failures.is_empty() {
        return Err(SetupError(format!(
            "{} of {} agents failed to connect: {:?}",
            failures.values().sum::<u64>(),
            a.agents,
            failures
        )));
    }
    for (idx, (ws, seq)) in sockets.into_iter().enumerate() {
        let (tx, rx) = oneshot::channel();
        stops.push(tx);
        readers.push(tokio::spawn(read_agent(idx, ws, seq, run.clone(), rx)));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let maker = Arc::new(BodyMaker {
        session_json: serde_json::to_string(&a.session)?,
        tag,
        chats: a.chats,
        hmac_key: a.hmac_key.as_ref().map(|k| k.as_bytes().to_vec()),
    });
    let hook_url: Arc<str> = format!("{}/webhooks/waha", a.url).into();
    let agents = a.agents as u64;

    // 2. warm-up, unmeasured
    if warm > 0 {
        let ws = send_phase(
            run.clone(),
            maker.clone(),
            client.clone(),
            hook_url.clone(),
            (0, warm),
            a.rate,
            a.connections,
            false,
        )
        .await;
        let want = run.ok_in(0, warm) * agents;
        wait_until(Duration::from_secs(5), || run.sum_counters(false) >= want).await;
        if ws.errors_total() > 0 {
            eprintln!(
                "warning: warm-up had {} HTTP errors: {:?}",
                ws.errors_total(),
                ws.errors
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // 3. measured open-loop phase
    let st = send_phase(
        run.clone(),
        maker.clone(),
        client.clone(),
        hook_url.clone(),
        (warm, total),
        a.rate,
        a.connections,
        true,
    )
    .await;
    let ok_msgs = run.ok_in(warm, total);
    let expected = ok_msgs * agents;
    let drain_s = wait_until(Duration::from_secs_f64(a.drain), || {
        run.sum_counters(true) >= expected
    })
    .await
    .as_secs_f64();
    // a short grace period so a duplicate right behind the last delivery is still seen
    tokio::time::sleep(Duration::from_millis(200)).await;

    for s in stops {
        let _ = s.send(());
    }
    let mut lat = new_hist();
    let (mut duplicates, mut seq_errors, mut unexpected, mut frames, mut bad, mut disconnects) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let (mut missing, mut warm_missing, mut unacked) = (0u64, 0u64, 0u64);
    let ok_flags: Vec<u8> = run
        .status
        .iter()
        .map(|s| s.load(Ordering::Relaxed))
        .collect();
    for (idx, r) in readers.into_iter().enumerate() {
        let ag = match r.await {
            Ok(ag) => ag,
            Err(e) => {
                eprintln!("agent {idx}: reader task failed: {e}");
                disconnects += 1;
                missing += ok_msgs;
                continue;
            }
        };
        lat.add(&ag.lat_us).expect("same bounds");
        duplicates += ag.duplicates;
        seq_errors += ag.seq_errors;
        unexpected += ag.unexpected;
        frames += ag.frames;
        bad += ag.bad_frames;
        if let Some(why) = &ag.closed {
            disconnects += 1;
            eprintln!("agent {idx}: {why}");
        }
        for (i, &flag) in ok_flags.iter().enumerate() {
            let seen = ag.seen[i / 64] & (1u64 << (i % 64)) != 0;
            match (i >= warm, flag == 1, seen) {
                (true, true, false) => missing += 1,
                (true, false, true) => unacked += 1,
                (false, true, false) => warm_missing += 1,
                _ => {}
            }
        }
    }

    let sent = n as u64;
    let send_window = match (st.first_send, st.last_send) {
        (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
        _ => 0.0,
    };
    let ok_window = match (st.first_send, st.last_ok) {
        (Some(f), Some(l)) if l > f => (l - f).as_secs_f64(),
        _ => 0.0,
    };
    let http_errors = st.errors_total();
    let passed = missing == 0 && duplicates == 0 && http_errors == 0 && seq_errors == 0;
    let summary = Summary {
        mode: "latency",
        target: "tickhub",
        label: a.label.clone(),
        url: a.url.clone(),
        agents: a.agents,
        rate: a.rate,
        seconds: a.seconds,
        chats: a.chats,
        connections: a.connections,
        warmup: warm,
        sent,
        messages: sent,
        http_ok: st.ok,
        http_errors,
        http_error_kinds: st.errors.clone(),
        send_rate: if send_window > 0.0 {
            ((sent.saturating_sub(1)) as f64 / send_window * 10.0).round() / 10.0
        } else {
            0.0
        },
        achieved_rate: if ok_window > 0.0 {
            (st.ok as f64 / ok_window * 10.0).round() / 10.0
        } else {
            0.0
        },
        send_lag_max_ms: (st.lag_max.as_secs_f64() * 10_000.0).round() / 10.0,
        post_p50_ms: q_ms(&st.post_us, 0.50),
        post_p99_ms: q_ms(&st.post_us, 0.99),
        post_max_ms: (!st.post_us.is_empty()).then(|| r2(st.post_us.max() as f64 / 1000.0)),
        p50_ms: q_ms(&lat, 0.50),
        p90_ms: q_ms(&lat, 0.90),
        p99_ms: q_ms(&lat, 0.99),
        p999_ms: q_ms(&lat, 0.999),
        max_ms: (!lat.is_empty()).then(|| r2(lat.max() as f64 / 1000.0)),
        mean_ms: (!lat.is_empty()).then(|| r2(lat.mean() / 1000.0)),
        expected,
        delivered: expected - missing.min(expected),
        missing,
        lost: missing,
        duplicates,
        seq_errors,
        unexpected,
        delivered_unacked: unacked,
        warmup_missing: warm_missing,
        frames,
        bad_frames: bad,
        disconnects,
        drain_s: r2(drain_s),
        passed,
    };
    print_table(&summary);
    let line = serde_json::to_string(&summary)?;
    println!("{line}");
    if let Some(path) = &a.json_out {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| SetupError(format!("--json-out {path}: {e}")))?;
        writeln!(f, "{line}").map_err(|e| SetupError(format!("--json-out {path}: {e}")))?;
    }
    Ok(passed)
}

fn main() -> ExitCode {
    let mut a = Args::parse();
    a.url = a.url.trim_end_matches('/').to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(a)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(SetupError(msg)) => {
            eprintln!("loadtest: {msg}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_wahas_vector() {
        let body = r#"{"event":"message","session":"default","engine":"WEBJS"}"#;
        assert_eq!(
            hmac_sha512_hex(b"my-secret-key", body.as_bytes()),
            "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89"
        );
    }

    #[test]
    fn body_is_the_peers_workload_and_id_round_trips() {
        let maker = BodyMaker {
            session_json: serde_json::to_string("default").unwrap(),
            tag: 0xDEADBEEF,
            chats: 200,
            hmac_key: Some(b"k".to_vec()),
        };
        let wh = maker.make(1234, 242, true);
        let v: serde_json::Value = serde_json::from_slice(&wh.body).unwrap();
        assert_eq!(v["event"], "message");
        assert_eq!(v["session"], "default");
        assert_eq!(v["engine"], "WEBJS");
        assert!(v["id"].as_str().unwrap().starts_with("evt_"));
        let p = &v["payload"];
        assert_eq!(p["from"], "44700000042@c.us");
        assert_eq!(p["fromMe"], false);
        assert_eq!(p["hasMedia"], false);
        assert_eq!(p["ack"], 1);
        assert_eq!(p["body"], "bench 242 m");
        assert_eq!(p["_data"]["notifyName"], "Customer 0042");
        let id = p["id"].as_str().unwrap();
        assert_eq!(id, "false_44700000042@c.us_DEADBEEF0000000004D2");
        assert_eq!(
            wh.signature.as_deref(),
            Some(hmac_sha512_hex(b"k", &wh.body).as_str())
        );
        let run = Run {
            tag: 0xDEADBEEF,
            warm: 0,
            total: 2000,
            base: Instant::now(),
            sent_ns: vec![],
            status: vec![],
            counters: vec![],
        };
        assert_eq!(run.index_of(id), Some(1234));
        assert_eq!(run.index_of("false_1@c.us_DEADBEF00000000000004D2"), None);
        assert_eq!(run.index_of("false_1@c.us_DEADBEEF0000000FFFFF"), None);
        assert_eq!(run.index_of("short"), None);
    }

    #[test]
    fn frames_parse_borrowed() {
        let s = r#"{"type":"message.created","seq":7,"data":{"id":"x","waha_id":"false_1@c.us_AB","text":"a\"b"}}"#;
        let f: Frame = serde_json::from_str(s).unwrap();
        assert_eq!(f.ty, "message.created");
        assert_eq!(f.seq, Some(7));
        let d: MsgData = serde_json::from_str(f.data.unwrap().get()).unwrap();
        assert_eq!(d.waha_id.as_deref(), Some("false_1@c.us_AB"));
    }
}
