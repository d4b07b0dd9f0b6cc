//! The daily summary email (issue 19, docs/notifications.md) on an injected clock: the
//! hub runs in-process with a clock the test moves, on each database, beside an
//! in-process simulator and a real SMTP server; a member who asked for the summary gets
//! yesterday's numbers once the local summary hour has come, once.

mod common;

use std::time::Duration;

use common::in_process::{self, Manual};
use common::smtp::Smtp;
use common::{envelope, inbound_payload, Backend};
use serde_json::json;

async fn summary(b: Backend) {
    let smtp = Smtp::start();
    // Monday 2026-01-05, 10:00 in London (winter: UTC).
    let clock = Manual::at("2026-01-05T10:00:00Z");
    let mut env = vec![
        ("TICKHUB_SUMMARY_HOUR".to_string(), "8".to_string()),
        (
            "TICKHUB_SUMMARY_TZ".to_string(),
            "Europe/London".to_string(),
        ),
    ];
    env.extend(common::smtp::Smtp::env(smtp.port));
    let t = in_process::start(b, &clock, &env, "boss@summary.test").await;
    let admin = &t.admin;
    admin
        .send(
            reqwest::Method::PATCH,
            "/api/sessions/default",
            json!({"auto_assign": false, "csat_enabled": true}),
        )
        .await;
    for who in ["ann", "bob"] {
        admin
            .send(
                reqwest::Method::POST,
                "/api/team-members",
                json!({"email": format!("{who}@summary.test"), "name": who, "role": "agent",
                "password": "member-password-1", "sessions": ["default"]}),
            )
            .await;
    }
    let ann = admin
        .as_member("ann@summary.test", "member-password-1")
        .await;
    let me = ann.get_ok("/api/auth/me").await;
    let ann_id = me["id"].as_i64().expect("id");
    let prefs = ann
        .send(
            reqwest::Method::PUT,
            "/api/me/notifications",
            json!({"daily_summary": true, "handoff": "off"}),
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
        let http = admin.http.clone();
        let url = format!("{}/webhooks/waha", admin.base);
        async move {
            let r = http.post(url).json(&env).send().await.expect("webhook");
            assert_eq!(r.status().as_u16(), 200);
        }
    };
    for chat in ["447700300001@c.us", "447700300002@c.us"] {
        webhook(chat, "help").await;
        let id = admin.conversation_id(chat).await;
        admin
            .send(
                reqwest::Method::POST,
                &format!("/api/conversations/{id}/assign"),
                json!({"assignee_id": ann_id}),
            )
            .await;
        ann.send(
            reqwest::Method::POST,
            &format!("/api/conversations/{id}/resolve"),
            None,
        )
        .await;
    }
    webhook("447700300001@c.us", "4").await;
    admin
        .until("/api/analytics/csat?from=2026-01-05&to=2026-01-05", |r| {
            r["total"]["responses"] == 1
        })
        .await;
    webhook("447700300003@c.us", "still waiting").await;
    admin.conversation_id("447700300003@c.us").await;

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
    let bob_id = admin.get_ok("/api/team-members").await["items"]
        .as_array()
        .and_then(|i| i.iter().find(|m| m["email"] == "bob@summary.test"))
        .and_then(|m| m["id"].as_i64())
        .expect("bob");
    let id = admin.conversation_id("447700300003@c.us").await;
    admin
        .send(
            reqwest::Method::POST,
            &format!("/api/conversations/{id}/assign"),
            json!({"assignee_id": bob_id}),
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

    t.stop().await;
}

#[actix_web::test]
async fn summary_sqlite() {
    summary(Backend::Sqlite).await
}

#[actix_web::test]
async fn summary_postgres() {
    summary(Backend::Postgres).await
}
