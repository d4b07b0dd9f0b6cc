//! The team end to end (contract §3a): members made, edited and refused with the field
//! named; deactivation cutting a member off at once; assignment moving who sees a
//! conversation, live and in lists; notes, the reply rule, viewers.

mod common;

use std::time::Duration;

use common::{assert_error, envelope, inbound_payload, login, Backend, Setup, MEMBER_PASSWORD};
use serde_json::{json, Value};

async fn customer_writes(s: &Setup, chat: &str, id: &str, text: &str) -> i64 {
    let (code, r) = s
        .webhook(&envelope("message", inbound_payload(chat, id, text)))
        .await;
    assert_eq!(code, 200, "{r}");
    s.conversation_for(chat).await["id"].as_i64().expect("id")
}

fn assert_422_naming(what: &str, got: (u16, Value), field: &str) {
    let msg = got.1["error"]["message"].as_str().unwrap_or("").to_string();
    // The path on its own too, for a form to show the reason beside its input.
    assert_eq!(got.1["error"]["field"], field, "{what}: {}", got.1);
    assert_error(what, got, 422);
    assert!(
        msg.contains(field),
        "{what}: the message should name {field}: {msg}"
    );
}

async fn members_are_made_edited_and_refused_clearly(b: Backend) {
    let s = Setup::new(b).await;
    s.post("/api/sessions", json!({"name": "second"})).await;
    let hours = json!({"time_zone": "Europe/London", "weekly": {"mon": [["09:00", "17:00"]]}});
    let (code, m) = s
        .post(
            "/api/team-members",
            json!({"email": "Ann@Example.com", "name": "Ann", "role": "agent", "password": MEMBER_PASSWORD,
                "sessions": ["default"], "capacity": 3, "working_hours": hours, "skills": ["billing", " billing", "es"],
                "unknown_field": "ignored"}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    assert_eq!(m["email"], "ann@example.com");
    assert_eq!(m["role"], "agent");
    assert_eq!(m["sessions"], json!(["default"]));
    assert_eq!(m["capacity"], 3);
    assert_eq!(m["working_hours"], hours);
    assert_eq!(m["skills"], json!(["billing", "es"]));
    assert_eq!(m["active"], true);
    let ann = m["id"].as_i64().expect("id");

    // Bad values: 422 naming the field, and nothing half-saved.
    let base = json!({"email": "bob@example.com", "name": "Bob", "role": "agent", "password": MEMBER_PASSWORD, "sessions": ["default"]});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("role", json!("boss")), "role"),
        (with("sessions", json!(["default", "nope"])), "sessions[1]"),
        (with("capacity", json!(-1)), "capacity"),
        (with("capacity", json!("three")), "capacity"),
        (with("email", json!("not-an-email")), "email"),
        (with("password", json!("short")), "password"),
        (
            with(
                "working_hours",
                json!({"time_zone": "Mars/Olympus", "weekly": {}}),
            ),
            "working_hours.time_zone",
        ),
        (
            with(
                "working_hours",
                json!({"time_zone": "UTC", "weekly": {"tue": [["09:00", "12:00"], ["11:00", "13:00"]]}}),
            ),
            "working_hours.weekly.tue[1]",
        ),
        (
            with(
                "working_hours",
                json!({"time_zone": "UTC", "weekly": {"tue": [["13:00", "12:00"]]}}),
            ),
            "working_hours.weekly.tue[0]",
        ),
        (with("skills", json!(["ok", ""])), "skills[1]"),
    ];
    for (body, field) in cases {
        let got = s.post("/api/team-members", body.clone()).await;
        assert_422_naming(&format!("create with a bad {field}"), got, field);
    }
    let (code, list) = s.get("/api/team-members").await;
    assert_eq!(code, 200);
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(2),
        "admin and Ann only: {list}"
    );
    assert_error(
        "a taken email",
        s.post("/api/team-members", with("email", json!("ANN@example.com")))
            .await,
        409,
    );
    let (code, bob) = s.post("/api/team-members", base.clone()).await;
    assert_eq!(code, 201, "the refused attempts left nothing behind: {bob}");

    // Edits: a field at a time; null clears; the same 422s.
    let path = format!("/api/team-members/{ann}");
    let patch = |body: Value| {
        let path = path.clone();
        let s = &s;
        async move {
            s.request(reqwest::Method::PATCH, &path, |r| {
                r.bearer_auth(&s.token).json(&body)
            })
            .await
        }
    };
    let (code, m) =
        patch(json!({"capacity": null, "sessions": ["default", "second"], "name": "Ann B"})).await;
    assert_eq!(code, 200, "{m}");
    assert_eq!(
        (m["capacity"].clone(), m["name"].clone()),
        (Value::Null, json!("Ann B"))
    );
    assert_eq!(m["sessions"], json!(["default", "second"]));
    assert_eq!(m["working_hours"], hours, "left out: kept");
    assert_422_naming(
        "negative capacity",
        patch(json!({"capacity": -5})).await,
        "capacity",
    );
    assert_422_naming(
        "an unknown role",
        patch(json!({"role": "owner"})).await,
        "role",
    );
    let (_, again) = s.get(&path).await;
    assert_eq!(
        again["capacity"],
        Value::Null,
        "a refused edit changes nothing"
    );
    let (code, withp) = s.get(&format!("{path}?include=presence")).await;
    assert_eq!(code, 200);
    assert_eq!(withp["presence"], "offline");
    let (_, list) = s.get("/api/team-members?include=presence").await;
    assert!(
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|m| m["presence"].is_string()),
        "{list}"
    );

    // Managers: agents, sales and marketing only, within their own sessions.
    let manager = s.member("mia@example.com", "manager", &["default"]).await;
    let as_mia = |method: &'static str, p: String, body: Option<Value>| {
        let s = &s;
        let t = manager.token.clone();
        async move { s.as_user(&t, method, &p, body).await }
    };
    let (code, carl) = as_mia("POST", "/api/team-members".into(),
        Some(json!({"email": "carl@example.com", "name": "Carl", "role": "sales", "password": MEMBER_PASSWORD, "sessions": ["default"]}))).await;
    assert_eq!(code, 201, "{carl}");
    assert_error("a manager making an admin", as_mia("POST", "/api/team-members".into(),
        Some(json!({"email": "x@example.com", "name": "X", "role": "admin", "password": MEMBER_PASSWORD}))).await, 403);
    assert_error("a manager granting a session they do not work in", as_mia("POST", "/api/team-members".into(),
        Some(json!({"email": "y@example.com", "name": "Y", "role": "agent", "password": MEMBER_PASSWORD, "sessions": ["second"]}))).await, 403);
    assert_error(
        "a manager promoting",
        as_mia(
            "PATCH",
            format!("/api/team-members/{}", carl["id"]),
            Some(json!({"role": "manager"})),
        )
        .await,
        403,
    );
    // A manager's session change keeps what they cannot see.
    let (code, m) = as_mia("PATCH", path.clone(), Some(json!({"sessions": []}))).await;
    assert_eq!(code, 200, "{m}");
    assert_eq!(m["sessions"], json!(["second"]), "{m}");
    let agent = s.member("al@example.com", "agent", &["default"]).await;
    for (method, p) in [
        ("GET", "/api/team-members".to_string()),
        ("GET", path.clone()),
        ("POST", "/api/team-members".to_string()),
    ] {
        let body = (method == "POST").then(|| base.clone());
        assert_error(
            &format!("an agent {method} {p}"),
            s.as_user(&agent.token, method, &p, body).await,
            403,
        );
    }
    // A password reset: strength checked, every token revoked.
    assert_422_naming(
        "a weak reset",
        s.post(
            &format!("/api/team-members/{}/password", agent.id),
            json!({"password": "abc"}),
        )
        .await,
        "password",
    );
    let (code, _) = s
        .post(
            &format!("/api/team-members/{}/password", agent.id),
            json!({"password": "a-new-secret-42"}),
        )
        .await;
    assert_eq!(code, 204);
    assert_error(
        "a reset token",
        s.as_user(&agent.token, "GET", "/api/auth/me", None).await,
        401,
    );
    login(&s.http, &s.hub.url, "al@example.com", "a-new-secret-42").await;

    // Every change is in the audit log, with who made it and the settings before and
    // after; no password anywhere.
    let (code, log) = s
        .get(&format!(
            "/api/audit-log?target_type=member&target_id={ann}"
        ))
        .await;
    assert_eq!(code, 200, "{log}");
    let entries = log["items"].as_array().expect("items");
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        vec!["member.update", "member.update", "member.create"],
        "{log}"
    );
    let by_mia = &entries[0];
    assert_eq!(by_mia["actor_id"], manager.id);
    assert_eq!(by_mia["before"]["sessions"], json!(["default", "second"]));
    assert_eq!(by_mia["after"]["sessions"], json!(["second"]));
    let (_, resets) = s.get("/api/audit-log?action=member.reset_password").await;
    assert_eq!(
        resets["items"][0]["target_id"],
        agent.id.to_string(),
        "{resets}"
    );
    assert!(
        !log.to_string().contains(MEMBER_PASSWORD)
            && !resets.to_string().contains("a-new-secret-42")
    );
}
both!(members_are_made_edited_and_refused_clearly);

async fn deactivation_cuts_a_member_off_at_once(b: Backend) {
    let s = Setup::new(b).await;
    let agent = s.member("dee@example.com", "agent", &["default"]).await;
    let conv = customer_writes(
        &s,
        "447700700001@c.us",
        "false_447700700001@c.us_D1",
        "hello",
    )
    .await;
    let (code, r) = s
        .as_user(
            &agent.token,
            "POST",
            &format!("/api/conversations/{conv}/assign"),
            Some(json!({"assignee_id": agent.id})),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        (r["assignee_id"].clone(), r["status"].clone()),
        (json!(agent.id), json!("open"))
    );
    let mut ws = common::Socket::connect(&s.hub.url, &agent.token, None).await;

    let (code, m) = s
        .post(
            &format!("/api/team-members/{}/deactivate", agent.id),
            json!({}),
        )
        .await;
    assert_eq!(code, 200, "{m}");
    assert_eq!(m["active"], false);
    assert!(
        ws.closed_within(Duration::from_secs(10)).await.is_some(),
        "the socket must close at once"
    );
    assert_error(
        "a deactivated member's token",
        s.as_user(&agent.token, "GET", "/api/auth/me", None).await,
        401,
    );
    let r = s
        .http
        .post(format!("{}/api/auth/login", s.hub.url))
        .json(&json!({"email": "dee@example.com", "password": MEMBER_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        r.status().as_u16(),
        401,
        "a deactivated member cannot log in"
    );
    // Their conversation went back to the queue.
    let c = s
        .eventually(&format!("/api/conversations/{conv}"), |c| {
            c["assignee_id"].is_null()
        })
        .await;
    assert_eq!(c["status"], "pending");

    let (code, _) = s
        .post(
            &format!("/api/team-members/{}/activate", agent.id),
            json!({}),
        )
        .await;
    assert_eq!(code, 200);
    login(&s.http, &s.hub.url, "dee@example.com", MEMBER_PASSWORD).await;
    let (_, me) = s.get("/api/auth/me").await;
    assert_error(
        "deactivating oneself",
        s.post(
            &format!("/api/team-members/{}/deactivate", me["id"]),
            json!({}),
        )
        .await,
        409,
    );
}
both!(deactivation_cuts_a_member_off_at_once);

async fn assignment_moves_who_sees_a_conversation(b: Backend) {
    let s = Setup::new(b).await;
    // Assignment by hand: the router must not take the conversation meanwhile.
    s.auto_assign("default", false).await;
    let a1 = s.member("one@example.com", "agent", &["default"]).await;
    let a2 = s.member("two@example.com", "agent", &["default"]).await;
    let marketer = s
        .member("mark@example.com", "marketing", &["default"])
        .await;
    let outsider = s.member("out@example.com", "agent", &[]).await;
    let chat = "447700800001@c.us";
    let conv = customer_writes(&s, chat, "false_447700800001@c.us_E1", "first").await;
    let mut w1 = common::Socket::connect(&s.hub.url, &a1.token, None).await;
    let mut w2 = common::Socket::connect(&s.hub.url, &a2.token, None).await;

    // Validation of the assignee: 422 naming assignee_id.
    for (who, why) in [
        (marketer.id, "marketing"),
        (outsider.id, "session"),
        (999_999, "does not exist"),
    ] {
        let got = s
            .post(
                &format!("/api/conversations/{conv}/assign"),
                json!({"assignee_id": who}),
            )
            .await;
        assert_422_naming(&format!("assigning to {why}"), got, "assignee_id");
    }
    assert_422_naming(
        "no assignee_id",
        s.post(&format!("/api/conversations/{conv}/assign"), json!({}))
            .await,
        "assignee_id",
    );
    // An agent may not give an unassigned conversation to a colleague.
    assert_error(
        "an agent assigning a colleague",
        s.as_user(
            &a1.token,
            "POST",
            &format!("/api/conversations/{conv}/assign"),
            Some(json!({"assignee_id": a2.id})),
        )
        .await,
        403,
    );

    // The admin gives it to a1 with a note.
    let (code, c) = s
        .post(
            &format!("/api/conversations/{conv}/assign"),
            json!({"assignee_id": a1.id, "note": "VIP customer"}),
        )
        .await;
    assert_eq!(code, 200, "{c}");
    assert_eq!(
        (c["assignee_id"].clone(), c["status"].clone()),
        (json!(a1.id), json!("open"))
    );
    w1.expect("conversation.updated", |d| {
        d["id"] == conv && d["assignee_id"] == a1.id
    })
    .await;
    w1.expect("note.created", |d| {
        d["conversation_id"] == conv && d["text"] == "VIP customer"
    })
    .await;
    w2.expect("conversation.removed", |d| d["conversation_id"] == conv)
        .await;
    assert_error(
        "a2 reading a1's conversation",
        s.as_user(
            &a2.token,
            "GET",
            &format!("/api/conversations/{conv}"),
            None,
        )
        .await,
        404,
    );

    // While it is a1's, a2 receives none of its events (checked against a later marker).
    customer_writes(&s, chat, "false_447700800001@c.us_E2", "for one only").await;
    w1.expect("message.created", |d| d["text"] == "for one only")
        .await;
    let marker_conv = customer_writes(
        &s,
        "447700800002@c.us",
        "false_447700800002@c.us_M1",
        "marker",
    )
    .await;
    let frames = w2
        .collect_until(Duration::from_secs(10), |f| {
            f.iter().any(|x| x["data"]["text"] == "marker")
        })
        .await;
    assert!(
        frames.iter().any(|x| x["data"]["text"] == "marker"),
        "{frames:?}"
    );
    assert!(
        frames
            .iter()
            .all(|x| x["data"]["conversation_id"] != conv && x["data"]["id"] != conv),
        "a2 got a1's events: {frames:?}"
    );

    // a1 hands it to a2 with a note: a1 is told it left, a2 gets it and its history.
    let (code, c) = s
        .as_user(
            &a1.token,
            "POST",
            &format!("/api/conversations/{conv}/assign"),
            Some(json!({"assignee_id": a2.id, "note": "you speak Spanish"})),
        )
        .await;
    assert_eq!(code, 200, "{c}");
    w1.expect("conversation.removed", |d| {
        d["conversation_id"] == conv && d["assignee_id"] == a2.id
    })
    .await;
    w2.expect("conversation.updated", |d| {
        d["id"] == conv && d["assignee_id"] == a2.id
    })
    .await;
    let (code, history) = s
        .as_user(
            &a2.token,
            "GET",
            &format!("/api/conversations/{conv}/messages"),
            None,
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(
        history["items"].as_array().map(Vec::len),
        Some(2),
        "{history}"
    );
    let (code, notes) = s
        .as_user(
            &a2.token,
            "GET",
            &format!("/api/conversations/{conv}/notes"),
            None,
        )
        .await;
    assert_eq!(code, 200);
    let texts: Vec<&str> = notes["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert_eq!(texts, vec!["you speak Spanish", "VIP customer"]);
    assert!(
        s.sim.sent_with("VIP customer").await.is_empty(),
        "a note must never reach WhatsApp"
    );
    assert_error(
        "a1 now",
        s.as_user(
            &a1.token,
            "GET",
            &format!("/api/conversations/{conv}/notes"),
            None,
        )
        .await,
        404,
    );

    // Capacity: a2 is full at 1; a1 cannot hand on another; a supervisor may.
    let (code, _) = s
        .request(
            reqwest::Method::PATCH,
            &format!("/api/team-members/{}", a2.id),
            |r| r.bearer_auth(&s.token).json(&json!({"capacity": 1})),
        )
        .await;
    assert_eq!(code, 200);
    let (code, _) = s
        .as_user(
            &a1.token,
            "POST",
            &format!("/api/conversations/{marker_conv}/assign"),
            Some(json!({"assignee_id": a1.id})),
        )
        .await;
    assert_eq!(code, 200);
    let got = s
        .as_user(
            &a1.token,
            "POST",
            &format!("/api/conversations/{marker_conv}/assign"),
            Some(json!({"assignee_id": a2.id})),
        )
        .await;
    assert_error("handing on to a full colleague", got.clone(), 409);
    assert!(
        got.1["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("capacity"),
        "{got:?}"
    );
    let (code, c) = s
        .post(
            &format!("/api/conversations/{marker_conv}/assign"),
            json!({"assignee_id": a2.id}),
        )
        .await;
    assert_eq!(code, 200, "a supervisor's choice may exceed capacity: {c}");

    // Resolve, reopen, return to the queue.
    let (code, c) = s
        .as_user(
            &a2.token,
            "POST",
            &format!("/api/conversations/{conv}/resolve"),
            None,
        )
        .await;
    assert_eq!((code, c["status"].clone()), (200, json!("resolved")), "{c}");
    let (code, c) = s
        .as_user(
            &a2.token,
            "POST",
            &format!("/api/conversations/{conv}/reopen"),
            None,
        )
        .await;
    assert_eq!((code, c["status"].clone()), (200, json!("open")), "{c}");
    let (code, c) = s
        .as_user(
            &a2.token,
            "POST",
            &format!("/api/conversations/{conv}/assign"),
            Some(json!({"assignee_id": null})),
        )
        .await;
    assert_eq!(
        (code, c["status"].clone(), c["assignee_id"].clone()),
        (200, json!("pending"), Value::Null),
        "{c}"
    );
    w1.expect("conversation.updated", |d| {
        d["id"] == conv && d["assignee_id"].is_null()
    })
    .await;
    // The same over the websocket.
    w1.send(json!({"type": "conversation.assign", "data": {"conversation_id": conv, "assignee_id": a1.id}})).await;
    w1.expect("conversation.updated", |d| {
        d["id"] == conv && d["assignee_id"] == a1.id
    })
    .await;
    w1.send(json!({"type": "conversation.note", "data": {"conversation_id": conv, "text": "called back"}})).await;
    w1.expect("note.created", |d| d["text"] == "called back")
        .await;
    w1.send(json!({"type": "conversation.resolve", "data": {"conversation_id": conv}}))
        .await;
    w1.expect("conversation.updated", |d| {
        d["id"] == conv && d["status"] == "resolved"
    })
    .await;
    w2.send(json!({"type": "conversation.resolve", "data": {"conversation_id": conv}}))
        .await;
    let e = w2.expect("error", |_| true).await;
    assert_eq!(e["data"]["code"], "not_found", "{e}");

    // Each change of hands is audited with its reason and note; a refused one leaves none.
    let (code, log) = s
        .get(&format!(
            "/api/audit-log?action=conversation.&target_id={conv}"
        ))
        .await;
    assert_eq!(code, 200, "{log}");
    let items = log["items"].as_array().expect("items");
    let handed_on = items
        .iter()
        .find(|e| {
            e["action"] == "conversation.assign"
                && e["actor_id"] == a1.id
                && e["after"]["assignee_id"] == a2.id
        })
        .unwrap_or_else(|| panic!("a1 handing on to a2: {log}"));
    assert_eq!(handed_on["after"]["reason"], "handed on");
    assert_eq!(handed_on["before"]["assignee_id"], a1.id);
    assert!(
        items
            .iter()
            .any(|e| e["action"] == "conversation.resolve" && e["via"] == "websocket"),
        "{log}"
    );
    assert!(
        items.iter().any(|e| e["action"] == "conversation.note"),
        "{log}"
    );
    assert!(
        handed_on["after"]["note_id"].is_i64(),
        "the transfer's note is kept with it: {handed_on}"
    );
    // The refused hand-on to a full colleague left no entry.
    let (_, other) = s
        .get(&format!(
            "/api/audit-log?action=conversation.assign&target_id={marker_conv}"
        ))
        .await;
    let actors: Vec<i64> = other["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["actor_id"].as_i64())
        .collect();
    assert_eq!(
        actors.iter().filter(|a| **a == a1.id).count(),
        1,
        "only a1 taking it: {other}"
    );
}
both!(assignment_moves_who_sees_a_conversation);

/// `conversation.removed` goes only to whoever can no longer see the conversation: a
/// manager who had it keeps seeing it when it goes to an agent, and an agent who hands
/// theirs back to the queue still sees it there. Checked against a later message of the
/// same conversation, which each of them must receive.
async fn who_still_sees_a_handed_on_conversation_is_not_told_it_left(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let boss = s.member("boss@example.com", "manager", &["default"]).await;
    let a1 = s.member("one@example.com", "agent", &["default"]).await;
    let chat = "447700800011@c.us";
    let conv = customer_writes(&s, chat, "false_447700800011@c.us_A", "hello").await;
    let mut wm = common::Socket::connect(&s.hub.url, &boss.token, None).await;
    let path = format!("/api/conversations/{conv}/assign");
    let assign = |to: Value| s.post(&path, json!({ "assignee_id": to }));

    // The manager's own conversation goes to the agent: the manager still sees it.
    assert_eq!(assign(json!(boss.id)).await.0, 200);
    assert_eq!(assign(json!(a1.id)).await.0, 200);
    customer_writes(&s, chat, "false_447700800011@c.us_B", "after the handover").await;
    let frames = wm
        .collect_until(Duration::from_secs(10), |f| {
            f.iter().any(|x| x["data"]["text"] == "after the handover")
        })
        .await;
    assert!(
        frames
            .iter()
            .any(|x| x["data"]["text"] == "after the handover"),
        "{frames:?}"
    );
    assert!(
        frames.iter().all(|x| x["type"] != "conversation.removed"),
        "the manager was told a conversation they still see left: {frames:?}"
    );

    // The agent (connected now: it rightly lost sight when the manager took the
    // conversation) hands it back to the queue and still sees it there.
    let mut w1 = common::Socket::connect(&s.hub.url, &a1.token, None).await;
    assert_eq!(assign(Value::Null).await.0, 200);
    customer_writes(&s, chat, "false_447700800011@c.us_C", "back in the queue").await;
    let frames = w1
        .collect_until(Duration::from_secs(10), |f| {
            f.iter().any(|x| x["data"]["text"] == "back in the queue")
        })
        .await;
    assert!(
        frames
            .iter()
            .any(|x| x["data"]["text"] == "back in the queue"),
        "{frames:?}"
    );
    assert!(
        frames.iter().all(|x| x["type"] != "conversation.removed"),
        "the agent was told a conversation back in their queue left: {frames:?}"
    );
}
both!(who_still_sees_a_handed_on_conversation_is_not_told_it_left);

async fn the_reply_rule_and_viewers(b: Backend) {
    let s = Setup::new(b).await;
    // The conversation stays in the queue while both agents look at it.
    s.auto_assign("default", false).await;
    let a1 = s.member("r1@example.com", "agent", &["default"]).await;
    let a2 = s.member("r2@example.com", "agent", &["default"]).await;
    let conv = customer_writes(&s, "447700900001@c.us", "false_447700900001@c.us_R1", "hi").await;
    let reply = |token: String, text: &'static str| {
        let s = &s;
        async move {
            s.as_user(
                &token,
                "POST",
                &format!("/api/conversations/{conv}/messages"),
                Some(json!({"text": text})),
            )
            .await
        }
    };
    let settings = |token: String, body: Value| {
        let s = &s;
        async move {
            s.as_user(&token, "PATCH", "/api/sessions/default", Some(body))
                .await
        }
    };
    assert_error(
        "an agent changing session settings",
        settings(a1.token.clone(), json!({"reply_policy": "assignee"})).await,
        403,
    );
    assert_422_naming(
        "an unknown policy",
        settings(s.token.clone(), json!({"reply_policy": "nobody"})).await,
        "reply_policy",
    );
    let (code, v) = settings(s.token.clone(), json!({"reply_policy": "assignee"})).await;
    assert_eq!(
        (code, v["reply_policy"].clone()),
        (200, json!("assignee")),
        "{v}"
    );
    assert_error(
        "replying to an unassigned one under the rule",
        reply(a1.token.clone(), "me first").await,
        403,
    );
    let (code, _) = s
        .as_user(
            &a1.token,
            "POST",
            &format!("/api/conversations/{conv}/assign"),
            Some(json!({"assignee_id": a1.id})),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(reply(a1.token.clone(), "I have it").await.0, 201);
    assert_eq!(reply(s.token.clone(), "supervisor here").await.0, 201);
    let (code, _) = settings(s.token.clone(), json!({"reply_policy": "anyone"})).await;
    assert_eq!(code, 200);
    let (code, _) = s
        .as_user(
            &a1.token,
            "POST",
            &format!("/api/conversations/{conv}/assign"),
            Some(json!({"assignee_id": null})),
        )
        .await;
    assert_eq!(code, 200);
    assert_eq!(reply(a2.token.clone(), "anyone may now").await.0, 201);

    // Viewers: who has the conversation open reaches the others who see it.
    let mut admin = s.socket(None).await;
    let mut w1 = common::Socket::connect(&s.hub.url, &a1.token, None).await;
    let mut w2 = common::Socket::connect(&s.hub.url, &a2.token, None).await;
    w1.send(json!({"type": "conversation.view", "data": {"conversation_id": conv}}))
        .await;
    let v = admin
        .expect("conversation.viewers", |d| {
            d["conversation_id"] == conv && d["viewers"].as_array().is_some_and(|v| v.len() == 1)
        })
        .await;
    assert_eq!(v["data"]["viewers"][0]["user_id"], a1.id);
    assert!(v["seq"].is_null(), "viewers are ephemeral: {v}");
    w2.send(json!({"type": "typing", "data": {"conversation_id": conv}}))
        .await;
    w1.expect("typing", |d| {
        d["conversation_id"] == conv && d["user_id"] == a2.id
    })
    .await;
    w2.send(json!({"type": "conversation.view", "data": {"conversation_id": 999_999}}))
        .await;
    let e = w2.expect("error", |_| true).await;
    assert_eq!(e["data"]["code"], "not_found");
    drop(w1);
    admin
        .expect("conversation.viewers", |d| {
            d["conversation_id"] == conv && d["viewers"] == json!([])
        })
        .await;
}
both!(the_reply_rule_and_viewers);
