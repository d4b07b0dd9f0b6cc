//! The pieces every inbound message goes through, timed alone so a regression shows without
//! a load test (issue 16): the WAHA webhook body parsed and translated into the domain's
//! `Inbound` (and its HMAC checked), the `message.created` frame encoded once for every
//! socket, and the visibility filter each socket applies to it. Trigger matching has its own
//! bench (`bot_matching`).
//!
//! `cargo bench --bench hot_path`; `tests/benches.rs` runs each case once in the normal
//! test run, so the file keeps compiling and the cases keep meaning what they say.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tickhub::domain::access::{EventFilter, SessionAccess, Viewer};
use tickhub::domain::audit::Origin;
use tickhub::domain::event::{encode, frame};
use tickhub::domain::{AckStatus, Change, Direction, EventKind, EventScope, Inbound, Role};
use tickhub::store::messages::Message;
use tickhub::waha::events::translate;
use tickhub::waha::webhook::Envelope;

const HMAC_KEY: &[u8] = b"bench-hmac-key";

/// A `message` webhook as WAHA (WEBJS) posts it, the same shape as the load test's.
pub fn webhook_body(k: u64) -> Vec<u8> {
    serde_json::json!({
        "id": format!("evt_01jf{k:020}"),
        "timestamp": 1_765_000_000_000u64 + k,
        "event": "message",
        "session": "default",
        "engine": "WEBJS",
        "me": {"id": "5511999990000@c.us", "pushName": "Acme Store"},
        "environment": {"version": "2025.1.1", "engine": "WEBJS", "tier": "PLUS"},
        "payload": {
            "id": format!("false_5511910004243@c.us_3EB0{k:016X}"),
            "timestamp": 1_765_000_000u64 + k,
            "from": "5511910004243@c.us",
            "fromMe": false,
            "to": "5511999990000@c.us",
            "body": "Hi, I ordered the backpack last week, order #482913, when will it arrive?",
            "hasMedia": false,
            "ack": 1,
            "_data": {"notifyName": "Maria Silva"}
        }
    })
    .to_string()
    .into_bytes()
}

/// What the webhook handler does with a body once it is read: parse, then translate.
pub fn parse_webhook(body: &[u8]) -> Inbound {
    let env: Envelope = serde_json::from_slice(body).expect("a WAHA body");
    translate(&env)
}

/// A stored inbound message as `message.created` carries it.
pub fn message(id: i64) -> Message {
    Message {
        id,
        conversation_id: 48_213,
        session: "default".into(),
        direction: Direction::In,
        text: "Hi, I ordered the backpack last week, order #482913, when will it arrive?".into(),
        waha_id: Some(format!("false_5511910004243@c.us_3EB0{id:016X}")),
        status: AckStatus::Delivered,
        sender: Some("5511910004243@c.us".into()),
        sender_name: Some("Maria Silva".into()),
        media: None,
        created_at: 1_765_000_000_000,
        client_id: None,
        author_id: None,
        bot_id: None,
        bot_name: None,
        revoked: false,
        reactions: Vec::new(),
    }
}

/// Encoded once when logged, framed once for every socket.
pub fn encode_frame(m: &Message, seq: i64) -> tickhub::domain::event::FrameText {
    let data = encode(m).expect("a message encodes");
    frame(EventKind::MessageCreated, Some(seq), &data)
}

/// 50 sockets as a team has them: 2 admins, 8 managers of one or two sessions, 40 agents
/// of one session (the filters the fan-out holds, one per socket).
pub fn team_filters() -> Vec<EventFilter> {
    (0..50)
        .map(|i| {
            let (role, sessions) = match i {
                0..=1 => (Role::Admin, SessionAccess::All),
                2..=9 => (Role::Manager, SessionAccess::Only(vec![1 + i % 2, 3])),
                _ => (Role::Agent, SessionAccess::Only(vec![1 + i % 4])),
            };
            Viewer {
                user_id: i + 1,
                role,
                sessions,
                origin: Origin::system(),
            }
            .events()
        })
        .collect()
}

/// How many of `filters` let through each of `scopes` (what one delivery decides).
pub fn visible(filters: &[EventFilter], scopes: &[EventScope]) -> usize {
    scopes
        .iter()
        .map(|s| filters.iter().filter(|f| f.matches(s)).count())
        .sum()
}

/// Conversation events of sessions 1..4, assigned to nobody or to one of the agents.
pub fn scopes() -> Vec<EventScope> {
    (0..64)
        .map(|i| EventScope::conversation(1 + i % 4, 1000 + i, (i % 3 != 0).then_some(11 + i % 40)))
        .collect()
}

/// Each case once, with what it must give (the test run's check of this file).
pub fn check() {
    let body = webhook_body(7);
    match parse_webhook(&body).change {
        Change::Message(m) => assert_eq!(m.chat.as_str(), "5511910004243@c.us"),
        other => panic!("a message webhook translated to {other:?}"),
    }
    assert!(tickhub::waha::hmac::verify(
        HMAC_KEY,
        &body,
        &tickhub::waha::hmac::sign(HMAC_KEY, &body)
    ));
    let f = encode_frame(&message(9), 41);
    assert!(
        f.starts_with(r#"{"type":"message.created","seq":41,"data":{"id":9,"#),
        "{f}"
    );
    let (filters, scopes) = (team_filters(), scopes());
    let n = visible(&filters, &scopes);
    assert!(
        n > 2 * scopes.len() && n < filters.len() * scopes.len(),
        "{n}"
    );
}

fn bench(c: &mut Criterion) {
    let body = webhook_body(7);
    let mut g = c.benchmark_group("webhook");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_and_translate", |b| {
        b.iter(|| parse_webhook(black_box(&body)))
    });
    let sig = tickhub::waha::hmac::sign(HMAC_KEY, &body);
    g.bench_function("hmac_sha512_verify", |b| {
        b.iter(|| tickhub::waha::hmac::verify(HMAC_KEY, black_box(&body), black_box(&sig)))
    });
    g.finish();

    let m = message(9);
    let mut g = c.benchmark_group("frame");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode_message_created", |b| {
        b.iter(|| encode_frame(black_box(&m), 41))
    });
    g.finish();

    let (filters, scopes) = (team_filters(), scopes());
    let mut g = c.benchmark_group("visibility");
    // one element = one (socket, event) decision
    g.throughput(Throughput::Elements((filters.len() * scopes.len()) as u64));
    g.bench_function("50_sockets_x_64_events", |b| {
        b.iter(|| visible(black_box(&filters), black_box(&scopes)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
