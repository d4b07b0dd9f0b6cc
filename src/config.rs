//! Configuration from environment variables (and an optional `KEY=value` file that they
//! override), validated once at start so a bad value fails with the variable's name.
//! Neither `Config`'s `Debug` nor a `ConfigError` ever shows a secret: the WAHA API key,
//! the webhook HMAC key and the passwords inside URLs are redacted (`crate::redact`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

pub use crate::redact::redact_url;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {message} (got {value:?})")]
    Invalid {
        var: &'static str,
        value: String,
        message: String,
    },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub database_kind: DatabaseKind,
    pub redis_url: Option<String>,
    pub waha_url: url::Url,
    pub waha_api_key: Option<String>,
    /// How long one call to WAHA may take before it counts as a timeout (and is retried).
    pub waha_timeout: Duration,
    pub webhook_hmac_key: Option<String>,
    /// `None` until bound: derived from the listen address when `TICKHUB_PUBLIC_URL` is unset.
    pub public_url: Option<url::Url>,
    pub node_id: String,
    pub log_filter: String,
    /// Webhooks whose `X-Webhook-Timestamp` is older than this are refused (HMAC mode only).
    pub webhook_replay_window: Duration,
    pub webhook_max_body: usize,
    /// Outbound messages per second per WhatsApp session (WhatsApp bans numbers that blast).
    pub send_rate_per_session: f64,
    /// `TICKHUB_PHONE_REGION` (`GB`, `BR`, …): the country a contact's number written
    /// without its country code (`07700 900123`) is read in; unset: such numbers are refused.
    pub phone_region: Option<phonenumber::country::Id>,
    /// `TICKHUB_TIME_ZONE` (an IANA name, default UTC): where "today" begins on the
    /// dashboard.
    pub time_zone: chrono_tz::Tz,
    /// What a customer's whole message (trimmed, any case) says to opt out of campaigns:
    /// `stop` always, and `TICKHUB_OPT_OUT_WORDS` (a comma list) besides; lower-cased.
    pub opt_out_words: Vec<String>,
    /// How long the per-user event log keeps events for `since` replay.
    pub event_retention: Duration,
    /// Bounded outbox per websocket: events queued for one socket before it is closed as too slow.
    pub ws_outbox: usize,
    /// A reconnect further back than this many logged events gets `resync_required`
    /// instead of a replay (the client reloads over HTTP).
    pub ws_replay_limit: i64,
    /// How often the hub compares WAHA's sessions with its own and repairs the difference.
    pub waha_reconcile: Duration,
    /// Login attempts per minute for one account (email), whatever the address.
    pub login_rate_per_account: u32,
    /// Login attempts per minute from one client address (the peer's, no proxy header).
    pub login_rate_per_ip: u32,
    /// How long a login's token (and its cookie) lasts.
    pub token_ttl: Duration,
    /// Password hashes and checks running at once (each takes ~19 MiB and a core).
    pub hash_concurrency: usize,
    /// How long a login waits for its turn to check a password before a 503.
    pub hash_wait: Duration,
    /// After a member's last socket closes, how long until they are offline: a reload or a
    /// phone switching networks reconnects within it without a flicker (0: at once).
    pub presence_grace: Duration,
    /// No activity for this long makes an online member away.
    pub presence_idle: Duration,
    /// After a member goes offline, how long until their open conversations return to the
    /// queue (unless they come back meanwhile; 0: at once).
    pub requeue_grace: Duration,
    /// Cluster mode: how long a node's hold on a WhatsApp session (and its membership)
    /// lasts without renewal, so how soon a dead node's sessions move.
    pub lease_ttl: Duration,
    /// How long a database writer under load waits for more writes to share a transaction
    /// (`store::writer`; 0: never).
    pub write_linger: Duration,
    /// `TICKHUB_SECRET_KEY`: base64 of 32 bytes sealing the secrets the hub stores
    /// (`crate::secrets`); unset on SQLite: a generated key file beside the database.
    pub secret_key: Option<String>,
    /// `TICKHUB_SECRET_KEY_PREVIOUS`: comma-separated keys that still open values sealed
    /// before a rotation.
    pub secret_key_previous: Vec<String>,
    /// Outbound webhooks: the first retry's delay; each next one doubles, with jitter.
    pub outbound_retry_base: Duration,
    /// Outbound webhooks: the longest delay between two attempts.
    pub outbound_retry_max: Duration,
    /// Outbound webhooks: how long one delivery may take before it counts as failed.
    pub outbound_timeout: Duration,
    /// Outbound webhooks: how often the dispatcher looks for new events and due retries.
    pub outbound_poll: Duration,
    /// SQLite: how often new messages are added to the search index
    /// (`TICKHUB_SEARCH_INDEX_MS`; store::search).
    pub search_index_every: Duration,
    /// Where team emails go out (`TICKHUB_SMTP_*`); `None`: no emails are sent
    /// (docs/notifications.md).
    pub smtp: Option<SmtpConfig>,
    /// The local hour (`TICKHUB_SUMMARY_HOUR`, 0–23) and time zone (`TICKHUB_SUMMARY_TZ`)
    /// at which members who asked for one get yesterday's summary.
    pub summary_hour: u32,
    pub summary_tz: chrono_tz::Tz,
}

/// How the hub reaches its SMTP server. The password comes from the environment only
/// (`TICKHUB_SMTP_PASSWORD`) and is never printed (`redact`).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender address, e.g. `tickhub <inbox@example.com>`.
    pub from: String,
    /// Certificates (PEM, from `TICKHUB_SMTP_CA_FILE`) trusted besides the public roots:
    /// a relay whose certificate comes from the business's own CA.
    pub ca_pem: Option<String>,
}

/// `TICKHUB_SMTP_TLS`: `none` (plain, for a relay on the same host), `starttls` (the
/// default, port 587) or `tls` (implicit TLS, port 465).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    None,
    StartTls,
    Tls,
}

fn smtp(src: &Source) -> Result<Option<SmtpConfig>, ConfigError> {
    let Some(host) = src
        .get("TICKHUB_SMTP_HOST")
        .filter(|h| !h.trim().is_empty())
    else {
        return Ok(None);
    };
    let tls = match src.get("TICKHUB_SMTP_TLS").as_deref().unwrap_or("starttls") {
        "none" => SmtpTls::None,
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        other => {
            return Err(invalid(
                "TICKHUB_SMTP_TLS",
                other,
                "expected none, starttls or tls",
            ))
        }
    };
    let default_port = match tls {
        SmtpTls::None => 25,
        SmtpTls::StartTls => 587,
        SmtpTls::Tls => 465,
    };
    let port: u16 = parse_num(src, "TICKHUB_SMTP_PORT", default_port, "a port number")?;
    let from = src
        .get("TICKHUB_SMTP_FROM")
        .unwrap_or_else(|| format!("tickhub <tickhub@{}>", host.trim()));
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(invalid(
            "TICKHUB_SMTP_FROM",
            &from,
            "expected an address such as tickhub <inbox@example.com>",
        ));
    }
    let ca_pem = match src.get("TICKHUB_SMTP_CA_FILE").filter(|p| !p.is_empty()) {
        None => None,
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => Some(pem),
            Ok(_) => {
                return Err(invalid(
                    "TICKHUB_SMTP_CA_FILE",
                    &path,
                    "expected a PEM file of certificates",
                ))
            }
            Err(e) => {
                return Err(invalid(
                    "TICKHUB_SMTP_CA_FILE",
                    &path,
                    format!("a readable PEM file ({e})"),
                ))
            }
        },
    };
    Ok(Some(SmtpConfig {
        host: host.trim().to_string(),
        port,
        tls,
        username: src.get("TICKHUB_SMTP_USER").filter(|u| !u.is_empty()),
        password: src.get("TICKHUB_SMTP_PASSWORD").filter(|p| !p.is_empty()),
        from,
        ca_pem,
    }))
}

/// Variables whose values are URLs that may carry a password.
const URL_VARS: &[&str] = &[
    "DATABASE_URL",
    "REDIS_URL",
    "WAHA_URL",
    "TICKHUB_PUBLIC_URL",
];

/// Reads variables through a lookup function so tests can pass a map instead of the process env.
pub struct Source<'a> {
    lookup: Lookup<'a>,
}

type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

impl<'a> Source<'a> {
    pub fn env() -> Self {
        Self::with_file_fallback(BTreeMap::new())
    }

    /// Process environment first, then the values read from a config file.
    pub fn with_file_fallback(file: BTreeMap<String, String>) -> Self {
        Source {
            lookup: Box::new(move |k| {
                std::env::var(k)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .or_else(|| file.get(k).cloned())
            }),
        }
    }

    pub fn from_map(map: &'a BTreeMap<String, String>) -> Self {
        Source {
            lookup: Box::new(move |k| map.get(k).cloned()),
        }
    }

    fn get(&self, k: &str) -> Option<String> {
        (self.lookup)(k)
    }
}

/// Parses a `KEY=value` file (blank lines and `#` comments allowed).
pub fn read_file(path: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.to_string(),
        message: e.to_string(),
    })?;
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(ConfigError::File {
                path: path.to_string(),
                message: format!("line {}: expected KEY=value", n + 1),
            });
        };
        out.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    Ok(out)
}

fn invalid(var: &'static str, value: &str, message: impl Into<String>) -> ConfigError {
    let value = if URL_VARS.contains(&var) {
        redact_url(value)
    } else {
        value.to_string()
    };
    ConfigError::Invalid {
        var,
        value,
        message: message.into(),
    }
}

/// A per-minute rate: at least 1.
fn per_minute(src: &Source, var: &'static str, default: u32) -> Result<u32, ConfigError> {
    let n: u32 = parse_num(src, var, default, "attempts per minute")?;
    if n == 0 {
        return Err(invalid(var, "0", "expected at least 1"));
    }
    Ok(n)
}

fn parse_num<T: std::str::FromStr>(
    src: &Source,
    var: &'static str,
    default: T,
    what: &str,
) -> Result<T, ConfigError> {
    match src.get(var) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| invalid(var, &v, format!("expected {what}"))),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        match std::env::var("TICKHUB_CONFIG") {
            Ok(path) if !path.is_empty() => {
                Self::load(&Source::with_file_fallback(read_file(&path)?))
            }
            _ => Self::load(&Source::env()),
        }
    }

    pub fn load(src: &Source) -> Result<Config, ConfigError> {
        let bind_raw = src
            .get("TICKHUB_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind: SocketAddr = bind_raw.parse().map_err(|_| {
            invalid(
                "TICKHUB_BIND",
                &bind_raw,
                "expected a socket address such as 127.0.0.1:8080",
            )
        })?;

        let database_url = src
            .get("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://tickhub.db".into());
        let database_kind = if database_url.starts_with("sqlite:") {
            DatabaseKind::Sqlite
        } else if database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://")
        {
            url::Url::parse(&database_url).map_err(|e| {
                invalid(
                    "DATABASE_URL",
                    &database_url,
                    format!("expected postgres://user@host:port/db ({e})"),
                )
            })?;
            DatabaseKind::Postgres
        } else {
            return Err(invalid(
                "DATABASE_URL",
                &database_url,
                "expected sqlite://FILE or postgres://user@host:port/db",
            ));
        };

        let redis_url = src.get("REDIS_URL");
        if let Some(r) = &redis_url {
            if !(r.starts_with("redis://") || r.starts_with("rediss://")) {
                return Err(invalid("REDIS_URL", r, "expected redis://host:port"));
            }
            // Nodes share one database; a SQLite file is one machine's, so a "cluster" on
            // it would be several inboxes that only look like one.
            if database_kind == DatabaseKind::Sqlite {
                return Err(invalid(
                    "REDIS_URL",
                    r,
                    "cluster mode needs a shared PostgreSQL database: set DATABASE_URL=postgres://… \
                     (or unset REDIS_URL to run a single node on SQLite)",
                ));
            }
        }
        let lease_ttl_ms: u64 = parse_num(
            src,
            "TICKHUB_LEASE_TTL_MS",
            5_000,
            "a number of milliseconds",
        )?;
        if lease_ttl_ms < 500 {
            return Err(invalid(
                "TICKHUB_LEASE_TTL_MS",
                &lease_ttl_ms.to_string(),
                "at least 500: a lease is renewed three times per period",
            ));
        }

        let waha_raw = src
            .get("WAHA_URL")
            .unwrap_or_else(|| "http://localhost:3000".into());
        let waha_url = url::Url::parse(&waha_raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| invalid("WAHA_URL", &waha_raw, "expected an http(s):// URL"))?;

        let waha_timeout_ms: u64 = parse_num(
            src,
            "TICKHUB_WAHA_TIMEOUT_MS",
            15_000,
            "a number of milliseconds",
        )?;
        if waha_timeout_ms == 0 {
            return Err(invalid(
                "TICKHUB_WAHA_TIMEOUT_MS",
                "0",
                "expected at least 1",
            ));
        }

        let public_url = match src.get("TICKHUB_PUBLIC_URL") {
            None => None,
            Some(p) => Some(
                url::Url::parse(&p)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .ok_or_else(|| {
                        invalid("TICKHUB_PUBLIC_URL", &p, "expected an http(s):// URL")
                    })?,
            ),
        };

        let node_id = src.get("TICKHUB_NODE_ID").unwrap_or_else(default_node_id);
        let log_filter = src.get("RUST_LOG").unwrap_or_else(|| "info".into());

        let window_s: u64 = parse_num(
            src,
            "TICKHUB_WEBHOOK_REPLAY_WINDOW_SECS",
            600,
            "a number of seconds",
        )?;
        let max_body: usize = parse_num(
            src,
            "TICKHUB_WEBHOOK_MAX_BYTES",
            1024 * 1024,
            "a number of bytes",
        )?;
        let send_rate: f64 = parse_num(
            src,
            "TICKHUB_SEND_RATE",
            5.0,
            "messages per second per session, e.g. 5 or 0.5",
        )?;
        if !(send_rate > 0.0 && send_rate.is_finite()) {
            return Err(invalid(
                "TICKHUB_SEND_RATE",
                &send_rate.to_string(),
                "expected a positive number",
            ));
        }
        let phone_region = match src.get("TICKHUB_PHONE_REGION") {
            None => None,
            Some(r) => Some(crate::domain::phone::region(&r).ok_or_else(|| {
                invalid(
                    "TICKHUB_PHONE_REGION",
                    &r,
                    "expected a region code such as GB or BR",
                )
            })?),
        };
        let time_zone = match src.get("TICKHUB_TIME_ZONE") {
            None => chrono_tz::Tz::UTC,
            Some(z) => z.parse().map_err(|_| {
                invalid(
                    "TICKHUB_TIME_ZONE",
                    &z,
                    "expected an IANA time zone such as Europe/London",
                )
            })?,
        };
        let opt_out_words = crate::domain::contact::opt_out_words(
            src.get("TICKHUB_OPT_OUT_WORDS").as_deref().unwrap_or(""),
        );
        let retention_h: u64 = parse_num(
            src,
            "TICKHUB_EVENT_RETENTION_HOURS",
            72,
            "a number of hours",
        )?;
        let ws_outbox: usize = parse_num(src, "TICKHUB_WS_OUTBOX", 1024, "a number of events")?;
        if ws_outbox == 0 {
            return Err(invalid("TICKHUB_WS_OUTBOX", "0", "expected at least 1"));
        }
        let reconcile_s: u64 = parse_num(src, "TICKHUB_WAHA_RECONCILE_SECS", 60, "seconds")?;
        if reconcile_s == 0 {
            return Err(invalid(
                "TICKHUB_WAHA_RECONCILE_SECS",
                "0",
                "expected at least 1",
            ));
        }
        let ws_replay_limit: i64 =
            parse_num(src, "TICKHUB_WS_REPLAY_LIMIT", 10_000, "a number of events")?;
        if ws_replay_limit < 1 {
            return Err(invalid(
                "TICKHUB_WS_REPLAY_LIMIT",
                &ws_replay_limit.to_string(),
                "expected at least 1",
            ));
        }

        let login_rate_per_account = per_minute(src, "TICKHUB_LOGIN_RATE_PER_ACCOUNT", 10)?;
        let login_rate_per_ip = per_minute(src, "TICKHUB_LOGIN_RATE_PER_IP", 60)?;
        let ttl_h: u64 = parse_num(src, "TICKHUB_TOKEN_TTL_HOURS", 720, "a number of hours")?;
        if ttl_h == 0 || ttl_h > 24 * 366 * 10 {
            return Err(invalid(
                "TICKHUB_TOKEN_TTL_HOURS",
                &ttl_h.to_string(),
                "expected 1 to 87840 hours",
            ));
        }
        let hash_concurrency: usize = parse_num(
            src,
            "TICKHUB_HASH_CONCURRENCY",
            crate::credentials::default_concurrency(),
            "a number of concurrent password checks",
        )?;
        if hash_concurrency == 0 {
            return Err(invalid(
                "TICKHUB_HASH_CONCURRENCY",
                "0",
                "expected at least 1",
            ));
        }
        let presence_grace_s: u64 = parse_num(
            src,
            "TICKHUB_PRESENCE_GRACE_SECS",
            15,
            "a number of seconds",
        )?;
        let presence_idle_s: u64 = parse_num(
            src,
            "TICKHUB_PRESENCE_IDLE_SECS",
            300,
            "a number of seconds",
        )?;
        if presence_idle_s == 0 {
            return Err(invalid(
                "TICKHUB_PRESENCE_IDLE_SECS",
                "0",
                "expected at least 1",
            ));
        }
        let requeue_grace_s: u64 = parse_num(
            src,
            "TICKHUB_REQUEUE_GRACE_SECS",
            120,
            "a number of seconds",
        )?;
        let hash_wait_ms: u64 = parse_num(
            src,
            "TICKHUB_HASH_WAIT_MS",
            crate::credentials::DEFAULT_WAIT.as_millis() as u64,
            "a number of milliseconds",
        )?;

        let write_linger_ms: u64 = parse_num(
            src,
            "TICKHUB_WRITE_LINGER_MS",
            crate::store::writer::DEFAULT_LINGER.as_millis() as u64,
            "a number of milliseconds",
        )?;
        if write_linger_ms > 1000 {
            return Err(invalid(
                "TICKHUB_WRITE_LINGER_MS",
                &write_linger_ms.to_string(),
                "expected at most 1000",
            ));
        }

        let secret_key = src.get("TICKHUB_SECRET_KEY");
        if let Some(k) = &secret_key {
            crate::secrets::SecretKey::from_base64(k)
                .map_err(|m| invalid("TICKHUB_SECRET_KEY", crate::redact::REDACTED, m))?;
        }
        let secret_key_previous: Vec<String> = src
            .get("TICKHUB_SECRET_KEY_PREVIOUS")
            .map(|v| {
                v.split(',')
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for k in &secret_key_previous {
            crate::secrets::SecretKey::from_base64(k)
                .map_err(|m| invalid("TICKHUB_SECRET_KEY_PREVIOUS", crate::redact::REDACTED, m))?;
        }
        let ms = |var: &'static str, default: u64| -> Result<Duration, ConfigError> {
            let v: u64 = parse_num(src, var, default, "a number of milliseconds")?;
            if v == 0 {
                return Err(invalid(var, "0", "expected at least 1"));
            }
            Ok(Duration::from_millis(v))
        };
        let outbound_retry_base = ms("TICKHUB_OUTBOUND_RETRY_BASE_MS", 1_000)?;
        let outbound_retry_max = ms("TICKHUB_OUTBOUND_RETRY_MAX_MS", 300_000)?;
        let outbound_timeout = ms("TICKHUB_OUTBOUND_TIMEOUT_MS", 10_000)?;
        let outbound_poll = ms("TICKHUB_OUTBOUND_POLL_MS", 500)?;
        let search_index_every = ms("TICKHUB_SEARCH_INDEX_MS", 200)?;
        let smtp = smtp(src)?;
        let summary_hour: u32 = parse_num(src, "TICKHUB_SUMMARY_HOUR", 8, "an hour, 0 to 23")?;
        if summary_hour > 23 {
            return Err(invalid(
                "TICKHUB_SUMMARY_HOUR",
                &summary_hour.to_string(),
                "expected an hour, 0 to 23",
            ));
        }
        let tz_raw = src
            .get("TICKHUB_SUMMARY_TZ")
            .unwrap_or_else(|| "UTC".into());
        let summary_tz: chrono_tz::Tz = tz_raw.parse().map_err(|_| {
            invalid(
                "TICKHUB_SUMMARY_TZ",
                &tz_raw,
                "expected an IANA time zone such as Europe/London",
            )
        })?;

        Ok(Config {
            bind,
            database_url,
            database_kind,
            redis_url,
            waha_url,
            waha_api_key: src.get("WAHA_API_KEY"),
            waha_timeout: Duration::from_millis(waha_timeout_ms),
            webhook_hmac_key: src.get("WAHA_WEBHOOK_HMAC_KEY"),
            public_url,
            node_id,
            log_filter,
            webhook_replay_window: Duration::from_secs(window_s),
            webhook_max_body: max_body,
            send_rate_per_session: send_rate,
            phone_region,
            time_zone,
            opt_out_words,
            event_retention: Duration::from_secs(retention_h * 3600),
            ws_outbox,
            ws_replay_limit,
            waha_reconcile: Duration::from_secs(reconcile_s),
            login_rate_per_account,
            login_rate_per_ip,
            token_ttl: Duration::from_secs(ttl_h * 3600),
            hash_concurrency,
            hash_wait: Duration::from_millis(hash_wait_ms),
            presence_grace: Duration::from_secs(presence_grace_s),
            presence_idle: Duration::from_secs(presence_idle_s),
            requeue_grace: Duration::from_secs(requeue_grace_s),
            lease_ttl: Duration::from_millis(lease_ttl_ms),
            write_linger: Duration::from_millis(write_linger_ms),
            secret_key,
            secret_key_previous,
            outbound_retry_base,
            outbound_retry_max,
            outbound_timeout,
            outbound_poll,
            search_index_every,
            smtp,
            summary_hour,
            summary_tz,
        })
    }

    /// The URL WAHA is told to call back, once the listen address is known.
    pub fn webhook_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(u) => format!("{}/webhooks/waha", u.as_str().trim_end_matches('/')),
            None => format!("http://{bound}/webhooks/waha"),
        }
    }
}

fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "node".into());
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let src = Source::from_map(&map);
        Config::load(&src)
    }

    #[test]
    fn defaults_work_on_a_fresh_machine() {
        let c = load(&[]).expect("defaults");
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_kind, DatabaseKind::Sqlite);
        assert_eq!(c.waha_url.as_str(), "http://localhost:3000/");
        assert!(c.redis_url.is_none());
        assert_eq!(c.waha_timeout, Duration::from_secs(15));
        assert_eq!(c.presence_grace, Duration::from_secs(15));
        assert_eq!(c.presence_idle, Duration::from_secs(300));
        assert_eq!(c.requeue_grace, Duration::from_secs(120));
        assert_eq!(
            c.webhook_url("127.0.0.1:8080".parse().unwrap()),
            "http://127.0.0.1:8080/webhooks/waha"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = load(&[("DATABASE_URL", "mysql://x")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("DATABASE_URL:"), "{e}");
        assert!(e.contains("sqlite://") && e.contains("postgres://"), "{e}");
        let e = load(&[("DATABASE_URL", "postgres://::bad")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("DATABASE_URL:"), "{e}");
        let e = load(&[("TICKHUB_BIND", "localhost")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("TICKHUB_BIND:"), "{e}");
        let e = load(&[("WAHA_URL", "ftp://x")]).unwrap_err().to_string();
        assert!(e.starts_with("WAHA_URL:"), "{e}");
        let e = load(&[("TICKHUB_SEND_RATE", "-1")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("TICKHUB_SEND_RATE:"), "{e}");
        for bad in ["0", "1.5", "soon"] {
            let e = load(&[("TICKHUB_WAHA_TIMEOUT_MS", bad)])
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("TICKHUB_WAHA_TIMEOUT_MS:"), "{e}");
        }
        let e = load(&[("TICKHUB_PRESENCE_IDLE_SECS", "0")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("TICKHUB_PRESENCE_IDLE_SECS:"), "{e}");
        let e = load(&[("TICKHUB_PRESENCE_GRACE_SECS", "-1")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("TICKHUB_PRESENCE_GRACE_SECS:"), "{e}");
        let e = load(&[("TICKHUB_REQUEUE_GRACE_SECS", "soon")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("TICKHUB_REQUEUE_GRACE_SECS:"), "{e}");
        let c = load(&[("TICKHUB_REQUEUE_GRACE_SECS", "0")]).unwrap();
        assert_eq!(c.requeue_grace, Duration::ZERO);
        let c = load(&[("TICKHUB_WAHA_TIMEOUT_MS", "1500")]).unwrap();
        assert_eq!(c.waha_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn cluster_mode_needs_redis_and_postgres() {
        let pg = ("DATABASE_URL", "postgres://u@127.0.0.1:5432/db");
        let c = load(&[pg, ("REDIS_URL", "redis://127.0.0.1:6379")]).expect("a cluster node");
        assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(c.lease_ttl, Duration::from_secs(5));
        let e = load(&[("REDIS_URL", "redis://127.0.0.1:6379")])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("REDIS_URL:") && e.contains("PostgreSQL"),
            "{e}"
        );
        let e = load(&[pg, ("REDIS_URL", "127.0.0.1:6379")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("REDIS_URL:"), "{e}");
        let e = load(&[pg, ("TICKHUB_LEASE_TTL_MS", "100")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("TICKHUB_LEASE_TTL_MS:"), "{e}");
    }

    #[test]
    fn auth_settings_have_defaults_and_refuse_zero() {
        let c = load(&[]).unwrap();
        assert_eq!(c.login_rate_per_account, 10);
        assert_eq!(c.login_rate_per_ip, 60);
        assert_eq!(c.token_ttl, Duration::from_secs(720 * 3600));
        assert!(c.hash_concurrency >= 1);
        for var in [
            "TICKHUB_LOGIN_RATE_PER_ACCOUNT",
            "TICKHUB_LOGIN_RATE_PER_IP",
            "TICKHUB_TOKEN_TTL_HOURS",
            "TICKHUB_HASH_CONCURRENCY",
        ] {
            let e = load(&[(var, "0")]).unwrap_err().to_string();
            assert!(e.starts_with(var), "{e}");
        }
    }

    #[test]
    fn public_url_overrides_the_webhook_address() {
        let c = load(&[("TICKHUB_PUBLIC_URL", "https://hub.example.com/")]).unwrap();
        assert_eq!(
            c.webhook_url("0.0.0.0:1".parse().unwrap()),
            "https://hub.example.com/webhooks/waha"
        );
    }
}
