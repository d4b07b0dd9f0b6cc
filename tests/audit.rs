//! The audit log, end to end on both databases: every change made through the API, the
//! websocket and the command line appears with who made it, how, from where, and what
//! changed (never a password, a token or a reply's text); the filters and the CSV export;
//! who may read it (admins everything, managers their sessions and what belongs to no
//! session, other roles nothing); and that the database refuses to change or remove an
//! entry.

mod common;

use common::{login, Backend, Setup, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::{json, Value};

const MEMBER_PASSWORD: &str = "member-password-1";

/// Every entry `token` may read that matches `query` (`&name=value…`), all pages, newest
/// first.
async fn entries(s: &Setup, token: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/audit-log?limit=200{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (code, page) = s.as_user(token, "GET", &path, None).await;
        assert_eq!(code, 200, "GET {path}: {page}");
        out.extend(page["items"].as_array().cloned().expect("items"));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// Whether entry `e` is about the thing with this id (ids are text in the log).
fn targets(e: &Value, id: &dyn std::fmt::Display) -> bool {
    e["target_id"].as_str() == Some(id.to_string().as_str())
}

/// The one entry of `action` for which `pred` holds.
fn one<'a>(all: &'a [Value], action: &str, pred: impl Fn(&Value) -> bool) -> &'a Value {
    let found: Vec<&Value> = all
        .iter()
        .filter(|e| e["action"] == action && pred(e))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {action} entry, found {}: {all:#?}",
        found.len()
    );
    found[0]
}

fn count(all: &[Value], action: &str, pred: impl Fn(&Value) -> bool) -> usize {
    all.iter()
        .filter(|e| e["action"] == action && pred(e))
        .count()
}

async fn me(s: &Setup, token: &str) -> i64 {
    let (code, me) = s.as_user(token, "GET", "/api/auth/me", None).await;
    assert_eq!(code, 200, "{me}");
    me["id"].as_i64().expect("id")
}

async fn session_id(s: &Setup, name: &str) -> i64 {
    let (code, body) = s.get(&format!("/api/sessions/{name}")).await;
    assert_eq!(code, 200, "{body}");
    body["id"].as_i64().expect("session id")
}

/// A member created by the admin through the team API, logged in: (token, id).
async fn member(s: &Setup, email: &str, role: &str, sessions: &[&str]) -> (String, i64) {
    let (code, m) = s
        .post(
            "/api/team-members",
            json!({"email": email, "name": role, "role": role, "password": MEMBER_PASSWORD,
                "sessions": sessions}),
        )
        .await;
    assert_eq!(code, 201, "create {role}: {m}");
    let token = login(&s.http, &s.hub.url, email, MEMBER_PASSWORD).await;
    (token, m["id"].as_i64().expect("id"))
}

async fn failed_login(s: &Setup, email: &str, password: &str) {
    let (code, body) = s
        .request(reqwest::Method::POST, "/api/auth/login", |r| {
            r.json(&json!({"email": email, "password": password}))
        })
        .await;
    assert_eq!(code, 401, "{body}");
}

/// `GET path` as raw text with its content type and disposition.
async fn raw(s: &Setup, token: &str, path: &str) -> (u16, String, String, String) {
    let r = s
        .http
        .get(format!("{}{}", s.hub.url, path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (code, ctype, disposition) = (
        r.status().as_u16(),
        header("content-type"),
        header("content-disposition"),
    );
    (code, ctype, disposition, r.text().await.expect("body"))
}

/// A CSV export's header and rows.
fn parse_csv(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r.records().map(|x| x.expect("a CSV row")).collect();
    (header, rows)
}

async fn every_change_is_recorded_with_who_how_and_what(b: Backend) {
    let s = Setup::new(b).await;
    let admin = me(&s, &s.token).await;
    let default = session_id(&s, "default").await;
    let all = entries(&s, &s.token, "").await;

    // create-admin, from the command line: nobody logged in.
    let e = one(&all, "member.create", |e| {
        e["after"]["email"] == ADMIN_EMAIL
    });
    assert_eq!(e["via"], "cli", "{e}");
    assert!(e["actor_id"].is_null() && e["ip"].is_null(), "{e}");
    assert_eq!(e["target_type"], "member");
    assert_eq!(e["target_id"], admin.to_string());
    assert_eq!(e["after"]["role"], "admin");
    // The harness's login and session registration.
    let e = one(&all, "auth.login", |_| true);
    assert_eq!(
        (&e["actor_id"], &e["actor_email"], &e["via"], &e["ip"]),
        (
            &json!(admin),
            &json!(ADMIN_EMAIL),
            &json!("http"),
            &json!("127.0.0.1")
        ),
        "{e}"
    );
    assert_eq!(e["target_id"], admin.to_string());
    let e = one(&all, "session.register", |e| e["target_id"] == "default");
    assert_eq!((&e["actor_id"], &e["via"]), (&json!(admin), &json!("http")));
    assert_eq!(e["session_id"], default);
    assert_eq!(
        e["after"],
        json!({"name": "default", "wants_running": true})
    );
    assert!(e["before"].is_null(), "a new session has no before: {e}");

    // Failed logins: no actor, the email tried, never the password.
    let wrong = "not-the-password-42";
    failed_login(&s, ADMIN_EMAIL, wrong).await;
    failed_login(&s, "nobody@test.tickhub", wrong).await;

    // Contacts: create, update (only what changed), an update that changes nothing, delete.
    let (code, c) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "+447700900123", "name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(code, 201, "{c}");
    let contact = c["id"].as_i64().expect("id");
    let path = format!("/api/contacts/{contact}");
    for body in [
        json!({"name": "Anne", "email": "ann@example.com"}),
        json!({"name": "Anne"}),
    ] {
        let (code, r) = s.as_user(&s.token, "PATCH", &path, Some(body)).await;
        assert_eq!(code, 200, "{r}");
    }
    let (code, r) = s.as_user(&s.token, "DELETE", &path, None).await;
    assert_eq!(code, 204, "{r}");

    // Replies over HTTP (sent twice with one client id: one message, one entry) and over
    // the websocket.
    let mut ws = s.socket(None).await;
    let chat = "447700900555@c.us";
    let waha_id = s.customer_writes(chat, "hello").await;
    let f = ws
        .expect("message.created", |d| d["waha_id"] == waha_id.as_str())
        .await;
    let conv = f["data"]["conversation_id"].as_i64().expect("conversation");
    let reply = json!({"text": "secret reply text 1", "client_id": "h-1"});
    let (code, m1) = s
        .post(
            &format!("/api/conversations/{conv}/messages"),
            reply.clone(),
        )
        .await;
    assert_eq!(code, 201, "{m1}");
    let (code, again) = s
        .post(&format!("/api/conversations/{conv}/messages"), reply)
        .await;
    assert_eq!(code, 201, "{again}");
    assert_eq!(again["id"], m1["id"]);
    ws.send(json!({"type": "message.send", "data": {"conversation_id": conv, "text": "secret reply text 2", "client_id": "w-1"}}))
        .await;
    let m2 = ws
        .expect("message.created", |d| d["client_id"] == "w-1")
        .await["data"]
        .clone();

    // Sessions: stop, start, log out.
    for action in ["stop", "start", "logout"] {
        let (code, r) = s
            .post(&format!("/api/sessions/default/{action}"), json!({}))
            .await;
        assert_eq!(code, 200, "{action}: {r}");
    }

    // A second login, then its logout.
    let second = login(&s.http, &s.hub.url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (code, r) = s.as_user(&second, "POST", "/api/auth/logout", None).await;
    assert_eq!(code, 204, "{r}");

    let all = entries(&s, &s.token, "").await;
    let e = one(&all, "auth.login_failed", |e| {
        e["after"]["email"] == ADMIN_EMAIL
    });
    assert!(e["actor_id"].is_null() && e["actor_email"].is_null(), "{e}");
    assert_eq!((&e["via"], &e["ip"]), (&json!("http"), &json!("127.0.0.1")));
    assert_eq!(e["target_id"], admin.to_string(), "the member it named");
    let e = one(&all, "auth.login_failed", |e| {
        e["after"]["email"] == "nobody@test.tickhub"
    });
    assert!(e["target_id"].is_null(), "no member has that email: {e}");

    let is_contact = |e: &Value| targets(e, &contact);
    let e = one(&all, "contact.create", is_contact);
    assert_eq!((&e["actor_id"], &e["via"]), (&json!(admin), &json!("http")));
    assert_eq!(e["session_id"], default);
    assert_eq!(e["target_type"], "contact");
    assert!(e["before"].is_null(), "{e}");
    assert_eq!(
        (
            &e["after"]["name"],
            &e["after"]["email"],
            &e["after"]["phone"]
        ),
        (
            &json!("Ann"),
            &json!("ann@example.com"),
            &json!("+447700900123")
        ),
        "{e}"
    );
    let e = one(&all, "contact.update", is_contact);
    assert_eq!(
        e["before"],
        json!({"name": "Ann"}),
        "only what changed: {e}"
    );
    assert_eq!(e["after"], json!({"name": "Anne"}), "{e}");
    let e = one(&all, "contact.delete", is_contact);
    assert_eq!(e["before"]["name"], "Anne", "{e}");
    assert!(e["after"].is_null(), "{e}");

    let e = one(&all, "message.send", |e| targets(e, &m1["id"]));
    assert_eq!((&e["actor_id"], &e["via"]), (&json!(admin), &json!("http")));
    assert_eq!(
        (&e["target_type"], &e["session_id"]),
        (&json!("message"), &json!(default))
    );
    assert_eq!(e["after"]["conversation_id"], conv);
    let e = one(&all, "message.send", |e| targets(e, &m2["id"]));
    assert_eq!(
        (&e["actor_id"], &e["via"], &e["ip"]),
        (&json!(admin), &json!("websocket"), &json!("127.0.0.1")),
        "{e}"
    );
    assert_eq!(count(&all, "message.send", |_| true), 2);

    for (action, before, after) in [
        ("session.stop", true, false),
        ("session.start", false, true),
        ("session.logout", true, false),
    ] {
        let e = one(&all, action, |_| true);
        assert_eq!(
            (&e["target_id"], &e["session_id"]),
            (&json!("default"), &json!(default))
        );
        assert_eq!(e["before"], json!({"wants_running": before}), "{e}");
        assert_eq!(e["after"], json!({"wants_running": after}), "{e}");
        assert_eq!(e["actor_id"], admin);
    }

    assert_eq!(count(&all, "auth.login", |e| e["actor_id"] == admin), 2);
    let e = one(&all, "auth.logout", |_| true);
    assert_eq!(
        (&e["actor_id"], &e["via"], &e["target_id"]),
        (&json!(admin), &json!("http"), &json!(admin.to_string()))
    );

    // Newest first; nothing secret anywhere, in JSON or in the CSV export.
    let ids: Vec<i64> = all.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let (code, _, _, csv) = raw(&s, &s.token, "/api/audit-log?format=csv").await;
    assert_eq!(code, 200);
    let everything = format!("{}{csv}", Value::Array(all.clone()));
    for secret in [
        ADMIN_PASSWORD,
        wrong,
        MEMBER_PASSWORD,
        s.token.as_str(),
        second.as_str(),
        "$argon2",
        "secret reply text",
    ] {
        assert!(
            !everything.contains(secret),
            "the audit log holds {secret:?}"
        );
    }
}
both!(every_change_is_recorded_with_who_how_and_what);

async fn filters_paging_and_csv(b: Backend) {
    let s = Setup::new(b).await;
    let admin = me(&s, &s.token).await;
    let default = session_id(&s, "default").await;
    let mut contacts = Vec::new();
    for (i, name) in ["Ann", "Bob", "Cy"].iter().enumerate() {
        let (code, c) = s
            .post(
                "/api/contacts",
                json!({"session": "default", "phone": format!("44770090010{i}"), "name": name}),
            )
            .await;
        assert_eq!(code, 201, "{c}");
        contacts.push(c["id"].as_i64().expect("id"));
    }
    let (code, r) = s
        .as_user(
            &s.token,
            "PATCH",
            &format!("/api/contacts/{}", contacts[0]),
            Some(json!({"notes": "VIP"})),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let tricky = "=HYPERLINK(\"http://x\"),\"quoted\"\nsecond line";
    failed_login(&s, tricky, "whatever-it-was").await;
    let all = entries(&s, &s.token, "").await;

    // By actor, by action (exact and prefix), by target, by session.
    let mine = entries(&s, &s.token, &format!("&actor_id={admin}")).await;
    assert!(!mine.is_empty() && mine.iter().all(|e| e["actor_id"] == admin));
    assert_eq!(
        mine.len(),
        all.iter().filter(|e| e["actor_id"] == admin).count()
    );
    assert!(entries(&s, &s.token, "&actor_id=999999").await.is_empty());
    let created = entries(&s, &s.token, "&action=contact.create").await;
    assert_eq!(created.len(), 3);
    let under = entries(&s, &s.token, "&action=contact.").await;
    assert_eq!(under.len(), 4, "three creates and an update: {under:#?}");
    assert!(under
        .iter()
        .all(|e| e["action"].as_str().unwrap().starts_with("contact.")));
    assert!(
        entries(&s, &s.token, "&action=contact").await.is_empty(),
        "without a final dot an action is matched exactly"
    );
    let of_one = entries(
        &s,
        &s.token,
        &format!("&target_type=contact&target_id={}", contacts[0]),
    )
    .await;
    let actions: Vec<&str> = of_one
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["contact.update", "contact.create"]);
    let in_default = entries(&s, &s.token, "&session=default").await;
    assert!(in_default.iter().all(|e| e["session_id"] == default));
    assert_eq!(count(&in_default, "contact.create", |_| true), 3);
    assert_eq!(count(&in_default, "session.register", |_| true), 1);
    let (code, page) = s.get("/api/audit-log?session=nosuchsession").await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(
        page["items"],
        json!([]),
        "an unknown session matches nothing"
    );

    // A time window: `from` includes its instant, `to` excludes it.
    let middle = one(&created, "contact.create", |e| targets(e, &contacts[1]));
    let at = middle["at"].as_i64().expect("at");
    let rfc = |ms: i64| {
        common::urlencode(
            &chrono::DateTime::from_timestamp_millis(ms)
                .expect("time")
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
    };
    let from = entries(&s, &s.token, &format!("&from={}", rfc(at))).await;
    assert!(from.iter().all(|e| e["at"].as_i64().unwrap() >= at));
    assert!(from.iter().any(|e| e["id"] == middle["id"]));
    let to = entries(&s, &s.token, &format!("&to={}", rfc(at))).await;
    assert!(to.iter().all(|e| e["at"].as_i64().unwrap() < at));
    assert!(to.iter().all(|e| e["id"] != middle["id"]));
    assert_eq!(from.len() + to.len(), all.len());

    // Pages of two follow each other without gaps or repeats.
    let mut paged = Vec::new();
    let mut path = "/api/audit-log?limit=2".to_string();
    loop {
        let (code, page) = s.get(&path).await;
        assert_eq!(code, 200, "{page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        paged.extend(items.iter().map(|e| e["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/audit-log?limit=2&cursor={c}"),
            None => break,
        }
    }
    let ids: Vec<Value> = all.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(paged, ids);

    // Bad values: 422 naming the field.
    for (query, field) in [
        ("actor_id=me", "actor_id"),
        ("from=yesterday", "from"),
        ("to=2026-02-30T00:00:00Z", "to"),
        ("limit=0", "limit"),
        ("limit=500", "limit"),
        ("cursor=abc", "cursor"),
        ("format=xml", "format"),
        ("session=not%20a%20name", "session"),
        ("target_id=%00", "target_id"),
    ] {
        let (code, body) = s.get(&format!("/api/audit-log?{query}")).await;
        assert_eq!(code, 422, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid", "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(&format!("{field}:")), "{query}: {body}");
    }

    // CSV: every matching row, over several internal pages, escaped.
    let bulk = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234)
        INSERT INTO audit_log (created_at, via, action, target_type, target_id)
        SELECT 1000 + i, 'system', 'test.bulk', 'thing', CAST(i AS TEXT) FROM n";
    s.db.exec(bulk, &[bulk]).await;
    let (code, ctype, disposition, text) =
        raw(&s, &s.token, "/api/audit-log?format=csv&action=test.bulk").await;
    assert_eq!(code, 200, "{text}");
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    assert!(
        disposition.starts_with("attachment") && disposition.contains("audit-log.csv"),
        "{disposition}"
    );
    let (header, rows) = parse_csv(&text);
    assert_eq!(
        header,
        [
            "id",
            "at",
            "at_utc",
            "actor_id",
            "actor_email",
            "via",
            "action",
            "target_type",
            "target_id",
            "session_id",
            "before",
            "after",
            "ip"
        ]
    );
    assert_eq!(rows.len(), 1234);
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().expect("id")).collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "newest first, no repeats"
    );
    assert!(rows.iter().all(|r| &r[6] == "test.bulk"));
    assert_eq!(&rows[0][8], "1234");
    assert_eq!(&rows[1233][8], "1");

    let (_, _, _, text) = raw(
        &s,
        &s.token,
        "/api/audit-log?format=csv&action=auth.login_failed",
    )
    .await;
    let (_, rows) = parse_csv(&text);
    assert_eq!(rows.len(), 1);
    let after: Value = serde_json::from_str(&rows[0][11]).expect("after is JSON");
    assert_eq!(after["email"], tricky);
    assert_eq!(&rows[0][12], "127.0.0.1");
    assert!(rows[0][3].is_empty(), "no actor");

    let (code, _, _, text) = raw(&s, &s.token, "/api/audit-log?format=csv&action=none.such").await;
    assert_eq!(code, 200);
    let (header, rows) = parse_csv(&text);
    assert_eq!((header.len(), rows.len()), (13, 0), "a header row alone");
}
both!(filters_paging_and_csv);

async fn admins_and_managers_read_it_within_their_sessions(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = s.post("/api/sessions", json!({"name": "other"})).await;
    assert_eq!(code, 201, "{r}");
    let (default, other) = (
        session_id(&s, "default").await,
        session_id(&s, "other").await,
    );
    let (manager, manager_id) = member(&s, "manager@test.tickhub", "manager", &["default"]).await;
    let (agent, _) = member(&s, "agent@test.tickhub", "agent", &["default"]).await;
    let (sales, _) = member(&s, "sales@test.tickhub", "sales", &["default"]).await;
    let (marketing, _) = member(&s, "marketing@test.tickhub", "marketing", &["default"]).await;
    let mut ids = Vec::new();
    for session in ["default", "other"] {
        let (code, c) = s
            .post(
                "/api/contacts",
                json!({"session": session, "phone": "447700900200"}),
            )
            .await;
        assert_eq!(code, 201, "{c}");
        ids.push(c["id"].as_i64().expect("id"));
    }

    // Everyone else: 403, for the list and the export alike; nobody without a token.
    for (who, token) in [
        ("agent", &agent),
        ("sales", &sales),
        ("marketing", &marketing),
    ] {
        for path in ["/api/audit-log", "/api/audit-log?format=csv"] {
            let (code, body) = s.as_user(token, "GET", path, None).await;
            assert_eq!(code, 403, "{who} {path}: {body}");
            assert_eq!(body["error"]["code"], "forbidden", "{body}");
        }
    }
    let (code, body) = s.get_anonymous("/api/audit-log").await;
    assert_eq!(code, 401, "{body}");

    // A refused change leaves no entry.
    let (code, _) = s
        .as_user(&agent, "DELETE", &format!("/api/contacts/{}", ids[0]), None)
        .await;
    assert_eq!(code, 403);

    // The admin reads everything.
    let all = entries(&s, &s.token, "").await;
    assert!(all.iter().any(|e| e["session_id"] == other));
    one(&all, "contact.create", |e| targets(e, &ids[1]));
    one(&all, "session.register", |e| e["target_id"] == "other");
    assert_eq!(count(&all, "contact.delete", |_| true), 0);
    for email in ["agent@test.tickhub", "sales@test.tickhub"] {
        let e = one(&all, "auth.login", |e| e["actor_email"] == email);
        assert!(e["session_id"].is_null());
    }

    // The manager: their session's entries and those of no session, nothing of another.
    let seen = entries(&s, &manager, "").await;
    assert!(
        seen.iter()
            .all(|e| e["session_id"].is_null() || e["session_id"] == default),
        "a manager read another session's entries: {seen:#?}"
    );
    one(&seen, "contact.create", |e| targets(e, &ids[0]));
    one(&seen, "session.register", |e| e["target_id"] == "default");
    assert_eq!(count(&seen, "contact.create", |e| targets(e, &ids[1])), 0);
    one(&seen, "member.create", |e| {
        e["after"]["email"] == "agent@test.tickhub"
    });
    one(&seen, "auth.login", |e| e["actor_id"] == manager_id);
    assert_eq!(
        seen.len(),
        all.iter()
            .filter(|e| e["session_id"].is_null() || e["session_id"] == default)
            .count()
    );
    let (code, page) = s
        .as_user(&manager, "GET", "/api/audit-log?session=other", None)
        .await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(page["items"], json!([]), "another session matches nothing");
    let (code, _, _, text) = raw(&s, &manager, "/api/audit-log?format=csv").await;
    assert_eq!(code, 200);
    let (_, rows) = parse_csv(&text);
    assert_eq!(rows.len(), seen.len());
    let default_text = default.to_string();
    assert!(rows.iter().all(|r| r[9].is_empty() || r[9] == default_text));
}
both!(admins_and_managers_read_it_within_their_sessions);

async fn the_log_is_append_only(b: Backend) {
    let s = Setup::new(b).await;
    let before = entries(&s, &s.token, "").await;
    let login = one(&before, "auth.login", |_| true).clone();
    let id = login["id"].as_i64().expect("id");

    let update =
        format!("UPDATE audit_log SET action = 'tampered', actor_id = NULL WHERE id = {id}");
    let delete = format!("DELETE FROM audit_log WHERE id = {id}");
    for sql in [&update, &delete, &"DELETE FROM audit_log".to_string()] {
        let err =
            s.db.try_exec(sql, sql)
                .await
                .expect_err(&format!("the database allowed {sql}"));
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if b == Backend::Postgres {
        let err =
            s.db.try_exec("", "TRUNCATE audit_log")
                .await
                .expect_err("the database allowed TRUNCATE");
        assert!(err.contains("append-only"), "{err}");
    }

    let after = entries(&s, &s.token, "").await;
    assert_eq!(after, before, "the log changed");
    // Appending goes on.
    failed_login(&s, ADMIN_EMAIL, "not-it-at-all-1").await;
    let now = entries(&s, &s.token, "").await;
    assert_eq!(now.len(), before.len() + 1);
    assert_eq!(now[0]["action"], "auth.login_failed");
}
both!(the_log_is_append_only);
