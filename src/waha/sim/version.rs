//! Which WAHA release the simulator plays, and what that release can do. Each threshold is
//! the release whose changelog entry (WAHA's docs, "Changelog") brought the behaviour, so a
//! test names the version it met in the field and gets that version's webhooks and API.

use std::fmt;
use std::str::FromStr;

/// A WAHA release, `YEAR.MONTH.BUILD` (e.g. `2024.10.8`), ordered by release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WahaVersion {
    year: u16,
    month: u8,
    build: u16,
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a WAHA version (YEAR.MONTH.BUILD, e.g. 2024.10.8)")]
pub struct BadVersion(String);

const fn v(year: u16, month: u8, build: u16) -> WahaVersion {
    WahaVersion { year, month, build }
}

impl WahaVersion {
    /// The release the simulator plays unless told otherwise.
    pub const CURRENT: WahaVersion = v(2026, 7, 1);
    /// Core before it sends each webhook once, unsigned, without `X-Webhook-Request-Id` or
    /// `X-Webhook-Timestamp` ("All Webhooks features in WAHA Core version now: Retries,
    /// HMAC, Custom Headers"; the 2024.10 Core sender sets only Content-Type and User-Agent).
    const CORE_WEBHOOKS: WahaVersion = v(2024, 11, 5);
    /// The GOWS engine (beta) first shipped here.
    const GOWS: WahaVersion = v(2025, 1, 3);
    /// Envelopes gained `timestamp` here, documented together with `id` (`evt_…`); before,
    /// an envelope is `{event, session, metadata?, me, payload, engine, environment}`.
    const ENVELOPE_IDS: WahaVersion = v(2025, 3, 1);
    /// The global webhook (`WHATSAPP_HOOK_*`) gained HMAC and retries here.
    const GLOBAL_WEBHOOK_OPTIONS: WahaVersion = v(2025, 3, 2);
    /// `session.status` payloads gained `statuses` (the last three, with timestamps);
    /// before, the payload is `{name, status}`, so repeats are byte-identical.
    const STATUS_HISTORY: WahaVersion = v(2025, 9, 4);
    /// `GET /api/{session}/new-message-id` and a client-chosen `id` in send requests.
    const MESSAGE_IDS: WahaVersion = v(2026, 4, 3);

    /// Session webhooks are HMAC-signed when configured, retried, and carry the request id
    /// and timestamp headers.
    pub fn core_webhooks(self) -> bool {
        self >= Self::CORE_WEBHOOKS
    }

    pub fn envelope_ids(self) -> bool {
        self >= Self::ENVELOPE_IDS
    }

    pub fn global_webhook_options(self) -> bool {
        self >= Self::GLOBAL_WEBHOOK_OPTIONS
    }

    pub fn status_history(self) -> bool {
        self >= Self::STATUS_HISTORY
    }

    pub fn message_ids(self) -> bool {
        self >= Self::MESSAGE_IDS
    }

    /// The engine a session runs when none is named: WEBJS before GOWS existed.
    pub fn default_engine(self) -> &'static str {
        if self >= Self::GOWS {
            "GOWS"
        } else {
            "WEBJS"
        }
    }
}

impl fmt::Display for WahaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.year, self.month, self.build)
    }
}

impl FromStr for WahaVersion {
    type Err = BadVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadVersion(s.to_string());
        let mut parts = s.trim().split('.');
        let (Some(y), Some(m), Some(b), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let version = v(
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            b.parse().map_err(|_| bad())?,
        );
        if !(1..=12).contains(&version.month) {
            return Err(bad());
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::WahaVersion;

    fn v(s: &str) -> WahaVersion {
        s.parse().expect(s)
    }

    #[test]
    fn versions_parse_print_and_order_by_release() {
        assert_eq!(v("2024.10.8").to_string(), "2024.10.8");
        assert_eq!(WahaVersion::CURRENT.to_string(), "2026.7.1");
        assert!(v("2024.10.8") < v("2024.11.5"));
        assert!(v("2024.9.12") < v("2024.10.1"), "numeric, not textual");
        for bad in [
            "",
            "2024.10",
            "2024.10.8.1",
            "2024.13.1",
            "v2024.10.8",
            "2024.x.1",
        ] {
            assert!(bad.parse::<WahaVersion>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn what_each_release_can_do() {
        let old = v("2024.10.8");
        assert!(!old.core_webhooks() && !old.envelope_ids() && !old.status_history());
        assert!(!old.message_ids() && !old.global_webhook_options());
        assert_eq!(old.default_engine(), "WEBJS");

        assert!(v("2024.11.5").core_webhooks() && !v("2024.11.4").core_webhooks());
        assert!(v("2025.3.1").envelope_ids() && !v("2025.2.8").envelope_ids());
        assert!(v("2025.9.4").status_history() && !v("2025.9.3").status_history());
        assert!(v("2026.4.3").message_ids() && !v("2026.4.2").message_ids());

        let now = WahaVersion::CURRENT;
        assert!(now.core_webhooks() && now.envelope_ids() && now.status_history());
        assert!(now.message_ids() && now.global_webhook_options());
        assert_eq!(now.default_engine(), "GOWS");
    }
}
