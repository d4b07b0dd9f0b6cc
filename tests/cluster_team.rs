//! Cluster mode and the team: capacity holds when two sessions owned by two different
//! nodes assign to the same agents at once (one atomic decision point: the agents' row
//! locks in PostgreSQL), and a deactivated member is cut off on every node. Same harness
//! as tests/cluster.rs (nginx, three nodes, a Redis of the test's own).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::cluster::{Cluster, SESSION};
use common::{Member, MEMBER_PASSWORD};
use futures_util::future::join_all;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(30);

/// A member of `sessions` with `capacity`, logged in.
async fn agent(c: &Cluster, email: &str, sessions: &[&str], capacity: i64) -> Member {
    let (code, m) = c
        .post(
            "/api/team-members",
            json!({"email": email, "name": email, "role": "agent", "password": MEMBER_PASSWORD,
                "sessions": sessions, "capacity": capacity}),
        )
        .await;
    assert_eq!(code, 201, "create {email}: {m}");
    Member {
        id: m["id"].as_i64().expect("id"),
        token: c.login(email, MEMBER_PASSWORD).await,
    }
}

/// Open conversations per assignee.
fn loads(all: &[Value]) -> HashMap<i64, usize> {
    let mut out = HashMap::new();
    for c in all {
        if let (Some(a), false) = (c["assignee_id"].as_i64(), c["status"] == "resolved") {
            *out.entry(a).or_insert(0) += 1;
        }
    }
    out
}

async fn until(c: &Cluster, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let all = c.conversations().await;
        if pred(&all) {
            return all;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: never; loads {:?}",
            loads(&all)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_holds_when_sessions_on_two_nodes_assign_at_once() {
    let c = Cluster::start(3).await;
    let (code, r) = c.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    c.wait_session_status("second", "WORKING").await;
    // Two sessions over three nodes: each node takes at most one.
    let first = c
        .wait_owner(SESSION, WAIT, |o| o.is_some())
        .await
        .expect("an owner");
    let second = c
        .wait_owner("second", WAIT, |o| o.is_some_and(|o| o != first))
        .await
        .expect("another owner");
    assert_ne!(first, second);

    let sessions = [SESSION, "second"];
    let ann = agent(&c, "ann@test.tickhub", &sessions, 3).await;
    let bob = agent(&c, "bob@test.tickhub", &sessions, 3).await;
    // Online, each on a node of their own.
    let _ann_tab = c.socket(0, &ann.token, None).await;
    let _bob_tab = c.socket(1, &bob.token, None).await;
    c.api()
        .eventually("/api/dashboard", WAIT, |d| {
            let online = |id: i64| {
                d["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|m| m["user_id"] == id && m["presence"] == "online")
            };
            online(ann.id) && online(bob.id)
        })
        .await;

    // Forty customers at once, half to each session: both owners drain their queues at
    // the same time, to the same two agents.
    let sim = &c.sim;
    join_all((0..40).map(|i| {
        let session = sessions[i % 2];
        let from = format!("4477090{i:05}@c.us");
        async move {
            sim.control_created(
                "/sim/inbound",
                json!({"session": session, "from": from, "body": "hello"}),
            )
            .await
        }
    }))
    .await;
    let full = |all: &[Value]| {
        let l = loads(all);
        all.len() == 40 && l.get(&ann.id) == Some(&3) && l.get(&bob.id) == Some(&3)
    };
    let all = until(&c, "both agents full", full).await;
    assert_eq!(loads(&all).values().sum::<usize>(), 6, "{:?}", loads(&all));

    // One of Ann's resolved frees one place: exactly one more is assigned, to her (the
    // marker that nothing else was, or will be).
    let hers = all
        .iter()
        .find(|v| v["assignee_id"] == ann.id)
        .and_then(|v| v["id"].as_i64())
        .expect("one of Ann's");
    let (code, r) = c
        .post(&format!("/api/conversations/{hers}/resolve"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    let all = until(&c, "Ann's freed place filled", |all| {
        let resolved = all.iter().filter(|v| v["status"] == "resolved").count();
        resolved == 1 && full(all)
    })
    .await;
    let l = loads(&all);
    assert!(l.values().all(|n| *n <= 3), "{l:?}");
    // Never above capacity at any moment: each automatic assignment records the
    // chosen agent's load when it was chosen.
    for conv in &all {
        let id = conv["id"].as_i64().expect("id");
        let (code, h) = c.get(&format!("/api/conversations/{id}/assignments")).await;
        assert_eq!(code, 200, "{h}");
        for a in h["items"].as_array().into_iter().flatten() {
            let to = a["to_user_id"].as_i64();
            let chosen = a["detail"]["candidates"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["user_id"].as_i64() == to);
            if let Some(x) = chosen {
                assert!(x["load"].as_i64().expect("load") < 3, "{a}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_member_is_cut_off_on_every_node() {
    let c = Cluster::start(3).await;
    let ann = agent(&c, "ann@test.tickhub", &[SESSION], 5).await;
    let mut on_b = c.socket(1, &ann.token, None).await;
    let mut on_c = c.socket(2, &ann.token, None).await;
    // Deactivated through node a, where she has no socket.
    let (code, r) = c
        .api_at(0)
        .post(
            &format!("/api/team-members/{}/deactivate", ann.id),
            json!({}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    for (node, s) in [("b", &mut on_b), ("c", &mut on_c)] {
        let reason = s.closed_within(Duration::from_secs(10)).await;
        assert!(reason.is_some(), "her socket on node {node} stayed open");
    }
    // And she cannot come back on any node.
    for i in 0..3 {
        let (code, _) = c
            .http
            .get(format!("{}/api/auth/me", c.url(i)))
            .bearer_auth(&ann.token)
            .send()
            .await
            .map(|r| (r.status().as_u16(), ()))
            .expect("request");
        assert_eq!(code, 401, "node {i} still takes her token");
    }
}
