//! Auth hardening (issue 12, item 8) as a browser and an operator meet it, end to end:
//! the login cookie and its Origin rule (another site's page can neither act nor listen
//! as the member), error bodies without the database's or WAHA's words, and the warning
//! for a hub reachable beyond loopback without a webhook HMAC key.

mod common;

use std::time::Duration;

use common::auth::{env, has_attr, token_cookie, try_login};
use common::{
    login, status_json, Backend, Hub, Options, Setup, Sim, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD,
};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite;

// ---------------------------------------------------------------- 5. the cookie

async fn ws_with(url: &str, query: &str, headers: &[(&str, &str)]) -> Result<Value, u16> {
    use futures_util::StreamExt;
    use tungstenite::client::IntoClientRequest;
    let mut req = format!("{}/ws{query}", url.replacen("http://", "ws://", 1))
        .into_client_request()
        .expect("request");
    for (k, v) in headers {
        req.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut stream, _)) => {
            let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("a frame")
                .expect("open")
                .expect("frame");
            Ok(serde_json::from_str(first.to_text().expect("text")).expect("json"))
        }
        Err(tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("websocket: {e}"),
    }
}

fn with_cookie(
    r: reqwest::RequestBuilder,
    cookie: &str,
    extra: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    extra
        .iter()
        .fold(r.header("cookie", cookie), |r, (k, v)| r.header(*k, *v))
}

async fn the_cookie_is_hardened_and_bound_to_the_hubs_origin(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: env(&[("TICKHUB_TOKEN_TTL_HOURS", "2")]),
            ..Default::default()
        },
    )
    .await;
    let url = s.hub.url.clone();
    let (code, body, h) = try_login(&s.http, &url, ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;
    assert_eq!(code, 200, "{body}");
    let set = token_cookie(&h);
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=7200"] {
        assert!(has_attr(&set, attr), "{attr} missing: {set}");
    }
    assert!(!has_attr(&set, "Secure"), "plain http: no Secure: {set}");
    let cookie = set.split(';').next().expect("name=value").to_string();
    let register = json!({"name": "default"});

    // Reading with the cookie needs nothing more, and nothing lets another origin read it.
    let r = s
        .http
        .get(format!("{url}/api/auth/me"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("me");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers().get("access-control-allow-origin").is_none(),
        "no CORS: another origin's script cannot read the answer"
    );

    // Acting with the cookie: refused without an Origin of this hub or the custom header.
    for extra in [
        &[][..],
        &[("origin", "http://evil.example")][..],
        &[("origin", "null")][..],
        &[
            ("origin", "http://evil.example"),
            ("x-tickhub-request", "0"),
        ][..],
    ] {
        let (code, r) = s
            .request(Method::POST, "/api/sessions", |r| {
                with_cookie(r, &cookie, extra).json(&register)
            })
            .await;
        assert_eq!(code, 403, "{extra:?}: {r}");
        assert_eq!(r["error"]["code"], "cross_origin_refused", "{r}");
    }
    let own = url.as_str();
    for extra in [&[("origin", own)][..], &[("x-tickhub-request", "1")][..]] {
        let (code, r) = s
            .request(Method::POST, "/api/sessions", |r| {
                with_cookie(r, &cookie, extra).json(&register)
            })
            .await;
        assert_eq!(code, 200, "{extra:?}: {r}");
    }
    // A bearer token is never sent by a browser on its own: no Origin rule for it.
    let (code, r) = s
        .request(Method::POST, "/api/sessions", |r| {
            r.bearer_auth(&s.token)
                .header("origin", "http://evil.example")
                .json(&register)
        })
        .await;
    assert_eq!(code, 200, "{r}");

    // Listening with the cookie: only the hub's own pages.
    for headers in [
        vec![
            ("cookie", cookie.as_str()),
            ("origin", "http://evil.example"),
        ],
        vec![("cookie", cookie.as_str())],
    ] {
        assert_eq!(ws_with(&url, "", &headers).await, Err(403), "{headers:?}");
    }
    let hello = ws_with(&url, "", &[("cookie", cookie.as_str()), ("origin", own)])
        .await
        .expect("the hub's own page listens");
    assert_eq!(hello["type"], "hello", "{hello}");
    let hello = ws_with(
        &url,
        &format!("?token={}", s.token),
        &[("origin", "http://evil.example")],
    )
    .await
    .expect("a token in the URL is not the cookie");
    assert_eq!(hello["type"], "hello");

    // Logging out through the cookie clears it; the cookie stops working.
    let r = s
        .http
        .post(format!("{url}/api/auth/logout"))
        .header("cookie", &cookie)
        .header("x-tickhub-request", "1")
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 204);
    let cleared = token_cookie(r.headers());
    assert!(
        has_attr(&cleared, "Max-Age=0") && has_attr(&cleared, "HttpOnly"),
        "{cleared}"
    );
    let (code, _) = s
        .request(Method::GET, "/api/auth/me", |r| {
            with_cookie(r, &cookie, &[])
        })
        .await;
    assert_eq!(code, 401);

    // A hub public over https: the cookie is Secure, and its public origin is its own.
    // (No WAHA behind it: a WAHA would be told to call that public URL, off this machine.)
    let db = TestDb::new(b).await;
    let https = Hub::start(
        &db,
        "http://127.0.0.1:9",
        env(&[("TICKHUB_PUBLIC_URL", "https://hub.example.com/")]),
    )
    .await;
    https.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    let (code, _, h) = try_login(&s.http, &https.url, ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;
    assert_eq!(code, 200);
    let set = token_cookie(&h);
    assert!(
        has_attr(&set, "Secure") && has_attr(&set, "Max-Age=2592000"),
        "{set}"
    );
    let cookie = set.split(';').next().expect("name=value").to_string();
    for (origin, expected) in [
        ("https://evil.example", 403),
        ("https://hub.example.com", 204),
    ] {
        let r = s
            .http
            .post(format!("{}/api/auth/logout", https.url))
            .header("cookie", &cookie)
            .header("origin", origin)
            .send()
            .await
            .expect("logout");
        assert_eq!(r.status().as_u16(), expected, "{origin}");
    }
}
both!(the_cookie_is_hardened_and_bound_to_the_hubs_origin);

// ---------------------------------------------------------------- 6. error bodies

/// A WAHA that answers every call with a 500 whose body holds `secret`.
async fn failing_waha(secret: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!(
                    r#"{{"statusCode":500,"message":"{secret}","exception":{{"stack":"Error: {secret}\n at /app/dist/core.js:1:1"}}}}"#
                );
                let response = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

async fn error_bodies_never_carry_database_or_waha_words(b: Backend) {
    // The database's words: a table gone under the hub.
    let s = Setup::with(
        b,
        Options {
            capture_logs: true,
            ..Default::default()
        },
    )
    .await;
    s.customer_writes("447700900001@c.us", "hello").await;
    let id = s.conversation_for("447700900001@c.us").await["id"]
        .as_i64()
        .expect("id");
    let sql = "ALTER TABLE notes RENAME TO notes_moved_away";
    s.db.exec(sql, &[sql]).await;
    let (code, r) = s.get(&format!("/api/conversations/{id}/notes")).await;
    assert_eq!(code, 503, "{r}");
    assert_eq!(r["error"]["code"], "database_error", "{r}");
    let text = r.to_string().to_lowercase();
    for raw in [
        "notes",
        "no such table",
        "relation",
        "does not exist",
        "sqlite",
        "postgres",
    ] {
        assert!(!text.contains(raw), "{raw:?} in the error body: {r}");
    }
    // The detail is in the log, for the operator.
    let detail = match b {
        Backend::Sqlite => "no such table: notes",
        Backend::Postgres => "relation \"notes\" does not exist",
    };
    s.hub.wait_for_log(detail, Duration::from_secs(10)).await;

    // WAHA's words: a WAHA answering 500 with its internals.
    let secret = "SECRET-WAHA-STACK-7f3a";
    let db = TestDb::new(b).await;
    let hub = Hub::start_logged(&db, &failing_waha(secret).await, vec![]).await;
    hub.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    let token = login(&s.http, &hub.url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = s
        .http
        .post(format!("{}/api/sessions", hub.url))
        .bearer_auth(&token)
        .json(&json!({"name": "default"}))
        .send()
        .await
        .expect("register");
    let (code, r) = status_json(r).await;
    assert_eq!(code, 502, "{r}");
    assert_eq!(r["error"]["code"], "waha_error", "{r}");
    assert!(
        !r.to_string().contains(secret),
        "WAHA's body in the error: {r}"
    );
    assert!(!r.to_string().contains("core.js"), "{r}");
    hub.wait_for_log(secret, Duration::from_secs(10)).await;
}
both!(error_bodies_never_carry_database_or_waha_words);

// ---------------------------------------------------------------- 7. the start-up warning

const WARNING: &str = "listening beyond loopback without WAHA_WEBHOOK_HMAC_KEY";

async fn a_hub_beyond_loopback_without_hmac_warns_once(b: Backend) {
    let sim = Sim::start().await;
    let cases: [(&[(&str, &str)], bool); 3] = [
        (&[("TICKHUB_BIND", "0.0.0.0:0")], true),
        (
            &[
                ("TICKHUB_BIND", "0.0.0.0:0"),
                ("WAHA_WEBHOOK_HMAC_KEY", "a-key"),
            ],
            false,
        ),
        (&[("TICKHUB_BIND", "127.0.0.1:0")], false),
    ];
    for (vars, warns) in cases {
        let db = TestDb::new(b).await;
        let mut hub = Hub::start_logged(&db, &sim.url, env(vars)).await;
        // It serves (and so has finished starting) before it is stopped.
        let r = reqwest::get(format!("{}/healthz", hub.url))
            .await
            .expect("healthz");
        assert_eq!(r.status().as_u16(), 200);
        let logs = hub.stop_and_logs().await;
        let n = logs.matches(WARNING).count();
        assert_eq!(n, usize::from(warns), "{vars:?}: warned {n} times:\n{logs}");
    }
}
both!(a_hub_beyond_loopback_without_hmac_warns_once);
