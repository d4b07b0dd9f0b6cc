//! `loadtest import`: issue 17's import benchmark. Makes a CSV of `--rows` contacts
//! (`phone,name,email,type,tags,attr.city`, every number new, a tenth with two tags),
//! posts it to `POST /api/contacts/imports`, then polls `GET /api/contacts/imports/{id}`
//! until the import is completed. Prints how long the body took to be stored (the 202)
//! and the rows to be applied, and checks the counters (every row created, none failed).
//! The hub's peak RSS is the caller's to read (`run.sh import` does).

use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};

use crate::setup::SetupError;
use crate::text::truncate;

/// Time a contact CSV import of N rows (against a running hub).
#[derive(Parser, Debug)]
#[command(name = "loadtest import")]
pub struct ImportArgs {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// An admin's login
    #[arg(long, default_value = "bench@acme.test")]
    pub email: String,
    #[arg(long, default_value = "s3cret-Passw0rd")]
    pub password: String,
    /// The WhatsApp session the contacts go into (registered if it is not)
    #[arg(long, default_value = "bench")]
    pub session: String,
    /// Rows in the file
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// The numbers start here (`+447700` and six digits): a second run with another
    /// start imports new contacts, with the same start it meets duplicates
    #[arg(long, default_value_t = 0)]
    pub first: usize,
    /// `skip` or `update`
    #[arg(long, default_value = "skip")]
    pub on_duplicate: String,
    /// Then import the same file again (every row a duplicate: `--on-duplicate` decides)
    #[arg(long)]
    pub again: bool,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Append one JSON line with the figures to this file
    #[arg(long)]
    pub json_out: Option<String>,
    #[arg(long, default_value = "import")]
    pub label: String,
}

/// The file: about 74 bytes a row (7.4 MB for 100,000).
pub fn csv(first: usize, rows: usize) -> String {
    let mut out = String::with_capacity(80 * rows + 64);
    out.push_str("phone,name,email,type,tags,attr.city\n");
    const CITIES: [&str; 4] = ["Lisbon", "Porto", "Leeds", "Recife"];
    for i in first..first + rows {
        let tags = if i % 10 == 0 { "vip;newsletter" } else { "" };
        let kind = ["lead", "customer", ""][i % 3];
        out.push_str(&format!(
            "+447700{i:06},Person Number {i},person{i}@bench.example,{kind},{tags},{}\n",
            CITIES[i % 4]
        ));
    }
    out
}

async fn call(r: reqwest::RequestBuilder, what: &str, ok: &[u16]) -> Result<Value, SetupError> {
    let r = r
        .send()
        .await
        .map_err(|e| SetupError(format!("{what}: {e}")))?;
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    if !ok.contains(&status) {
        return Err(SetupError(format!(
            "{what} -> HTTP {status}: {}",
            truncate(&body, 500)
        )));
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// `Ok(true)`: completed with every row counted as expected.
pub async fn run(a: ImportArgs) -> Result<bool, SetupError> {
    if !(1..=1_000_000).contains(&(a.first + a.rows)) || a.rows == 0 {
        return Err(SetupError(
            "--rows and --first must stay within 1..1,000,000".into(),
        ));
    }
    let base = a.url.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder().no_proxy().build()?;
    let login = call(
        client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"email": a.email, "password": a.password})),
        "POST /api/auth/login",
        &[200],
    )
    .await?;
    let token = login["token"]
        .as_str()
        .ok_or_else(|| SetupError("the login answer has no token".into()))?
        .to_string();
    call(
        client
            .post(format!("{base}/api/sessions"))
            .bearer_auth(&token)
            .json(&json!({"name": a.session})),
        "POST /api/sessions",
        &[200, 201],
    )
    .await?;

    let body = csv(a.first, a.rows);
    let mut ok = import_once(&client, &base, &token, &a, &body, "new").await?;
    if a.again {
        // The same numbers again: every row a duplicate (skipped, or updated with
        // `--on-duplicate update`).
        ok &= import_once(&client, &base, &token, &a, &body, "again").await?;
    }
    Ok(ok)
}

/// One import of `body`, timed and checked; `pass` names it in the output.
async fn import_once(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    a: &ImportArgs,
    body: &str,
    pass: &str,
) -> Result<bool, SetupError> {
    let bytes = body.len();
    let t0 = Instant::now();
    let started = call(
        client
            .post(format!("{base}/api/contacts/imports"))
            .query(&[
                ("session", a.session.as_str()),
                ("on_duplicate", &a.on_duplicate),
            ])
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(body.to_string()),
        "POST /api/contacts/imports",
        &[202],
    )
    .await?;
    let stored = t0.elapsed();
    let id = started["id"]
        .as_i64()
        .ok_or_else(|| SetupError(format!("the 202 has no id: {started}")))?;

    let limit = Duration::from_secs(a.timeout);
    let last = loop {
        let i = call(
            client
                .get(format!("{base}/api/contacts/imports/{id}"))
                .bearer_auth(token),
            "GET /api/contacts/imports/{id}",
            &[200],
        )
        .await?;
        match i["status"].as_str() {
            Some("completed") => break i,
            Some("failed") => return Err(SetupError(format!("the import failed: {i}"))),
            _ if t0.elapsed() > limit => {
                return Err(SetupError(format!("not completed after {limit:?}: {i}")))
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    };
    let applied = t0.elapsed();
    let n = |k: &str| last[k].as_i64().unwrap_or(-1);
    let (created, updated, skipped) = (n("created"), n("updated"), n("skipped"));
    let ok = n("rows") == a.rows as i64
        && n("failed") == 0
        && created + updated + skipped == a.rows as i64;
    println!(
        "import ({pass}, on_duplicate={}) of {} rows ({:.1} MB): body stored (202) {:.2} s, \
         all rows applied {:.2} s; created {created}, updated {updated}, skipped {skipped}, failed {}{}",
        a.on_duplicate,
        a.rows,
        bytes as f64 / 1e6,
        stored.as_secs_f64(),
        applied.as_secs_f64(),
        n("failed"),
        if ok {
            ""
        } else {
            "  << counters do not add up"
        }
    );
    if let Some(path) = &a.json_out {
        use std::io::Write as _;
        let line = json!({"label": a.label, "pass": pass, "on_duplicate": a.on_duplicate,
            "rows": a.rows, "bytes": bytes,
            "stored_s": stored.as_secs_f64(), "applied_s": applied.as_secs_f64(),
            "created": created, "updated": updated, "skipped": skipped, "failed": n("failed"), "ok": ok});
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(f, "{line}")?;
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_file_has_a_header_and_one_line_a_row() {
        let f = super::csv(5, 3);
        let lines: Vec<&str> = f.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "phone,name,email,type,tags,attr.city");
        assert!(lines[1].starts_with("+447700000005,Person Number 5,"));
    }
}
