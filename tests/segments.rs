//! Segments (issue 17): saved filters whose count the database computes, a count that
//! follows contacts as they change (told over the websocket), the preview a builder asks
//! for, and a bad clause refused naming it; on SQLite and PostgreSQL.

mod common;

use common::{assert_error, Backend, Setup};
use serde_json::{json, Value};

fn vip_customers() -> Value {
    json!({"all": [
        {"field": "tags", "op": "contains", "value": "vip"},
        {"field": "type", "op": "eq", "value": "customer"}
    ]})
}

async fn count_of(s: &Setup, path: &str) -> Value {
    let (code, r) = s.get(path).await;
    assert_eq!(code, 200, "{r}");
    r["count"].clone()
}

async fn count_follows_contacts_live(b: Backend) {
    let s = Setup::new(b).await;
    let (code, seg) = s
        .post(
            "/api/segments",
            json!({"name": "VIP customers", "filter": vip_customers()}),
        )
        .await;
    assert_eq!(code, 201, "{seg}");
    assert_eq!(
        (&seg["count"], &seg["name"]),
        (&json!(0), &json!("VIP customers"))
    );
    let id = seg["id"].as_i64().expect("id");
    let path = format!("/api/segments/{id}");
    let count = || count_of(&s, &path);

    let mut ws = s.socket(None).await;
    let (code, c) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "+447700900601", "type": "customer", "tags": ["vip"]}),
        )
        .await;
    assert_eq!(code, 201, "{c}");
    let contact = c["id"].as_i64().expect("id");
    let created = ws
        .expect("contact.updated", |d| {
            d["id"] == contact && d["change"] == "created"
        })
        .await;
    assert_eq!(created["data"]["session_id"], c["session_id"], "{created}");
    assert!(
        created["data"].get("phone").is_none(),
        "no personal data in the event: {created}"
    );
    assert_eq!(count().await, 1);

    // An edit that takes the contact out of the segment: an event, then the new count.
    let (code, _) = s
        .patch(
            &format!("/api/contacts/{contact}"),
            json!({"tags": ["former"]}),
        )
        .await;
    assert_eq!(code, 200);
    ws.expect("contact.updated", |d| {
        d["id"] == contact && d["change"] == "updated"
    })
    .await;
    assert_eq!(count().await, 0);
    s.patch(
        &format!("/api/contacts/{contact}"),
        json!({"tags": ["vip"]}),
    )
    .await;
    ws.expect("contact.updated", |d| {
        d["id"] == contact && d["change"] == "updated"
    })
    .await;
    assert_eq!(count().await, 1);

    // A customer's first message makes a contact: that is pushed too.
    let (code, all) = s
        .post(
            "/api/segments",
            json!({"name": "everyone", "filter": {"all": []}}),
        )
        .await;
    assert_eq!((code, &all["count"]), (201, &json!(1)), "{all}");
    s.customer_writes("447700900602@c.us", "hello").await;
    let conv = s.conversation_for("447700900602@c.us").await;
    let new = conv["contact_id"].as_i64().expect("contact");
    ws.expect("contact.updated", |d| {
        d["id"] == new && d["change"] == "created"
    })
    .await;
    let everyone = format!("/api/segments/{}", all["id"]);
    assert_eq!(s.get(&everyone).await.1["count"], 2);

    // Deleting the contact: an event, and the count drops.
    let (code, _) = s
        .as_user(
            &s.token,
            "DELETE",
            &format!("/api/contacts/{contact}"),
            None,
        )
        .await;
    assert_eq!(code, 204);
    ws.expect("contact.updated", |d| {
        d["id"] == contact && d["change"] == "deleted"
    })
    .await;
    assert_eq!(count().await, 0);
    assert_eq!(s.get(&everyone).await.1["count"], 1);
}
both!(count_follows_contacts_live);

async fn segments_crud_preview_and_bad_clauses(b: Backend) {
    let s = Setup::new(b).await;
    for (phone, kind, spend) in [
        ("+447700900701", "customer", 100),
        ("+447700900702", "customer", 10),
        ("+447700900703", "lead", 500),
    ] {
        let (code, c) = s
            .post(
                "/api/contacts",
                json!({"session": "default", "phone": phone, "type": kind, "lifetime_spend": spend,
                    "attributes": {"plan": if spend > 50 { "gold" } else { "basic" }}}),
            )
            .await;
        assert_eq!(code, 201, "{c}");
    }
    let big = json!({"all": [{"field": "lifetime_spend", "op": "gte", "value": 100}]});
    let (code, r) = s
        .post("/api/segments/preview", json!({"filter": big}))
        .await;
    assert_eq!((code, &r), (200, &json!({"count": 2})), "{r}");
    let (code, r) = s
        .post(
            "/api/segments/preview",
            json!({"filter": {"any": [{"field": "attributes.plan", "op": "eq", "value": "basic"},
                {"field": "type", "op": "eq", "value": "lead"}]}}),
        )
        .await;
    assert_eq!((code, &r["count"]), (200, &json!(2)), "{r}");

    let (code, seg) = s
        .post("/api/segments", json!({"name": "big", "filter": big}))
        .await;
    assert_eq!((code, &seg["count"]), (201, &json!(2)), "{seg}");
    assert_eq!(seg["filter"], big);
    let path = format!("/api/segments/{}", seg["id"]);
    let customers = json!({"all": [{"field": "type", "op": "eq", "value": "customer"}]});
    let (code, r) = s
        .patch(&path, json!({"filter": customers, "name": "customers"}))
        .await;
    assert_eq!(
        (code, &r["count"], &r["name"]),
        (200, &json!(2), &json!("customers")),
        "{r}"
    );
    let (_, list) = s.get("/api/segments").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert!(list["items"][0].get("count").is_none(), "{list}");
    // With `include=count`, each with its count; another include is the 400 naming it.
    let (code, other) = s
        .post(
            "/api/segments",
            json!({"name": "leads", "filter":
            {"all": [{"field": "type", "op": "eq", "value": "lead"}]}}),
        )
        .await;
    assert_eq!(code, 201, "{other}");
    let (code, list) = s.get("/api/segments?include=count").await;
    assert_eq!(code, 200, "{list}");
    let counted: Vec<(String, i64)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap_or("").to_string(),
                x["count"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        counted,
        [("customers".to_string(), 2), ("leads".to_string(), 1)]
    );
    let (code, r) = s.get("/api/segments?include=contacts").await;
    assert_eq!(code, 400, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("include"),
        "{r}"
    );
    let other_path = format!("/api/segments/{}", other["id"]);
    assert_eq!(
        s.as_user(&s.token, "DELETE", &other_path, None).await.0,
        204
    );
    // The contacts of a segment.
    let (_, members) = s
        .get(&format!("/api/contacts?segment_id={}", seg["id"]))
        .await;
    assert_eq!(
        members["items"].as_array().map(Vec::len),
        Some(2),
        "{members}"
    );
    assert_error(
        "an unknown segment",
        s.get("/api/contacts?segment_id=999999").await,
        404,
    );

    // A bad clause: 422 naming it, nothing saved.
    for (filter, field, why) in [
        (
            json!({"all": [{"field": "type", "op": "eq", "value": "lead"}, {"field": "tags", "op": "contains", "value": "x"},
                {"field": "foo", "op": "eq", "value": 1}]}),
            "filter.all[2]",
            "unknown field 'foo'",
        ),
        (
            json!({"any": [{"all": [{"field": "last_message_at", "op": "gt", "value": "last week"}]}]}),
            "filter.any[0].all[0]",
            "RFC 3339",
        ),
        (
            json!({"all": [{"field": "lifetime_spend", "op": "contains", "value": 1}]}),
            "filter.all[0]",
            "does not take the op 'contains'",
        ),
        (json!({"every": []}), "filter", "needs \"all\" or \"any\""),
    ] {
        let (code, r) = s
            .post("/api/segments", json!({"name": "bad", "filter": filter}))
            .await;
        assert_eq!(code, 422, "{filter}: {r}");
        assert_eq!(r["error"]["field"], field, "{r}");
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with(field) && msg.contains(why), "{msg}");
        let (code, r) = s
            .post("/api/segments/preview", json!({"filter": filter}))
            .await;
        assert_eq!((code, &r["error"]["field"]), (422, &json!(field)), "{r}");
    }
    let (code, r) = s
        .patch(
            &path,
            json!({"filter": {"all": [{"field": "nope", "op": "eq", "value": 1}]}}),
        )
        .await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("filter.all[0]")),
        "{r}"
    );
    assert_eq!(s.get(&path).await.1["filter"], customers, "nothing saved");
    let (_, list) = s.get("/api/segments").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");

    // Audited, then deleted.
    let (_, log) = s.get("/api/audit-log?action=segment.").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "segment.delete",
            "segment.create",
            "segment.update",
            "segment.create"
        ],
        "{log}"
    );
    let del = || s.as_user(&s.token, "DELETE", &path, None);
    assert_eq!(del().await.0, 204);
    assert_error("a deleted segment", s.get(&path).await, 404);
    assert_error("deleting twice", del().await, 404);
}
both!(segments_crud_preview_and_bad_clauses);
