//! Contract §2 and §3: agents' replies go out through WAHA exactly once; acks move a
//! message's status only forward, whatever their order or count.

mod common;

use std::time::Duration;

use common::{envelope, now_ms, Backend, Setup, Socket};
use serde_json::{json, Value};

const ME: &str = "15550000000@c.us";
const ORDER: [&str; 5] = ["pending", "sent", "delivered", "read", "played"];

fn rank(status: &str) -> usize {
    ORDER
        .iter()
        .position(|s| *s == status)
        .unwrap_or_else(|| panic!("unknown status {status:?}"))
}

/// A customer writes; returns the conversation id once the agent saw the message.
async fn open_conversation(s: &Setup, ws: &mut Socket, chat: &str) -> i64 {
    let id = s.customer_writes(chat, "Hello, I need help").await;
    let f = ws
        .expect("message.created", |d| d["waha_id"] == id.as_str())
        .await;
    f["data"]["conversation_id"].as_i64().unwrap()
}

/// Waits (up to `wait`) until WAHA accepted a send of `text`; returns all of them.
async fn wait_sent(s: &Setup, text: &str, wait: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let got = s.sim.sent_with(text).await;
        if !got.is_empty() {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "WAHA never got {text:?} within {wait:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Follows `message.updated` frames of message `id` until its status is `target`;
/// asserts the statuses only move forward.
async fn follow_status(ws: &mut Socket, id: &Value, target: &str, wait: Duration) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(f) = ws.next(left).await else {
            panic!("message {id} never reached {target} within {wait:?}; statuses seen: {seen:?}")
        };
        if f["type"] != "message.updated" || f["data"]["id"] != *id {
            continue;
        }
        let st = f["data"]["status"].as_str().unwrap().to_string();
        assert_ne!(st, "failed", "message {id} failed: {f}");
        if let Some(prev) = seen.last() {
            assert!(
                rank(&st) > rank(prev),
                "status went from {prev} to {st}: {seen:?}"
            );
        }
        seen.push(st.clone());
        if st == target {
            return seen;
        }
    }
}

fn ack(id: &str, chat: &str, value: i64) -> Value {
    let name = match value {
        -1 => "ERROR",
        0 => "PENDING",
        1 => "SERVER",
        2 => "DEVICE",
        3 => "READ",
        _ => "PLAYED",
    };
    json!({"id": id, "from": ME, "to": chat, "participant": null, "fromMe": true, "ack": value, "ackName": name})
}

fn phone_message(id: &str, chat: &str, text: &str, ack: i64) -> Value {
    json!({"id": id, "timestamp": now_ms() / 1000, "from": ME, "to": chat, "fromMe": true, "source": "app",
           "body": text, "hasMedia": false, "ack": ack, "_data": {}})
}

// ---------------------------------------------------------------- HTTP reply

async fn reply_is_sent_once_and_acked_to_read(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447701000001@c.us";
    let conv = open_conversation(&s, &mut ws, chat).await;

    let text = "Hi! Your order left the warehouse.";
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text, "client_id": "cli-1"}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    assert_eq!(m["status"], "pending", "{m}");
    assert_eq!(m["client_id"], "cli-1", "{m}");
    assert_eq!(m["direction"], "out", "{m}");
    assert_eq!(m["text"], text);
    assert_eq!(m["conversation_id"], conv);
    let created = ws.expect("message.created", |d| d["id"] == m["id"]).await;
    assert_eq!(created["data"]["client_id"], "cli-1", "{created}");
    assert_eq!(created["data"]["direction"], "out");

    follow_status(&mut ws, &m["id"], "read", Duration::from_secs(30)).await;
    let sends = wait_sent(&s, text, Duration::from_secs(5)).await;
    assert_eq!(sends.len(), 1, "sent exactly once: {sends:?}");
    assert_eq!(sends[0]["chatId"], chat, "{sends:?}");
    assert_eq!(sends[0]["session"], "default", "{sends:?}");
    let http = s.get(&format!("/api/messages/{}", m["id"])).await.1;
    assert_eq!(http["status"], "read", "{http}");
    assert_eq!(
        http["waha_id"], sends[0]["id"],
        "the stored waha_id is WAHA's id for the send: {http}"
    );

    // The client retries its POST: the same message back, nothing sent again.
    let (code, again) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text, "client_id": "cli-1"}),
        )
        .await;
    assert!(code == 201 || code == 200, "{again}");
    assert_eq!(again["id"], m["id"], "{again}");
    // Late, repeated acks for a read message change nothing.
    let waha_id = sends[0]["id"].as_str().unwrap().to_string();
    for v in [1, 2, 1, 3] {
        assert_eq!(
            s.webhook(&envelope("message.ack", ack(&waha_id, chat, v)))
                .await
                .0,
            200
        );
    }
    let rest = ws.drain(Duration::from_millis(1500)).await;
    assert!(
        !rest.iter().any(
            |f| (f["type"] == "message.created" || f["type"] == "message.updated")
                && f["data"]["id"] == m["id"]
        ),
        "a retried POST or stale acks made events: {rest:?}"
    );
    assert_eq!(
        s.sim.sent_with(text).await.len(),
        1,
        "a retried POST sent again"
    );
    assert_eq!(s.messages(conv).await.len(), 2);
    assert_eq!(
        s.get(&format!("/api/messages/{}", m["id"])).await.1["status"],
        "read"
    );

    // Validation: empty text 400, unknown conversation 404.
    let (code, e) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": "   "}),
        )
        .await;
    assert_eq!(code, 400, "{e}");
    assert!(e["error"]["code"].is_string(), "{e}");
    let (code, e) = s
        .post(
            "/api/conversations/999999/messages",
            json!({"text": "hello?"}),
        )
        .await;
    assert_eq!(code, 404, "{e}");
    assert!(e["error"]["code"].is_string(), "{e}");
}
both!(reply_is_sent_once_and_acked_to_read);

// ---------------------------------------------------------------- websocket message.send

async fn websocket_send_works_like_http(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447701000002@c.us";
    let conv = open_conversation(&s, &mut ws, chat).await;

    let text = "Sent from the websocket";
    ws.send(json!({"type": "message.send", "data": {"conversation_id": conv, "text": text, "client_id": "ws-7"}})).await;
    let created = ws
        .expect("message.created", |d| d["client_id"] == "ws-7")
        .await;
    let d = &created["data"];
    assert_eq!(d["text"], text);
    assert_eq!(d["direction"], "out");
    assert_eq!(d["conversation_id"], conv);
    assert_eq!(d["status"], "pending", "{d}");
    follow_status(&mut ws, &d["id"], "read", Duration::from_secs(30)).await;
    // Same client_id again: no second message, no second send.
    ws.send(json!({"type": "message.send", "data": {"conversation_id": conv, "text": text, "client_id": "ws-7"}})).await;
    let rest = ws.drain(Duration::from_millis(1500)).await;
    assert!(
        !rest.iter().any(|f| f["type"] == "message.created"),
        "{rest:?}"
    );
    assert_eq!(wait_sent(&s, text, Duration::from_secs(5)).await.len(), 1);
    assert_eq!(s.messages(conv).await.len(), 2);

    // An unknown conversation: an error frame echoing the client_id.
    ws.send(json!({"type": "message.send", "data": {"conversation_id": 987654, "text": "lost", "client_id": "ws-8"}})).await;
    let e = ws.expect("error", |d| d["client_id"] == "ws-8").await;
    assert!(
        e["data"]["code"].is_string() && e["data"]["message"].is_string(),
        "{e}"
    );
}
both!(websocket_send_works_like_http);

// ---------------------------------------------------------------- acks out of order

async fn acks_out_of_order_and_duplicated(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447701000003@c.us";
    open_conversation(&s, &mut ws, chat).await;

    // A reply typed on the phone: outbound, acked by WAHA like any other.
    let id = "true_447701000003@c.us_ACKS1";
    assert_eq!(
        s.webhook(&envelope(
            "message.any",
            phone_message(id, chat, "phone reply", 1)
        ))
        .await
        .0,
        200
    );
    let created = ws.expect("message.created", |d| d["waha_id"] == id).await;
    let msg_id = created["data"]["id"].clone();
    assert_eq!(created["data"]["status"], "sent");

    for v in [3, 1, 2, 3, 1, 2] {
        let (code, a) = s.webhook(&envelope("message.ack", ack(id, chat, v))).await;
        assert_eq!(code, 200, "{a}");
    }
    let up = ws.expect("message.updated", |d| d["id"] == msg_id).await;
    assert_eq!(up["data"]["status"], "read", "{up}");
    // ERROR after read: terminal states are not reached backwards.
    assert_eq!(
        s.webhook(&envelope("message.ack", ack(id, chat, -1)))
            .await
            .0,
        200
    );
    let rest = ws.drain(Duration::from_millis(1500)).await;
    let more: Vec<_> = rest
        .iter()
        .filter(|f| f["type"] == "message.updated" && f["data"]["id"] == msg_id)
        .collect();
    assert!(
        more.is_empty(),
        "only one update (to read) may come out of these acks: {more:?}"
    );
    assert_eq!(
        s.get(&format!("/api/messages/{msg_id}")).await.1["status"],
        "read"
    );

    // PLAYED is progress.
    s.webhook(&envelope("message.ack", ack(id, chat, 4))).await;
    let up = ws.expect("message.updated", |d| d["id"] == msg_id).await;
    assert_eq!(up["data"]["status"], "played", "{up}");

    // DEVICE then ERROR: stays delivered.
    let id2 = "true_447701000003@c.us_ACKS2";
    s.webhook(&envelope(
        "message.any",
        phone_message(id2, chat, "second phone reply", 1),
    ))
    .await;
    let created = ws.expect("message.created", |d| d["waha_id"] == id2).await;
    let msg2 = created["data"]["id"].clone();
    s.webhook(&envelope("message.ack", ack(id2, chat, 2))).await;
    let up = ws.expect("message.updated", |d| d["id"] == msg2).await;
    assert_eq!(up["data"]["status"], "delivered");
    s.webhook(&envelope("message.ack", ack(id2, chat, -1)))
        .await;
    s.webhook(&envelope("message.ack", ack(id2, chat, 0))).await;
    let rest = ws.drain(Duration::from_millis(1500)).await;
    assert!(
        !rest
            .iter()
            .any(|f| f["type"] == "message.updated" && f["data"]["id"] == msg2),
        "ERROR or PENDING after delivered changed the message: {rest:?}"
    );
    assert_eq!(
        s.get(&format!("/api/messages/{msg2}")).await.1["status"],
        "delivered"
    );

    // The same ack delivered twice by the simulator, through its envelope path.
    s.sim
        .control_created("/sim/event", json!({"session": "default", "event": "message.ack", "payload": ack(id2, chat, 3), "deliveries": 2}))
        .await;
    let up = ws.expect("message.updated", |d| d["id"] == msg2).await;
    assert_eq!(up["data"]["status"], "read");
    let rest = ws.drain(Duration::from_millis(1500)).await;
    assert!(
        !rest
            .iter()
            .any(|f| f["type"] == "message.updated" && f["data"]["id"] == msg2),
        "{rest:?}"
    );
}
both!(acks_out_of_order_and_duplicated);

async fn ack_before_its_message(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447701000004@c.us";
    open_conversation(&s, &mut ws, chat).await;

    let id = "true_447701000004@c.us_EARLY1";
    // DEVICE and READ arrive before WAHA's message.any for the message (typed on the phone).
    for v in [2, 3, 2] {
        assert_eq!(
            s.webhook(&envelope("message.ack", ack(id, chat, v)))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        s.webhook(&envelope(
            "message.any",
            phone_message(id, chat, "early acks", 1)
        ))
        .await
        .0,
        200
    );
    let created = ws.expect("message.created", |d| d["waha_id"] == id).await;
    let msg_id = created["data"]["id"].clone();
    let m = s
        .eventually(&format!("/api/messages/{msg_id}"), |m| {
            m["status"] == "read"
        })
        .await;
    assert_eq!(m["direction"], "out", "{m}");
    // A late SERVER ack does not move it back.
    s.webhook(&envelope("message.ack", ack(id, chat, 1))).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.get(&format!("/api/messages/{msg_id}")).await.1["status"],
        "read"
    );
}
both!(ack_before_its_message);

// ---------------------------------------------------------------- our own send coming back

async fn own_send_echo_is_not_stored_twice(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447701000005@c.us";
    let conv = open_conversation(&s, &mut ws, chat).await;
    let text = "Echo test reply";
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text, "client_id": "echo-1"}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    let sends = wait_sent(&s, text, Duration::from_secs(20)).await;
    let waha_id = sends[0]["id"].as_str().unwrap().to_string();
    s.eventually(&format!("/api/messages/{}", m["id"]), |x| {
        x["waha_id"] == waha_id.as_str()
    })
    .await;

    // WAHA's message.any for our own API send (source: api), twice, and once with an
    // envelope lacking `id` (old WAHA).
    let echo = json!({"id": waha_id, "timestamp": now_ms() / 1000, "from": ME, "to": chat, "fromMe": true,
                      "source": "api", "body": text, "hasMedia": false, "ack": 1, "_data": {}});
    for _ in 0..2 {
        assert_eq!(
            s.webhook(&envelope("message.any", echo.clone())).await.0,
            200
        );
    }
    let mut old = envelope("message.any", echo);
    old.as_object_mut().unwrap().remove("id");
    assert_eq!(s.webhook(&old).await.0, 200);

    let rest = ws.drain(Duration::from_millis(1500)).await;
    // (Our reply's own message.created is in there; nothing else may be.)
    let created: Vec<_> = rest
        .iter()
        .filter(|f| f["type"] == "message.created" && f["data"]["id"] != m["id"])
        .collect();
    assert!(
        created.is_empty(),
        "our own send came back as a new message: {created:?}"
    );
    let msgs = s.messages(conv).await;
    assert_eq!(msgs.len(), 2, "customer message + one reply: {msgs:?}");
    assert_eq!(
        msgs.iter().filter(|x| x["text"] == text).count(),
        1,
        "{msgs:?}"
    );
}
both!(own_send_echo_is_not_stored_twice);

// ---------------------------------------------------------------- WAHA 500 then 201

async fn waha_500_then_201_sends_exactly_once(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447701000006@c.us";
    let conv = open_conversation(&s, &mut ws, chat).await;
    let (code, r) = s
        .sim
        .control(
            "/sim/faults",
            json!({"send_fail": 2, "send_fail_status": 500}),
        )
        .await;
    assert!((200..300).contains(&code), "{r}");

    let text = "This one survives two 500s";
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text, "client_id": "r500"}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    let statuses = follow_status(&mut ws, &m["id"], "read", Duration::from_secs(60)).await;
    assert!(!statuses.is_empty());
    let sends = s.sim.sent_with(text).await;
    assert_eq!(
        sends.len(),
        1,
        "sent exactly once after the 500s: {sends:?}"
    );
    let (_, left) = s.sim.control("/sim/faults", json!({})).await;
    assert_eq!(
        left["send_fail"], 0,
        "both 500s were really answered: {left}"
    );
    let stats = s.sim.get("/sim/stats").await;
    let rest = ws.drain(Duration::from_millis(1500)).await;
    assert!(
        !rest.iter().any(|f| f["type"] == "message.created"),
        "{rest:?}"
    );
    assert_eq!(s.sim.sent_with(text).await.len(), 1, "stats: {stats}");
    let http = s.get(&format!("/api/messages/{}", m["id"])).await.1;
    assert_eq!(http["status"], "read", "{http}");
    assert_eq!(http["waha_id"], sends[0]["id"], "{http}");
}
both!(waha_500_then_201_sends_exactly_once);

// ---------------------------------------------------------------- read

async fn marking_read_clears_unread(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447701000007@c.us";
    let conv = open_conversation(&s, &mut ws, chat).await;
    let second = s.customer_writes(chat, "are you there?").await;
    ws.expect("message.created", |d| d["waha_id"] == second.as_str())
        .await;
    ws.expect("conversation.updated", |d| {
        d["id"] == conv && d["unread"] == 2
    })
    .await;
    assert_eq!(
        s.get(&format!("/api/conversations/{conv}")).await.1["unread"],
        2
    );

    let (code, c) = s
        .post(&format!("/api/conversations/{conv}/read"), json!({}))
        .await;
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["unread"], 0, "{c}");
    ws.expect("conversation.updated", |d| {
        d["id"] == conv && d["unread"] == 0
    })
    .await;
    assert_eq!(
        s.get(&format!("/api/conversations/{conv}")).await.1["unread"],
        0
    );

    // The websocket command does the same.
    let third = s.customer_writes(chat, "hello??").await;
    ws.expect("message.created", |d| d["waha_id"] == third.as_str())
        .await;
    ws.expect("conversation.updated", |d| {
        d["id"] == conv && d["unread"] == 1
    })
    .await;
    ws.send(json!({"type": "conversation.read", "data": {"conversation_id": conv}}))
        .await;
    ws.expect("conversation.updated", |d| {
        d["id"] == conv && d["unread"] == 0
    })
    .await;
    assert_eq!(
        s.get(&format!("/api/conversations/{conv}")).await.1["unread"],
        0
    );

    let (code, e) = s.post("/api/conversations/424242/read", json!({})).await;
    assert_eq!(code, 404, "{e}");
}
both!(marking_read_clears_unread);
