//! Campaigns (issue 18, contract §3c) on SQLite and PostgreSQL, against a real hub and the
//! WAHA simulator: exact recipients (opted out, erased, named twice), each reached once
//! and checked at the simulator; pause, resume and STOP during a campaign; replies and
//! acks tracked; the lifecycle's refusals and who may do what; agent replies ahead of
//! campaign traffic; kill -9 mid-campaign; WAHA refusing sends.

mod common;

use std::time::Duration;

use common::campaigns::{act, campaign, chat, contact_in, setup, wait_campaign, SETTLE};
use common::{Backend, Options, Setup};
use serde_json::{json, Value};

async fn contact(s: &Setup, phone: &str, name: &str, tags: &[&str]) -> i64 {
    contact_in(s, "default", phone, name, tags).await
}

/// The simulator's sends to `chat`.
async fn sends_to(s: &Setup, chat: &str) -> Vec<Value> {
    s.sim
        .sent()
        .await
        .into_iter()
        .filter(|m| m["chatId"] == chat)
        .collect()
}

async fn recipients(s: &Setup, id: &Value) -> Vec<Value> {
    let (code, r) = s
        .get(&format!("/api/campaigns/{id}/recipients?limit=200"))
        .await;
    assert_eq!(code, 200, "{r}");
    r["items"].as_array().cloned().unwrap_or_default()
}

async fn exact_recipients_each_once(b: Backend) {
    let s = setup(b).await;
    let mut ws = s.socket(None).await;
    let phones = [
        "+447700910001",
        "+447700910002",
        "+447700910003",
        "+447700910004",
        "+447700910005",
    ];
    let names = ["Ana Souza", "Ben", "Chloé", "Dev", "Eve"];
    let mut ids = Vec::new();
    for (p, n) in phones.iter().zip(names) {
        ids.push(contact(&s, p, n, &["promo"]).await);
    }
    // Not in the segment: never messaged.
    contact(&s, "+447700910099", "Other", &["other"]).await;
    let (code, c) = s
        .patch(
            &format!("/api/contacts/{}", ids[3]),
            json!({"opted_out": true}),
        )
        .await;
    assert_eq!(code, 200, "{c}");
    let (code, c) = s
        .post(&format!("/api/contacts/{}/erase", ids[4]), json!({}))
        .await;
    assert_eq!(code, 200, "{c}");
    let (code, seg) = s
        .post(
            "/api/segments",
            json!({"name": "promo", "filter": {"all": [{"field": "tags", "op": "contains", "value": "promo"}]}}),
        )
        .await;
    assert_eq!(code, 201, "{seg}");

    // The erased contact lost its tags with its personal data: the segment no longer
    // holds it.
    let (code, a) = s
        .post(
            "/api/campaigns/audience",
            json!({"session": "default", "segment_id": seg["id"]}),
        )
        .await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(
        a,
        json!({"total": 4, "eligible": 3, "skipped": {"opted_out": 1, "erased": 0, "duplicate_number": 0}})
    );
    // Named one by one, the same contact three times is one recipient.
    let named = json!([ids[0], ids[1], ids[0], ids[2], ids[3], ids[4], ids[0]]);
    let (_, a) = s
        .post(
            "/api/campaigns/audience",
            json!({"session": "default", "contact_ids": named}),
        )
        .await;
    assert_eq!(
        a,
        json!({"total": 5, "eligible": 3, "skipped": {"opted_out": 1, "erased": 1, "duplicate_number": 0}})
    );

    let c = campaign(
        &s,
        json!({"name": "Spring sale", "session": "default", "contact_ids": named,
               "template": "Hi {{contact.first_name}}, spring sale!", "rate_per_minute": 600, "jitter": 0}),
    )
    .await;
    assert_eq!(c["status"], "draft", "{c}");
    assert_eq!(c["audience"], json!({"contact_ids": 5}), "{c}");
    assert_eq!(c["counts"]["total"], 0, "planned only when it starts: {c}");
    let id = c["id"].clone();
    let started = act(&s, &id, "start").await;
    assert_eq!(started["status"], "running", "{started}");
    assert_eq!(started["counts"]["total"], 5, "{started}");
    assert_eq!(started["counts"]["skipped"], 2, "{started}");
    let done = wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    assert_eq!(done["counts"]["total"], 5, "{done}");
    assert_eq!(done["counts"]["queued"], 0, "{done}");

    for (p, first) in phones[..3].iter().zip(["Ana", "Ben", "Chloé"]) {
        let sent = sends_to(&s, &chat(p)).await;
        assert_eq!(sent.len(), 1, "{p} once: {sent:?}");
        assert_eq!(sent[0]["text"], format!("Hi {first}, spring sale!"));
    }
    for p in &phones[3..] {
        assert!(sends_to(&s, &chat(p)).await.is_empty(), "{p} never");
    }
    assert!(sends_to(&s, &chat("+447700910099")).await.is_empty());

    // The simulator acks every send up to read: the counts follow.
    let read = wait_campaign(&s, &id, |c| c["counts"]["read"] == 3).await;
    assert_eq!(read["counts"]["sent"], 0, "{read}");
    let rs = recipients(&s, &id).await;
    assert_eq!(rs.len(), 5, "{rs:?}");
    let skipped: Vec<(&Value, &Value)> = rs
        .iter()
        .filter(|r| r["state"] == "skipped")
        .map(|r| (&r["contact_id"], &r["reason"]))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (&json!(ids[3]), &json!("opted_out")),
            (&json!(ids[4]), &json!("erased"))
        ]
    );
    assert!(rs
        .iter()
        .filter(|r| r["state"] == "read")
        .all(|r| r["sent_at"].is_i64() && r["delivered_at"].is_i64() && r["read_at"].is_i64()));

    // campaign.progress reached the admin, up to completed.
    ws.expect("campaign.progress", |d| {
        d["campaign_id"] == id && d["status"] == "completed"
    })
    .await;

    let (code, report) = s.get(&format!("/api/campaigns/{id}/report")).await;
    assert_eq!(code, 200, "{report}");
    assert_eq!(report["funnel"]["sent"], 3, "{report}");
    assert_eq!(report["rates"]["read"], 1.0, "{report}");
    assert_eq!(
        report["skips"],
        json!([{"reason": "erased", "count": 1}, {"reason": "opted_out", "count": 1}])
    );
    let series_sent: i64 = report["series"]
        .as_array()
        .map(|a| a.iter().map(|p| p["sent"].as_i64().unwrap_or(0)).sum())
        .unwrap_or(0);
    assert_eq!(series_sent, 3, "{report}");

    // The recipients as CSV: a header and one line each.
    let r = s
        .http
        .get(format!(
            "{}/api/campaigns/{id}/recipients?format=csv",
            s.hub.url
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .expect("csv");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("csv body");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(
        lines[0].starts_with("contact_id,name,phone,state,reason"),
        "{text}"
    );

    // Segments see who the campaign reached and who read it.
    for (field, op, want) in [
        ("campaign.received", "eq", 3),
        ("campaign.read", "eq", 3),
        ("campaign.replied", "eq", 0),
        ("campaign.received", "ne", 3),
    ] {
        let (code, n) = s
            .post(
                "/api/segments/preview",
                json!({"filter": {"all": [{"field": field, "op": op, "value": id}]}}),
            )
            .await;
        assert_eq!(code, 200, "{n}");
        assert_eq!(n["count"], want, "{field} {op}: {n}");
    }

    // The contact's GDPR export lists the campaign.
    let (_, export) = s.get(&format!("/api/contacts/{}/export", ids[0])).await;
    assert_eq!(export["campaigns"][0]["campaign_id"], id, "{export}");

    // A second campaign, to the segment, with a frequency cap: everyone it could reach got
    // the first one within the day.
    let again = campaign(
        &s,
        json!({"name": "Again", "session": "default", "segment_id": seg["id"], "template": "Again!",
               "rate_per_minute": 600, "frequency_cap_hours": 24}),
    )
    .await;
    act(&s, &again["id"], "start").await;
    let done = wait_campaign(&s, &again["id"], |c| c["status"] == "completed").await;
    assert_eq!(done["counts"]["total"], 4, "{done}");
    assert_eq!(done["counts"]["skipped"], 4, "{done}");
    let (_, report) = s
        .get(&format!("/api/campaigns/{}/report", again["id"]))
        .await;
    assert_eq!(
        report["skips"],
        json!([{"reason": "frequency_cap", "count": 3}, {"reason": "opted_out", "count": 1}])
    );
    assert!(s.sim.sent_with("Again!").await.is_empty());
    no_failed_webhooks(&s).await;
}

/// Every ack and message was applied (a campaign's bookkeeping broke none of them).
async fn no_failed_webhooks(s: &Setup) {
    let (code, failed) = s.get("/api/admin/failed-webhooks").await;
    assert_eq!(code, 200, "{failed}");
    assert_eq!(failed["items"], json!([]), "{failed}");
}
both!(exact_recipients_each_once);

async fn pause_resume_stop_and_replies(b: Backend) {
    let s = setup(b).await;
    let phones = [
        "+447700920001",
        "+447700920002",
        "+447700920003",
        "+447700920004",
    ];
    let mut ids = Vec::new();
    for (i, p) in phones.iter().enumerate() {
        ids.push(contact(&s, p, &format!("P{i}"), &[]).await);
    }
    // One a second: slow enough to pause after the first.
    let c = campaign(
        &s,
        json!({"name": "Paced", "session": "default", "contact_ids": ids,
               "template": "News for {{contact.name}}", "rate_per_minute": 60, "jitter": 0}),
    )
    .await;
    let id = c["id"].clone();
    act(&s, &id, "start").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while sends_to(&s, &chat(phones[0])).await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first never went"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let paused = act(&s, &id, "pause").await;
    assert_eq!(paused["status"], "paused", "{paused}");
    assert!(
        paused["pause_reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("paused by")),
        "{paused}"
    );
    // Editing a running campaign is refused; a paused one's template may change.
    let (code, e) = s
        .patch(
            &format!("/api/campaigns/{id}"),
            json!({"template": "Update for {{contact.name}}"}),
        )
        .await;
    assert_eq!(code, 200, "{e}");
    let (code, e) = s
        .patch(
            &format!("/api/campaigns/{id}"),
            json!({"contact_ids": [ids[0]]}),
        )
        .await;
    assert_eq!(code, 409, "a started campaign's audience is fixed: {e}");

    // The second person says STOP while the campaign is paused; the first replies.
    s.customer_writes(&chat(phones[1]), "STOP").await;
    s.customer_writes(&chat(phones[0]), "Thanks, interested!")
        .await;
    wait_campaign(&s, &id, |c| c["counts"]["replied"] == 1).await;

    let resumed = act(&s, &id, "resume").await;
    assert_eq!(resumed["status"], "running", "{resumed}");
    assert!(resumed["pause_reason"].is_null(), "{resumed}");
    let (code, e) = s
        .patch(&format!("/api/campaigns/{id}"), json!({"name": "Renamed"}))
        .await;
    assert_eq!(code, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("pause it before editing")),
        "{e}"
    );
    let done = wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    assert_eq!(done["counts"]["skipped"], 1, "{done}");
    assert!(
        sends_to(&s, &chat(phones[1])).await.is_empty(),
        "STOP is respected"
    );
    for p in [phones[2], phones[3]] {
        let sent = sends_to(&s, &chat(p)).await;
        assert_eq!(sent.len(), 1, "{p}: {sent:?}");
        assert!(sent[0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Update for")));
    }
    assert_eq!(sends_to(&s, &chat(phones[0])).await.len(), 1);
    let rs = recipients(&s, &id).await;
    let of = |cid: i64| {
        rs.iter()
            .find(|r| r["contact_id"] == cid)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(of(ids[0])["state"], "replied", "{rs:?}");
    assert!(of(ids[0])["replied_at"].is_i64());
    assert_eq!(of(ids[1])["reason"], "opted_out", "{rs:?}");
    let (_, report) = s.get(&format!("/api/campaigns/{id}/report")).await;
    assert_eq!(report["funnel"]["replied"], 1, "{report}");
    // The reply is a normal conversation in the inbox.
    let conv = s.conversation_for(&chat(phones[0])).await;
    assert_ne!(conv["status"], "resolved", "{conv}");
    no_failed_webhooks(&s).await;
}
both!(pause_resume_stop_and_replies);

async fn lifecycle_refusals_and_access(b: Backend) {
    let s = setup(b).await;
    let a = contact(&s, "+447700930001", "A", &[]).await;
    let (code, e) = s
        .post(
            "/api/campaigns",
            json!({"name": "x", "session": "default", "template": "Hi {{nope}}", "contact_ids": [a]}),
        )
        .await;
    assert_eq!(code, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("template")),
        "{e}"
    );
    for (body, field) in [
        (
            json!({"name": "x", "session": "nope", "template": "t", "contact_ids": [a]}),
            "session",
        ),
        (
            json!({"name": "x", "session": "default", "template": "t"}),
            "segment_id",
        ),
        (
            json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a, 999999]}),
            "contact_ids[1]",
        ),
        (
            json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a], "time_zone": "Mars/Base"}),
            "time_zone",
        ),
        (
            json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a], "quiet_hours": {"start": "25:00", "end": "08:00"}}),
            "quiet_hours.start",
        ),
        (
            json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a], "rate_per_minute": 601}),
            "rate_per_minute",
        ),
        (
            json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a], "recurrence": "daily"}),
            "recurrence",
        ),
        (
            json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a], "start_at": "tomorrow"}),
            "start_at",
        ),
    ] {
        let (code, e) = s.post("/api/campaigns", body.clone()).await;
        assert_eq!(code, 422, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    // Scheduled: it starts by itself when its time comes.
    let soon = chrono::Utc::now() + chrono::Duration::seconds(2);
    let c = campaign(
        &s,
        json!({"name": "Later", "session": "default", "contact_ids": [a], "template": "Scheduled hello",
               "start_at": soon.to_rfc3339(), "rate_per_minute": 600}),
    )
    .await;
    assert_eq!(c["status"], "scheduled", "{c}");
    let id = c["id"].clone();
    wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    assert_eq!(s.sim.sent_with("Scheduled hello").await.len(), 1);
    let (code, e) = s
        .post(&format!("/api/campaigns/{id}/start"), json!({}))
        .await;
    assert_eq!(code, 409, "{e}");
    let (code, e) = s
        .post(&format!("/api/campaigns/{id}/resume"), json!({}))
        .await;
    assert_eq!(code, 409, "{e}");
    let r = s
        .as_user(&s.token, "DELETE", &format!("/api/campaigns/{id}"), None)
        .await;
    assert_eq!(r.0, 409, "{r:?}");

    // Who may: marketing and managers of the session; agents and sales never; another
    // session's marketing does not see it.
    let marketing = s.member("mk@test.tickhub", "marketing", &["default"]).await;
    let manager = s.member("mg@test.tickhub", "manager", &["default"]).await;
    let agent = s.member("ag@test.tickhub", "agent", &["default"]).await;
    let sales = s.member("sa@test.tickhub", "sales", &["default"]).await;
    let (code, _) = s.post("/api/sessions", json!({"name": "other"})).await;
    assert!(code == 201 || code == 200);
    let outsider = s.member("mk2@test.tickhub", "marketing", &["other"]).await;
    for m in [&marketing, &manager] {
        let (code, v) = s
            .as_user(&m.token, "GET", &format!("/api/campaigns/{id}"), None)
            .await;
        assert_eq!(code, 200, "{v}");
    }
    for m in [&agent, &sales] {
        let (code, v) = s.as_user(&m.token, "GET", "/api/campaigns", None).await;
        assert_eq!(code, 403, "{v}");
        let (code, v) = s
            .as_user(
                &m.token,
                "POST",
                "/api/campaigns",
                Some(
                    json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a]}),
                ),
            )
            .await;
        assert_eq!(code, 403, "{v}");
        let (code, v) = s
            .as_user(
                &m.token,
                "POST",
                &format!("/api/campaigns/{id}/pause"),
                None,
            )
            .await;
        assert_eq!(code, 403, "{v}");
    }
    let (code, v) = s
        .as_user(
            &outsider.token,
            "GET",
            &format!("/api/campaigns/{id}"),
            None,
        )
        .await;
    assert_eq!(code, 404, "{v}");
    let (code, v) = s
        .as_user(&outsider.token, "GET", "/api/campaigns", None)
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["items"], json!([]), "{v}");
    let (code, v) = s
        .as_user(
            &outsider.token,
            "POST",
            "/api/campaigns",
            Some(json!({"name": "x", "session": "default", "template": "t", "contact_ids": [a]})),
        )
        .await;
    assert_eq!(code, 422, "another session is unknown to them: {v}");

    // campaign.progress reaches marketing, never an agent: the agent's socket gets the
    // marker (a customer's message) and nothing of the campaign before it.
    let mut mk_ws = common::Socket::connect(&s.hub.url, &marketing.token, None).await;
    let mut ag_ws = common::Socket::connect(&s.hub.url, &agent.token, None).await;
    let c2 = campaign(
        &s,
        json!({"name": "Seen by", "session": "default", "contact_ids": [a], "template": "Second hello"}),
    )
    .await;
    mk_ws
        .expect("campaign.progress", |d| d["campaign_id"] == c2["id"])
        .await;
    let marker = s.customer_writes("447700939999@c.us", "marker").await;
    let frames = ag_ws
        .collect_until(Duration::from_secs(10), |f| {
            f.iter()
                .any(|x| x["type"] == "message.created" && x["data"]["waha_id"] == marker.as_str())
        })
        .await;
    assert!(
        frames.iter().any(|x| x["type"] == "message.created"),
        "the marker arrived: {frames:?}"
    );
    assert!(
        frames.iter().all(|x| x["type"] != "campaign.progress"),
        "{frames:?}"
    );
}
both!(lifecycle_refusals_and_access);

async fn quiet_hours_hold_recipients(b: Backend) {
    let s = setup(b).await;
    let a = contact(&s, "+447700940001", "A", &[]).await;
    // Quiet from an hour ago to an hour from now, in UTC: now is quiet.
    let now = chrono::Utc::now();
    let hhmm = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M").to_string();
    let c = campaign(
        &s,
        json!({"name": "Night", "session": "default", "contact_ids": [a], "template": "Quiet hello",
               "quiet_hours": {"start": hhmm(now - chrono::Duration::hours(1)), "end": hhmm(now + chrono::Duration::hours(1))},
               "rate_per_minute": 600}),
    )
    .await;
    let id = c["id"].clone();
    act(&s, &id, "start").await;
    // Held: the recipient waits for the end of its quiet hours.
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let rs = recipients(&s, &id).await;
        if rs.len() == 1 && rs[0]["state"] == "pending" {
            let (_, c) = s.get(&format!("/api/campaigns/{id}")).await;
            if c["status"] == "running" && c["counts"]["queued"] == 1 {
                break;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "{rs:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A recipient whose own time zone is 12 hours away is not quiet: it goes.
    act(&s, &id, "pause").await;
    let (code, e) = s
        .patch(
            &format!("/api/contacts/{a}"),
            json!({"attributes": {"time_zone": "Pacific/Kiritimati"}}),
        )
        .await;
    assert_eq!(code, 200, "{e}");
    act(&s, &id, "resume").await;
    wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    assert_eq!(s.sim.sent_with("Quiet hello").await.len(), 1);
}
both!(quiet_hours_hold_recipients);

async fn agent_replies_go_first(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: vec![("TICKHUB_SEND_RATE".into(), "2".into())],
            ..Default::default()
        },
    )
    .await;
    s.auto_assign("default", false).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(contact(&s, &format!("+4477009500{i:02}"), "Bulk", &[]).await);
    }
    let mut ws = s.socket(None).await;
    let customer = "447700959999@c.us";
    let wid = s.customer_writes(customer, "I need help").await;
    let f = ws
        .expect("message.created", |d| d["waha_id"] == wid.as_str())
        .await;
    let conv = f["data"]["conversation_id"].clone();
    let c = campaign(
        &s,
        json!({"name": "Bulk", "session": "default", "contact_ids": ids, "template": "Bulk offer",
               "rate_per_minute": 120, "jitter": 0}),
    )
    .await;
    act(&s, &c["id"], "start").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while s.sim.sent_with("Bulk offer").await.len() < 3 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = s.sim.sent_with("Bulk offer").await.len();
    let (code, m) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            json!({"text": "Here to help"}),
        )
        .await;
    assert_eq!(code, 201, "{m}");
    let deadline = tokio::time::Instant::now() + SETTLE;
    let order = loop {
        let sent = s.sim.sent().await;
        if let Some(at) = sent.iter().position(|x| x["text"] == "Here to help") {
            break sent[..at]
                .iter()
                .filter(|x| x["text"] == "Bulk offer")
                .count();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reply never went"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // At most the campaign messages already handed to the queue (two) go before it.
    assert!(
        order <= before + 2,
        "{order} campaign messages went first ({before} before the reply)"
    );
    assert!(
        s.sim.sent_with("Bulk offer").await.len() < 12,
        "the reply did not wait for the campaign to finish"
    );
    wait_campaign(&s, &c["id"], |c| c["status"] == "completed").await;
    for i in 0..12 {
        assert_eq!(
            sends_to(&s, &format!("4477009500{i:02}@c.us")).await.len(),
            1
        );
    }
}
both!(agent_replies_go_first);

async fn kill9_mid_campaign_resumes_each_once(b: Backend) {
    let mut s = setup(b).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(contact(&s, &format!("+4477009600{i:02}"), "Crash", &[]).await);
    }
    let c = campaign(
        &s,
        json!({"name": "Crash", "session": "default", "contact_ids": ids, "template": "Across a crash",
               "rate_per_minute": 300, "jitter": 0.3}),
    )
    .await;
    let id = c["id"].clone();
    act(&s, &id, "start").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while s.sim.sent_with("Across a crash").await.len() < 5 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.hub.kill9();
    let at_kill = s.sim.sent_with("Across a crash").await.len();
    assert!(at_kill < 20, "killed mid-campaign ({at_kill} sent)");
    s.hub.restart();
    wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    for i in 0..20 {
        let n = sends_to(&s, &format!("4477009600{i:02}@c.us")).await.len();
        assert_eq!(n, 1, "recipient {i} got it {n} times");
    }
}
both!(kill9_mid_campaign_resumes_each_once);

/// One campaign per fault, so each meets its recipient's one send: refused for good
/// (400) fails with WAHA's reason; refused once with 500, or with 422 (WAHA's "session
/// not working"), is retried and reaches the person once.
async fn waha_refusals(b: Backend) {
    let s = setup(b).await;
    for (n, status, fails) in [(1, 400, true), (2, 500, false), (3, 422, false)] {
        let phone = format!("+44770097000{n}");
        let who = contact(&s, &phone, "F", &[]).await;
        let c = campaign(
            &s,
            json!({"name": format!("Fault {status}"), "session": "default", "contact_ids": [who],
                   "template": format!("Fault test {status}"), "rate_per_minute": 60}),
        )
        .await;
        let (code, _) = s
            .sim
            .control(
                "/sim/faults",
                json!({"send_fail": 1, "send_fail_status": status}),
            )
            .await;
        assert_eq!(code, 200);
        let id = c["id"].clone();
        act(&s, &id, "start").await;
        let done = wait_campaign(&s, &id, |c| {
            c["status"] == "completed" && (c["counts"]["failed"] == 1 || c["counts"]["read"] == 1)
        })
        .await;
        let sent = sends_to(&s, &chat(&phone)).await;
        let rs = recipients(&s, &id).await;
        if fails {
            assert_eq!(done["counts"]["failed"], 1, "{done}");
            assert!(sent.is_empty(), "{sent:?}");
            assert!(
                rs[0]["reason"].as_str().is_some_and(|r| r.contains("400")),
                "{rs:?}"
            );
            let (_, report) = s.get(&format!("/api/campaigns/{id}/report")).await;
            assert_eq!(report["failures"][0]["count"], 1, "{report}");
        } else {
            assert_eq!(sent.len(), 1, "{status}: {sent:?}");
            assert_eq!(rs[0]["state"], "read", "{rs:?}");
        }
        let (_, left) = s.sim.control("/sim/faults", json!({})).await;
        assert_eq!(left["send_fail"], 0, "the fault was met: {left}");
    }
    no_failed_webhooks(&s).await;
}
both!(waha_refusals);

/// A session that stops working pauses its running campaigns, saying why; they resume
/// once it works again, each recipient still reached once.
async fn a_session_that_fails_pauses_its_campaigns(b: Backend) {
    let s = setup(b).await;
    let phones = ["+447700990001", "+447700990002", "+447700990003"];
    let mut ids = Vec::new();
    for p in phones {
        ids.push(contact(&s, p, "S", &[]).await);
    }
    let c = campaign(
        &s,
        json!({"name": "Fragile", "session": "default", "contact_ids": ids,
               "template": "Session test", "rate_per_minute": 30, "jitter": 0}),
    )
    .await;
    let id = c["id"].clone();
    act(&s, &id, "start").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while s.sim.sent_with("Session test").await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first never went"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, r) = s
        .sim
        .control("/sim/sessions/default/status", json!({"status": "FAILED"}))
        .await;
    assert!(code < 300, "{r}");
    let paused = wait_campaign(&s, &id, |c| c["status"] == "paused").await;
    assert_eq!(
        paused["pause_reason"], "session default is FAILED",
        "{paused}"
    );
    let (code, e) = s
        .post(&format!("/api/campaigns/{id}/resume"), json!({}))
        .await;
    assert_eq!(code, 409, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot send")),
        "{e}"
    );
    let (code, r) = s
        .sim
        .control("/sim/sessions/default/status", json!({"status": "WORKING"}))
        .await;
    assert!(code < 300, "{r}");
    s.wait_session_status("default", "WORKING").await;
    act(&s, &id, "resume").await;
    wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    for p in phones {
        assert_eq!(sends_to(&s, &chat(p)).await.len(), 1, "{p}");
    }
}
both!(a_session_that_fails_pauses_its_campaigns);

/// An image goes with the rendered text as its caption (`sendImage`), a PDF as a file
/// (`sendFile`); a media that is no http(s) URL is refused naming it.
async fn media_goes_with_the_caption(b: Backend) {
    let s = setup(b).await;
    let a = contact(&s, "+447700995001", "Mia", &[]).await;
    let (code, e) = s
        .post(
            "/api/campaigns",
            json!({"name": "x", "session": "default", "contact_ids": [a], "template": "t",
                   "media": {"url": "file:///etc/passwd", "mimetype": "image/png"}}),
        )
        .await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(e["error"]["field"], "media.url", "{e}");
    for (n, mime, name) in [
        (1, "image/png", None),
        (2, "application/pdf", Some("menu.pdf")),
    ] {
        let url = format!("https://cdn.example.com/offer-{n}");
        let c = campaign(
            &s,
            json!({"name": format!("Media {n}"), "session": "default", "contact_ids": [a],
                   "template": format!("Look, {{{{contact.name}}}} ({n})"),
                   "media": {"url": url, "mimetype": mime, "filename": name}, "rate_per_minute": 600}),
        )
        .await;
        assert_eq!(c["media"]["mimetype"], mime, "{c}");
        act(&s, &c["id"], "start").await;
        wait_campaign(&s, &c["id"], |c| c["status"] == "completed").await;
        let sent = s.sim.sent_with(&format!("Look, Mia ({n})")).await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0]["file"]["url"], url.as_str(), "{sent:?}");
        assert_eq!(sent[0]["file"]["mimetype"], mime, "{sent:?}");
        // The inbox shows the message with its attachment.
        let conv = s.conversation_for(&chat("+447700995001")).await;
        let msgs = s.messages(conv["id"].as_i64().expect("id")).await;
        assert!(
            msgs.iter()
                .any(|m| m["text"] == format!("Look, Mia ({n})").as_str()
                    && m["media"]["url"] == url.as_str()),
            "{msgs:?}"
        );
    }
}
both!(media_goes_with_the_caption);

/// The router's drains of a queue that ended with its head finding nobody.
async fn blocked_drains(s: &Setup) -> u64 {
    let text = s.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix("tickhub_router_drains_total{stop=\"blocked\"} "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

async fn blocked_drains_reach(s: &Setup, n: u64) -> u64 {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let now = blocked_drains(s).await;
        if now >= n {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "blocked drains stayed at {now}, below {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A campaign's new conversations start resolved with nobody assigned: they free nobody's
/// capacity, so a queue whose head found nobody is not offered again for each message
/// sent (it was, once per campaign message: a drain's queries each time).
async fn campaign_conversations_leave_a_blocked_queue_alone(b: Backend) {
    let s = setup(b).await;
    // The session's only agent never connects: whoever waits finds nobody.
    let agent = s.member("ana.queue@acme.test", "agent", &["default"]).await;
    s.auto_assign("default", true).await;
    s.customer_writes("447700920000@c.us", "anyone there?")
        .await;
    let before = blocked_drains_reach(&s, 1).await;

    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(contact(&s, &format!("+4477009200{n:02}"), &format!("P{n}"), &[]).await);
    }
    let c = campaign(
        &s,
        json!({"name": "Quiet queue", "session": "default", "contact_ids": ids,
               "template": "Hello {{contact.name}}", "rate_per_minute": 600, "jitter": 0}),
    )
    .await;
    act(&s, &c["id"], "start").await;
    wait_campaign(&s, &c["id"], |c| c["status"] == "completed").await;

    // The marker: a member's settings changed, so every queue is offered once more; the
    // router handles events in order, so that drain comes after any the campaign caused.
    let (code, m) = s
        .patch(
            &format!("/api/team-members/{}", agent.id),
            json!({"capacity": 3}),
        )
        .await;
    assert_eq!(code, 200, "{m}");
    blocked_drains_reach(&s, before + 1).await;
    assert_eq!(
        blocked_drains(&s).await,
        before + 1,
        "the campaign's conversations drained the blocked queue again"
    );
    // The customer still waits, unassigned.
    let conv = s.conversation_for("447700920000@c.us").await;
    assert_eq!(conv["assignee_id"], Value::Null, "{conv}");
}
both!(campaign_conversations_leave_a_blocked_queue_alone);
