//! Checking the bot's replies against the webhooks that asked for them: per chat, as many
//! replies as messages answered 2xx (warm-up included), and each reply's latency from its
//! webhook's POST to the simulator's send.
//!
//! The reply text is the same for every message (nothing random, nothing per message), so a
//! duplicate shows only as one reply too many in its chat: counting per chat is the check.
//! Replies in a chat leave in the order its messages came in (one conversation actor, one
//! first-in-first-out send queue per session), so the n-th reply of a chat answers its n-th
//! message, which is what the latency pairs (two posts of one chat in flight at once may be
//! stored in either order: the pairing is then off by their gap, the counts are not).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Deserialize;

use crate::state::new_hist;

/// One entry of the simulator's `GET /sim/sent`.
#[derive(Debug, Clone, Deserialize)]
pub struct SimSent {
    pub session: String,
    #[serde(rename = "chatId")]
    pub chat_id: String,
    pub text: String,
    /// Wall clock (ms since the Unix epoch) when the simulator took the send.
    pub at_ms: i64,
}

/// A webhook answered 2xx: when it was posted (wall clock, ms) and whether it was measured.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub posted_ms: f64,
    pub measured: bool,
}

pub struct ReplyCheck {
    pub expected: u64,
    /// Replies with the bot's text in this run's chats.
    pub sent: u64,
    /// Chats' shortfalls, summed.
    pub missing: u64,
    /// Chats' surpluses, summed.
    pub duplicates: u64,
    /// The bot's text sent to a chat this run never wrote from.
    pub stray: u64,
    /// Anything else sent in the session (another text): informational.
    pub other_texts: u64,
    /// Webhook POST -> simulator send, measured messages only, µs.
    pub latency_us: Histogram<u64>,
    /// Wall clock (ms) of the first and the last reply: the send pipeline's pace.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

impl ReplyCheck {
    pub fn passed(&self) -> bool {
        self.missing == 0 && self.duplicates == 0 && self.stray == 0
    }

    /// Replies per second from the first to the last.
    pub fn rate(&self) -> Option<f64> {
        match (self.first_ms, self.last_ms) {
            (Some(f), Some(l)) if l > f => Some((self.sent - 1) as f64 * 1000.0 / (l - f) as f64),
            _ => None,
        }
    }
}

/// `asked`: per chat id, the webhooks answered 2xx in the order they were posted; `sent`: what
/// the simulator sent since the run began.
pub fn check(
    asked: &BTreeMap<String, Vec<Asked>>,
    sent: &[SimSent],
    session: &str,
    reply: &str,
) -> ReplyCheck {
    let mut replies: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut c = ReplyCheck {
        expected: asked.values().map(|v| v.len() as u64).sum(),
        sent: 0,
        missing: 0,
        duplicates: 0,
        stray: 0,
        other_texts: 0,
        latency_us: new_hist(),
        first_ms: None,
        last_ms: None,
    };
    for s in sent.iter().filter(|s| s.session == session) {
        if s.text != reply {
            c.other_texts += 1;
        } else if asked.contains_key(&s.chat_id) {
            replies.entry(&s.chat_id).or_default().push(s.at_ms);
            c.sent += 1;
            c.first_ms = Some(c.first_ms.map_or(s.at_ms, |f| f.min(s.at_ms)));
            c.last_ms = Some(c.last_ms.map_or(s.at_ms, |l| l.max(s.at_ms)));
        } else {
            c.stray += 1;
        }
    }
    for (chat, msgs) in asked {
        let got = replies.get(chat.as_str()).map_or(&[][..], |v| v.as_slice());
        let (want, have) = (msgs.len(), got.len());
        c.missing += want.saturating_sub(have) as u64;
        c.duplicates += have.saturating_sub(want) as u64;
        for (m, &at_ms) in msgs.iter().zip(got) {
            if m.measured {
                let us = ((at_ms as f64 - m.posted_ms) * 1000.0).max(1.0);
                c.latency_us.saturating_record(us as u64);
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(chat: &str, text: &str, at_ms: i64) -> SimSent {
        SimSent {
            session: "default".into(),
            chat_id: chat.into(),
            text: text.into(),
            at_ms,
        }
    }

    fn asked(posted: &[(f64, bool)]) -> Vec<Asked> {
        posted
            .iter()
            .map(|&(posted_ms, measured)| Asked {
                posted_ms,
                measured,
            })
            .collect()
    }

    #[test]
    fn one_reply_per_message_passes_and_pairs_in_order() {
        let mut a = BTreeMap::new();
        a.insert(
            "1@c.us".to_string(),
            asked(&[(100.0, false), (200.0, true)]),
        );
        a.insert("2@c.us".to_string(), asked(&[(150.0, true)]));
        let s = [
            sent("1@c.us", "R", 110),
            sent("2@c.us", "R", 170),
            sent("1@c.us", "R", 230),
        ];
        let c = check(&a, &s, "default", "R");
        assert!(c.passed());
        assert_eq!((c.expected, c.sent, c.missing, c.duplicates), (3, 3, 0, 0));
        // the warm-up reply (10 ms) is not measured; 20 ms and 30 ms are
        assert_eq!(c.latency_us.len(), 2);
        assert!(c.latency_us.equivalent(c.latency_us.min(), 20_000));
        assert!(c.latency_us.equivalent(c.latency_us.max(), 30_000));
        // 3 replies over 120 ms: 2 intervals
        assert_eq!(c.rate(), Some(2.0 * 1000.0 / 120.0));
    }

    #[test]
    fn a_surplus_in_one_chat_is_a_duplicate_even_when_another_chat_is_short() {
        let mut a = BTreeMap::new();
        a.insert("1@c.us".to_string(), asked(&[(0.0, true)]));
        a.insert("2@c.us".to_string(), asked(&[(0.0, true)]));
        let s = [sent("1@c.us", "R", 5), sent("1@c.us", "R", 6)];
        let c = check(&a, &s, "default", "R");
        assert!(!c.passed());
        assert_eq!((c.sent, c.missing, c.duplicates), (2, 1, 1));
    }

    #[test]
    fn other_sessions_texts_and_chats_are_told_apart() {
        let mut a = BTreeMap::new();
        a.insert("1@c.us".to_string(), asked(&[(0.0, true)]));
        let mut other_session = sent("1@c.us", "R", 5);
        other_session.session = "other".into();
        let s = [
            other_session,
            sent("1@c.us", "hello", 5),
            sent("9@c.us", "R", 5),
            sent("1@c.us", "R", 5),
        ];
        let c = check(&a, &s, "default", "R");
        assert_eq!((c.sent, c.other_texts, c.stray, c.missing), (1, 1, 1, 0));
        assert!(
            !c.passed(),
            "a reply to a chat that never wrote fails the run"
        );
    }
}
