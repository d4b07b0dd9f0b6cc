//! Secrets kept out of logs and error messages: `Config`'s `Debug` (the WAHA API key and
//! the webhook HMAC key shown only as set, URLs without their passwords) and
//! [`redact_url`], which config errors use on every URL they quote.

use crate::config::Config;

pub(crate) const REDACTED: &str = "<redacted>";

/// Secrets never reach a log: the keys are shown as set or not, URLs without passwords.
/// Every field is named (no `..`), so a new field cannot be added without deciding here
/// whether it is a secret.
/// The SMTP password is shown only as set or not; the rest (host, port, user, sender) is
/// what an operator needs to see when mail does not go out.
impl std::fmt::Debug for crate::config::SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let crate::config::SmtpConfig {
            host,
            port,
            tls,
            username,
            password,
            from,
            ca_pem,
        } = self;
        f.debug_struct("SmtpConfig")
            .field("host", host)
            .field("port", port)
            .field("tls", tls)
            .field("username", username)
            .field("password", &password.as_ref().map(|_| REDACTED))
            .field("from", from)
            .field("ca_pem", &ca_pem.as_ref().map(|_| "(set)"))
            .finish()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Config {
            bind,
            database_url,
            database_kind,
            redis_url,
            waha_url,
            waha_api_key,
            waha_timeout,
            webhook_hmac_key,
            public_url,
            node_id,
            log_filter,
            webhook_replay_window,
            webhook_max_body,
            send_rate_per_session,
            phone_region,
            time_zone,
            opt_out_words,
            event_retention,
            ws_outbox,
            ws_replay_limit,
            waha_reconcile,
            login_rate_per_account,
            login_rate_per_ip,
            token_ttl,
            hash_concurrency,
            hash_wait,
            presence_grace,
            presence_idle,
            requeue_grace,
            lease_ttl,
            write_linger,
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
        } = self;
        let secret = |s: &Option<String>| s.as_ref().map(|_| REDACTED);
        f.debug_struct("Config")
            .field("bind", bind)
            .field("database_url", &redact_url(database_url))
            .field("database_kind", database_kind)
            .field("redis_url", &redis_url.as_deref().map(redact_url))
            .field("waha_url", &redact_url(waha_url.as_str()))
            .field("waha_api_key", &secret(waha_api_key))
            .field("waha_timeout", waha_timeout)
            .field("webhook_hmac_key", &secret(webhook_hmac_key))
            .field(
                "public_url",
                &public_url.as_ref().map(|u| redact_url(u.as_str())),
            )
            .field("node_id", node_id)
            .field("log_filter", log_filter)
            .field("webhook_replay_window", webhook_replay_window)
            .field("webhook_max_body", webhook_max_body)
            .field("send_rate_per_session", send_rate_per_session)
            .field("phone_region", phone_region)
            .field("time_zone", time_zone)
            .field("opt_out_words", opt_out_words)
            .field("event_retention", event_retention)
            .field("ws_outbox", ws_outbox)
            .field("ws_replay_limit", ws_replay_limit)
            .field("waha_reconcile", waha_reconcile)
            .field("login_rate_per_account", login_rate_per_account)
            .field("login_rate_per_ip", login_rate_per_ip)
            .field("token_ttl", token_ttl)
            .field("hash_concurrency", hash_concurrency)
            .field("hash_wait", hash_wait)
            .field("presence_grace", presence_grace)
            .field("presence_idle", presence_idle)
            .field("requeue_grace", requeue_grace)
            .field("lease_ttl", lease_ttl)
            .field("write_linger", write_linger)
            .field("secret_key", &secret(secret_key))
            .field(
                "secret_key_previous",
                &secret_key_previous
                    .iter()
                    .map(|_| REDACTED)
                    .collect::<Vec<_>>(),
            )
            .field("outbound_retry_base", outbound_retry_base)
            .field("outbound_retry_max", outbound_retry_max)
            .field("outbound_timeout", outbound_timeout)
            .field("outbound_poll", outbound_poll)
            .field("search_index_every", search_index_every)
            .field("smtp", smtp)
            .field("summary_hour", summary_hour)
            .field("summary_tz", summary_tz)
            .finish()
    }
}

/// `url` with the password of its user info and any `password=`-like query value replaced
/// by `<redacted>`. Works on text that does not parse as a URL too (a config error shows
/// exactly such text).
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    // The user info ends at the last '@' before the path (a password may hold '@' or
    // '/' when it was not percent-encoded; the last '@' is still the host's).
    let (userinfo, host_and_more) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    if let Some(info) = userinfo {
        match info.split_once(':') {
            Some((user, _)) => {
                out.push_str(user);
                out.push(':');
                out.push_str(REDACTED);
            }
            None => out.push_str(info),
        }
        out.push('@');
    }
    match host_and_more.split_once('?') {
        None => out.push_str(host_and_more),
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if is_secret_param(k) => format!("{k}={REDACTED}"),
                    _ => pair.to_string(),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
    }
    out
}

fn is_secret_param(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "key",
        "token",
        "sslpassword",
    ]
    .iter()
    .any(|s| k == *s || k.ends_with(&format!("_{s}")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::{ConfigError, Source};

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let src = Source::from_map(&map);
        Config::load(&src)
    }

    #[test]
    fn debug_and_errors_never_show_a_secret() {
        let c = load(&[
            (
                "DATABASE_URL",
                "postgres://tickhub:db-pass-7@db.internal:5432/tickhub",
            ),
            ("WAHA_API_KEY", "waha-key-8"),
            ("WAHA_WEBHOOK_HMAC_KEY", "hmac-key-9"),
            (
                "TICKHUB_SECRET_KEY",
                "cmVkYWN0LXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcyE=",
            ),
            (
                "TICKHUB_SECRET_KEY_PREVIOUS",
                "cmVkYWN0LXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcyE=",
            ),
            ("WAHA_URL", "http://waha:waha-url-pass@waha.internal:3000"),
            (
                "TICKHUB_PUBLIC_URL",
                "https://hub.example.com/?token=public-token-5",
            ),
            ("TICKHUB_SMTP_HOST", "smtp.example.com"),
            ("TICKHUB_SMTP_USER", "mailer"),
            ("TICKHUB_SMTP_PASSWORD", "smtp-pass-6"),
        ])
        .expect("config");
        let shown = format!("{c:?} {c:#?}");
        for secret in [
            "db-pass-7",
            "waha-key-8",
            "hmac-key-9",
            "waha-url-pass",
            "public-token-5",
            "cmVkYWN0LXRlc3Qtc2VjcmV0LWtleS0zMi1ieXRlcyE=",
            "smtp-pass-6",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("smtp.example.com"), "{shown}");
        // What is not secret still helps whoever reads the log.
        assert!(shown.contains("db.internal:5432"), "{shown}");
        assert!(
            shown.contains("webhook_hmac_key: Some(\"<redacted>\")"),
            "{shown}"
        );

        for bad in [
            "postgres://tickhub:db-pass-7@db.internal:notaport/tickhub",
            "postgres://tickhub:db-pass-7@:5432/x y",
            "mysql://tickhub:db-pass-7@db.internal/tickhub",
            "postgres://db.internal/tickhub?user=t&password=db-pass-7",
        ] {
            match load(&[("DATABASE_URL", bad)]) {
                Err(e) => {
                    let shown = format!("{e} {e:?}");
                    assert!(shown.starts_with("DATABASE_URL:"), "{shown}");
                    assert!(!shown.contains("db-pass-7"), "{shown}");
                }
                // A URL that parses is no error; its Debug is checked above.
                Ok(c) => assert!(!format!("{c:?}").contains("db-pass-7")),
            }
        }
        let e = load(&[("WAHA_URL", "ftp://u:waha-url-pass@x")]).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("waha-url-pass"), "{e}");
        let e = load(&[("REDIS_URL", "redis://:redis-pass-3@r:6379")]).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("redis-pass-3"), "{e}");
    }

    #[test]
    fn redact_url_keeps_all_but_the_password() {
        assert_eq!(
            redact_url("postgres://u:p@ss/w@h:5432/db?sslmode=require&password=x"),
            "postgres://u:<redacted>@h:5432/db?sslmode=require&password=<redacted>"
        );
        assert_eq!(redact_url("sqlite://tickhub.db"), "sqlite://tickhub.db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
