//! `--hook-sink`: an outbound-webhook subscriber beside the run (issue 19's benchmark: the
//! p99 with outbound webhooks on). The driver listens on a loopback port, subscribes it to
//! `message.created` for the run and deletes the subscription at the end. Every delivery of
//! one of this run's messages is counted once per message (a repeat is a duplicate), and its
//! lag is timed from the event's `created_at` to its arrival (both wall-clock milliseconds).
//!
//! The server is the least HTTP/1.1 the hub's client needs: keep-alive, `Content-Length`
//! bodies, a `200` with no body.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::setup::SetupError;
use crate::state::new_hist;
use crate::summary::q_ms;

pub struct Sink {
    tag: u32,
    /// One bit per message of the run: its `message.created` has arrived.
    seen: Vec<AtomicU64>,
    pub received: AtomicU64,
    pub duplicates: AtomicU64,
    lag_us: Mutex<Histogram<u64>>,
}

#[derive(Deserialize)]
struct Delivery {
    event: String,
    created_at: i64,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    waha_id: Option<String>,
}

impl Sink {
    /// Listens on `addr`, serving until the process ends; returns the sink and its URL.
    pub async fn start(
        addr: &str,
        tag: u32,
        total: usize,
    ) -> Result<(Arc<Sink>, String), SetupError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| SetupError(format!("--hook-sink {addr}: {e}")))?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let sink = Arc::new(Sink {
            tag,
            seen: (0..total.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            received: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            lag_us: Mutex::new(new_hist()),
        });
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.serve(conn).await;
                });
            }
        });
        Ok((sink, url))
    }

    async fn serve(&self, conn: TcpStream) -> std::io::Result<()> {
        let _ = conn.set_nodelay(true);
        let mut conn = BufReader::new(conn);
        let mut line = String::new();
        loop {
            let mut length = 0usize;
            loop {
                line.clear();
                if conn.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; length];
            conn.read_exact(&mut body).await?;
            self.take(&body);
            conn.get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await?;
        }
    }

    fn take(&self, body: &[u8]) {
        let Ok(d) = serde_json::from_slice::<Delivery>(body) else {
            return;
        };
        let Some(i) = d
            .data
            .waha_id
            .as_deref()
            .filter(|_| d.event == "message.created")
            .and_then(|id| run_index(id, self.tag))
            .filter(|&i| i < self.seen.len() * 64)
        else {
            return;
        };
        let bit = 1u64 << (i % 64);
        if self.seen[i / 64].fetch_or(bit, Ordering::Relaxed) & bit != 0 {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.received.fetch_add(1, Ordering::Relaxed);
        let lag_ms = (crate::webhooks::now_ms() as i64 - d.created_at).max(0) as u64;
        if let Ok(mut h) = self.lag_us.lock() {
            let _ = h.record(lag_ms * 1000);
        }
    }

    pub fn summary(&self, expected: u64) -> HookSummary {
        let received = self.received.load(Ordering::Relaxed);
        let lag = self
            .lag_us
            .lock()
            .map(|h| h.clone())
            .unwrap_or_else(|_| new_hist());
        HookSummary {
            hooks_expected: expected,
            hooks_received: received,
            hooks_missing: expected.saturating_sub(received),
            hook_duplicates: self.duplicates.load(Ordering::Relaxed),
            hook_lag_p50_ms: q_ms(&lag, 0.50),
            hook_lag_p99_ms: q_ms(&lag, 0.99),
            hook_lag_max_ms: q_ms(&lag, 1.0),
        }
    }
}

/// The run's message index in a WAHA id `false_<phone>@c.us_<tag:08X><i:012X>`.
fn run_index(waha_id: &str, tag: u32) -> Option<usize> {
    let tail = waha_id.rsplit_once('_')?.1;
    if tail.len() != 20 || u32::from_str_radix(&tail[..8], 16).ok()? != tag {
        return None;
    }
    usize::from_str_radix(&tail[8..], 16).ok()
}

/// With `--hook-sink` only. Every message of the run (warm-up included) that the hub
/// answered 2xx wants one delivery; a delivery may come twice (at least once), which is
/// counted but does not fail the run.
#[derive(Serialize)]
pub struct HookSummary {
    pub hooks_expected: u64,
    pub hooks_received: u64,
    pub hooks_missing: u64,
    pub hook_duplicates: u64,
    /// the event's `created_at` → its delivery at the sink (wall clock, ms resolution)
    pub hook_lag_p50_ms: Option<f64>,
    pub hook_lag_p99_ms: Option<f64>,
    pub hook_lag_max_ms: Option<f64>,
}

/// Subscribes `url` to `message.created`; returns the subscription's id.
pub async fn subscribe(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    url: &str,
) -> Result<i64, SetupError> {
    let r = client
        .post(format!("{base}/api/webhook-subscriptions"))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "url": url,
            "events": ["message.created"],
            "secret": "loadtest-hook-sink-secret",
        }))
        .send()
        .await?;
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    match body["id"].as_i64() {
        Some(id) if status.is_success() => Ok(id),
        _ => Err(SetupError(format!(
            "POST /api/webhook-subscriptions: {status} {body}"
        ))),
    }
}

pub async fn unsubscribe(client: &reqwest::Client, base: &str, token: &str, id: i64) {
    let _ = client
        .delete(format!("{base}/api/webhook-subscriptions/{id}"))
        .bearer_auth(token)
        .send()
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_index_reads_the_tagged_ids_only() {
        assert_eq!(
            run_index("false_447700900001@c.us_DEADBEEF00000000002A", 0xDEADBEEF),
            Some(42)
        );
        assert_eq!(
            run_index("false_447700900001@c.us_DEADBEEF00000000002A", 0xABCDEF01),
            None
        );
        assert_eq!(run_index("false_1@c.us_AB", 0xDEADBEEF), None);
    }
}
