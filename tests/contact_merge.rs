//! Duplicate contacts (issue 17) on SQLite and PostgreSQL: suggestions computed in SQL
//! (the same number in another format or session, the same email in any case), and a
//! merge that keeps every conversation, unites tags, fills attributes, appends notes and
//! lets an opt-out win. Denials: tests/permissions.rs (docs/permissions.md) and below.

mod common;

use std::time::Duration;

use common::{Backend, Setup};
use serde_json::{json, Value};

async fn conversation(s: &Setup, session: &str, chat: &str, text: &str) -> Value {
    s.sim
        .control_created(
            "/sim/inbound",
            json!({"session": session, "from": chat, "body": text}),
        )
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(c) = s
            .conversations()
            .await
            .into_iter()
            .find(|c| c["chat_id"] == chat && c["session"] == session)
        {
            return c;
        }
        assert!(tokio::time::Instant::now() < deadline, "{session}/{chat}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn groups(d: &Value) -> Vec<(String, Vec<i64>)> {
    d["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {d}"))
        .iter()
        .map(|g| {
            (
                g["reason"].as_str().expect("reason").to_string(),
                g["contact_ids"]
                    .as_array()
                    .expect("ids")
                    .iter()
                    .map(|i| i.as_i64().expect("id"))
                    .collect(),
            )
        })
        .collect()
}

async fn duplicates_and_merge(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let (code, r) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    s.wait_session_status("second", "WORKING").await;

    // The same person wrote to both numbers of the business.
    let one = conversation(&s, "default", "447700900555@c.us", "hi from one").await;
    let two = conversation(&s, "second", "447700900555@c.us", "hi from two").await;
    let a = one["contact_id"].as_i64().expect("a");
    let b_id = two["contact_id"].as_i64().expect("b");
    // And an older record with another email case, and an unrelated contact.
    let (code, c) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "+44 7700 900666", "email": "Pat@Example.com",
                "tags": ["old"], "attributes": {"plan": "gold", "city": "York"},
                "notes": "met at the fair", "opted_out": true}),
        )
        .await;
    assert_eq!(code, 201, "{c}");
    let c_id = c["id"].as_i64().expect("c");
    let (code, d) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "+447700900777", "email": "pat@example.COM",
                "tags": ["new"], "attributes": {"plan": "silver"}, "notes": "called twice"}),
        )
        .await;
    assert_eq!(code, 201, "{d}");
    let d_id = d["id"].as_i64().expect("d");
    s.post(
        "/api/contacts",
        json!({"session": "default", "phone": "+447700900888", "email": "other@example.com"}),
    )
    .await;

    let (code, dups) = s.get("/api/contacts/duplicates").await;
    assert_eq!(code, 200, "{dups}");
    let mut want = vec![
        ("email".to_string(), vec![c_id, d_id]),
        ("phone".to_string(), vec![a, b_id]),
    ];
    want.sort();
    assert_eq!(groups(&dups), want, "{dups}");

    // Across sessions: every conversation stays, under the kept contact.
    let (code, kept) = s
        .post(&format!("/api/contacts/{a}/merge"), json!({"from": b_id}))
        .await;
    assert_eq!(code, 200, "{kept}");
    let convs: Vec<i64> = kept["conversations"]
        .as_array()
        .expect("conversations")
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(convs.len(), 2, "{kept}");
    assert!(convs.contains(&one["id"].as_i64().expect("id")));
    assert!(convs.contains(&two["id"].as_i64().expect("id")));
    let (code, _) = s.get(&format!("/api/contacts/{b_id}")).await;
    assert_eq!(code, 404);
    let (_, conv) = s.get(&format!("/api/conversations/{}", two["id"])).await;
    assert_eq!(conv["contact_id"], a, "{conv}");
    // A later message in the merged contact's session lands on the kept contact.
    conversation(&s, "second", "447700900555@c.us", "again").await;
    let (_, conv) = s.get(&format!("/api/conversations/{}", two["id"])).await;
    assert_eq!(conv["contact_id"], a, "{conv}");

    // Fields: the kept contact's win, missing ones taken, tags united, notes appended,
    // an opt-out wins.
    let (code, kept) = s
        .post(
            &format!("/api/contacts/{d_id}/merge"),
            json!({"from": c_id}),
        )
        .await;
    assert_eq!(code, 200, "{kept}");
    assert_eq!(kept["email"], "pat@example.COM");
    assert_eq!(kept["tags"], json!(["new", "old"]));
    assert_eq!(
        kept["attributes"],
        json!({"plan": "silver", "city": "York"})
    );
    assert_eq!(kept["notes"], "called twice\n\nmet at the fair");
    assert_eq!(kept["opted_out"], true);
    let (_, audit) = s
        .get(&format!(
            "/api/audit-log?target_type=contact&target_id={d_id}&action=contact.merge"
        ))
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
    let (_, dups) = s.get("/api/contacts/duplicates").await;
    assert_eq!(groups(&dups), vec![], "{dups}");

    // Refusals: itself, an unknown contact, an agent, a contact of a session the caller
    // does not work in.
    let (code, r) = s
        .post(&format!("/api/contacts/{a}/merge"), json!({"from": a}))
        .await;
    assert_eq!(code, 409, "{r}");
    let (code, r) = s
        .post(&format!("/api/contacts/{a}/merge"), json!({"from": "x"}))
        .await;
    assert_eq!((code, &r["error"]["field"]), (422, &json!("from")), "{r}");
    let (code, _) = s
        .post(
            &format!("/api/contacts/{a}/merge"),
            json!({"from": 999_999}),
        )
        .await;
    assert_eq!(code, 404);
    let (_, x) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "+447700900991"}),
        )
        .await;
    let (_, y) = s
        .post(
            "/api/contacts",
            json!({"session": "second", "phone": "+447700900992"}),
        )
        .await;
    let agent = s.member("agent@merge.test", "agent", &["default"]).await;
    let sales = s.member("sales@merge.test", "sales", &["default"]).await;
    let path = format!("/api/contacts/{}/merge", x["id"]);
    let (code, r) = s
        .as_user(&agent.token, "POST", &path, Some(json!({"from": a})))
        .await;
    assert_eq!(code, 403, "{r}");
    let (code, r) = s
        .as_user(&sales.token, "POST", &path, Some(json!({"from": y["id"]})))
        .await;
    assert_eq!(code, 404, "{r}");
    // Any member reads the suggestions (of its sessions).
    let (code, r) = s
        .as_user(&sales.token, "GET", "/api/contacts/duplicates", None)
        .await;
    assert_eq!(code, 200, "{r}");
}
both!(duplicates_and_merge);
