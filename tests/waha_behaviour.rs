//! WAHA as it really behaves: bodies without envelope ids (older versions) whose repeats
//! are sometimes real events, statuses that must all be recorded, webhooks the hub must
//! refuse and say so, and a WAHA that forgets or changes its sessions behind the hub's back.

mod common;

use std::time::Duration;

use common::{hmac_sha512_hex, inbound_payload, Backend, Options, Setup};
use serde_json::{json, Value};

/// A webhook as WAHA before late 2024 sent it: no envelope id, no timestamp.
fn old_envelope(event: &str, payload: Value) -> Value {
    json!({
        "event": event,
        "session": "default",
        "me": {"id": "15550000000@c.us", "pushName": "Test Business"},
        "payload": payload,
        "engine": "WEBJS",
        "environment": {"version": "2024.10.8", "engine": "WEBJS", "tier": "CORE"}
    })
}

fn status_body(status: &str) -> Value {
    old_envelope(
        "session.status",
        json!({"name": "default", "status": status}),
    )
}

async fn ack_of(s: &Setup, body: &Value) -> String {
    let (code, r) = s.webhook(body).await;
    assert_eq!(code, 200, "{r}");
    r["status"].as_str().unwrap_or_default().to_string()
}

/// Identical status bodies are real repeats: each is stored and applied, and the stored
/// status follows every one of them; messages, acks, reactions and revokes without an
/// envelope id are deduplicated by what they are about.
async fn without_envelope_ids_repeats_are_judged_by_business_keys(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    for status in ["STARTING", "WORKING", "FAILED", "STARTING", "WORKING"] {
        assert_eq!(ack_of(&s, &status_body(status)).await, "stored", "{status}");
        s.wait_session_status("default", status).await;
        // The paired account rides along, as the session answers it.
        let (_, session) = s.get("/api/sessions/default").await;
        assert!(session["me_name"].is_string(), "{session}");
        ws.expect("session.status", |d| {
            d["status"] == status
                && d["me_id"] == session["me_id"]
                && d["me_name"] == session["me_name"]
        })
        .await;
    }
    // The very same body twice in a row: both stored, the status stays, no duplicate event.
    assert_eq!(ack_of(&s, &status_body("WORKING")).await, "stored");

    let chat = "447700800001@c.us";
    let id = "false_447700800001@c.us_OLD1";
    let msg = old_envelope("message", inbound_payload(chat, id, "old hello"));
    let any = old_envelope("message.any", inbound_payload(chat, id, "old hello"));
    assert_eq!(ack_of(&s, &msg).await, "stored");
    assert_eq!(
        ack_of(&s, &msg).await,
        "duplicate",
        "a retry of the same message"
    );
    assert_eq!(
        ack_of(&s, &any).await,
        "duplicate",
        "message.any of the same message"
    );
    let conv = s.conversation_for(chat).await;
    assert_eq!(s.messages(conv["id"].as_i64().expect("id")).await.len(), 1);

    let reaction = old_envelope(
        "message.reaction",
        json!({"id": "false_447700800001@c.us_R1", "from": chat, "fromMe": false,
            "reaction": {"text": "👍", "messageId": id}}),
    );
    assert_eq!(ack_of(&s, &reaction).await, "stored");
    assert_eq!(ack_of(&s, &reaction).await, "duplicate");
    let revoke = old_envelope(
        "message.revoked",
        json!({"revokedMessageId": "OLD1", "before": {"id": id, "from": chat}}),
    );
    assert_eq!(ack_of(&s, &revoke).await, "stored");
    assert_eq!(ack_of(&s, &revoke).await, "duplicate");
    // A marker after everything: exactly one session.status per change reached the agent.
    assert_eq!(ack_of(&s, &status_body("STOPPED")).await, "stored");
    let frames = ws
        .collect_until(Duration::from_secs(10), |f| {
            f.iter()
                .any(|x| x["type"] == "session.status" && x["data"]["status"] == "STOPPED")
        })
        .await;
    let statuses: Vec<&Value> = frames
        .iter()
        .filter(|x| x["type"] == "session.status")
        .collect();
    assert_eq!(
        statuses.len(),
        1,
        "the repeated WORKING logged no event: {frames:?}"
    );
}
both!(without_envelope_ids_repeats_are_judged_by_business_keys);

/// Every status is recorded, the newest by WAHA's timestamp winning over an older one
/// that arrives late; answers to stop and start are recorded too.
async fn every_status_is_recorded_newest_first(b: Backend) {
    let s = Setup::new(b).await;
    let at = common::now_ms();
    let stamped = |status: &str, ts: i64| {
        let mut e = common::envelope(
            "session.status",
            json!({"name": "default", "status": status}),
        );
        e["timestamp"] = json!(ts);
        e
    };
    assert_eq!(ack_of(&s, &stamped("FAILED", at + 1)).await, "stored");
    s.wait_session_status("default", "FAILED").await;
    // Older than what is stored: accepted, but it does not win.
    assert_eq!(ack_of(&s, &stamped("WORKING", at)).await, "stored");
    assert_eq!(ack_of(&s, &stamped("SCAN_QR_CODE", at + 2)).await, "stored");
    s.wait_session_status("default", "SCAN_QR_CODE").await;
    let (_, now) = s.get("/api/sessions/default").await;
    assert_eq!(
        now["status"], "SCAN_QR_CODE",
        "the older WORKING did not win: {now}"
    );

    let (code, r) = s.post("/api/sessions/default/stop", json!({})).await;
    assert_eq!((code, r["status"].as_str()), (200, Some("STOPPED")), "{r}");
    s.wait_session_status("default", "STOPPED").await;
    let (code, r) = s.post("/api/sessions/default/start", json!({})).await;
    assert_eq!(code, 200, "{r}");
    s.wait_session_status("default", "WORKING").await;
}
both!(every_status_is_recorded_newest_first);

/// Webhooks refused for their signature are counted by reason and show on the session
/// as "not receiving events", until one gets through.
async fn refused_webhooks_are_counted_and_shown_on_the_session(b: Backend) {
    let key = "shown-key";
    let s = Setup::with(
        b,
        Options {
            hmac_key: Some(key.into()),
            ..Default::default()
        },
    )
    .await;
    let body = common::envelope(
        "message",
        inbound_payload(
            "447700800002@c.us",
            "false_447700800002@c.us_U1",
            "unsigned",
        ),
    );
    let bytes = body.to_string().into_bytes();
    let (code, _) = s.webhook_with(&bytes, "application/json", &[]).await;
    assert_eq!(code, 401);
    let (_, sessions) = s.get("/api/sessions").await;
    let default = &sessions["items"][0];
    assert_eq!(default["name"], "default");
    assert_eq!(default["receiving_events"], false, "{sessions}");
    assert!(
        default["events_problem"]
            .as_str()
            .is_some_and(|p| p.contains("X-Webhook-Hmac")),
        "{sessions}"
    );
    let metrics = reqwest::get(format!("{}/metrics", s.hub.url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("tickhub_webhooks_rejected_total{reason=\"signature\"} 1"),
        "{metrics}"
    );
    let sig = hmac_sha512_hex(key, &bytes);
    let (code, r) = s
        .webhook_with(
            &bytes,
            "application/json",
            &[
                ("X-Webhook-Hmac", sig),
                ("X-Webhook-Hmac-Algorithm", "sha512".into()),
            ],
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let (_, sessions) = s.get("/api/sessions/default").await;
    assert_eq!(sessions["receiving_events"], true, "{sessions}");
    assert_eq!(sessions["events_problem"], Value::Null);
}
both!(refused_webhooks_are_counted_and_shown_on_the_session);

/// Another tool (or a WAHA that restarted) replaces the session's config, or stops the
/// session: the hub notices within its reconcile interval and repairs it, keeping the
/// other tool's webhook; a session stopped through the hub stays stopped.
async fn the_hub_repairs_what_waha_forgot(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: vec![("TICKHUB_WAHA_RECONCILE_SECS".into(), "1".into())],
            ..Default::default()
        },
    )
    .await;
    let ours = format!("{}/webhooks/waha", s.hub.url);
    let other = json!({"url": "http://127.0.0.1:9/other-tool", "events": ["message"]});
    // Direct to WAHA, behind the hub's back.
    let r = reqwest::Client::new()
        .put(format!("{}/api/sessions/default", s.sim.url))
        .json(&json!({"config": {"webhooks": [other]}}))
        .send()
        .await
        .expect("PUT to the simulator");
    assert!(r.status().is_success(), "{}", r.status());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let waha = s.sim.get("/api/sessions/default").await;
        let hooks = waha["config"]["webhooks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if hooks.iter().any(|h| h["url"] == ours.as_str()) {
            assert!(
                hooks.contains(&other),
                "the other tool's webhook was dropped: {waha}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hub never re-applied its webhook: {waha}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Stopped in WAHA directly: the hub wants it running and starts it.
    let (code, r) = s.sim.control("/api/sessions/default/stop", json!({})).await;
    assert!(code < 300, "{code} {r}");
    s.eventually_within("/api/sessions/default", Duration::from_secs(15), |b| {
        b["status"] == "WORKING"
    })
    .await;
    // Stopped through the hub: it stays stopped (checked after two more reconciles, seen
    // in the simulator's count of listings).
    let (code, _) = s.post("/api/sessions/default/stop", json!({})).await;
    assert_eq!(code, 200);
    let listed = |stats: &Value| stats["session_lists"].as_u64().unwrap_or(0);
    let before = listed(&s.sim.get("/sim/stats").await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while listed(&s.sim.get("/sim/stats").await) < before + 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hub stopped reconciling (or /sim/stats has no session_lists)"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waha = s.sim.get("/api/sessions/default").await;
    assert_eq!(waha["status"], "STOPPED", "{waha}");
}
both!(the_hub_repairs_what_waha_forgot);

/// A WAHA too old to sign webhooks, with the hub requiring signatures: the hub says so
/// loudly — on the session, with the version and the two ways out.
async fn an_old_waha_with_hmac_is_named_on_the_session(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            hmac_key: Some("old-key".into()),
            ..Default::default()
        },
    )
    .await;
    let (code, r) = s
        .sim
        .control("/sim/version", json!({"version": "2024.10.8"}))
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, r) = s.post("/api/sessions", json!({"name": "default"})).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["receiving_events"], false, "{r}");
    let problem = r["events_problem"].as_str().unwrap_or_default();
    assert!(problem.contains("2024.10.8"), "{r}");
    assert!(problem.contains("upgrade WAHA"), "{r}");
    assert!(problem.contains("WAHA_WEBHOOK_HMAC_KEY"), "{r}");
    // Back on a current WAHA, registering again clears the version problem, and the first
    // signed webhook that gets through (the session's status, which the start sends)
    // clears the refusals — once the old WAHA's unsigned deliveries still under way have
    // been refused (each refusal is news of the problem).
    s.sim
        .control("/sim/version", json!({"version": "2026.7.1"}))
        .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while s.sim.get("/sim/stats").await["webhooks_pending"] != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old WAHA's deliveries never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (code, r) = s.post("/api/sessions", json!({"name": "default"})).await;
    assert_eq!(code, 200, "{r}");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, r) = s.get("/api/sessions/default").await;
        if r["receiving_events"] == true {
            assert_eq!(r["events_problem"], Value::Null, "{r}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still refused: {r}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
both!(an_old_waha_with_hmac_is_named_on_the_session);

/// Asking for the QR code while the session is still starting is a 409 naming the
/// status (not a 502), and the status reaches agents so the app knows when to ask again.
async fn the_qr_while_starting_is_a_clear_conflict(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = s
        .sim
        .control("/sim/faults", json!({"boot_hold": "STARTING"}))
        .await;
    assert_eq!(code, 200, "{r}");
    let mut ws = s.socket(None).await;
    let (code, _) = s.post("/api/sessions/default/stop", json!({})).await;
    assert_eq!(code, 200);
    let (code, r) = s.post("/api/sessions/default/start", json!({})).await;
    assert_eq!(code, 200, "{r}");
    ws.expect("session.status", |d| d["status"] == "STARTING")
        .await;
    let (code, r) = s.get("/api/sessions/default/qr").await;
    assert_eq!(code, 409, "{r}");
    assert_eq!(r["error"]["code"], "conflict", "{r}");
    let message = r["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("STARTING") && message.contains("SCAN_QR_CODE"),
        "{r}"
    );
    s.sim
        .control("/sim/faults", json!({"boot_hold": null}))
        .await;
    ws.expect("session.status", |d| d["status"] != "STARTING")
        .await;
}
both!(the_qr_while_starting_is_a_clear_conflict);

/// WAHA restarts and forgets every session's config: the hub sees it go away (readyz
/// shows it, without failing) and, when it is back, re-applies its webhook and starts
/// the session again.
async fn after_a_waha_restart_the_hub_reapplies_everything(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: vec![("TICKHUB_WAHA_RECONCILE_SECS".into(), "1".into())],
            ..Default::default()
        },
    )
    .await;
    let (code, r) = s
        .sim
        .control("/sim/restart", json!({"down_ms": 4000}))
        .await;
    assert_eq!(code, 200, "{r}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = reqwest::get(format!("{}/readyz", s.hub.url))
            .await
            .expect("readyz");
        assert_eq!(r.status().as_u16(), 200, "WAHA's absence is not a failure");
        let body: Value = r.json().await.expect("json");
        if body["waha"] == "unreachable" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readyz never showed WAHA unreachable: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ours = format!("{}/webhooks/waha", s.hub.url);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let waha = s.sim.get("/api/sessions/default").await;
        let configured = waha["config"]["webhooks"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["url"] == ours.as_str()));
        if configured && waha["status"] == "WORKING" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hub never repaired WAHA after its restart: {waha}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.wait_session_status("default", "WORKING").await;
    let body: Value = reqwest::get(format!("{}/readyz", s.hub.url))
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(body["waha"], "reachable", "{body}");
}
both!(after_a_waha_restart_the_hub_reapplies_everything);

/// The simulator as WAHA 2024.10.8: identical `session.status` bodies (no envelope id, no
/// timestamp) after a reconnect are real repeats, and the stored status follows them.
async fn an_old_wahas_identical_status_bodies_all_count(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = s
        .sim
        .control("/sim/version", json!({"version": "2024.10.8"}))
        .await;
    assert_eq!(code, 200, "{r}");
    for status in ["WORKING", "FAILED", "WORKING", "FAILED", "WORKING"] {
        let (code, r) = s
            .sim
            .control("/sim/sessions/default/status", json!({"status": status}))
            .await;
        assert!(code < 300, "{code} {r}");
        s.wait_session_status("default", status).await;
    }
}
both!(an_old_wahas_identical_status_bodies_all_count);
