//! Contract §3b end to end, against a real hub and the simulator: a customer's message in
//! a session with a bot gets the bot's reply through WAHA exactly once (duplicate webhooks,
//! WAHA's retries, a kill -9 between the webhook and the reply), every way a conversation
//! leaves the bot (a handoff trigger, a keyword, misses, at once, the business phone, an
//! agent's reply, a failing bot), the bot's silence afterwards, the chats it never answers,
//! and its figures.

mod common;

use std::time::Duration;

use common::{envelope, inbound_payload, Backend, Options, Setup};
use serde_json::{json, Value};

const PRICE: &str = "Shipping is 4.90, free over 50.";
const HOURS: &str = "We are open 9 to 5.";
const SORRY: &str = "Sorry, I did not get that.";
const HANDING: &str = "A colleague will call you back.";

/// The bot of these tests, on `default`.
async fn with_bot(s: &Setup, extra: Value) -> i64 {
    let mut body = json!({"name": "Front desk", "sessions": ["default"], "fallback": SORRY,
        "handoff_after_misses": 2, "greeting": "Welcome, {{contact.first_name}}!"});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let (code, b) = s.post("/api/bots", body).await;
    assert_eq!(code, 201, "{b}");
    let id = b["id"].as_i64().expect("bot id");
    for t in [
        json!({"match": "any_keyword", "keywords": ["price", "shipping"], "priority": 1, "response": PRICE, "action": "reply"}),
        json!({"match": "word", "pattern": "hours", "priority": 1, "response": HOURS, "action": "reply"}),
        json!({"match": "contains", "pattern": "call me", "priority": 5, "response": HANDING, "action": "reply_and_handoff"}),
        json!({"match": "word", "pattern": "vip", "priority": 1, "action": "add_tag", "tag": "vip"}),
    ] {
        let mut t = t;
        t["bot_id"] = json!(id);
        let (code, r) = s.post("/api/triggers", t).await;
        assert_eq!(code, 201, "{r}");
    }
    id
}

/// Waits until WAHA has put `text` through to `chat` `n` times.
async fn wait_sent(s: &Setup, chat: &str, text: &str, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let sent = sent_to(s, chat, text).await;
        if sent.len() >= n {
            return sent;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{text:?} reached {chat} {} times, want {n}",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sent_to(s: &Setup, chat: &str, text: &str) -> Vec<Value> {
    s.sim
        .sent_with(text)
        .await
        .into_iter()
        .filter(|m| m["chatId"] == chat)
        .collect()
}

/// Every text WAHA put through to `chat`, in order.
async fn all_sent_to(s: &Setup, chat: &str) -> Vec<String> {
    s.sim
        .sent()
        .await
        .into_iter()
        .filter(|m| m["chatId"] == chat)
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

/// "Nothing else was sent" against a marker: an agent's reply goes out after whatever the
/// bot might still have said, so once it is through, the bot's turn is over.
async fn marker(s: &Setup, conv: i64, chat: &str) {
    let text = format!("marker {}", common::now_ms());
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    wait_sent(s, chat, &text, 1).await;
}

async fn conv_id(s: &Setup, chat: &str) -> i64 {
    s.conversation_for(chat).await["id"]
        .as_i64()
        .expect("conversation id")
}

async fn the_bot_answers_once_despite_duplicates(b: Backend) {
    let s = Setup::new(b).await;
    with_bot(&s, json!({})).await;
    let chat = "447700100001@c.us";
    // The same message three times: `message`, its `message.any` twin, and a retry.
    let payload = inbound_payload(chat, &format!("false_{chat}_AAA1"), "how much is shipping?");
    let mut first = envelope("message", payload.clone());
    first["payload"]["_data"] = json!({"notifyName": "Ana Lima"});
    for event in ["message", "message.any", "message"] {
        let mut env = first.clone();
        env["event"] = json!(event);
        let (code, r) = s.webhook(&env).await;
        assert_eq!(code, 200, "{r}");
    }
    wait_sent(&s, chat, PRICE, 1).await;
    let conv = s.conversation_for(chat).await;
    assert_eq!(conv["status"], "bot", "{conv}");
    let id = conv["id"].as_i64().expect("id");
    // The greeting went first (a first-time contact), then the answer.
    let msgs = s.messages(id).await;
    let texts: Vec<&str> = msgs
        .iter()
        .rev()
        .filter_map(|m| m["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["how much is shipping?", "Welcome, Ana!", PRICE],
        "{msgs:?}"
    );
    assert!(
        msgs[0]["bot_id"].is_i64(),
        "the bot's message names it: {}",
        msgs[0]
    );
    assert_eq!(msgs[0]["bot_name"], "Front desk", "{}", msgs[0]);
    assert_eq!(
        msgs[2]["bot_name"],
        Value::Null,
        "the customer's: {}",
        msgs[2]
    );
    let (_, one) = s.get(&format!("/api/messages/{}", msgs[0]["id"])).await;
    assert_eq!(one["bot_name"], "Front desk", "{one}");

    let mut ws = s.socket(None).await;
    s.customer_writes(chat, "and your hours?").await;
    let created = ws.expect("message.created", |m| m["text"] == HOURS).await;
    assert_eq!(created["data"]["bot_name"], "Front desk", "{created}");
    let updated = ws.expect("message.updated", |m| m["text"] == HOURS).await;
    assert_eq!(updated["data"]["bot_name"], "Front desk", "{updated}");
    wait_sent(&s, chat, HOURS, 1).await;
    assert_eq!(
        all_sent_to(&s, chat).await,
        ["Welcome, Ana!", PRICE, HOURS],
        "each reply once, the greeting only the first time"
    );
}
both!(the_bot_answers_once_despite_duplicates);

async fn keywords_triggers_and_misses_hand_over(b: Backend) {
    let s = Setup::new(b).await;
    with_bot(&s, json!({"greeting": null})).await;
    let mut ws = s.socket(None).await;

    // A handoff keyword.
    let chat = "447700200001@c.us";
    s.customer_writes(chat, "I need a HUMAN please").await;
    let f = ws
        .expect("conversation.handoff", |d| d["reason"] == "keyword")
        .await;
    let id = f["data"]["conversation_id"].as_i64().expect("id");
    let conv = s
        .eventually(&format!("/api/conversations/{id}"), |c| {
            c["status"] != "bot"
        })
        .await;
    assert!(
        conv["status"] == "pending" || conv["status"] == "open",
        "{conv}"
    );
    // Silent from now on, even for what it knows.
    s.customer_writes(chat, "what about the price?").await;
    marker(&s, id, chat).await;
    assert!(
        sent_to(&s, chat, PRICE).await.is_empty(),
        "the bot spoke after the handoff"
    );

    // A handoff trigger: its reply, then the handoff.
    let chat = "447700200002@c.us";
    s.customer_writes(chat, "please call me tomorrow").await;
    let f = ws
        .expect("conversation.handoff", |d| d["reason"] == "trigger")
        .await;
    assert!(f["data"]["trigger_id"].is_i64(), "{f}");
    wait_sent(&s, chat, HANDING, 1).await;

    // Two messages the bot cannot place: the fallback once, then the handoff.
    let chat = "447700200003@c.us";
    s.customer_writes(chat, "blue elephants").await;
    wait_sent(&s, chat, SORRY, 1).await;
    s.customer_writes(chat, "purple giraffes").await;
    let f = ws
        .expect("conversation.handoff", |d| d["reason"] == "misses")
        .await;
    let id = f["data"]["conversation_id"].as_i64().expect("id");
    marker(&s, id, chat).await;
    assert_eq!(sent_to(&s, chat, SORRY).await.len(), 1);
}
both!(keywords_triggers_and_misses_hand_over);

async fn handoff_at_once_when_the_rule_says_so(b: Backend) {
    let s = Setup::new(b).await;
    with_bot(&s, json!({"handoff_immediately": true})).await;
    let mut ws = s.socket(None).await;
    let chat = "447700300001@c.us";
    s.customer_writes(chat, "what is the price?").await;
    let f = ws
        .expect("conversation.handoff", |d| d["reason"] == "immediately")
        .await;
    let id = f["data"]["conversation_id"].as_i64().expect("id");
    marker(&s, id, chat).await;
    let sent = all_sent_to(&s, chat).await;
    assert_eq!(
        sent.len(),
        2,
        "the greeting, then only the marker: {sent:?}"
    );
    assert_eq!(sent[0], "Welcome, Customer!");
}
both!(handoff_at_once_when_the_rule_says_so);

async fn a_person_on_the_phone_or_in_the_inbox_takes_over(b: Backend) {
    let s = Setup::new(b).await;
    with_bot(&s, json!({"greeting": null})).await;
    let mut ws = s.socket(None).await;

    // Someone types on the paired phone: WAHA's `message.any`, fromMe, source app.
    let chat = "447700400001@c.us";
    s.customer_writes(chat, "price?").await;
    wait_sent(&s, chat, PRICE, 1).await;
    let mut typed = inbound_payload(
        chat,
        &format!("true_{chat}_PHONE1"),
        "Hi, Joe here from the shop",
    );
    typed["fromMe"] = json!(true);
    typed["source"] = json!("app");
    typed["to"] = json!(chat);
    let (code, r) = s.webhook(&envelope("message.any", typed)).await;
    assert_eq!(code, 200, "{r}");
    let f = ws
        .expect("conversation.handoff", |d| d["reason"] == "phone_takeover")
        .await;
    let id = f["data"]["conversation_id"].as_i64().expect("id");
    s.customer_writes(chat, "great, and the price again?").await;
    marker(&s, id, chat).await;
    assert_eq!(
        sent_to(&s, chat, PRICE).await.len(),
        1,
        "silent after the takeover"
    );

    // An agent answers in the inbox where the bot was: theirs now, the bot silent.
    let chat = "447700400002@c.us";
    s.customer_writes(chat, "shipping?").await;
    wait_sent(&s, chat, PRICE, 1).await;
    let id = conv_id(&s, chat).await;
    let agent = s.member("agent@bots.test", "agent", &["default"]).await;
    let (code, _) = s
        .as_user(
            &agent.token,
            "POST",
            &format!("/api/conversations/{id}/messages"),
            Some(json!({"text": "I'll help you"})),
        )
        .await;
    assert_eq!(code, 201);
    let conv = s
        .eventually(&format!("/api/conversations/{id}"), |c| {
            c["status"] == "open"
        })
        .await;
    assert_eq!(conv["assignee_id"], agent.id, "{conv}");
    ws.expect("conversation.handoff", |d| d["reason"] == "agent_reply")
        .await;
    s.customer_writes(chat, "and the shipping?").await;
    marker(&s, id, chat).await;
    assert_eq!(sent_to(&s, chat, PRICE).await.len(), 1);
}
both!(a_person_on_the_phone_or_in_the_inbox_takes_over);

async fn groups_broadcasts_and_own_messages_get_no_answer(b: Backend) {
    let s = Setup::new(b).await;
    with_bot(&s, json!({"greeting": null})).await;
    // A group (the bot is not set to answer groups) and a status broadcast.
    let group = "120363000000001@g.us";
    let mut p = inbound_payload(
        group,
        &format!("false_{group}_G1_447700500001@c.us"),
        "price?",
    );
    p["participant"] = json!("447700500001@c.us");
    let (code, _) = s.webhook(&envelope("message", p)).await;
    assert_eq!(code, 200);
    let status = "status@broadcast";
    let p = inbound_payload(
        status,
        "false_status@broadcast_S1_447700500002@c.us",
        "price?",
    );
    let (code, _) = s.webhook(&envelope("message", p)).await;
    assert_eq!(code, 200);
    // A person writes after both: once they have their answer, the bot's turn for the
    // earlier ones is long over.
    let chat = "447700500003@c.us";
    s.customer_writes(chat, "price?").await;
    wait_sent(&s, chat, PRICE, 1).await;
    assert_eq!(
        s.sim.sent_with(PRICE).await.len(),
        1,
        "only the person got an answer"
    );
    let g = s.conversation_for(group).await;
    assert_ne!(g["status"], "bot", "{g}");
}
both!(groups_broadcasts_and_own_messages_get_no_answer);

async fn a_failing_bot_is_retried_then_hands_over(b: Backend) {
    let s = Setup::new(b).await;
    with_bot(&s, json!({"greeting": null})).await;
    let mut ws = s.socket(None).await;
    let (code, left) = s
        .sim
        .control(
            "/sim/faults",
            json!({"send_fail": 100, "send_fail_status": 500}),
        )
        .await;
    assert_eq!(code, 200, "{left}");
    let chat = "447700600001@c.us";
    s.customer_writes(chat, "price?").await;
    let f = ws
        .expect_within("conversation.handoff", Duration::from_secs(30), |d| {
            d["reason"] == "bot_failed"
        })
        .await;
    assert!(
        f["data"]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("WAHA"),
        "the reason says why: {f}"
    );
    let (_, left) = s.sim.control("/sim/faults", json!({"send_fail": 0})).await;
    let refused = 100 - left["send_fail"].as_u64().unwrap_or(100);
    assert!(
        refused >= 2,
        "retried before handing over: {refused} attempts"
    );
}
both!(a_failing_bot_is_retried_then_hands_over);

/// A kill -9 after the webhook was acknowledged, while the bot's reply was on its way to
/// WAHA (sent, WAHA's answer held): after the restart it is not sent again. And one
/// while WAHA refused it for now: after the restart it is sent, once.
async fn kill9_between_the_webhook_and_the_reply(b: Backend) {
    let opts = Options {
        env: vec![("TICKHUB_WAHA_TIMEOUT_MS".into(), "30000".into())],
        ..Default::default()
    };
    let mut s = Setup::with(b, opts).await;
    with_bot(&s, json!({"greeting": null})).await;
    s.sim
        .control(
            "/sim/faults",
            json!({"send_hang": 1, "send_hang_ms": 60000}),
        )
        .await;
    let chat = "447700700001@c.us";
    s.customer_writes(chat, "price?").await;
    wait_sent(&s, chat, PRICE, 1).await;
    s.hub.kill9();
    s.hub.restart();
    let id = conv_id(&s, chat).await;
    s.eventually_within(
        &format!("/api/conversations/{id}/messages"),
        Duration::from_secs(30),
        |p| {
            p["items"].as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|m| m["text"] == PRICE && m["status"] != "pending")
            })
        },
    )
    .await;
    marker(&s, id, chat).await;
    assert_eq!(sent_to(&s, chat, PRICE).await.len(), 1, "not sent twice");

    let chat = "447700700002@c.us";
    s.sim
        .control(
            "/sim/faults",
            json!({"send_fail": 1000, "send_fail_status": 503}),
        )
        .await;
    s.customer_writes(chat, "shipping?").await;
    let id = conv_id(&s, chat).await;
    s.eventually(&format!("/api/conversations/{id}/messages"), |p| {
        p["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|m| m["text"] == PRICE))
    })
    .await;
    s.hub.kill9();
    s.sim.control("/sim/faults", json!({"send_fail": 0})).await;
    s.hub.restart();
    wait_sent(&s, chat, PRICE, 1).await;
    marker(&s, id, chat).await;
    assert_eq!(
        sent_to(&s, chat, PRICE).await.len(),
        1,
        "sent once after the restart"
    );
}
both!(kill9_between_the_webhook_and_the_reply);

async fn triggers_change_the_contact_and_metrics_count(b: Backend) {
    let s = Setup::new(b).await;
    let bot = with_bot(&s, json!({"greeting": null})).await;
    let chat = "447700800001@c.us";
    s.customer_writes(chat, "I am a VIP customer").await;
    s.customer_writes(chat, "price?").await;
    wait_sent(&s, chat, PRICE, 1).await;
    let conv = s.conversation_for(chat).await;
    let contact = conv["contact_id"].as_i64().expect("contact");
    let tags = common::auth::scalar(
        &s.db,
        &format!("SELECT COUNT(*) FROM contact_tags WHERE contact_id = {contact} AND tag = 'vip'"),
    )
    .await;
    assert_eq!(tags, 1);
    s.customer_writes(chat, "call me").await;
    wait_sent(&s, chat, HANDING, 1).await;
    let m = s
        .eventually(&format!("/api/bots/{bot}/metrics"), |m| {
            m["handoffs"]["trigger"] == 1
        })
        .await;
    assert_eq!(m["matches"], 3, "{m}");
    assert_eq!(m["conversations"], 1, "{m}");
    let metrics = reqwest::get(format!("{}/metrics", s.hub.url))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("tickhub_bot_matches_total")
            && metrics.contains("tickhub_bot_handoffs_total"),
        "/metrics has the bots' counters"
    );
}
both!(triggers_change_the_contact_and_metrics_count);

async fn a_resolved_conversation_reopened_by_the_customer(b: Backend) {
    let s = Setup::new(b).await;
    with_bot(&s, json!({"greeting": null})).await;
    // Resolved while the bot had it: the bot takes it again, and that counts as resolved
    // without a person.
    let chat = "447700900001@c.us";
    s.customer_writes(chat, "price?").await;
    wait_sent(&s, chat, PRICE, 1).await;
    let id = conv_id(&s, chat).await;
    let (code, r) = s
        .post(&format!("/api/conversations/{id}/resolve"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    s.customer_writes(chat, "and your hours?").await;
    wait_sent(&s, chat, HOURS, 1).await;
    let conv = s
        .eventually(&format!("/api/conversations/{id}"), |c| {
            c["status"] == "bot"
        })
        .await;
    assert!(conv["assignee_id"].is_null(), "{conv}");

    // An agent had it and is offline: it does not wait for them, it goes to the bot.
    let agent = s.member("agent@reopen.test", "agent", &["default"]).await;
    let (code, r) = s
        .post(
            &format!("/api/conversations/{id}/assign"),
            json!({"assignee_id": agent.id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    s.post(&format!("/api/conversations/{id}/resolve"), json!({}))
        .await;
    s.customer_writes(chat, "price again?").await;
    wait_sent(&s, chat, PRICE, 2).await;
    let conv = s
        .eventually(&format!("/api/conversations/{id}"), |c| {
            c["status"] == "bot"
        })
        .await;
    assert!(conv["assignee_id"].is_null(), "{conv}");

    // The agent is online with room: the conversation goes back to them.
    let (code, r) = s
        .post(
            &format!("/api/conversations/{id}/assign"),
            json!({"assignee_id": agent.id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    s.post(&format!("/api/conversations/{id}/resolve"), json!({}))
        .await;
    let _online = common::Socket::connect(&s.hub.url, &agent.token, None).await;
    s.eventually(
        &format!("/api/team-members/{}?include=presence", agent.id),
        |m| m["presence"] == "online",
    )
    .await;
    s.customer_writes(chat, "it's me again, price?").await;
    let conv = s
        .eventually(&format!("/api/conversations/{id}"), |c| {
            c["status"] == "open"
        })
        .await;
    assert_eq!(conv["assignee_id"], agent.id, "{conv}");
    marker(&s, id, chat).await;
    assert_eq!(
        sent_to(&s, chat, PRICE).await.len(),
        2,
        "the bot left it to the agent"
    );
}
both!(a_resolved_conversation_reopened_by_the_customer);

async fn a_bot_switched_off_hands_its_conversations_over(b: Backend) {
    let s = Setup::new(b).await;
    let bot = with_bot(&s, json!({"greeting": null})).await;
    let mut ws = s.socket(None).await;
    let chat = "447700950001@c.us";
    s.customer_writes(chat, "price?").await;
    wait_sent(&s, chat, PRICE, 1).await;
    let (code, r) = s
        .patch(&format!("/api/bots/{bot}"), json!({"active": false}))
        .await;
    assert_eq!(code, 200, "{r}");
    s.customer_writes(chat, "and shipping?").await;
    let f = ws
        .expect("conversation.handoff", |d| d["reason"] == "bot_off")
        .await;
    let id = f["data"]["conversation_id"].as_i64().expect("id");
    marker(&s, id, chat).await;
    assert_eq!(sent_to(&s, chat, PRICE).await.len(), 1);
    // A new customer of the session is not the bot's either.
    let chat = "447700950002@c.us";
    s.customer_writes(chat, "price?").await;
    let conv = s.conversation_for(chat).await;
    assert_ne!(conv["status"], "bot", "{conv}");
}
both!(a_bot_switched_off_hands_its_conversations_over);
