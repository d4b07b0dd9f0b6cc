//! The hub's life and its edges: a clean stop on SIGTERM that keeps every acknowledged
//! webhook, a webhook that can never be applied (given up on, visible, not blocking its
//! chat), replays too long to send, replay-window arithmetic, and registration that keeps
//! what other tools put in WAHA's session config.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{envelope, hmac_sha512_hex, inbound_payload, now_ms, Backend, Options, Setup};
use serde_json::{json, Value};

/// SIGTERM while webhooks stream in: the hub stops accepting, finishes what it took,
/// exits 0, and every webhook it answered 2xx is stored — once.
async fn sigterm_keeps_every_acknowledged_webhook(b: Backend) {
    let mut s = Setup::new(b).await;
    let url = format!("{}/webhooks/waha", s.hub.url);
    let sender = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut acked = Vec::new();
        for i in 0..5000u32 {
            let chat = format!("44770020{:04}@c.us", i % 7);
            let id = format!("false_{chat}_TERM{i}");
            let body = envelope("message", inbound_payload(&chat, &id, &format!("n{i}")));
            match http.post(&url).json(&body).send().await {
                Ok(r) if r.status().is_success() => acked.push(id),
                // Refused while stopping (503) or no longer listening: never acknowledged.
                Ok(_) => {}
                Err(_) => break,
            }
        }
        acked
    });
    // Let a stream build up, then stop the hub in the middle of it.
    s.eventually("/api/conversations?limit=1", |b| {
        b["items"][0]["unread"].as_i64().unwrap_or(0) >= 5
    })
    .await;
    let status = s.hub.terminate(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "the hub exits 0 on SIGTERM, got {status:?}"
    );
    let acked = sender.await.expect("sender");
    assert!(!acked.is_empty(), "some webhooks were acknowledged");
    assert!(acked.len() < 5000, "the hub stopped mid-stream");

    s.hub.restart();
    let mut stored = Vec::new();
    for c in s.conversations().await {
        let id = c["id"].as_i64().expect("conversation id");
        for m in s.messages(id).await {
            stored.push(m["waha_id"].as_str().unwrap_or("").to_string());
        }
    }
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "a message was stored twice");
    let missing: Vec<&String> = acked.iter().filter(|id| !unique.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged webhooks were lost, e.g. {:?}",
        missing.len(),
        acked.len(),
        missing.first()
    );
}
both!(sigterm_keeps_every_acknowledged_webhook);

/// A webhook that fails to apply for a reason of its own is acknowledged, tried the
/// stated number of times (counted in its row), then left for an operator: listed by the
/// admin endpoint and counted in /metrics, while the chat's later messages go on.
async fn a_poison_webhook_is_given_up_and_shown(b: Backend) {
    let s = Setup::new(b).await;
    s.db.exec(
        "CREATE TRIGGER poison BEFORE INSERT ON messages WHEN NEW.text = 'poison'
         BEGIN SELECT RAISE(ABORT, 'poisoned by the test'); END;",
        &[
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.text = 'poison' THEN RAISE EXCEPTION 'poisoned by the test'; END IF;
             RETURN NEW; END $$",
            "CREATE TRIGGER poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
    )
    .await;
    let chat = "447700300001@c.us";
    let (code, r) = s
        .webhook(&envelope(
            "message",
            inbound_payload(chat, "false_447700300001@c.us_OK1", "before"),
        ))
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, r) = s
        .webhook(&envelope(
            "message",
            inbound_payload(chat, "false_447700300001@c.us_BAD", "poison"),
        ))
        .await;
    assert_eq!((code, r["status"].as_str()), (200, Some("stored")), "{r}");
    let (code, r) = s
        .webhook(&envelope(
            "message",
            inbound_payload(chat, "false_447700300001@c.us_OK2", "after"),
        ))
        .await;
    assert_eq!(code, 200, "{r}");

    let failed = s
        .eventually("/api/admin/failed-webhooks", |b| {
            b["items"].as_array().is_some_and(|i| !i.is_empty())
        })
        .await;
    let items = failed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{failed}");
    assert_eq!(
        items[0]["attempts"], 5,
        "tried exactly the stated times: {failed}"
    );
    assert_eq!(items[0]["session"], "default");
    assert_eq!(items[0]["event"], "message");
    assert!(
        items[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("poisoned by the test")),
        "{failed}"
    );
    assert!(items[0]["body"]
        .as_str()
        .is_some_and(|body| body.contains("OK2") || body.contains("BAD")));

    // The chat went on: the message after the poison one is stored.
    let conv = s.conversation_for(chat).await;
    let id = conv["id"].as_i64().expect("id");
    let texts: Vec<String> = s
        .messages(id)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(texts.contains(&"before".to_string()), "{texts:?}");
    assert!(texts.contains(&"after".to_string()), "{texts:?}");
    assert!(!texts.contains(&"poison".to_string()), "{texts:?}");

    let metrics = reqwest::get(format!("{}/metrics", s.hub.url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    assert!(
        metrics.contains("tickhub_webhooks_given_up_total 1"),
        "given-up counter in /metrics"
    );
    // Given up means given up: still exactly five attempts after the sweeper has run
    // again (its gauge reports the failed row only from a sweep after the give-up).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        if s.metrics().await.contains("tickhub_inbox_failed 1") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tickhub_inbox_failed never reported the row"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, again) = s.get("/api/admin/failed-webhooks").await;
    assert_eq!(again["items"][0]["attempts"], 5, "{again}");
}
both!(a_poison_webhook_is_given_up_and_shown);

/// A reconnect further back than the replay limit gets `resync_required` (the client
/// reloads), not an unbounded replay; one within the limit is replayed in full.
async fn replays_beyond_the_limit_ask_for_a_resync(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: vec![("TICKHUB_WS_REPLAY_LIMIT".into(), "12".into())],
            ..Default::default()
        },
    )
    .await;
    let start = s.socket(None).await.last_seq;
    let chat = "447700400001@c.us";
    for i in 0..10 {
        let (code, r) = s
            .webhook(&envelope(
                "message",
                inbound_payload(chat, &format!("false_{chat}_R{i}"), &format!("r{i}")),
            ))
            .await;
        assert_eq!(code, 200, "{r}");
    }
    let mut live = s.socket(None).await;
    let now = live.last_seq;
    assert!(now - start >= 20, "ten messages log at least 20 events");
    live.send(json!({"type": "ping"})).await;
    live.expect("pong", |_| true).await;

    let mut far = s.socket(Some(start)).await;
    let first = far.next(Duration::from_secs(10)).await.expect("a frame");
    assert_eq!(first["type"], "resync_required", "{first}");
    assert_eq!(first["data"]["seq"], now);

    let mut near = s.socket(Some(now - 4)).await;
    let frames = near
        .collect_until(Duration::from_secs(10), |f| {
            f.iter().any(|x| x["seq"].as_i64() == Some(now))
        })
        .await;
    assert!(
        frames.iter().all(|f| f["type"] != "resync_required"),
        "{frames:?}"
    );
    let seqs: Vec<i64> = frames.iter().filter_map(|f| f["seq"].as_i64()).collect();
    assert_eq!(seqs, ((now - 3)..=now).collect::<Vec<_>>(), "{frames:?}");
}
both!(replays_beyond_the_limit_ask_for_a_resync);

/// The replay window bounds a signed webhook's timestamp both ways, and absurd values
/// are refused (401), never an overflow.
async fn the_replay_window_refuses_future_and_absurd_timestamps(b: Backend) {
    let key = "window-key";
    let s = Setup::with(
        b,
        Options {
            hmac_key: Some(key.into()),
            ..Default::default()
        },
    )
    .await;
    let chat = "447700500001@c.us";
    let body = envelope(
        "message",
        inbound_payload(chat, "false_447700500001@c.us_W1", "windowed"),
    );
    let bytes = body.to_string().into_bytes();
    let sig = hmac_sha512_hex(key, &bytes);
    let at = |ts: String| {
        vec![
            ("X-Webhook-Hmac", sig.clone()),
            ("X-Webhook-Hmac-Algorithm", "sha512".to_string()),
            ("X-Webhook-Timestamp", ts),
        ]
    };
    for ts in [
        (now_ms() + 11 * 60 * 1000).to_string(),
        i64::MIN.to_string(),
        i64::MAX.to_string(),
        "-1".to_string(),
    ] {
        let (code, r) = s
            .webhook_with(&bytes, "application/json", &at(ts.clone()))
            .await;
        assert_eq!(code, 401, "timestamp {ts}: {r}");
        assert_eq!(r["error"]["code"], "unauthorized", "{r}");
    }
    let (code, r) = s
        .webhook_with(
            &bytes,
            "application/json",
            &at((now_ms() + 30_000).to_string()),
        )
        .await;
    assert_eq!(code, 200, "a clock 30 s ahead is inside the window: {r}");
}
both!(the_replay_window_refuses_future_and_absurd_timestamps);

/// Registering a session WAHA already has keeps the other tools' webhooks and settings.
async fn registration_merges_our_webhook_into_wahas_config(b: Backend) {
    let s = Setup::new(b).await;
    let crm = json!({"url": "http://127.0.0.1:9/crm-hook", "events": ["message"]});
    let (code, r) = s
        .sim
        .control(
            "/api/sessions",
            json!({"name": "shared", "start": true, "config": {
                "webhooks": [crm],
                "metadata": {"owner": "crm"},
                "debug": true
            }}),
        )
        .await;
    assert!(code == 201 || code == 200, "sim create: {code} {r}");
    let (code, r) = s.post("/api/sessions", json!({"name": "shared"})).await;
    assert!(code == 201 || code == 200, "{code} {r}");
    let waha: Value = s.sim.get("/api/sessions/shared").await;
    let config = &waha["config"];
    assert_eq!(config["metadata"], json!({"owner": "crm"}), "{waha}");
    assert_eq!(config["debug"], true, "{waha}");
    let hooks = config["webhooks"].as_array().expect("webhooks");
    assert_eq!(hooks.len(), 2, "{waha}");
    assert!(hooks.contains(&crm), "{waha}");
    let ours = format!("{}/webhooks/waha", s.hub.url);
    assert!(
        hooks.iter().any(|h| h["url"] == ours.as_str()),
        "{waha} lacks {ours}"
    );
    // Registering again replaces our webhook, never duplicates it.
    let (code, _) = s.post("/api/sessions", json!({"name": "shared"})).await;
    assert_eq!(code, 200);
    let waha: Value = s.sim.get("/api/sessions/shared").await;
    assert_eq!(
        waha["config"]["webhooks"].as_array().map(Vec::len),
        Some(2),
        "{waha}"
    );
}
both!(registration_merges_our_webhook_into_wahas_config);
