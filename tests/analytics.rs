//! Analytics (issue 19): each figure's definition on a scripted conversation with an
//! injected clock, first responses inside and outside business hours, reports in a time
//! zone whose midnight is not UTC's, the dashboard's today, who may read which rows, and
//! the live rollups equal to a rebuild from the stored rows. The hub runs in-process with
//! a clock the test moves, beside an in-process simulator, on SQLite and PostgreSQL.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::db::{Backend, TestDb};
use common::in_process::{self, Manual};
use serde_json::{json, Value};
use tickhub::domain::Clock;

/// `value` within 5% of `want` (the reports' percentiles come from 5%-wide buckets).
fn near(value: &Value, want: f64, what: &str) {
    let got = value
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: no number in {value}"));
    assert!(
        (got - want).abs() <= want * 0.05 + 0.5,
        "{what}: {got} is not within 5% of {want}"
    );
}

fn row<'a>(report: &'a Value, user_id: &Value) -> &'a Value {
    report["items"]
        .as_array()
        .and_then(|items| items.iter().find(|r| r["user_id"] == *user_id))
        .unwrap_or_else(|| panic!("no row for {user_id}: {report}"))
}

/// Every analytics table's rows as text, without ids, sorted: what a rebuild must
/// reproduce.
async fn tables(db: &TestDb) -> BTreeMap<&'static str, Vec<String>> {
    let queries = [
        ("analytics_cycles", "SELECT CAST(conversation_id AS TEXT) || '|' || CAST(session_id AS TEXT) || '|' || CAST(started_at AS TEXT) || '|' || COALESCE(CAST(waiting_since AS TEXT), '-') || '|' || COALESCE(CAST(assignee_id AS TEXT), '-') || '|' || COALESCE(CAST(first_response_at AS TEXT), '-') || '|' || COALESCE(CAST(first_responder_id AS TEXT), '-') || '|' || CAST(bot_replied AS TEXT) || '|' || CAST(member_replied AS TEXT) || '|' || COALESCE(CAST(resolved_at AS TEXT), '-') || '|' || COALESCE(CAST(handled_by AS TEXT), '-') || '|' || CAST(auto_resolved AS TEXT) || '|' || COALESCE(CAST(resolution_business_ms AS TEXT), '-') FROM analytics_cycles"),
        ("analytics_responses", "SELECT CAST(conversation_id AS TEXT) || '|' || CAST(user_id AS TEXT) || '|' || CAST(at AS TEXT) || '|' || CAST(wait_ms AS TEXT) || '|' || CAST(wait_business_ms AS TEXT) || '|' || CAST(first AS TEXT) FROM analytics_responses"),
        ("analytics_days", "SELECT CAST(day_ms AS TEXT) || '|' || CAST(session_id AS TEXT) || '|' || CAST(user_id AS TEXT) || '|' || metric || '|' || CAST(n AS TEXT) || '|' || CAST(sum_ms AS TEXT) || '|' || hist FROM analytics_days"),
        ("analytics_session_hours", "SELECT CAST(hour_ms AS TEXT) || '|' || CAST(session_id AS TEXT) || '|' || CAST(messages_in AS TEXT) || '|' || CAST(messages_out AS TEXT) || '|' || CAST(cycles_started AS TEXT) FROM analytics_session_hours"),
        ("analytics_member_hours", "SELECT CAST(hour_ms AS TEXT) || '|' || CAST(session_id AS TEXT) || '|' || CAST(user_id AS TEXT) || '|' || CAST(messages_sent AS TEXT) FROM analytics_member_hours"),
    ];
    let mut out = BTreeMap::new();
    for (table, sql) in queries {
        let mut rows = db.texts(sql).await;
        rows.sort();
        out.insert(table, rows);
    }
    out
}

/// Waits until the projection has read the whole event log.
async fn caught_up(db: &TestDb) {
    let sql = "SELECT CAST((SELECT COALESCE(MAX(id), 0) FROM events) AS TEXT) || '|' || COALESCE((SELECT value FROM hub_meta WHERE key = 'analytics_cursor'), '-')";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v = db.texts(sql).await.concat();
        let (max, cursor) = v.split_once('|').expect("pair");
        if max == cursor {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "projection behind: {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn figures_follow_their_definitions(backend: Backend) {
    // Monday 2026-01-05, 16:30 in London (winter: UTC).
    let clock = Manual::at("2026-01-05T16:30:00Z");
    let set = |at: &str| clock.set(at);
    let london = [("TICKHUB_TIME_ZONE".to_string(), "Europe/London".to_string())];
    let t = in_process::start(backend, &clock, &london, "boss@test.tickhub").await;
    let (admin, db) = (&t.admin, &t.db);
    let me = admin.get_ok("/api/auth/me").await;
    let boss_id = me["id"].clone();
    let hours = json!({"time_zone": "Europe/London",
        "weekly": {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]],
                   "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]},
        "holidays": ["2026-01-01"]});
    let s = admin
        .send(
            reqwest::Method::PATCH,
            "/api/sessions/default",
            json!({"auto_assign": false, "business_hours": hours, "csat_enabled": true}),
        )
        .await;
    assert_eq!(s["business_hours"], hours, "{s}");
    let (code, bad) = admin
        .request(
            reqwest::Method::PATCH,
            "/api/sessions/default",
            Some(json!({"business_hours": {"time_zone": "Mars/Base", "weekly": {}}})),
        )
        .await;
    assert_eq!(code, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "business_hours.time_zone", "{bad}");
    let (code, bad) = admin
        .request(
            reqwest::Method::PATCH,
            "/api/sessions/default",
            Some(json!({"business_hours": {"time_zone": "UTC", "weekly": {}, "holidays": ["2026-02-30"]}})),
        )
        .await;
    assert_eq!(code, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "business_hours.holidays[0]", "{bad}");
    for (email, role) in [
        ("ann@test.tickhub", "agent"),
        ("mark@test.tickhub", "marketing"),
    ] {
        admin
            .send(
                reqwest::Method::POST,
                "/api/team-members",
                json!({"email": email, "name": email, "role": role, "password": "member-password-1",
                       "sessions": ["default"]}),
            )
            .await;
    }
    let ann = admin
        .as_member("ann@test.tickhub", "member-password-1")
        .await;
    let ann_id = ann.get_ok("/api/auth/me").await["id"].clone();
    let mark = admin
        .as_member("mark@test.tickhub", "member-password-1")
        .await;
    let customer = |from: &'static str, body: &'static str| t.customer_writes(from, body);

    // A writes at 16:30 on Monday; the boss gives it to Ann at 16:31.
    customer("447700900001@c.us", "Is my order shipped?").await;
    let a = admin.conversation_id("447700900001@c.us").await;
    set("2026-01-05T16:31:00Z");
    admin
        .send(
            reqwest::Method::POST,
            &format!("/api/conversations/{a}/assign"),
            json!({"assignee_id": ann_id}),
        )
        .await;
    // Tuesday 09:30: Ann answers. 17 h on the clock, 1 h in business hours.
    set("2026-01-06T09:30:00Z");
    ann.send(
        reqwest::Method::POST,
        &format!("/api/conversations/{a}/messages"),
        json!({"text": "Yes, this morning."}),
    )
    .await;
    // Projected before what follows on the same day, which then adds to stored rows
    // (their histograms merged with what is read back).
    caught_up(db).await;
    // B writes at 10:00 and the boss takes it and answers at 10:05 (5 min both ways).
    set("2026-01-06T10:00:00Z");
    customer("447700900002@c.us", "Do you open on Sunday?").await;
    let b = admin.conversation_id("447700900002@c.us").await;
    set("2026-01-06T10:01:00Z");
    admin
        .send(
            reqwest::Method::POST,
            &format!("/api/conversations/{b}/assign"),
            json!({"assignee_id": boss_id}),
        )
        .await;
    set("2026-01-06T10:05:00Z");
    admin
        .send(
            reqwest::Method::POST,
            &format!("/api/conversations/{b}/messages"),
            json!({"text": "No, Monday to Friday."}),
        )
        .await;
    // A writes again at 10:10; Ann answers at 10:12 (a response, not a first one) and
    // resolves at 10:20: resolution 17 h 50 min, 1 h 50 min in business hours.
    set("2026-01-06T10:10:00Z");
    customer("447700900001@c.us", "Thanks! Tracking number?").await;
    admin
        .until(&format!("/api/conversations/{a}/messages"), |m| {
            m["items"].as_array().is_some_and(|i| i.len() == 3)
        })
        .await;
    set("2026-01-06T10:12:00Z");
    ann.send(
        reqwest::Method::POST,
        &format!("/api/conversations/{a}/messages"),
        json!({"text": "TRK123"}),
    )
    .await;
    set("2026-01-06T10:20:00Z");
    ann.send(
        reqwest::Method::POST,
        &format!("/api/conversations/{a}/resolve"),
        json!({}),
    )
    .await;
    // The rating question went out with the resolve; A answers it at 10:25. That is
    // traffic and a rating for Ann, not a new request.
    set("2026-01-06T10:25:00Z");
    customer("447700900001@c.us", "5").await;
    admin
        .until(&format!("/api/conversations/{a}/messages"), |m| {
            m["items"].as_array().is_some_and(|i| i.len() == 6)
        })
        .await;
    set("2026-01-06T10:30:00Z");
    admin
        .send(
            reqwest::Method::POST,
            &format!("/api/conversations/{b}/resolve"),
            json!({}),
        )
        .await;

    let path = "/api/analytics/agents?from=2026-01-05&to=2026-01-06&tz=Europe/London";
    let report = admin
        .until(path, |r| {
            r["team"]["conversations_handled"] == 2 && r["team"]["csat_responses"] == 1
        })
        .await;
    let ann_row = row(&report, &ann_id);
    assert_eq!(ann_row["conversations_handled"], 1, "{ann_row}");
    assert_eq!(ann_row["first_responses"], 1, "{ann_row}");
    near(
        &ann_row["first_response_median_s"],
        61_200.0,
        "Ann's first response",
    );
    near(
        &ann_row["first_response_business_median_s"],
        3_600.0,
        "in business hours",
    );
    assert_eq!(ann_row["responses"], 2, "{ann_row}");
    // Nearest rank of two: the shorter.
    near(
        &ann_row["response_median_s"],
        120.0,
        "Ann's median response",
    );
    near(&ann_row["response_p90_s"], 61_200.0, "Ann's p90 response");
    near(
        &ann_row["resolution_median_s"],
        64_200.0,
        "Ann's resolution",
    );
    near(
        &ann_row["resolution_business_median_s"],
        6_600.0,
        "in business hours",
    );
    assert_eq!(ann_row["messages_sent"], 2, "{ann_row}");
    assert_eq!(ann_row["name"], "ann@test.tickhub", "{ann_row}");
    assert_eq!(
        (
            &ann_row["csat_responses"],
            &ann_row["csat_average"],
            &ann_row["csat_percent"]
        ),
        (&json!(1), &json!(5.0), &json!(100.0)),
        "{ann_row}"
    );
    let boss = row(&report, &boss_id);
    near(
        &boss["first_response_median_s"],
        300.0,
        "the boss's first response",
    );
    near(
        &boss["first_response_business_median_s"],
        300.0,
        "inside business hours",
    );
    near(
        &boss["resolution_median_s"],
        1_800.0,
        "the boss's resolution",
    );
    assert_eq!(report["team"]["first_responses"], 2, "{report}");
    assert_eq!(report["team"]["messages_sent"], 3, "{report}");
    assert_eq!(report["period"]["from"], "2026-01-05T00:00:00Z", "{report}");
    assert_eq!(report["period"]["to"], "2026-01-07T00:00:00Z", "{report}");

    // Only Monday: A's first response and resolve fell on Tuesday.
    let monday = admin
        .get_ok("/api/analytics/agents?from=2026-01-05&to=2026-01-05&tz=Europe/London")
        .await;
    assert_eq!(monday["team"]["conversations_handled"], 0, "{monday}");
    assert_eq!(monday["team"]["first_responses"], 0, "{monday}");

    // In India (UTC+5:30) Tuesday runs from Monday 18:30 UTC to Tuesday 18:30 UTC: all of
    // it, read partly from the day rollups and partly from the rows at its ragged ends.
    let india = admin
        .get_ok("/api/analytics/agents?from=2026-01-06&to=2026-01-06&tz=Asia/Kolkata")
        .await;
    assert_eq!(india["team"]["conversations_handled"], 2, "{india}");
    assert_eq!(india["team"]["responses"], 3, "{india}");
    // Monday in India ended at 18:30 UTC, before anything was answered.
    let india_monday = admin
        .get_ok("/api/analytics/agents?from=2026-01-05&to=2026-01-05&tz=Asia/Kolkata")
        .await;
    assert_eq!(india_monday["team"]["responses"], 0, "{india_monday}");

    // Agents read their own row only; marketing reads none; bad parameters name themselves.
    let own = ann.get_ok(path).await;
    let users: Vec<&Value> = own["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| &r["user_id"])
        .collect();
    assert_eq!(users, vec![&ann_id], "{own}");
    let (code, _) = mark.request(reqwest::Method::GET, path, None).await;
    assert_eq!(code, 403);
    let (code, _) = ann
        .request(reqwest::Method::GET, "/api/analytics/sessions", None)
        .await;
    assert_eq!(code, 403);
    for (query, field) in [
        ("tz=Mars/Base", "tz"),
        ("from=yesterday", "from"),
        ("from=2026-01-07&to=2026-01-06", "from"),
    ] {
        let (code, e) = admin
            .request(
                reqwest::Method::GET,
                &format!("/api/analytics/agents?{query}"),
                None,
            )
            .await;
        assert_eq!(code, 422, "{query}: {e}");
        assert_eq!(e["error"]["field"], field, "{query}: {e}");
    }

    // The CSV has a row per member and the team's.
    let (code, csv) = admin
        .request(reqwest::Method::GET, &format!("{path}&format=csv"), None)
        .await;
    assert_eq!(code, 200);
    let csv = csv.as_str().expect("text").to_string();
    assert!(
        csv.starts_with("user_id,name,conversations_handled,"),
        "{csv}"
    );
    assert_eq!(
        csv.lines().count(),
        4,
        "header, two members, the team: {csv}"
    );

    // Traffic by local hour: in London, Monday 16:xx had one message in; Tuesday 10:xx
    // three in (B, A again, A's rating) and four out (Ann's reply after 10:00, the boss's,
    // and the two rating questions).
    let sessions = admin
        .get_ok("/api/analytics/sessions?from=2026-01-05&to=2026-01-06&tz=Europe/London")
        .await;
    let s = &sessions["items"][0];
    assert_eq!(s["session"], "default", "{sessions}");
    assert_eq!(
        (s["messages_in"].clone(), s["messages_out"].clone()),
        (json!(4), json!(5)),
        "{s}"
    );
    assert_eq!(s["conversations_started"], 2, "{s}");
    assert_eq!(s["by_hour_of_day"][16], json!({"in": 1, "out": 0}), "{s}");
    assert_eq!(s["by_hour_of_day"][9], json!({"in": 0, "out": 1}), "{s}");
    assert_eq!(s["by_hour_of_day"][10], json!({"in": 3, "out": 4}), "{s}");
    assert_eq!(s["by_day_of_week"][0], json!({"in": 1, "out": 0}), "{s}");
    assert_eq!(s["by_day_of_week"][1], json!({"in": 3, "out": 5}), "{s}");
    // In New York the 16:30 UTC message came at 11:30.
    let ny = admin
        .get_ok("/api/analytics/sessions?from=2026-01-05&to=2026-01-06&tz=America/New_York")
        .await;
    assert_eq!(ny["items"][0]["by_hour_of_day"][11]["in"], 1, "{ny}");

    // The dashboard's today (London): Tuesday's traffic and resolves.
    let board = admin.get_ok("/api/dashboard").await;
    assert_eq!(
        board["messages_today"],
        json!({"in": 3, "out": 5}),
        "{board}"
    );
    assert_eq!(board["today"]["resolved"], 2, "{board}");
    assert_eq!(board["sessions"][0]["status"], "WORKING", "{board}");

    // The live rollups are what a rebuild from the stored rows computes.
    caught_up(db).await;
    let live = tables(db).await;
    assert_eq!(live["analytics_cycles"].len(), 2, "{live:?}");
    assert_eq!(live["analytics_responses"].len(), 3, "{live:?}");
    let facts = tickhub::store::analytics::rebuild(t.app.hub.db(), clock.now_ms())
        .await
        .expect("rebuild");
    assert_eq!(facts, 13, "nine messages, two assignments, two resolves");
    let rebuilt = tables(db).await;
    assert_eq!(live, rebuilt, "a rebuild reproduces the live rollups");
    // And the reports read the same after it.
    let again = admin.get_ok(path).await;
    assert_eq!(again["team"], report["team"], "{again}");

    t.stop().await;
}

#[actix_web::test]
async fn figures_follow_their_definitions_sqlite() {
    figures_follow_their_definitions(Backend::Sqlite).await;
}

#[actix_web::test]
async fn figures_follow_their_definitions_postgres() {
    figures_follow_their_definitions(Backend::Postgres).await;
}
