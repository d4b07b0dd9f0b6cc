//! Contract §2, rule by rule: HMAC and the replay window, bad input, every handled event.

mod common;

use std::time::Duration;

use common::{
    assert_error, envelope, hmac_sha512_hex, inbound_payload, now_ms, Backend, Options, Setup,
};
use serde_json::{json, Value};

const ME: &str = "15550000000@c.us";

async fn has_conversation(s: &Setup, chat: &str) -> bool {
    s.conversations().await.iter().any(|c| c["chat_id"] == chat)
}

// ---------------------------------------------------------------- HMAC

async fn hmac_is_required_and_checked(b: Backend) {
    let key = "webhook-secret-Δ-42";
    let s = Setup::with(
        b,
        Options {
            hmac_key: Some(key.into()),
            ..Default::default()
        },
    )
    .await;
    let chat = "447700100001@c.us";
    let body = envelope(
        "message",
        inbound_payload(chat, "false_447700100001@c.us_HMAC1", "signed hello"),
    );
    let bytes = body.to_string().into_bytes();
    let good = hmac_sha512_hex(key, &bytes);
    let ct = "application/json";
    let sha512 = ("X-Webhook-Hmac-Algorithm", "sha512".to_string());

    assert_error(
        "no X-Webhook-Hmac",
        s.webhook_with(&bytes, ct, &[]).await,
        401,
    );
    assert_error(
        "HMAC under another key",
        s.webhook_with(
            &bytes,
            ct,
            &[
                ("X-Webhook-Hmac", hmac_sha512_hex("other-key", &bytes)),
                sha512.clone(),
            ],
        )
        .await,
        401,
    );
    assert_error(
        "HMAC that is not hex",
        s.webhook_with(
            &bytes,
            ct,
            &[("X-Webhook-Hmac", "not-hex-at-all".into()), sha512.clone()],
        )
        .await,
        401,
    );
    let mut tampered = body.clone();
    tampered["payload"]["body"] = json!("tampered");
    assert_error(
        "a valid HMAC of another body",
        s.webhook_with(
            tampered.to_string().as_bytes(),
            ct,
            &[("X-Webhook-Hmac", good.clone()), sha512.clone()],
        )
        .await,
        401,
    );
    assert_error(
        "algorithm sha256",
        s.webhook_with(
            &bytes,
            ct,
            &[
                ("X-Webhook-Hmac", good.clone()),
                ("X-Webhook-Hmac-Algorithm", "sha256".into()),
            ],
        )
        .await,
        401,
    );
    let stale = (now_ms() - 11 * 60 * 1000).to_string();
    assert_error(
        "timestamp 11 minutes old",
        s.webhook_with(
            &bytes,
            ct,
            &[
                ("X-Webhook-Hmac", good.clone()),
                sha512.clone(),
                ("X-Webhook-Timestamp", stale),
            ],
        )
        .await,
        401,
    );
    assert!(
        !has_conversation(&s, chat).await,
        "a refused webhook must store nothing"
    );

    // Right signature, fresh timestamp: stored.
    let fresh = ("X-Webhook-Timestamp", now_ms().to_string());
    let (code, ack) = s
        .webhook_with(
            &bytes,
            ct,
            &[
                ("X-Webhook-Hmac", good.clone()),
                sha512.clone(),
                fresh.clone(),
            ],
        )
        .await;
    assert_eq!(
        (code, ack["status"].as_str()),
        (200, Some("stored")),
        "{ack}"
    );
    // A retry inside the window is absorbed by dedupe.
    let (code, ack) = s
        .webhook_with(
            &bytes,
            ct,
            &[("X-Webhook-Hmac", good.clone()), sha512.clone(), fresh],
        )
        .await;
    assert_eq!(
        (code, ack["status"].as_str()),
        (200, Some("duplicate")),
        "{ack}"
    );
    // Old WAHA: no algorithm header, no timestamp; signature alone is enough.
    let old = envelope(
        "message",
        inbound_payload(chat, "false_447700100001@c.us_HMAC2", "old waha"),
    );
    let old_bytes = old.to_string().into_bytes();
    let (code, ack) = s
        .webhook_with(
            &old_bytes,
            ct,
            &[("X-Webhook-Hmac", hmac_sha512_hex(key, &old_bytes))],
        )
        .await;
    assert_eq!(
        (code, ack["status"].as_str()),
        (200, Some("stored")),
        "{ack}"
    );

    let conv = s.conversation_for(chat).await;
    let id = conv["id"].as_i64().unwrap();
    let msgs = s
        .eventually(&format!("/api/conversations/{id}/messages"), |p| {
            p["items"].as_array().unwrap().len() == 2
        })
        .await;
    let texts: Vec<_> = msgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].clone())
        .collect();
    assert!(
        texts.contains(&json!("signed hello")) && !texts.contains(&json!("tampered")),
        "{msgs}"
    );

    // The simulator signs with the key the hub registered: a customer's message gets in.
    let wid = s
        .customer_writes("447700100002@c.us", "through signed WAHA")
        .await;
    let conv = s.conversation_for("447700100002@c.us").await;
    let msgs = s.messages(conv["id"].as_i64().unwrap()).await;
    assert!(
        msgs.iter().any(|m| m["waha_id"] == wid.as_str()),
        "{msgs:?}"
    );
}
both!(hmac_is_required_and_checked);

// ---------------------------------------------------------------- bad input

async fn bad_input_gets_4xx_json(b: Backend) {
    let env = vec![("TICKHUB_WEBHOOK_MAX_BYTES".to_string(), "4096".to_string())];
    let s = Setup::with(
        b,
        Options {
            env,
            ..Default::default()
        },
    )
    .await;
    let ct = "application/json";

    assert_error(
        "malformed JSON",
        s.webhook_with(br#"{"event": "message", "session": "def"#, ct, &[])
            .await,
        400,
    );
    assert_error(
        "not an object",
        s.webhook_with(b"[1, 2, 3]", ct, &[]).await,
        400,
    );
    assert_error("empty body", s.webhook_with(b"", ct, &[]).await, 400);
    let valid = envelope(
        "message",
        inbound_payload("447700200001@c.us", "false_447700200001@c.us_CT1", "plain"),
    );
    assert_error(
        "text/plain",
        s.webhook_with(valid.to_string().as_bytes(), "text/plain", &[])
            .await,
        415,
    );
    assert_error(
        "form encoded",
        s.webhook_with(b"event=message", "application/x-www-form-urlencoded", &[])
            .await,
        415,
    );
    let big = envelope(
        "message",
        inbound_payload(
            "447700200002@c.us",
            "false_447700200002@c.us_BIG1",
            &"x".repeat(8000),
        ),
    );
    assert_error(
        "body over the limit",
        s.webhook_with(big.to_string().as_bytes(), ct, &[]).await,
        413,
    );
    let mut unknown = envelope(
        "message",
        inbound_payload("447700200003@c.us", "false_447700200003@c.us_UNK1", "who?"),
    );
    unknown["session"] = json!("no-such-session");
    assert_error("unknown session", s.webhook(&unknown).await, 404);
    let mut no_event = valid.clone();
    no_event.as_object_mut().unwrap().remove("event");
    let (code, body) = s.webhook(&no_event).await;
    assert!(
        (400..500).contains(&code),
        "an envelope without event: 4xx, got {code}: {body}"
    );

    // Unknown events: 200, ignored.
    for ev in ["call.received", "label.upsert", "some.future.event"] {
        let (code, body) = s
            .webhook(&envelope(ev, json!({"id": "x", "from": "1@c.us"})))
            .await;
        assert_eq!(
            (code, body["status"].as_str()),
            (200, Some("ignored")),
            "{ev}: {body}"
        );
    }

    // Payloads missing fields or of the wrong type: never a 5xx, and the hub carries on.
    let odd_payloads = [
        (
            "message",
            json!({"id": "false_447700200004@c.us_NOFROM", "body": "no from", "fromMe": false}),
        ),
        (
            "message",
            json!({"from": "447700200004@c.us", "body": "no id"}),
        ),
        ("message", json!("a string payload")),
        ("message", Value::Null),
        (
            "message.any",
            json!({"id": 42, "from": ["x"], "fromMe": "yes"}),
        ),
        ("message.ack", json!({"ack": 3})),
        (
            "message.ack",
            json!({"id": "false_1@c.us_NOPE", "ack": "READ"}),
        ),
        (
            "message.reaction",
            json!({"id": "r1", "from": "447700200004@c.us"}),
        ),
        ("message.revoked", json!({})),
        ("session.status", json!({"name": "default"})),
        ("presence.update", json!({"presences": "typing"})),
    ];
    for (ev, payload) in odd_payloads {
        let (code, body) = s.webhook(&envelope(ev, payload.clone())).await;
        assert!(
            code < 500,
            "{ev} {payload}: must not be a 5xx, got {code}: {body}"
        );
        assert!(
            body.is_object(),
            "{ev} {payload}: a JSON answer, got {body}"
        );
    }

    // None of that stored anything; a good webhook afterwards works.
    let (code, ack) = s.webhook(&valid).await;
    assert_eq!(
        (code, ack["status"].as_str()),
        (200, Some("stored")),
        "{ack}"
    );
    let conv = s.conversation_for("447700200001@c.us").await;
    let conv_id = conv["id"].as_i64().unwrap();
    s.eventually(&format!("/api/conversations/{conv_id}/messages"), |p| {
        p["items"].as_array().unwrap().len() == 1
    })
    .await;
    let convs = s.conversations().await;
    assert!(
        convs
            .iter()
            .all(|c| ["447700200001@c.us", "447700200004@c.us"]
                .contains(&c["chat_id"].as_str().unwrap_or(""))),
        "nothing else may be stored: {convs:?}"
    );
    assert!(
        !convs
            .iter()
            .any(|c| c["chat_id"] == "447700200002@c.us" || c["chat_id"] == "447700200003@c.us"),
        "the refused bodies stored a conversation: {convs:?}"
    );
    let (code, _) = s.get("/healthz").await;
    assert_eq!(code, 200);
}
both!(bad_input_gets_4xx_json);

// ---------------------------------------------------------------- message / message.any pair

async fn message_pair_stores_one_in_either_order(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447700300001@c.us";
    let id1 = "false_447700300001@c.us_PAIR1";
    let id2 = "false_447700300001@c.us_PAIR2";
    // message first, then message.any; then the other way round.
    for (first, second, id, text) in [
        ("message", "message.any", id1, "one"),
        ("message.any", "message", id2, "two"),
    ] {
        let (c1, a1) = s
            .webhook(&envelope(first, inbound_payload(chat, id, text)))
            .await;
        let (c2, a2) = s
            .webhook(&envelope(second, inbound_payload(chat, id, text)))
            .await;
        assert_eq!((c1, c2), (200, 200), "{a1} {a2}");
    }
    // The simulator's own pair, and a delivery made twice.
    let id3 = s.customer_writes(chat, "three").await;
    s.sim
        .control_created(
            "/sim/event",
            json!({"session": "default", "event": "message", "deliveries": 2,
                   "payload": inbound_payload(chat, "false_447700300001@c.us_PAIR4", "four")}),
        )
        .await;

    let frames = ws
        .collect_until(Duration::from_secs(15), |f| {
            f.iter().filter(|f| f["type"] == "message.created").count() >= 4
        })
        .await;
    let mut frames = frames;
    frames.extend(ws.drain(Duration::from_millis(1500)).await);
    let created: Vec<_> = frames
        .iter()
        .filter(|f| f["type"] == "message.created")
        .map(|f| f["data"]["waha_id"].clone())
        .collect();
    for id in [id1, id2, id3.as_str(), "false_447700300001@c.us_PAIR4"] {
        assert_eq!(
            created.iter().filter(|w| **w == id).count(),
            1,
            "{id}: one message.created: {created:?}"
        );
    }
    assert_eq!(created.len(), 4, "{created:?}");
    let conv = s.conversation_for(chat).await;
    assert_eq!(s.messages(conv["id"].as_i64().unwrap()).await.len(), 4);
}
both!(message_pair_stores_one_in_either_order);

// ---------------------------------------------------------------- media

async fn media_message_keeps_url_type_and_name(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447700400001@c.us";
    let mut p = inbound_payload(chat, "false_447700400001@c.us_MEDIA1", "");
    p["hasMedia"] = json!(true);
    p["media"] = json!({"url": "http://waha.local/api/files/default/MEDIA1.pdf", "mimetype": "application/pdf",
                        "filename": "invoice-2024.pdf", "error": null});
    let (code, ack) = s.webhook(&envelope("message", p)).await;
    assert_eq!(code, 200, "{ack}");
    let m = ws
        .expect("message.created", |d| {
            d["waha_id"] == "false_447700400001@c.us_MEDIA1"
        })
        .await;
    let d = &m["data"];
    assert_eq!(d["text"], "", "{d}");
    assert_eq!(
        d["media"]["url"], "http://waha.local/api/files/default/MEDIA1.pdf",
        "{d}"
    );
    assert_eq!(d["media"]["mimetype"], "application/pdf", "{d}");
    assert_eq!(d["media"]["filename"], "invoice-2024.pdf", "{d}");

    // An image with a caption, the older `mediaUrl` field.
    let mut p = inbound_payload(chat, "false_447700400001@c.us_MEDIA2", "look at this");
    p["hasMedia"] = json!(true);
    p["mediaUrl"] = json!("http://waha.local/api/files/default/MEDIA2.jpeg");
    p["media"] = json!({"mimetype": "image/jpeg"});
    s.webhook(&envelope("message", p)).await;
    let m = ws
        .expect("message.created", |d| {
            d["waha_id"] == "false_447700400001@c.us_MEDIA2"
        })
        .await;
    assert_eq!(m["data"]["text"], "look at this");
    assert_eq!(
        m["data"]["media"]["url"], "http://waha.local/api/files/default/MEDIA2.jpeg",
        "{m}"
    );
    assert_eq!(m["data"]["media"]["mimetype"], "image/jpeg");

    // Through the simulator (message + message.any): one message with its media.
    let r = s
        .sim
        .control_created(
            "/sim/inbound",
            json!({"session": "default", "from": "447700400002@c.us", "body": "",
                   "media": {"mimetype": "image/png", "filename": "screenshot.png"}}),
        )
        .await;
    let wid = r["id"].as_str().unwrap().to_string();
    let m = ws
        .expect("message.created", |d| d["waha_id"] == wid.as_str())
        .await;
    assert_eq!(m["data"]["media"]["mimetype"], "image/png", "{m}");
    assert_eq!(m["data"]["media"]["filename"], "screenshot.png", "{m}");
    assert!(
        m["data"]["media"]["url"]
            .as_str()
            .is_some_and(|u| !u.is_empty()),
        "the simulator serves a URL: {m}"
    );
    let rest = ws.drain(Duration::from_millis(1000)).await;
    assert!(
        !rest.iter().any(|f| f["type"] == "message.created"),
        "{rest:?}"
    );
    let http = s.get(&format!("/api/messages/{}", m["data"]["id"])).await.1;
    assert_eq!(http, m["data"], "HTTP and websocket agree");
}
both!(media_message_keeps_url_type_and_name);

// ---------------------------------------------------------------- groups

async fn group_messages_share_one_conversation(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let group = "120363000000000001@g.us";
    let members = [("447700500001@c.us", "Alice"), ("447700500002@c.us", "Bob")];
    let mut ids = Vec::new();
    for (i, (member, name)) in members.iter().enumerate() {
        let r = s
            .sim
            .control_created(
                "/sim/inbound",
                json!({"session": "default", "from": group, "participant": member, "notify_name": name,
                       "body": format!("hi from {name} #{i}")}),
            )
            .await;
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    // A group message posted directly, WEBJS id with the participant suffix.
    let mut p = inbound_payload(
        group,
        "false_120363000000000001@g.us_GRP3_447700500001@c.us",
        "again Alice",
    );
    p["participant"] = json!("447700500001@c.us");
    p["_data"] = json!({"notifyName": "Alice"});
    s.webhook(&envelope("message", p)).await;
    ids.push("false_120363000000000001@g.us_GRP3_447700500001@c.us".into());

    // They may arrive in any order.
    let frames = ws
        .collect_until(Duration::from_secs(15), |f| {
            ids.iter().all(|id| {
                f.iter()
                    .any(|x| x["type"] == "message.created" && x["data"]["waha_id"] == id.as_str())
            })
        })
        .await;
    let mut by_id = std::collections::HashMap::new();
    for f in frames.iter().filter(|f| f["type"] == "message.created") {
        let id = f["data"]["waha_id"].as_str().unwrap().to_string();
        assert!(
            by_id.insert(id, f["data"].clone()).is_none(),
            "two message.created for one message: {frames:?}"
        );
    }
    assert!(
        ids.iter().all(|id| by_id.contains_key(id)),
        "missing messages: {ids:?} vs {frames:?}"
    );
    let conv_ids: std::collections::HashSet<_> = by_id
        .values()
        .map(|d| d["conversation_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        conv_ids.len(),
        1,
        "one conversation per group chat: {by_id:?}"
    );
    assert_eq!(by_id[&ids[0]]["sender"], "447700500001@c.us");
    assert_eq!(by_id[&ids[0]]["sender_name"], "Alice");
    assert_eq!(by_id[&ids[1]]["sender"], "447700500002@c.us");
    assert_eq!(by_id[&ids[1]]["sender_name"], "Bob");
    assert_eq!(by_id[&ids[2]]["sender"], "447700500001@c.us");
    let conv = s.conversation_for(group).await;
    assert_eq!(conv["is_group"], true, "{conv}");
    assert_ne!(
        conv["title"], "Alice",
        "a group is not named after a member: {conv}"
    );
    assert_ne!(
        conv["title"], "Bob",
        "a group is not named after a member: {conv}"
    );
    assert_eq!(s.messages(conv["id"].as_i64().unwrap()).await.len(), 3);
    let convs = s.conversations().await;
    assert!(
        !convs
            .iter()
            .any(|c| c["chat_id"] == members[0].0 || c["chat_id"] == members[1].0),
        "members' group messages must not open 1:1 conversations: {convs:?}"
    );
}
both!(group_messages_share_one_conversation);

// ---------------------------------------------------------------- reactions and revokes

fn reaction(chat: &str, target: &str, text: &str, n: u32) -> Value {
    json!({"id": format!("false_{chat}_REACT{n}"), "timestamp": now_ms() / 1000, "from": chat, "to": ME,
           "fromMe": false, "participant": null, "body": "", "hasMedia": false,
           "reaction": {"text": text, "messageId": target}})
}

async fn reactions_and_revokes_update_the_message(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447700600001@c.us";
    let target = s.customer_writes(chat, "react to me").await;
    let created = ws
        .expect("message.created", |d| d["waha_id"] == target.as_str())
        .await;
    let msg_id = created["data"]["id"].clone();

    let add = envelope("message.reaction", reaction(chat, &target, "👍", 1));
    assert_eq!(s.webhook(&add).await.0, 200);
    let up = ws.expect("message.updated", |d| d["id"] == msg_id).await;
    assert_eq!(
        up["data"]["reactions"],
        json!([{"sender": chat, "emoji": "👍"}]),
        "{up}"
    );
    // The same reaction again (a retry under another envelope id): no change, no event.
    assert_eq!(
        s.webhook(&envelope(
            "message.reaction",
            reaction(chat, &target, "👍", 1)
        ))
        .await
        .0,
        200
    );
    // Changed to another emoji: replaces, not adds.
    assert_eq!(
        s.webhook(&envelope(
            "message.reaction",
            reaction(chat, &target, "❤️", 2)
        ))
        .await
        .0,
        200
    );
    let up = ws.expect("message.updated", |d| d["id"] == msg_id).await;
    assert_eq!(
        up["data"]["reactions"],
        json!([{"sender": chat, "emoji": "❤️"}]),
        "a duplicate reaction made an event, or a change added instead of replacing: {up}"
    );
    // Empty text removes it.
    assert_eq!(
        s.webhook(&envelope(
            "message.reaction",
            reaction(chat, &target, "", 3)
        ))
        .await
        .0,
        200
    );
    let up = ws.expect("message.updated", |d| d["id"] == msg_id).await;
    assert_eq!(up["data"]["reactions"], json!([]), "{up}");
    let http = s.get(&format!("/api/messages/{msg_id}")).await.1;
    assert_eq!(http["reactions"], json!([]), "{http}");
    assert_eq!(http["revoked"], false, "{http}");

    // Revoked, newer shape.
    let before = inbound_payload(chat, &target, "react to me");
    let revoke = json!({"revokedMessageId": target, "before": before,
                        "after": {"id": format!("false_{chat}_REVOKEMSG1"), "from": chat, "to": ME, "fromMe": false, "body": ""}});
    assert_eq!(
        s.webhook(&envelope("message.revoked", revoke.clone()))
            .await
            .0,
        200
    );
    let up = ws.expect("message.updated", |d| d["id"] == msg_id).await;
    assert_eq!(up["data"]["revoked"], true, "{up}");
    // Again: nothing new.
    assert_eq!(s.webhook(&envelope("message.revoked", revoke)).await.0, 200);
    let http = s.get(&format!("/api/messages/{msg_id}")).await.1;
    assert_eq!(http["revoked"], true, "{http}");

    // Revoked, older shape (only `before`).
    let second = s.customer_writes(chat, "delete me").await;
    let created = ws
        .expect("message.created", |d| d["waha_id"] == second.as_str())
        .await;
    let second_id = created["data"]["id"].clone();
    let older = json!({"before": inbound_payload(chat, &second, "delete me"), "after": null});
    assert_eq!(s.webhook(&envelope("message.revoked", older)).await.0, 200);
    let up = ws.expect("message.updated", |d| d["id"] == second_id).await;
    assert_eq!(up["data"]["revoked"], true, "{up}");

    let rest = ws.drain(Duration::from_millis(1000)).await;
    let extra: Vec<_> = rest
        .iter()
        .filter(|f| f["type"] == "message.updated")
        .collect();
    assert!(
        extra.is_empty(),
        "repeated reactions/revokes must not make events: {extra:?}"
    );
}
both!(reactions_and_revokes_update_the_message);

// ---------------------------------------------------------------- session.status

async fn session_status_reaches_agents_and_api(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let (code, r) = s
        .sim
        .control(
            "/sim/sessions/default/status",
            json!({"status": "SCAN_QR_CODE"}),
        )
        .await;
    assert!((200..300).contains(&code), "{r}");
    let f = ws
        .expect("session.status", |d| d["status"] == "SCAN_QR_CODE")
        .await;
    assert_eq!(f["data"]["session"], "default", "{f}");
    s.wait_session_status("default", "SCAN_QR_CODE").await;

    let (code, r) = s
        .sim
        .control("/sim/sessions/default/status", json!({"status": "WORKING"}))
        .await;
    assert!((200..300).contains(&code), "{r}");
    ws.expect("session.status", |d| {
        d["status"] == "WORKING" && d["session"] == "default"
    })
    .await;
    s.wait_session_status("default", "WORKING").await;

    // Posted directly too, WAHA's shape.
    let (code, ack) = s
        .webhook(&envelope(
            "session.status",
            json!({"name": "default", "status": "FAILED"}),
        ))
        .await;
    assert_eq!(code, 200, "{ack}");
    ws.expect("session.status", |d| {
        d["status"] == "FAILED" && d["session"] == "default"
    })
    .await;
    let (_, sess) = s.get("/api/sessions/default").await;
    assert_eq!(sess["status"], "FAILED", "{sess}");
}
both!(session_status_reaches_agents_and_api);

// ---------------------------------------------------------------- typed on the phone

async fn phone_typed_reply_is_stored_as_outbound(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447700700001@c.us";
    let inbound = s.customer_writes(chat, "anyone there?").await;
    let first = ws
        .expect("message.created", |d| d["waha_id"] == inbound.as_str())
        .await;
    let conv_id = first["data"]["conversation_id"].clone();

    let id = "true_447700700001@c.us_PHONE1";
    let p = json!({"id": id, "timestamp": now_ms() / 1000, "from": ME, "to": chat, "fromMe": true, "source": "app",
                   "body": "Yes! Typed on the phone.", "hasMedia": false, "ack": 1, "ackName": "SERVER", "_data": {}});
    let (code, ack) = s.webhook(&envelope("message.any", p.clone())).await;
    assert_eq!(code, 200, "{ack}");
    let m = ws.expect("message.created", |d| d["waha_id"] == id).await;
    let d = &m["data"];
    assert_eq!(d["direction"], "out", "{d}");
    assert_eq!(d["text"], "Yes! Typed on the phone.");
    assert_eq!(
        d["conversation_id"], conv_id,
        "it belongs to the customer's conversation, not the business's own chat"
    );
    assert_eq!(d["status"], "sent", "{d}");
    // Delivered twice: still one.
    s.webhook(&envelope("message.any", p)).await;
    let rest = ws.drain(Duration::from_millis(1000)).await;
    assert!(
        !rest.iter().any(|f| f["type"] == "message.created"),
        "{rest:?}"
    );
    let msgs = s.messages(conv_id.as_i64().unwrap()).await;
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0]["waha_id"], id, "newest first: {msgs:?}");
    let convs = s.conversations().await;
    assert!(
        !convs.iter().any(|c| c["chat_id"] == ME),
        "no conversation with the business itself: {convs:?}"
    );
}
both!(phone_typed_reply_is_stored_as_outbound);

// ---------------------------------------------------------------- presence.update

async fn customer_typing_is_ephemeral(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447700800001@c.us";
    let inbound = s.customer_writes(chat, "let me think").await;
    let created = ws
        .expect("message.created", |d| d["waha_id"] == inbound.as_str())
        .await;
    let conv_id = created["data"]["conversation_id"].clone();
    let before = ws.last_seq;

    let p = json!({"id": chat, "presences": [{"participant": chat, "lastKnownPresence": "typing", "lastSeen": null}]});
    let (code, ack) = s.webhook(&envelope("presence.update", p)).await;
    assert_eq!(code, 200, "{ack}");
    let t = ws
        .expect("typing", |d| d["conversation_id"] == conv_id)
        .await;
    assert!(t["seq"].is_null(), "typing is ephemeral: seq null: {t}");
    assert_eq!(t["data"]["who"], "contact", "{t}");
    assert_eq!(t["data"]["state"], "typing", "{t}");

    // Not in the log: a replay from before it has no typing frame.
    let mut replay = s.socket(Some(before - 1)).await;
    let frames = replay.drain(Duration::from_millis(1000)).await;
    assert!(
        !frames.iter().any(|f| f["type"] == "typing"),
        "typing was replayed: {frames:?}"
    );
}
both!(customer_typing_is_ephemeral);
