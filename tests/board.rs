//! The supervisors' board and members' counts, end to end: `GET /api/dashboard` as each
//! role sees it, its changes pushed as `dashboard.updated` (presence, queue, load) only to
//! supervisors who may see them, and each member's counts pushed as `counts.updated` and
//! readable at `GET /api/conversations/counts`.

mod common;

use std::time::Duration;

use common::{Backend, Options, Setup, Socket};
use serde_json::{json, Value};

async fn member(s: &Setup, email: &str, role: &str, sessions: &[&str]) -> (String, i64) {
    let m = s
        .member_with(email, role, json!({ "sessions": sessions, "capacity": 5 }))
        .await;
    (m.token, m.id)
}

async fn connect(s: &Setup, token: &str) -> Socket {
    Socket::connect(&s.hub.url, token, None).await
}

/// A customer writes to `session` through the simulator.
async fn customer(s: &Setup, session: &str, from: &str, body: &str) {
    s.sim
        .control_created(
            "/sim/inbound",
            json!({"session": session, "from": from, "body": body}),
        )
        .await;
}

fn ids(rows: &Value, key: &str) -> Vec<i64> {
    let mut v: Vec<i64> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r[key].as_i64())
        .collect();
    v.sort_unstable();
    v
}

fn row<'a>(rows: &'a Value, key: &str, id: i64) -> Option<&'a Value> {
    rows.as_array()?.iter().find(|r| r[key] == id)
}

fn session_named<'a>(rows: &'a Value, name: &str) -> Option<&'a Value> {
    rows.as_array()?.iter().find(|r| r["session"] == name)
}

fn total(by_status: &Value) -> i64 {
    ["bot", "pending", "open", "resolved"]
        .iter()
        .map(|k| by_status[k].as_i64().expect("a count"))
        .sum()
}

async fn the_board_answers_and_pushes(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: vec![("TICKHUB_PRESENCE_GRACE_SECS".into(), "1".into())],
            ..Default::default()
        },
    )
    .await;
    let (code, r) = s.post("/api/sessions", json!({"name": "other"})).await;
    assert!(code == 201 || code == 200, "{r}");
    s.wait_session_status("other", "WORKING").await;
    // The queue is assigned by hand here: the router must not take it meanwhile.
    for name in ["default", "other"] {
        s.auto_assign(name, false).await;
    }
    let (_, me) = s.get("/api/auth/me").await;
    let admin_id = me["id"].as_i64().expect("id");
    let (agent, agent_id) = member(&s, "a@test.tickhub", "agent", &["default"]).await;
    let (_, far_id) = member(&s, "far@test.tickhub", "agent", &["other"]).await;
    let (manager, boss_id) = member(&s, "boss@test.tickhub", "manager", &["default"]).await;
    let (marketer, _) = member(&s, "mk@test.tickhub", "marketing", &[]).await;

    // As each role sees it.
    let (code, all) = s.get("/api/dashboard").await;
    assert_eq!(code, 200, "{all}");
    assert!(ids(&all["members"], "user_id").contains(&far_id), "{all}");
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2, "{all}");
    let a = row(&all["members"], "user_id", agent_id).expect("the agent's row");
    assert_eq!(
        (&a["role"], &a["presence"], &a["open"], &a["capacity"]),
        (&json!("agent"), &json!("offline"), &json!(0), &json!(5)),
        "{a}"
    );
    assert_eq!(a["presence_since"], Value::Null, "never seen: {a}");
    assert_eq!(all["waiting_conversations"], 0);
    let (code, mine) = s.as_user(&manager, "GET", "/api/dashboard", None).await;
    assert_eq!(code, 200, "{mine}");
    assert_eq!(
        ids(&mine["members"], "user_id"),
        vec![admin_id, agent_id, boss_id],
        "a manager sees who shares a session: {mine}"
    );
    assert_eq!(mine["sessions"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["sessions"][0]["session"], "default");
    for (who, token) in [("agent", &agent), ("marketing", &marketer)] {
        let (code, r) = s.as_user(token, "GET", "/api/dashboard", None).await;
        assert_eq!(code, 403, "{who}: {r}");
        assert_eq!(r["error"]["code"], "forbidden");
    }

    // A supervisor's socket gets the whole board when it arrives, then what changes.
    let mut boss = connect(&s, &manager).await;
    let full = boss
        .expect("dashboard.updated", |d| d["full"] == true)
        .await;
    assert_eq!(
        ids(&full["data"]["members"], "user_id"),
        vec![admin_id, agent_id, boss_id]
    );

    // The agent comes online: the patch says since when, as the presence log does.
    let _agent_ws = connect(&s, &agent).await;
    let came = boss
        .expect("dashboard.updated", |d| {
            row(&d["members"], "user_id", agent_id).is_some_and(|m| m["presence"] == "online")
                && d["agents_online"].as_i64() >= Some(1)
        })
        .await;
    let since =
        row(&came["data"]["members"], "user_id", agent_id).unwrap()["presence_since"].clone();
    let (_, log) = s
        .get(&format!("/api/team-members/{agent_id}/presence"))
        .await;
    assert_eq!(log["items"][0]["status"], "online", "{log}");
    assert_eq!(since, log["items"][0]["at"], "{came} {log}");
    let (_, now) = s.get("/api/dashboard").await;
    assert_eq!(
        row(&now["members"], "user_id", agent_id).unwrap()["presence_since"],
        since,
        "{now}"
    );

    // A customer writes: the queue grows, with its oldest wait.
    customer(&s, "default", "447700900001@c.us", "hello").await;
    let f = boss
        .expect("dashboard.updated", |d| {
            session_named(&d["sessions"], "default").is_some_and(|r| r["unassigned"] == 1)
        })
        .await;
    let q = session_named(&f["data"]["sessions"], "default").unwrap();
    assert!(q["oldest_waiting_since"].as_i64().is_some(), "{f}");
    assert!(q["oldest_wait_s"].as_i64().is_some(), "{f}");
    assert_eq!(f["data"]["waiting_conversations"], 1, "{f}");

    // Assigned: the queue shrinks and the agent's load grows.
    let conv = s.conversation_for("447700900001@c.us").await["id"]
        .as_i64()
        .expect("id");
    let (code, r) = s
        .post(
            &format!("/api/conversations/{conv}/assign"),
            json!({"assignee_id": agent_id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let f = boss
        .expect("dashboard.updated", |d| {
            row(&d["members"], "user_id", agent_id).is_some_and(|m| m["open"] == 1)
        })
        .await;
    let q = session_named(&f["data"]["sessions"], "default").expect("the queue changed too");
    assert_eq!(q["unassigned"], 0, "{f}");
    assert_eq!(q["oldest_waiting_since"], Value::Null, "{f}");

    // A change the manager may not see (another session) is not pushed to them: the next
    // update they get is the marker in their own session, and it carries nothing else.
    customer(&s, "other", "447700900002@c.us", "elsewhere").await;
    s.conversation_for("447700900002@c.us").await;
    customer(&s, "default", "447700900003@c.us", "marker").await;
    let frames = boss
        .collect_until(Duration::from_secs(10), |f| {
            f.iter().any(|x| {
                x["type"] == "dashboard.updated"
                    && session_named(&x["data"]["sessions"], "default")
                        .is_some_and(|r| r["unassigned"] == 1)
            })
        })
        .await;
    let updates: Vec<&Value> = frames
        .iter()
        .filter(|x| x["type"] == "dashboard.updated")
        .collect();
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(updates[0]["data"]["sessions"].as_array().unwrap().len(), 1);
    assert!(
        frames
            .iter()
            .all(|x| x.to_string().find("elsewhere").is_none()),
        "{frames:?}"
    );

    // The board as read now agrees with what was pushed.
    let (_, now) = s.as_user(&manager, "GET", "/api/dashboard", None).await;
    assert_eq!(now["waiting_conversations"], 1, "{now}");
    assert_eq!(
        row(&now["members"], "user_id", agent_id).unwrap()["open"],
        1
    );
}
both!(the_board_answers_and_pushes);

async fn counts_are_pushed_when_they_change(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = s.post("/api/sessions", json!({"name": "other"})).await;
    assert!(code == 201 || code == 200, "{r}");
    s.wait_session_status("other", "WORKING").await;
    // The queue is assigned by hand here: the router must not take it meanwhile.
    for name in ["default", "other"] {
        s.auto_assign(name, false).await;
    }
    let (agent, agent_id) = member(&s, "a@test.tickhub", "agent", &["default"]).await;
    let (far, _) = member(&s, "far@test.tickhub", "agent", &["other"]).await;
    let (marketer, _) = member(&s, "mk@test.tickhub", "marketing", &[]).await;

    // Arriving, each member gets their counts.
    let mut ws = connect(&s, &agent).await;
    let first = ws.expect("counts.updated", |_| true).await;
    assert_eq!(
        first["data"],
        json!({"mine": 0, "unassigned": 0, "by_status": {"bot": 0, "pending": 0, "open": 0, "resolved": 0}})
    );
    let mut far_ws = connect(&s, &far).await;
    far_ws
        .expect("counts.updated", |d| d["unassigned"] == 0)
        .await;

    // A new conversation in the agent's session.
    customer(&s, "default", "447700900011@c.us", "hello").await;
    let f = ws.expect("counts.updated", |d| d["unassigned"] == 1).await;
    assert_eq!(f["data"]["mine"], 0);
    assert_eq!(total(&f["data"]["by_status"]), 1, "{f}");

    // Assigned to the agent: theirs now.
    let conv = s.conversation_for("447700900011@c.us").await["id"]
        .as_i64()
        .expect("id");
    let (code, r) = s
        .post(
            &format!("/api/conversations/{conv}/assign"),
            json!({"assignee_id": agent_id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let f = ws.expect("counts.updated", |d| d["mine"] == 1).await;
    assert_eq!(f["data"]["unassigned"], 0, "{f}");
    let (code, read) = s
        .as_user(&agent, "GET", "/api/conversations/counts", None)
        .await;
    assert_eq!(code, 200, "{read}");
    assert_eq!(read, f["data"], "what is read is what was pushed");

    // Another session's member heard nothing of it: their next counts are the marker's.
    customer(&s, "other", "447700900012@c.us", "marker").await;
    let f = far_ws.expect("counts.updated", |_| true).await;
    assert_eq!(f["data"]["unassigned"], 1, "{f}");
    assert_eq!(total(&f["data"]["by_status"]), 1, "{f}");

    // A message in a conversation whose status and assignee stay the same changes no
    // count: the agent's next counts are those of the next real change.
    customer(&s, "default", "447700900011@c.us", "again").await;
    // The simulator delivers its webhook in the background: the message is in before the
    // resolve (in one batch the two would leave the counts as they were, and push none).
    loop {
        let f = ws
            .next(Duration::from_secs(10))
            .await
            .expect("the message's frames");
        assert_ne!(f["type"], "counts.updated", "no count changed: {f}");
        if f["type"] == "message.created" && f["data"]["text"] == "again" {
            break;
        }
    }
    let (code, r) = s
        .post(&format!("/api/conversations/{conv}/resolve"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    let f = ws.expect("counts.updated", |_| true).await;
    assert_eq!(f["data"]["mine"], 0, "{f}");
    assert_eq!(f["data"]["by_status"]["resolved"], 1, "{f}");

    // Supervisors count everything in their sessions; marketing has no inbox.
    let (_, all) = s.get("/api/conversations/counts").await;
    assert_eq!(total(&all["by_status"]), 2, "{all}");
    assert_eq!(all["unassigned"], 1, "{all}");
    let (code, r) = s
        .as_user(&marketer, "GET", "/api/conversations/counts", None)
        .await;
    assert_eq!(code, 403, "{r}");
}
both!(counts_are_pushed_when_they_change);
