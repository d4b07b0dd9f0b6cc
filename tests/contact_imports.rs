//! Contact imports (issue 17, contract §3c): a CSV with good, bad and duplicate rows
//! (exact counts and error lines), `on_duplicate=update`, progress over the websocket,
//! and an import interrupted by `kill -9` that resumes without duplicates; on SQLite and
//! PostgreSQL.

mod common;

use std::time::Duration;

use common::{assert_error, Backend, Setup};
use serde_json::{json, Value};

async fn post_csv(s: &Setup, query: &str, body: String) -> (u16, Value) {
    s.request(
        reqwest::Method::POST,
        &format!("/api/contacts/imports?{query}"),
        |r| {
            r.bearer_auth(&s.token)
                .header("content-type", "text/csv")
                .body(body)
        },
    )
    .await
}

async fn finished(s: &Setup, id: i64, wait: Duration) -> Value {
    s.eventually_within(&format!("/api/contacts/imports/{id}"), wait, |i| {
        i["status"] != "running"
    })
    .await
}

const FILE: &str = "phone,name,email,type,tags,attr.visits
+447700900801,Ann,ann@x.example,customer,vip;b2b,3
12ab,Bad,,,,
+447700900802,Bob,not-an-email,,,
447700900801,Ann Again,,,,
+447700900803,Cy,,lead,,many
+447700900804,Known,,,,
+447700900805,\"Di
Multiline\",,,,
+447700900806,,,,,
";

async fn good_bad_and_duplicate_rows(b: Backend) {
    let s = Setup::new(b).await;
    let (code, _) = s
        .post(
            "/api/contact-attributes",
            json!({"name": "visits", "type": "number"}),
        )
        .await;
    assert_eq!(code, 201);
    let (code, _) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "+447700900804", "name": "Known"}),
        )
        .await;
    assert_eq!(code, 201);
    let mut ws = s.socket(None).await;

    let (code, r) = post_csv(&s, "session=default&on_duplicate=skip", FILE.into()).await;
    assert_eq!(code, 202, "{r}");
    let id = r["id"].as_i64().expect("id");
    let done = finished(&s, id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        (
            &done["rows"],
            &done["created"],
            &done["updated"],
            &done["skipped"],
            &done["failed"]
        ),
        (&json!(8), &json!(3), &json!(0), &json!(2), &json!(3)),
        "{done}"
    );
    let errors: Vec<(i64, &str)> = done["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        vec![(3, "phone"), (4, "email"), (6, "attr.visits")],
        "{done}"
    );
    ws.expect("contact_import.progress", |d| {
        d["id"] == id && d["status"] == "completed"
    })
    .await;

    let (_, ann) = s.get("/api/contacts?q=900801").await;
    let ann = &ann["items"][0];
    assert_eq!(
        (&ann["name"], &ann["type"], &ann["tags"], &ann["attributes"]),
        (
            &json!("Ann"),
            &json!("customer"),
            &json!(["b2b", "vip"]),
            &json!({"visits": 3.0})
        ),
        "{ann}"
    );
    let (_, di) = s.get("/api/contacts?q=900805").await;
    assert_eq!(di["items"][0]["name"], "Di\nMultiline");

    // Again, updating: the duplicates (now five) take the file's non-empty cells.
    let (code, r) = post_csv(&s, "session=default&on_duplicate=update", FILE.into()).await;
    assert_eq!(code, 202, "{r}");
    let again = finished(&s, r["id"].as_i64().unwrap(), Duration::from_secs(30)).await;
    assert_eq!(
        (
            &again["created"],
            &again["updated"],
            &again["skipped"],
            &again["failed"]
        ),
        (&json!(0), &json!(5), &json!(0), &json!(3)),
        "{again}"
    );
    let (_, ann) = s.get("/api/contacts?q=900801").await;
    assert_eq!(ann["items"][0]["name"], "Ann Again");
    let (_, all) = s
        .post("/api/segments/preview", json!({"filter": {"all": []}}))
        .await;
    assert_eq!(all["count"], 4, "no contact twice");

    // A new number twice in one file, updating: the first row creates the contact (with the
    // chunk's other new contacts, in one statement), the second updates it, in file order.
    let twice = "phone,name,tags,attr.city\n+447700900811,First,a,Lisbon\n\
        +447700900812,Other,,\n+447700900811,Second,b,\n";
    let (code, r) = post_csv(&s, "session=default&on_duplicate=update", twice.into()).await;
    assert_eq!(code, 202, "{r}");
    let done = finished(&s, r["id"].as_i64().unwrap(), Duration::from_secs(30)).await;
    assert_eq!(
        (&done["created"], &done["updated"], &done["skipped"]),
        (&json!(2), &json!(1), &json!(0)),
        "{done}"
    );
    let (_, c) = s.get("/api/contacts?q=900811").await;
    assert_eq!(c["items"].as_array().map(Vec::len), Some(1), "{c}");
    assert_eq!(
        (&c["items"][0]["name"], &c["items"][0]["tags"]),
        (&json!("Second"), &json!(["b"])),
        "{c}"
    );
    // Updating merges attributes (a cell left empty keeps the contact's) and replaces
    // tags only where the row has some; a number twice in a chunk applies in file order.
    let more = "phone,attr.visits,attr.city,tags,email\n+447700900811,7,,,\n\
        +447700900812,2,Porto,x;y,o@x.example\n+447700900812,,,z,\n";
    let (code, r) = post_csv(&s, "session=default&on_duplicate=update", more.into()).await;
    assert_eq!(code, 202, "{r}");
    let done = finished(&s, r["id"].as_i64().unwrap(), Duration::from_secs(30)).await;
    assert_eq!(
        (&done["updated"], &done["failed"]),
        (&json!(3), &json!(0)),
        "{done}"
    );
    let (_, c) = s.get("/api/contacts?q=900811").await;
    assert_eq!(
        (
            &c["items"][0]["attributes"],
            &c["items"][0]["tags"],
            &c["items"][0]["name"]
        ),
        (
            &json!({"city": "Lisbon", "visits": 7.0}),
            &json!(["b"]),
            &json!("Second")
        ),
        "{c}"
    );
    let (_, o) = s.get("/api/contacts?q=900812").await;
    assert_eq!(
        (
            &o["items"][0]["attributes"],
            &o["items"][0]["tags"],
            &o["items"][0]["email"],
            &o["items"][0]["name"]
        ),
        (
            &json!({"city": "Porto", "visits": 2.0}),
            &json!(["z"]),
            &json!("o@x.example"),
            &json!("Other")
        ),
        "{o}"
    );

    // Refusals before anything is stored.
    let (code, r) = post_csv(&s, "session=default", "name,colour\nAnn,red\n".into()).await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("columns[1]")),
        "{r}"
    );
    let (code, r) = post_csv(&s, "session=default&on_duplicate=merge", FILE.into()).await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("on_duplicate")),
        "{r}"
    );
    assert_error(
        "unknown session",
        post_csv(&s, "session=nope", FILE.into()).await,
        400,
    );
    let json_body = s
        .request(
            reqwest::Method::POST,
            "/api/contacts/imports?session=default",
            |r| r.bearer_auth(&s.token).json(&json!({"phone": "1"})),
        )
        .await;
    assert_error("not CSV", json_body, 415);
    let agent = s.member("agent@import.test", "agent", &["default"]).await;
    let denied = s
        .request(
            reqwest::Method::POST,
            "/api/contacts/imports?session=default",
            |r| {
                r.bearer_auth(&agent.token)
                    .header("content-type", "text/csv")
                    .body(FILE)
            },
        )
        .await;
    assert_error("agents do not import", denied, 403);
    let (code, _) = s
        .as_user(
            &agent.token,
            "GET",
            &format!("/api/contacts/imports/{id}"),
            None,
        )
        .await;
    assert_eq!(code, 200, "whoever sees the session reads its imports");
    assert_error(
        "no such import",
        s.get("/api/contacts/imports/999999").await,
        404,
    );
}
both!(good_bad_and_duplicate_rows);

async fn a_killed_import_resumes_without_duplicates(b: Backend) {
    let mut s = Setup::new(b).await;
    const ROWS: i64 = 30_000;
    let mut body = String::from("phone,name,tags\n");
    for i in 0..ROWS {
        body.push_str(&format!("+4477009{i:05},Person {i},imported\n"));
    }
    let (code, r) = post_csv(&s, "session=default", body).await;
    assert_eq!(code, 202, "{r}");
    let id = r["id"].as_i64().expect("id");
    let path = format!("/api/contacts/imports/{id}");
    // Some rows applied, not all: then kill -9.
    let before = s
        .eventually_within(&path, Duration::from_secs(60), |i| {
            i["rows"].as_i64().is_some_and(|n| n > 0)
        })
        .await;
    s.hub.kill9();
    assert_eq!(before["status"], "running", "killed mid-way: {before}");
    assert!(before["rows"].as_i64().unwrap() < ROWS, "{before}");
    s.hub.restart();
    let done = finished(&s, id, Duration::from_secs(180)).await;
    assert_eq!(
        (
            &done["status"],
            &done["rows"],
            &done["created"],
            &done["skipped"],
            &done["failed"]
        ),
        (
            &json!("completed"),
            &json!(ROWS),
            &json!(ROWS),
            &json!(0),
            &json!(0)
        ),
        "{done}"
    );
    let (_, all) = s
        .post(
            "/api/segments/preview",
            json!({"filter": {"all": [{"field": "tags", "op": "contains", "value": "imported"}]}}),
        )
        .await;
    assert_eq!(all["count"], ROWS, "every row once");
}
both!(a_killed_import_resumes_without_duplicates);

/// The mapping step: a preview proposes a column for each header name from the file's
/// first rows; the import takes the chosen mapping, leaving out what it maps to null.
async fn mapping_step(b: Backend) {
    let s = Setup::new(b).await;
    let file = "Mobile,Full Name,E-mail,Plan,Shoe size!!,Ignored\n\
                +447700900901,Ann,ann@x.example,gold,41,zzz\n\
                +447700900902,Bob,,silver,,zzz\n"
        .to_string();
    let (code, p) = s
        .request(
            reqwest::Method::POST,
            "/api/contacts/imports/preview?session=default",
            |r| {
                r.bearer_auth(&s.token)
                    .header("content-type", "text/csv")
                    .body(file.clone())
            },
        )
        .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(
        p["columns"],
        json!([
            "Mobile",
            "Full Name",
            "E-mail",
            "Plan",
            "Shoe size!!",
            "Ignored"
        ])
    );
    assert_eq!(
        p["mapping"],
        json!({"Mobile": "phone", "Full Name": "name", "E-mail": "email", "Plan": "attr.plan",
            "Shoe size!!": "attr.shoe_size", "Ignored": "attr.ignored"})
    );
    assert_eq!(p["sample"].as_array().map(Vec::len), Some(2), "{p}");
    let (code, r) = s
        .request(
            reqwest::Method::POST,
            "/api/contacts/imports/preview?session=default",
            |r| {
                r.bearer_auth(&s.token)
                    .header("content-type", "text/csv")
                    .body("colour,size\nred,4\n")
            },
        )
        .await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("columns")),
        "{r}"
    );
    assert_eq!(p["sample"][1][1], "Bob");

    // The chosen mapping: the proposal with the unwanted column left out.
    let mapping = json!({"Mobile": "phone", "Full Name": "name", "E-mail": "email",
        "Plan": "attr.plan", "Shoe size!!": null, "Ignored": null});
    let query = format!(
        "session=default&mapping={}",
        common::urlencode(&mapping.to_string())
    );
    let (code, r) = post_csv(&s, &query, file.clone()).await;
    assert_eq!(code, 202, "{r}");
    let done = finished(&s, r["id"].as_i64().expect("id"), Duration::from_secs(20)).await;
    assert_eq!(
        (&done["status"], &done["created"], &done["errors"]),
        (&json!("completed"), &json!(2), &json!([])),
        "{done}"
    );
    let (_, list) = s.get("/api/contacts?q=900901").await;
    let ann = &list["items"][0];
    assert_eq!(ann["name"], "Ann");
    assert_eq!(ann["email"], "ann@x.example");
    assert_eq!(ann["attributes"], json!({"plan": "gold"}));

    // Without the mapping the same file's names are not columns; a mapping naming a
    // column the file lacks, or not an object, is refused naming it.
    let (code, r) = post_csv(&s, "session=default", file.clone()).await;
    assert_eq!(code, 422, "{r}");
    let bad = format!(
        "session=default&mapping={}",
        common::urlencode(&json!({"Nope": "phone"}).to_string())
    );
    let (code, r) = post_csv(&s, &bad, file.clone()).await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("mapping.Nope")),
        "{r}"
    );
    let (code, r) = post_csv(&s, "session=default&mapping=%5B1%5D", file).await;
    assert_eq!(
        (code, &r["error"]["field"]),
        (422, &json!("mapping")),
        "{r}"
    );
}
both!(mapping_step);
