//! Outbound webhooks (CONTRACT §3d, docs/integrations.md) against a real subscriber over
//! HTTP: one that is down for a while (and the hub killed meanwhile) still receives every
//! delivery once it is back, in order, each `id` once, each signed with HMAC-SHA256 of
//! the raw body; `conversation.resolved` comes once per resolve; the delivery log shows
//! the attempts; a replay delivers again; bad subscriptions are 422 naming the field.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::subscriber::{expected_signature, Received, Subscriber};
use common::{envelope, inbound_payload, Backend, Options, Setup};
use serde_json::{json, Value};

const SECRET: &str = "subscriber-secret-0123456789";
const WAIT: Duration = Duration::from_secs(60);

fn options() -> Options {
    let env = [
        ("TICKHUB_SECRET_KEY", common::TEST_SECRET_KEY),
        ("TICKHUB_OUTBOUND_POLL_MS", "50"),
        ("TICKHUB_OUTBOUND_RETRY_BASE_MS", "50"),
        ("TICKHUB_OUTBOUND_RETRY_MAX_MS", "400"),
    ];
    Options {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

/// A customer message from `chat`, stored before this returns (its webhook is answered
/// after the commit), so messages sent one after another are logged in that order.
async fn customer(s: &Setup, chat: &str, text: &str) {
    let n = common::now_ms();
    let env = envelope(
        "message",
        inbound_payload(chat, &format!("false_{chat}_{text}_{n}"), text),
    );
    let (code, r) = s.webhook(&env).await;
    assert_eq!(code, 200, "{r}");
}

/// Waits until the hub has stored `text` from `chat` (a webhook is answered once it is
/// received; the message is made from it just after).
async fn stored(s: &Setup, chat: &str, text: &str) {
    let conv = s.conversation_for(chat).await["id"].as_i64().expect("id");
    let path = format!("/api/conversations/{conv}/messages?limit=200");
    s.eventually(&path, |p| {
        p["items"]
            .as_array()
            .is_some_and(|a| a.iter().any(|m| m["text"] == text))
    })
    .await;
}

fn texts_of(got: &[Received], conversation: i64) -> Vec<String> {
    got.iter()
        .map(Received::json)
        .filter(|b| b["event"] == "message.created" && b["data"]["conversation_id"] == conversation)
        .filter(|b| b["data"]["direction"] == "in")
        .map(|b| b["data"]["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn accepted_with_text(got: &[Received], text: &str) -> bool {
    got.iter().any(|r| r.json()["data"]["text"] == text)
}

async fn deliveries(s: &Setup, id: i64) -> Vec<Value> {
    let (code, page) = s
        .get(&format!(
            "/api/webhook-subscriptions/{id}/deliveries?limit=200"
        ))
        .await;
    assert_eq!(code, 200, "{page}");
    page["items"].as_array().expect("items").clone()
}

async fn a_subscriber_that_was_down_gets_everything_in_order_once(b: Backend) {
    let mut s = Setup::with(b, options()).await;
    let sub = Subscriber::start(503).await;

    // Refused subscriptions name the field at fault.
    for (body, field) in [
        (
            json!({"url": sub.url, "events": ["message.exploded"], "secret": SECRET}),
            "events[0]",
        ),
        (
            json!({"url": sub.url, "events": [], "secret": SECRET}),
            "events",
        ),
        (
            json!({"url": "ftp://example.com/x", "events": ["message.created"], "secret": SECRET}),
            "url",
        ),
        (
            json!({"url": sub.url, "events": ["message.created"], "secret": "short"}),
            "secret",
        ),
    ] {
        let (code, r) = s.post("/api/webhook-subscriptions", body).await;
        assert_eq!(code, 422, "{r}");
        assert_eq!(r["error"]["field"], field, "{r}");
    }

    let (code, r) = s
        .post(
            "/api/webhook-subscriptions",
            json!({"url": sub.url, "events": ["message.created", "conversation.resolved"], "secret": SECRET}),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    let id = r["id"].as_i64().expect("id");
    let (_, shown) = s.get(&format!("/api/webhook-subscriptions/{id}")).await;
    assert!(
        shown.get("secret").is_none(),
        "the secret is never shown: {shown}"
    );

    // Customers write while the subscriber is down.
    let (a, bb) = ("447700800001@c.us", "447700800002@c.us");
    let sent: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
    for t in &sent {
        customer(&s, a, &format!("a-{t}")).await;
        customer(&s, bb, &format!("b-{t}")).await;
    }
    // It is tried, refused and tried again; the log says so.
    sub.wait_received(3, WAIT).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let items = deliveries(&s, id).await;
        let inbound = items
            .iter()
            .filter(|d| d["event"] == "message.created")
            .count();
        let head = items.last().cloned().unwrap_or(Value::Null);
        if inbound >= sent.len() * 2 && head["attempts"].as_i64().unwrap_or(0) >= 2 {
            assert_eq!(head["status"], "pending", "{head}");
            assert_eq!(head["last_status"], 503, "{head}");
            assert!(
                head["last_response"]
                    .as_str()
                    .unwrap_or("")
                    .contains("down"),
                "{head}"
            );
            assert!(head["next_attempt_at"].is_i64(), "{head}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "deliveries never queued: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sub.accepted().is_empty());

    // The queue is durable: a hub killed meanwhile loses none of it.
    s.hub.restart();

    let conv_a = s.conversation_for(a).await["id"].as_i64().expect("id");
    let conv_b = s.conversation_for(bb).await["id"].as_i64().expect("id");
    let (code, r) = s
        .post(&format!("/api/conversations/{conv_a}/resolve"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    customer(&s, "447700800003@c.us", "marker-1").await;

    // Back up: everything arrives.
    sub.answer(200);
    let got = sub
        .wait_accepted(WAIT, |g| accepted_with_text(g, "marker-1"))
        .await;
    for r in &got {
        let sig = r.headers.get("x-tickhub-signature").expect("signed");
        assert_eq!(
            sig,
            &expected_signature(SECRET, &r.body),
            "signature of {:?}",
            r.json()
        );
        assert_eq!(
            r.headers.get("x-tickhub-event").map(String::as_str),
            r.json()["event"].as_str()
        );
        let body = r.json();
        for field in ["id", "event", "created_at", "data"] {
            assert!(body.get(field).is_some(), "{field} missing: {body}");
        }
    }
    let ids: Vec<i64> = got
        .iter()
        .map(|r| r.json()["id"].as_i64().expect("id"))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "each id once, in order: {ids:?}"
    );
    // Each conversation's messages, each once, in the order the hub stored them.
    for (conv, p) in [(conv_a, "a"), (conv_b, "b")] {
        let mut stored: Vec<(i64, String)> = s
            .messages(conv)
            .await
            .iter()
            .filter(|m| m["direction"] == "in")
            .map(|m| {
                (
                    m["id"].as_i64().expect("id"),
                    m["text"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        stored.sort();
        let stored: Vec<String> = stored.into_iter().map(|(_, t)| t).collect();
        assert_eq!(texts_of(&got, conv), stored, "conversation {conv}");
        let mut all = stored.clone();
        all.sort();
        let mut want: Vec<String> = sent.iter().map(|t| format!("{p}-{t}")).collect();
        want.sort();
        assert_eq!(all, want, "every message of conversation {conv}");
    }
    let resolved: Vec<Value> = got
        .iter()
        .map(Received::json)
        .filter(|b| b["event"] == "conversation.resolved")
        .collect();
    assert_eq!(resolved.len(), 1, "{resolved:?}");
    assert_eq!(resolved[0]["data"]["id"], conv_a);
    assert_eq!(resolved[0]["data"]["status"], "resolved");
    // Only what was subscribed to.
    let kinds: BTreeSet<String> = got
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        kinds
            .iter()
            .all(|k| k == "message.created" || k == "conversation.resolved"),
        "{kinds:?}"
    );

    // Another change to the resolved conversation is no second `conversation.resolved`.
    let (code, r) = s
        .post(&format!("/api/conversations/{conv_a}/read"), json!({}))
        .await;
    assert!(code < 300, "{r}");
    customer(&s, "447700800004@c.us", "marker-2").await;
    let got = sub
        .wait_accepted(WAIT, |g| accepted_with_text(g, "marker-2"))
        .await;
    let resolved = got
        .iter()
        .filter(|r| r.json()["event"] == "conversation.resolved")
        .count();
    assert_eq!(resolved, 1);

    // The log: the first delivery was tried while down and then delivered.
    let items = deliveries(&s, id).await;
    let first = items.last().expect("a delivery").clone();
    assert_eq!(first["status"], "delivered", "{first}");
    assert_eq!(first["last_status"], 200, "{first}");
    assert!(
        first["attempts"].as_i64().expect("attempts") >= 3,
        "{first}"
    );
    assert!(first["delivered_at"].is_i64(), "{first}");

    // A replay delivers it again, with the same id.
    let did = first["id"].as_i64().expect("id");
    let (code, r) = s
        .post(
            &format!("/api/webhook-subscriptions/{id}/deliveries/{did}/replay"),
            json!({}),
        )
        .await;
    assert_eq!(code, 202, "{r}");
    sub.wait_accepted(WAIT, |g| {
        g.iter().filter(|r| r.json()["id"] == did).count() == 2
    })
    .await;
    let (code, _) = s
        .post(
            &format!("/api/webhook-subscriptions/{id}/deliveries/999999/replay"),
            json!({}),
        )
        .await;
    assert_eq!(code, 404);
    // The hub records a run of deliveries after their POSTs, so the subscriber may hold
    // the replay a moment before the log shows it.
    let page = s
        .eventually(
            &format!("/api/webhook-subscriptions/{id}/deliveries?limit=200"),
            |p| {
                p["items"].as_array().is_some_and(|items| {
                    items.iter().any(|d| {
                        d["id"] == did
                            && d["status"] == "delivered"
                            && d["attempts"].as_i64() > first["attempts"].as_i64()
                    })
                })
            },
        )
        .await;
    let first_again = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|d| d["id"] == did))
        .expect("still listed");
    assert!(first_again["delivered_at"].is_i64(), "{first_again}");
}
both!(a_subscriber_that_was_down_gets_everything_in_order_once);

/// Paused, edited and deleted subscriptions: a paused one gets nothing (checked against a
/// later marker), a new secret signs from then on, a deleted one is gone; each change is
/// audited, without the secret.
async fn subscriptions_are_managed(b: Backend) {
    let s = Setup::with(b, options()).await;
    let sub = Subscriber::start(200).await;
    let (code, r) = s
        .post(
            "/api/webhook-subscriptions",
            json!({"url": sub.url, "events": ["message.created"], "secret": SECRET}),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    let id = r["id"].as_i64().expect("id");
    let path = format!("/api/webhook-subscriptions/{id}");

    let (code, r) = s.patch(&path, json!({"active": false})).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["active"], false);
    customer(&s, "447700810001@c.us", "while-paused").await;
    stored(&s, "447700810001@c.us", "while-paused").await;
    let (code, r) = s
        .patch(
            &path,
            json!({"active": true, "secret": "a-brand-new-secret-42"}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    customer(&s, "447700810001@c.us", "after-resume").await;
    let got = sub
        .wait_accepted(WAIT, |g| accepted_with_text(g, "after-resume"))
        .await;
    assert!(
        !accepted_with_text(&got, "while-paused"),
        "a paused subscription got an event"
    );
    let last = got.last().expect("one");
    assert_eq!(
        last.headers.get("x-tickhub-signature"),
        Some(&expected_signature("a-brand-new-secret-42", &last.body))
    );

    let (code, r) = s.patch(&path, json!({"url": "mailto:x@example.com"})).await;
    assert_eq!(code, 422, "{r}");
    assert_eq!(r["error"]["field"], "url");

    let (code, list) = s.get("/api/webhook-subscriptions").await;
    assert_eq!(code, 200);
    assert!(list["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|x| x["id"] == id));
    assert!(list.get("next_cursor").is_some());

    let (code, _) = s
        .request(reqwest::Method::DELETE, &path, |r| r.bearer_auth(&s.token))
        .await;
    assert_eq!(code, 204);
    let (code, _) = s.get(&path).await;
    assert_eq!(code, 404);

    let (_, audit) = s.get("/api/audit-log?limit=200").await;
    let actions: Vec<String> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect();
    for a in [
        "webhook_subscription.create",
        "webhook_subscription.update",
        "webhook_subscription.rotate_secret",
        "webhook_subscription.delete",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} not in {actions:?}");
    }
    let text = audit.to_string();
    assert!(!text.contains(SECRET) && !text.contains("a-brand-new-secret-42"));
}
both!(subscriptions_are_managed);
