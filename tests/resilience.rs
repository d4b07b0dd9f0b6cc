//! Nothing acknowledged is lost, nothing is doubled: resume after `kill -9`, a database
//! that is down when a webhook arrives, and clients that send nonsense.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::proxy::Proxy;
use common::{envelope, inbound_payload, Backend, Options, Setup, Socket, TestDb};
use serde_json::{json, Value};

fn created_ids(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f["type"] == "message.created")
        .map(|f| f["data"]["waha_id"].as_str().unwrap_or("").to_string())
        .collect()
}

fn count(ids: &[String]) -> HashMap<&str, usize> {
    let mut m = HashMap::new();
    for i in ids {
        *m.entry(i.as_str()).or_insert(0) += 1;
    }
    m
}

/// Reads frames until every id in `want` has a `message.created`, then 1.5 s more.
async fn read_all(ws: &mut Socket, want: &[String], wait: Duration) -> Vec<Value> {
    let mut frames = ws
        .collect_until(wait, |f| {
            let got = created_ids(f);
            want.iter().all(|w| got.contains(w))
        })
        .await;
    frames.extend(ws.drain(Duration::from_millis(1500)).await);
    frames
}

/// The simulator's count of webhook deliveries that failed (and will be retried).
async fn failed_deliveries(s: &Setup) -> u64 {
    let stats = s.sim.get("/sim/stats").await;
    stats["webhook_attempts_failed"]
        .as_u64()
        .unwrap_or_else(|| panic!("/sim/stats: {stats}"))
}

/// Waits until the simulator saw more than `than` failed deliveries: the hub refused.
async fn wait_failed_deliveries(s: &Setup, than: u64, wait: Duration) -> u64 {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let n = failed_deliveries(s).await;
        if n > than {
            return n;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no webhook delivery failed within {wait:?}: the hub acknowledged while it could not store"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------- kill -9

async fn resume_after_kill9(b: Backend) {
    let mut s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let start_seq = ws.last_seq;
    let chats = [
        "447703000001@c.us",
        "447703000002@c.us",
        "447703000003@c.us",
    ];

    let mut before = Vec::new();
    for (i, c) in chats.iter().enumerate() {
        before.push(s.customer_writes(c, &format!("before {i}")).await);
    }
    let frames = read_all(&mut ws, &before, Duration::from_secs(15)).await;
    let seq_of_before: HashMap<String, i64> = frames
        .iter()
        .filter(|f| f["type"] == "message.created")
        .map(|f| {
            (
                f["data"]["waha_id"].as_str().unwrap().to_string(),
                f["seq"].as_i64().unwrap(),
            )
        })
        .collect();
    let resume_at = ws.last_seq;

    // A burst, and the hub dies in the middle of it: some of these are acknowledged but
    // not processed yet, some are in flight, some not delivered at all.
    let mut after = Vec::new();
    for i in 0..6 {
        after.push(s.customer_writes(chats[i % 3], &format!("burst {i}")).await);
    }
    let failed_before = failed_deliveries(&s).await;
    s.hub.kill9();
    drop(ws);
    // Customers keep writing while the hub is down; the simulator retries.
    for (i, chat) in chats.iter().take(3).enumerate() {
        after.push(s.customer_writes(chat, &format!("while down {i}")).await);
    }
    // Deliveries to the dead hub fail; the simulator will retry them.
    wait_failed_deliveries(&s, failed_before, Duration::from_secs(10)).await;
    s.hub.restart();

    let mut ws = s.socket(Some(resume_at)).await;
    assert_eq!(
        ws.hello["seq"], resume_at,
        "hello carries the since seq: {}",
        ws.hello
    );
    let frames = read_all(&mut ws, &after, Duration::from_secs(60)).await;
    assert!(
        !frames.iter().any(|f| f["type"] == "resync_required"),
        "{frames:?}"
    );
    let ids = created_ids(&frames);
    let counts = count(&ids);
    for id in &after {
        assert_eq!(
            counts.get(id.as_str()),
            Some(&1),
            "{id} must arrive exactly once after the resume: {ids:?}"
        );
    }
    for id in &before {
        assert!(
            !counts.contains_key(id.as_str()),
            "{id} was before since={resume_at} and came again: {ids:?}"
        );
    }
    assert_eq!(ids.len(), after.len(), "nothing else: {ids:?}");

    // Stored once each.
    let mut stored = Vec::new();
    for c in chats {
        let conv = s.conversation_for(c).await;
        stored.extend(s.messages(conv["id"].as_i64().unwrap()).await);
    }
    assert_eq!(stored.len(), before.len() + after.len(), "{stored:?}");

    // A fresh socket from the start replays everything once, with the same seqs.
    let mut fresh = s.socket(Some(start_seq)).await;
    let all: Vec<String> = before.iter().chain(after.iter()).cloned().collect();
    let frames = read_all(&mut fresh, &all, Duration::from_secs(15)).await;
    let ids = created_ids(&frames);
    let counts = count(&ids);
    for id in &all {
        assert_eq!(
            counts.get(id.as_str()),
            Some(&1),
            "replay from {start_seq}: {id} once: {ids:?}"
        );
    }
    for f in frames.iter().filter(|f| f["type"] == "message.created") {
        if let Some(seq) = seq_of_before.get(f["data"]["waha_id"].as_str().unwrap()) {
            assert_eq!(
                f["seq"].as_i64().unwrap(),
                *seq,
                "an event's seq is stable across restarts: {f}"
            );
        }
    }
    let mut zero = s.socket(Some(0)).await;
    let frames = read_all(&mut zero, &all, Duration::from_secs(15)).await;
    let ids_zero = created_ids(&frames);
    let counts_zero = count(&ids_zero);
    assert!(
        all.iter()
            .all(|id| counts_zero.get(id.as_str()) == Some(&1)),
        "since=0: {counts_zero:?}"
    );

    // A seq the hub never issued: resync_required, then live.
    let now = fresh.last_seq;
    let mut ahead = Socket::connect(&s.hub.url, &s.token, Some(now + 100_000)).await;
    let f = ahead
        .next(Duration::from_secs(10))
        .await
        .expect("a frame after hello");
    assert_eq!(f["type"], "resync_required", "{f}");
    let cur = f["data"]["seq"]
        .as_i64()
        .expect("resync_required carries the current seq");
    assert!(cur >= now && cur < now + 100_000, "{f}");
    let live = s.customer_writes(chats[0], "after the resync").await;
    ahead
        .expect("message.created", |d| d["waha_id"] == live.as_str())
        .await;
}
both!(resume_after_kill9);

// ---------------------------------------------------------------- kill -9 while sending

async fn replies_survive_kill9_and_are_sent_once(b: Backend) {
    let mut s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447703400001@c.us";
    let id = s.customer_writes(chat, "please answer").await;
    let f = ws
        .expect("message.created", |d| d["waha_id"] == id.as_str())
        .await;
    let conv = f["data"]["conversation_id"].as_i64().unwrap();
    drop(ws);
    let texts: Vec<String> = (0..4)
        .map(|i| format!("reply {i} across a crash"))
        .collect();
    let mut ids = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let (code, m) = s
            .post(
                &format!("/api/conversations/{conv}/messages"),
                json!({"text": t, "client_id": format!("crash-{i}")}),
            )
            .await;
        assert_eq!(code, 201, "{m}");
        ids.push(m["id"].clone());
    }
    // Acknowledged to the client: the hub dies before, during or after handing them to WAHA.
    s.hub.kill9();
    s.hub.restart();
    for (id, t) in ids.iter().zip(&texts) {
        s.eventually_within(
            &format!("/api/messages/{id}"),
            Duration::from_secs(60),
            |m| m["status"] == "read",
        )
        .await;
        let sends: Vec<Value> = s
            .sim
            .sent()
            .await
            .into_iter()
            .filter(|x| x["text"] == t.as_str())
            .collect();
        assert_eq!(sends.len(), 1, "{t:?} must be sent exactly once: {sends:?}");
    }
    // A client retrying its POST after the crash gets the same message, no new send.
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": texts[0], "client_id": "crash-0"}),
        )
        .await;
    assert!(code == 200 || code == 201, "{m}");
    assert_eq!(m["id"], ids[0], "{m}");
    assert_eq!(s.messages(conv).await.len(), 1 + texts.len());
    let all = s.sim.sent().await;
    assert_eq!(
        all.iter()
            .filter(|x| x["text"] == texts[0].as_str())
            .count(),
        1,
        "{all:?}"
    );
}
both!(replies_survive_kill9_and_are_sent_once);

// ---------------------------------------------------------------- database down

/// Posts `body` until it is accepted (what WAHA's retries do), at most `wait`.
async fn retry_until_2xx(s: &Setup, body: &Value, wait: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (code, ack) = s.webhook(body).await;
        if (200..300).contains(&code) {
            return ack;
        }
        assert!(
            code >= 500,
            "while recovering: a 4xx would make WAHA give up: {code} {ack}"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "never accepted within {wait:?}: {code} {ack}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The webhook answered while the database was down: a 5xx with a JSON error.
fn assert_unavailable(code: u16, body: &Value) {
    assert_eq!(
        code, 503,
        "the database is down: WAHA must be told to retry: {body}"
    );
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{body}"
    );
}

async fn expect_stored_once(s: &Setup, ws: &mut Socket, chat: &str, waha_id: &str) {
    let frames = read_all(ws, &[waha_id.to_string()], Duration::from_secs(60)).await;
    let ids = created_ids(&frames);
    assert_eq!(
        ids.iter().filter(|i| *i == waha_id).count(),
        1,
        "one message.created for {waha_id}: {ids:?}"
    );
    let conv = s.conversation_for(chat).await;
    let msgs = s.messages(conv["id"].as_i64().unwrap()).await;
    assert_eq!(
        msgs.iter().filter(|m| m["waha_id"] == waha_id).count(),
        1,
        "stored once: {msgs:?}"
    );
}

async fn postgres_down_at_webhook_time() {
    let db = TestDb::new(Backend::Postgres).await;
    let proxy = Proxy::start(&db.pg_addr()).await;
    let env = vec![("DATABASE_URL".to_string(), db.url_via(&proxy.addr))];
    let s = Setup::with_db(
        db,
        Options {
            env,
            ..Default::default()
        },
    )
    .await;
    let mut ws = s.socket(None).await;

    // Directly: 503 while down, stored once when re-posted after.
    proxy.cut();
    let chat = "447703100001@c.us";
    let id = "false_447703100001@c.us_DBDOWN1";
    let body = envelope(
        "message",
        inbound_payload(chat, id, "while the database is down"),
    );
    let (code, err) = s.webhook(&body).await;
    assert_unavailable(code, &err);
    assert_eq!(
        s.get_anonymous("/readyz").await.0,
        503,
        "/readyz while the database is down"
    );
    assert_eq!(s.get_anonymous("/healthz").await.0, 200);
    proxy.restore();
    let ack = retry_until_2xx(&s, &body, Duration::from_secs(30)).await;
    assert_eq!(
        ack["status"], "stored",
        "a 503 means it was not stored: {ack}"
    );
    let (code, ack) = s.webhook(&body).await;
    assert_eq!(
        (code, ack["status"].as_str()),
        (200, Some("duplicate")),
        "{ack}"
    );
    expect_stored_once(&s, &mut ws, chat, id).await;

    // Through the simulator: a customer writes while the database is down; WAHA retries.
    let failed_before = failed_deliveries(&s).await;
    proxy.cut();
    let chat2 = "447703100002@c.us";
    let wid = s.customer_writes(chat2, "written during the outage").await;
    // The hub refuses (5xx) at least one delivery before the database comes back.
    wait_failed_deliveries(&s, failed_before, Duration::from_secs(30)).await;
    let stats = s.sim.get("/sim/stats").await;
    proxy.restore();
    let frames = read_all(&mut ws, std::slice::from_ref(&wid), Duration::from_secs(90)).await;
    let ids = created_ids(&frames);
    assert_eq!(
        ids.iter().filter(|i| **i == wid).count(),
        1,
        "one event for {wid}: {ids:?}; sim stats during the cut: {stats}"
    );
    let conv = s.conversation_for(chat2).await;
    let msgs = s.messages(conv["id"].as_i64().unwrap()).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(
        s.get_anonymous("/readyz").await.0,
        200,
        "/readyz after the database is back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_at_webhook_time_postgres() {
    postgres_down_at_webhook_time().await
}

async fn sqlite_locked_at_webhook_time() {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;

    let s = Setup::new(Backend::Sqlite).await;
    let mut ws = s.socket(None).await;
    let opts = SqliteConnectOptions::from_str(&s.db.url)
        .unwrap()
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(10));
    let mut lock = opts.connect().await.expect("open the hub's SQLite file");

    // Directly: the write lock held longer than the hub's busy timeout.
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut lock)
        .await
        .expect("BEGIN EXCLUSIVE");
    let chat = "447703200001@c.us";
    let id = "false_447703200001@c.us_LOCKED1";
    let body = envelope(
        "message",
        inbound_payload(chat, id, "while the database is locked"),
    );
    let (code, err) = s.webhook(&body).await;
    assert_unavailable(code, &err);
    sqlx::query("ROLLBACK")
        .execute(&mut lock)
        .await
        .expect("ROLLBACK");
    let ack = retry_until_2xx(&s, &body, Duration::from_secs(30)).await;
    assert_eq!(
        ack["status"], "stored",
        "a 503 means it was not stored: {ack}"
    );
    expect_stored_once(&s, &mut ws, chat, id).await;

    // Through the simulator.
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut lock)
        .await
        .expect("BEGIN EXCLUSIVE");
    let chat2 = "447703200002@c.us";
    let failed_before = failed_deliveries(&s).await;
    let wid = s.customer_writes(chat2, "written while locked").await;
    wait_failed_deliveries(&s, failed_before, Duration::from_secs(30)).await;
    let stats = s.sim.get("/sim/stats").await;
    sqlx::query("ROLLBACK")
        .execute(&mut lock)
        .await
        .expect("ROLLBACK");
    let frames = read_all(&mut ws, std::slice::from_ref(&wid), Duration::from_secs(90)).await;
    let ids = created_ids(&frames);
    assert_eq!(
        ids.iter().filter(|i| **i == wid).count(),
        1,
        "one event for {wid}: {ids:?}; sim stats: {stats}"
    );
    let conv = s.conversation_for(chat2).await;
    assert_eq!(s.messages(conv["id"].as_i64().unwrap()).await.len(), 1);
    lock.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_down_at_webhook_time_sqlite() {
    sqlite_locked_at_webhook_time().await
}

// ---------------------------------------------------------------- nonsense from clients

async fn malformed_ws_commands_get_error_frames(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let cases = [
        json!("not json at all"),
        json!({"type": "no.such.command", "data": {}}),
        json!({"type": "message.send", "data": {}}),
        json!({"type": "message.send", "data": {"conversation_id": "x", "text": 5}}),
        json!({"type": "message.send", "data": {"conversation_id": 1, "text": "", "client_id": "empty"}}),
        json!({"type": "presence.set", "data": {"status": "asleep"}}),
        json!({"type": "conversation.read"}),
        json!({"data": {}}),
    ];
    for c in cases {
        let text = match &c {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        ws.send_text(&text).await;
        // (Skipping what the first socket's arrival pushes: presence, counts, board.)
        let f = loop {
            let f = ws
                .next(Duration::from_secs(10))
                .await
                .unwrap_or_else(|| panic!("{text}: the socket closed instead of an error frame"));
            let pushed = ["presence.updated", "counts.updated", "dashboard.updated"];
            if !pushed.iter().any(|k| f["type"] == *k) {
                break f;
            }
        };
        assert_eq!(f["type"], "error", "{text}: {f}");
        assert!(
            f["data"]["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{text}: {f}"
        );
        assert!(f["data"]["message"].is_string(), "{text}: {f}");
    }
    // Still alive and working.
    ws.send(json!({"type": "ping", "data": {}})).await;
    ws.expect("pong", |_| true).await;
    let id = s.customer_writes("447703300001@c.us", "still there?").await;
    ws.expect("message.created", |d| d["waha_id"] == id.as_str())
        .await;
}
both!(malformed_ws_commands_get_error_frames);
