//! GDPR (issue 17, contract §3c) on SQLite and PostgreSQL: a contact's export holds
//! everything kept about the person; its erasure leaves no personal data in the contact,
//! its messages, notes and previews, the search indexes, the event log (read from the
//! database and replayed with `since` over a real websocket) or the audit log, keeps an
//! audit entry, and a later message from the same number starts a fresh contact. Who may
//! do either is proved row by row in tests/permissions.rs (docs/permissions.md).

mod common;

use std::time::Duration;

use common::{urlencode, Backend, Setup};
use serde_json::{json, Value};

const ANN: &str = "447700900101@c.us";
/// Words that only the erased person's data holds: none may survive the erasure.
const SECRETS: [&str; 7] = [
    "zebrafish",
    "Secretname",
    "walnuts",
    "ann.private",
    "900101",
    "Leedsville",
    "callback-7731",
];

async fn stored(s: &Setup, chat: &str, preview: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let c = s.conversation_for(chat).await;
        if c["last_message_preview"] == preview {
            return c;
        }
        assert!(tokio::time::Instant::now() < deadline, "{chat}: {c}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn none_of_the_secrets(what: &str, text: &str) {
    for s in SECRETS {
        assert!(
            !text.to_lowercase().contains(&s.to_lowercase()),
            "{what} still holds {s:?}: {text}"
        );
    }
}

async fn export_then_erase(b: Backend) {
    let s = Setup::new(b).await;
    s.auto_assign("default", false).await;
    let before = s.socket(None).await;
    let since = before.last_seq;
    drop(before);

    for text in ["my zebrafish results came back", "please call me"] {
        s.sim
            .control_created(
                "/sim/inbound",
                json!({"session": "default", "from": ANN, "body": text, "notify_name": "Ann Secretname"}),
            )
            .await;
        // One after the other: WAHA does not promise the order of two webhooks, and the
        // export below lists the messages as they were stored.
        stored(&s, ANN, text).await;
    }
    // The same person in a group: what they wrote there is theirs too.
    s.sim
        .control_created(
            "/sim/inbound",
            json!({"session": "default", "from": "120363000000077001@g.us", "participant": ANN,
                "body": "walnuts for everyone in the group", "notify_name": "Ann Secretname"}),
        )
        .await;
    stored(
        &s,
        "120363000000077001@g.us",
        "walnuts for everyone in the group",
    )
    .await;
    let conv = stored(&s, ANN, "please call me").await;
    let conv_id = conv["id"].as_i64().expect("id");
    let contact_id = conv["contact_id"].as_i64().expect("contact");
    let (code, r) = s
        .patch(
            &format!("/api/contacts/{contact_id}"),
            json!({"name": "Ann Secretname", "email": "ann.private@example.com",
                "notes": "allergic to walnuts", "tags": ["vip"],
                "attributes": {"city": "Leedsville"}}),
        )
        .await;
    assert_eq!(code, 200, "{r}");
    let (code, r) = s
        .post(
            &format!("/api/conversations/{conv_id}/notes"),
            json!({"text": "promised a callback-7731"}),
        )
        .await;
    assert_eq!(code, 201, "{r}");
    let (code, r) = s
        .post(
            &format!("/api/conversations/{conv_id}/messages"),
            json!({"text": "we will phone you about the zebrafish"}),
        )
        .await;
    assert!(code == 201 || code == 200 || code == 202, "{r}");
    stored(&s, ANN, "we will phone you about the zebrafish").await;
    // Its acks are in before the erasure: an ack that arrives later is a new webhook,
    // which WAHA's body (the chat's number) comes with.
    s.eventually(&format!("/api/messages/{}", r["id"]), |m| {
        m["status"] == "read"
    })
    .await;

    // The export: profile, the conversation with every message and note, the audit
    // entries about the contact, and the campaign history (none here: tests/campaigns.rs).
    let (code, export) = s.get(&format!("/api/contacts/{contact_id}/export")).await;
    assert_eq!(code, 200, "{export}");
    assert_eq!(export["contact"]["id"], contact_id);
    assert_eq!(export["contact"]["email"], "ann.private@example.com");
    assert_eq!(export["contact"]["tags"], json!(["vip"]));
    let convs = export["conversations"].as_array().expect("conversations");
    assert_eq!(convs.len(), 1, "{export}");
    let texts: Vec<&str> = convs[0]["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["text"].as_str().expect("text"))
        .collect();
    assert_eq!(
        texts,
        [
            "my zebrafish results came back",
            "please call me",
            "we will phone you about the zebrafish"
        ]
    );
    assert_eq!(convs[0]["notes"][0]["text"], "promised a callback-7731");
    let actions: Vec<&str> = export["audit"]
        .as_array()
        .expect("audit")
        .iter()
        .map(|a| a["action"].as_str().expect("action"))
        .collect();
    assert!(actions.contains(&"contact.update"), "{actions:?}");
    assert_eq!(export["campaigns"], json!([]));

    let (code, erased) = s
        .post(&format!("/api/contacts/{contact_id}/erase"), json!({}))
        .await;
    assert_eq!(code, 200, "{erased}");
    assert_eq!(erased["conversations"], 1, "{erased}");
    assert!(
        erased["events_rewritten"].as_u64().expect("count") > 0,
        "{erased}"
    );
    // Asking again is harmless.
    let (code, again) = s
        .post(&format!("/api/contacts/{contact_id}/erase"), json!({}))
        .await;
    assert_eq!(code, 200, "{again}");
    assert_eq!(again["erased_at"], erased["erased_at"]);

    // Through the API: the contact is a tombstone, opted out; messages, notes and the
    // conversation's preview are empty; searches find nothing.
    let (_, c) = s.get(&format!("/api/contacts/{contact_id}")).await;
    none_of_the_secrets("the contact", &c.to_string());
    assert_eq!(c["erased_at"], erased["erased_at"]);
    assert_eq!(c["opted_out"], true);
    assert_eq!(c["tags"], json!([]));
    assert_eq!(c["attributes"], json!({}));
    let (_, conv) = s.get(&format!("/api/conversations/{conv_id}")).await;
    none_of_the_secrets("the conversation", &conv.to_string());
    let msgs = s.messages(conv_id).await;
    assert_eq!(msgs.len(), 3);
    for m in &msgs {
        assert_eq!(m["text"], "", "{m}");
    }
    none_of_the_secrets("the messages", &Value::from(msgs).to_string());
    let (_, notes) = s.get(&format!("/api/conversations/{conv_id}/notes")).await;
    none_of_the_secrets("the notes", &notes.to_string());
    for q in ["zebrafish", "secretname", "900101"] {
        let (_, found) = s
            .get(&format!("/api/conversations?q={}", urlencode(q)))
            .await;
        assert_eq!(found["items"], json!([]), "?q={q}");
        let (_, found) = s.get(&format!("/api/contacts?q={}", urlencode(q))).await;
        assert_eq!(found["items"], json!([]), "contacts ?q={q}");
    }

    // In the database itself: every table that held the words.
    for (what, sql) in [
        ("messages", "SELECT text || ' ' || COALESCE(sender, '') || ' ' || COALESCE(sender_name, '') || COALESCE(waha_id, '') || COALESCE(media_url, '') FROM messages"),
        ("outbox", "SELECT text FROM outbox"),
        ("notes", "SELECT text FROM notes"),
        ("contacts", "SELECT COALESCE(name, '') || chat_id || COALESCE(phone, '') || COALESCE(email, '') || COALESCE(notes, '') || COALESCE(push_name, '') || attributes || search_text FROM contacts"),
        ("conversations", "SELECT chat_id || COALESCE(title, '') || COALESCE(last_message_preview, '') FROM conversations"),
        ("contact tags", "SELECT tag FROM contact_tags"),
        ("events", "SELECT data FROM events"),
        ("audit", "SELECT COALESCE(before, '') || COALESCE(after, '') FROM audit_log"),
        ("inbox", "SELECT body FROM inbox"),
    ] {
        for row in s.db.texts(sql).await {
            none_of_the_secrets(what, &row);
        }
    }
    if b == Backend::Sqlite {
        // The FTS5 indexes answer from their own tables, kept by triggers.
        for (table, word) in [
            ("messages_fts", "zebrafish"),
            ("contacts_fts", "walnuts"),
            ("contacts_fts", "secretname"),
        ] {
            let hits =
                s.db.texts(&format!(
                    "SELECT CAST(rowid AS TEXT) FROM {table} WHERE {table} MATCH '\"{word}\"'"
                ))
                .await;
            assert!(hits.is_empty(), "{table} still finds {word}: {hits:?}");
        }
    }

    // Replayed with `since` over a real websocket: the conversation's frames come back
    // redacted, up to the erasure's own contact.updated.
    let mut ws = s.socket(Some(since)).await;
    let frames = ws
        .collect_until(Duration::from_secs(10), |seen| {
            seen.iter().any(|f| {
                f["type"] == "contact.updated"
                    && f["data"]["id"] == contact_id
                    && f["data"]["change"] == "erased"
            })
        })
        .await;
    assert!(
        frames.iter().any(|f| f["data"]["change"] == "erased"),
        "the erasure's event was replayed: {frames:?}"
    );
    let created: Vec<&Value> = frames
        .iter()
        .filter(|f| f["type"] == "message.created" && f["data"]["conversation_id"] == conv_id)
        .collect();
    assert_eq!(created.len(), 3, "{frames:?}");
    for f in &frames {
        none_of_the_secrets("a replayed frame", &f.to_string());
    }

    // The audit log keeps the erasure (without the data).
    let (_, audit) = s
        .get(&format!(
            "/api/audit-log?target_type=contact&target_id={contact_id}&action=contact.erase"
        ))
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");

    // The same number writing again is a fresh contact in a fresh conversation.
    s.customer_writes(ANN, "hello again").await;
    let fresh = stored(&s, ANN, "hello again").await;
    assert_ne!(fresh["id"], conv_id);
    let fresh_contact = fresh["contact_id"].as_i64().expect("contact");
    assert_ne!(fresh_contact, contact_id);
    let (_, c) = s.get(&format!("/api/contacts/{fresh_contact}")).await;
    assert_eq!(c["erased_at"], Value::Null);
    assert_eq!(c["phone"], "+447700900101");
    let (_, old) = s.get(&format!("/api/contacts/{contact_id}")).await;
    assert!(old["erased_at"].is_i64(), "{old}");
}
both!(export_then_erase);
