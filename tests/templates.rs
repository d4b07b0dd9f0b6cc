//! Saved message templates (issue 18): CRUD with an audit entry and a `template.updated`
//! event per change, bodies checked by the bot template engine (fallbacks included) with a
//! bad one refused naming `body`, and the roles that may use them; on SQLite and PostgreSQL.

mod common;

use common::{assert_error, Backend, Setup};
use serde_json::json;

async fn templates_crud_events_and_bad_bodies(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let body = r#"Hi {{contact.first_name | "there"}}, {{ business.name|'we'}} miss you"#;
    let (code, t) = s
        .post(
            "/api/templates",
            json!({"name": " Win-back ", "body": body}),
        )
        .await;
    assert_eq!(code, 201, "{t}");
    assert_eq!((&t["name"], &t["body"]), (&json!("Win-back"), &json!(body)));
    let id = t["id"].as_i64().expect("id");
    ws.expect("template.updated", |d| {
        d["id"] == id && d["change"] == "created"
    })
    .await;
    let path = format!("/api/templates/{id}");

    // Bodies the engine cannot read: 422 naming `body`, with the engine's reason.
    for (bad, why) in [
        ("Hi {{contact.first_name", "unclosed {{ at 3"),
        ("Hi {{contact.nickname | \"x}}", "unclosed \" at 24"),
        ("Hi {{contact.name | there}}", "must be quoted"),
        ("Hi {{foo}}", "unknown variable {{foo}}"),
        ("  ", "empty"),
    ] {
        let (code, r) = s
            .post("/api/templates", json!({"name": "bad", "body": bad}))
            .await;
        assert_eq!(
            (code, &r["error"]["field"]),
            (422, &json!("body")),
            "{bad}: {r}"
        );
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(why), "{bad}: {msg}");
        let (code, r) = s.patch(&path, json!({"body": bad})).await;
        assert_eq!((code, &r["error"]["field"]), (422, &json!("body")), "{r}");
    }
    let (code, r) = s
        .post("/api/templates", json!({"name": "", "body": "Hi"}))
        .await;
    assert_eq!((code, &r["error"]["field"]), (422, &json!("name")), "{r}");
    assert_eq!(s.get(&path).await.1["body"], json!(body), "nothing saved");

    let (code, r) = s
        .patch(&path, json!({"body": "Hello {{contact.name | 'friend'}}"}))
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        (&r["name"], &r["body"]),
        (
            &json!("Win-back"),
            &json!("Hello {{contact.name | 'friend'}}")
        )
    );
    ws.expect("template.updated", |d| {
        d["id"] == id && d["change"] == "updated"
    })
    .await;
    let (_, list) = s.get("/api/templates").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list["items"][0]["id"], id, "{list}");

    let (_, log) = s.get("/api/audit-log?action=template.").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["template.update", "template.create"], "{log}");

    let del = || s.as_user(&s.token, "DELETE", &path, None);
    assert_eq!(del().await.0, 204);
    ws.expect("template.updated", |d| {
        d["id"] == id && d["change"] == "deleted"
    })
    .await;
    assert_error("a deleted template", s.get(&path).await, 404);
    assert_error("deleting twice", del().await, 404);
    assert_error(
        "editing a deleted template",
        s.patch(&path, json!({"name": "x"})).await,
        404,
    );
}
both!(templates_crud_events_and_bad_bodies);

async fn campaign_roles_use_templates_inbox_roles_get_403(b: Backend) {
    let s = Setup::new(b).await;
    let (code, t) = s
        .post(
            "/api/templates",
            json!({"name": "Hello", "body": "Hi {{contact.name}}"}),
        )
        .await;
    assert_eq!(code, 201, "{t}");
    let path = format!("/api/templates/{}", t["id"]);
    let s = &s;
    for role in ["manager", "marketing", "agent", "sales"] {
        let m = s
            .member(&format!("{role}@tpl.test"), role, &["default"])
            .await;
        let call = |method: &'static str, path: String, body: Option<serde_json::Value>| {
            let token = m.token.clone();
            async move { s.as_user(&token, method, &path, body).await }
        };
        let allowed = matches!(role, "manager" | "marketing");
        let (code, r) = call("GET", "/api/templates".into(), None).await;
        let (get_code, _) = call("GET", path.clone(), None).await;
        let (create, created) = call(
            "POST",
            "/api/templates".into(),
            Some(json!({"name": role, "body": "Hi"})),
        )
        .await;
        let (update, _) = call("PATCH", path.clone(), Some(json!({"name": "Hello"}))).await;
        if allowed {
            assert_eq!(
                (code, get_code, create, update),
                (200, 200, 201, 200),
                "{role}: {r}"
            );
            let own = format!("/api/templates/{}", created["id"]);
            assert_eq!(call("DELETE", own, None).await.0, 204, "{role}");
        } else {
            assert_eq!(
                (code, get_code, create, update),
                (403, 403, 403, 403),
                "{role}: {r}"
            );
            assert_eq!(call("DELETE", path.clone(), None).await.0, 403, "{role}");
        }
    }
    assert_eq!(s.get(&path).await.0, 200, "still there");
}
both!(campaign_roles_use_templates_inbox_roles_get_403);
