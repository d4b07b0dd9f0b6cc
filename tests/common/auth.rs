//! Helpers for the auth tests: logins from chosen addresses, cookies, members, and a
//! number read straight from the database.

use std::net::IpAddr;

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

use super::{login, status_json, Backend, Setup, TestDb};

pub fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A client whose connections come from `ip` (every 127.x address is this machine).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

pub async fn try_login(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> (u16, Value, HeaderMap) {
    let mut req = http
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"email": email, "password": password}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.expect("login request");
    let headers = r.headers().clone();
    let (code, body) = status_json(r).await;
    (code, body, headers)
}

/// `Retry-After` in whole seconds (it must be there and be a number).
pub fn retry_after(h: &HeaderMap) -> u64 {
    h.get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After of whole seconds: {h:?}"))
}

/// The `tickhub_token` Set-Cookie line of a response.
pub fn token_cookie(h: &HeaderMap) -> String {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tickhub_token="))
        .unwrap_or_else(|| panic!("no tickhub_token cookie: {h:?}"))
        .to_string()
}

/// Whether a Set-Cookie line has the attribute (`HttpOnly`, `Max-Age=60`, ...).
pub fn has_attr(cookie: &str, attr: &str) -> bool {
    cookie
        .split(';')
        .skip(1)
        .any(|a| a.trim().eq_ignore_ascii_case(attr))
}

/// A member made with `create-admin` and given `role`; their id.
pub async fn member(s: &Setup, email: &str, password: &str, role: &str) -> i64 {
    s.hub.create_admin(email, password);
    let sql = format!("UPDATE users SET role = '{role}' WHERE email = '{email}'");
    s.db.exec(&sql, &[&sql]).await;
    let token = login(&s.http, &s.hub.url, email, password).await;
    me(s, &token).await.1["id"].as_i64().expect("id")
}

pub async fn me(s: &Setup, token: &str) -> (u16, Value) {
    s.request(Method::GET, "/api/auth/me", |r| r.bearer_auth(token))
        .await
}

/// One number from the test's database.
pub async fn scalar(db: &TestDb, sql: &str) -> i64 {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match db.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("sqlite");
            sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .expect("query")
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&db.url)
                .await
                .expect("postgres");
            sqlx::query_scalar(sql)
                .fetch_one(&mut c)
                .await
                .expect("query")
        }
    }
}
