//! Campaigns over several WhatsApp sessions (issue 18, "WhatsApp session(s)"), on SQLite
//! and PostgreSQL against a real hub and the WAHA simulator: each recipient reached once,
//! from its own contact's session (checked at the simulator), each session at its own
//! pace; an uploaded list's new numbers spread over the sessions; `session` and
//! `sessions` refused together; a member lacking one of the sessions refused; one session
//! stopping pauses the campaign, naming it.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::campaigns::{act, campaign as created, chat, contact_in, wait_campaign, SETTLE};
use common::{Backend, Setup, Socket};
use serde_json::{json, Value};

/// A hub sending fast, with sessions `default` and `second` working and `third`
/// registered beside them.
async fn setup(b: Backend) -> Setup {
    let s = common::campaigns::setup(b).await;
    for name in ["second", "third"] {
        let (code, v) = s.post("/api/sessions", json!({"name": name})).await;
        assert!(code == 201 || code == 200, "{v}");
        s.wait_session_status(name, "WORKING").await;
    }
    for name in ["second", "third"] {
        s.auto_assign(name, false).await;
    }
    s
}

async fn contact(s: &Setup, session: &str, phone: &str, tags: &[&str]) -> i64 {
    contact_in(s, session, phone, "C", tags).await
}

/// The simulator's sends of `text`: (chat id, session, ms).
async fn sends(s: &Setup, text: &str) -> Vec<(String, String, i64)> {
    s.sim
        .sent_with(text)
        .await
        .into_iter()
        .map(|m| {
            (
                m["chatId"].as_str().unwrap_or_default().to_string(),
                m["session"].as_str().unwrap_or_default().to_string(),
                m["at_ms"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

fn field(e: &Value) -> &str {
    e["error"]["field"].as_str().unwrap_or_default()
}

async fn each_recipient_once_from_its_own_session(b: Backend) {
    let s = setup(b).await;
    let mut expect: HashMap<String, &str> = HashMap::new();
    for (session, phone) in [
        ("default", "+447700960001"),
        ("default", "+447700960002"),
        ("default", "+447700960003"),
        ("second", "+447700960011"),
        ("second", "+447700960012"),
        ("second", "+447700960013"),
    ] {
        contact(&s, session, phone, &["promo"]).await;
        expect.insert(chat(phone), session);
    }
    // The same person in both sessions is messaged once (the first contact stands for
    // the number).
    contact(&s, "second", "+447700960001", &["promo"]).await;
    // A contact of a session the campaign does not send over is not in its audience.
    let outside = contact(&s, "third", "+447700960021", &["promo"]).await;
    let (code, seg) = s
        .post(
            "/api/segments",
            json!({"name": "promo", "filter": {"all": [{"field": "tags", "op": "contains", "value": "promo"}]}}),
        )
        .await;
    assert_eq!(code, 201, "{seg}");

    // Named one by one, a contact of another session is refused by its index.
    let (code, e) = s
        .post(
            "/api/campaigns",
            json!({"name": "x", "sessions": ["default", "second"], "contact_ids": [outside],
                   "template": "Hi"}),
        )
        .await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(field(&e), "contact_ids[0]", "{e}");

    let (code, a) = s
        .post(
            "/api/campaigns/audience",
            json!({"sessions": ["default", "second"], "segment_id": seg["id"]}),
        )
        .await;
    assert_eq!(code, 200, "{a}");
    assert_eq!(
        a,
        json!({"total": 7, "eligible": 6, "skipped": {"opted_out": 0, "erased": 0, "duplicate_number": 1}})
    );

    let c = created(
        &s,
        json!({"name": "Two numbers", "sessions": ["default", "second"], "segment_id": seg["id"],
               "template": "Two sessions", "rate_per_minute": 30, "jitter": 0}),
    )
    .await;
    assert_eq!(c["sessions"], json!(["default", "second"]), "{c}");
    assert_eq!(c["session"], "default", "the first, for older clients: {c}");
    let id = c["id"].clone();
    let (code, list) = s.get("/api/campaigns").await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(
        list["items"][0]["sessions"],
        json!(["default", "second"]),
        "{list}"
    );
    act(&s, &id, "start").await;
    let done = wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    assert_eq!(done["counts"]["total"], 7, "{done}");
    assert_eq!(done["counts"]["skipped"], 1, "{done}");
    let by: HashMap<String, Value> = done["by_session"]
        .as_array()
        .expect("by_session")
        .iter()
        .map(|b| {
            (
                b["session"].as_str().unwrap_or("").to_string(),
                b["counts"].clone(),
            )
        })
        .collect();
    assert_eq!(by["default"]["total"], 3, "{done}");
    assert_eq!(by["second"]["total"], 4, "{done}");
    assert_eq!(
        by["second"]["skipped"], 1,
        "the second contact of a number: {done}"
    );

    let sent = sends(&s, "Two sessions").await;
    let mut reached: HashMap<String, Vec<String>> = HashMap::new();
    for (chat, session, _) in &sent {
        reached
            .entry(chat.clone())
            .or_default()
            .push(session.clone());
    }
    assert_eq!(reached.len(), 6, "{sent:?}");
    for (chat, session) in &expect {
        assert_eq!(
            reached.get(chat),
            Some(&vec![session.to_string()]),
            "{chat}: once, from {session}: {sent:?}"
        );
    }
    // Each session keeps its own pace (30 a minute: 2 s apart) and the two send side by
    // side: three from each in well under the ten seconds one session would take.
    for session in ["default", "second"] {
        let at: Vec<i64> = sent
            .iter()
            .filter(|x| x.1 == session)
            .map(|x| x.2)
            .collect();
        for w in at.windows(2) {
            assert!(w[1] - w[0] >= 1_500, "{session} sent too fast: {at:?}");
        }
    }
    let first = sent.iter().map(|x| x.2).min().unwrap_or_default();
    let last = sent.iter().map(|x| x.2).max().unwrap_or_default();
    assert!(
        last - first < 8_000,
        "the sessions sent one after the other: {sent:?}"
    );
    // The campaigns report lists it under either of its sessions, not under another,
    // with that session's share of the recipients.
    for (session, listed) in [("default", true), ("second", true), ("third", false)] {
        let (code, r) = s
            .get(&format!("/api/analytics/campaigns?session={session}"))
            .await;
        assert_eq!(code, 200, "{r}");
        let row = r["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|c| c["id"] == id);
        assert_eq!(row.is_some(), listed, "{session}: {r}");
        if let Some(row) = row {
            assert_eq!(row["sessions"], json!(["default", "second"]), "{r}");
            assert_eq!(row["counts"], by[session], "{session}: {r}");
        }
    }
    let (code, r) = s.get("/api/analytics/campaigns").await;
    assert_eq!(code, 200, "{r}");
    let row = r["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        row["counts"], done["counts"],
        "unfiltered, the whole campaign: {r}"
    );
    let (code, csv) = s.get("/api/analytics/campaigns?format=csv").await;
    assert_eq!(code, 200, "{csv}");
    let csv = csv.as_str().unwrap_or_default();
    assert!(csv.starts_with("id,name,sessions,status,"), "{csv}");
    assert!(csv.contains(",default;second,completed,"), "{csv}");
    // The report splits the counts the same way.
    let (code, r) = s.get(&format!("/api/campaigns/{id}/report")).await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["by_session"], done["by_session"], "{r}");
}
both!(each_recipient_once_from_its_own_session);

async fn a_test_message_goes_from_the_session_chosen(b: Backend) {
    let s = setup(b).await;
    let a = contact(&s, "default", "+447700962001", &[]).await;
    let c = created(
        &s,
        json!({"name": "T", "sessions": ["default", "second"], "contact_ids": [a],
               "template": "Try {{contact.first_name | \"friend\"}}"}),
    )
    .await;
    let id = &c["id"];
    let test = |body: Value| {
        let s = &s;
        async move { s.post(&format!("/api/campaigns/{id}/test"), body).await }
    };
    let (code, r) = test(json!({"phone": "+447700962101", "session": "second"})).await;
    assert_eq!(code, 202, "{r}");
    assert_eq!(r["text"], "Try friend", "{r}");
    let (code, r) = test(json!({"phone": "+447700962102"})).await;
    assert_eq!(code, 202, "{r}");
    // Not one of the campaign's sessions (though registered), or none at all: refused,
    // nothing sent.
    for session in ["third", "nowhere"] {
        let (code, e) = test(json!({"phone": "+447700962103", "session": session})).await;
        assert_eq!(code, 422, "{session}: {e}");
        assert_eq!(field(&e), "session", "{e}");
    }
    let mut sent = sends(&s, "Try friend").await;
    sent.sort();
    let got: Vec<(&str, &str)> = sent.iter().map(|x| (x.0.as_str(), x.1.as_str())).collect();
    assert_eq!(
        got,
        [
            ("447700962101@c.us", "second"),
            ("447700962102@c.us", "default")
        ],
        "the chosen session, else the first; nothing for the refused: {sent:?}"
    );
}
both!(a_test_message_goes_from_the_session_chosen);

async fn sessions_checked_and_each_one_must_be_the_members(b: Backend) {
    let s = setup(b).await;
    let a = contact(&s, "default", "+447700961001", &[]).await;
    let z = contact(&s, "second", "+447700961002", &[]).await;
    let base = json!({"name": "S", "contact_ids": [a], "template": "Hi"});
    let with = |extra: Value| {
        let mut b = base.clone();
        if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        b
    };
    for (body, expect_field) in [
        (
            with(json!({"session": "default", "sessions": ["default"]})),
            "sessions",
        ),
        (with(json!({})), "session"),
        (with(json!({"sessions": []})), "sessions"),
        (
            with(json!({"sessions": ["default", "default"]})),
            "sessions[1]",
        ),
        (
            with(json!({"sessions": ["default", "nowhere"]})),
            "sessions[1]",
        ),
    ] {
        let (code, e) = s.post("/api/campaigns", body.clone()).await;
        assert_eq!(code, 422, "{body}: {e}");
        assert_eq!(field(&e), expect_field, "{body}: {e}");
    }
    // `session` alone works as it always did.
    let one = created(&s, with(json!({"session": "default"}))).await;
    assert_eq!(one["sessions"], json!(["default"]), "{one}");
    let both = created(
        &s,
        json!({"name": "Both", "sessions": ["default", "second"], "contact_ids": [a, z], "template": "Hi"}),
    )
    .await;
    let both_id = both["id"].clone();

    // Marketing of `default` only: the other session does not exist for them …
    let mk = s.member("mk@multi.test", "marketing", &["default"]).await;
    let (code, e) = s
        .as_user(
            &mk.token,
            "POST",
            "/api/campaigns",
            Some(with(json!({"sessions": ["default", "second"]}))),
        )
        .await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(field(&e), "sessions[1]", "{e}");
    // … nor a campaign that sends over it: not listed, not found, whatever is asked.
    let (code, l) = s.as_user(&mk.token, "GET", "/api/campaigns", None).await;
    assert_eq!(code, 200, "{l}");
    let listed: Vec<&Value> = l["items"].as_array().expect("items").iter().collect();
    assert!(listed.iter().any(|c| c["id"] == one["id"]), "{l}");
    assert!(!listed.iter().any(|c| c["id"] == both_id), "{l}");
    let path = format!("/api/campaigns/{both_id}");
    for (method, p, body) in [
        ("GET", path.clone(), None),
        ("PATCH", path.clone(), Some(json!({"name": "Mine"}))),
        ("POST", format!("{path}/start"), Some(json!({}))),
        ("GET", format!("{path}/report"), None),
        ("GET", format!("{path}/recipients"), None),
        ("DELETE", path.clone(), None),
    ] {
        let (code, e) = s.as_user(&mk.token, method, &p, body).await;
        assert_eq!(code, 404, "{method} {p}: {e}");
    }
    let (code, e) = s
        .request(reqwest::Method::POST, &format!("{path}/audience"), |r| {
            r.bearer_auth(&mk.token)
                .header("content-type", "text/csv")
                .body("phone\n+447700961003\n")
        })
        .await;
    assert_eq!(code, 404, "upload: {e}");
    // Moving their own campaign onto a session not theirs is refused too.
    let (code, e) = s
        .as_user(
            &mk.token,
            "PATCH",
            &format!("/api/campaigns/{}", one["id"]),
            Some(json!({"sessions": ["default", "second"]})),
        )
        .await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(field(&e), "sessions[1]", "{e}");
    // An agent works with no campaign at all: 403.
    let agent = s
        .member("ag@multi.test", "agent", &["default", "second"])
        .await;
    let (code, e) = s
        .as_user(
            &agent.token,
            "POST",
            "/api/campaigns",
            Some(with(json!({"sessions": ["default", "second"]}))),
        )
        .await;
    assert_eq!(code, 403, "{e}");
    // Marketing of both sessions works with it.
    let mk2 = s
        .member("mk2@multi.test", "marketing", &["default", "second"])
        .await;
    let (code, v) = s.as_user(&mk2.token, "GET", &path, None).await;
    assert_eq!(code, 200, "{v}");

    // PATCH changes an editable campaign's sessions; the audience must fit them.
    let (code, e) = s
        .patch(
            &format!("/api/campaigns/{}", one["id"]),
            json!({"session": "second", "sessions": ["second"]}),
        )
        .await;
    assert_eq!(code, 422, "{e}");
    assert_eq!(field(&e), "sessions", "{e}");
    let (code, e) = s
        .patch(
            &format!("/api/campaigns/{}", one["id"]),
            json!({"sessions": ["second"]}),
        )
        .await;
    assert_eq!(code, 422, "contact {a} is not in `second`: {e}");
    assert_eq!(field(&e), "contact_ids[0]", "{e}");
    let (code, v) = s
        .patch(
            &format!("/api/campaigns/{}", one["id"]),
            json!({"sessions": ["second", "default"], "contact_ids": [a, z]}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["sessions"], json!(["second", "default"]), "{v}");
    assert_eq!(v["session"], "second", "{v}");
    let (_, v) = s.get(&format!("/api/campaigns/{}", one["id"])).await;
    assert_eq!(v["sessions"], json!(["second", "default"]), "{v}");
}
both!(sessions_checked_and_each_one_must_be_the_members);

async fn an_uploaded_list_spreads_over_the_sessions(b: Backend) {
    let s = setup(b).await;
    // Known numbers stay with their contact's session.
    contact(&s, "second", "+447700962001", &[]).await;
    contact(&s, "default", "+447700962002", &[]).await;
    let c = created(
        &s,
        json!({"name": "Spread", "sessions": ["default", "second"], "audience_upload": true,
               "template": "Spread {{contact.name}}", "rate_per_minute": 600}),
    )
    .await;
    let id = c["id"].clone();
    let csv = "phone,name\n\
               +447700962001,Known2\n\
               +447700962003,N1\n\
               +447700962002,Known1\n\
               +447700962004,N2\n\
               +447700962003,N1 again\n\
               +447700962005,N3\n\
               +447700962006,N4\n\
               +447700962007,N5\n";
    let (code, r) = s
        .request(
            reqwest::Method::POST,
            &format!("/api/campaigns/{id}/audience"),
            |r| {
                r.bearer_auth(&s.token)
                    .header("content-type", "text/csv")
                    .body(csv)
            },
        )
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["contacts"], 7, "{r}");
    assert_eq!(r["created"], 5, "{r}");
    assert_eq!(r["duplicates"], 1, "{r}");
    assert_eq!(r["audience"]["eligible"], 7, "{r}");
    act(&s, &id, "start").await;
    let done = wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    assert_eq!(done["counts"]["total"], 7, "{done}");
    let mut got: Vec<(String, String)> = s
        .sim
        .sent()
        .await
        .into_iter()
        .filter(|m| m["text"].as_str().is_some_and(|t| t.starts_with("Spread ")))
        .map(|m| {
            (
                m["chatId"].as_str().unwrap_or_default().to_string(),
                m["session"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    got.sort();
    // New numbers in file order take turns: N1 default, N2 second, N3 default, …
    let want: Vec<(String, String)> = [
        ("+447700962001", "second"),
        ("+447700962002", "default"),
        ("+447700962003", "default"),
        ("+447700962004", "second"),
        ("+447700962005", "default"),
        ("+447700962006", "second"),
        ("+447700962007", "default"),
    ]
    .iter()
    .map(|(p, s)| (chat(p), s.to_string()))
    .collect();
    assert_eq!(got, want);
    let by: HashMap<String, i64> = done["by_session"]
        .as_array()
        .expect("by_session")
        .iter()
        .map(|b| {
            (
                b["session"].as_str().unwrap_or("").to_string(),
                b["counts"]["total"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        by,
        HashMap::from([("default".into(), 4), ("second".into(), 3)])
    );
}
both!(an_uploaded_list_spreads_over_the_sessions);

async fn one_session_stopping_pauses_the_campaign(b: Backend) {
    let s = setup(b).await;
    let mut phones = Vec::new();
    let mut ids = Vec::new();
    for (session, phone) in [
        ("default", "+447700963001"),
        ("default", "+447700963002"),
        ("default", "+447700963003"),
        ("second", "+447700963011"),
        ("second", "+447700963012"),
        ("second", "+447700963013"),
    ] {
        ids.push(contact(&s, session, phone, &[]).await);
        phones.push(phone);
    }
    let c = created(
        &s,
        json!({"name": "Fragile", "sessions": ["default", "second"], "contact_ids": ids,
               "template": "Stop test", "rate_per_minute": 20, "jitter": 0}),
    )
    .await;
    let id = c["id"].clone();
    act(&s, &id, "start").await;
    let deadline = tokio::time::Instant::now() + SETTLE;
    while !sends(&s, "Stop test").await.iter().any(|x| x.1 == "second") {
        assert!(tokio::time::Instant::now() < deadline, "second never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, r) = s
        .sim
        .control("/sim/sessions/second/status", json!({"status": "STOPPED"}))
        .await;
    assert!(code < 300, "{r}");
    let paused = wait_campaign(&s, &id, |c| c["status"] == "paused").await;
    assert_eq!(
        paused["pause_reason"], "session second is STOPPED",
        "{paused}"
    );
    let (code, e) = s
        .post(&format!("/api/campaigns/{id}/resume"), json!({}))
        .await;
    assert_eq!(code, 409, "{e}");
    let m = e["error"]["message"].as_str().unwrap_or_default();
    assert!(m.contains("second") && m.contains("cannot send"), "{e}");
    let (code, r) = s
        .sim
        .control("/sim/sessions/second/status", json!({"status": "WORKING"}))
        .await;
    assert!(code < 300, "{r}");
    s.wait_session_status("second", "WORKING").await;
    act(&s, &id, "resume").await;
    wait_campaign(&s, &id, |c| c["status"] == "completed").await;
    let sent = sends(&s, "Stop test").await;
    for (i, p) in phones.iter().enumerate() {
        let from: Vec<&str> = sent
            .iter()
            .filter(|x| x.0 == chat(p))
            .map(|x| x.1.as_str())
            .collect();
        let want = if i < 3 { "default" } else { "second" };
        assert_eq!(from, vec![want], "{p}: {sent:?}");
    }
}
both!(one_session_stopping_pauses_the_campaign);

/// The `campaign.progress` frames read until `until` holds for one.
async fn progress_until(ws: &mut Socket, until: impl Fn(&Value) -> bool) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let f = ws
            .next(SETTLE)
            .await
            .expect("the awaited campaign.progress arrives");
        if f["type"] != "campaign.progress" {
            continue;
        }
        let done = until(&f);
        seen.push(f);
        if done {
            return seen;
        }
    }
}

/// A campaign over two sessions is news only for those who may see it: a marketer of
/// both sessions hears its progress, one of the first session alone does not. A campaign
/// of that one session, started after, is the marker: its progress comes later in the
/// log, so once it arrives nothing of the first is still owed.
async fn progress_reaches_only_who_may_see_the_campaign(b: Backend) {
    let s = setup(b).await;
    let both = s
        .member("both@multi.test", "marketing", &["default", "second"])
        .await;
    let one = s.member("one@multi.test", "marketing", &["default"]).await;
    let mut ws_both = Socket::connect(&s.hub.url, &both.token, None).await;
    let mut ws_one = Socket::connect(&s.hub.url, &one.token, None).await;
    let first = contact(&s, "default", "+447700970001", &[]).await;
    let second = contact(&s, "second", "+447700970002", &[]).await;
    let multi = created(
        &s,
        json!({"name": "multi", "sessions": ["default", "second"],
               "contact_ids": [first, second], "template": "Hello from both"}),
    )
    .await;
    act(&s, &multi["id"], "start").await;
    wait_campaign(&s, &multi["id"], |c| c["status"] == "completed").await;
    let seen = progress_until(&mut ws_both, |f| {
        f["data"]["campaign_id"] == multi["id"] && f["data"]["status"] == "completed"
    })
    .await;
    assert_eq!(
        seen.last().map(|f| &f["data"]["counts"]["total"]),
        Some(&json!(2))
    );

    let single = created(
        &s,
        json!({"name": "single", "session": "default", "contact_ids": [first],
               "template": "Hello from one"}),
    )
    .await;
    act(&s, &single["id"], "start").await;
    let seen = progress_until(&mut ws_one, |f| f["data"]["campaign_id"] == single["id"]).await;
    assert!(
        seen.iter().all(|f| f["data"]["campaign_id"] != multi["id"]),
        "a member of one of its sessions heard of the campaign: {seen:?}"
    );
}
both!(progress_reaches_only_who_may_see_the_campaign);
