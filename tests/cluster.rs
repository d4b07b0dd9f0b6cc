//! Cluster mode (contract §4) against a real cluster on this machine: three (or more)
//! `tickhub serve` nodes on loopback, one PostgreSQL, a Redis of the test's own and nginx
//! in front (round robin, no stickiness). WAHA's webhooks and the agents' reconnects go
//! through nginx, as in a deployment; a test opens a socket straight on a node when it
//! needs one there. Needs `nginx` and `redis-server` installed (scripts/test checks).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::agent::Agent;
use common::cluster::{metric, Cluster, ClusterOptions, SESSION};
use common::cluster_checks::{
    assert_agents_saw, assert_one_reply_each, assert_stored_once, chats, managers_on_each_node,
    marker, order_bot, stream, LONG, REPLY,
};
use common::nginx::UPSTREAM_HEADER;
use common::{envelope, inbound_payload};
use futures_util::future::join_all;
use serde_json::{json, Value};

/// Status of GET `path` through nginx, and the node that answered it.
async fn lb_get(c: &Cluster, path: &str) -> (u16, String) {
    let r = c
        .http
        .get(format!("{}{path}", c.lb_url()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path} through nginx: {e}"));
    let node = r
        .headers()
        .get(UPSTREAM_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (r.status().as_u16(), node)
}

/// Waits until node `i`'s `/readyz` answers `want`.
async fn readyz_becomes(c: &Cluster, i: usize, want: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = c.probe(i, "/readyz").await;
        if got == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}'s /readyz still answers {got}, want {want}",
            c.id(i)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_runs_a_cluster_behind_nginx() {
    let mut c = Cluster::start(3).await;
    assert_eq!(lb_get(&c, "/readyz").await.0, 200);
    for i in 0..3 {
        assert_eq!(c.probe(i, "/healthz").await, 200, "{}", c.id(i));
        let s = c.socket(i, &c.token, None).await;
        assert_eq!(s.hello["data"]["node"], c.id(i), "{}", s.hello);
    }
    // Round robin, no stickiness: one client's requests reach every node.
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let (code, node) = lb_get(&c, "/healthz").await;
        assert_eq!(code, 200);
        seen.insert(c.index_of_addr(&node).expect("a node answered"));
    }
    assert_eq!(seen.len(), 3, "nginx spreads requests over every node");

    // A dead node is skipped: every request still finds a live one.
    c.kill9(0);
    for _ in 0..10 {
        let (code, node) = lb_get(&c, "/readyz").await;
        assert_eq!(code, 200, "/readyz through nginx with node a dead");
        assert_ne!(c.index_of_addr(&node), Some(0));
    }

    // Without Redis a node is not ready (so a balancer stops sending it traffic); once
    // Redis is back, it is again, by itself.
    c.redis_stop();
    readyz_becomes(&c, 1, 503).await;
    assert_eq!(c.probe(1, "/healthz").await, 200, "the process is still up");
    c.redis_restart().await;
    readyz_becomes(&c, 1, 200).await;
    readyz_becomes(&c, 2, 200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_on_any_node_reach_agents_on_every_node_in_order() {
    const CHATS: usize = 6;
    const PER_CHAT: usize = 8;
    let c = Cluster::start(3).await;
    // Unassigned conversations reach every agent of the session.
    c.auto_assign(SESSION, false).await;
    let mut agents = Vec::new();
    for i in 0..3 {
        let name = format!("agent-{}", c.id(i));
        let m = c
            .member(&format!("{name}@test.tickhub"), "agent", &[SESSION])
            .await;
        agents.push(Agent::on_node(&c, i, &name, &m.token).await);
    }

    // Each conversation's messages one after another (each acknowledged before the next,
    // as WAHA's order would be), the conversations in parallel, all through nginx.
    let chats = chats("4477001", CHATS);
    let landed = join_all(chats.iter().enumerate().map(|(k, chat)| {
        let c = &c;
        async move {
            let mut landed = Vec::new();
            for j in 0..PER_CHAT {
                let id = format!("false_{chat}_C{k}M{j}");
                let env = envelope("message", inbound_payload(chat, &id, &format!("{k}:{j}")));
                landed.push((c.webhook_acked(&env).await, (chat.clone(), id)));
            }
            landed
        }
    }))
    .await
    .concat();
    let (landed, sent): (Vec<String>, Vec<(String, String)>) = landed.into_iter().unzip();
    for i in 0..3 {
        assert!(
            landed.iter().any(|a| c.index_of_addr(a) == Some(i)),
            "no webhook landed on {}: {landed:?}",
            c.id(i)
        );
    }

    // Acknowledged means durable, not yet applied (a webhook handed to the owner may wait
    // for its sweep): the marker goes in once every message is applied (readable).
    assert_stored_once(&c, &sent).await;
    let ids = marker(&c, &mut agents).await;
    for a in &agents {
        let mut by_conv: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for m in a.created() {
            if m["data"]["direction"] == "in" && m["data"]["text"] != "end of stream" {
                by_conv
                    .entry(m["data"]["conversation_id"].as_i64().expect("conversation"))
                    .or_default()
                    .push(m["data"]["text"].as_str().unwrap_or("").to_string());
            }
        }
        assert_eq!(by_conv.len(), CHATS, "{}: {by_conv:?}", a.name);
        for texts in by_conv.values() {
            let k = texts[0].split(':').next().unwrap_or("");
            let want: Vec<String> = (0..PER_CHAT).map(|j| format!("{k}:{j}")).collect();
            assert_eq!(texts, &want, "{}: one conversation out of order", a.name);
        }
    }
    assert_agents_saw(&agents, &ids);

    // What an operator watches, per node: its sockets, its leases, the webhooks it handed
    // to the owner, how late other nodes' events reached it.
    let mut owned = 0.0;
    let mut forwarded = 0.0;
    let mut lagged = 0.0;
    for i in 0..3 {
        let m = c.metrics(i).await;
        let get = |name: &str| {
            metric(&m, name).unwrap_or_else(|| panic!("{} exports no {name}", c.id(i)))
        };
        assert!(get("tickhub_ws_connections") >= 1.0, "{}", c.id(i));
        owned += get("tickhub_cluster_sessions_owned");
        forwarded += metric(&m, "tickhub_webhooks_forwarded_total").unwrap_or(0.0);
        lagged += metric(&m, "tickhub_bus_lag_seconds_count").unwrap_or(0.0);
    }
    assert_eq!(owned, 1.0, "one node owns the one session");
    assert!(forwarded > 0.0, "webhooks on non-owners are handed over");
    assert!(lagged > 0.0, "events from other nodes are timed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_one_per_member_across_nodes_and_dies_with_a_node() {
    let mut c = Cluster::with(ClusterOptions {
        nodes: 3,
        env: vec![("TICKHUB_PRESENCE_GRACE_SECS".into(), "0".into())],
    })
    .await;
    let boss = c.member("boss@test.tickhub", "manager", &[SESSION]).await;
    let mut sup = Agent::on_node(&c, 0, "boss", &boss.token).await;
    let ana = c.member("ana@test.tickhub", "agent", &[SESSION]).await;
    let presence = |f: &[Value], user: i64, status: &str| {
        f.iter()
            .filter(|v| {
                v["type"] == "presence.updated"
                    && v["data"]["user_id"] == user
                    && v["data"]["status"] == status
            })
            .count()
    };
    // Ana's tabs on nodes b and c are one presence: online once, and closing one tab
    // changes nothing. Bea coming online afterwards is the marker.
    let tab_b = c.socket(1, &ana.token, None).await;
    let tab_c = c.socket(2, &ana.token, None).await;
    sup.read_until(&c, LONG, |f| presence(f, ana.id, "online") >= 1)
        .await;
    drop(tab_b);
    let bea = c.member("bea@test.tickhub", "agent", &[SESSION]).await;
    let _bea_tab = c.socket(1, &bea.token, None).await;
    sup.read_until(&c, LONG, |f| presence(f, bea.id, "online") >= 1)
        .await;
    assert_eq!(
        presence(&sup.frames, ana.id, "online"),
        1,
        "{}",
        sup.summary()
    );
    assert_eq!(
        presence(&sup.frames, ana.id, "offline"),
        0,
        "{}",
        sup.summary()
    );

    // Node c dies with Ana's last tab: she goes offline, seen on node a.
    c.kill9(2);
    drop(tab_c);
    sup.read_until(&c, LONG, |f| presence(f, ana.id, "offline") >= 1)
        .await;
    assert_eq!(
        presence(&sup.frames, bea.id, "offline"),
        0,
        "{}",
        sup.summary()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_owner_mid_stream_loses_and_doubles_nothing() {
    let mut c = Cluster::with(ClusterOptions {
        nodes: 3,
        env: vec![("TICKHUB_SEND_RATE".into(), "200".into())],
    })
    .await;
    order_bot(&c).await;
    let owner = c
        .wait_owner(SESSION, Duration::from_secs(20), |o| o.is_some())
        .await
        .expect("an owner");
    let dead = c.index_of(&owner);
    let mut agents = managers_on_each_node(&c).await;

    let chats = chats("4477002", 4);
    let mut sent = stream(&c, &chats, 0, 24, Duration::from_millis(25)).await;
    c.kill9(dead);
    let moved = c
        .wait_owner(SESSION, Duration::from_secs(20), |o| {
            o.is_some_and(|o| o != owner)
        })
        .await;
    assert!(
        moved.is_some(),
        "the session has no owner after {owner} died"
    );
    sent.extend(stream(&c, &chats, 24, 24, Duration::from_millis(25)).await);

    c.sim_settled().await;
    assert_stored_once(&c, &sent).await;
    assert_one_reply_each(&c, &sent).await;
    let ids = marker(&c, &mut agents).await;
    assert!(
        agents[dead].reconnects() >= 1,
        "{}'s tab was on the dead node: {:?}",
        agents[dead].name,
        agents[dead].nodes
    );
    assert_ne!(agents[dead].node(), owner, "it reconnected to a live node");
    assert_agents_saw(&agents, &ids);
    assert_one_reply_each(&c, &sent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_stream_loses_nothing() {
    let mut c = Cluster::start(3).await;
    let mut agents = managers_on_each_node(&c).await;
    // A tab that is away while Redis is: it catches up with `since` afterwards.
    let m = c.member("away@test.tickhub", "manager", &[SESSION]).await;
    let mut away = Agent::via_lb(&c, "away", &m.token).await;
    let chats = chats("4477003", 3);
    let mut sent = stream(&c, &chats, 0, 12, Duration::from_millis(25)).await;
    assert_stored_once(&c, &sent).await;
    away.read_until(&c, LONG, |f| {
        f.iter().filter(|v| v["type"] == "message.created").count() >= 12
    })
    .await;
    away.disconnect();

    c.redis_stop();
    // Webhooks posted once each while Redis is away: whatever was acknowledged must be
    // stored; the rest WAHA would retry (done below once Redis is back).
    let mut acked = Vec::new();
    let mut unacked = Vec::new();
    for k in 0..6 {
        let chat = &chats[k % chats.len()];
        let id = format!("false_{chat}_REDISDOWN{k}");
        let env = envelope(
            "message",
            inbound_payload(chat, &id, &format!("order r{k}")),
        );
        let (code, _, _) = c.webhook(&env).await;
        if (200..300).contains(&code) {
            acked.push((chat.clone(), id));
        } else {
            unacked.push(env);
        }
    }
    sent.extend(stream(&c, &chats, 12, 6, Duration::from_millis(25)).await);
    assert!(
        !acked.is_empty(),
        "no webhook was acknowledged while Redis was down (the nodes still have the database)"
    );
    assert_stored_once(&c, &acked).await;

    c.redis_restart().await;
    for i in 0..3 {
        readyz_becomes(&c, i, 200).await;
    }
    for env in &unacked {
        c.webhook_acked(env).await;
        let id = env["payload"]["id"].as_str().unwrap_or("").to_string();
        acked.push((String::new(), id));
    }
    sent.extend(stream(&c, &chats, 18, 12, Duration::from_millis(25)).await);
    sent.extend(acked);
    c.sim_settled().await;
    assert_stored_once(&c, &sent).await;

    away.reconnect(&c).await;
    agents.push(away);
    let ids = marker(&c, &mut agents).await;
    assert_agents_saw(&agents, &ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_node_serves_at_once_and_a_drained_node_hands_over() {
    let mut c = Cluster::with(ClusterOptions {
        nodes: 2,
        env: vec![("TICKHUB_SEND_RATE".into(), "200".into())],
    })
    .await;
    order_bot(&c).await;
    let late = c.start_node().await;
    let late_id = c.id(late).to_string();
    let mut agents = managers_on_each_node(&c).await;

    // It serves at once: its tab gets what a webhook on another node brought, and nginx
    // sends it webhooks.
    let chats = chats("4477004", 3);
    let mut sent = stream(&c, &chats, 0, 3, Duration::ZERO).await;
    agents[late].read_until_message(&c, &sent[2].1, LONG).await;
    // Round robin over three: a few requests reach it (more while a reload's old worker
    // still serves a kept-alive connection, and each of nginx's workers keeps its own
    // turn, so on a loaded machine it can take a couple of dozen).
    let mut reached = false;
    for k in 0..30 {
        if reached && k >= 6 {
            break;
        }
        let chat = &chats[k % chats.len()];
        let id = format!("false_{chat}_LATE{k}");
        let env = envelope(
            "message",
            inbound_payload(chat, &id, &format!("order l{k}")),
        );
        reached |= c.index_of_addr(&c.webhook_acked(&env).await) == Some(late);
        sent.push((chat.clone(), id));
    }
    assert!(reached, "nginx never gave {late_id} a webhook");

    // Drain the owner, then the next one, until the late node owns the session; the
    // stream goes on meanwhile.
    let mut drained = BTreeSet::new();
    let mut first = sent.len();
    loop {
        let owner = c
            .wait_owner(SESSION, Duration::from_secs(20), |o| {
                o.is_some_and(|o| !drained.contains(o))
            })
            .await
            .expect("an owner");
        if owner == late_id {
            break;
        }
        sent.extend(stream(&c, &chats, first, 6, Duration::from_millis(25)).await);
        first += 6;
        let i = c.index_of(&owner);
        let status = c.sigterm(i).await;
        assert!(
            status.success(),
            "{owner} exited with {status} after SIGTERM"
        );
        drained.insert(owner);
        sent.extend(stream(&c, &chats, first, 6, Duration::from_millis(25)).await);
        first += 6;
    }
    if drained.is_empty() {
        // The late node took the session at once: drain another node all the same.
        let status = c.sigterm(0).await;
        assert!(
            status.success(),
            "{} exited with {status} after SIGTERM",
            c.id(0)
        );
        sent.extend(stream(&c, &chats, first, 6, Duration::from_millis(25)).await);
    }

    c.sim_settled().await;
    assert_stored_once(&c, &sent).await;
    assert_one_reply_each(&c, &sent).await;
    // The late node's tab never dropped, and saw everything.
    let mut live = vec![agents.remove(late)];
    let ids = marker(&c, &mut live).await;
    assert_eq!(live[0].reconnects(), 0, "{:?}", live[0].ended);
    live[0].assert_each_message_once(&ids);
    assert_one_reply_each(&c, &sent).await;
}

/// Bots are set up through the balancer, so any node may take the change while another
/// owns the session: once a trigger is acknowledged, the owner's next message uses it,
/// as on a single node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trigger_added_through_any_node_is_in_force_on_the_owner() {
    let c = Cluster::start(3).await;
    let owner = c
        .wait_owner(SESSION, Duration::from_secs(20), |o| o.is_some())
        .await
        .expect("an owner");
    let o = c.index_of(&owner);
    let other = c.api_at((o + 1) % 3);
    let (code, bot) = other
        .post(
            "/api/bots",
            json!({"name": "Orders", "sessions": [SESSION], "active": true}),
        )
        .await;
    assert_eq!(code, 201, "{bot}");
    // The owner has the bot (without triggers yet): the first message opens a
    // conversation with it.
    let chat = "447700500000@c.us";
    c.customer_writes(chat, "hello").await;
    let conv = c
        .api()
        .eventually(
            "/api/conversations?limit=200",
            Duration::from_secs(20),
            |b| {
                b["items"]
                    .as_array()
                    .is_some_and(|i| i.iter().any(|cv| cv["chat_id"] == chat))
            },
        )
        .await;
    let conv = conv["items"]
        .as_array()
        .and_then(|i| i.iter().find(|cv| cv["chat_id"] == chat).cloned())
        .expect("the conversation");
    assert_eq!(
        conv["status"],
        "bot",
        "{owner} did not use the bot created through {}: {conv}",
        c.id((o + 1) % 3)
    );

    let (code, t) = other
        .post(
            "/api/triggers",
            json!({"bot_id": bot["id"], "match": "contains", "pattern": "order", "priority": 1,
                "response": REPLY, "action": "reply", "active": true}),
        )
        .await;
    assert_eq!(code, 201, "{t}");
    c.customer_writes(chat, "order 1").await;
    let id = conv["id"].as_i64().expect("id");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let msgs = c.messages(id).await;
        if msgs
            .iter()
            .any(|m| m["direction"] == "out" && m["text"] == REPLY)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the trigger added through {} was not used by the owner {owner}: {:?}",
            c.id((o + 1) % 3),
            msgs.iter()
                .map(|m| format!(
                    "{} {}",
                    m["direction"].as_str().unwrap_or("?"),
                    m["text"].as_str().unwrap_or("")
                ))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
