//! Secrets at rest (docs/integrations.md): the WAHA API key stored in the hub's settings
//! and an outbound webhook's secret are encrypted in the database (their plaintext is in
//! no byte of the SQLite files, no row of the PostgreSQL tables), and after `tickhub
//! rotate-secrets` to a new key a hub holding only the new key still reaches WAHA with
//! the stored key and still signs deliveries with the stored secret.

mod common;

use std::process::Command;
use std::time::Duration;

use common::subscriber::{expected_signature, Subscriber};
use common::{envelope, inbound_payload, Backend, Hub, Setup, Sim, TestDb};
use serde_json::json;

const WAHA_KEY: &str = "waha-api-key-plaintext-7731";
const HOOK_SECRET: &str = "hook-secret-plaintext-4410";
const SMTP_PASSWORD: &str = "smtp-password-plaintext-5521";
/// The key rotated to (base64 of 32 bytes).
const NEW_KEY: &str = "bmV3LXRpY2todWItc2VjcmV0LWtleS0zMi1ieXRlcyE=";
const WAIT: Duration = Duration::from_secs(60);

fn env(current: &str, previous: Option<&str>) -> Vec<(String, String)> {
    let mut v = vec![
        ("TICKHUB_SECRET_KEY".to_string(), current.to_string()),
        ("TICKHUB_OUTBOUND_POLL_MS".to_string(), "50".to_string()),
        (
            "TICKHUB_OUTBOUND_RETRY_BASE_MS".to_string(),
            "50".to_string(),
        ),
        (
            "TICKHUB_OUTBOUND_RETRY_MAX_MS".to_string(),
            "400".to_string(),
        ),
        (
            "TICKHUB_LOGIN_RATE_PER_IP".to_string(),
            "100000".to_string(),
        ),
        (
            "TICKHUB_LOGIN_RATE_PER_ACCOUNT".to_string(),
            "100000".to_string(),
        ),
    ];
    if let Some(p) = previous {
        v.push(("TICKHUB_SECRET_KEY_PREVIOUS".to_string(), p.to_string()));
    }
    v
}

/// `tickhub rotate-secrets` against the test's database with these keys.
fn rotate(db: &TestDb, current: &str, previous: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickhub"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env("TICKHUB_SECRET_KEY", current)
        .arg("rotate-secrets");
    if let Some(p) = previous {
        cmd.env("TICKHUB_SECRET_KEY_PREVIOUS", p);
    }
    cmd.output().expect("run tickhub rotate-secrets")
}

/// What the database holds, as text: every byte of the SQLite files, or every row of the
/// PostgreSQL tables that could hold a secret.
async fn at_rest(db: &TestDb) -> String {
    match db.backend {
        Backend::Sqlite => {
            let file = db.url.trim_start_matches("sqlite://").to_string();
            let mut all = Vec::new();
            for f in [file.clone(), format!("{file}-wal"), format!("{file}-shm")] {
                if let Ok(bytes) = std::fs::read(&f) {
                    all.extend(bytes);
                }
            }
            assert!(all.len() > 4096, "the database file was not read");
            String::from_utf8_lossy(&all).into_owned()
        }
        Backend::Postgres => {
            let mut all = String::new();
            for t in [
                "hub_secrets",
                "webhook_subscriptions",
                "webhook_deliveries",
                "audit_log",
                "hub_meta",
            ] {
                all.extend(
                    db.texts(&format!("SELECT CAST(t AS TEXT) FROM {t} t"))
                        .await,
                );
            }
            all
        }
    }
}

async fn sealed_values(db: &TestDb) -> Vec<String> {
    let mut v = db.texts("SELECT value FROM hub_secrets").await;
    v.extend(db.texts("SELECT secret FROM webhook_subscriptions").await);
    v
}

async fn customer(s: &Setup, chat: &str, text: &str) {
    let env = envelope(
        "message",
        inbound_payload(chat, &format!("false_{chat}_{text}"), text),
    );
    let (code, r) = s.webhook(&env).await;
    assert_eq!(code, 200, "{r}");
}

async fn signed_delivery_of(sub: &Subscriber, text: &str) {
    let got = sub
        .wait_accepted(WAIT, |g| g.iter().any(|r| r.json()["data"]["text"] == text))
        .await;
    let r = got
        .iter()
        .find(|r| r.json()["data"]["text"] == text)
        .expect("delivered");
    assert_eq!(
        r.headers.get("x-tickhub-signature"),
        Some(&expected_signature(HOOK_SECRET, &r.body)),
        "signed with the stored secret"
    );
}

async fn secrets_are_sealed_at_rest_and_survive_rotation(b: Backend) {
    let db = TestDb::new(b).await;
    // This WAHA refuses every call without its key; the hub has none in its environment.
    let sim = Sim::start_with(&["--api-key".to_string(), WAHA_KEY.to_string()]).await;
    let hub = Hub::start(&db, &sim.url, env(common::TEST_SECRET_KEY, None)).await;
    hub.create_admin(common::ADMIN_EMAIL, common::ADMIN_PASSWORD);
    let http = common::http_client();
    let token = common::login(&http, &hub.url, common::ADMIN_EMAIL, common::ADMIN_PASSWORD).await;
    let mut s = Setup {
        hub,
        sim,
        db,
        token,
        http,
    };

    let (code, r) = s.get("/api/settings/waha").await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r, json!({"api_key_set": false, "api_key_source": "none"}));
    let (code, r) = s
        .put("/api/settings/waha", json!({"api_key": "bad\u{1}key"}))
        .await;
    assert_eq!(code, 422, "{r}");
    assert_eq!(r["error"]["field"], "api_key");
    let (code, r) = s
        .put("/api/settings/waha", json!({"api_key": WAHA_KEY}))
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        r,
        json!({"api_key_set": true, "api_key_source": "settings"})
    );

    // With the stored key, WAHA answers the hub: a session registers and starts.
    let (code, r) = s.post("/api/sessions", json!({"name": "default"})).await;
    assert!(code == 201 || code == 200, "{r}");
    s.wait_session_status("default", "WORKING").await;

    let sub = Subscriber::start(200).await;
    let (code, r) = s
        .post(
            "/api/webhook-subscriptions",
            json!({"url": sub.url, "events": ["message.created"], "secret": HOOK_SECRET}),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    customer(&s, "447700820001@c.us", "before-rotation").await;
    signed_delivery_of(&sub, "before-rotation").await;
    let (code, r) = s
        .put("/api/settings/smtp", json!({"password": SMTP_PASSWORD}))
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(
        r,
        json!({"configured": false, "password_set": true, "password_source": "settings"})
    );

    // Sealed at rest: present, but not readable.
    let before = sealed_values(&s.db).await;
    assert_eq!(before.len(), 3, "{before:?}");
    assert!(before.iter().all(|v| v.starts_with("v1:")), "{before:?}");
    let stored = at_rest(&s.db).await;
    assert!(
        stored.contains("v1:"),
        "the sealed values are where the check looks"
    );
    for plain in [WAHA_KEY, HOOK_SECRET, SMTP_PASSWORD] {
        assert!(
            !stored.contains(plain),
            "{plain} is readable in the database"
        );
    }

    // Rotation, with the hub stopped.
    let status = s.hub.terminate(Duration::from_secs(30)).await;
    assert!(status.success(), "{status}");
    // Without the old key nothing can be opened: it fails, says why, changes nothing.
    let out = rotate(&s.db, NEW_KEY, None);
    assert!(
        !out.status.success(),
        "a rotation without the old key succeeded"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TICKHUB_SECRET_KEY_PREVIOUS"), "{err}");
    assert_eq!(sealed_values(&s.db).await, before);
    let out = rotate(&s.db, NEW_KEY, Some(common::TEST_SECRET_KEY));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("re-encrypted 3 secret(s)"), "{said}");
    let after = sealed_values(&s.db).await;
    assert!(
        after
            .iter()
            .all(|v| v.starts_with("v1:") && !before.contains(v)),
        "{after:?}"
    );
    let stored = at_rest(&s.db).await;
    for plain in [WAHA_KEY, HOOK_SECRET, SMTP_PASSWORD] {
        assert!(
            !stored.contains(plain),
            "{plain} is readable after rotation"
        );
    }
    // Once more: nothing left to do.
    let out = rotate(&s.db, NEW_KEY, Some(common::TEST_SECRET_KEY));
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-encrypted 0 secret(s)"));

    // A hub holding only the new key still reaches WAHA and still signs.
    let hub = Hub::start(&s.db, &s.sim.url, env(NEW_KEY, None)).await;
    s.hub = hub;
    let (code, r) = s.get("/api/settings/waha").await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["api_key_set"], true);
    let (code, r) = s.get("/api/settings/smtp").await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["password_source"], "settings", "{r}");
    let (code, r) = s.post("/api/sessions", json!({"name": "second"})).await;
    assert!(code == 201 || code == 200, "{r}");
    s.wait_session_status("second", "WORKING").await;
    customer(&s, "447700820002@c.us", "after-rotation").await;
    signed_delivery_of(&sub, "after-rotation").await;
}
both!(secrets_are_sealed_at_rest_and_survive_rotation);
