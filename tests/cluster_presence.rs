//! Cluster mode and members' own presence choices: every `presence.set` is announced once,
//! in order, on every node — also when what carries it between nodes is lost (Redis
//! restarting, the keeping node dying between two choices). Same harness as
//! tests/cluster.rs (nginx, three nodes, a Redis of the test's own).

mod common;

use std::time::Duration;

use common::agent::Agent;
use common::cluster::{Cluster, ClusterOptions, SESSION};
use common::cluster_checks::LONG;
use common::{Member, Socket};
use serde_json::{json, Value};

/// Longer than a node's Redis client keeps retrying what it was asked to send (about 3 s
/// of reconnects, `cluster::link`), so what was published meanwhile is dropped, not late.
const OUTAGE: Duration = Duration::from_secs(4);

/// Three nodes whose members keep their presence through a Redis outage (their sockets
/// stay open; a grace period far beyond the outage).
async fn cluster() -> Cluster {
    Cluster::with(ClusterOptions {
        nodes: 3,
        env: vec![("TICKHUB_PRESENCE_GRACE_SECS".into(), "60".into())],
    })
    .await
}

/// The coordinator (which keeps presence) once there is one, and the two other nodes.
async fn roles(c: &Cluster) -> (usize, usize, usize) {
    let state = c
        .api()
        .eventually("/api/admin/cluster", LONG, |b| b["coordinator"].is_string())
        .await;
    let keeper = c.index_of(state["coordinator"].as_str().unwrap_or(""));
    let mut others = (0..c.len()).filter(|i| *i != keeper);
    let member_node = others.next().expect("a second node");
    let observer_node = others.next().expect("a third node");
    (keeper, member_node, observer_node)
}

/// `presence.set` on `ws`, once the node acknowledged it.
async fn choose(ws: &mut Socket, status: &str) {
    let r = format!("set-{status}-{}", common::now_ms());
    ws.send(json!({"type": "presence.set", "data": {"status": status}, "ref": r}))
        .await;
    ws.expect("ack", |d| d["ref"] == r.as_str()).await;
}

/// `user`'s `presence.updated` frames, as (status, cause), in arrival order.
fn updates(frames: &[Value], user: i64) -> Vec<(String, String)> {
    frames
        .iter()
        .filter(|v| v["type"] == "presence.updated" && v["data"]["user_id"] == user)
        .map(|v| {
            (
                v["data"]["status"].as_str().unwrap_or("").to_string(),
                v["data"]["cause"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn saw(frames: &[Value], user: i64, status: &str) -> bool {
    updates(frames, user).iter().any(|(s, _)| s == status)
}

/// Ana (on `member_node`) and Bea (the marker, same node) online, seen by a supervisor
/// on `observer_node`.
async fn members(
    c: &Cluster,
    member_node: usize,
    observer_node: usize,
) -> (Agent, Member, Socket, Member, Socket) {
    let boss = c.member("boss@test.tickhub", "manager", &[SESSION]).await;
    let mut sup = Agent::on_node(c, observer_node, "boss", &boss.token).await;
    let ana = c.member("ana@test.tickhub", "agent", &[SESSION]).await;
    let bea = c.member("bea@test.tickhub", "agent", &[SESSION]).await;
    let ana_ws = c.socket(member_node, &ana.token, None).await;
    let bea_ws = c.socket(member_node, &bea.token, None).await;
    sup.read_until(c, LONG, |f| {
        saw(f, ana.id, "online") && saw(f, bea.id, "online")
    })
    .await;
    (sup, ana, ana_ws, bea, bea_ws)
}

/// After Ana's last choice, Bea's (made later, on the same node) is the marker: once the
/// supervisor has it, Ana's choices were each announced once, in order, and nothing else.
async fn assert_announced_in_order(
    c: &Cluster,
    sup: &mut Agent,
    ana: &Member,
    bea: &Member,
    bea_ws: &mut Socket,
) {
    choose(bea_ws, "busy").await;
    sup.read_until(c, LONG, |f| saw(f, bea.id, "busy")).await;
    let pair = |s: &str, c: &str| (s.to_string(), c.to_string());
    assert_eq!(
        updates(&sup.frames, ana.id),
        vec![
            pair("online", "first_socket"),
            pair("busy", "set_by_member"),
            pair("away", "set_by_member"),
            pair("online", "set_by_member"),
        ],
        "every choice of Ana's once, in order; {}",
        sup.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choices_made_while_redis_is_away_are_each_announced_once_in_order() {
    let mut c = cluster().await;
    let (_, member_node, observer_node) = roles(&c).await;
    let (mut sup, ana, mut ana_ws, bea, mut bea_ws) = members(&c, member_node, observer_node).await;

    // Two quick choices while Redis is down: whatever pub/sub was to carry is lost.
    c.redis_stop();
    choose(&mut ana_ws, "busy").await;
    choose(&mut ana_ws, "away").await;
    tokio::time::sleep(OUTAGE).await;
    c.redis_restart().await;
    choose(&mut ana_ws, "online").await;

    assert_announced_in_order(&c, &mut sup, &ana, &bea, &mut bea_ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choices_made_while_the_keeper_dies_are_each_announced_once_in_order() {
    let mut c = cluster().await;
    let (keeper, member_node, observer_node) = roles(&c).await;
    let (mut sup, ana, mut ana_ws, bea, mut bea_ws) = members(&c, member_node, observer_node).await;

    // The node keeping presence dies; two quick choices before another takes over.
    c.kill9(keeper);
    choose(&mut ana_ws, "busy").await;
    choose(&mut ana_ws, "away").await;
    c.api()
        .eventually("/api/admin/cluster", LONG, |b| {
            b["coordinator"].is_string() && b["coordinator"] != c.id(keeper)
        })
        .await;
    choose(&mut ana_ws, "online").await;

    assert_announced_in_order(&c, &mut sup, &ana, &bea, &mut bea_ws).await;
}

/// Every node answers a member's status (team lists, the board) from the keeper's logged
/// decisions, which reach it through the event log: also a decision made while Redis was
/// away, which pub/sub would have lost for good (nodes then answered the old status until
/// the member's next change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_answers_the_status_decided_while_redis_was_away() {
    let mut c = cluster().await;
    let (_, member_node, observer_node) = roles(&c).await;
    let (mut sup, ana, mut ana_ws, _bea, _bea_ws) = members(&c, member_node, observer_node).await;
    let path = format!("/api/team-members/{}?include=presence", ana.id);
    for i in 0..c.len() {
        c.api_at(i)
            .eventually(&path, LONG, |m| m["presence"] == "online")
            .await;
    }

    c.redis_stop();
    choose(&mut ana_ws, "busy").await;
    sup.read_until(&c, LONG, |f| saw(f, ana.id, "busy")).await;
    // Redis is still away: each node learns it from the log alone.
    for i in 0..c.len() {
        c.api_at(i)
            .eventually(&path, LONG, |m| m["presence"] == "busy")
            .await;
    }
    c.redis_restart().await;
}
