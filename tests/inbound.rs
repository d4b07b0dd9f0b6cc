//! Contract §2: WAHA webhooks in, stored once, pushed to agents.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{envelope, inbound_payload, Backend, Setup};
use futures_util::future::join_all;
use serde_json::{json, Value};

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

/// Many conversations at once, each with two messages and a repeated delivery in flight:
/// the writer stores the first message of each conversation in a batch with the batch's
/// others at once (its stage), and the job takes its rows from there. Each message
/// is stored and announced once, in its conversation's order, with the right counts.
async fn concurrent_conversations_store_each_message_once(b: Backend) {
    const CHATS: usize = 12;
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = |c: usize| format!("4477001{c:05}@c.us");
    for c in 0..CHATS {
        let (code, ack) = s
            .webhook(&envelope(
                "message",
                inbound_payload(&chat(c), &format!("false_{}_FIRST{c}", chat(c)), "hello"),
            ))
            .await;
        assert_eq!(
            (code, ack["status"].as_str()),
            (200, Some("stored")),
            "{ack}"
        );
    }
    let mut sent = CHATS;
    let mut rounds = 0;
    loop {
        rounds += 1;
        let bodies: Vec<(Value, bool)> = (0..CHATS)
            .flat_map(|c| {
                let one = envelope(
                    "message",
                    inbound_payload(&chat(c), &format!("false_{}_R{rounds}A{c}", chat(c)), "a"),
                );
                let two = envelope(
                    "message",
                    inbound_payload(&chat(c), &format!("false_{}_R{rounds}B{c}", chat(c)), "b"),
                );
                // the same delivery twice (WAHA's retry racing the first)
                [(one.clone(), true), (one, false), (two, true)]
            })
            .collect();
        let acks = join_all(bodies.iter().map(|(body, _)| s.webhook(body))).await;
        let mut stored: HashMap<String, usize> = HashMap::new();
        for ((body, _), (code, ack)) in bodies.iter().zip(&acks) {
            assert_eq!(code, &200, "{ack}");
            if ack["status"] == "stored" {
                *stored
                    .entry(
                        body["payload"]["id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    )
                    .or_default() += 1;
            } else {
                assert_eq!(ack["status"], "duplicate", "{ack}");
            }
        }
        assert_eq!(stored.len(), 2 * CHATS, "each message stored: {stored:?}");
        assert!(
            stored.values().all(|&n| n == 1),
            "stored once each: {stored:?}"
        );
        sent += 2 * CHATS;
        // until a batch has carried several conversations' messages in one stage
        // (concurrent jobs almost always meet in the first round)
        if rounds == 10 || several_per_statement(&s).await {
            break;
        }
    }
    assert!(
        several_per_statement(&s).await,
        "no batch wrote several conversations' messages together"
    );

    // The marker comes after everything above: what was announced before it is complete.
    let marker = s.customer_writes("447799999999@c.us", "marker").await;
    let mut created: HashMap<String, usize> = HashMap::new();
    let mut unread: HashMap<i64, i64> = HashMap::new();
    loop {
        let f = ws
            .next(Duration::from_secs(10))
            .await
            .expect("a frame before the marker");
        match f["type"].as_str() {
            Some("message.created") => {
                let id = f["data"]["waha_id"].as_str().unwrap_or_default().to_owned();
                if id == marker {
                    break;
                }
                *created.entry(id).or_default() += 1;
            }
            Some("conversation.updated") => {
                let id = f["data"]["id"].as_i64().expect("conversation id");
                let n = f["data"]["unread"].as_i64().expect("unread");
                let before = unread.insert(id, n).unwrap_or(0);
                assert!(n >= before, "unread never goes back: {before} then {n}");
            }
            _ => {}
        }
    }
    assert_eq!(created.len(), sent, "one event per message");
    assert!(created.values().all(|&n| n == 1), "{created:?}");
    let per_chat = (1 + 2 * rounds) as i64;
    assert_eq!(unread.len(), CHATS);
    assert!(unread.values().all(|&n| n == per_chat), "{unread:?}");
    for c in 0..CHATS {
        let conv = s.conversation_for(&chat(c)).await;
        assert_eq!(conv["unread"], per_chat, "{conv}");
        let id = conv["id"].as_i64().expect("id");
        assert_eq!(s.messages(id).await.len() as i64, per_chat);
    }
}
both!(concurrent_conversations_store_each_message_once);

/// The writer's counters: more messages staged than statements that wrote them.
async fn several_per_statement(s: &Setup) -> bool {
    let text = s.metrics().await;
    let counter = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or(0)
    };
    counter("tickhub_writer_staged_messages_total ")
        > counter("tickhub_writer_stage_statements_total ")
}
