//! API keys for server-to-server use (docs/integrations.md): shown once, stored hashed,
//! accepted as `Authorization: Bearer` or `X-Api-Key`, bounded by their scopes (403) and
//! by their maker's role as it is now (403), refused once revoked or expired (401).

mod common;

use std::time::Duration;

use common::{Backend, Setup};
use serde_json::{json, Value};

async fn with_key(
    s: &Setup,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    s.as_user(key, method, path, body).await
}

async fn create_key(s: &Setup, token: &str, body: Value) -> (u16, Value) {
    s.as_user(token, "POST", "/api/api-keys", Some(body)).await
}

async fn keys_are_scoped_bounded_and_revocable(b: Backend) {
    let s = Setup::new(b).await;
    let (code, r) = create_key(
        &s,
        &s.token,
        json!({"name": "crm sync", "scopes": ["conversations:read", "contacts:read"]}),
    )
    .await;
    assert_eq!(code, 201, "{r}");
    let key = r["key"].as_str().expect("the key, once").to_string();
    let key_id = r["id"].as_i64().expect("id");
    assert!(key.starts_with("thk_api_"), "{key}");
    assert_eq!(r["scopes"], json!(["conversations:read", "contacts:read"]));

    // Held as a hash only; never listed again.
    let (code, list) = s.get("/api/api-keys").await;
    assert_eq!(code, 200);
    assert!(
        !list.to_string().contains(&key),
        "a listed key shows its secret"
    );
    let stored = s.db.texts("SELECT key_hash FROM api_keys").await;
    assert!(
        stored.iter().all(|h| h != &key && h.len() == 64),
        "{stored:?}"
    );
    let (code, one) = s.get(&format!("/api/api-keys/{key_id}")).await;
    assert_eq!(code, 200);
    assert!(one.get("key").is_none());

    // Within its scopes, through either header.
    let (code, r) = with_key(&s, &key, "GET", "/api/conversations", None).await;
    assert_eq!(code, 200, "{r}");
    let (code, r) = s
        .request(reqwest::Method::GET, "/api/contacts", |r| {
            r.header("X-Api-Key", &key)
        })
        .await;
    assert_eq!(code, 200, "{r}");

    // Outside them: 403, naming the scope.
    let (code, r) = with_key(
        &s,
        &key,
        "POST",
        "/api/contacts",
        Some(json!({"session": "default", "phone": "447700900111"})),
    )
    .await;
    assert_eq!(code, 403, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("contacts:write"),
        "{r}"
    );
    for (m, p) in [
        ("GET", "/api/team-members"),
        ("GET", "/api/api-keys"),
        ("GET", "/api/settings/waha"),
        ("GET", "/api/webhook-subscriptions"),
        ("GET", "/api/audit-log"),
        ("GET", "/api/auth/me"),
    ] {
        let (code, r) = with_key(&s, &key, m, p, None).await;
        assert_eq!(code, 403, "{m} {p}: {r}");
    }
    // Not the agents' websocket either.
    let ws = tokio_tungstenite::connect_async(format!(
        "{}/ws?token={key}",
        s.hub.url.replace("http://", "ws://")
    ))
    .await;
    match ws {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        Err(e) => panic!("the websocket refused an API key otherwise: {e}"),
        Ok(_) => panic!("an API key opened the websocket"),
    }

    // Unknown scopes and a past expiry are refused, naming the field.
    let (code, r) = create_key(
        &s,
        &s.token,
        json!({"name": "x", "scopes": ["contacts:read", "root"]}),
    )
    .await;
    assert_eq!(code, 422, "{r}");
    assert_eq!(r["error"]["field"], "scopes[1]");
    let (code, r) = create_key(
        &s,
        &s.token,
        json!({"name": "x", "scopes": ["contacts:read"], "expires_at": 1000}),
    )
    .await;
    assert_eq!(code, 422, "{r}");
    assert_eq!(r["error"]["field"], "expires_at");

    // Only admins make keys.
    let manager = s.member("mgr@keys.test", "manager", &["default"]).await;
    let (code, r) = create_key(
        &s,
        &manager.token,
        json!({"name": "x", "scopes": ["contacts:read"]}),
    )
    .await;
    assert_eq!(code, 403, "{r}");

    // A key acts as its maker as the maker is now: an admin's key with contacts:write
    // stops writing contacts once its maker is an agent (agents do not edit contacts).
    let (code, second) = s
        .post(
            "/api/team-members",
            json!({"email": "ops@keys.test", "name": "Ops", "role": "admin", "password": common::MEMBER_PASSWORD,
                "sessions": ["default"]}),
        )
        .await;
    assert_eq!(code, 201, "{second}");
    let ops = common::login(
        &s.http,
        &s.hub.url,
        "ops@keys.test",
        common::MEMBER_PASSWORD,
    )
    .await;
    let (code, r) = create_key(
        &s,
        &ops,
        json!({"name": "writer", "scopes": ["contacts:write"]}),
    )
    .await;
    assert_eq!(code, 201, "{r}");
    let writer = r["key"].as_str().expect("key").to_string();
    let contact = |phone: &str| Some(json!({"session": "default", "phone": phone}));
    let (code, r) = with_key(
        &s,
        &writer,
        "POST",
        "/api/contacts",
        contact("447700900112"),
    )
    .await;
    assert_eq!(code, 201, "{r}");
    let (code, r) = s
        .patch(
            &format!("/api/team-members/{}", second["id"]),
            json!({"role": "agent", "sessions": ["default"]}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, r) = with_key(
        &s,
        &writer,
        "POST",
        "/api/contacts",
        contact("447700900113"),
    )
    .await;
    assert_eq!(code, 403, "{r}");

    // Revoked: 401, and the list says when.
    let (code, _) = s
        .request(
            reqwest::Method::DELETE,
            &format!("/api/api-keys/{key_id}"),
            |r| r.bearer_auth(&s.token),
        )
        .await;
    assert_eq!(code, 204);
    let (code, r) = with_key(&s, &key, "GET", "/api/conversations", None).await;
    assert_eq!(code, 401, "{r}");
    let (_, one) = s.get(&format!("/api/api-keys/{key_id}")).await;
    assert!(one["revoked_at"].is_i64(), "{one}");

    // Expired: 401.
    let soon = common::now_ms() + 1500;
    let (code, r) = create_key(
        &s,
        &s.token,
        json!({"name": "brief", "scopes": ["conversations:read"], "expires_at": soon}),
    )
    .await;
    assert_eq!(code, 201, "{r}");
    let brief = r["key"].as_str().expect("key").to_string();
    let (code, _) = with_key(&s, &brief, "GET", "/api/conversations", None).await;
    assert_eq!(code, 200);
    while common::now_ms() <= soon + 50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, r) = with_key(&s, &brief, "GET", "/api/conversations", None).await;
    assert_eq!(code, 401, "{r}");

    // Audited without the key.
    let (_, audit) = s.get("/api/audit-log?limit=200").await;
    let text = audit.to_string();
    assert!(
        text.contains("api_key.create") && text.contains("api_key.revoke"),
        "{text}"
    );
    assert!(!text.contains(&key) && !text.contains(&writer));
}
both!(keys_are_scoped_bounded_and_revocable);
