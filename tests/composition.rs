//! The hub as a library: built with an injected part (a fixed clock), started in-process
//! beside an in-process simulator, and stopped cleanly.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};
use tickhub::app::AppBuilder;
use tickhub::config::{Config, Source};
use tickhub::domain::Clock;
use tickhub::waha::sim::SimOptions;

/// 2026-01-01T00:00:00Z, far from the test's real time.
const FIXED: i64 = 1_767_225_600_000;

struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        FIXED
    }
}

async fn call(req: reqwest::RequestBuilder, token: Option<&str>) -> (u16, Value) {
    let req = match token {
        Some(t) => req.bearer_auth(t),
        None => req,
    };
    let r = req.send().await.expect("request");
    let code = r.status().as_u16();
    (code, r.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn an_injected_clock_dates_what_the_hub_writes_and_stop_is_clean() {
    let sim = tickhub::waha::sim::start(SimOptions {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Default::default()
    })
    .await
    .expect("simulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let vars = BTreeMap::from([
        (
            "DATABASE_URL".to_string(),
            format!("sqlite://{}", dir.path().join("hub.db").display()),
        ),
        ("TICKHUB_BIND".to_string(), "127.0.0.1:0".to_string()),
        ("WAHA_URL".to_string(), format!("http://{}", sim.addr)),
    ]);
    let config = Config::load(&Source::from_map(&vars)).expect("config");
    let app = AppBuilder::new(config)
        .clock(Arc::new(FixedClock))
        .start()
        .await
        .expect("the hub starts");
    let base = format!("http://{}", app.addr);
    tickhub::demo::create_admin(app.hub.db(), "clock@test.tickhub", "Clock", "password-123")
        .await
        .expect("admin");
    let http = reqwest::Client::new();
    let (code, login) = call(
        http.post(format!("{base}/api/auth/login"))
            .json(&json!({"email": "clock@test.tickhub", "password": "password-123"})),
        None,
    )
    .await;
    assert_eq!(code, 200, "{login}");
    let token = login["token"].as_str().expect("token").to_string();
    let (code, r) = call(
        http.post(format!("{base}/api/sessions"))
            .json(&json!({"name": "default"})),
        Some(&token),
    )
    .await;
    assert_eq!(code, 201, "{r}");
    let webhook = json!({
        "id": "evt_clock_1", "event": "message", "session": "default",
        "payload": {"id": "false_447700700001@c.us_CLK1", "from": "447700700001@c.us",
            "fromMe": false, "body": "what time is it?", "_data": {"notifyName": "Ann"}}
    });
    let (code, r) = call(
        http.post(format!("{base}/webhooks/waha")).json(&webhook),
        None,
    )
    .await;
    assert_eq!(code, 200, "{r}");
    let (code, list) = call(http.get(format!("{base}/api/conversations")), Some(&token)).await;
    assert_eq!(code, 200, "{list}");
    let conv = &list["items"][0];
    assert_eq!(conv["created_at"], FIXED, "{list}");
    assert_eq!(conv["last_message_at"], FIXED, "{list}");
    let (_, msgs) = call(
        http.get(format!("{base}/api/conversations/{}/messages", conv["id"])),
        Some(&token),
    )
    .await;
    assert_eq!(msgs["items"][0]["created_at"], FIXED, "{msgs}");

    app.stop().await.expect("a clean stop");
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "the hub no longer listens after stop"
    );
    sim.server.stop(true).await;
}
