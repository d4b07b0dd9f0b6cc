//! A session's team (`GET /api/sessions/{name}/members`) end to end, on both databases:
//! who is listed (active members with an inbox who work in the session, admins included),
//! with what (role, presence, open load, capacity, never an email), who may read it, and
//! an agent handing their conversation to a colleague found there.

mod common;

use std::time::Duration;

use common::{assert_error, envelope, inbound_payload, Backend, Setup};
use serde_json::{json, Value};

async fn team_of(s: &Setup, token: &str, session: &str) -> Vec<Value> {
    let path = format!("/api/sessions/{session}/members");
    let (code, r) = s.as_user(token, "GET", &path, None).await;
    assert_eq!(code, 200, "{path}: {r}");
    assert_eq!(r["next_cursor"], Value::Null, "{r}");
    r["items"].as_array().cloned().expect("items")
}

fn find(team: &[Value], id: i64) -> Option<&Value> {
    team.iter().find(|m| m["id"] == id)
}

async fn a_sessions_team_for_those_who_work_in_it(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    s.wait_session_status("second", "WORKING").await;
    s.auto_assign("default", false).await;
    let (_, me) = s.get("/api/auth/me").await;
    let admin = me["id"].as_i64().expect("admin id");
    let ana = s
        .member_with(
            "ana@team.test",
            "agent",
            json!({"sessions": ["default"], "capacity": 3}),
        )
        .await;
    let bea = s.member("bea@team.test", "agent", &["default"]).await;
    let boss = s.member("boss@team.test", "manager", &["default"]).await;
    let sam = s.member("sam@team.test", "sales", &["default"]).await;
    let mia = s.member("mia@team.test", "marketing", &["default"]).await;
    let other = s.member("oz@team.test", "agent", &["second"]).await;
    let gone = s.member("gone@team.test", "agent", &["default"]).await;
    let (code, r) = s
        .post(
            &format!("/api/team-members/{}/deactivate", gone.id),
            json!({}),
        )
        .await;
    assert_eq!(code, 200, "{r}");

    // Ana holds one conversation: her open load.
    let chat = "447700300001@c.us";
    let (code, r) = s
        .webhook(&envelope(
            "message",
            inbound_payload(chat, &format!("false_{chat}_T1"), "hello"),
        ))
        .await;
    assert_eq!(code, 200, "{r}");
    let conv = s.conversation_for(chat).await["id"].as_i64().expect("id");
    let assign = format!("/api/conversations/{conv}/assign");
    let (code, r) = s
        .as_user(
            &ana.token,
            "POST",
            &assign,
            Some(json!({"assignee_id": ana.id})),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    // Bea is online.
    let _bea_socket = common::Socket::connect(&s.hub.url, &bea.token, None).await;

    let team = team_of(&s, &ana.token, "default").await;
    let ids: Vec<i64> = team.iter().filter_map(|m| m["id"].as_i64()).collect();
    for (who, id) in [
        ("admin", admin),
        ("ana", ana.id),
        ("bea", bea.id),
        ("boss", boss.id),
        ("sam", sam.id),
    ] {
        assert!(ids.contains(&id), "{who} works in default: {team:?}");
    }
    for (who, id) in [
        ("marketing", mia.id),
        ("another session's", other.id),
        ("deactivated", gone.id),
    ] {
        assert!(!ids.contains(&id), "{who} is not listed: {team:?}");
    }
    let names: Vec<&str> = team.iter().filter_map(|m| m["name"].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "by name");
    let a = find(&team, ana.id).expect("ana");
    assert_eq!(a["name"], "ana");
    assert_eq!(a["role"], "agent");
    assert_eq!(a["capacity"], 3);
    assert_eq!(a["open"], 1, "{a}");
    assert_eq!(a["presence"], "offline", "no socket: {a}");
    assert!(a.get("email").is_none(), "no emails for agents: {a}");
    assert_eq!(find(&team, boss.id).expect("boss")["capacity"], Value::Null);
    assert_eq!(find(&team, bea.id).expect("bea")["open"], 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let team = team_of(&s, &ana.token, "default").await;
        if find(&team, bea.id).expect("bea")["presence"] == "online" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "bea online: {team:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Ana hands her conversation to Bea, found in that list.
    let (code, r) = s
        .as_user(
            &ana.token,
            "POST",
            &assign,
            Some(json!({"assignee_id": bea.id})),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let team = team_of(&s, &sam.token, "default").await;
    assert_eq!(find(&team, ana.id).expect("ana")["open"], 0);
    assert_eq!(find(&team, bea.id).expect("bea")["open"], 1);

    // Who may read it.
    assert_eq!(team_of(&s, &boss.token, "default").await.len(), team.len());
    assert_eq!(
        team_of(&s, &s.token, "second").await.len(),
        2,
        "the admin and oz"
    );
    for (who, token, path, want) in [
        (
            "marketing",
            &mia.token,
            "/api/sessions/default/members",
            403,
        ),
        (
            "an agent, another session",
            &ana.token,
            "/api/sessions/second/members",
            404,
        ),
        (
            "a manager, another session",
            &boss.token,
            "/api/sessions/second/members",
            404,
        ),
        (
            "marketing, another session",
            &mia.token,
            "/api/sessions/second/members",
            404,
        ),
        (
            "no such session",
            &ana.token,
            "/api/sessions/nowhere/members",
            404,
        ),
        (
            "no token",
            &String::new(),
            "/api/sessions/default/members",
            401,
        ),
    ] {
        assert_error(who, s.as_user(token, "GET", path, None).await, want);
    }
}
both!(a_sessions_team_for_those_who_work_in_it);
