//! `--bot`: before the run, a bot on the session answering every customer message; after it,
//! waiting for the simulator to have sent the replies and checking them ([`crate::replies`]).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::args::Args;
use crate::replies::{check, Asked, ReplyCheck, SimSent};
use crate::setup::SetupError;
use crate::state::Run;
use crate::text::truncate;
use crate::webhooks::phone_of;

/// The bot's one answer. The same for every message, so it carries nothing to tell two replies
/// apart: duplicates are found by counting per chat.
pub const REPLY: &str = "Thanks for your message, we are on it.";

#[derive(Deserialize)]
struct Created {
    id: i64,
}

async fn post_created(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<i64, SetupError> {
    let r = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| SetupError(format!("POST {url}: {e}")))?;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    if status.as_u16() != 201 {
        return Err(SetupError(format!(
            "POST {url} {body} -> HTTP {}: {}",
            status.as_u16(),
            truncate(&text, 500)
        )));
    }
    let c: Created = serde_json::from_str(&text)
        .map_err(|e| SetupError(format!("POST {url}: no id in the answer ({e})")))?;
    Ok(c.id)
}

/// Creates the bot (no greeting, no fallback, no handoff keywords: one reply per message,
/// nothing hands over) and its catch-all trigger; answers the bot's id.
pub async fn create_bot(
    client: &reqwest::Client,
    a: &Args,
    token: &str,
) -> Result<i64, SetupError> {
    let bot = json!({
        "name": "loadtest bot",
        "sessions": [a.session],
        "active": true,
        "handoff_keywords": [],
    });
    let bot_id = post_created(client, &format!("{}/api/bots", a.url), token, &bot).await?;
    let trigger = json!({
        "bot_id": bot_id,
        "match": "regex",
        "pattern": ".",
        "priority": 1,
        "response": REPLY,
        "action": "reply",
    });
    post_created(client, &format!("{}/api/triggers", a.url), token, &trigger).await?;
    Ok(bot_id)
}

#[derive(Deserialize)]
struct SimStats {
    sends: u64,
}

/// The simulator's count of sends (`GET /sim/stats`), cheap to poll.
pub async fn sim_sends(client: &reqwest::Client, sim_url: &str) -> Result<u64, String> {
    let url = format!("{sim_url}/sim/stats");
    let r = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("GET {url} -> HTTP {}", r.status().as_u16()));
    }
    let s: SimStats = r.json().await.map_err(|e| format!("GET {url}: {e}"))?;
    Ok(s.sends)
}

async fn sim_sent(client: &reqwest::Client, sim_url: &str) -> Result<Vec<SimSent>, String> {
    let url = format!("{sim_url}/sim/sent");
    let r = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("GET {url} -> HTTP {}", r.status().as_u16()));
    }
    r.json().await.map_err(|e| format!("GET {url}: {e}"))
}

/// The webhooks answered 2xx, per chat id in posting order, with their wall-clock post time.
fn asked(run: &Run, chats: usize) -> BTreeMap<String, Vec<Asked>> {
    // `sent_ns` is on the monotonic clock from `run.base`; the simulator stamps sends with the
    // wall clock: one offset between the two, read now, converts.
    let wall_now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0);
    let base_ms = wall_now_ms - run.base.elapsed().as_secs_f64() * 1000.0;
    let mut out: BTreeMap<String, Vec<Asked>> = BTreeMap::new();
    for i in 0..run.total {
        if run.status[i].load(Ordering::Relaxed) != 1 {
            continue;
        }
        let measured = i >= run.warm;
        let k = if measured { i - run.warm } else { i };
        let sent_ns = run.sent_ns[i].load(Ordering::Acquire).saturating_sub(1);
        out.entry(format!("{}@c.us", phone_of(k, chats)))
            .or_default()
            .push(Asked {
                posted_ms: base_ms + sent_ns as f64 / 1e6,
                measured,
            });
    }
    // under saturation, posts of one chat can leave out of index order (32 connections)
    for v in out.values_mut() {
        v.sort_by(|a, b| a.posted_ms.total_cmp(&b.posted_ms));
    }
    out
}

pub struct Replies {
    pub check: ReplyCheck,
    /// From the start of the wait to the last reply (or the limit).
    pub wait: Duration,
}

/// Waits (at most `limit`) until the simulator has sent, since `sends_before`, as many messages
/// as webhooks were answered 2xx, then a short grace so a duplicate right behind the last reply
/// is seen, and checks them.
pub async fn collect(
    client: &reqwest::Client,
    sim_url: &str,
    run: &Run,
    a: &Args,
    sends_before: u64,
    limit: Duration,
) -> Result<Replies, String> {
    let asked = asked(run, a.chats);
    let want: u64 = asked.values().map(|v| v.len() as u64).sum();
    let t0 = Instant::now();
    loop {
        let n = sim_sends(client, sim_url).await?;
        if n.saturating_sub(sends_before) >= want || t0.elapsed() >= limit {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let wait = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = sim_sent(client, sim_url).await?;
    let ours = all.get(sends_before as usize..).unwrap_or(&[]);
    Ok(Replies {
        check: check(&asked, ours, &a.session, REPLY),
        wait,
    })
}
