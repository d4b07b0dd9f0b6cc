//! Auth hardening (issue 12, item 8), end to end on real hubs: login rate limits per
//! account and per address, password checks through a bounded pool, tokens that expire,
//! are revoked and purged, a member changing their password, and password strength at
//! `create-admin`. The cookie, error bodies and the start-up warning are in
//! `auth_hardening_web.rs`.

mod common;

use std::time::Duration;

use common::auth::{
    client_from, env, has_attr, me, member, retry_after, scalar, token_cookie, try_login,
};
use common::{login, Backend, Options, Setup, Socket, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite;

// ---------------------------------------------------------------- 1. rate limits

const VICTIM: &str = "victim@test.tickhub";
const VICTIM_PASSWORD: &str = "kettle-banjo-42";

async fn login_is_rate_limited_per_account_and_per_address(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: env(&[
                ("TICKHUB_LOGIN_RATE_PER_ACCOUNT", "3"),
                ("TICKHUB_LOGIN_RATE_PER_IP", "8"),
            ]),
            ..Default::default()
        },
    )
    .await;
    s.hub.create_admin(VICTIM, VICTIM_PASSWORD);
    let url = &s.hub.url;
    let (a, b2) = (client_from("127.0.0.2"), client_from("127.0.0.3"));

    // Per account: three guesses, whatever address they come from…
    for (i, c) in [&a, &b2, &a].into_iter().enumerate() {
        let (code, body, _) = try_login(c, url, VICTIM, "wrong-guess-1", &[]).await;
        assert_eq!(code, 401, "guess {i}: {body}");
    }
    // …then the account is refused for a while, from a fresh address too, in another
    // case, and even with the right password; a forged proxy header changes nothing.
    let (code, body, h) = try_login(
        &client_from("127.0.0.4"),
        url,
        "VICTIM@test.tickhub",
        VICTIM_PASSWORD,
        &[("x-forwarded-for", "203.0.113.7")],
    )
    .await;
    assert_eq!(code, 429, "{body}");
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("account") && m.contains("try again")),
        "{body}"
    );
    let wait = retry_after(&h);
    assert!((1..=20).contains(&wait), "one attempt every 20 s: {wait}");
    // Another account from the same addresses is not affected.
    let (code, body, _) = try_login(&a, url, ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;
    assert_eq!(code, 200, "{body}");

    // Per address: eight attempts on any accounts, then the address is refused…
    let c = client_from("127.0.0.5");
    for i in 0..8 {
        let (code, body, _) = try_login(
            &c,
            url,
            &format!("nobody{i}@test.tickhub"),
            "wrong-guess-1",
            &[],
        )
        .await;
        assert_eq!(code, 401, "attempt {i}: {body}");
    }
    for forged in [None, Some("198.51.100.9")] {
        let headers: Vec<(&str, &str)> =
            forged.map(|f| ("x-forwarded-for", f)).into_iter().collect();
        let (code, body, h) = try_login(&c, url, "nobody-else@test.tickhub", "x", &headers).await;
        assert_eq!(code, 429, "{forged:?}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("address")),
            "{body}"
        );
        assert!((1..=8).contains(&retry_after(&h)), "{h:?}");
    }
    // …while another address still gets an answer.
    let (code, body, _) = try_login(
        &client_from("127.0.0.6"),
        url,
        "nobody-else@test.tickhub",
        "x",
        &[],
    )
    .await;
    assert_eq!(code, 401, "{body}");
}
both!(login_is_rate_limited_per_account_and_per_address);

// ---------------------------------------------------------------- 2. bounded hashing

async fn password_checks_run_bounded_and_overflow_is_a_503(b: Backend) {
    // One check at a time and no waiting: concurrent logins must overflow.
    let s = Setup::with(
        b,
        Options {
            env: env(&[
                ("TICKHUB_HASH_CONCURRENCY", "1"),
                ("TICKHUB_HASH_WAIT_MS", "0"),
                ("TICKHUB_LOGIN_RATE_PER_IP", "100000"),
            ]),
            ..Default::default()
        },
    )
    .await;
    let mut refused = 0;
    for round in 0..5 {
        let emails: Vec<String> = (0..16)
            .map(|i| format!("flood{round}-{i}@test.tickhub"))
            .collect();
        let attempts = emails
            .iter()
            .map(|e| try_login(&s.http, &s.hub.url, e, "wrong-guess-1", &[]));
        for (code, body, h) in futures_util::future::join_all(attempts).await {
            match code {
                // Unknown emails are checked too (against the hash made at start).
                401 => {}
                503 => {
                    assert_eq!(body["error"]["code"], "busy", "{body}");
                    assert!(retry_after(&h) >= 1);
                    refused += 1;
                }
                other => panic!("a flood of logins gets 401 or 503, not {other}: {body}"),
            }
        }
        if refused > 0 {
            break;
        }
    }
    assert!(
        refused > 0,
        "16 concurrent password checks with one permit and no wait must overflow"
    );
    // The flood is over: a login goes through.
    login(&s.http, &s.hub.url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
}
both!(password_checks_run_bounded_and_overflow_is_a_503);

// ---------------------------------------------------------------- 3. tokens

async fn tokens_expire_are_revoked_refused_when_inactive_and_purged(b: Backend) {
    let mut s = Setup::new(b).await;
    let url = s.hub.url.clone();

    // Expired: refused at once, and the row is purged by the background job (at start,
    // then hourly).
    let expired = login(&s.http, &url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(me(&s, &expired).await.0, 200);
    let hash = tickhub::store::tokens::token_hash(&expired);
    let sql = format!("UPDATE auth_tokens SET expires_at = 1 WHERE token_hash = '{hash}'");
    s.db.exec(&sql, &[&sql]).await;
    let (code, body) = me(&s, &expired).await;
    assert_eq!(code, 401, "{body}");
    assert_eq!(me(&s, &s.token).await.0, 200, "other tokens still work");
    let count = format!("SELECT COUNT(*) FROM auth_tokens WHERE token_hash = '{hash}'");
    assert_eq!(scalar(&s.db, &count).await, 1, "not purged yet");

    // Logout: the token is revoked and the cookie cleared.
    let gone = login(&s.http, &url, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let r = s
        .http
        .post(format!("{url}/api/auth/logout"))
        .bearer_auth(&gone)
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 204);
    let cleared = token_cookie(r.headers());
    assert!(cleared.starts_with("tickhub_token=;"), "{cleared}");
    assert!(has_attr(&cleared, "Max-Age=0"), "{cleared}");
    assert_eq!(
        me(&s, &gone).await.0,
        401,
        "a logged-out token stops working"
    );

    // A deactivated member: their token stops working and they cannot log in.
    let id = member(&s, "leaver@test.tickhub", "orchard-zebra-99", "agent").await;
    let theirs = login(&s.http, &url, "leaver@test.tickhub", "orchard-zebra-99").await;
    assert_eq!(me(&s, &theirs).await.0, 200);
    s.db.exec(
        &format!("UPDATE users SET active = 0 WHERE id = {id}"),
        &[&format!("UPDATE users SET active = FALSE WHERE id = {id}")],
    )
    .await;
    assert_eq!(me(&s, &theirs).await.0, 401, "an inactive member's token");
    let (code, body, _) = try_login(
        &s.http,
        &url,
        "leaver@test.tickhub",
        "orchard-zebra-99",
        &[],
    )
    .await;
    assert_eq!(code, 401, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("deactivated")),
        "{body}"
    );
    let (code, body, _) =
        try_login(&s.http, &url, "leaver@test.tickhub", "wrong-guess-1", &[]).await;
    assert_eq!(code, 401);
    assert_eq!(
        body["error"]["message"], "wrong email or password",
        "{body}"
    );

    // The purge: a restarted hub deletes the expired row at start.
    s.hub.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while scalar(&s.db, &count).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the expired token was never purged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(me(&s, &s.token).await.0, 200, "live tokens are kept");
}
both!(tokens_expire_are_revoked_refused_when_inactive_and_purged);

/// The store functions the team code calls (`revoke_all`, `purge_expired`), on each
/// backend.
async fn the_token_store_revokes_all_but_one_and_purges(b: Backend) {
    use tickhub::store::tokens;
    let db = TestDb::new(b).await;
    let vars = std::collections::BTreeMap::from([("DATABASE_URL".to_string(), db.url.clone())]);
    let config =
        tickhub::config::Config::load(&tickhub::config::Source::from_map(&vars)).expect("config");
    let store = tickhub::app::connect_db(&config).await.expect("database");
    let u = tickhub::demo::create_admin(&store, "t@test.tickhub", "T", "a-long-pass-42")
        .await
        .expect("user");
    let far = i64::MAX / 2;
    tokens::store(&store, "old", u.id, 0, 100).await.unwrap();
    tokens::store(&store, "mine", u.id, 0, far).await.unwrap();
    tokens::store(&store, "other", u.id, 0, far).await.unwrap();
    assert!(
        tokens::by_token(&store, "old", 200)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert_eq!(tokens::purge_expired(&store, 200).await.unwrap(), 1);
    assert_eq!(
        tokens::revoke_all(&store, u.id, Some("mine"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tokens::by_token(&store, "mine", 200)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(u.id)
    );
    assert!(tokens::by_token(&store, "other", 200)
        .await
        .unwrap()
        .is_none());
    db.exec(
        "UPDATE users SET active = 0",
        &["UPDATE users SET active = FALSE"],
    )
    .await;
    assert!(
        tokens::by_token(&store, "mine", 200)
            .await
            .unwrap()
            .is_none(),
        "an inactive member's token"
    );
    assert_eq!(tokens::revoke_all(&store, u.id, None).await.unwrap(), 1);
    assert_eq!(tokens::count_for(&store, u.id).await.unwrap(), 0);
    assert!(!tokens::revoke(&store, "mine").await.unwrap());
    store.close().await;
}
both!(the_token_store_revokes_all_but_one_and_purges);

// ---------------------------------------------------------------- 3 + 4. passwords

async fn change_password(s: &Setup, token: String, body: Value) -> (u16, Value) {
    s.request(Method::POST, "/api/auth/password", |r| {
        r.bearer_auth(token).json(&body)
    })
    .await
}

async fn a_member_changes_their_password_and_weak_ones_are_refused(b: Backend) {
    // Not the rate limit's test: room for every attempt below.
    let s = Setup::with(
        b,
        Options {
            env: env(&[("TICKHUB_LOGIN_RATE_PER_ACCOUNT", "100")]),
            ..Default::default()
        },
    )
    .await;
    let url = s.hub.url.clone();
    let (email, first, second) = ("ann@test.tickhub", "kettle-banjo-42", "orchard-zebra-99");
    member(&s, email, first, "agent").await;
    let here = login(&s.http, &url, email, first).await;
    let elsewhere = login(&s.http, &url, email, first).await;
    let mut elsewhere_ws = Socket::connect(&url, &elsewhere, None).await;

    let change = |token: String, body: Value| change_password(&s, token, body);
    let (code, r) = change(
        here.clone(),
        json!({"current_password": "not-it-at-all-1", "new_password": second}),
    )
    .await;
    assert_eq!(code, 403, "a wrong current password: {r}");
    for (weak, why) in [
        ("short-1", "at least"),
        ("ann-2026-xyz!", "email"),
        (first, "differ"),
    ] {
        let (code, r) = change(
            here.clone(),
            json!({"current_password": first, "new_password": weak}),
        )
        .await;
        assert_eq!(code, 422, "{weak}: {r}");
        let m = r["error"]["message"].as_str().unwrap_or_default();
        assert!(
            m.starts_with("new_password") && m.contains(why),
            "{weak}: {r}"
        );
    }
    let (code, r) = change(here.clone(), json!({"current_password": first})).await;
    assert_eq!(code, 422, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("new_password"),
        "{r}"
    );
    // Nothing changed so far.
    assert_eq!(me(&s, &elsewhere).await.0, 200);

    let (code, r) = change(
        here.clone(),
        json!({"current_password": first, "new_password": second}),
    )
    .await;
    assert_eq!(code, 204, "{r}");
    assert_eq!(
        me(&s, &here).await.0,
        200,
        "the token that changed it stays"
    );
    assert_eq!(
        me(&s, &elsewhere).await.0,
        401,
        "every other token is revoked"
    );
    // The other device's socket is closed and cannot come back with its token.
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while elsewhere_ws.next(Duration::from_secs(60)).await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "the revoked token's socket must be closed");
    let refused = tokio_tungstenite::connect_async(format!(
        "{}/ws?token={elsewhere}",
        url.replacen("http://", "ws://", 1)
    ))
    .await;
    match refused {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 401),
        other => panic!(
            "a revoked token's websocket must be refused: {:?}",
            other.map(|_| ())
        ),
    }
    let (code, _, _) = try_login(&s.http, &url, email, first, &[]).await;
    assert_eq!(code, 401, "the old password is gone");
    login(&s.http, &url, email, second).await;
}
both!(a_member_changes_their_password_and_weak_ones_are_refused);

async fn create_admin_refuses_a_weak_password(b: Backend) {
    let s = Setup::new(b).await;
    let create = |email: &str, password: &str| {
        s.hub.run(&[
            "create-admin",
            "--email",
            email,
            "--name",
            "Someone",
            "--password",
            password,
        ])
    };
    for (email, weak, why) in [
        ("weak1@test.tickhub", "short-1", "at least 10"),
        ("weak2@test.tickhub", "p@ssw0rd123", "too common"),
        ("carol@test.tickhub", "carol-2026-xyz", "email"),
    ] {
        let out = create(email, weak);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{weak} was accepted");
        assert!(
            stderr.contains("too weak") && stderr.contains(why),
            "{weak}: a clear message: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        let (code, _, _) = try_login(&s.http, &s.hub.url, email, weak, &[]).await;
        assert_eq!(code, 401, "{email} must not exist");
    }
    // From standard input (here: empty) the same rule holds.
    let out = s.hub.run(&[
        "create-admin",
        "--email",
        "stdin@test.tickhub",
        "--name",
        "S",
    ]);
    assert!(!out.status.success());
    let out = create("strong@test.tickhub", "orchard-zebra-99");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    login(
        &s.http,
        &s.hub.url,
        "strong@test.tickhub",
        "orchard-zebra-99",
    )
    .await;
}
both!(create_admin_refuses_a_weak_password);
