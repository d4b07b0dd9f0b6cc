//! The open-loop senders: POSTing a phase of webhooks on a fixed schedule through a pool of
//! connections, and what they measure ([`SendStats`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};

use crate::state::{new_hist, Run};
use crate::text::truncate;
use crate::webhooks::{now_ms, BodyMaker, Webhook};

pub struct SendStats {
    pub post_us: Histogram<u64>,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub lag_max: Duration,
    pub first_send: Option<Instant>,
    pub last_send: Option<Instant>,
    pub last_ok: Option<Instant>,
    /// POSTs made again after a 5xx or no answer (`--retries`)
    pub retries: u64,
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
            retries: 0,
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
        self.retries += o.retries;
    }

    pub fn errors_total(&self) -> u64 {
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

/// One POST of a webhook: its status once the body was read, or the kind of failure.
async fn post(
    client: &reqwest::Client,
    url: &str,
    request_id: &str,
    wh: &Webhook,
) -> Result<reqwest::StatusCode, String> {
    let mut headers = HeaderMap::with_capacity(6);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static("WAHA/bench"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-webhook-request-id", v);
    }
    headers.insert("x-webhook-timestamp", HeaderValue::from(now_ms()));
    if let Some(sig) = wh
        .signature
        .as_deref()
        .and_then(|s| HeaderValue::from_str(s).ok())
    {
        headers.insert("x-webhook-hmac", sig);
        headers.insert(
            "x-webhook-hmac-algorithm",
            HeaderValue::from_static("sha512"),
        );
    }
    let req = client.post(url).headers(headers).body(wh.body.clone());
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            match resp.bytes().await {
                Ok(_) => Ok(status),
                Err(e) => Err(error_kind(&e)),
            }
        }
        Err(e) => Err(error_kind(&e)),
    }
}

/// Send messages `lo..hi` on a fixed schedule from `start`, at most `connections` in flight.
/// Each worker claims the next index, builds its body while waiting for its slot, takes the send
/// instant just before the POST and records the answer. When every worker is busy the next slot is
/// claimed late: that is the send lag.
#[allow(clippy::too_many_arguments)]
pub async fn send_phase(
    run: Arc<Run>,
    maker: Arc<BodyMaker>,
    client: reqwest::Client,
    url: Arc<str>,
    (lo, hi): (usize, usize),
    rate: f64,
    connections: usize,
    measured: bool,
    retries: u32,
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
                // the send instant: just before the first POST
                let t0 = Instant::now();
                run.sent_ns[i].store((t0 - run.base).as_nanos() as u64 + 1, Ordering::Release);
                st.lag_max = st.lag_max.max(t0.saturating_duration_since(sched));
                st.first_send.get_or_insert(t0);
                st.last_send = Some(t0);
                let request_id = uuid::Uuid::new_v4().to_string();
                let mut attempt = 0;
                let res = loop {
                    let res = post(&client, &url, &request_id, &wh).await;
                    let retryable = match &res {
                        Ok(s) => s.is_server_error(),
                        Err(_) => true,
                    };
                    if !retryable || attempt >= retries {
                        break res;
                    }
                    // as WAHA does: the same body again after a pause
                    attempt += 1;
                    st.retries += 1;
                    tokio::time::sleep(Duration::from_millis(100u64 << (attempt - 1).min(4))).await;
                };
                run.attempts[i].store((attempt + 1).min(255) as u8, Ordering::Relaxed);
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
