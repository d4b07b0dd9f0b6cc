//! The one access policy, end to end: what an agent and a marketer are refused over HTTP
//! and the websocket, and that lists and pushes leave out what they may not see. (The
//! whole matrix is unit-tested in `domain::access`, and walked end to end in
//! `tests/permissions.rs`.)

mod common;

use std::time::Duration;

use common::{envelope, inbound_payload, Backend, Setup, ADMIN_EMAIL};
use serde_json::{json, Value};

/// A member with `role` working in the session `default`, logged in; returns their
/// token and id.
async fn member(s: &Setup, email: &str, role: &str) -> (String, i64) {
    let m = s.member(email, role, &["default"]).await;
    let me = s.as_user(&m.token, "GET", "/api/auth/me", None).await;
    assert_eq!(me.1["role"], role, "{me:?}");
    (m.token, m.id)
}

async fn customer_writes(s: &Setup, chat: &str, id: &str, text: &str) {
    let (code, r) = s
        .webhook(&envelope("message", inbound_payload(chat, id, text)))
        .await;
    assert_eq!(code, 200, "{r}");
}

async fn the_policy_refuses_what_a_role_may_not_see_or_do(b: Backend) {
    let s = Setup::new(b).await;
    let admin_id = {
        let (_, me) = s.get("/api/auth/me").await;
        assert_eq!(me["email"], ADMIN_EMAIL);
        me["id"].as_i64().expect("id")
    };
    let (agent, agent_id) = member(&s, "agent@test.tickhub", "agent").await;
    let (marketer, _) = member(&s, "marketing@test.tickhub", "marketing").await;

    let theirs = "447700600001@c.us";
    let open = "447700600002@c.us";
    customer_writes(&s, theirs, "false_447700600001@c.us_A1", "for the admin").await;
    customer_writes(&s, open, "false_447700600002@c.us_B1", "for anyone").await;
    let hidden = s.conversation_for(theirs).await["id"].as_i64().expect("id");
    let visible = s.conversation_for(open).await["id"].as_i64().expect("id");
    let (code, r) = s
        .post(
            &format!("/api/conversations/{hidden}/assign"),
            json!({"assignee_id": admin_id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let hidden_msg = s.messages(hidden).await[0]["id"].as_i64().expect("id");

    // Lists leave out what the agent may not see; the admin sees both.
    let (code, list) = s.as_user(&agent, "GET", "/api/conversations", None).await;
    assert_eq!(code, 200, "{list}");
    let ids: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![visible], "{list}");
    assert_eq!(s.conversations().await.len(), 2);

    // A colleague's conversation does not exist for the agent, whatever it asks.
    let denied: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/api/conversations/{hidden}"), None),
        ("GET", format!("/api/conversations/{hidden}/messages"), None),
        (
            "POST",
            format!("/api/conversations/{hidden}/messages"),
            Some(json!({"text": "not mine"})),
        ),
        ("POST", format!("/api/conversations/{hidden}/read"), None),
        ("GET", format!("/api/messages/{hidden_msg}"), None),
    ];
    for (method, path, body) in denied {
        let (code, r) = s.as_user(&agent, method, &path, body).await;
        assert_eq!(code, 404, "{method} {path}: {r}");
        assert_eq!(r["error"]["code"], "not_found", "{r}");
    }
    // …while the unassigned one is the agent's to work.
    let (code, r) = s
        .as_user(
            &agent,
            "POST",
            &format!("/api/conversations/{visible}/messages"),
            Some(json!({"text": "hello from the agent"})),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    assert_eq!(r["author_id"], agent_id);

    // Resources the role does not have: 403.
    let forbidden: Vec<(&str, &str, &str, Option<Value>)> = vec![
        (
            "agent",
            "POST",
            "/api/sessions",
            Some(json!({"name": "other"})),
        ),
        ("agent", "POST", "/api/sessions/default/stop", None),
        ("agent", "GET", "/api/admin/failed-webhooks", None),
        ("marketing", "GET", "/api/conversations", None),
    ];
    for (who, method, path, body) in forbidden {
        let token = if who == "agent" { &agent } else { &marketer };
        let (code, r) = s.as_user(token, method, path, body).await;
        assert_eq!(code, 403, "{who} {method} {path}: {r}");
        assert_eq!(r["error"]["code"], "forbidden", "{r}");
    }
    let (code, r) = s
        .as_user(
            &marketer,
            "GET",
            &format!("/api/conversations/{visible}"),
            None,
        )
        .await;
    assert_eq!(code, 403, "marketing has no inbox: {r}");
    let (code, contact) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "447700600099"}),
        )
        .await;
    assert_eq!(code, 201, "{contact}");
    let (code, r) = s
        .as_user(
            &agent,
            "DELETE",
            &format!("/api/contacts/{}", contact["id"]),
            None,
        )
        .await;
    assert_eq!(
        code, 403,
        "agents read contacts but do not delete them: {r}"
    );
    let (code, _) = s
        .as_user(
            &agent,
            "GET",
            &format!("/api/contacts/{}", contact["id"]),
            None,
        )
        .await;
    assert_eq!(code, 200);

    // The websocket: commands go through the same policy, and live pushes leave out the
    // colleague's conversation (checked against a later marker event).
    let mut ws = common::Socket::connect(&s.hub.url, &agent, None).await;
    ws.send(json!({"type": "message.send", "data": {"conversation_id": hidden, "text": "x", "client_id": "c-1"}}))
        .await;
    let err = ws.expect("error", |d| d["client_id"] == "c-1").await;
    assert_eq!(err["data"]["code"], "not_found", "{err}");
    customer_writes(&s, theirs, "false_447700600001@c.us_A2", "secret").await;
    customer_writes(&s, open, "false_447700600002@c.us_B2", "marker").await;
    let frames = ws
        .collect_until(Duration::from_secs(10), |f| {
            f.iter()
                .any(|x| x["type"] == "message.created" && x["data"]["text"] == "marker")
        })
        .await;
    assert!(
        frames
            .iter()
            .any(|x| x["type"] == "message.created" && x["data"]["text"] == "marker"),
        "{frames:?}"
    );
    assert!(
        frames.iter().all(|x| x["data"]["conversation_id"] != hidden
            && !(x["type"] == "conversation.updated" && x["data"]["id"] == hidden)),
        "the agent received an event of a colleague's conversation: {frames:?}"
    );
    // A replay from before both gives the agent the marker's events and none of the
    // colleague's conversation's since its assignment.
    let mut again = common::Socket::connect(&s.hub.url, &agent, Some(0)).await;
    let replayed = again
        .collect_until(Duration::from_secs(10), |f| {
            f.iter()
                .any(|x| x["type"] == "message.created" && x["data"]["text"] == "marker")
        })
        .await;
    assert!(
        replayed.iter().all(|x| x["data"]["text"] != "secret"),
        "replayed a colleague's message: {replayed:?}"
    );
    // The marketer's socket gets no inbox events at all: the marker arrives for the
    // admin, and nothing has arrived for the marketer by then.
    let mut m = common::Socket::connect(&s.hub.url, &marketer, None).await;
    let mut admin_ws = s.socket(None).await;
    customer_writes(&s, open, "false_447700600002@c.us_B3", "second marker").await;
    admin_ws
        .expect("message.created", |d| d["text"] == "second marker")
        .await;
    m.send(json!({"type": "ping"})).await;
    let before_pong = m
        .collect_until(Duration::from_secs(10), |f| {
            f.iter().any(|x| x["type"] == "pong")
        })
        .await;
    // (Their own presence is theirs to hear; it is no inbox event.)
    assert!(
        before_pong
            .iter()
            .all(|x| x["type"] == "pong" || x["type"] == "presence.updated"),
        "marketing received inbox events: {before_pong:?}"
    );
}
both!(the_policy_refuses_what_a_role_may_not_see_or_do);
