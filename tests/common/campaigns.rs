//! What the campaign tests share: a hub that sends fast, contacts, campaigns and their
//! lifecycle through the API.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Backend, Options, Setup};

/// How long a campaign may take to reach the state a test waits for.
pub const SETTLE: Duration = Duration::from_secs(60);

/// A hub whose sessions send fast (a session's rate caps a campaign's), its `default`
/// session not assigning conversations by itself.
pub async fn setup(b: Backend) -> Setup {
    let s = Setup::with(
        b,
        Options {
            env: vec![("TICKHUB_SEND_RATE".into(), "50".into())],
            ..Default::default()
        },
    )
    .await;
    s.auto_assign("default", false).await;
    s
}

/// A new contact of `session`: its id.
pub async fn contact_in(s: &Setup, session: &str, phone: &str, name: &str, tags: &[&str]) -> i64 {
    let (code, c) = s
        .post(
            "/api/contacts",
            json!({"session": session, "phone": phone, "name": name, "tags": tags}),
        )
        .await;
    assert_eq!(code, 201, "{c}");
    c["id"].as_i64().expect("contact id")
}

/// WhatsApp's chat id of a number.
pub fn chat(phone: &str) -> String {
    format!("{}@c.us", phone.trim_start_matches('+'))
}

/// A new campaign (201), as the hub answered it.
pub async fn campaign(s: &Setup, body: Value) -> Value {
    let (code, c) = s.post("/api/campaigns", body.clone()).await;
    assert_eq!(code, 201, "{body}: {c}");
    c
}

/// `POST /api/campaigns/{id}/{action}` (start, pause, resume, cancel), which must succeed.
pub async fn act(s: &Setup, id: &Value, action: &str) -> Value {
    let (code, c) = s
        .post(&format!("/api/campaigns/{id}/{action}"), json!({}))
        .await;
    assert_eq!(code, 200, "{action}: {c}");
    c
}

/// The campaign once `pred` holds of it (within [`SETTLE`]).
pub async fn wait_campaign(s: &Setup, id: &Value, pred: impl Fn(&Value) -> bool) -> Value {
    s.eventually_within(&format!("/api/campaigns/{id}"), SETTLE, pred)
        .await
}
