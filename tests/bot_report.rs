//! The bots report (issue 19) reads whole UTC days from its rollups and the ragged ends of
//! a period (a time zone's midnight is not UTC's) from `bot_events`: the same figures
//! whichever way a period is cut, and a rebuild from `bot_events` reproduces the rollups.
//! The hub runs in-process with a clock the test moves, beside an in-process simulator,
//! on SQLite and PostgreSQL.

mod common;

use common::api::Api;
use common::db::{Backend, TestDb};
use common::in_process::{self, Manual};
use serde_json::{json, Value};
use tickhub::domain::Clock;

const PRICE: &str = "Shipping is 4.90, free over 50.";
const HANDING: &str = "A colleague will call you back.";

/// The rollups' rows as text, sorted.
async fn rollups(db: &TestDb) -> Vec<String> {
    let sql = "SELECT 'day|' || CAST(bot_id AS TEXT) || '|' || CAST(day_ms AS TEXT) || '|' || CAST(trigger_id AS TEXT) || '|' || kind || '|' || reason || '|' || CAST(n AS TEXT) FROM analytics_bot_days
               UNION ALL
               SELECT 'conversation|' || CAST(bot_id AS TEXT) || '|' || CAST(conversation_id AS TEXT) || '|' || CAST(first_at AS TEXT) FROM analytics_bot_conversations";
    let mut rows = db.texts(sql).await;
    rows.sort();
    rows
}

/// The one bot's row of the report for `query`.
async fn report(admin: &Api, query: &str) -> Value {
    let r = admin.get_ok(&format!("/api/analytics/bots?{query}")).await;
    r["items"][0].clone()
}

async fn whole_days_and_ragged_ends_agree(backend: Backend) {
    // Monday 2026-01-05, 10:00 UTC.
    let clock = Manual::at("2026-01-05T10:00:00Z");
    let t = in_process::start(backend, &clock, &[], "boss@test.tickhub").await;
    let (admin, db) = (&t.admin, &t.db);
    let bot = admin
        .send(
            reqwest::Method::POST,
            "/api/bots",
            json!({"name": "Front desk", "sessions": ["default"], "greeting": null}),
        )
        .await["id"]
        .clone();
    let mut triggers = Vec::new();
    for t in [
        json!({"match": "any_keyword", "keywords": ["price"], "priority": 1, "response": PRICE, "action": "reply"}),
        json!({"match": "contains", "pattern": "call me", "priority": 5, "response": HANDING, "action": "reply_and_handoff"}),
    ] {
        let mut t = t;
        t["bot_id"] = bot.clone();
        triggers.push(admin.send(reqwest::Method::POST, "/api/triggers", t).await["id"].clone());
    }
    let (price, call_me) = (triggers[0].clone(), triggers[1].clone());
    // The clock stands still: a period up to now would end just before what happens now.
    let metrics = format!("/api/bots/{bot}/metrics?from=0&to=4102444800000");
    let customer = |at: &str, from: &'static str, body: &'static str, matches: i64| {
        clock.set(at);
        let (t, metrics) = (&t, metrics.clone());
        async move {
            t.customer_writes(from, body).await;
            t.admin.until(&metrics, |m| m["matches"] == matches).await;
        }
    };
    customer("2026-01-05T10:00:00Z", "447700910001", "price?", 1).await;
    customer("2026-01-05T23:30:00Z", "447700910002", "price?", 2).await;
    customer("2026-01-06T00:30:00Z", "447700910001", "price again?", 3).await;
    customer("2026-01-06T20:00:00Z", "447700910002", "call me", 4).await;
    clock.set("2026-01-08T12:00:00Z");

    // Monday and Tuesday in UTC: two whole days, all from the rollups.
    let utc = report(admin, "from=2026-01-05&to=2026-01-06&tz=UTC").await;
    assert_eq!(utc["matches"], 4, "{utc}");
    assert_eq!(utc["conversations"], 2, "{utc}");
    assert_eq!(utc["handoffs"], json!({"trigger": 1}), "{utc}");
    let by_trigger: Vec<Value> = utc["triggers"]
        .as_array()
        .expect("triggers")
        .iter()
        .map(|t| json!([t["trigger_id"], t["matches"], t["handoffs"]]))
        .collect();
    assert_eq!(
        by_trigger,
        [json!([price, 3, 0]), json!([call_me, 1, 1])],
        "{utc}"
    );
    // The same days in Kolkata (+05:30) run from Sunday 18:30 to Tuesday 18:30 UTC: Monday
    // from the rollups, the ends from the events; Tuesday 20:00 UTC is Wednesday there.
    let kolkata = report(admin, "from=2026-01-05&to=2026-01-06&tz=Asia/Kolkata").await;
    assert_eq!(kolkata["matches"], 3, "{kolkata}");
    assert_eq!(kolkata["conversations"], 2, "{kolkata}");
    assert_eq!(kolkata["handoffs"], json!({}), "{kolkata}");
    // Tuesday alone in Kolkata holds no whole UTC day: Monday 23:30 and Tuesday 00:30.
    // The bot first took part in the second customer's conversation then; in the
    // first's on Monday 10:00 UTC, before this period.
    let tuesday = report(admin, "from=2026-01-06&to=2026-01-06&tz=Asia/Kolkata").await;
    assert_eq!(tuesday["matches"], 2, "{tuesday}");
    assert_eq!(tuesday["conversations"], 1, "{tuesday}");
    // Monday in UTC: both customers wrote (23:30 is still Monday), one match each.
    let monday = report(admin, "from=2026-01-05&to=2026-01-05&tz=UTC").await;
    assert_eq!(monday["matches"], 2, "{monday}");
    assert_eq!(monday["conversations"], 2, "{monday}");
    let wednesday = report(admin, "from=2026-01-07&to=2026-01-07&tz=UTC").await;
    assert_eq!(wednesday["matches"], 0, "{wednesday}");
    assert_eq!(wednesday["conversations"], 0, "{wednesday}");

    // A rebuild from `bot_events` writes the same rows, and the report reads the same.
    let live = rollups(db).await;
    assert!(
        live.iter().any(|r| r.starts_with("day|")),
        "the rollups were written live: {live:?}"
    );
    tickhub::store::analytics::rebuild(t.app.hub.db(), clock.now_ms())
        .await
        .expect("rebuild");
    assert_eq!(rollups(db).await, live);
    let again = report(admin, "from=2026-01-05&to=2026-01-06&tz=UTC").await;
    assert_eq!(again, utc);

    t.stop().await;
}

#[actix_web::test]
async fn whole_days_and_ragged_ends_agree_sqlite() {
    whole_days_and_ragged_ends_agree(Backend::Sqlite).await
}

#[actix_web::test]
async fn whole_days_and_ragged_ends_agree_postgres() {
    whole_days_and_ragged_ends_agree(Backend::Postgres).await
}
