//! Cluster mode and campaigns (issue 18): exactly one node sends a campaign (the owner of
//! its session), and when that node is killed mid-campaign another takes the session and
//! resumes it, each recipient reached exactly once (checked at the simulator). Same
//! harness as tests/cluster.rs (nginx, three nodes, a Redis of the test's own).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::cluster::{Cluster, ClusterOptions, SESSION};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(60);
const TEXT: &str = "Cluster offer";

async fn campaign_sends(c: &Cluster) -> Vec<Value> {
    sends_with(c, TEXT).await
}

async fn sends_with(c: &Cluster, text: &str) -> Vec<Value> {
    c.sim
        .get("/sim/sent")
        .await
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["text"] == text)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_campaign_is_taken_over_and_nobody_gets_it_twice() {
    let mut c = Cluster::with(ClusterOptions {
        nodes: 3,
        env: vec![("TICKHUB_SEND_RATE".into(), "50".into())],
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let (code, r) = c
            .post(
                "/api/contacts",
                json!({"session": SESSION, "phone": format!("+4477009800{i:02}"), "name": "Node"}),
            )
            .await;
        assert_eq!(code, 201, "{r}");
        ids.push(r["id"].as_i64().expect("id"));
    }
    let (code, camp) = c
        .post(
            "/api/campaigns",
            json!({"name": "Cluster", "session": SESSION, "contact_ids": ids, "template": TEXT,
                   "rate_per_minute": 300, "jitter": 0.2}),
        )
        .await;
    assert_eq!(code, 201, "{camp}");
    let id = camp["id"].clone();
    let owner = c
        .wait_owner(SESSION, Duration::from_secs(20), |o| o.is_some())
        .await
        .expect("an owner");
    let (code, r) = c
        .post(&format!("/api/campaigns/{id}/start"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");

    let deadline = tokio::time::Instant::now() + WAIT;
    while campaign_sends(&c).await.len() < 8 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the campaign never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let dead = c.index_of(&owner);
    c.kill9(dead);
    let at_kill = campaign_sends(&c).await.len();
    assert!(at_kill < 30, "killed mid-campaign ({at_kill} sent)");
    let moved = c
        .wait_owner(SESSION, Duration::from_secs(20), |o| {
            o.is_some_and(|o| o != owner)
        })
        .await;
    assert!(
        moved.is_some(),
        "nobody took the session after {owner} died"
    );

    c.eventually(&format!("/api/campaigns/{id}"), |v| {
        v["status"] == "completed"
    })
    .await;
    c.sim_settled().await;
    let mut per_chat: HashMap<String, usize> = HashMap::new();
    for m in campaign_sends(&c).await {
        *per_chat
            .entry(m["chatId"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    assert_eq!(per_chat.len(), 30, "everyone reached: {per_chat:?}");
    assert!(
        per_chat.values().all(|n| *n == 1),
        "nobody twice: {per_chat:?}"
    );
    let v = c
        .eventually(&format!("/api/campaigns/{id}"), |v| {
            v["counts"]["read"] == 30
        })
        .await;
    assert_eq!(v["counts"]["total"], 30, "{v}");
}

/// A campaign over two sessions: each session's share is sent by the node that owns that
/// session, from that session; killing one owner mid-campaign hands its share to another
/// node, and still nobody gets it twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_each_sent_by_its_owner_and_taken_over() {
    const TWO: &str = "Cluster two";
    let mut c = Cluster::with(ClusterOptions {
        nodes: 3,
        env: vec![("TICKHUB_SEND_RATE".into(), "50".into())],
    })
    .await;
    let (code, r) = c.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    c.wait_session_status("second", "WORKING").await;
    let mut ids = Vec::new();
    let mut want: HashMap<String, &str> = HashMap::new();
    for i in 0..30 {
        let session = if i % 2 == 0 { SESSION } else { "second" };
        let phone = format!("+4477009810{i:02}");
        let (code, r) = c
            .post(
                "/api/contacts",
                json!({"session": session, "phone": phone, "name": "Two"}),
            )
            .await;
        assert_eq!(code, 201, "{r}");
        ids.push(r["id"].as_i64().expect("id"));
        want.insert(format!("4477009810{i:02}@c.us"), session);
    }
    let (code, camp) = c
        .post(
            "/api/campaigns",
            json!({"name": "Two", "sessions": [SESSION, "second"], "contact_ids": ids,
                   "template": TWO, "rate_per_minute": 150, "jitter": 0.2}),
        )
        .await;
    assert_eq!(code, 201, "{camp}");
    let id = camp["id"].clone();
    let owner = c
        .wait_owner("second", Duration::from_secs(20), |o| o.is_some())
        .await
        .expect("an owner of second");
    c.wait_owner(SESSION, Duration::from_secs(20), |o| o.is_some())
        .await
        .expect("an owner of default");
    let (code, r) = c
        .post(&format!("/api/campaigns/{id}/start"), json!({}))
        .await;
    assert_eq!(code, 200, "{r}");
    let deadline = tokio::time::Instant::now() + WAIT;
    while sends_with(&c, TWO)
        .await
        .iter()
        .filter(|m| m["session"] == "second")
        .count()
        < 3
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "second never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.kill9(c.index_of(&owner));
    assert!(sends_with(&c, TWO).await.len() < 30, "killed mid-campaign");
    c.eventually(&format!("/api/campaigns/{id}"), |v| {
        v["status"] == "completed"
    })
    .await;
    c.sim_settled().await;
    let mut per_chat: HashMap<String, Vec<String>> = HashMap::new();
    for m in sends_with(&c, TWO).await {
        per_chat
            .entry(m["chatId"].as_str().unwrap_or_default().to_string())
            .or_default()
            .push(m["session"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(per_chat.len(), 30, "everyone reached: {per_chat:?}");
    for (chat, session) in &want {
        assert_eq!(
            per_chat.get(chat),
            Some(&vec![session.to_string()]),
            "{chat}: once, from {session}"
        );
    }
}
