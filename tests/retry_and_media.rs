//! `POST /api/messages/{id}/retry`: a send WAHA refused for good goes out again, once,
//! under the reply rule; and `GET /api/messages/{id}/media`: a message's file streamed
//! from WAHA with its key, never from anywhere else.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{assert_error, envelope, inbound_payload, Backend, Options, Setup, Socket};
use serde_json::{json, Value};

const SETTLE: Duration = Duration::from_secs(10);

/// A customer writes from `chat`; answers the conversation id once the admin saw it.
async fn open_conversation(s: &Setup, ws: &mut Socket, chat: &str) -> i64 {
    let id = s.customer_writes(chat, "Hello, anyone there?").await;
    let f = ws
        .expect("message.created", |d| d["waha_id"] == id.as_str())
        .await;
    f["data"]["conversation_id"].as_i64().expect("conversation")
}

/// Has WAHA refuse the next send for good (400), replies `text` as the admin, and waits
/// until the message is `failed`.
async fn failed_reply(s: &Setup, conv: i64, text: &str) -> Value {
    let (code, left) = s
        .sim
        .control(
            "/sim/faults",
            json!({"send_fail": 1, "send_fail_status": 400}),
        )
        .await;
    assert_eq!(code, 200, "{left}");
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    s.eventually_within(&format!("/api/messages/{}", m["id"]), SETTLE, |x| {
        x["status"] == "failed"
    })
    .await
}

async fn wait_read(s: &Setup, id: &Value) -> Value {
    s.eventually_within(&format!("/api/messages/{id}"), SETTLE, |m| {
        m["status"] == "read"
    })
    .await
}

/// Replies `marker` and waits until WAHA sent it: a chat's sends go in order, so the hub
/// is done with everything before it (a second send of an earlier one included).
async fn settle_chat(s: &Setup, conv: i64, marker: &str) {
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": marker}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    let deadline = tokio::time::Instant::now() + SETTLE;
    while s.sim.sent_with(marker).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{marker} never went"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_failed_send_goes_again_once(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let conv = open_conversation(&s, &mut ws, "447703000001@c.us").await;
    let text = "Your refund is on its way";
    let failed = failed_reply(&s, conv, text).await;
    let id = failed["id"].clone();
    ws.expect("message.updated", |d| {
        d["id"] == id && d["status"] == "failed"
    })
    .await;
    assert!(s.sim.sent_with(text).await.is_empty(), "refused, not sent");
    let retry = format!("/api/messages/{id}/retry");

    let (code, again) = s.post(&retry, json!({})).await;
    assert_eq!(code, 200, "{again}");
    assert_eq!(again["id"], id);
    assert_eq!(again["status"], "pending");
    assert_eq!(again["text"], text);
    ws.expect("message.updated", |d| {
        d["id"] == id && d["status"] == "pending"
    })
    .await;
    let done = wait_read(&s, &id).await;
    let sends = s.sim.sent_with(text).await;
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(done["waha_id"], sends[0]["id"], "{done}");
    assert_eq!(
        s.messages(conv)
            .await
            .iter()
            .filter(|m| m["text"] == text)
            .count(),
        1,
        "the same message, not a new one"
    );

    // Only an outbound message that failed goes again.
    let (code, r) = s.post(&retry, json!({})).await;
    assert_eq!(code, 409, "a message that went: {r}");
    let inbound = s
        .messages(conv)
        .await
        .into_iter()
        .find(|m| m["direction"] == "in")
        .expect("the customer's message");
    assert_error(
        "an inbound message",
        s.post(&format!("/api/messages/{}/retry", inbound["id"]), json!({}))
            .await,
        409,
    );
    assert_error(
        "no such message",
        s.post("/api/messages/999999/retry", json!({})).await,
        404,
    );
    settle_chat(&s, conv, "Anything else?").await;
    assert_eq!(s.sim.sent_with(text).await.len(), 1, "still once");

    // The retry is in the audit log, without the text.
    let (_, log) = s
        .get(&format!(
            "/api/audit-log?action=message.retry&target_id={id}"
        ))
        .await;
    let items = log["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{log}");
    assert_eq!(items[0]["after"], json!({"conversation_id": conv}));
}
both!(a_failed_send_goes_again_once);

async fn two_retries_at_once_send_once(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let conv = open_conversation(&s, &mut ws, "447703000002@c.us").await;
    let text = "Sorry for the wait";
    let failed = failed_reply(&s, conv, text).await;
    let retry = format!("/api/messages/{}/retry", failed["id"]);
    let (a, b2) = tokio::join!(s.post(&retry, json!({})), s.post(&retry, json!({})));
    let mut codes = [a.0, b2.0];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{a:?} {b2:?}");
    wait_read(&s, &failed["id"]).await;
    settle_chat(&s, conv, "Is there anything else?").await;
    assert_eq!(s.sim.sent_with(text).await.len(), 1);
}
both!(two_retries_at_once_send_once);

/// WAHA sent it and then said it failed (a 4xx after sending): the retry finds the
/// message in WAHA by its reserved id and records it sent, without a second send.
async fn a_retry_of_a_send_that_went_out_is_not_sent_again(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let conv = open_conversation(&s, &mut ws, "447703000004@c.us").await;
    let (code, left) = s
        .sim
        .control(
            "/sim/faults",
            json!({"send_fail_after": 1, "send_fail_after_status": 400}),
        )
        .await;
    assert_eq!(code, 200, "{left}");
    let text = "Your table is booked";
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    let failed = s
        .eventually_within(&format!("/api/messages/{}", m["id"]), SETTLE, |x| {
            x["status"] == "failed"
        })
        .await;
    assert_eq!(s.sim.sent_with(text).await.len(), 1, "it went out");
    let (code, again) = s
        .post(&format!("/api/messages/{}/retry", m["id"]), json!({}))
        .await;
    assert_eq!(code, 200, "{again}");
    // Recorded sent; the simulator's acks may already have taken it further.
    let sent = s
        .eventually_within(&format!("/api/messages/{}", m["id"]), SETTLE, |x| {
            ["sent", "delivered", "read"].contains(&x["status"].as_str().unwrap_or(""))
        })
        .await;
    assert_eq!(sent["waha_id"], failed["waha_id"], "{sent}");
    settle_chat(&s, conv, "See you at eight").await;
    assert_eq!(s.sim.sent_with(text).await.len(), 1, "not sent twice");
}
both!(a_retry_of_a_send_that_went_out_is_not_sent_again);

async fn a_retry_follows_the_reply_rule(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let mut ws = s.socket(None).await;
    let agent = s.member("agent@retry.test", "agent", &["default"]).await;
    let colleague = s.member("zed@retry.test", "agent", &["default"]).await;
    let marketing = s.member("mk@retry.test", "marketing", &["default"]).await;
    let conv = open_conversation(&s, &mut ws, "447703000003@c.us").await;
    let failed = failed_reply(&s, conv, "We will call you").await;
    let retry = format!("/api/messages/{}/retry", failed["id"]);
    let assign = |to: i64| {
        let s = &s;
        async move {
            let (code, r) = s
                .post(
                    &format!("/api/conversations/{conv}/assign"),
                    json!({"assignee_id": to}),
                )
                .await;
            assert_eq!(code, 200, "{r}");
        }
    };

    let (code, r) = s
        .patch("/api/sessions/default", json!({"reply_policy": "assignee"}))
        .await;
    assert_eq!(code, 200, "{r}");
    // In the queue, only the assignee (nobody yet) and supervisors may reply.
    assert_error(
        "agent, queue, assignee-only",
        s.as_user(&agent.token, "POST", &retry, None).await,
        403,
    );
    assert_error(
        "marketing",
        s.as_user(&marketing.token, "POST", &retry, None).await,
        403,
    );
    assign(colleague.id).await;
    assert_error(
        "agent, a colleague's",
        s.as_user(&agent.token, "POST", &retry, None).await,
        404,
    );
    assign(agent.id).await;
    let (code, r) = s.as_user(&agent.token, "POST", &retry, None).await;
    assert_eq!(code, 200, "the assignee may: {r}");
    assert_eq!(r["status"], "pending");
    wait_read(&s, &failed["id"]).await;
    // What was refused changed nothing: one send.
    assert_eq!(s.sim.sent_with("We will call you").await.len(), 1);
}
both!(a_retry_follows_the_reply_rule);

const KEY: &str = "sim-secret-key";

/// GET `path` as the admin: status, headers, body.
async fn fetch(s: &Setup, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = s
        .http
        .get(format!("{}{path}", s.hub.url))
        .bearer_auth(&s.token)
        .send()
        .await
        .expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("body").to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The message a customer's webhook with `media` stored.
async fn message_with_media(s: &Setup, chat: &str, media: Value) -> Value {
    let n = common::now_ms();
    let mut payload = inbound_payload(chat, &format!("false_{chat}_{n}"), "");
    payload["hasMedia"] = json!(true);
    payload["media"] = media;
    let (code, r) = s.webhook(&envelope("message", payload)).await;
    assert_eq!(code, 200, "{r}");
    let conv = s.conversation_for(chat).await;
    s.messages(conv["id"].as_i64().expect("id")).await[0].clone()
}

async fn media_comes_from_waha_only(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: vec![("WAHA_API_KEY".into(), KEY.into())],
            sim_args: vec!["--api-key".into(), KEY.into()],
            ..Default::default()
        },
    )
    .await;
    let mut ws = s.socket(None).await;
    s.sim
        .control_created(
            "/sim/inbound",
            json!({"session": "default", "from": "447703000010@c.us", "body": "my receipt",
                "media": {"mimetype": "image/png", "filename": "receipt.png"}}),
        )
        .await;
    let created = ws
        .expect("message.created", |d| d["media"]["mimetype"] == "image/png")
        .await;
    let m = &created["data"];
    let url = m["media"]["url"].as_str().expect("a media url");
    let path = format!("/api/messages/{}/media", m["id"]);

    let (code, h, body) = fetch(&s, &path).await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(header(&h, "content-type"), "image/png");
    assert_eq!(header(&h, "cache-control"), "private, max-age=3600");
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(header(&h, "content-security-policy").contains("sandbox"));
    assert!(
        header(&h, "content-disposition").starts_with("inline; filename=\"receipt.png\""),
        "{h:?}"
    );
    // WAHA's very bytes, which it gives only with the key.
    let direct = reqwest::Client::new()
        .get(url)
        .header("X-Api-Key", KEY)
        .send()
        .await
        .expect("sim");
    assert_eq!(direct.bytes().await.expect("bytes").to_vec(), body);
    assert!(body.starts_with(b"\x89PNG"), "a PNG");
    let without_key = reqwest::get(url).await.expect("sim").status().as_u16();
    assert_eq!(without_key, 401, "the simulator wants its key");

    // Anything but a picture, a sound or a video is a download.
    let doc = message_with_media(
        &s,
        "447703000011@c.us",
        json!({"url": format!("{}/api/files/notes.txt", s.sim.url), "mimetype": "text/plain",
            "filename": "notes.txt"}),
    )
    .await;
    let (code, h, body) = fetch(&s, &format!("/api/messages/{}/media", doc["id"])).await;
    assert_eq!(code, 200);
    assert!(
        header(&h, "content-type").starts_with("text/plain"),
        "{h:?}"
    );
    assert!(
        header(&h, "content-disposition").starts_with("attachment"),
        "{h:?}"
    );
    assert_eq!(body, b"simulated file notes.txt\n");

    // No media, or a file WAHA no longer has: 404.
    s.customer_writes("447703000012@c.us", "just text").await;
    let conv = s.conversation_for("447703000012@c.us").await;
    let text_only = &s.messages(conv["id"].as_i64().expect("id")).await[0];
    let (code, _, _) = fetch(&s, &format!("/api/messages/{}/media", text_only["id"])).await;
    assert_eq!(code, 404, "a message without media");
    let gone = message_with_media(
        &s,
        "447703000013@c.us",
        json!({"url": format!("{}/api/files/expired", s.sim.url), "mimetype": "image/jpeg"}),
    )
    .await;
    let (code, _, body) = fetch(&s, &format!("/api/messages/{}/media", gone["id"])).await;
    assert_eq!(code, 404, "{}", String::from_utf8_lossy(&body));
    let (code, _, _) = fetch(&s, "/api/messages/999999/media").await;
    assert_eq!(code, 404);

    // A URL elsewhere is never called (SSRF), nor another of WAHA's endpoints.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let elsewhere = listener.local_addr().expect("addr");
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let watcher = tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    for (n, url) in [
        format!("http://{elsewhere}/api/files/a.png"),
        format!("{}/api/sessions", s.sim.url),
        format!("{}/api/files/../sessions?all=true", s.sim.url),
    ]
    .into_iter()
    .enumerate()
    {
        let m = message_with_media(
            &s,
            &format!("44770300002{n}@c.us"),
            json!({"url": url, "mimetype": "image/png"}),
        )
        .await;
        let (code, _, body) = fetch(&s, &format!("/api/messages/{}/media", m["id"])).await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(code, 404, "{url}: {body}");
        assert!(!body.contains("webhooks"), "WAHA's config leaked: {body}");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the hub called elsewhere");
    watcher.abort();

    // WAHA failing is a 502; back, the file is there again.
    let (code, r) = s
        .sim
        .control("/sim/restart", json!({"down_ms": 3000}))
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, _, body) = fetch(&s, &path).await;
    let err: Value = serde_json::from_slice(&body).unwrap_or_default();
    assert_eq!(code, 502, "{err}");
    assert_eq!(err["error"]["code"], "waha_error", "{err}");
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let (code, _, body) = fetch(&s, &path).await;
        if code == 200 {
            assert!(body.starts_with(b"\x89PNG"));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {code}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
both!(media_comes_from_waha_only);
