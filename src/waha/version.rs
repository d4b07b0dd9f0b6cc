//! WAHA's versions, and what each can do that the hub relies on.

use serde::Deserialize;

/// `GET /api/server/version` (older: `/api/version`): WAHA's environment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct WahaVersion {
    pub version: String,
    #[serde(default)]
    pub engine: Option<String>,
    #[serde(default)]
    pub tier: Option<String>,
}

/// The first WAHA that signs webhooks (HMAC) and retries them.
pub const SIGNS_WEBHOOKS_SINCE: (u32, u32, u32) = (2024, 11, 5);

/// `2024.10.8` → `(2024, 10, 8)`; a suffix (`2024.10.8-plus`) or a missing part counts as 0.
fn parts(version: &str) -> Option<(u32, u32, u32)> {
    let mut it = version
        .trim()
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().ok());
    let y = it.next()??;
    let m = it.next().flatten().unwrap_or(0);
    let d = it.next().flatten().unwrap_or(0);
    Some((y, m, d))
}

impl WahaVersion {
    /// Whether this WAHA signs its webhooks with the session's HMAC key (and retries
    /// them). An unreadable version is taken to be a current one.
    pub fn signs_webhooks(&self) -> bool {
        parts(&self.version).is_none_or(|v| v >= SIGNS_WEBHOOKS_SINCE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> WahaVersion {
        WahaVersion {
            version: s.into(),
            engine: None,
            tier: None,
        }
    }

    #[test]
    fn hmac_came_with_2024_11_5() {
        assert!(!v("2024.10.8").signs_webhooks());
        assert!(!v("2024.11.4").signs_webhooks());
        assert!(v("2024.11.5").signs_webhooks());
        assert!(v("2026.7.1").signs_webhooks());
        assert!(!v("2023.12").signs_webhooks());
        assert!(v("latest").signs_webhooks());
    }
}
