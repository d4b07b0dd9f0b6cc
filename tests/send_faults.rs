//! Contract §2 when WAHA's answer to a send says nothing about the send: refused with 500
//! before anything went out, sent to the customer and then answered 500, or sent and then
//! held past the hub's timeout. Whatever the answer, a reply reaches the customer exactly
//! once and ends sent or later, never failed.

mod common;

use std::time::Duration;

use common::{Backend, Options, Setup, Socket};
use serde_json::{json, Value};

/// The hub's WAHA timeout in these tests; a held send answers long after it.
const WAHA_TIMEOUT_MS: u64 = 1_000;
const HANG_MS: u64 = 60_000;
/// Long enough for the hub's retries (backoff 0.5 s, 1 s, …) and WAHA's acks, short of
/// `HANG_MS` and of the default 15 s timeout: a hub that waited for a held answer, or
/// ignored `TICKHUB_WAHA_TIMEOUT_MS`, fails here instead of passing late.
const SETTLE: Duration = Duration::from_secs(10);

const AT_LEAST_SENT: [&str; 4] = ["sent", "delivered", "read", "played"];

async fn setup(b: Backend) -> Setup {
    let opts = Options {
        env: vec![(
            "TICKHUB_WAHA_TIMEOUT_MS".into(),
            WAHA_TIMEOUT_MS.to_string(),
        )],
        ..Default::default()
    };
    Setup::with(b, opts).await
}

/// A customer writes; returns the conversation id once the agent saw the message.
async fn open_conversation(s: &Setup, ws: &mut Socket, chat: &str) -> i64 {
    let id = s
        .customer_writes(chat, "Hello, is my parcel on its way?")
        .await;
    let f = ws
        .expect("message.created", |d| d["waha_id"] == id.as_str())
        .await;
    f["data"]["conversation_id"]
        .as_i64()
        .expect("conversation id")
}

async fn reply(s: &Setup, conv: i64, text: &str) -> Value {
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    m
}

/// Waits until message `id` has a status in `want`; a `failed` on the way fails the test.
async fn wait_status(s: &Setup, id: &Value, want: &[&str]) -> Value {
    s.eventually_within(&format!("/api/messages/{id}"), SETTLE, |m| {
        assert_ne!(m["status"], "failed", "the reply failed: {m}");
        want.iter().any(|w| m["status"] == *w)
    })
    .await
}

/// Arms `fault` in the simulator, has an agent reply, and checks the customer got the
/// reply once. `armed` is the fault's counter in the simulator's answer.
async fn reply_reaches_customer_once(b: Backend, chat: &str, fault: Value, armed: &str) {
    let s = setup(b).await;
    let mut ws = s.socket(None).await;
    let conv = open_conversation(&s, &mut ws, chat).await;
    let (code, left) = s.sim.control("/sim/faults", fault.clone()).await;
    assert_eq!(code, 200, "{left}");
    assert!(left[armed].as_u64() > Some(0), "{fault} not armed: {left}");

    let text = format!("Your parcel is on its way ({armed})");
    let m = reply(&s, conv, &text).await;
    wait_status(&s, &m["id"], &AT_LEAST_SENT).await;

    // A chat's replies go out one at a time, in order: once a later one has gone out,
    // the hub is done with the first, including any retry of it.
    let marker = format!("Anything else? ({armed})");
    reply(&s, conv, &marker).await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while s.sim.sent_with(&marker).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reply after the faulted one never went out within {SETTLE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let sends = s.sim.sent_with(&text).await;
    assert_eq!(sends.len(), 1, "the customer got it once: {sends:?}");
    let (_, left) = s.sim.control("/sim/faults", json!({})).await;
    assert_eq!(left[armed], 0, "every armed fault was met: {left}");
    // WAHA acks it to READ as any send; the status only moves forward to there.
    let final_ = wait_status(&s, &m["id"], &["read"]).await;
    assert_eq!(final_["waha_id"], sends[0]["id"], "{final_}");
    assert_eq!(
        s.messages(conv)
            .await
            .iter()
            .filter(|x| x["text"] == text.as_str())
            .count(),
        1,
        "stored once"
    );
}

async fn refused_before_sending_is_retried_and_sent_once(b: Backend) {
    let fault = json!({"send_fail": 2, "send_fail_status": 500});
    reply_reaches_customer_once(b, "447702000001@c.us", fault, "send_fail").await;
}
both!(refused_before_sending_is_retried_and_sent_once);

async fn sent_then_500_is_not_sent_again(b: Backend) {
    let fault = json!({"send_fail_after": 1});
    reply_reaches_customer_once(b, "447702000002@c.us", fault, "send_fail_after").await;
}
both!(sent_then_500_is_not_sent_again);

async fn sent_then_timed_out_is_not_sent_again(b: Backend) {
    let fault = json!({"send_hang": 1, "send_hang_ms": HANG_MS});
    reply_reaches_customer_once(b, "447702000003@c.us", fault, "send_hang").await;
}
both!(sent_then_timed_out_is_not_sent_again);

/// A send WAHA holds up holds up its own chat only: another chat's reply goes out
/// meanwhile, and the held chat's next reply waits for the held one (a chat's order).
async fn a_held_send_holds_up_only_its_chat(b: Backend) {
    let s = setup(b).await;
    let mut ws = s.socket(None).await;
    let (a, b_chat) = ("447702000011@c.us", "447702000012@c.us");
    let conv_a = open_conversation(&s, &mut ws, a).await;
    let conv_b = open_conversation(&s, &mut ws, b_chat).await;
    let (code, left) = s
        .sim
        .control(
            "/sim/faults",
            json!({"send_hang": 1, "send_hang_ms": HANG_MS}),
        )
        .await;
    assert_eq!(code, 200, "{left}");
    let first = reply(&s, conv_a, "A1 (held)").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while s.sim.sent_with("A1 (held)").await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "A1 never reached WAHA"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = reply(&s, conv_a, "A2").await;
    let other = reply(&s, conv_b, "B1").await;
    wait_status(&s, &other["id"], &AT_LEAST_SENT).await;
    wait_status(&s, &second["id"], &AT_LEAST_SENT).await;
    wait_status(&s, &first["id"], &AT_LEAST_SENT).await;
    let order: Vec<String> = s
        .sim
        .sent()
        .await
        .into_iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .filter(|t| ["A1 (held)", "A2", "B1"].contains(&t.as_str()))
        .collect();
    assert_eq!(
        order,
        ["A1 (held)", "B1", "A2"],
        "B1 did not wait for A1; A2 did"
    );
}
both!(a_held_send_holds_up_only_its_chat);
