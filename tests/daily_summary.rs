//! The daily summary email (issue 19, docs/notifications.md) on an injected clock: the
//! hub runs in-process with a clock the test moves, on each database, beside an
//! in-process simulator and a real SMTP server; a member who asked for the summary gets
//! yesterday's numbers once the local summary hour has come, once.

mod common;

use std::time::Duration;

use common::in_process::{self, Manual};
use common::smtp::Smtp;
use common::{envelope, inbound_payload, Backend, TestDb};
use serde_json::{json, Value};

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let code = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!((200..300).contains(&code), "{method} {path}: {code} {v}");
        v
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let r: Value = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("login body");
        r["token"].as_str().expect("token").to_string()
    }

    async fn until(&self, token: &str, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.call(token, "GET", path, None).await;
            if pred(&v) {
                return v;
            }
            assert!(tokio::time::Instant::now() < deadline, "{path}: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn summary(b: Backend) {
    let db = TestDb::new(b).await;
    let smtp = Smtp::start();
    // Monday 2026-01-05, 10:00 in London (winter: UTC).
    let clock = Manual::at("2026-01-05T10:00:00Z");
    let sim = in_process::simulator().await;
    let mut env = vec![
        ("TICKHUB_SUMMARY_HOUR".to_string(), "8".to_string()),
        (
            "TICKHUB_SUMMARY_TZ".to_string(),
            "Europe/London".to_string(),
        ),
    ];
    env.extend(common::smtp::Smtp::env(smtp.port));
    let app = in_process::hub(&db.url, sim.addr, &clock, &env).await;
    tickhub::demo::create_admin(app.hub.db(), "boss@summary.test", "Boss", "password-123")
        .await
        .expect("admin");
    let api = Api {
        http: reqwest::Client::new(),
        base: format!("http://{}", app.addr),
    };
    let admin = api.login("boss@summary.test", "password-123").await;
    api.call(
        &admin,
        "POST",
        "/api/sessions",
        Some(json!({"name": "default"})),
    )
    .await;
    api.until(&admin, "/api/sessions/default", |s| {
        s["status"] == "WORKING"
    })
    .await;
    api.call(
        &admin,
        "PATCH",
        "/api/sessions/default",
        Some(json!({"auto_assign": false, "csat_enabled": true})),
    )
    .await;
    for who in ["ann", "bob"] {
        api.call(
            &admin,
            "POST",
            "/api/team-members",
            Some(
                json!({"email": format!("{who}@summary.test"), "name": who, "role": "agent",
                "password": "member-password-1", "sessions": ["default"]}),
            ),
        )
        .await;
    }
    let ann = api.login("ann@summary.test", "member-password-1").await;
    let me = api.call(&ann, "GET", "/api/auth/me", None).await;
    let ann_id = me["id"].as_i64().expect("id");
    let prefs = api
        .call(
            &ann,
            "PUT",
            "/api/me/notifications",
            Some(json!({"daily_summary": true, "handoff": "off"})),
        )
        .await;
    assert_eq!(prefs["daily_summary"], true, "{prefs}");

    // Monday: Ann resolves two conversations, one rated 4; a third still waits.
    let webhook = |chat: &str, text: &str| {
        let env = envelope(
            "message",
            inbound_payload(
                chat,
                &format!("false_{chat}_{}", uuid::Uuid::new_v4().simple()),
                text,
            ),
        );
        let http = api.http.clone();
        let url = format!("{}/webhooks/waha", api.base);
        async move {
            let r = http.post(url).json(&env).send().await.expect("webhook");
            assert_eq!(r.status().as_u16(), 200);
        }
    };
    let conversation = |chat: &'static str| {
        let api = &api;
        let admin = admin.clone();
        async move {
            let list = api
                .until(&admin, "/api/conversations", |l| {
                    l["items"]
                        .as_array()
                        .is_some_and(|i| i.iter().any(|c| c["chat_id"] == chat))
                })
                .await;
            list["items"]
                .as_array()
                .and_then(|i| i.iter().find(|c| c["chat_id"] == chat))
                .and_then(|c| c["id"].as_i64())
                .expect("id")
        }
    };
    for chat in ["447700300001@c.us", "447700300002@c.us"] {
        webhook(chat, "help").await;
        let id = conversation(chat).await;
        api.call(
            &admin,
            "POST",
            &format!("/api/conversations/{id}/assign"),
            Some(json!({"assignee_id": ann_id})),
        )
        .await;
        api.call(
            &ann,
            "POST",
            &format!("/api/conversations/{id}/resolve"),
            None,
        )
        .await;
    }
    webhook("447700300001@c.us", "4").await;
    api.until(
        &admin,
        "/api/analytics/csat?from=2026-01-05&to=2026-01-05",
        |r| r["total"]["responses"] == 1,
    )
    .await;
    webhook("447700300003@c.us", "still waiting").await;
    conversation("447700300003@c.us").await;

    // Tuesday 08:00 in London: Monday's summary.
    clock.set("2026-01-06T08:00:00Z");
    let mail = smtp
        .wait_for(
            "ann@summary.test",
            "Your summary for 2026-01-05",
            Duration::from_secs(30),
        )
        .await;
    let body = mail.body();
    for line in [
        "Conversations you resolved: 2",
        "Conversations resolved in your sessions: 2",
        "Customer satisfaction: 4.0 of 5 from 1 rating(s)",
        "Now: 1 conversation(s) waiting for someone, 0 open and assigned to you.",
    ] {
        assert!(body.contains(line), "{line:?} in {body}");
    }
    // Later that day: nothing more for Monday. Bob (no summary) gets a handoff as a
    // marker; once it is in, a second summary would have been queued before it.
    clock.set("2026-01-06T12:00:00Z");
    let bob_id = api.call(&admin, "GET", "/api/team-members", None).await["items"]
        .as_array()
        .and_then(|i| i.iter().find(|m| m["email"] == "bob@summary.test"))
        .and_then(|m| m["id"].as_i64())
        .expect("bob");
    let id = conversation("447700300003@c.us").await;
    api.call(
        &admin,
        "POST",
        &format!("/api/conversations/{id}/assign"),
        Some(json!({"assignee_id": bob_id})),
    )
    .await;
    smtp.wait_for(
        "bob@summary.test",
        "assigned to you",
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(smtp.to("ann@summary.test").len(), 1, "one summary a day");
    assert!(smtp
        .to("bob@summary.test")
        .iter()
        .all(|m| !m.subject().contains("summary")));

    app.stop().await.expect("a clean stop");
    sim.server.stop(true).await;
}

#[actix_web::test]
async fn summary_sqlite() {
    summary(Backend::Sqlite).await
}

#[actix_web::test]
async fn summary_postgres() {
    summary(Backend::Postgres).await
}
