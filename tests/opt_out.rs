//! Opt-out by keyword (issue 17, contract §3c) on SQLite and PostgreSQL: a customer's
//! message that is exactly `STOP` (any case, trimmed) or a configured word
//! (`TICKHUB_OPT_OUT_WORDS`) opts the contact out, with source `keyword`, an audit entry
//! and `contact.updated`; a message that only contains the word does not.

mod common;

use std::time::Duration;

use common::{Backend, Options, Setup};
use serde_json::Value;

async fn contact_after(s: &Setup, chat: &str, text: &str) -> Value {
    s.customer_writes(chat, text).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let conv = loop {
        let c = s.conversation_for(chat).await;
        // The message and the opt-out commit together: once the preview shows it, the
        // contact reads as it will stay.
        if c["last_message_preview"] == text {
            break c;
        }
        assert!(tokio::time::Instant::now() < deadline, "{chat}: {c}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (code, c) = s
        .get(&format!("/api/contacts/{}", conv["contact_id"]))
        .await;
    assert_eq!(code, 200, "{c}");
    c
}

async fn stop_words_opt_out(b: Backend) {
    let s = Setup::with(
        b,
        Options {
            env: vec![("TICKHUB_OPT_OUT_WORDS".into(), "Unsubscribe, arrêt".into())],
            ..Default::default()
        },
    )
    .await;
    s.auto_assign("default", false).await;
    let mut ws = s.socket(None).await;
    for (n, text, opts_out) in [
        (1, "STOP", true),
        (2, "stop", true),
        (3, " Stop ", true),
        (4, "STOP please", false),
        (5, "please stop", false),
        (6, "unsubscribe", true),
        (7, "ARRÊT", true),
        (8, "hello", false),
    ] {
        let chat = format!("44770090{n:04}@c.us");
        let c = contact_after(&s, &chat, text).await;
        assert_eq!(c["opted_out"], opts_out, "{text:?}: {c}");
        if opts_out {
            assert_eq!(c["consent"], "opted_out", "{c}");
            assert_eq!(c["consent_source"], "keyword", "{c}");
            assert!(c["consent_at"].is_i64(), "{c}");
            let id = c["id"].clone();
            ws.expect("contact.updated", |d| {
                d["id"] == id && d["change"] == "updated"
            })
            .await;
            let (_, audit) = s
                .get(&format!(
                    "/api/audit-log?target_type=contact&target_id={id}&action=contact.opt_out"
                ))
                .await;
            assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
            assert_eq!(audit["items"][0]["via"], "system", "{audit}");
        } else {
            assert!(c["consent"].is_null(), "{text:?}: {c}");
        }
    }
    // A second STOP changes nothing and records nothing more.
    let c = contact_after(&s, "447700900001@c.us", "stop").await;
    let (_, audit) = s
        .get(&format!(
            "/api/audit-log?target_type=contact&target_id={}&action=contact.opt_out",
            c["id"]
        ))
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
    // A conversation its actor already knows (PostgreSQL's one-statement path for the
    // message) opts out the same.
    let c = contact_after(&s, "447700900008@c.us", "STOP").await;
    assert_eq!(c["consent_source"], "keyword", "{c}");
    // The contacts filter sees them.
    let (_, list) = s.get("/api/contacts?opted_out=true&limit=100").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(6), "{list}");
}
both!(stop_words_opt_out);
