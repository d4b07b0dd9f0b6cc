//! Getting ready to run: login, registering the WAHA session, the websocket URL, waiting for a
//! condition, and [`SetupError`] (exit status 2).

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::args::Args;
use crate::text::truncate;

#[derive(Deserialize)]
struct LoginResp {
    token: String,
}

pub struct SetupError(pub String);

impl<E: std::fmt::Display> From<E> for SetupError {
    fn from(e: E) -> Self {
        SetupError(e.to_string())
    }
}

pub async fn login(client: &reqwest::Client, a: &Args) -> Result<String, SetupError> {
    let url = format!("{}/api/auth/login", a.url);
    let r = client
        .post(&url)
        .json(&serde_json::json!({"email": a.email, "password": a.password}))
        .send()
        .await
        .map_err(|e| SetupError(format!("POST {url}: {}", err_chain(&e))))?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(SetupError(format!(
            "login refused (401): wrong email or password for {} (create it with `tickhub create-admin`); {}",
            a.email,
            truncate(&body, 300)
        )));
    }
    if !status.is_success() {
        return Err(SetupError(format!(
            "POST {url} -> HTTP {}: {}",
            status.as_u16(),
            truncate(&body, 300)
        )));
    }
    let lr: LoginResp = serde_json::from_str(&body).map_err(|e| {
        SetupError(format!(
            "login answer has no token ({e}): {}",
            truncate(&body, 300)
        ))
    })?;
    Ok(lr.token)
}

pub async fn ensure_session(
    client: &reqwest::Client,
    a: &Args,
    token: &str,
) -> Result<(), SetupError> {
    let url = format!("{}/api/sessions", a.url);
    let r = client
        .post(&url)
        .bearer_auth(token)
        .json(&serde_json::json!({"name": a.session}))
        .send()
        .await
        .map_err(|e| SetupError(format!("POST {url}: {}", err_chain(&e))))?;
    let status = r.status();
    if status.as_u16() == 200 || status.as_u16() == 201 {
        return Ok(());
    }
    let body = r.text().await.unwrap_or_default();
    Err(SetupError(format!(
        "POST {url} {{\"name\": {:?}}} -> HTTP {}: {}",
        a.session,
        status.as_u16(),
        truncate(&body, 500)
    )))
}

pub fn ws_url(base: &str, token: &str) -> Result<String, SetupError> {
    let mut u = reqwest::Url::parse(base)?;
    let scheme = match u.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => {
            return Err(SetupError(
                "https/wss is not supported (built without TLS): point --url at the plain-HTTP listener".into(),
            ))
        }
        s => return Err(SetupError(format!("unsupported URL scheme {s}"))),
    };
    u.set_scheme(scheme)
        .map_err(|_| SetupError("cannot build the websocket URL".into()))?;
    u.set_path("/ws");
    u.query_pairs_mut().clear().append_pair("token", token);
    Ok(u.to_string())
}

pub async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let t0 = Instant::now();
    while !done() && t0.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t0.elapsed()
}

/// An error and its sources, e.g. "error sending request: … : Connection refused (os error 111)".
fn err_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}
