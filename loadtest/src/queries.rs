//! `loadtest queries`: how fast the inbox's reads answer on a (big) database — the
//! conversation list with its common filters, a conversation's messages and paging back,
//! the contact search — as an admin and as an agent (the access policy's filter changes
//! the statement). Each query runs `--requests` times one after another (after a few
//! unmeasured ones); the table gives p50/p99/max per query and how many items the first
//! answer held, so a query that silently finds nothing is seen.

use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde::Deserialize;
use serde_json::Value;

use crate::setup::SetupError;

/// Time the inbox's read queries (run it against a hub on a seeded database).
#[derive(Parser, Debug)]
#[command(name = "loadtest queries")]
pub struct QueryArgs {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An admin's login
    #[arg(long, default_value = "bench@acme.test")]
    pub email: String,
    /// An agent's login (`loadtest seed` makes agent01@acme.test …)
    #[arg(long, default_value = "agent01@acme.test")]
    pub agent_email: String,
    /// Both logins' password
    #[arg(long, default_value = "s3cret-Passw0rd")]
    pub password: String,
    /// Measured requests per query
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Only the queries whose name contains this
    #[arg(long)]
    pub only: Option<String>,
    /// Append one JSON line per query to this file
    #[arg(long)]
    pub json_out: Option<String>,
    /// Name of this run in the JSON lines
    #[arg(long, default_value = "queries")]
    pub label: String,
}

#[derive(Deserialize)]
struct Login {
    token: String,
    user: User,
}

#[derive(Deserialize)]
struct User {
    id: i64,
}

struct Query {
    name: String,
    token: String,
    /// One path per request, taken in turn.
    paths: Vec<String>,
}

async fn login(c: &reqwest::Client, url: &str, email: &str, pw: &str) -> Result<Login, SetupError> {
    let r = c
        .post(format!("{url}/api/auth/login"))
        .json(&serde_json::json!({"email": email, "password": pw}))
        .send()
        .await?;
    if !r.status().is_success() {
        return Err(SetupError(format!(
            "login {email}: HTTP {} (seed the database with `loadtest seed`)",
            r.status()
        )));
    }
    Ok(r.json().await?)
}

async fn get(c: &reqwest::Client, url: &str, token: &str, path: &str) -> Result<Value, SetupError> {
    let r = c
        .get(format!("{url}{path}"))
        .bearer_auth(token)
        .send()
        .await?;
    let status = r.status();
    let body = r.text().await?;
    if !status.is_success() {
        return Err(SetupError(format!(
            "GET {path}: HTTP {status}: {}",
            crate::text::truncate(&body, 300)
        )));
    }
    Ok(serde_json::from_str(&body)?)
}

fn items(v: &Value) -> &[Value] {
    v["items"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn ids(v: &Value) -> Vec<i64> {
    items(v).iter().filter_map(|c| c["id"].as_i64()).collect()
}

/// `?cursor=` of the page `depth` pages down `base` (None: the list is shorter).
async fn cursor_at(
    c: &reqwest::Client,
    url: &str,
    token: &str,
    base: &str,
    depth: usize,
) -> Result<Option<String>, SetupError> {
    let mut cursor: Option<String> = None;
    for _ in 0..depth {
        let sep = if base.contains('?') { '&' } else { '?' };
        let path = match &cursor {
            Some(k) => format!("{base}{sep}cursor={}", urlencode(k)),
            None => base.to_string(),
        };
        let page = get(c, url, token, &path).await?;
        match page["next_cursor"].as_str() {
            Some(k) => cursor = Some(k.to_string()),
            None => return Ok(None),
        }
    }
    Ok(cursor)
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The queries of one viewer: lists, message pages (over the first conversations it sees),
/// contact searches.
async fn queries_of(
    c: &reqwest::Client,
    a: &QueryArgs,
    who: &str,
    token: &str,
    agent_id: i64,
) -> Result<Vec<Query>, SetupError> {
    let url = &a.url;
    let one = |name: &str, path: String| Query {
        name: format!("{who} {name}"),
        token: token.to_string(),
        paths: vec![path],
    };
    let mut out = vec![
        one("list", "/api/conversations".into()),
        one("list status=open", "/api/conversations?status=open".into()),
        one(
            "list status=pending,open&unassigned",
            "/api/conversations?status=pending,open&unassigned=true".into(),
        ),
        one(
            "list assignee=agent",
            format!("/api/conversations?assignee_id={agent_id}"),
        ),
        one(
            "list session=support",
            "/api/conversations?session=support".into(),
        ),
        one("list tag=vip", "/api/conversations?tag=vip".into()),
        one("list q=silva (name)", "/api/conversations?q=silva".into()),
        one(
            "list q=refund (message)",
            "/api/conversations?q=refund".into(),
        ),
        one(
            "list q=<number>",
            "/api/conversations?q=5511910004243".into(),
        ),
        one(
            "list q=nomatch",
            "/api/conversations?q=nowhere-to-be-found".into(),
        ),
    ];
    if let Some(k) = cursor_at(c, url, token, "/api/conversations", 10).await? {
        out.push(one(
            "list page 11 (cursor)",
            format!("/api/conversations?cursor={}", urlencode(&k)),
        ));
    }
    // message pages: the first 100 conversations in turn, then their second page
    let first = get(c, url, token, "/api/conversations?limit=100").await?;
    let convs = ids(&first);
    if convs.is_empty() {
        return Err(SetupError(format!(
            "{who} sees no conversation: is the database seeded?"
        )));
    }
    out.push(Query {
        name: format!("{who} messages page"),
        token: token.to_string(),
        paths: convs
            .iter()
            .map(|id| format!("/api/conversations/{id}/messages?limit=50"))
            .collect(),
    });
    let mut back = Vec::new();
    for id in convs.iter().take(20) {
        let page = get(
            c,
            url,
            token,
            &format!("/api/conversations/{id}/messages?limit=5"),
        )
        .await?;
        if let Some(k) = page["next_cursor"].as_str() {
            back.push(format!(
                "/api/conversations/{id}/messages?limit=50&cursor={k}"
            ));
        }
    }
    if !back.is_empty() {
        out.push(Query {
            name: format!("{who} messages paging back"),
            token: token.to_string(),
            paths: back,
        });
    }
    out.extend([
        one("contacts", "/api/contacts".into()),
        one("contacts q=maria", "/api/contacts?q=maria".into()),
        one(
            "contacts q=<number part>",
            "/api/contacts?q=910004243".into(),
        ),
        one(
            "contacts q=nomatch",
            "/api/contacts?q=nowhere-to-be-found".into(),
        ),
    ]);
    Ok(out)
}

struct Timed {
    name: String,
    first_items: usize,
    hist: Histogram<u64>,
}

pub async fn run(a: QueryArgs) -> Result<bool, SetupError> {
    let url = a.url.trim_end_matches('/').to_string();
    let c = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let admin = login(&c, &url, &a.email, &a.password).await?;
    let agent = login(&c, &url, &a.agent_email, &a.password).await?;
    let a = QueryArgs { url, ..a };
    let mut all = queries_of(&c, &a, "admin", &admin.token, agent.user.id).await?;
    all.extend(queries_of(&c, &a, "agent", &agent.token, agent.user.id).await?);
    if let Some(only) = &a.only {
        all.retain(|q| q.name.contains(only.as_str()));
    }
    let mut results = Vec::new();
    for q in &all {
        let first = get(&c, &a.url, &q.token, &q.paths[0]).await?;
        for p in q.paths.iter().cycle().take(5) {
            get(&c, &a.url, &q.token, p).await?;
        }
        let mut hist = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
            .map_err(|e| SetupError(e.to_string()))?;
        for p in q.paths.iter().cycle().take(a.requests) {
            let t = Instant::now();
            get(&c, &a.url, &q.token, p).await?;
            let _ = hist.record((t.elapsed().as_micros() as u64).max(1));
        }
        let t = Timed {
            name: q.name.clone(),
            first_items: items(&first).len(),
            hist,
        };
        eprintln!(
            "{:<48} p50 {:>8.2} ms  p99 {:>8.2} ms",
            t.name,
            ms(&t.hist, 0.5),
            ms(&t.hist, 0.99)
        );
        results.push(t);
    }
    println!();
    println!("| query | items | p50 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for t in &results {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} |",
            t.name,
            t.first_items,
            ms(&t.hist, 0.5),
            ms(&t.hist, 0.99),
            t.hist.max() as f64 / 1000.0
        );
    }
    if let Some(path) = &a.json_out {
        for t in &results {
            let line = serde_json::json!({"label": a.label, "query": t.name, "items": t.first_items,
                "requests": t.hist.len(), "p50_ms": ms(&t.hist, 0.5), "p99_ms": ms(&t.hist, 0.99),
                "max_ms": t.hist.max() as f64 / 1000.0});
            crate::append_line(path, &line.to_string())?;
        }
    }
    Ok(results.iter().all(|t| ms(&t.hist, 0.99) < 20.0))
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    (h.value_at_quantile(q) as f64 / 10.0).round() / 100.0
}
