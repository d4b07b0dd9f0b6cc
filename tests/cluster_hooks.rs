//! Cluster mode and outbound webhooks (docs/integrations.md): with two nodes behind nginx
//! sharing one PostgreSQL database, each event is queued once (only the coordinating node
//! copies the log, under an advisory lock), so the subscriber sees one delivery `id` per
//! event, every event, in order; and a subscription made through one node is served
//! whichever node took the customers' webhooks. PostgreSQL only, like every cluster test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::cluster::{Cluster, ClusterOptions, SESSION};
use common::subscriber::{expected_signature, Subscriber};
use common::{envelope, inbound_payload};
use serde_json::json;

const SECRET: &str = "cluster-subscriber-secret-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_queued_once_across_nodes() {
    let env = [
        ("TICKHUB_SECRET_KEY", common::TEST_SECRET_KEY),
        ("TICKHUB_OUTBOUND_POLL_MS", "50"),
        ("TICKHUB_OUTBOUND_RETRY_BASE_MS", "50"),
        ("TICKHUB_OUTBOUND_RETRY_MAX_MS", "400"),
    ];
    let c = Cluster::with(ClusterOptions {
        nodes: 2,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
    .await;
    let sub = Subscriber::start(200).await;
    let (code, r) = c
        .api_at(1)
        .post(
            "/api/webhook-subscriptions",
            json!({"url": sub.url, "events": ["message.created"], "secret": SECRET}),
        )
        .await;
    assert_eq!(code, 201, "{r}");

    // Customers write through nginx: the webhooks land on either node.
    let texts: Vec<String> = (0..12).map(|i| format!("cluster-{i}")).collect();
    let mut nodes = BTreeSet::new();
    for (i, t) in texts.iter().enumerate() {
        let chat = format!("4477008300{:02}@c.us", i % 3);
        let mut env = envelope(
            "message",
            inbound_payload(&chat, &format!("false_{chat}_{t}"), t),
        );
        env["session"] = json!(SESSION);
        nodes.insert(c.webhook_acked(&env).await);
    }

    let got = sub
        .wait_accepted(Duration::from_secs(60), |g| {
            let seen: BTreeSet<String> = g
                .iter()
                .filter_map(|r| r.json()["data"]["text"].as_str().map(str::to_string))
                .collect();
            texts.iter().all(|t| seen.contains(t))
        })
        .await;
    // One delivery id per event (a delivery may come twice: at least once, same id).
    let mut ids_per_text: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for r in &got {
        assert_eq!(
            r.headers.get("x-tickhub-signature"),
            Some(&expected_signature(SECRET, &r.body))
        );
        let b = r.json();
        if let Some(t) = b["data"]["text"].as_str() {
            ids_per_text
                .entry(t.to_string())
                .or_default()
                .insert(b["id"].as_i64().expect("id"));
        }
    }
    for t in &texts {
        assert_eq!(
            ids_per_text[t].len(),
            1,
            "{t} was queued more than once: {ids_per_text:?}"
        );
    }
    // In the order the events were logged.
    let first_seen: Vec<i64> = {
        let mut seen = BTreeSet::new();
        got.iter()
            .map(|r| r.json()["id"].as_i64().expect("id"))
            .filter(|id| seen.insert(*id))
            .collect()
    };
    assert!(first_seen.windows(2).all(|w| w[0] < w[1]), "{first_seen:?}");
    eprintln!("webhooks taken by {nodes:?}");
}
