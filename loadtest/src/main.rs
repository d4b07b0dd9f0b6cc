//! `loadtest`: open-loop webhook -> websocket fan-out load test for tickhub.
//!
//! N agents hold websockets (`/ws?token=…`); WAHA-shaped `message` webhooks are POSTed to
//! `/webhooks/waha` on a fixed schedule (rate R for T seconds, spread over C chats) through a pool of
//! keep-alive connections; every `message.created` frame is matched to its webhook by `data.waha_id`
//! and timed from just before the POST to the frame's arrival at each agent's socket (one monotonic
//! clock). Same workload and fields as `shared/peers/driver/wsbench.py latency --target tickhub`,
//! built to drive 10k+ webhooks/s.
//!
//! With `--bot` the session gets a bot answering every customer message first, and the run
//! also checks, with the simulator, that every webhook got exactly one reply.
//!
//! Two more commands share the binary: `loadtest seed` fills a fresh database with a big inbox
//! and `loadtest queries` times the inbox's reads on it (issue 16; see README); `loadtest
//! import` times a contact CSV import (issue 17).
//!
//! Exit status: 0 when nothing is missing or duplicated (messages, and with `--bot` replies)
//! and there were no HTTP or seq errors, 1 when the run completed but one of those checks
//! failed, 2 when setup failed (login, session, bot, websocket connect, bad arguments).

mod agents;
mod args;
mod bot;
mod hooksink;
mod import;
mod presence;
mod queries;
mod replies;
mod seed;
mod seed_data;
mod seed_db;
mod send;
mod setup;
mod state;
mod summary;
mod text;
mod webhooks;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::sync::{mpsc, oneshot};

use crate::agents::{connect_agent, read_agent, Reader};
use crate::args::Args;
use crate::send::send_phase;
use crate::setup::{ensure_session, login, wait_until, ws_url, SetupError};
use crate::state::{new_hist, AgentCounter, Run};
use crate::summary::{print_table, q_ms, r2, BotSummary, Summary};
use crate::webhooks::BodyMaker;

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
    if a.presence > 0 && a.agents < 2 {
        return Err(SetupError(
            "--presence needs at least 2 agents: one changes, the others watch".into(),
        ));
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
    // the bot first, so every conversation of the run starts with it; and what the simulator
    // had sent before, so only this run's sends are checked
    let bot = match (a.bot, a.sim_url.as_deref()) {
        (true, Some(sim)) => {
            let sends_before = bot::sim_sends(&client, sim).await.map_err(SetupError)?;
            Some((bot::create_bot(&client, &a, &token).await?, sends_before))
        }
        (true, None) => return Err(SetupError("--bot needs --sim-url".into())),
        (false, _) => None,
    };
    // agents connect round robin over --ws-urls; a dropped socket comes back through --url
    let resume_url: Arc<str> = ws_url(&a.url, &token)?.into();
    let agent_urls: Vec<Arc<str>> = if a.ws_urls.is_empty() {
        vec![resume_url.clone()]
    } else {
        a.ws_urls
            .iter()
            .map(|u| ws_url(u.trim_end_matches('/'), &token).map(Arc::from))
            .collect::<Result<_, _>>()?
    };

    let tag = uuid::Uuid::new_v4().as_u128() as u32;
    let run = Arc::new(Run {
        tag,
        warm,
        total,
        base: Instant::now(),
        sent_ns: (0..total).map(|_| AtomicU64::new(0)).collect(),
        status: (0..total).map(|_| AtomicU8::new(0)).collect(),
        attempts: (0..total).map(|_| AtomicU8::new(0)).collect(),
        counters: (0..a.agents).map(|_| AgentCounter::default()).collect(),
        presence: presence::Plan::new(a.presence),
    });

    let hooks = match &a.hook_sink {
        Some(addr) => {
            let (sink, url) = hooksink::Sink::start(addr, tag, total).await?;
            let id = hooksink::subscribe(&client, &a.url, &token, &url).await?;
            Some((sink, id))
        }
        None => None,
    };

    // 1. connect every agent (50 handshakes at a time); all must succeed
    let sem = Arc::new(tokio::sync::Semaphore::new(50));
    let mut connects = Vec::with_capacity(a.agents);
    for i in 0..a.agents {
        let (sem, url) = (sem.clone(), agent_urls[i % agent_urls.len()].clone());
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
    let mut agents_per_node: BTreeMap<String, u64> = BTreeMap::new();
    let (presence_tx, presence_rx) = mpsc::unbounded_channel();
    let mut presence_rx = (a.presence > 0).then_some(presence_rx);
    for (idx, (ws, hello)) in sockets.into_iter().enumerate() {
        *agents_per_node.entry(node_name(&hello.node)).or_default() += 1;
        let (tx, rx) = oneshot::channel();
        stops.push(tx);
        let reader = Reader {
            idx,
            run: run.clone(),
            resume_url: resume_url.clone(),
            reconnect_wait: Duration::from_secs_f64(a.reconnect_wait),
            commands: if idx == 0 { presence_rx.take() } else { None },
        };
        readers.push(tokio::spawn(read_agent(reader, ws, hello, rx)));
    }
    if a.presence > 0 {
        // the member starts `online`, so change 0 (busy) is a transition
        let _ = presence_tx.send(presence::Cmd::Reset);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let maker = Arc::new(BodyMaker {
        session_json: serde_json::to_string(&a.session)?,
        tag,
        chats: a.chats,
        hmac_key: a.hmac_key.as_ref().map(|k| k.as_bytes().to_vec()),
    });
    let hook_base = a.hook_url.as_deref().unwrap_or(&a.url);
    let hook_url: Arc<str> = format!("{hook_base}/webhooks/waha").into();
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
            a.retries,
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

    // 3. measured open-loop phase (and the presence changes over the same seconds)
    if let Some(path) = &a.phase_file {
        std::fs::write(path, "").map_err(|e| SetupError(format!("--phase-file {path}: {e}")))?;
        append_line(path, &format!("measure {}", webhooks::now_ms()))?;
    }
    let presence_driver = (a.presence > 0).then(|| {
        tokio::spawn(presence::drive(
            a.presence,
            a.seconds,
            Instant::now(),
            presence_tx.clone(),
        ))
    });
    drop(presence_tx);
    let st = send_phase(
        run.clone(),
        maker.clone(),
        client.clone(),
        hook_url.clone(),
        (warm, total),
        a.rate,
        a.connections,
        true,
        a.retries,
    )
    .await;
    if let Some(d) = presence_driver {
        let _ = d.await;
    }
    let ok_msgs = run.ok_in(warm, total);
    let expected = ok_msgs * agents;
    // every other socket should see every change that was made
    let presence_expected = run.presence.sent() * (a.agents as u64 - 1);
    let drain_s = wait_until(Duration::from_secs_f64(a.drain), || {
        run.sum_counters(true) >= expected && run.presence_seen() >= presence_expected
    })
    .await
    .as_secs_f64();
    if let Some(path) = &a.phase_file {
        append_line(path, &format!("drained {}", webhooks::now_ms()))?;
    }
    // a short grace period so a duplicate right behind the last delivery is still seen
    tokio::time::sleep(Duration::from_millis(200)).await;

    // with --hook-sink: every message answered 2xx, warm-up included, delivered once
    let hooks = match hooks {
        Some((sink, id)) => {
            let want = run.ok_in(0, total);
            wait_until(Duration::from_secs_f64(a.drain), || {
                sink.received.load(Ordering::Relaxed) >= want
            })
            .await;
            hooksink::unsubscribe(&client, &a.url, &token, id).await;
            Some(sink.summary(want))
        }
        None => None,
    };

    // 4. with --bot: every reply sent, once (readers still count the replies' frames meanwhile)
    let replies = match (bot, a.sim_url.as_deref()) {
        (Some((bot_id, before)), Some(sim)) => {
            let limit = Duration::from_secs_f64(a.reply_wait);
            Some((
                bot_id,
                bot::collect(&client, sim, &run, &a, before, limit).await,
            ))
        }
        _ => None,
    };

    for s in stops {
        let _ = s.send(());
    }
    let mut lat = new_hist();
    let (mut duplicates, mut seq_errors, mut unexpected, mut frames, mut bad, mut disconnects) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut bot_frames = 0u64;
    let (mut reconnects, mut replayed, mut resyncs, mut command_errors) = (0u64, 0u64, 0u64, 0u64);
    let mut agents_per_node_end: BTreeMap<String, u64> = BTreeMap::new();
    let mut presence_lat = new_hist();
    let mut presence_seen = 0u64;
    let mut slowest: Vec<(u64, usize, usize)> = Vec::new();
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
        bot_frames += ag.bot_frames;
        frames += ag.frames;
        bad += ag.bad_frames;
        disconnects += ag.drops;
        reconnects += ag.reconnects;
        replayed += ag.replayed;
        resyncs += ag.resyncs;
        command_errors += ag.command_errors;
        presence_lat.add(&ag.presence.lat_us).expect("same bounds");
        presence_seen += ag.presence.matched;
        slowest.extend(ag.slowest.iter().map(|&(lat, i)| (lat, i, idx)));
        let end_node = if ag.closed.is_some() {
            "(gone)".to_string()
        } else {
            node_name(&ag.node_last)
        };
        *agents_per_node_end.entry(end_node).or_default() += 1;
        if let Some(why) = &ag.closed {
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

    print_slowest(&mut slowest, &run);

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
    // no bot: nothing to check; a failure reading the simulator fails the run
    let replies_ok = replies
        .as_ref()
        .is_none_or(|(_, r)| r.as_ref().is_ok_and(|r| r.check.passed()));
    let bot = replies.map(|(bot_id, r)| bot_summary(bot_id, r, bot_frames));
    let presence = (a.presence > 0).then(|| {
        presence::PresenceSummary::new(
            &run.presence,
            a.agents as u64 - 1,
            &presence_lat,
            presence_seen,
        )
    });
    // every change made, seen by every other socket, none refused
    let presence_ok = presence.as_ref().is_none_or(|p| {
        p.presence_missing == 0 && p.presence_changes == a.presence as u64 && command_errors == 0
    });
    let passed = missing == 0
        && duplicates == 0
        && http_errors == 0
        && seq_errors == 0
        && replies_ok
        && presence_ok
        && hooks.as_ref().is_none_or(|h| h.hooks_missing == 0);
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
        http_retries: st.retries,
        reconnects,
        replayed,
        resyncs,
        agents_per_node,
        agents_per_node_end,
        presence,
        bot,
        hooks,
        passed,
    };
    print_table(&summary);
    let line = serde_json::to_string(&summary)?;
    println!("{line}");
    if let Some(path) = &a.json_out {
        append_line(path, &line)?;
    }
    Ok(passed)
}

/// The slowest deliveries, one line each on stderr: which message, how late, at which agent,
/// in how many POSTs — to find it in the hub's logs and tables (`body` = `bench <k> m`).
fn print_slowest(slowest: &mut [(u64, usize, usize)], run: &Run) {
    slowest.sort_unstable_by(|a, b| b.cmp(a));
    let mut shown: Vec<usize> = Vec::new();
    for &(lat_us, i, agent) in slowest.iter() {
        if shown.len() == 3 {
            break;
        }
        if shown.contains(&i) {
            continue;
        }
        shown.push(i);
        eprintln!(
            "slowest: message {} (`bench {} m`, tag {:08X}) {:.1} ms at agent {agent}, {} POST(s)",
            i,
            i - run.warm,
            run.tag,
            lat_us as f64 / 1000.0,
            run.attempts[i].load(Ordering::Relaxed)
        );
    }
}

/// Appends one line to `path` (created if need be).
fn append_line(path: &str, line: &str) -> Result<(), SetupError> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| SetupError(format!("{path}: {e}")))?;
    writeln!(f, "{line}").map_err(|e| SetupError(format!("{path}: {e}")))
}

fn node_name(node: &Option<String>) -> String {
    node.clone().unwrap_or_else(|| "(unnamed)".into())
}

fn bot_summary(bot_id: i64, r: Result<bot::Replies, String>, reply_frames: u64) -> BotSummary {
    match r {
        Ok(bot::Replies { check: c, wait }) => BotSummary {
            bot_id,
            replies_expected: c.expected,
            replies_sent: c.sent,
            replies_missing: c.missing,
            reply_duplicates: c.duplicates,
            reply_stray: c.stray,
            other_sends: c.other_texts,
            reply_p50_ms: q_ms(&c.latency_us, 0.50),
            reply_p99_ms: q_ms(&c.latency_us, 0.99),
            reply_max_ms: (!c.latency_us.is_empty())
                .then(|| r2(c.latency_us.max() as f64 / 1000.0)),
            reply_rate: c.rate().map(|r| (r * 10.0).round() / 10.0),
            reply_frames,
            reply_wait_s: r2(wait.as_secs_f64()),
            reply_error: None,
        },
        Err(e) => BotSummary {
            bot_id,
            replies_expected: 0,
            replies_sent: 0,
            replies_missing: 0,
            reply_duplicates: 0,
            reply_stray: 0,
            other_sends: 0,
            reply_p50_ms: None,
            reply_p99_ms: None,
            reply_max_ms: None,
            reply_rate: None,
            reply_frames,
            reply_wait_s: 0.0,
            reply_error: Some(e),
        },
    }
}

fn main() -> ExitCode {
    // the subcommands first: the load test's own flags stay as they were
    match std::env::args().nth(1).as_deref() {
        Some("seed") => return seed_main(),
        Some("queries") => return queries_main(),
        Some("import") => return import_main(),
        _ => {}
    }
    let mut a = Args::parse();
    a.url = a.url.trim_end_matches('/').to_string();
    a.ws_urls.retain(|u| !u.trim().is_empty());
    a.hook_url = a.hook_url.map(|u| u.trim_end_matches('/').to_string());
    a.sim_url = a.sim_url.map(|u| u.trim_end_matches('/').to_string());
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

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// `loadtest seed …`: 0 seeded, 2 refused or failed.
fn seed_main() -> ExitCode {
    let a = seed::SeedArgs::parse_from(std::env::args().skip(1));
    match runtime().block_on(seed::run(a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadtest seed: {e}");
            ExitCode::from(2)
        }
    }
}

/// `loadtest queries …`: 0 every p99 under 20 ms, 1 some over, 2 setup failed.
fn queries_main() -> ExitCode {
    let a = queries::QueryArgs::parse_from(std::env::args().skip(1));
    match runtime().block_on(queries::run(a)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(SetupError(msg)) => {
            eprintln!("loadtest queries: {msg}");
            ExitCode::from(2)
        }
    }
}

/// `loadtest import …`: 0 completed with the expected counters, 1 not, 2 setup failed.
fn import_main() -> ExitCode {
    let a = import::ImportArgs::parse_from(std::env::args().skip(1));
    match runtime().block_on(import::run(a)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(SetupError(msg)) => {
            eprintln!("loadtest import: {msg}");
            ExitCode::from(2)
        }
    }
}
