//! Ids shaped like WAHA's.

use rand::Rng;

const CROCKFORD: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// `evt_` + a 26-character lowercase ULID (time-sortable, like WAHA's event ids).
pub fn event_id(now_ms: i64) -> String {
    let mut rng = rand::rng();
    let mut value: u128 = ((now_ms as u128) << 80) | (rng.random::<u128>() & ((1u128 << 80) - 1));
    let mut out = [0u8; 26];
    for c in out.iter_mut().rev() {
        *c = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    format!("evt_{}", String::from_utf8_lossy(&out))
}

/// A raw WhatsApp message id: 20 upper-case hex characters.
pub fn raw_message_id() -> String {
    let mut rng = rand::rng();
    (0..20)
        .map(|_| format!("{:X}", rng.random_range(0..16u8)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn event_ids_look_like_wahas() {
        let a = super::event_id(1_700_000_000_000);
        assert!(a.starts_with("evt_") && a.len() == 30, "{a}");
        assert!(super::event_id(1_700_000_000_001) > super::event_id(1_600_000_000_000));
        assert_eq!(super::raw_message_id().len(), 20);
    }
}
