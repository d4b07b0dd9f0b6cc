//! A segment's contacts as CSV (`GET /api/segments/{id}/export`) on SQLite and
//! PostgreSQL: the import's columns, only the segment's contacts the caller sees, and the
//! file imports again (`POST /api/contacts/imports`) into the same contacts.

mod common;

use std::time::Duration;

use common::{Backend, Setup};
use serde_json::{json, Value};

async fn csv_of(s: &Setup, token: &str, path: &str) -> (u16, String) {
    let r = s
        .http
        .get(format!("{}{path}", s.hub.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("export");
    let code = r.status().as_u16();
    if code == 200 {
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(ct.starts_with("text/csv"), "{ct}");
    }
    (code, r.text().await.expect("body"))
}

fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

async fn segment_export_reimports(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    let (code, r) = s
        .post(
            "/api/contact-attributes",
            json!({"name": "plan", "type": "text"}),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    for (phone, name, tags, attrs) in [
        (
            "+447700900401",
            "Ann, \"the\" first",
            json!(["x", "b2b"]),
            json!({"plan": "gold"}),
        ),
        ("+447700900402", "Bob", json!(["x"]), json!({})),
        (
            "+447700900403",
            "Cy",
            json!(["y"]),
            json!({"plan": "silver"}),
        ),
    ] {
        let (code, c) = s
            .post(
                "/api/contacts",
                json!({"session": "default", "phone": phone, "name": name, "tags": tags,
                    "attributes": attrs, "email": format!("{}@ex.test", &phone[9..]),
                    "notes": "line one\nline two", "type": "customer", "lifetime_spend": 12.5}),
            )
            .await;
        assert_eq!(code, 201, "{c}");
    }
    let (code, seg) = s
        .post(
            "/api/segments",
            json!({"name": "x", "filter": {"all": [{"field": "tags", "op": "contains", "value": "x"}]}}),
        )
        .await;
    assert_eq!(code, 201, "{seg}");
    let path = format!("/api/segments/{}/export", seg["id"]);
    let (code, text) = csv_of(&s, &s.token, &path).await;
    assert_eq!(code, 200, "{text}");
    let rows = records(&text);
    assert_eq!(
        rows[0],
        [
            "phone",
            "name",
            "email",
            "type",
            "tags",
            "notes",
            "lifetime_spend",
            "attr.plan"
        ]
    );
    let mut body: Vec<Vec<String>> = rows[1..].to_vec();
    body.sort();
    assert_eq!(
        body,
        vec![
            vec![
                "+447700900401",
                "Ann, \"the\" first",
                "0401@ex.test",
                "customer",
                "b2b;x",
                "line one\nline two",
                "12.5",
                "gold"
            ],
            vec![
                "+447700900402",
                "Bob",
                "0402@ex.test",
                "customer",
                "x",
                "line one\nline two",
                "12.5",
                ""
            ],
        ]
    );

    // The file imports again, into another session, as the same contacts.
    let (code, r) = s
        .request(
            reqwest::Method::POST,
            "/api/contacts/imports?session=second",
            |r| {
                r.bearer_auth(&s.token)
                    .header("content-type", "text/csv")
                    .body(text.clone())
            },
        )
        .await;
    assert_eq!(code, 202, "{r}");
    let done = s
        .eventually_within(
            &format!("/api/contacts/imports/{}", r["id"]),
            Duration::from_secs(20),
            |i| i["status"] != "running" && i["status"] != "receiving",
        )
        .await;
    assert_eq!(
        (
            done["status"].clone(),
            done["created"].clone(),
            done["errors"].clone()
        ),
        (json!("completed"), json!(2), json!([])),
        "{done}"
    );
    let (_, list) = s.get("/api/contacts?tag=b2b&limit=10").await;
    let second: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|c| c["session"] == "second")
        .collect();
    assert_eq!(second.len(), 1, "{list}");
    let c = second[0];
    assert_eq!(c["name"], "Ann, \"the\" first");
    assert_eq!(c["notes"], "line one\nline two");
    assert_eq!(c["attributes"], json!({"plan": "gold"}));
    assert_eq!(c["tags"], json!(["b2b", "x"]));
    assert_eq!(c["lifetime_spend"], 12.5);

    // More rows than a page of the stream: every one, once.
    let mut bulk = String::from("phone,tags\n");
    for i in 0..1_100 {
        bulk.push_str(&format!("+4477008{i:05},bulk\n"));
    }
    let (code, r) = s
        .request(
            reqwest::Method::POST,
            "/api/contacts/imports?session=default",
            |r| {
                r.bearer_auth(&s.token)
                    .header("content-type", "text/csv")
                    .body(bulk.clone())
            },
        )
        .await;
    assert_eq!(code, 202, "{r}");
    s.eventually_within(
        &format!("/api/contacts/imports/{}", r["id"]),
        Duration::from_secs(30),
        |i| i["status"] == "completed",
    )
    .await;
    let (_, big) = s
        .post(
            "/api/segments",
            json!({"name": "bulk", "filter": {"all": [{"field": "tags", "op": "contains", "value": "bulk"}]}}),
        )
        .await;
    let (code, text) = csv_of(&s, &s.token, &format!("/api/segments/{}/export", big["id"])).await;
    assert_eq!(code, 200);
    let mut phones: Vec<String> = records(&text)[1..].iter().map(|r| r[0].clone()).collect();
    phones.sort();
    phones.dedup();
    assert_eq!(phones.len(), 1_100);

    // Agents do not export; an unknown segment is 404.
    let agent = s.member("agent@export.test", "agent", &["default"]).await;
    let (code, _) = csv_of(&s, &agent.token, &path).await;
    assert_eq!(code, 403);
    let (code, _) = csv_of(&s, &s.token, "/api/segments/999999/export").await;
    assert_eq!(code, 404);
    // A member sees only its sessions' contacts in the file.
    let sales = s.member("sales@export.test", "sales", &["second"]).await;
    let (code, text) = csv_of(&s, &sales.token, &path).await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(records(&text).len(), 1 + 2, "{text}");
}
both!(segment_export_reimports);

/// `GET /api/contacts/export`: the list's parameters decide the rows, as in `GET
/// /api/contacts` (a tag, a text, a `filter`), every page of them; the same denials.
async fn list_filter_export(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    for (session, phone, name, tags, kind) in [
        (
            "default",
            "+447700900501",
            "Ann Export",
            json!(["vip"]),
            "lead",
        ),
        (
            "default",
            "+447700900502",
            "Bob Export",
            json!(["vip"]),
            "customer",
        ),
        ("default", "+447700900503", "Cy Other", json!([]), "lead"),
        (
            "second",
            "+447700900504",
            "Di Export",
            json!(["vip"]),
            "lead",
        ),
    ] {
        let (code, c) = s
            .post(
                "/api/contacts",
                json!({"session": session, "phone": phone, "name": name, "tags": tags, "type": kind}),
            )
            .await;
        assert_eq!(code, 201, "{c}");
    }
    let names = |text: &str| {
        let rows = records(text);
        assert_eq!(rows[0][..2], ["phone", "name"], "{text}");
        let mut n: Vec<String> = rows[1..].iter().map(|r| r[1].clone()).collect();
        n.sort();
        n
    };
    let (code, text) = csv_of(&s, &s.token, "/api/contacts/export?tag=vip").await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(names(&text), ["Ann Export", "Bob Export", "Di Export"]);
    let (code, text) = csv_of(&s, &s.token, "/api/contacts/export?tag=vip&type=lead").await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(names(&text), ["Ann Export", "Di Export"]);
    let (code, text) = csv_of(&s, &s.token, "/api/contacts/export?q=export&type=customer").await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(names(&text), ["Bob Export"]);
    let filter = json!({"any": [{"field": "type", "op": "eq", "value": "customer"},
        {"field": "tags", "op": "not_contains", "value": "vip"}]});
    let path = format!(
        "/api/contacts/export?filter={}",
        urlencoding(&filter.to_string())
    );
    let (code, text) = csv_of(&s, &s.token, &path).await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(names(&text), ["Bob Export", "Cy Other"]);
    // The same as the list, page for page.
    let (_, list) = s.get("/api/contacts?tag=vip&limit=2").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");

    // A bad filter is the list's 422 naming it; a NUL the 400; agents do not export; a
    // member's file holds only its sessions' contacts.
    let (code, r) = csv_of(&s, &s.token, "/api/contacts/export?filter=%7Bnope").await;
    assert_eq!(code, 422, "{r}");
    assert!(r.contains("filter"), "{r}");
    let (code, _) = csv_of(&s, &s.token, "/api/contacts/export?tag=a%00b").await;
    assert_eq!(code, 400);
    let (code, _) = csv_of(&s, &s.token, "/api/contacts/export?segment_id=999999").await;
    assert_eq!(code, 404);
    let agent = s
        .member("agent@listexport.test", "agent", &["default"])
        .await;
    let (code, _) = csv_of(&s, &agent.token, "/api/contacts/export?tag=vip").await;
    assert_eq!(code, 403);
    let sales = s
        .member("sales@listexport.test", "sales", &["second"])
        .await;
    let (code, text) = csv_of(&s, &sales.token, "/api/contacts/export?tag=vip").await;
    assert_eq!(code, 200, "{text}");
    assert_eq!(names(&text), ["Di Export"]);
}
both!(list_filter_export);

/// A query value, percent-encoded (the few characters a JSON filter holds that a URL
/// does not take as they are).
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
