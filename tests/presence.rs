//! Presence bound to live sockets, end to end over real sockets: each transition and its
//! cause as supervisors receive it, two tabs as one presence, a reload within the grace
//! period without a flicker, idleness (which keepalives do not interrupt), the member's
//! own choice, deactivation, a hub restart, who receives `presence.updated`, and the
//! history API with its access rules. Short grace and idle times come from the env.

mod common;

use std::time::Duration;

use common::{Backend, Options, Setup, Socket};
use serde_json::{json, Value};

fn env(grace: u64, idle: u64) -> Options {
    Options {
        env: vec![
            ("TICKHUB_PRESENCE_GRACE_SECS".into(), grace.to_string()),
            ("TICKHUB_PRESENCE_IDLE_SECS".into(), idle.to_string()),
        ],
        ..Default::default()
    }
}

/// A team member made through the team API, logged in: (token, id).
async fn member(s: &Setup, email: &str, role: &str, sessions: &[&str]) -> (String, i64) {
    let m = s
        .member_with(email, role, json!({ "sessions": sessions }))
        .await;
    (m.token, m.id)
}

async fn connect(s: &Setup, token: &str) -> Socket {
    Socket::connect(&s.hub.url, token, None).await
}

/// The next `presence.updated` about `user` on `ws`: its (status, cause).
async fn next_presence(ws: &mut Socket, user: i64) -> (String, String) {
    let f = ws
        .expect("presence.updated", |d| d["user_id"] == user)
        .await;
    let d = &f["data"];
    assert!(d["at"].as_i64().is_some_and(|at| at > 0), "{f}");
    (
        d["status"].as_str().expect("status").to_string(),
        d["cause"].as_str().expect("cause").to_string(),
    )
}

fn pair(status: &str, cause: &str) -> (String, String) {
    (status.to_string(), cause.to_string())
}

async fn sockets_tabs_grace_and_who_hears(b: Backend) {
    let s = Setup::with(b, env(2, 300)).await;
    let (agent1, a1) = member(&s, "a1@test.tickhub", "agent", &["default"]).await;
    let (agent2, a2) = member(&s, "a2@test.tickhub", "agent", &["default"]).await;
    let (manager, _) = member(&s, "boss@test.tickhub", "manager", &["default"]).await;
    let mut admin_ws = s.socket(None).await;
    let mut boss_ws = connect(&s, &manager).await;

    // The first socket: online, to supervisors and to the member.
    let mut tab1 = connect(&s, &agent1).await;
    assert_eq!(
        next_presence(&mut admin_ws, a1).await,
        pair("online", "first_socket")
    );
    assert_eq!(
        next_presence(&mut boss_ws, a1).await,
        pair("online", "first_socket")
    );
    assert_eq!(
        next_presence(&mut tab1, a1).await,
        pair("online", "first_socket")
    );

    // A second tab, the first closing, and a reload of the second within the grace
    // period: one presence, no transition. The member's own choice is the marker: it must
    // be the next transition supervisors hear of.
    let tab2 = connect(&s, &agent1).await;
    drop(tab1);
    drop(tab2);
    let mut tab3 = connect(&s, &agent1).await;
    tab3.send(json!({"type": "presence.set", "data": {"status": "busy"}}))
        .await;
    assert_eq!(
        next_presence(&mut admin_ws, a1).await,
        pair("busy", "set_by_member")
    );
    assert_eq!(
        s.get(&format!("/api/team-members/{a1}?include=presence"))
            .await
            .1["presence"],
        "busy"
    );

    // An agent does not hear of a colleague's presence: agent2 comes online (supervisors
    // hear it), then agent1's own change arrives with nothing of agent2's before it.
    let _other = connect(&s, &agent2).await;
    assert_eq!(
        next_presence(&mut admin_ws, a2).await,
        pair("online", "first_socket")
    );
    tab3.send(json!({"type": "presence.set", "data": {"status": "online"}}))
        .await;
    let frames = tab3
        .collect_until(Duration::from_secs(10), |f| {
            f.iter()
                .any(|x| x["type"] == "presence.updated" && x["data"]["status"] == "online")
        })
        .await;
    assert!(
        frames
            .iter()
            .any(|x| x["type"] == "presence.updated" && x["data"]["cause"] == "set_by_member"),
        "{frames:?}"
    );
    assert!(
        frames
            .iter()
            .all(|x| !(x["type"] == "presence.updated" && x["data"]["user_id"] == a2)),
        "an agent received a colleague's presence: {frames:?}"
    );
    assert_eq!(
        next_presence(&mut admin_ws, a1).await,
        pair("online", "set_by_member")
    );

    // The last socket closes: offline once the grace period is over.
    drop(tab3);
    assert_eq!(
        next_presence(&mut admin_ws, a1).await,
        pair("offline", "grace_expired")
    );
    assert_eq!(
        next_presence(&mut boss_ws, a1).await,
        pair("busy", "set_by_member")
    );

    // The history, newest first, paged.
    let path = format!("/api/team-members/{a1}/presence");
    let (code, h) = s.get(&path).await;
    assert_eq!(code, 200, "{h}");
    let got: Vec<(String, String)> = h["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            assert!(e["node"].as_str().is_some_and(|n| !n.is_empty()), "{e}");
            assert!(e["at"].as_i64().is_some(), "{e}");
            pair(e["status"].as_str().unwrap(), e["cause"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            pair("offline", "grace_expired"),
            pair("online", "set_by_member"),
            pair("busy", "set_by_member"),
            pair("online", "first_socket"),
        ]
    );
    let (_, first) = s.get(&format!("{path}?limit=3")).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, rest) = s.get(&format!("{path}?limit=3&cursor={cursor}")).await;
    assert_eq!(rest["items"][0]["cause"], "first_socket", "{rest}");
    assert_eq!(rest["next_cursor"], Value::Null);

    // Who may read it: supervisors and the member; a colleague is refused.
    assert_eq!(s.as_user(&manager, "GET", &path, None).await.0, 200);
    assert_eq!(s.as_user(&agent1, "GET", &path, None).await.0, 200);
    let (code, r) = s.as_user(&agent2, "GET", &path, None).await;
    assert_eq!(code, 403, "{r}");
    assert_eq!(r["error"]["code"], "forbidden");
    assert_eq!(s.get("/api/team-members/999999/presence").await.0, 404);
    let (code, _) = s.get(&format!("{path}?limit=0")).await;
    assert_eq!(code, 400);

    // Deactivation: offline at once, with its cause.
    let (code, r) = s
        .post(&format!("/api/team-members/{a2}/deactivate"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        next_presence(&mut admin_ws, a2).await,
        pair("offline", "deactivated")
    );
}
both!(sockets_tabs_grace_and_who_hears);

async fn idle_activity_and_choices(b: Backend) {
    let s = Setup::with(b, env(0, 2)).await;
    let (agent, id) = member(&s, "idle@test.tickhub", "agent", &["default"]).await;
    let mut admin_ws = s.socket(None).await;
    let mut ws = connect(&s, &agent).await;
    assert_eq!(
        next_presence(&mut admin_ws, id).await,
        pair("online", "first_socket")
    );

    // Keepalives (websocket pings and pongs, the `ping` command) are no activity: the
    // member goes away while the socket keeps sending them.
    let keepalive = async {
        loop {
            ws.send_keepalive().await;
            ws.send(json!({"type": "ping"})).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let away = tokio::select! {
        p = next_presence(&mut admin_ws, id) => p,
        _ = keepalive => unreachable!(),
    };
    assert_eq!(away, pair("away", "idle"));

    // Activity brings them back.
    ws.send(json!({"type": "activity", "data": {}})).await;
    assert_eq!(
        next_presence(&mut admin_ws, id).await,
        pair("online", "active_again")
    );

    // Idleness never overrides busy: after more than the idle time, the member's next
    // choice is the next transition.
    ws.send(json!({"type": "presence.set", "data": {"status": "busy"}}))
        .await;
    assert_eq!(
        next_presence(&mut admin_ws, id).await,
        pair("busy", "set_by_member")
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    ws.send(json!({"type": "presence.set", "data": {"status": "away"}}))
        .await;
    assert_eq!(
        next_presence(&mut admin_ws, id).await,
        pair("away", "set_by_member")
    );
    // A chosen away stays away through activity; online is the next transition.
    ws.send(json!({"type": "activity", "data": {}})).await;
    ws.send(json!({"type": "presence.set", "data": {"status": "online"}}))
        .await;
    assert_eq!(
        next_presence(&mut admin_ws, id).await,
        pair("online", "set_by_member")
    );
    // A bad status is refused.
    ws.send(json!({"type": "presence.set", "data": {"status": "asleep"}}))
        .await;
    ws.expect("error", |d| d["code"] == "invalid").await;

    // No grace period: the last socket closing is offline at once.
    drop(ws);
    assert_eq!(
        next_presence(&mut admin_ws, id).await,
        pair("offline", "last_socket_closed")
    );
}
both!(idle_activity_and_choices);

async fn a_restart_logs_who_was_present_as_offline(b: Backend) {
    let mut s = Setup::with(b, env(1, 300)).await;
    let (agent, id) = member(&s, "restart@test.tickhub", "agent", &["default"]).await;
    let mut admin_ws = s.socket(None).await;
    let ws = connect(&s, &agent).await;
    assert_eq!(
        next_presence(&mut admin_ws, id).await,
        pair("online", "first_socket")
    );
    drop(admin_ws);
    s.hub.restart();
    drop(ws);
    let h = s
        .eventually(&format!("/api/team-members/{id}/presence"), |h| {
            h["items"][0]["cause"] == "hub_restart"
        })
        .await;
    assert_eq!(h["items"][0]["status"], "offline", "{h}");
    let (_, m) = s
        .get(&format!("/api/team-members/{id}?include=presence"))
        .await;
    assert_eq!(m["presence"], "offline", "{m}");
}
both!(a_restart_logs_who_was_present_as_offline);
