//! Quick replies (`/api/quick-replies`): the team's saved responses, their checks, search
//! and paging, who may read and write them, and the audit entries of each change.

mod common;

use common::{assert_error, Backend, Setup};
use serde_json::{json, Value};

async fn create(s: &Setup, shortcut: &str, text: &str) -> Value {
    let (code, r) = s
        .post(
            "/api/quick-replies",
            json!({"shortcut": shortcut, "text": text}),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    r
}

fn shortcuts(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["shortcut"].as_str().expect("shortcut").to_string())
        .collect()
}

async fn saved_checked_and_found(b: Backend) {
    let s = Setup::new(b).await;
    let (_, me) = s.get("/api/auth/me").await;
    let thanks = create(&s, "thanks", "Thank you, {{contact.first_name}}!").await;
    assert_eq!(thanks["shortcut"], "thanks");
    assert_eq!(thanks["text"], "Thank you, {{contact.first_name}}!");
    assert_eq!(thanks["created_by"], me["id"]);
    assert!(thanks["created_at"].as_i64() > Some(0), "{thanks}");
    assert_eq!(thanks["created_at"], thanks["updated_at"]);
    create(&s, "hours", "We are open {{business.hours_today}}").await;
    create(&s, "discount", "Use code SAVE10 for 10% off").await;
    create(&s, "bye", "Have a good day").await;

    // Refused values name their field, and nothing is saved.
    for (body, field) in [
        (json!({"shortcut": "Thanks2", "text": "x"}), "shortcut: "),
        (json!({"shortcut": "a b", "text": "x"}), "shortcut: "),
        (
            json!({"shortcut": "x".repeat(33), "text": "x"}),
            "shortcut: ",
        ),
        (
            json!({"shortcut": "ok", "text": "Hi {{contact.name"}),
            "text: unclosed",
        ),
        (
            json!({"shortcut": "ok", "text": "Hi {{order.id}}"}),
            "text: unknown variable",
        ),
        (json!({"shortcut": "ok", "text": "   "}), "text: empty"),
        (
            json!({"shortcut": "ok", "text": "é".repeat(4097)}),
            "text: longer",
        ),
        (json!({"shortcut": "ok", "text": 7}), "text: "),
    ] {
        let got = s.post("/api/quick-replies", body.clone()).await;
        assert!(
            got.1["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(field)),
            "{body}: {got:?}"
        );
        assert_error(&body.to_string(), got, 422);
    }
    let (code, taken) = s
        .post(
            "/api/quick-replies",
            json!({"shortcut": "thanks", "text": "again"}),
        )
        .await;
    assert_eq!(code, 409, "{taken}");
    assert!(
        taken["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("shortcut") && m.contains("thanks")),
        "{taken}"
    );
    assert_eq!(taken["error"]["field"], "shortcut", "{taken}");

    // By shortcut, all of them; paged with a cursor.
    let (_, all) = s.get("/api/quick-replies").await;
    assert_eq!(shortcuts(&all), ["bye", "discount", "hours", "thanks"]);
    assert_eq!(all["next_cursor"], Value::Null);
    let (_, first) = s.get("/api/quick-replies?limit=3").await;
    assert_eq!(shortcuts(&first), ["bye", "discount", "hours"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, rest) = s
        .get(&format!("/api/quick-replies?limit=3&cursor={cursor}"))
        .await;
    assert_eq!(shortcuts(&rest), ["thanks"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    assert_error(
        "bad cursor",
        s.get("/api/quick-replies?cursor=NOT%20ONE").await,
        400,
    );

    // Search: shortcut or text, any case; `%` and `_` are plain characters.
    for (q, want) in [
        ("THANK", vec!["thanks"]),
        ("open", vec!["hours"]),
        ("d", vec!["bye", "discount", "hours"]),
        ("%25", vec!["discount"]),
        // Unescaped, `_` would match any character, so every one of them.
        ("_", vec!["hours", "thanks"]),
        ("nothing-like-it", vec![]),
    ] {
        let (code, page) = s.get(&format!("/api/quick-replies?q={q}")).await;
        assert_eq!(code, 200, "{page}");
        assert_eq!(shortcuts(&page), want, "q={q}");
    }

    // One, changed, and gone.
    let id = thanks["id"].as_i64().expect("id");
    let path = format!("/api/quick-replies/{id}");
    let (code, got) = s.get(&path).await;
    assert_eq!((code, &got), (200, &thanks));
    let (code, taken) = s.patch(&path, json!({"shortcut": "bye"})).await;
    assert_eq!(code, 409, "{taken}");
    assert_eq!(taken["error"]["field"], "shortcut", "{taken}");
    assert_error(
        "bad text",
        s.patch(&path, json!({"text": "{{shop.address}}"})).await,
        422,
    );
    let (code, changed) = s
        .patch(&path, json!({"shortcut": "ty", "text": "Thanks!"}))
        .await;
    assert_eq!(code, 200, "{changed}");
    assert_eq!(changed["shortcut"], "ty");
    assert_eq!(changed["text"], "Thanks!");
    assert_eq!(changed["created_at"], thanks["created_at"]);
    let (code, same) = s.patch(&path, json!({})).await;
    assert_eq!(
        (code, &same),
        (200, &changed),
        "nothing asked, nothing changed"
    );
    let (code, _) = s
        .request(reqwest::Method::DELETE, &path, |r| r.bearer_auth(&s.token))
        .await;
    assert_eq!(code, 204);
    assert_error("deleted", s.get(&path).await, 404);
    assert_error(
        "deleted, patched",
        s.patch(&path, json!({"text": "x"})).await,
        404,
    );
    let (code, _) = s
        .request(reqwest::Method::DELETE, &path, |r| r.bearer_auth(&s.token))
        .await;
    assert_eq!(code, 404);
    // Its shortcut is free again.
    create(&s, "thanks", "Thanks again").await;

    // Each change is in the audit log, with what changed.
    let (_, log) = s
        .get(&format!(
            "/api/audit-log?target_type=quick_reply&target_id={id}"
        ))
        .await;
    let entries: Vec<(String, Value, Value)> = log["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_string(),
                e["before"].clone(),
                e["after"].clone(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "quick_reply.delete".to_string(),
                json!({"shortcut": "ty", "text": "Thanks!"}),
                Value::Null
            ),
            (
                "quick_reply.update".to_string(),
                json!({"shortcut": "thanks", "text": "Thank you, {{contact.first_name}}!"}),
                json!({"shortcut": "ty", "text": "Thanks!"})
            ),
            (
                "quick_reply.create".to_string(),
                Value::Null,
                json!({"shortcut": "thanks", "text": "Thank you, {{contact.first_name}}!"})
            ),
        ],
        "an edit that changes nothing leaves no entry; refusals leave none"
    );
}
both!(saved_checked_and_found);

async fn the_team_reads_supervisors_write(b: Backend) {
    let s = Setup::new(b).await;
    let r = create(&s, "greet", "Hello {{contact.name}}").await;
    let path = format!("/api/quick-replies/{}", r["id"]);
    for role in ["agent", "sales", "manager"] {
        let m = s
            .member(&format!("{role}@qr.test"), role, &["default"])
            .await;
        let (code, page) = s
            .as_user(&m.token, "GET", "/api/quick-replies?q=greet", None)
            .await;
        assert_eq!(code, 200, "{role}: {page}");
        assert_eq!(shortcuts(&page), ["greet"], "{role}");
        let (code, one) = s.as_user(&m.token, "GET", &path, None).await;
        assert_eq!((code, &one), (200, &r), "{role}");
        let writes = [
            (
                "POST",
                "/api/quick-replies".to_string(),
                Some(json!({"shortcut": format!("by-{role}"), "text": "Hi"})),
            ),
            ("PATCH", path.clone(), Some(json!({"text": "Hi there"}))),
        ];
        for (method, p, body) in writes {
            let got = s.as_user(&m.token, method, &p, body).await;
            if role == "manager" {
                assert!(got.0 == 200 || got.0 == 201, "{role} {method}: {got:?}");
            } else {
                assert_error(&format!("{role} {method} {p}"), got, 403);
            }
        }
        if role != "manager" {
            let got = s.as_user(&m.token, "DELETE", &path, None).await;
            assert_error(&format!("{role} DELETE"), got, 403);
            // The refusal came before anything was looked up: no such id is 403 too.
            let got = s
                .as_user(
                    &m.token,
                    "PATCH",
                    "/api/quick-replies/999999",
                    Some(json!({})),
                )
                .await;
            assert_error(&format!("{role} PATCH a missing one"), got, 403);
        }
    }
    let marketing = s
        .member("marketing@qr.test", "marketing", &["default"])
        .await;
    for (method, p) in [
        ("GET", "/api/quick-replies".to_string()),
        ("GET", path.clone()),
    ] {
        let got = s.as_user(&marketing.token, method, &p, None).await;
        assert_error(&format!("marketing {method} {p}"), got, 403);
    }
    // What the agent tried left the quick reply as the manager made it.
    let (_, now) = s.get(&path).await;
    assert_eq!(now["text"], "Hi there");
}
both!(the_team_reads_supervisors_write);
