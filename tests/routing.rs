//! Automatic assignment end to end, on both databases, against a real hub and real
//! sockets: fairness over many conversations, the capacity bound under conversations
//! arriving at once (on PostgreSQL's parallel writers, in two sessions sharing agents),
//! the queue drained first in, first out when an agent comes online or frees up, an
//! offline member's conversations returned to the queue after the grace period (and kept
//! when they come back), automatic assignment turned off and on, working hours, the why
//! of each assignment, and who may read the queue and the history.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Datelike, Utc};
use common::{envelope, inbound_payload, Backend, Member, Options, Setup, Socket};
use futures_util::future::join_all;
use serde_json::{json, Value};

static UNIQUE: AtomicUsize = AtomicUsize::new(1);

/// A member's live socket, read continuously (so the hub never finds it too slow), its
/// frames kept.
struct Live {
    frames: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Live {
    async fn connect(s: &Setup, m: &Member) -> Live {
        let mut ws = Socket::connect(&s.hub.url, &m.token, None).await;
        let frames = Arc::new(Mutex::new(Vec::new()));
        let keep = frames.clone();
        let task = tokio::spawn(async move {
            while let Some(f) = ws.next(Duration::from_secs(3600)).await {
                keep.lock().expect("frames").push(f);
            }
        });
        wait_presence(s, m.id, "online").await;
        Live { frames, task }
    }

    fn frames(&self, kind: &str) -> Vec<Value> {
        self.frames
            .lock()
            .expect("frames")
            .iter()
            .filter(|f| f["type"] == kind)
            .map(|f| f["data"].clone())
            .collect()
    }

    /// Drops the socket (the hub sees it close).
    fn close(self) {
        self.task.abort();
    }
}

async fn wait_presence(s: &Setup, id: i64, status: &str) {
    s.eventually(&format!("/api/team-members/{id}?include=presence"), |m| {
        m["presence"] == status
    })
    .await;
}

async fn agents(s: &Setup, n: usize, fields: Value) -> Vec<Member> {
    let mut out = Vec::new();
    for _ in 0..n {
        let email = format!(
            "agent{}@routing.test",
            UNIQUE.fetch_add(1, Ordering::Relaxed)
        );
        out.push(s.member_with(&email, "agent", fields.clone()).await);
    }
    out
}

/// A customer's first message in a new chat of `session`; answers the chat id once the
/// webhook is stored.
async fn arrives(s: &Setup, session: &str) -> String {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    let chat = format!("4478{n:08}@c.us");
    let mut env = envelope(
        "message",
        inbound_payload(&chat, &format!("false_{chat}_{n}"), "hello"),
    );
    env["session"] = json!(session);
    let (code, r) = s.webhook(&env).await;
    assert_eq!(code, 200, "{r}");
    chat
}

/// `n` conversations arriving at once (their webhooks posted together).
async fn arrive_at_once(s: &Setup, sessions: &[&str], n: usize) -> Vec<String> {
    join_all((0..n).map(|i| arrives(s, sessions[i % sessions.len()]))).await
}

/// Every conversation by chat id.
async fn by_chat(s: &Setup) -> HashMap<String, Value> {
    s.conversations()
        .await
        .into_iter()
        .map(|c| (c["chat_id"].as_str().expect("chat").to_string(), c))
        .collect()
}

/// Open conversations per assignee.
fn loads(all: &HashMap<String, Value>) -> HashMap<i64, usize> {
    let mut out = HashMap::new();
    for c in all.values() {
        if let (Some(a), false) = (c["assignee_id"].as_i64(), c["status"] == "resolved") {
            *out.entry(a).or_insert(0) += 1;
        }
    }
    out
}

/// Polls the conversations until `pred` holds.
async fn until(
    s: &Setup,
    what: &str,
    pred: impl Fn(&HashMap<String, Value>) -> bool,
) -> HashMap<String, Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let all = by_chat(s).await;
        if pred(&all) {
            return all;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: never happened; loads {:?}",
            loads(&all)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn id_of(all: &HashMap<String, Value>, chat: &str) -> i64 {
    all[chat]["id"].as_i64().expect("id")
}

fn assignee(all: &HashMap<String, Value>, chat: &str) -> Option<i64> {
    all[chat]["assignee_id"].as_i64()
}

async fn history(s: &Setup, id: i64) -> Vec<Value> {
    let (code, h) = s.get(&format!("/api/conversations/{id}/assignments")).await;
    assert_eq!(code, 200, "{h}");
    h["items"].as_array().cloned().expect("items")
}

async fn queue(s: &Setup, session: &str) -> Vec<Value> {
    let (code, q) = s.get(&format!("/api/sessions/{session}/queue")).await;
    assert_eq!(code, 200, "{q}");
    assert_eq!(q["next_cursor"], Value::Null);
    q["items"].as_array().cloned().expect("items")
}

async fn second_session(s: &Setup) {
    let (code, r) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    s.wait_session_status("second", "WORKING").await;
}

async fn fairness_over_five_agents(b: Backend) {
    let s = Setup::new(b).await;
    let team = agents(&s, 5, json!({"sessions": ["default"], "capacity": 30})).await;
    let mut live = Vec::new();
    for m in &team {
        live.push(Live::connect(&s, m).await);
    }
    let mut chats = Vec::new();
    for _ in 0..5 {
        chats.extend(arrive_at_once(&s, &["default"], 20).await);
    }
    let all = until(&s, "100 assigned", |all| {
        chats.iter().all(|c| assignee(all, c).is_some())
    })
    .await;
    let loads = loads(&all);
    for m in &team {
        assert_eq!(loads.get(&m.id), Some(&20), "{loads:?}");
    }
    // Each agent was told of each of theirs, with the rule that chose them.
    for (m, l) in team.iter().zip(&live) {
        let told = l.frames("conversation.assigned");
        assert!(
            told.iter().all(|d| d["assignee_id"] == m.id
                && ["least_loaded", "longest_idle", "lowest_id"]
                    .contains(&d["rule"].as_str().unwrap_or(""))
                && d["handoff_reason"].is_null()),
            "{told:?}"
        );
    }
    // The why of the last one: every agent a candidate, their loads, and the rule.
    let last = id_of(&all, chats.last().expect("chats"));
    let h = history(&s, last).await;
    assert_eq!(h.len(), 1, "{h:?}");
    let a = &h[0];
    assert_eq!(a["reason"], "auto");
    assert_eq!(a["by_user_id"], Value::Null);
    assert_eq!(a["from_user_id"], Value::Null);
    let detail = &a["detail"];
    let candidates = detail["candidates"].as_array().expect("candidates");
    assert_eq!(candidates.len(), 5, "{detail}");
    let chosen = a["to_user_id"].as_i64().expect("to");
    let chosen_load = candidates
        .iter()
        .find(|c| c["user_id"] == chosen)
        .expect("the chosen is a candidate")["load"]
        .as_i64()
        .expect("load");
    for c in candidates {
        assert_eq!(c["capacity"], 30, "{c}");
        assert_eq!(c["eligible"], true, "{c}");
        assert!(c["load"].as_i64().expect("load") >= chosen_load, "{detail}");
    }
    let rule = detail["rule"].as_str().expect("rule");
    assert!(
        ["least_loaded", "longest_idle", "lowest_id"].contains(&rule),
        "{detail}"
    );
    for l in live {
        l.close();
    }
}
both!(fairness_over_five_agents);

async fn capacity_holds_when_conversations_arrive_at_once(b: Backend) {
    let s = Setup::new(b).await;
    second_session(&s).await;
    let team = agents(
        &s,
        3,
        json!({"sessions": ["default", "second"], "capacity": 3}),
    )
    .await;
    let mut live = Vec::new();
    for m in &team {
        live.push(Live::connect(&s, m).await);
    }
    // Two sessions drained at once share the agents: on PostgreSQL their assignments run
    // on parallel writers and meet at the agents' row locks.
    let chats = arrive_at_once(&s, &["default", "second"], 50).await;
    let full = |all: &HashMap<String, Value>| {
        let l = loads(all);
        team.iter().all(|m| l.get(&m.id) == Some(&3))
    };
    let all = until(&s, "every agent full", full).await;
    let l = loads(&all);
    assert_eq!(l.values().sum::<usize>(), 9, "{l:?}");
    let waiting = queue(&s, "default").await.len() + queue(&s, "second").await.len();
    assert_eq!(waiting, 41);
    // One conversation resolved frees one place, and exactly one more is assigned, to
    // the agent who freed it: the marker that nothing else was, or will be, assigned.
    let theirs = chats
        .iter()
        .find(|c| assignee(&all, c) == Some(team[0].id))
        .expect("one of agent 0's");
    let (code, r) = s
        .post(
            &format!("/api/conversations/{}/resolve", id_of(&all, theirs)),
            json!({}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let all = until(&s, "the freed place filled", full).await;
    let l = loads(&all);
    assert!(l.values().all(|n| *n <= 3), "{l:?}");
    assert_eq!(l.values().sum::<usize>(), 9, "{l:?}");
    let waiting = queue(&s, "default").await.len() + queue(&s, "second").await.len();
    assert_eq!(waiting, 40);
    // Never above capacity at any moment: each agent's history of automatic
    // assignments says what their load was when chosen.
    for c in &chats {
        for a in history(&s, id_of(&all, c)).await {
            let to = a["to_user_id"].as_i64();
            let mine = a["detail"]["candidates"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["user_id"].as_i64() == to);
            if let Some(x) = mine {
                assert!(x["load"].as_i64().expect("load") < 3, "{a}");
            }
        }
    }
    for l in live {
        l.close();
    }
}
both!(capacity_holds_when_conversations_arrive_at_once);

async fn the_queue_drains_in_arrival_order(b: Backend) {
    let s = Setup::new(b).await;
    let team = agents(&s, 1, json!({"sessions": ["default"], "capacity": 2})).await;
    let ann = &team[0];
    let mut chats = Vec::new();
    for _ in 0..4 {
        chats.push(arrives(&s, "default").await);
    }
    let all = by_chat(&s).await;
    let ids: Vec<i64> = chats.iter().map(|c| id_of(&all, c)).collect();
    // Nobody online: all four wait, in the order they came.
    let q = queue(&s, "default").await;
    let order: Vec<i64> = q
        .iter()
        .map(|i| i["conversation_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(order, ids);
    for (i, item) in q.iter().enumerate() {
        assert_eq!(item["position"], i as i64 + 1);
        assert_eq!(item["status"], "pending");
        assert_eq!(item["handoff_reason"], Value::Null);
        assert!(item["waiting_since"].as_i64().is_some());
        assert!(item["title"].is_string());
    }
    // Paged, the positions run on.
    let (_, first) = s.get("/api/sessions/default/queue?limit=3").await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (code, rest) = s
        .get(&format!(
            "/api/sessions/default/queue?limit=3&cursor={}",
            common::urlencode(cursor)
        ))
        .await;
    assert_eq!(code, 200, "{rest}");
    assert_eq!(rest["items"][0]["position"], 4, "{rest}");
    assert_eq!(rest["items"][0]["conversation_id"], ids[3], "{rest}");
    assert_eq!(rest["next_cursor"], Value::Null, "{rest}");
    // Ann comes online: the two oldest are hers, the others keep their order.
    let live = Live::connect(&s, ann).await;
    let all = until(&s, "two assigned", |all| {
        loads(all).get(&ann.id) == Some(&2)
    })
    .await;
    assert_eq!(assignee(&all, &chats[0]), Some(ann.id));
    assert_eq!(assignee(&all, &chats[1]), Some(ann.id));
    let left: Vec<i64> = queue(&s, "default")
        .await
        .iter()
        .map(|i| i["conversation_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(left, ids[2..].to_vec());
    // She frees one place: the next in line is hers, the last still waits.
    let (code, r) = s
        .post(&format!("/api/conversations/{}/resolve", ids[0]), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    let all = until(&s, "the third assigned", |all| {
        assignee(all, &chats[2]).is_some()
    })
    .await;
    assert_eq!(assignee(&all, &chats[2]), Some(ann.id));
    assert_eq!(assignee(&all, &chats[3]), None);
    let told: Vec<i64> = live
        .frames("conversation.assigned")
        .iter()
        .map(|d| d["conversation_id"].as_i64().expect("id"))
        .collect();
    assert_eq!(told, ids[..3].to_vec(), "told in the order assigned");
    live.close();
}
both!(the_queue_drains_in_arrival_order);

fn grace(secs: u64) -> Options {
    Options {
        env: vec![
            ("TICKHUB_REQUEUE_GRACE_SECS".into(), secs.to_string()),
            ("TICKHUB_PRESENCE_GRACE_SECS".into(), "0".into()),
        ],
        ..Default::default()
    }
}

fn reasons(h: &[Value]) -> Vec<String> {
    h.iter()
        .map(|a| a["reason"].as_str().expect("reason").to_string())
        .collect()
}

async fn an_offline_agents_conversations_return_after_the_grace(b: Backend) {
    let s = Setup::with(b, grace(1)).await;
    let team = agents(&s, 3, json!({"sessions": ["default"]})).await;
    let (ann, bob, cid) = (&team[0], &team[1], &team[2]);
    // Ann takes X, goes offline and comes back within the grace period.
    let live = Live::connect(&s, ann).await;
    let x = arrives(&s, "default").await;
    until(&s, "X to Ann", |all| assignee(all, &x) == Some(ann.id)).await;
    live.close();
    wait_presence(&s, ann.id, "offline").await;
    let ann_live = Live::connect(&s, ann).await;
    // A manager takes M by hand and goes offline: what a supervisor took stays theirs.
    let mo = s.member("mo@routing.test", "manager", &["default"]).await;
    let m = arrives(&s, "default").await;
    let all = until(&s, "M to Ann", |all| assignee(all, &m) == Some(ann.id)).await;
    let (code, r) = s
        .post(
            &format!("/api/conversations/{}/assign", id_of(&all, &m)),
            json!({"assignee_id": mo.id}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    Live::connect(&s, &mo).await.close();
    wait_presence(&s, mo.id, "offline").await;
    // Cid takes Y (Ann has more) and goes offline for good: Y comes back to the queue
    // after the grace and goes to Ann, the only one online.
    let cid_live = Live::connect(&s, cid).await;
    let y = arrives(&s, "default").await;
    until(&s, "Y to Cid", |all| assignee(all, &y) == Some(cid.id)).await;
    cid_live.close();
    let all = until(&s, "Y requeued to Ann", |all| {
        assignee(all, &y) == Some(ann.id)
    })
    .await;
    let hy = history(&s, id_of(&all, &y)).await;
    assert_eq!(
        reasons(&hy),
        ["auto", "requeued: offline", "auto"],
        "{hy:?}"
    );
    assert_eq!(hy[1]["from_user_id"], cid.id);
    assert_eq!(hy[1]["to_user_id"], Value::Null);
    assert_eq!(hy[1]["by_user_id"], Value::Null);
    // Ann's and the manager's graces began before Cid's and would have ended first: she
    // came back, so X never left her; the manager's M stayed theirs.
    assert_eq!(assignee(&all, &x), Some(ann.id));
    assert_eq!(reasons(&history(&s, id_of(&all, &x)).await), ["auto"]);
    assert_eq!(assignee(&all, &m), Some(mo.id));
    assert_eq!(
        reasons(&history(&s, id_of(&all, &m)).await),
        ["auto", "assigned"]
    );
    // Bob comes online, Ann leaves for good: both go to Bob.
    let bob_live = Live::connect(&s, bob).await;
    ann_live.close();
    let all = until(&s, "X and Y to Bob", |all| {
        assignee(all, &x) == Some(bob.id) && assignee(all, &y) == Some(bob.id)
    })
    .await;
    let hx = history(&s, id_of(&all, &x)).await;
    assert_eq!(
        reasons(&hx),
        ["auto", "requeued: offline", "auto"],
        "{hx:?}"
    );
    // The audit log has the hub's own entries for each.
    let (_, log) = s
        .get(&format!(
            "/api/audit-log?action=conversation.assign&target_id={}",
            id_of(&all, &x)
        ))
        .await;
    let entries = log["items"].as_array().expect("items");
    assert_eq!(entries.len(), 3, "{log}");
    assert!(
        entries
            .iter()
            .all(|e| e["via"] == "system" && e["actor_id"].is_null()),
        "{log}"
    );
    bob_live.close();
}
both!(an_offline_agents_conversations_return_after_the_grace);

async fn auto_assign_off_leaves_them_waiting_and_on_drains(b: Backend) {
    let s = Setup::new(b).await;
    second_session(&s).await;
    let team = agents(&s, 1, json!({"sessions": ["default", "second"]})).await;
    let ann = &team[0];
    s.auto_assign("default", false).await;
    let (_, view) = s.get("/api/sessions/default").await;
    assert_eq!(view["auto_assign"], false);
    let live = Live::connect(&s, ann).await;
    let z = arrives(&s, "default").await;
    // The marker: a conversation of a session that assigns, after Z, reaches Ann.
    let w = arrives(&s, "second").await;
    let all = until(&s, "W to Ann", |all| assignee(all, &w) == Some(ann.id)).await;
    assert_eq!(
        assignee(&all, &z),
        None,
        "nothing is routed while it is off"
    );
    let q = queue(&s, "default").await;
    assert_eq!(q.len(), 1);
    assert_eq!(q[0]["conversation_id"], id_of(&all, &z));
    // On again: the queue drains.
    s.auto_assign("default", true).await;
    let all = until(&s, "Z to Ann", |all| assignee(all, &z) == Some(ann.id)).await;
    assert!(queue(&s, "default").await.is_empty());
    let (_, log) = s.get("/api/audit-log?action=session.settings").await;
    let entries = log["items"].as_array().expect("items");
    assert_eq!(entries[0]["before"], json!({"auto_assign": false}), "{log}");
    assert_eq!(entries[0]["after"], json!({"auto_assign": true}), "{log}");
    assert_eq!(entries[1]["after"], json!({"auto_assign": false}), "{log}");
    let switched_on = entries[0]["at"].as_i64().expect("at");
    let h = history(&s, id_of(&all, &z)).await;
    assert!(h[0]["at"].as_i64().expect("at") >= switched_on, "{h:?}");
    live.close();
}
both!(auto_assign_off_leaves_them_waiting_and_on_drains);

/// Hours on one weekday only, three days from today (UTC): never now.
fn hours_elsewhere() -> Value {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = Utc::now().weekday().num_days_from_monday() as usize;
    json!({"time_zone": "UTC", "weekly": {DAYS[(today + 3) % 7]: [["00:00", "24:00"]]}})
}

async fn working_hours_exclude_a_member(b: Backend) {
    let s = Setup::new(b).await;
    let off_duty = agents(
        &s,
        1,
        json!({"sessions": ["default"], "working_hours": hours_elsewhere()}),
    )
    .await
    .remove(0);
    let on_duty = agents(&s, 1, json!({"sessions": ["default"]}))
        .await
        .remove(0);
    let l1 = Live::connect(&s, &off_duty).await;
    let l2 = Live::connect(&s, &on_duty).await;
    let chats = [arrives(&s, "default").await, arrives(&s, "default").await];
    let all = until(&s, "both to the one on duty", |all| {
        chats.iter().all(|c| assignee(all, c) == Some(on_duty.id))
    })
    .await;
    let h = history(&s, id_of(&all, &chats[1])).await;
    let detail = &h[0]["detail"];
    assert_eq!(detail["rule"], "least_loaded", "{detail}");
    let candidates = detail["candidates"].as_array().expect("candidates");
    let off = candidates
        .iter()
        .find(|c| c["user_id"] == off_duty.id)
        .expect("the off-duty member is listed");
    assert_eq!(off["eligible"], false);
    assert_eq!(off["excluded_because"], "outside_hours");
    let on = candidates
        .iter()
        .find(|c| c["user_id"] == on_duty.id)
        .expect("listed");
    assert_eq!(
        (on["eligible"].clone(), on["load"].clone()),
        (json!(true), json!(1))
    );
    // Their hours change to always: the next conversation is theirs (least loaded).
    let (code, r) = s
        .patch(
            &format!("/api/team-members/{}", off_duty.id),
            json!({"working_hours": null}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let next = arrives(&s, "default").await;
    let all = until(&s, "the next to the member now on duty", |all| {
        assignee(all, &next).is_some()
    })
    .await;
    assert_eq!(assignee(&all, &next), Some(off_duty.id));
    l1.close();
    l2.close();
}
both!(working_hours_exclude_a_member);

async fn who_may_read_the_queue_and_the_why(b: Backend) {
    let s = Setup::new(b).await;
    second_session(&s).await;
    let manager = s.member("boss@routing.test", "manager", &["default"]).await;
    let agent = s.member("ag@routing.test", "agent", &["default"]).await;
    let sales = s.member("sa@routing.test", "sales", &["default"]).await;
    let marketing = s.member("mk@routing.test", "marketing", &["default"]).await;
    let chat = arrives(&s, "default").await;
    let id = id_of(&by_chat(&s).await, &chat);
    let cases = [
        (&manager, "/api/sessions/default/queue", 200),
        (&manager, "/api/sessions/second/queue", 404),
        (&agent, "/api/sessions/default/queue", 403),
        (&agent, "/api/sessions/second/queue", 404),
        (&sales, "/api/sessions/default/queue", 403),
        (&marketing, "/api/sessions/default/queue", 403),
        (&agent, "/api/sessions/nowhere/queue", 404),
    ];
    for (m, path, want) in cases {
        let got = s.as_user(&m.token, "GET", path, None).await;
        if want == 200 {
            assert_eq!(got.0, 200, "{path}: {got:?}");
            assert_eq!(got.1["items"][0]["conversation_id"], id);
        } else {
            common::assert_error(path, got, want);
        }
    }
    // The history is the conversation's: whoever may see the conversation reads it.
    let path = format!("/api/conversations/{id}/assignments");
    for m in [&manager, &agent, &sales] {
        let (code, h) = s.as_user(&m.token, "GET", &path, None).await;
        assert_eq!(code, 200, "{h}");
    }
    common::assert_error(
        "marketing",
        s.as_user(&marketing.token, "GET", &path, None).await,
        403,
    );
    // Once it is the agent's, they read why; to a colleague it no longer exists.
    let (code, r) = s
        .as_user(
            &agent.token,
            "POST",
            &format!("/api/conversations/{id}/assign"),
            Some(json!({"assignee_id": agent.id})),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, h) = s.as_user(&agent.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{h}");
    let last = h["items"].as_array().and_then(|i| i.last()).cloned();
    assert_eq!(
        last.map(|a| a["to_user_id"].clone()),
        Some(json!(agent.id)),
        "{h}"
    );
    common::assert_error(
        "a colleague's",
        s.as_user(&sales.token, "GET", &path, None).await,
        404,
    );
    let missing = "/api/conversations/999999/assignments";
    common::assert_error(missing, s.get(missing).await, 404);
    common::assert_error(
        "no token",
        s.as_user("", "GET", "/api/sessions/default/queue", None)
            .await,
        401,
    );
}
both!(who_may_read_the_queue_and_the_why);
