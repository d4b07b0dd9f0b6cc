//! What the cluster scenarios check, shared by tests/cluster.rs: customers' streams
//! through the simulator, that every message is stored once, that every agent got every
//! `message.created` once, and that the bot answered each message once through WAHA.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use super::agent::Agent;
use super::cluster::{Cluster, SESSION};

pub const REPLY: &str = "Thanks, we have your order.";
pub const LONG: Duration = Duration::from_secs(60);

/// `n` messages from customers written in turn to `chats` ("order <k>", so the bot of
/// the test answers each), `pace` apart, through the simulator (which delivers to nginx
/// and retries like WAHA); their WhatsApp ids, by chat.
pub async fn stream(
    c: &Cluster,
    chats: &[String],
    first: usize,
    n: usize,
    pace: Duration,
) -> Vec<(String, String)> {
    let mut sent = Vec::new();
    for k in first..first + n {
        let chat = &chats[k % chats.len()];
        let id = c.customer_writes(chat, &format!("order {k}")).await;
        sent.push((chat.clone(), id));
        tokio::time::sleep(pace).await;
    }
    sent
}

pub fn chats(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|k| format!("{prefix}{k:04}@c.us")).collect()
}

/// Every stored message (all conversations) read through nginx: their ids, and how many
/// times each inbound WhatsApp id was stored.
pub async fn stored(c: &Cluster) -> (BTreeSet<i64>, HashMap<String, usize>) {
    let mut ids = BTreeSet::new();
    let mut inbound = HashMap::new();
    for conv in c.conversations().await {
        for m in c.messages(conv["id"].as_i64().expect("id")).await {
            ids.insert(m["id"].as_i64().expect("message id"));
            if m["direction"] == "in" {
                *inbound
                    .entry(m["waha_id"].as_str().unwrap_or("").to_string())
                    .or_insert(0) += 1;
            }
        }
    }
    (ids, inbound)
}

/// Waits until every one of `sent` is stored, then checks each is stored exactly once.
pub async fn assert_stored_once(c: &Cluster, sent: &[(String, String)]) -> BTreeSet<i64> {
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let (ids, inbound) = stored(c).await;
        let missing: Vec<&String> = sent
            .iter()
            .map(|(_, id)| id)
            .filter(|id| !inbound.contains_key(*id))
            .collect();
        if missing.is_empty() {
            for (_, id) in sent {
                assert_eq!(inbound[id], 1, "message {id} stored {} times", inbound[id]);
            }
            return ids;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {} messages never stored: {missing:?}",
            missing.len(),
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A last customer message after everything else: once an agent has its
/// `message.created`, it has had every earlier event it will ever get. Call it once the
/// messages before it are applied (`assert_stored_once`), not merely acknowledged.
pub async fn marker(c: &Cluster, agents: &mut [Agent]) -> BTreeSet<i64> {
    let id = c
        .customer_writes("449990000000@c.us", "end of stream")
        .await;
    let ids = assert_stored_once(c, &[(String::new(), id.clone())]).await;
    for a in agents.iter_mut() {
        let got = a
            .try_read_until(c, LONG, |f| {
                f.iter()
                    .any(|v| v["type"] == "message.created" && v["data"]["waha_id"] == id)
            })
            .await;
        if !got {
            // Say what it lacks (which stored messages never reached it), not just
            // that the marker did not come.
            a.assert_each_message_once(&ids);
            panic!("{}: the marker never came; {}", a.name, a.summary());
        }
    }
    ids
}

/// One manager per node, each with a tab open straight on that node.
pub async fn managers_on_each_node(c: &Cluster) -> Vec<Agent> {
    let mut agents = Vec::new();
    for i in 0..c.len() {
        let name = format!("manager-{}", c.id(i));
        let m = c
            .member(&format!("{name}@test.tickhub"), "manager", &[SESSION])
            .await;
        let a = Agent::on_node(c, i, &name, &m.token).await;
        assert_eq!(a.node(), c.id(i));
        agents.push(a);
    }
    agents
}

/// Everyone got every message once, and (same access) the same `message.created` seqs.
pub fn assert_agents_saw(agents: &[Agent], ids: &BTreeSet<i64>) {
    for a in agents {
        a.assert_each_message_once(ids);
    }
    let first = agents[0].created_seqs();
    for a in &agents[1..] {
        assert_eq!(
            a.created_seqs(),
            first,
            "{} and {} saw different message.created seqs",
            a.name,
            agents[0].name
        );
    }
}

/// A bot on `default` that answers every "order …" with `REPLY`.
pub async fn order_bot(c: &Cluster) {
    let (code, b) = c
        .post(
            "/api/bots",
            json!({"name": "Orders", "sessions": [SESSION], "active": true}),
        )
        .await;
    assert_eq!(code, 201, "{b}");
    let (code, t) = c
        .post(
            "/api/triggers",
            json!({"bot_id": b["id"], "match": "contains", "pattern": "order", "priority": 1,
                "response": REPLY, "action": "reply", "active": true}),
        )
        .await;
    assert_eq!(code, 201, "{t}");
}

/// Each customer message got one bot reply, stored once and put through WAHA once. The
/// outbox is the marker that sending is over: once every stored reply has left `pending`,
/// WAHA's record of sends must hold each exactly once (an agent's reply is no marker in
/// a cluster: it may be sent by another node than the bot's replies). Tests call it again
/// at their end, so a late duplicate is caught too.
pub async fn assert_one_reply_each(c: &Cluster, sent: &[(String, String)]) {
    let mut want: BTreeMap<&str, usize> = BTreeMap::new();
    for (chat, _) in sent {
        *want.entry(chat.as_str()).or_insert(0) += 1;
    }
    for (chat, n) in &want {
        let conv = c.conversation_for(chat).await["id"].as_i64().expect("id");
        let deadline = tokio::time::Instant::now() + LONG;
        loop {
            let replies: Vec<Value> = c
                .messages(conv)
                .await
                .into_iter()
                .filter(|m| m["direction"] == "out" && m["text"] == REPLY)
                .collect();
            let states: Vec<&str> = replies
                .iter()
                .map(|m| m["status"].as_str().unwrap_or("?"))
                .collect();
            assert!(
                replies.len() <= *n && !states.contains(&"failed"),
                "{chat}: {n} messages, bot replies stored: {states:?}"
            );
            if replies.len() == *n && !states.contains(&"pending") {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                let conv = c.conversation_for(chat).await;
                let mut history: Vec<String> = c
                    .messages(conv["id"].as_i64().unwrap_or(0))
                    .await
                    .iter()
                    .map(|m| {
                        format!(
                            "{} {:?} bot={} author={} {}",
                            m["direction"].as_str().unwrap_or("?"),
                            m["text"].as_str().unwrap_or(""),
                            m["bot_id"],
                            m["author_id"],
                            m["status"].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                history.reverse();
                panic!(
                    "{chat}: {n} messages, bot replies stored after {LONG:?}: {states:?}; \
                     the conversation is {} now; its messages, oldest first:\n{}",
                    conv["status"],
                    history.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let sends: Vec<String> = c
            .sim
            .sent()
            .await
            .into_iter()
            .filter(|m| m["chatId"] == *chat && m["text"] == REPLY)
            .map(|m| m["id"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(
            sends.len(),
            *n,
            "{chat}: {n} messages, the bot's reply went through WAHA {} times: {sends:?}",
            sends.len()
        );
    }
}
