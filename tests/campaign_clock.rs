//! Campaigns on an injected clock (issue 18): a scheduled campaign waits for its time, a
//! recipient in its quiet hours (in its own time zone) waits for their end, and a
//! recurring campaign schedules its next run at the same local time. The hub runs
//! in-process with a clock the test moves, beside an in-process simulator, on SQLite and
//! PostgreSQL.

mod common;

use common::in_process::{self, Manual};
use common::Backend;
use serde_json::{json, Value};

async fn schedules_quiet_hours_and_recurrence_follow_the_clock(b: Backend) {
    // Monday 2026-01-05, 20:00 in London (winter: UTC).
    let clock = Manual::at("2026-01-05T20:00:00Z");
    let rate = [("TICKHUB_SEND_RATE".to_string(), "50".to_string())];
    let t = in_process::start(b, &clock, &rate, "clock@test.tickhub").await;
    let (api, sim) = (&t.admin, &t.sim);
    let london = api
        .send(
            reqwest::Method::POST,
            "/api/contacts",
            json!({"session": "default", "phone": "+447700880001", "name": "Lon"}),
        )
        .await;
    let tokyo = api
        .send(
            reqwest::Method::POST,
            "/api/contacts",
            json!({"session": "default", "phone": "+447700880002", "name": "Tok",
                   "attributes": {"time_zone": "Asia/Tokyo"}}),
        )
        .await;

    // Due in half an hour (on the hub's clock), then daily at the same London time.
    let later = api
        .send(
            reqwest::Method::POST,
            "/api/campaigns",
            json!({"name": "Evening", "session": "default", "contact_ids": [london["id"], tokyo["id"]],
                   "template": "Evening news for {{contact.name}}", "start_at": "2026-01-05T20:30:00Z",
                   "time_zone": "Europe/London", "recurrence": "daily",
                   "quiet_hours": {"start": "21:00", "end": "08:00"}, "rate_per_minute": 600}),
        )
        .await;
    assert_eq!(later["status"], "scheduled", "{later}");
    // A marker: a campaign already due. Once it has completed, the supervisor has looked
    // at the schedule since, and the later one must still wait.
    let due = api
        .send(
            reqwest::Method::POST,
            "/api/campaigns",
            json!({"name": "Marker", "session": "default", "contact_ids": [london["id"]],
                   "template": "Marker", "start_at": "2026-01-05T19:59:00Z", "rate_per_minute": 600}),
        )
        .await;
    api.until(&format!("/api/campaigns/{}", due["id"]), |c| {
        c["status"] == "completed"
    })
    .await;
    let (_, c) = api
        .request(
            reqwest::Method::GET,
            &format!("/api/campaigns/{}", later["id"]),
            None,
        )
        .await;
    assert_eq!(c["status"], "scheduled", "not yet its time: {c}");

    // 20:31 in London: it starts. London is not in its quiet hours yet; Tokyo (05:31)
    // is, until 08:00 there (23:00 UTC).
    clock.set("2026-01-05T20:31:00Z");
    let id = later["id"].clone();
    api.until(&format!("/api/campaigns/{id}/recipients"), |r| {
        r["items"].as_array().is_some_and(|i| {
            i.iter()
                .any(|x| x["contact_id"] == london["id"] && x["state"] == "sent")
        })
    })
    .await;
    let running = api.get_ok(&format!("/api/campaigns/{id}")).await;
    assert_eq!(running["status"], "running", "{running}");
    assert_eq!(running["counts"]["queued"], 1, "Tokyo waits: {running}");
    let sent: Vec<Value> = api
        .http
        .get(format!("http://{}/sim/sent", sim.addr))
        .send()
        .await
        .expect("sim")
        .json()
        .await
        .expect("sent");
    assert!(
        sent.iter().all(|m| m["text"] != "Evening news for Tok"),
        "nothing to Tokyo in its quiet hours: {sent:?}"
    );

    // 23:01 UTC, 08:01 in Tokyo. A pause and resume has the runner look again now rather
    // than when it planned to wake.
    clock.set("2026-01-05T23:01:00Z");
    api.send(
        reqwest::Method::POST,
        &format!("/api/campaigns/{id}/pause"),
        json!({}),
    )
    .await;
    api.send(
        reqwest::Method::POST,
        &format!("/api/campaigns/{id}/resume"),
        json!({}),
    )
    .await;
    api.until(&format!("/api/campaigns/{id}"), |c| {
        c["status"] == "completed"
    })
    .await;

    // The next run: tomorrow 20:30 London, a new scheduled campaign pointing at the first.
    let (_, list) = api
        .request(
            reqwest::Method::GET,
            "/api/campaigns?status=scheduled",
            None,
        )
        .await;
    let next = list["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["parent_id"] == id).cloned())
        .unwrap_or_else(|| panic!("no next run: {list}"));
    assert_eq!(next["start_at"], "2026-01-06T20:30:00Z", "{next}");
    assert_eq!(next["recurrence"], "daily", "{next}");
    assert_eq!(next["counts"]["total"], 0, "planned when it starts: {next}");

    t.stop().await;
}

#[actix_web::test]
async fn schedules_quiet_hours_and_recurrence_follow_the_clock_sqlite() {
    schedules_quiet_hours_and_recurrence_follow_the_clock(Backend::Sqlite).await;
}

#[actix_web::test]
async fn schedules_quiet_hours_and_recurrence_follow_the_clock_postgres() {
    schedules_quiet_hours_and_recurrence_follow_the_clock(Backend::Postgres).await;
}
