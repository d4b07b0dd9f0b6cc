//! Secrets at rest: values the hub must read back (the WAHA API key, outbound webhook
//! secrets, later the SMTP password) are stored encrypted with AES-256-GCM under a key
//! from the environment, never in the clear (docs/integrations.md).
//!
//! A stored value reads `v1:<key id>:<nonce>:<ciphertext>` (nonce and ciphertext in
//! base64): the key id (the first bytes of the key's SHA-256) says which key sealed it,
//! so values sealed under a previous key still open during a rotation
//! (`tickhub rotate-secrets` re-seals them all under the current key).

mod keyfile;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use keyfile::{load, KeyError};

const VERSION: &str = "v1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// No key is configured (PostgreSQL, or cluster mode, without `TICKHUB_SECRET_KEY`).
    #[error("no secret key is configured: set TICKHUB_SECRET_KEY (base64 of 32 random bytes)")]
    NoKey,
    /// The value was sealed under a key the hub no longer has.
    #[error("a stored secret was sealed under key {0}, which is neither TICKHUB_SECRET_KEY nor TICKHUB_SECRET_KEY_PREVIOUS")]
    UnknownKey(String),
    /// Not a sealed value, or altered since it was sealed.
    #[error("a stored secret is damaged or was not sealed by this hub")]
    Damaged,
}

/// One AES-256 key and its id.
#[derive(Clone)]
pub struct SecretKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    pub fn from_bytes(bytes: &[u8; 32]) -> SecretKey {
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        let cipher = match Aes256Gcm::new_from_slice(bytes) {
            Ok(c) => c,
            // A 32-byte slice is always an AES-256 key.
            Err(_) => unreachable!("32 bytes make an AES-256 key"),
        };
        SecretKey { id, cipher }
    }

    /// A key from its base64 text (as in `TICKHUB_SECRET_KEY`).
    pub fn from_base64(text: &str) -> Result<SecretKey, String> {
        let raw = B64.decode(text.trim()).map_err(|_| {
            "expected base64 of 32 random bytes (openssl rand -base64 32)".to_string()
        })?;
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|v: Vec<u8>| format!("expected 32 bytes, got {}", v.len()))?;
        Ok(SecretKey::from_bytes(&bytes))
    }

    pub fn generate() -> (SecretKey, String) {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        (SecretKey::from_bytes(&bytes), B64.encode(bytes))
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The current key (which seals) and the previous ones (which only open).
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    current: Option<SecretKey>,
    previous: Vec<SecretKey>,
}

impl Keyring {
    pub fn new(current: Option<SecretKey>, previous: Vec<SecretKey>) -> Keyring {
        Keyring { current, previous }
    }

    /// No key at all: sealing fails with `NoKey` (nothing is stored in the clear).
    pub fn none() -> Keyring {
        Keyring::default()
    }

    pub fn has_key(&self) -> bool {
        self.current.is_some()
    }

    pub fn current_id(&self) -> Option<&str> {
        self.current.as_ref().map(SecretKey::id)
    }

    pub fn seal(&self, plain: &str) -> Result<String, SecretError> {
        let key = self.current.as_ref().ok_or(SecretError::NoKey)?;
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = key
            .cipher
            .encrypt(&Nonce::from(nonce), plain.as_bytes())
            .map_err(|_| SecretError::Damaged)?;
        Ok(format!(
            "{VERSION}:{}:{}:{}",
            key.id,
            B64.encode(nonce),
            B64.encode(sealed)
        ))
    }

    pub fn open(&self, stored: &str) -> Result<String, SecretError> {
        let mut parts = stored.splitn(4, ':');
        let (Some(VERSION), Some(id), Some(nonce), Some(sealed)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretError::Damaged);
        };
        let key = self
            .current
            .iter()
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| SecretError::UnknownKey(id.to_string()))?;
        let nonce: [u8; 12] = B64
            .decode(nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(SecretError::Damaged)?;
        let sealed = B64.decode(sealed).map_err(|_| SecretError::Damaged)?;
        let plain = key
            .cipher
            .decrypt(&Nonce::from(nonce), sealed.as_slice())
            .map_err(|_| SecretError::Damaged)?;
        String::from_utf8(plain).map_err(|_| SecretError::Damaged)
    }

    /// Whether `stored` is already sealed under the current key (rotation skips it).
    pub fn is_current(&self, stored: &str) -> bool {
        match &self.current {
            Some(k) => stored.starts_with(&format!("{VERSION}:{}:", k.id)),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_and_hide_the_plaintext() {
        let (k, _) = SecretKey::generate();
        let ring = Keyring::new(Some(k), vec![]);
        let s = ring.seal("hunter2-waha-key").expect("seal");
        assert!(!s.contains("hunter2"));
        assert_ne!(
            s,
            ring.seal("hunter2-waha-key").expect("seal"),
            "a fresh nonce each time"
        );
        assert_eq!(ring.open(&s).expect("open"), "hunter2-waha-key");
    }

    #[test]
    fn a_previous_key_opens_and_an_unknown_one_is_named() {
        let (old, _) = SecretKey::generate();
        let (new, _) = SecretKey::generate();
        let sealed = Keyring::new(Some(old.clone()), vec![])
            .seal("x")
            .expect("seal");
        let rotated = Keyring::new(Some(new.clone()), vec![old.clone()]);
        assert_eq!(rotated.open(&sealed).expect("open"), "x");
        assert!(!rotated.is_current(&sealed));
        let without = Keyring::new(Some(new), vec![]);
        assert_eq!(
            without.open(&sealed),
            Err(SecretError::UnknownKey(old.id().to_string()))
        );
    }

    #[test]
    fn tampering_and_no_key_are_errors() {
        let (k, _) = SecretKey::generate();
        let ring = Keyring::new(Some(k), vec![]);
        let mut s = ring.seal("abc").expect("seal");
        s.pop();
        s.push('A');
        assert!(ring.open(&s).is_err());
        assert_eq!(ring.open("plain"), Err(SecretError::Damaged));
        assert_eq!(Keyring::none().seal("x"), Err(SecretError::NoKey));
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
