//! WAHA-shaped `message` webhook bodies (the peers' workload) and their HMAC-SHA512 signature.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;

pub struct BodyMaker {
    pub session_json: String,
    pub tag: u32,
    pub chats: usize,
    pub hmac_key: Option<Vec<u8>>,
}

pub struct Webhook {
    pub body: Vec<u8>,
    pub signature: Option<String>,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn hmac_sha512_hex(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The customer's phone number of the `k`-th message of a phase (warm-up or measured).
pub fn phone_of(k: usize, chats: usize) -> String {
    format!("4470{:07}", k % chats)
}

impl BodyMaker {
    /// The peers' workload body (peers/README.md "The workload"); `k` is the index within the phase.
    pub fn make(&self, i: usize, k: usize, measured: bool) -> Webhook {
        let phone = phone_of(k, self.chats);
        let ms = now_ms();
        let body = format!(
            concat!(
                r#"{{"id":"evt_{evt}","timestamp":{ms},"event":"message","session":{session},"engine":"WEBJS","#,
                r#""me":{{"id":"15550000000@c.us","pushName":"Bench"}},"#,
                r#""payload":{{"id":"false_{phone}@c.us_{tag:08X}{i:012X}","timestamp":{s},"from":"{phone}@c.us","#,
                r#""fromMe":false,"to":"15550000000@c.us","body":"bench {k} {mw}","hasMedia":false,"ack":1,"#,
                r#""_data":{{"notifyName":"Customer {last4}"}}}},"#,
                r#""environment":{{"version":"bench","engine":"WEBJS","tier":"CORE"}}}}"#
            ),
            evt = uuid::Uuid::new_v4().simple(),
            ms = ms,
            session = self.session_json,
            phone = phone,
            tag = self.tag,
            i = i,
            s = ms / 1000,
            k = k,
            mw = if measured { "m" } else { "w" },
            last4 = &phone[phone.len() - 4..],
        )
        .into_bytes();
        let signature = self
            .hmac_key
            .as_ref()
            .map(|key| hmac_sha512_hex(key, &body));
        Webhook { body, signature }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::state::Run;

    #[test]
    fn hmac_matches_wahas_vector() {
        let body = r#"{"event":"message","session":"default","engine":"WEBJS"}"#;
        assert_eq!(
            hmac_sha512_hex(b"my-secret-key", body.as_bytes()),
            "208f8a55dde9e05519e898b10b89bf0d0b3b0fdf11fdbf09b6b90476301b98d8097c462b2b17a6ce93b6b47a136cf2e78a33a63f6752c2c1631777076153fa89"
        );
    }

    #[test]
    fn body_is_the_peers_workload_and_id_round_trips() {
        let maker = BodyMaker {
            session_json: serde_json::to_string("default").unwrap(),
            tag: 0xDEADBEEF,
            chats: 200,
            hmac_key: Some(b"k".to_vec()),
        };
        let wh = maker.make(1234, 242, true);
        let v: serde_json::Value = serde_json::from_slice(&wh.body).unwrap();
        assert_eq!(v["event"], "message");
        assert_eq!(v["session"], "default");
        assert_eq!(v["engine"], "WEBJS");
        assert!(v["id"].as_str().unwrap().starts_with("evt_"));
        let p = &v["payload"];
        assert_eq!(p["from"], "44700000042@c.us");
        assert_eq!(p["fromMe"], false);
        assert_eq!(p["hasMedia"], false);
        assert_eq!(p["ack"], 1);
        assert_eq!(p["body"], "bench 242 m");
        assert_eq!(p["_data"]["notifyName"], "Customer 0042");
        let id = p["id"].as_str().unwrap();
        assert_eq!(id, "false_44700000042@c.us_DEADBEEF0000000004D2");
        assert_eq!(
            wh.signature.as_deref(),
            Some(hmac_sha512_hex(b"k", &wh.body).as_str())
        );
        let run = Run {
            tag: 0xDEADBEEF,
            warm: 0,
            total: 2000,
            base: Instant::now(),
            sent_ns: vec![],
            status: vec![],
            attempts: vec![],
            counters: vec![],
            presence: crate::presence::Plan::new(0),
        };
        assert_eq!(run.index_of(id), Some(1234));
        assert_eq!(run.index_of("false_1@c.us_DEADBEF00000000000004D2"), None);
        assert_eq!(run.index_of("false_1@c.us_DEADBEEF0000000FFFFF"), None);
        assert_eq!(run.index_of("short"), None);
    }
}
