//! Password hashing and verification (argon2). Both are slow and take ~19 MiB each on
//! purpose, so every one of them goes through one gate: a semaphore with as many permits
//! as cores, waited on for a bounded time, the work itself on the blocking pool — never
//! on an actor's or a web worker's thread. A flood of logins therefore costs a bounded
//! amount of memory and CPU; who cannot get a permit in time gets `Busy` (a 503 with
//! `Retry-After`) instead of queueing without end.
//!
//! The hash that unknown emails are checked against (so that timing does not tell which
//! emails exist) is made by [`start`], when the hub starts, not by the first unknown email.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("argon2: {0}")]
    Hash(String),
    #[error("the hashing pool is gone: {0}")]
    Pool(String),
    /// Every permit stayed taken for the whole wait.
    #[error("too many password checks at once; try again in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
}

/// How many hashes may run at once and how long a request waits for its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub concurrency: usize,
    pub wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: default_concurrency(),
            wait: DEFAULT_WAIT,
        }
    }
}

/// How long a request may wait for a permit before it is answered `Busy`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// What a `Busy` answer tells the client to wait.
const RETRY_AFTER_SECS: u64 = 1;
/// No member has this password: it only gives unknown emails a hash to be checked against.
const DUMMY_PASSWORD: &str = "no member has this password: it only costs time";

/// One permit per core: more concurrent argon2 runs would only share the same cores.
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// The bounded pool every hash and verify runs through.
#[derive(Debug)]
pub struct Gate {
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl Gate {
    pub fn new(limits: Limits) -> Gate {
        Gate {
            permits: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            wait: limits.wait,
        }
    }

    /// Runs `work` on the blocking pool once a permit is free (waiting at most the gate's
    /// wait). The permit moves into the blocking task, so it is released when the work
    /// ends even if the request that asked for it has gone.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CredentialError> {
        let busy = CredentialError::Busy {
            retry_after_secs: RETRY_AFTER_SECS,
        };
        let permit = if self.wait.is_zero() {
            self.permits.clone().try_acquire_owned().map_err(|_| busy)?
        } else {
            match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return Err(CredentialError::Pool(e.to_string())),
                Err(_) => return Err(busy),
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| CredentialError::Pool(e.to_string()))
    }
}

static GATE: OnceLock<Gate> = OnceLock::new();
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

/// The process's gate: as configured by [`start`], or the defaults (a library user or a
/// command that never started a hub).
fn gate() -> &'static Gate {
    GATE.get_or_init(|| Gate::new(Limits::default()))
}

/// Configures the gate (the first call in a process wins: there is one pool of cores)
/// and makes the hash unknown emails are checked against. Called when the hub starts.
pub async fn start(limits: Limits) -> Result<(), CredentialError> {
    let _ = GATE.set(Gate::new(limits));
    if DUMMY_HASH.get().is_none() {
        let h = hash_async(DUMMY_PASSWORD.to_string()).await?;
        let _ = DUMMY_HASH.set(h);
    }
    Ok(())
}

/// Whether [`start`] has made the dummy hash.
pub fn dummy_ready() -> bool {
    DUMMY_HASH.get().is_some()
}

pub fn hash(password: &str) -> Result<String, CredentialError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Hash(e.to_string()))
}

pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// `hash` through the gate.
pub async fn hash_async(password: String) -> Result<String, CredentialError> {
    gate().run(move || hash(&password)).await?
}

/// `verify` through the gate. `None` (an unknown email) is checked against the dummy hash
/// and is never a match, so it costs what a known email costs.
pub async fn verify_async(
    password: String,
    stored: Option<String>,
) -> Result<bool, CredentialError> {
    let dummy = DUMMY_HASH.get().cloned();
    gate()
        .run(move || match stored {
            Some(h) => verify(&password, &h),
            None => {
                // Only a process that never called `start` gets here without one.
                let d = dummy.unwrap_or_else(|| hash(DUMMY_PASSWORD).unwrap_or_default());
                verify(&password, &d);
                false
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_gate_runs_at_most_its_permits_at_once() {
        let gate = Arc::new(Gate::new(Limits {
            concurrency: 2,
            wait: Duration::from_secs(60),
        }));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Real work, so that runs overlap when the gate lets them.
                    let _ = hash("some password to hash");
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        for t in tasks {
            t.await.expect("join").expect("every run gets its turn");
        }
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} ran at once");
    }

    #[tokio::test]
    async fn a_full_gate_answers_busy_after_its_wait() {
        for wait in [Duration::ZERO, Duration::from_millis(20)] {
            let gate = Gate::new(Limits {
                concurrency: 1,
                wait,
            });
            let held = gate.permits.clone().acquire_owned().await.expect("permit");
            match gate.run(|| ()).await {
                Err(CredentialError::Busy { retry_after_secs }) => assert!(retry_after_secs >= 1),
                other => panic!("expected Busy, got {other:?}"),
            }
            drop(held);
            gate.run(|| ()).await.expect("free again");
        }
    }

    #[tokio::test]
    async fn start_makes_the_dummy_hash_and_unknown_emails_never_match() {
        start(Limits::default()).await.expect("start");
        assert!(dummy_ready(), "the dummy hash is made at start");
        assert!(!verify_async(DUMMY_PASSWORD.into(), None).await.unwrap());
        let h = hash_async("right-password-1".into()).await.unwrap();
        assert!(verify_async("right-password-1".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify_async("wrong-password-1".into(), Some(h))
            .await
            .unwrap());
        assert!(!verify("x", "not a hash"));
    }
}
