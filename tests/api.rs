//! Contract §1 and §3: auth, lists and cursors, contacts, OpenAPI, health, the CLI.

mod common;

use std::collections::HashSet;

use common::{assert_error, login, urlencode, Backend, Setup, Socket, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// The HTTP status a refused websocket upgrade answered with.
async fn ws_refusal(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("the websocket upgrade to {url} was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("expected an HTTP refusal from {url}, got {e}"),
    }
}

async fn auth_rules(b: Backend) {
    let s = Setup::new(b).await;
    let url = &s.hub.url;
    // Login shape.
    let (code, body) = s
        .request(Method::POST, "/api/auth/login", |r| {
            r.json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        })
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(
        body["token"].as_str().is_some_and(|t| t.len() >= 16),
        "{body}"
    );
    let u = &body["user"];
    assert!(u["id"].as_i64().is_some(), "{body}");
    assert_eq!(u["email"], ADMIN_EMAIL);
    assert_eq!(u["name"], "Test Admin");
    assert_eq!(u["role"], "admin");
    assert!(
        u.get("password_hash").is_none() && !body.to_string().contains("argon2"),
        "no password hash leaks: {body}"
    );

    // Wrong credentials.
    for (email, password) in [
        (ADMIN_EMAIL, "wrong-password"),
        ("nobody@test.tickhub", ADMIN_PASSWORD),
        (ADMIN_EMAIL, ""),
    ] {
        let got = s
            .request(Method::POST, "/api/auth/login", |r| {
                r.json(&json!({"email": email, "password": password}))
            })
            .await;
        assert_error(&format!("login {email}/{password}"), got, 401);
    }
    let got = s
        .request(Method::POST, "/api/auth/login", |r| {
            r.header("content-type", "application/json")
                .body("{not json")
        })
        .await;
    assert_error("login with a malformed body", got, 400);

    // No token, a bad token, a token from another scheme.
    let conversations = "/api/conversations";
    assert_error("no token", s.get_anonymous(conversations).await, 401);
    let got = s
        .request(Method::GET, conversations, |r| {
            r.bearer_auth("thk_not_a_token")
        })
        .await;
    assert_error("bad token", got, 401);
    let got = s
        .request(Method::GET, conversations, |r| {
            r.header("authorization", format!("Basic {}", s.token))
        })
        .await;
    assert_error("basic auth", got, 401);
    assert_eq!(s.get("/api/conversations").await.0, 200);
    let me = s.get("/api/auth/me").await.1;
    assert_eq!(me["email"], ADMIN_EMAIL, "{me}");

    // The websocket without or with a bad token: 401 at the upgrade.
    let ws = url.replacen("http://", "ws://", 1);
    assert_eq!(ws_refusal(&format!("{ws}/ws")).await, 401);
    assert_eq!(ws_refusal(&format!("{ws}/ws?token=thk_bad")).await, 401);
    assert_eq!(ws_refusal(&format!("{ws}/ws?token=")).await, 401);
    let sock = Socket::connect(url, &s.token, None).await;
    assert_eq!(
        sock.hello["data"]["user"]["email"], ADMIN_EMAIL,
        "{}",
        sock.hello
    );
    assert!(
        sock.hello["data"]["node"]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{}",
        sock.hello
    );
    assert_eq!(
        sock.hello["data"]["seq"], sock.hello["seq"],
        "{}",
        sock.hello
    );

    // Logout revokes the token.
    let other = login(&s.http, url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (code, body) = s
        .request(Method::POST, "/api/auth/logout", |r| r.bearer_auth(&other))
        .await;
    assert!((200..300).contains(&code), "{code}: {body}");
    let got = s
        .request(Method::GET, conversations, |r| r.bearer_auth(&other))
        .await;
    assert_error("revoked token", got, 401);
    assert_eq!(ws_refusal(&format!("{ws}/ws?token={other}")).await, 401);
}
both!(auth_rules);

// ---------------------------------------------------------------- pagination

async fn conversation_list_pages_newest_first(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chats: Vec<String> = (1..=5).map(|i| format!("44770200000{i}@c.us")).collect();
    for c in &chats {
        let id = s.customer_writes(c, &format!("hello from {c}")).await;
        ws.expect("message.created", |d| d["waha_id"] == id.as_str())
            .await;
    }
    // The first customer writes again: now the most recent.
    let id = s.customer_writes(&chats[0], "me again").await;
    ws.expect("message.created", |d| d["waha_id"] == id.as_str())
        .await;
    let expected: Vec<&str> = vec![&chats[0], &chats[4], &chats[3], &chats[2], &chats[1]];

    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            None => "/api/conversations?limit=2".to_string(),
            Some(c) => format!("/api/conversations?limit=2&cursor={}", urlencode(c)),
        };
        let (code, page) = s.get(&path).await;
        assert_eq!(code, 200, "{path}: {page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(
            items
                .iter()
                .map(|c| c["chat_id"].as_str().unwrap().to_string()),
        );
        pages += 1;
        assert!(pages <= 4, "the cursors do not end: {seen:?}");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => {
                assert!(page["next_cursor"].is_null(), "{page}");
                break;
            }
        }
    }
    assert_eq!(
        seen, expected,
        "all five, newest activity first, none repeated"
    );
    let uniq: HashSet<_> = seen.iter().collect();
    assert_eq!(uniq.len(), 5);

    // Bad paging parameters.
    assert_error("limit=0", s.get("/api/conversations?limit=0").await, 400);
    assert_error("limit=-1", s.get("/api/conversations?limit=-1").await, 400);
    assert_error(
        "limit=abc",
        s.get("/api/conversations?limit=abc").await,
        400,
    );
    assert_error(
        "garbage cursor",
        s.get("/api/conversations?cursor=%%%garbage").await,
        400,
    );
    assert_error(
        "garbage cursor 2",
        s.get("/api/conversations?cursor=bm90IGEgY3Vyc29y").await,
        400,
    );
    assert_error(
        "bad status filter",
        s.get("/api/conversations?status=sleeping").await,
        400,
    );
    let page = s.get("/api/conversations?limit=200").await.1;
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert!(page["next_cursor"].is_null(), "{page}");
}
both!(conversation_list_pages_newest_first);

async fn message_list_pages_newest_first(b: Backend) {
    let s = Setup::new(b).await;
    let mut ws = s.socket(None).await;
    let chat = "447702000010@c.us";
    let mut ids = Vec::new();
    for i in 1..=5 {
        let id = s.customer_writes(chat, &format!("message {i}")).await;
        ws.expect("message.created", |d| d["waha_id"] == id.as_str())
            .await;
        ids.push(id);
    }
    let conv = s.conversation_for(chat).await["id"].as_i64().unwrap();
    let mut texts = Vec::new();
    let mut msg_ids: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let path = match &cursor {
            None => format!("/api/conversations/{conv}/messages?limit=2"),
            Some(c) => format!(
                "/api/conversations/{conv}/messages?limit=2&cursor={}",
                urlencode(c)
            ),
        };
        let (code, page) = s.get(&path).await;
        assert_eq!(code, 200, "{page}");
        for m in page["items"].as_array().unwrap() {
            texts.push(m["text"].as_str().unwrap().to_string());
            msg_ids.push(m["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        texts,
        [
            "message 5",
            "message 4",
            "message 3",
            "message 2",
            "message 1"
        ]
    );
    assert!(msg_ids.windows(2).all(|w| w[0] > w[1]), "{msg_ids:?}");
    assert_error(
        "limit=0",
        s.get(&format!("/api/conversations/{conv}/messages?limit=0"))
            .await,
        400,
    );
    assert_error(
        "bad cursor",
        s.get(&format!("/api/conversations/{conv}/messages?cursor=xyz"))
            .await,
        400,
    );
    assert_error(
        "unknown conversation",
        s.get("/api/conversations/777777/messages").await,
        404,
    );
    assert_error("unknown message", s.get("/api/messages/777777").await, 404);
    assert_error(
        "unknown conversation",
        s.get("/api/conversations/777777").await,
        404,
    );
    assert_error("no such route", s.get("/api/no-such-thing").await, 404);
}
both!(message_list_pages_newest_first);

// ---------------------------------------------------------------- contacts

async fn contacts_crud(b: Backend) {
    let s = Setup::new(b).await;
    let (code, c) = s
        .post("/api/contacts", json!({"session": "default", "phone": "+44 7700 900123".replace(' ', ""), "name": "Ann Example", "email": "ann@example.com"}))
        .await;
    assert_eq!(code, 201, "{c}");
    let id = c["id"].as_i64().expect("id");
    assert_eq!(c["name"], "Ann Example");
    assert_eq!(c["chat_id"], "447700900123@c.us", "{c}");
    assert_eq!(c["email"], "ann@example.com");

    let (code, dup) = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "447700900123", "name": "Ann Again"}),
        )
        .await;
    assert_error("duplicate contact", (code, dup), 409);
    // Contract §3c: a phone that cannot be a number is 422 (naming the field).
    let bad = s
        .post(
            "/api/contacts",
            json!({"session": "default", "phone": "12ab"}),
        )
        .await;
    assert_eq!(bad.1["error"]["field"], "phone", "{}", bad.1);
    assert_error("bad phone", bad, 422);
    assert_error(
        "unknown session",
        s.post(
            "/api/contacts",
            json!({"session": "nope", "phone": "447700900124"}),
        )
        .await,
        400,
    );
    assert_error(
        "missing phone",
        s.post("/api/contacts", json!({"session": "default"})).await,
        400,
    );

    let (code, got) = s.get(&format!("/api/contacts/{id}")).await;
    assert_eq!(code, 200);
    assert_eq!(got, c, "GET returns what POST did");

    let (code, patched) = s
        .request(Method::PATCH, &format!("/api/contacts/{id}"), |r| {
            r.bearer_auth(&s.token)
                .json(&json!({"notes": "VIP", "email": "ann@new.example"}))
        })
        .await;
    assert_eq!(code, 200, "{patched}");
    assert_eq!(patched["notes"], "VIP");
    assert_eq!(patched["email"], "ann@new.example");
    assert_eq!(
        patched["name"], "Ann Example",
        "a patch keeps what it does not name: {patched}"
    );
    assert_eq!(
        s.get(&format!("/api/contacts/{id}")).await.1["notes"],
        "VIP"
    );

    s.post(
        "/api/contacts",
        json!({"session": "default", "phone": "447700900555", "name": "Bob Other"}),
    )
    .await;
    let list = s.get("/api/contacts?q=ann").await.1;
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Ann Example")], "{list}");
    let list = s.get("/api/contacts?q=900555").await.1;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "search by phone: {list}"
    );
    let list = s.get("/api/contacts?q=zzzz").await.1;
    assert_eq!(list["items"], json!([]), "{list}");
    assert!(list["next_cursor"].is_null());
    let all = s.get("/api/contacts").await.1;
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "{all}");

    let contact = format!("/api/contacts/{id}");
    let delete = || s.request(Method::DELETE, &contact, |r| r.bearer_auth(&s.token));
    assert_eq!(delete().await.0, 204);
    assert_error("deleted contact", s.get(&contact).await, 404);
    assert_error("deleting twice", delete().await, 404);
    assert_error(
        "contacts without a token",
        s.get_anonymous("/api/contacts").await,
        401,
    );

    // A customer who writes in becomes a contact.
    s.customer_writes("447700900777@c.us", "hi").await;
    let mut found = Value::Null;
    for _ in 0..100 {
        found = s.get("/api/contacts?q=900777").await.1;
        if found["items"].as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(found["items"][0]["chat_id"], "447700900777@c.us", "{found}");
}
both!(contacts_crud);

// ---------------------------------------------------------------- documents and probes

async fn openapi_health_and_metrics(b: Backend) {
    let s = Setup::new(b).await;
    let (code, doc) = s.get_anonymous("/api/openapi.json").await;
    assert_eq!(code, 200);
    assert!(doc.is_object(), "openapi.json is a JSON document: {doc}");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/conversations/{id}/messages",
        "/webhooks/waha",
        "/api/auth/login",
        "/api/conversations",
        "/api/contacts",
        "/api/sessions",
        "/ws",
    ] {
        assert!(
            paths.contains_key(p),
            "openapi lacks {p}: {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    assert!(paths["/api/conversations/{id}/messages"]
        .get("post")
        .is_some());
    assert!(paths["/webhooks/waha"].get("post").is_some());

    for p in ["/healthz", "/readyz"] {
        assert_eq!(s.get_anonymous(p).await.0, 200, "{p}");
    }
    // Some traffic first, so counters exist.
    s.customer_writes("447702000020@c.us", "count me").await;
    s.conversation_for("447702000020@c.us").await;
    let r = s
        .http
        .get(format!("{}/metrics", s.hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("tickhub_"), "metrics: {text}");
    assert!(
        text.lines().any(|l| l.starts_with("# TYPE tickhub_")),
        "Prometheus text format: {text}"
    );
    assert!(text.contains("tickhub_webhooks_total"), "{text}");
}
both!(openapi_health_and_metrics);

async fn create_admin_twice_fails_clearly(b: Backend) {
    let s = Setup::new(b).await;
    let out = s.hub.run(&[
        "create-admin",
        "--email",
        ADMIN_EMAIL,
        "--name",
        "Again",
        "--password",
        "another-password",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        !out.status.success(),
        "create-admin with an existing email must fail; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        stderr.contains("exist") || stderr.contains("already") || stderr.contains("taken"),
        "a clear message: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    // The first admin still logs in with the first password.
    login(&s.http, &s.hub.url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // A new email works and that user can log in.
    let out = s.hub.run(&[
        "create-admin",
        "--email",
        "second@test.tickhub",
        "--name",
        "Second",
        "--password",
        "kettle-banjo-42",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    login(
        &s.http,
        &s.hub.url,
        "second@test.tickhub",
        "kettle-banjo-42",
    )
    .await;
}
both!(create_admin_twice_fails_clearly);

// ---------------------------------------------------------------- cookie auth

async fn cookie_authenticates_http_and_websocket(b: Backend) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let s = Setup::new(b).await;
    let r = s
        .http
        .post(format!("{}/api/auth/login", s.hub.url))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tickhub_token="))
        .expect("login sets the tickhub_token cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (code, body) = s
        .request(Method::GET, "/api/conversations", |r| {
            r.header("cookie", &cookie)
        })
        .await;
    assert_eq!(code, 200, "HTTP with the cookie: {body}");
    let mut req = format!("{}/ws", s.hub.url.replacen("http://", "ws://", 1))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    // As a browser on the hub's own page sends it (a cookie websocket needs it).
    req.headers_mut()
        .insert("origin", s.hub.url.parse().unwrap());
    let (mut stream, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("websocket with the cookie");
    use futures_util::StreamExt;
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
        .await
        .expect("a frame")
        .expect("open")
        .expect("frame");
    let v: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(v["type"], "hello", "{v}");
}
both!(cookie_authenticates_http_and_websocket);

// ---------------------------------------------------------------- sessions

async fn session_registration_configures_waha(b: Backend) {
    let key = "reg-hmac-key";
    let s = Setup::with(
        b,
        common::Options {
            hmac_key: Some(key.into()),
            ..Default::default()
        },
    )
    .await;
    // Registering again: 200, not a second session.
    let (code, again) = s.post("/api/sessions", json!({"name": "default"})).await;
    assert_eq!(code, 200, "{again}");
    assert_eq!(again["name"], "default");
    let list = s.get("/api/sessions").await.1;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_error(
        "bad session name",
        s.post("/api/sessions", json!({"name": "no spaces allowed"}))
            .await,
        400,
    );
    assert_error("unknown session", s.get("/api/sessions/nope").await, 404);

    // What WAHA was told: the hub's webhook URL, the events, the HMAC key.
    let info = s.sim.get("/api/sessions/default").await;
    let hooks = info["config"]["webhooks"]
        .as_array()
        .unwrap_or_else(|| panic!("{info}"));
    let hook = hooks
        .iter()
        .find(|h| h["url"] == format!("{}/webhooks/waha", s.hub.url).as_str())
        .unwrap_or_else(|| panic!("no webhook to the hub: {info}"));
    let events: Vec<&str> = hook["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.as_str())
        .collect();
    for e in [
        "message",
        "message.any",
        "message.ack",
        "message.reaction",
        "message.revoked",
        "session.status",
        "presence.update",
    ] {
        assert!(
            events.contains(&e) || events.contains(&"*"),
            "{e} missing: {hook}"
        );
    }
    assert_eq!(hook["hmac"]["key"], key, "{hook}");
    assert_eq!(
        hooks.len(),
        1,
        "registering twice must not add a second webhook: {info}"
    );
}
both!(session_registration_configures_waha);

// ---------------------------------------------------------------- presence and typing

async fn presence_and_typing_commands(b: Backend) {
    let s = Setup::new(b).await;
    let out = s.hub.run(&[
        "create-admin",
        "--email",
        "other@test.tickhub",
        "--name",
        "Other",
        "--password",
        "zebra-orchard-7",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let other_token = login(&s.http, &s.hub.url, "other@test.tickhub", "zebra-orchard-7").await;
    let mut me = s.socket(None).await;
    let mut other = Socket::connect(&s.hub.url, &other_token, None).await;
    let my_id = me.hello["data"]["user"]["id"].clone();

    me.send(json!({"type": "presence.set", "data": {"status": "busy"}}))
        .await;
    // (The first socket made me online before: that transition may come first.)
    let p = other
        .expect("presence.updated", |d| {
            d["user_id"] == my_id && d["cause"] == "set_by_member"
        })
        .await;
    assert_eq!(p["data"]["status"], "busy", "{p}");
    assert!(
        p["seq"].as_i64().is_some(),
        "presence is a logged event: {p}"
    );

    let id = s.customer_writes("447702000030@c.us", "typing test").await;
    let created = other
        .expect("message.created", |d| d["waha_id"] == id.as_str())
        .await;
    let conv = created["data"]["conversation_id"].clone();
    // Conversation fields on the first message.
    let c = other
        .expect("conversation.updated", |d| d["id"] == conv)
        .await;
    let d = &c["data"];
    assert!(
        ["bot", "pending", "open", "resolved"].contains(&d["status"].as_str().unwrap_or("")),
        "{d}"
    );
    assert!(d["assignee_id"].is_null(), "{d}");
    assert_eq!(d["unread"], 1, "{d}");
    assert_eq!(d["chat_id"], "447702000030@c.us", "{d}");
    me.send(json!({"type": "typing", "data": {"conversation_id": conv}}))
        .await;
    let t = other
        .expect("typing", |d| d["conversation_id"] == conv)
        .await;
    assert!(t["seq"].is_null(), "{t}");
    assert_eq!(t["data"]["who"], "agent", "{t}");
    assert_eq!(t["data"]["user_id"], my_id, "{t}");
    me.send(json!({"type": "typing", "data": {"conversation_id": 99999}}))
        .await;
    me.expect("error", |_| true).await;
}
both!(presence_and_typing_commands);
