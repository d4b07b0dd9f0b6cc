//! Customer satisfaction (issue 19, docs/csat.md): resolving asks the customer for a
//! rating through WhatsApp (seen at the WAHA simulator), the reply is read as a score
//! (a digit, stars, a word) and reported per agent, a rating leaves the conversation
//! resolved, and anything else cancels the survey and reopens it as usual.

mod common;

use std::time::Duration;

use common::{assert_error, envelope, inbound_payload, Backend, Setup};
use serde_json::{json, Value};

async fn customer_writes(s: &Setup, chat: &str, text: &str) -> i64 {
    let env = envelope(
        "message",
        inbound_payload(
            chat,
            &format!("false_{chat}_{}", uuid::Uuid::new_v4().simple()),
            text,
        ),
    );
    let (code, r) = s.webhook(&env).await;
    assert_eq!(code, 200, "{r}");
    s.conversation_for(chat).await["id"].as_i64().expect("id")
}

/// A conversation of `chat`, assigned to `agent` and resolved by them.
async fn handled_by(s: &Setup, chat: &str, agent: &common::Member) -> i64 {
    let id = customer_writes(s, chat, "I need help").await;
    let (code, r) = s
        .post(
            &format!("/api/conversations/{id}/assign"),
            json!({"assignee_id": agent.id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, r) = s
        .as_user(
            &agent.token,
            "POST",
            &format!("/api/conversations/{id}/resolve"),
            None,
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["status"], "resolved", "{r}");
    id
}

async fn sent_to(s: &Setup, chat: &str, text: &str) -> usize {
    s.sim
        .sent()
        .await
        .iter()
        .filter(|m| m["text"] == text && m["chatId"] == chat)
        .count()
}

async fn wait_sent(s: &Setup, chat: &str, text: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sent_to(s, chat, text).await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{text:?} never sent to {chat}: {:?}",
            s.sim.sent().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn report(s: &Setup, query: &str) -> Value {
    let (code, r) = s.get(&format!("/api/analytics/csat{query}")).await;
    assert_eq!(code, 200, "{r}");
    r
}

async fn ratings_are_asked_read_and_reported_per_agent(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let ann = s.member("ann@csat.test", "agent", &["default"]).await;
    let bob = s.member("bob@csat.test", "agent", &["default"]).await;

    // Off by default: resolving sends nothing.
    let quiet = "447700900010@c.us";
    handled_by(&s, quiet, &ann).await;

    let (code, r) = s
        .patch("/api/sessions/default", json!({"csat_enabled": true}))
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["csat_enabled"], true, "{r}");
    assert_eq!(r["csat_question"], Value::Null, "{r}");
    let long = "x".repeat(1001);
    let got = s
        .patch("/api/sessions/default", json!({"csat_question": long}))
        .await;
    assert_eq!(got.1["error"]["field"], "csat_question", "{}", got.1);
    assert_error("a long question", got, 422);
    let question = "How did we do? Reply 1-5";
    let (code, r) = s
        .patch("/api/sessions/default", json!({"csat_question": question}))
        .await;
    assert_eq!((code, r["csat_question"].clone()), (200, json!(question)));

    let chats = [
        ("447700900001@c.us", "5", &ann),
        ("447700900002@c.us", "⭐⭐⭐⭐", &ann),
        ("447700900003@c.us", "bad", &bob),
    ];
    let mut ids = Vec::new();
    for (chat, _, agent) in chats {
        let id = handled_by(&s, chat, agent).await;
        wait_sent(&s, chat, question).await;
        ids.push(id);
    }
    for (chat, answer, _) in chats {
        customer_writes(&s, chat, answer).await;
    }
    let r = s
        .eventually_within("/api/analytics/csat", Duration::from_secs(20), |r| {
            r["total"]["responses"] == 3
        })
        .await;
    let row = |id: i64| {
        r["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["user_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no row for {id}: {r}"))
    };
    assert_eq!(
        row(ann.id),
        json!({"user_id": ann.id, "responses": 2, "average": 4.5, "csat_percent": 100.0})
    );
    assert_eq!(
        row(bob.id),
        json!({"user_id": bob.id, "responses": 1, "average": 2.0, "csat_percent": 0.0})
    );
    assert_eq!(r["total"]["average"], 3.67, "{r}");
    assert_eq!(r["total"]["csat_percent"], 66.67, "{r}");
    // A rating is no new question: the conversations stay resolved, nobody is asked
    // again, and the one where the question was never asked has no score.
    for id in &ids {
        let (_, c) = s.get(&format!("/api/conversations/{id}")).await;
        assert_eq!(c["status"], "resolved", "{c}");
    }
    assert_eq!(sent_to(&s, quiet, question).await, 0);

    // Anything else is a new request: it reopens the conversation and is not a score.
    let other = "447700900004@c.us";
    let id = handled_by(&s, other, &bob).await;
    wait_sent(&s, other, question).await;
    customer_writes(&s, other, "5 minutes ago my order was wrong").await;
    s.eventually(&format!("/api/conversations/{id}"), |c| {
        c["status"] != "resolved"
    })
    .await;
    // And a digit after that is just a message: the survey was cancelled.
    customer_writes(&s, other, "5").await;
    let (_, msgs) = s.get(&format!("/api/conversations/{id}/messages")).await;
    assert_eq!(msgs["items"][0]["text"], "5", "{msgs}");
    assert_eq!(report(&s, "").await["total"]["responses"], 3);

    // Days and sessions: yesterday has nothing; a bad day or zone names its field.
    let today = chrono::Utc::now().date_naive();
    let yesterday = today.pred_opt().expect("a day before");
    let r = report(&s, &format!("?from={yesterday}&to={yesterday}")).await;
    assert_eq!(r["total"]["responses"], 0, "{r}");
    assert_eq!(r["items"], json!([]), "{r}");
    let r = report(
        &s,
        &format!("?from={today}&to={today}&tz=UTC&session=default"),
    )
    .await;
    assert_eq!(r["total"]["responses"], 3, "{r}");
    for (q, field) in [
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?tz=Mars/Olympus", "tz"),
        ("?from=2026-02-01&to=2026-01-01", "from"),
    ] {
        let got = s.get(&format!("/api/analytics/csat{q}")).await;
        assert_eq!(got.1["error"]["field"], field, "{q}: {}", got.1);
        assert_error(q, got, 422);
    }
    // Erasing a customer (GDPR) drops their answer's words and keeps the score.
    let (_, c) = s.get(&format!("/api/conversations/{}", ids[0])).await;
    let contact = c["contact"]["id"].as_i64().expect("contact");
    let (code, r) = s
        .post(&format!("/api/contacts/{contact}/erase"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    let kept = common::auth::scalar(
        &s.db,
        &format!(
            "SELECT COUNT(*) FROM csat_surveys WHERE conversation_id = {} AND raw_answer IS NULL AND score = 5",
            ids[0]
        ),
    )
    .await;
    assert_eq!(kept, 1);
    assert_eq!(report(&s, "").await["total"]["responses"], 3);
    let got = s.get("/api/analytics/csat?session=nosuch").await;
    assert_error("an unknown session", got, 404);
    // Agents do not read scores, theirs included.
    let got = s
        .as_user(&ann.token, "GET", "/api/analytics/csat", None)
        .await;
    assert_error("an agent", got, 403);
}
both!(ratings_are_asked_read_and_reported_per_agent);
