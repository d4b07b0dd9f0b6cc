//! `PUT /api/bots/{id}/trigger-order`: a bot's triggers put in firing order in one call,
//! one new version of the bot, and every malformed order refused naming `trigger_ids`
//! with nothing changed.

mod common;

use common::{Backend, Setup};
use serde_json::{json, Value};

async fn trigger(s: &Setup, bot: i64, pattern: &str, priority: i64) -> i64 {
    let (code, t) = s
        .post(
            "/api/triggers",
            json!({"bot_id": bot, "match": "contains", "pattern": pattern, "priority": priority,
                "response": pattern, "action": "reply"}),
        )
        .await;
    assert_eq!(code, 201, "{t}");
    t["id"].as_i64().expect("trigger id")
}

async fn fires(s: &Setup, bot: i64) -> Value {
    let (code, r) = s
        .post(&format!("/api/bots/{bot}/test"), json!({"text": "a b c"}))
        .await;
    assert_eq!(code, 200, "{r}");
    r["trigger_id"].clone()
}

async fn version(s: &Setup, bot: i64) -> i64 {
    s.get(&format!("/api/bots/{bot}")).await.1["version"]
        .as_i64()
        .expect("version")
}

async fn triggers_are_ordered_in_one_call(b: Backend) {
    let s = Setup::new(b).await;
    let (_, bot) = s.post("/api/bots", json!({"name": "order"})).await;
    let bot = bot["id"].as_i64().expect("bot id");
    let (a, bb, c) = (
        trigger(&s, bot, "a", 1).await,
        trigger(&s, bot, "b", 2).await,
        trigger(&s, bot, "c", 3).await,
    );
    assert_eq!(fires(&s, bot).await, c);
    let path = format!("/api/bots/{bot}/trigger-order");
    let v0 = version(&s, bot).await;

    let (code, r) = s.put(&path, json!({"trigger_ids": [a, c, bb]})).await;
    assert_eq!(code, 200, "{r}");
    let got: Vec<(i64, i64)> = r["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| (t["id"].as_i64().unwrap(), t["priority"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, vec![(a, 30), (c, 20), (bb, 10)], "{r}");
    assert_eq!(r["next_cursor"], Value::Null);
    assert_eq!(fires(&s, bot).await, a, "the first listed fires first");
    assert_eq!(
        version(&s, bot).await,
        v0 + 1,
        "one new version, one recompile"
    );
    let (_, log) = s.get("/api/audit-log?action=bot.trigger_order").await;
    assert_eq!(log["items"].as_array().map(Vec::len), Some(1), "{log}");
    let entry = &log["items"][0];
    let ids = |v: &Value| -> Vec<i64> {
        v["triggers"]
            .as_array()
            .expect("triggers")
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&entry["before"]), vec![c, bb, a], "{entry}");
    assert_eq!(ids(&entry["after"]), vec![a, c, bb], "{entry}");

    // Each malformed order: 422 naming trigger_ids, and nothing changed.
    let (_, other) = s.post("/api/bots", json!({"name": "other"})).await;
    let foreign = trigger(&s, other["id"].as_i64().expect("id"), "x", 1).await;
    for bad in [
        json!({"trigger_ids": [a, c]}),
        json!({"trigger_ids": [a, c, bb, a]}),
        json!({"trigger_ids": [a, c, foreign]}),
        json!({"trigger_ids": [a, c, bb, foreign]}),
        json!({"trigger_ids": "a, c, b"}),
        json!({}),
    ] {
        let (code, r) = s.put(&path, bad.clone()).await;
        assert_eq!(code, 422, "{bad}: {r}");
        assert_eq!(r["error"]["field"], "trigger_ids", "{bad}: {r}");
    }
    assert_eq!(version(&s, bot).await, v0 + 1, "nothing saved");
    assert_eq!(fires(&s, bot).await, a);

    let (code, r) = s
        .put("/api/bots/999999/trigger-order", json!({"trigger_ids": []}))
        .await;
    assert_eq!(code, 404, "{r}");
}
both!(triggers_are_ordered_in_one_call);
