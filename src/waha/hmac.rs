//! WAHA signs the raw webhook body with HMAC-SHA512 (hex) when the session's webhook has
//! an `hmac.key`. Verify on the raw bytes, before any parsing, in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;

type HmacSha512 = Hmac<Sha512>;

pub fn sign(key: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha512::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// `true` when `signature_hex` is the HMAC of `body` under `key`.
pub fn verify(key: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    let mut mac = HmacSha512::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // WAHA's documented test vector.
    const BODY: &str = r#"{"event":"message","session":"default","engine":"WEBJS"}"#;
    const SIG: &str = "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89";

    #[test]
    fn matches_wahas_vector() {
        assert_eq!(sign(b"my-secret-key", BODY.as_bytes()), SIG);
        assert!(verify(b"my-secret-key", BODY.as_bytes(), SIG));
        assert!(!verify(b"other", BODY.as_bytes(), SIG));
        assert!(!verify(b"my-secret-key", BODY.as_bytes(), "zz"));
    }
}
