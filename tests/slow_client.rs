//! A websocket client that cannot keep up is closed with a reason and loses nothing: it
//! resumes with `since` (contract §3, DESIGN rule 5).

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{envelope, inbound_payload, Backend, Options, Setup};
use futures_util::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

async fn slow_client_is_cut_off_and_resumes(b: Backend) {
    let opts = Options {
        env: vec![("TICKHUB_WS_OUTBOX".into(), "4".into())],
        ..Default::default()
    };
    let s = Setup::with(b, opts).await;
    let url = format!(
        "{}/ws?token={}",
        s.hub.url.replacen("http://", "ws://", 1),
        s.token
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    // What the hub sends begins after hello: a webhook before it may be older than the
    // stream (it would come only through a `since` from before it).
    let hello = tokio::time::timeout(Duration::from_secs(20), ws.next())
        .await
        .expect("hello in time")
        .expect("a frame")
        .expect("readable");
    let hello: Value = serde_json::from_str(hello.to_text().expect("text")).expect("JSON");
    assert_eq!(hello["type"], "hello", "{hello}");

    // Big messages fill the socket's buffers quickly while this client reads nothing.
    let filler = "x".repeat(16 * 1024);
    let mut sent = HashSet::new();
    for i in 0..1200 {
        let id = format!("false_447700000009@c.us_SLOW{i:05}");
        let body = envelope(
            "message",
            inbound_payload("447700000009@c.us", &id, &format!("{i} {filler}")),
        );
        let (code, ack) = s.webhook(&body).await;
        assert_eq!(code, 200, "{ack}");
        sent.insert(id);
    }

    // Now read: what was buffered, then the close frame with its reason.
    let mut seen = HashSet::new();
    let mut last_seq = 0i64;
    let mut reason = None;
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(20), ws.next()).await {
        match msg {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if let Some(seq) = v["seq"].as_i64() {
                    last_seq = last_seq.max(seq);
                }
                if v["type"] == "message.created" {
                    seen.insert(v["data"]["waha_id"].as_str().unwrap().to_string());
                }
            }
            Ok(Message::Close(frame)) => {
                reason = frame.map(|f| f.reason.to_string());
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    let reason = reason.expect("the hub closes a slow socket with a close frame");
    assert!(
        reason.starts_with("too slow: resume with since="),
        "reason: {reason}"
    );
    let since: i64 = reason.rsplit('=').next().unwrap().parse().unwrap();
    assert!(
        since <= last_seq,
        "the hub may only claim what it wrote: since={since}, read up to {last_seq}"
    );
    assert!(
        seen.len() < sent.len(),
        "the client was cut off before it had everything"
    );

    // Resume: exactly the rest, no duplicates. A message sent after the resume marks the
    // end: the replay comes before it, so once it arrives nothing else is owed.
    let mut again = s.socket(Some(since)).await;
    let marker = "false_447700000009@c.us_SLOWMARKER".to_string();
    let body = envelope(
        "message",
        inbound_payload("447700000009@c.us", &marker, "marker"),
    );
    let (code, ack) = s.webhook(&body).await;
    assert_eq!(code, 200, "{ack}");
    let mut resumed = Vec::new();
    loop {
        let v = again
            .next(Duration::from_secs(60))
            .await
            .expect("the replay and then the marker arrive");
        if v["type"] != "message.created" {
            continue;
        }
        let id = v["data"]["waha_id"].as_str().unwrap().to_string();
        if id == marker {
            break;
        }
        resumed.push(id);
    }
    for id in &resumed {
        assert!(sent.contains(id), "unexpected message {id}");
    }
    let resumed_set: HashSet<_> = resumed.iter().cloned().collect();
    assert_eq!(resumed_set.len(), resumed.len(), "no duplicates on replay");
    assert!(
        seen.is_disjoint(&resumed_set),
        "nothing the client had is sent again"
    );
    let all: HashSet<_> = seen.union(&resumed_set).cloned().collect();
    assert_eq!(
        all.len(),
        sent.len(),
        "nothing lost: every message arrives once across the two sockets"
    );
}
both!(slow_client_is_cut_off_and_resumes);
