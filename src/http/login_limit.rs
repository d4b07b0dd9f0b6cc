//! Login attempts are limited per account (the email, whatever the address: slows a
//! guesser spread over many machines) and per client address (the peer's own address; no
//! proxy header is trusted, as anyone can send one). Each is a keyed GCRA limiter
//! (`governor`): N attempts per minute, in a burst of up to N, one more every 60/N s.
//! A refusal is a 429 naming when to try again (`Retry-After`, whole seconds).
//!
//! A member changing their password spends the same per-account budget, so a stolen
//! token cannot guess the current password faster than a login could.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::error::ApiError;

type Keyed<K, C> =
    RateLimiter<K, DefaultKeyedStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

pub struct LoginLimiter<C: Clock = DefaultClock> {
    per_account: Keyed<String, C>,
    per_ip: Keyed<IpAddr, C>,
    clock: C,
}

impl LoginLimiter<DefaultClock> {
    /// `per_account` and `per_ip` attempts per minute (0 counts as 1).
    pub fn new(per_account: u32, per_ip: u32) -> Self {
        Self::with_clock(per_account, per_ip, DefaultClock::default())
    }
}

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

/// The account key: emails are matched case-insensitively, as login matches them.
fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl<C: Clock + Clone> LoginLimiter<C> {
    pub fn with_clock(per_account: u32, per_ip: u32, clock: C) -> Self {
        LoginLimiter {
            per_account: RateLimiter::new(
                quota(per_account),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            per_ip: RateLimiter::new(
                quota(per_ip),
                DefaultKeyedStateStore::default(),
                clock.clone(),
            ),
            clock,
        }
    }

    /// Counts one login attempt for `email` from `ip`; a 429 when either is over its rate.
    /// The address is checked first, so a flood from one address does not lock out the
    /// accounts it names.
    pub fn check_login(&self, email: &str, ip: Option<IpAddr>) -> Result<(), ApiError> {
        if let Some(ip) = ip {
            self.per_ip.check_key(&ip).map_err(|not_until| {
                refusal(
                    "too many login attempts from this address",
                    not_until.wait_time_from(self.clock.now()),
                )
            })?;
        }
        self.check_account(email)
    }

    /// Counts one attempt at proving `email`'s password (a login or a password change).
    pub fn check_account(&self, email: &str) -> Result<(), ApiError> {
        self.per_account
            .check_key(&account_key(email))
            .map_err(|not_until| {
                refusal(
                    "too many attempts for this account",
                    not_until.wait_time_from(self.clock.now()),
                )
            })
    }

    /// Forgets keys whose budget is whole again (run every minute or so): memory stays
    /// proportional to recent attempts, not to every email ever tried.
    pub fn tidy(&self) {
        self.per_account.retain_recent();
        self.per_account.shrink_to_fit();
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
    }

    /// Keys currently remembered (accounts, addresses).
    pub fn len(&self) -> (usize, usize) {
        (self.per_account.len(), self.per_ip.len())
    }
}

fn refusal(what: &str, wait: std::time::Duration) -> ApiError {
    // Whole seconds, rounded up: a client that waits what it was told gets through.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let retry_after_secs = secs.max(1);
    metrics::counter!("tickhub_login_rate_limited_total").increment(1);
    ApiError::TooManyRequests {
        message: format!("{what}; try again in {retry_after_secs} s"),
        retry_after_secs,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn retry_after(e: ApiError) -> u64 {
        match e {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => retry_after_secs,
            other => panic!("expected 429, got {other:?}"),
        }
    }

    #[test]
    fn an_account_gets_its_burst_then_waits_for_the_next_cell() {
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(3, 1000, clock.clone());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            l.check_login("Ann@Example.com", Some(ip))
                .expect("within the burst");
        }
        // The same account in another case, from another address: still the same account.
        let e = l
            .check_login(" ann@example.com", Some("192.0.2.2".parse().unwrap()))
            .unwrap_err();
        assert_eq!(retry_after(e), 20, "one attempt every 60/3 s");
        // Another account is not affected.
        l.check_login("bob@example.com", Some(ip)).expect("bob");
        clock.advance(Duration::from_millis(19_500));
        assert_eq!(
            retry_after(l.check_account("ann@example.com").unwrap_err()),
            1
        );
        clock.advance(Duration::from_millis(500));
        l.check_account("ann@example.com")
            .expect("a cell came back");
    }

    #[test]
    fn an_address_is_limited_across_accounts_and_others_are_not() {
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(1000, 2, clock.clone());
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        l.check_login("a@x.y", Some(ip)).unwrap();
        l.check_login("b@x.y", Some(ip)).unwrap();
        let e = l.check_login("c@x.y", Some(ip)).unwrap_err();
        assert_eq!(retry_after(e), 30);
        l.check_login("c@x.y", Some("2001:db8::2".parse().unwrap()))
            .expect("another address");
        // No address known (not a TCP peer): only the account counts.
        l.check_login("d@x.y", None).unwrap();
    }

    #[test]
    fn tidy_forgets_whole_budgets() {
        let clock = FakeRelativeClock::default();
        let l = LoginLimiter::with_clock(10, 10, clock.clone());
        for i in 0..5 {
            l.check_login(&format!("u{i}@x.y"), Some("192.0.2.9".parse().unwrap()))
                .unwrap();
        }
        assert_eq!(l.len(), (5, 1));
        clock.advance(Duration::from_secs(120));
        l.tidy();
        assert_eq!(l.len(), (0, 0));
    }
}
