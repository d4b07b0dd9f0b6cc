//! Password hashing (argon2). Hashing is slow on purpose, so it runs on the blocking pool,
//! never on an actor's or a web worker's thread.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("argon2: {0}")]
    Hash(String),
    #[error("the hashing pool is gone: {0}")]
    Pool(String),
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

/// `hash` on the blocking pool.
pub async fn hash_async(password: String) -> Result<String, CredentialError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| CredentialError::Pool(e.to_string()))?
}
