//! Contract §2: WAHA webhooks in, stored once, pushed to agents.

mod common;

use std::time::Duration;

use common::{envelope, inbound_payload, Backend, Setup};
use serde_json::json;

async fn customer_message_reaches_agents_once(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let id = s
        .customer_writes("447700000001@c.us", "Hello, is my order shipped?")
        .await;

    let created = ws.expect("message.created", |d| d["waha_id"] == id).await;
    let d = &created["data"];
    assert_eq!(d["direction"], "in");
    assert_eq!(d["text"], "Hello, is my order shipped?");
    assert!(d["conversation_id"].as_i64().is_some());
    let conv = ws
        .expect("conversation.updated", |c| c["id"] == d["conversation_id"])
        .await;
    assert_eq!(conv["data"]["unread"], 1);

    // `message` and `message.any` arrived for it: nothing more about it may follow.
    let rest = ws.drain(Duration::from_millis(700)).await;
    assert!(
        !rest.iter().any(|f| f["type"] == "message.created"),
        "the message/message.any pair must give one event: {rest:?}"
    );
    let page = s
        .get(&format!(
            "/api/conversations/{}/messages",
            d["conversation_id"]
        ))
        .await
        .1;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(
        page["items"][0], *d,
        "HTTP and websocket carry the same message"
    );
}
both!(customer_message_reaches_agents_once);

async fn duplicate_deliveries_store_once(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let body = envelope(
        "message",
        inbound_payload("447700000002@c.us", "false_447700000002@c.us_DUP1", "twice"),
    );
    for expected in ["stored", "duplicate", "duplicate"] {
        let (code, ack) = s.webhook(&body).await;
        assert_eq!((code, ack["status"].as_str()), (200, Some(expected)));
    }
    // The same message under another envelope id (a global + session webhook pair).
    let mut again = body.clone();
    again["id"] = json!("evt_other");
    let (code, ack) = s.webhook(&again).await;
    assert_eq!(code, 200, "{ack}");
    // Old WAHA: no envelope id at all, delivered twice.
    let mut old = envelope(
        "message",
        inbound_payload(
            "447700000002@c.us",
            "false_447700000002@c.us_OLD1",
            "old waha",
        ),
    );
    old.as_object_mut().unwrap().remove("id");
    for _ in 0..2 {
        let (code, ack) = s.webhook(&old).await;
        assert_eq!(code, 200, "{ack}");
    }
    let frames = ws.drain(Duration::from_secs(1)).await;
    let created: Vec<_> = frames
        .iter()
        .filter(|f| f["type"] == "message.created")
        .collect();
    assert_eq!(created.len(), 2, "one event per message: {created:?}");
    let conv_id = created[0]["data"]["conversation_id"].as_i64().unwrap();
    let page = s
        .get(&format!("/api/conversations/{conv_id}/messages"))
        .await
        .1;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
}
both!(duplicate_deliveries_store_once);

async fn a_nul_in_a_customer_message_is_dropped_not_the_message(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let id = "false_447700000003@c.us_NUL1";
    let mut payload = inbound_payload("447700000003@c.us", id, "before\u{0}after");
    payload["_data"]["notifyName"] = json!("Ann\u{0} Lee");
    // PostgreSQL cannot hold the NUL: the message would never be applied there (acked,
    // then left failed in the inbox), so the NUL goes instead, on both databases alike.
    let (code, ack) = s.webhook(&envelope("message", payload)).await;
    assert_eq!(
        (code, ack["status"].as_str()),
        (200, Some("stored")),
        "{ack}"
    );
    let created = ws.expect("message.created", |d| d["waha_id"] == id).await;
    let conv_id = created["data"]["conversation_id"].as_i64().unwrap();
    let stored = s.messages(conv_id).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["text"], "beforeafter");
    let (code, conv) = s.get(&format!("/api/conversations/{conv_id}")).await;
    assert_eq!(code, 200, "{conv}");
    assert_eq!(conv["title"], "Ann Lee");
}
both!(a_nul_in_a_customer_message_is_dropped_not_the_message);
