//! A campaign's audience outliving its edits (issue 18), on SQLite and PostgreSQL against
//! a real hub and the WAHA simulator: a segment an unfinished campaign uses cannot be
//! deleted (the refusal names the campaigns the member works with, and only those), and a
//! scheduled campaign whose segment disappeared anyway goes back to draft, saying why,
//! rather than completing with nobody.

mod common;

use std::time::Duration;

use common::{Backend, Options, Setup};
use serde_json::{json, Value};

/// A hub sending fast, with a second session, `other`, beside `default`.
async fn setup(b: Backend) -> Setup {
    let env = vec![("TICKHUB_SEND_RATE".into(), "50".into())];
    let s = Setup::with(
        b,
        Options {
            env,
            ..Default::default()
        },
    )
    .await;
    let (code, v) = s.post("/api/sessions", json!({"name": "other"})).await;
    assert!(code == 201 || code == 200, "{v}");
    s
}

async fn created(s: &Setup, path: &str, body: Value) -> Value {
    let (code, v) = s.post(path, body.clone()).await;
    assert_eq!(code, 201, "POST {path} {body}: {v}");
    v
}

fn message(e: &Value) -> String {
    e["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn a_used_segment_is_kept(b: Backend) {
    let s = setup(b).await;
    let ana = created(
        &s,
        "/api/contacts",
        json!({"session": "default", "phone": "+447700940001", "name": "Ana", "tags": ["promo"]}),
    )
    .await;
    let promo = json!({"all": [{"field": "tags", "op": "contains", "value": "promo"}]});
    let seg = created(
        &s,
        "/api/segments",
        json!({"name": "Promo", "filter": promo}),
    )
    .await;
    let seg_id = seg["id"].clone();
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let mut made = Vec::new();
    for (name, session, start_at) in [
        ("Draft one", "default", None),
        ("Tomorrow's", "default", Some(later)),
        ("Other team's", "other", None),
        // A finished campaign (cancelled below) does not hold the segment.
        ("Old", "default", None),
    ] {
        let body = json!({"name": name, "session": session, "segment_id": seg_id,
                          "template": "Hi", "start_at": start_at});
        made.push(created(&s, "/api/campaigns", body).await);
    }
    let [draft, scheduled, elsewhere, done] = <[Value; 4]>::try_from(made).expect("four");
    let (code, v) = s
        .post(&format!("/api/campaigns/{}/cancel", done["id"]), json!({}))
        .await;
    assert_eq!(code, 200, "{v}");

    // The admin sees every campaign that holds it.
    let path = format!("/api/segments/{seg_id}");
    let (code, e) = s.as_user(&s.token, "DELETE", &path, None).await;
    assert_eq!(code, 409, "{e}");
    let m = message(&e);
    for name in ["Draft one", "Tomorrow's", "Other team's"] {
        assert!(m.contains(name), "{name} in {m}");
    }
    assert!(!m.contains("Old"), "{m}");
    assert!(m.contains("scheduled") && m.contains("draft"), "{m}");
    // Marketing of one session: its campaigns by name, the other session's counted only.
    let marketing = s.member("mk@test.tickhub", "marketing", &["default"]).await;
    let (code, e) = s.as_user(&marketing.token, "DELETE", &path, None).await;
    assert_eq!(code, 409, "{e}");
    let m = message(&e);
    assert!(m.contains("Draft one") && m.contains("Tomorrow's"), "{m}");
    assert!(!m.contains("Other team's"), "{m}");
    assert!(m.contains("1 campaign you do not work with"), "{m}");
    // Sales writes segments but works with no campaign: none is named.
    let sales = s.member("sa@test.tickhub", "sales", &["default"]).await;
    let (code, e) = s.as_user(&sales.token, "DELETE", &path, None).await;
    assert_eq!(code, 409, "{e}");
    let m = message(&e);
    assert!(!m.contains("Draft one") && !m.contains("Tomorrow"), "{m}");
    assert!(m.contains("3 campaigns you do not work with"), "{m}");
    // Agents may not delete segments at all.
    let agent = s.member("ag@test.tickhub", "agent", &["default"]).await;
    let (code, e) = s.as_user(&agent.token, "DELETE", &path, None).await;
    assert_eq!(code, 403, "{e}");

    // Once no unfinished campaign uses it, it goes.
    let (code, v) = s
        .patch(
            &format!("/api/campaigns/{}", scheduled["id"]),
            json!({"contact_ids": [ana["id"]]}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    for c in [&draft, &elsewhere] {
        let (code, v) = s
            .post(&format!("/api/campaigns/{}/cancel", c["id"]), json!({}))
            .await;
        assert_eq!(code, 200, "{v}");
    }
    let (code, e) = s.as_user(&marketing.token, "DELETE", &path, None).await;
    assert_eq!(code, 204, "{e}");
    let (code, _) = s.get(&path).await;
    assert_eq!(code, 404);
}
both!(a_used_segment_is_kept);

async fn a_scheduled_campaign_without_its_segment_goes_back_to_draft(b: Backend) {
    let s = setup(b).await;
    let ana = created(
        &s,
        "/api/contacts",
        json!({"session": "default", "phone": "+447700940101", "name": "Ana", "tags": ["promo"]}),
    )
    .await;
    let seg = created(
        &s,
        "/api/segments",
        json!({"name": "Soon gone", "filter": {"all": [{"field": "tags", "op": "contains", "value": "promo"}]}}),
    )
    .await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let c = created(
        &s,
        "/api/campaigns",
        json!({"name": "Orphan", "session": "default", "segment_id": seg["id"],
               "template": "Orphan hello", "start_at": soon, "rate_per_minute": 600}),
    )
    .await;
    assert_eq!(c["status"], "scheduled", "{c}");
    // The segment disappears behind the API's back, as a race with the scheduler would
    // leave it.
    let sql = format!("DELETE FROM segments WHERE id = {}", seg["id"]);
    s.db.exec(&sql, &[&sql]).await;

    let id = c["id"].clone();
    let back = s
        .eventually_within(
            &format!("/api/campaigns/{id}"),
            Duration::from_secs(60),
            |c| c["status"] != "scheduled",
        )
        .await;
    assert_eq!(back["status"], "draft", "not completed empty: {back}");
    assert!(
        back["pause_reason"]
            .as_str()
            .is_some_and(|r| r.contains("segment was deleted")),
        "{back}"
    );
    assert_eq!(back["counts"]["total"], 0, "nobody planned: {back}");
    assert!(back["started_at"].is_null(), "{back}");
    // Starting it as it is stays refused; given an audience it runs, the reason gone.
    let (code, e) = s
        .post(&format!("/api/campaigns/{id}/start"), json!({}))
        .await;
    assert_eq!(code, 409, "{e}");
    let (code, v) = s
        .patch(
            &format!("/api/campaigns/{id}"),
            json!({"contact_ids": [ana["id"]], "start_at": null}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "draft", "{v}");
    assert!(v["pause_reason"].is_null(), "{v}");
    let (code, v) = s
        .post(&format!("/api/campaigns/{id}/start"), json!({}))
        .await;
    assert_eq!(code, 200, "{v}");
    s.eventually_within(
        &format!("/api/campaigns/{id}"),
        Duration::from_secs(60),
        |c| c["status"] == "completed",
    )
    .await;
    assert_eq!(s.sim.sent_with("Orphan hello").await.len(), 1);
}
both!(a_scheduled_campaign_without_its_segment_goes_back_to_draft);

/// The list `csv` uploaded as campaign `id`'s audience, by the holder of `token`.
async fn upload(s: &Setup, token: &str, id: &Value, csv: &str) -> (u16, Value) {
    s.request(
        reqwest::Method::POST,
        &format!("/api/campaigns/{id}/audience"),
        |r| {
            r.bearer_auth(token)
                .header("content-type", "text/csv")
                .body(csv.to_string())
        },
    )
    .await
}

async fn an_uploaded_list_is_the_audience(b: Backend) {
    let s = setup(b).await;
    // Two numbers are contacts already; one of them said STOP.
    let ana = created(
        &s,
        "/api/contacts",
        json!({"session": "default", "phone": "+447700950001", "name": "Ana"}),
    )
    .await;
    let olga = created(
        &s,
        "/api/contacts",
        json!({"session": "default", "phone": "+447700950002", "name": "Olga"}),
    )
    .await;
    let (code, v) = s
        .patch(
            &format!("/api/contacts/{}", olga["id"]),
            json!({"opted_out": true}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    let c = created(
        &s,
        "/api/campaigns",
        json!({"name": "Listed", "session": "default", "audience_upload": true,
               "template": "Hi {{contact.name}}, your plan: {{contact.plan}}", "rate_per_minute": 600}),
    )
    .await;
    assert_eq!(c["status"], "draft", "{c}");
    assert_eq!(c["audience"], json!({}), "nothing uploaded yet: {c}");
    let id = c["id"].clone();
    let (code, e) = s
        .post(&format!("/api/campaigns/{id}/start"), json!({}))
        .await;
    assert_eq!(code, 409, "no audience yet: {e}");
    assert!(message(&e).contains("upload a list"), "{e}");

    let csv = "phone,name,attr.plan\n\
               +447700950001,Ana Maria,gold\n\
               +447700950002,Olga,silver\n\
               +447700950003,Bea,bronze\n\
               not-a-number,Bad,x\n\
               +447700950003,Bea,bronze\n\
               ,Nobody,\n\
               +447700950005,Dan,silver\n";

    // Who may: whoever runs the campaign and writes the session's contacts.
    let agent = s.member("ag@test.tickhub", "agent", &["default"]).await;
    let sales = s.member("sa@test.tickhub", "sales", &["default"]).await;
    let outsider = s.member("mk2@test.tickhub", "marketing", &["other"]).await;
    let marketing = s.member("mk@test.tickhub", "marketing", &["default"]).await;
    for (who, token, expect) in [
        ("agent", &agent.token, 403),
        ("sales", &sales.token, 403),
        ("another session's marketing", &outsider.token, 404),
    ] {
        let (code, e) = upload(&s, token, &id, csv).await;
        assert_eq!(code, expect, "{who}: {e}");
    }
    let (code, v) = s.get(&format!("/api/campaigns/{id}")).await;
    assert_eq!(code, 200);
    assert_eq!(
        v["audience"],
        json!({}),
        "the refused uploads changed nothing: {v}"
    );
    // Not CSV; a header without a phone column; a list without one usable number.
    let (code, e) = s
        .request(
            reqwest::Method::POST,
            &format!("/api/campaigns/{id}/audience"),
            |r| r.bearer_auth(&marketing.token).json(&json!({"phone": "x"})),
        )
        .await;
    assert_eq!(code, 415, "{e}");
    let (code, e) = upload(&s, &marketing.token, &id, "name\nAna\n").await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(e["error"]["field"], "columns", "{e}");
    let (code, e) = upload(&s, &marketing.token, &id, "phone\nnope\n").await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(e["error"]["field"], "body", "{e}");
    assert!(message(&e).contains("line 2"), "{e}");

    let (code, r) = upload(&s, &marketing.token, &id, csv).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["rows"], 7, "{r}");
    assert_eq!(r["contacts"], 4, "{r}");
    assert_eq!(r["created"], 2, "{r}");
    assert_eq!(r["duplicates"], 1, "{r}");
    let bad: Vec<(i64, &str)> = r["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["line"].as_i64().unwrap_or(0),
                e["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(bad, vec![(5, "phone"), (7, "phone")], "{r}");
    assert_eq!(r["errors_total"], 2, "{r}");
    assert_eq!(
        r["audience"],
        json!({"total": 4, "eligible": 3, "skipped": {"opted_out": 1, "erased": 0, "duplicate_number": 0}}),
        "{r}"
    );
    assert_eq!(r["campaign"]["audience"], json!({"contact_ids": 4}), "{r}");
    // A known number took the row's name; the new ones are contacts of the session.
    let (_, a) = s.get(&format!("/api/contacts/{}", ana["id"])).await;
    assert_eq!(a["name"], "Ana Maria", "{a}");

    let started = s
        .post(&format!("/api/campaigns/{id}/start"), json!({}))
        .await;
    assert_eq!(started.0, 200, "{}", started.1);
    s.eventually_within(
        &format!("/api/campaigns/{id}"),
        Duration::from_secs(60),
        |c| c["status"] == "completed",
    )
    .await;
    // Exactly three messages, one to each number that may be messaged, with its variables.
    let mut sent: Vec<(String, String)> = s
        .sim
        .sent()
        .await
        .into_iter()
        .filter(|m| m["text"].as_str().is_some_and(|t| t.contains("your plan")))
        .map(|m| {
            (
                m["chatId"].as_str().unwrap_or_default().to_string(),
                m["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        vec![
            (
                "447700950001@c.us".into(),
                "Hi Ana Maria, your plan: gold".into()
            ),
            (
                "447700950003@c.us".into(),
                "Hi Bea, your plan: bronze".into()
            ),
            (
                "447700950005@c.us".into(),
                "Hi Dan, your plan: silver".into()
            ),
        ]
    );
    let (_, v) = s.get(&format!("/api/campaigns/{id}")).await;
    assert_eq!(v["counts"]["total"], 4, "{v}");
    assert_eq!(v["counts"]["skipped"], 1, "Olga, opted out: {v}");
    let (_, rec) = s
        .get(&format!("/api/campaigns/{id}/recipients?state=skipped"))
        .await;
    assert_eq!(rec["items"][0]["contact_id"], olga["id"], "{rec}");
    assert_eq!(rec["items"][0]["reason"], "opted_out", "{rec}");
    // Started: its audience is fixed.
    let (code, e) = upload(&s, &marketing.token, &id, csv).await;
    assert_eq!(code, 409, "{e}");
}
both!(an_uploaded_list_is_the_audience);
