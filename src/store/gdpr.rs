//! GDPR (issue 17, contract §3c): everything held about a contact, read for its export;
//! its erasure, one conversation at a time (in the conversation's turn) and then the
//! contact itself. Every step is idempotent, and `erased_at` is written by the last one,
//! so an erasure interrupted part-way is finished by asking again.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::audit::AuditItem;
use super::conversations::{Conversation, SELECT_PREFIX};
use super::messages::{self, Message};
use super::notes::Note;
use super::{placeholders, Db, Result, Tx};
use crate::domain::erasure::{erased_contact_chat_id, redact_frame, AUDIT_MARKER};

/// The conversations that are the contact's: linked to it, or a person chat of its session
/// with one of its WhatsApp ids (a chat created before the contact knew that id).
pub async fn conversations_of(
    db: &Db,
    contact_id: i64,
    session_id: i64,
    wa_ids: &[String],
) -> Result<Vec<Conversation>> {
    let ids = placeholders(3, wa_ids.len().max(1));
    let text = format!(
        "{SELECT_PREFIX} WHERE c.contact_id = $1
            OR (c.session_id = $2 AND c.is_group = FALSE AND c.chat_id IN ({ids}))
         ORDER BY c.id"
    );
    let rows: Vec<Conversation> = on_pool!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(text)).bind(contact_id).bind(session_id);
        if wa_ids.is_empty() {
            q = q.bind(String::new());
        }
        for id in wa_ids {
            q = q.bind(id.clone());
        }
        q.fetch_all(p).await
    })?;
    Ok(rows)
}

/// A conversation's messages, oldest first: every one (an export is the whole record).
pub async fn messages_of(db: &Db, conversation_id: i64) -> Result<Vec<Message>> {
    messages::oldest_first(db, conversation_id, i64::MAX).await
}

/// A conversation's notes, oldest first.
pub async fn notes_of(db: &Db, conversation_id: i64) -> Result<Vec<Note>> {
    let rows = on_pool!(db, p => sqlx::query_as(
        "SELECT n.id, n.conversation_id, n.author_id, u.name AS author_name, n.text, n.created_at
         FROM notes n LEFT JOIN users u ON u.id = n.author_id
         WHERE n.conversation_id = $1 ORDER BY n.id")
        .bind(conversation_id).fetch_all(p).await)?;
    Ok(rows)
}

/// A stored import chunk that names the contact's number or email (the CSV text as it
/// was uploaded: other people's rows may share the chunk).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ImportMention {
    pub import_id: i64,
    /// The line the chunk's first record starts on.
    pub first_line: i64,
    /// The chunk's rows that name the contact, as uploaded.
    #[sqlx(skip)]
    pub rows: Vec<String>,
    #[serde(skip)]
    data: String,
}

/// What identifies the contact in an uploaded CSV: its number's digits and its email.
fn needles(phone: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = phone {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 6 {
            out.push(digits);
        }
    }
    if let Some(e) = email.filter(|e| !e.is_empty()) {
        out.push(e.to_lowercase());
    }
    out
}

/// The stored import chunks of the contact's session that name it.
pub async fn import_mentions(
    db: &Db,
    session_id: i64,
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<Vec<ImportMention>> {
    let mut out = Vec::new();
    for n in needles(phone, email) {
        let rows: Vec<ImportMention> = on_pool!(db, p => sqlx::query_as(
            "SELECT k.import_id, k.first_line, k.data FROM contact_import_chunks k
             JOIN contact_imports i ON i.id = k.import_id
             WHERE i.session_id = $1 AND lower(k.data) LIKE ('%' || $2 || '%')
             ORDER BY k.import_id, k.seq")
            .bind(session_id).bind(&n).fetch_all(p).await)?;
        for mut r in rows {
            if out
                .iter()
                .any(|m: &ImportMention| (m.import_id, m.first_line) == (r.import_id, r.first_line))
            {
                continue;
            }
            r.rows = r
                .data
                .lines()
                .filter(|l| l.to_lowercase().contains(&n))
                .map(str::to_string)
                .collect();
            out.push(r);
        }
    }
    Ok(out)
}

/// Audit entries about the contact, oldest first.
pub async fn audit_of(db: &Db, contact_id: i64) -> Result<Vec<AuditItem>> {
    let access = crate::domain::access::AuditFilter { sessions: None };
    let q = crate::domain::audit::AuditQuery {
        target_type: Some("contact".into()),
        target_id: Some(contact_id.to_string()),
        ..Default::default()
    };
    let mut items = super::audit::list(db, &access, &q, None, i64::MAX).await?;
    items.reverse();
    Ok(items)
}

/// Erases one conversation of the contact, in its turn: its messages' text, senders,
/// media, reactions and WAHA ids (down to their raw part, which names no chat and still
/// absorbs a repeated webhook), its outbox texts, its notes, its title, preview and chat id, and
/// every stored event frame of it (so a `since` replay answers them redacted). The search
/// indexes follow the rows: PostgreSQL's trigram indexes are over the columns, SQLite's
/// FTS tables are kept by triggers on the same updates.
pub async fn erase_conversation(tx: &mut Tx, id: i64, chat_id: &str) -> Result<u64> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE outbox SET text = '' WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query(
        "UPDATE messages SET text = '', sender = NULL, sender_name = NULL, media_url = NULL,
            media_mimetype = NULL, media_filename = NULL, reactions = '[]',
            waha_id = CASE WHEN waha_id IS NULL THEN NULL ELSE raw_id END
         WHERE conversation_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("UPDATE notes SET text = '' WHERE conversation_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    // The customer's rating in their own words, and the emails that named them.
    on_tx!(tx, c => sqlx::query("UPDATE csat_surveys SET raw_answer = NULL WHERE conversation_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    super::email::erase_conversation(tx, id).await?;
    on_tx!(tx, c => sqlx::query(
        "UPDATE conversations SET chat_id = $2, title = NULL, last_message_preview = NULL WHERE id = $1")
        .bind(id).bind(chat_id).execute(c).await.map(|r| r.rows_affected()))?;
    // Page through the conversation's frames by id: an old conversation has many.
    let (mut after, mut rewritten) = (0i64, 0u64);
    loop {
        let rows: Vec<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT id, data FROM events WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT 500")
            .bind(id).bind(after).fetch_all(c).await)?;
        let Some(last) = rows.last().map(|r| r.0) else {
            break;
        };
        for (eid, data) in rows {
            // A frame that is not JSON cannot be redacted field by field: it goes whole.
            let redacted = match serde_json::from_str::<Value>(&data) {
                Ok(mut v) => {
                    redact_frame(&mut v, chat_id);
                    v.to_string()
                }
                Err(_) => "{}".to_string(),
            };
            if redacted != data {
                on_tx!(tx, c => sqlx::query("UPDATE events SET data = $2 WHERE id = $1")
                    .bind(eid).bind(&redacted).execute(c).await.map(|r| r.rows_affected()))?;
                rewritten += 1;
            }
        }
        after = last;
    }
    Ok(rewritten)
}

/// The contact's conversations not yet erased (a message may have opened one while the
/// others were being erased).
pub async fn unerased_conversations(tx: &mut Tx, contact_id: i64) -> Result<Vec<i64>> {
    let ids = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM conversations WHERE contact_id = $1 AND chat_id NOT LIKE 'erased-%' ORDER BY id")
        .bind(contact_id).fetch_all(c).await)?;
    Ok(ids)
}

/// Erases the contact's own row and what hangs on it: profile, tags, WhatsApp ids, the
/// personal data its audit entries recorded, the raw webhooks still kept that name its
/// number, the stored import rows that name it. The row stays, as the tombstone with
/// `erased_at` and consent `opted_out` (source `erasure`) that campaigns skip; its chat id
/// is freed so the same number writing again starts a fresh contact.
pub async fn erase_contact(
    tx: &mut Tx,
    id: i64,
    session_id: i64,
    wa_ids: &[String],
    phone: Option<&str>,
    email: Option<&str>,
) -> Result<()> {
    let now = tx.now;
    on_tx!(tx, c => sqlx::query(
        "UPDATE contacts SET chat_id = $2, phone = NULL, name = NULL, push_name = NULL, email = NULL,
            notes = NULL, attributes = '{}', type = NULL, lifetime_spend_cents = 0, owner_id = NULL,
            consent = 'opted_out', consent_source = 'erasure', consent_at = $3,
            erased_at = COALESCE(erased_at, $3), updated_at = $3
         WHERE id = $1")
        .bind(id).bind(erased_contact_chat_id(id)).bind(now)
        .execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM contact_tags WHERE contact_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("DELETE FROM contact_wa_ids WHERE contact_id = $1")
        .bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query(
        "UPDATE audit_log SET
            before = CASE WHEN before IS NULL THEN NULL ELSE $2 END,
            after = CASE WHEN after IS NULL THEN NULL ELSE $2 END
         WHERE target_type = 'contact' AND target_id = $1 AND action <> 'contact.erase'
           AND ((before IS NOT NULL AND before <> $2) OR (after IS NOT NULL AND after <> $2))")
        .bind(id.to_string()).bind(AUDIT_MARKER).execute(c).await.map(|r| r.rows_affected()))?;
    erase_group_messages(tx, session_id, wa_ids).await?;
    // Raw webhooks already applied are kept a while for diagnosis; those of this person
    // go now. (Unapplied ones are still to be applied: they open a fresh contact.)
    for w in wa_ids {
        let user = w.split('@').next().unwrap_or(w);
        if user.len() < 6 {
            continue;
        }
        on_tx!(tx, c => sqlx::query(
            "DELETE FROM inbox WHERE session_id = $1 AND processed_at IS NOT NULL
               AND body LIKE ('%' || $2 || '%')")
            .bind(session_id).bind(user).execute(c).await.map(|r| r.rows_affected()))?;
    }
    // A finished import's chunks are needed no more (only an unfinished one resumes
    // from them); those naming the contact go.
    for n in needles(phone, email) {
        on_tx!(tx, c => sqlx::query(
            "DELETE FROM contact_import_chunks WHERE lower(data) LIKE ('%' || $2 || '%')
               AND import_id IN (SELECT id FROM contact_imports
                                  WHERE session_id = $1 AND status IN ('completed', 'failed'))")
            .bind(session_id).bind(&n).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

/// What the person wrote in groups: those messages lose their text, names and media (the
/// group keeps its other members' words), and so do their stored frames and any group
/// preview or conversation frame that repeats one of them.
async fn erase_group_messages(tx: &mut Tx, session_id: i64, wa_ids: &[String]) -> Result<()> {
    for w in wa_ids {
        let rows: Vec<(i64, i64, String)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT m.id, m.conversation_id, m.text FROM messages m JOIN conversations cv ON cv.id = m.conversation_id
             WHERE m.session_id = $1 AND m.sender = $2 AND cv.is_group")
            .bind(session_id).bind(w).fetch_all(c).await)?;
        if rows.is_empty() {
            continue;
        }
        on_tx!(tx, c => sqlx::query(
            "UPDATE messages SET text = '', sender = NULL, sender_name = NULL, media_url = NULL,
                media_mimetype = NULL, media_filename = NULL, reactions = '[]',
                waha_id = CASE WHEN waha_id IS NULL THEN NULL ELSE raw_id END
             WHERE session_id = $1 AND sender = $2
               AND conversation_id IN (SELECT id FROM conversations WHERE session_id = $1 AND is_group)")
            .bind(session_id).bind(w).execute(c).await.map(|r| r.rows_affected()))?;
        let texts: std::collections::HashSet<&str> = rows
            .iter()
            .map(|r| r.2.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        let mut groups: Vec<i64> = rows.iter().map(|r| r.1).collect();
        groups.sort_unstable();
        groups.dedup();
        for g in &groups {
            on_tx!(tx, c => sqlx::query(
                "UPDATE conversations SET last_message_preview = NULL WHERE id = $1")
                .bind(g).execute(c).await.map(|r| r.rows_affected()))?;
            let frames: Vec<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
                "SELECT id, data FROM events WHERE conversation_id = $1 ORDER BY id")
                .bind(g).fetch_all(c).await)?;
            for (eid, data) in frames {
                let Ok(mut v) = serde_json::from_str::<Value>(&data) else {
                    continue;
                };
                let theirs = v.get("sender").and_then(Value::as_str) == Some(w.as_str());
                let repeats = v
                    .get("last_message_preview")
                    .and_then(Value::as_str)
                    .is_some_and(|p| texts.iter().any(|t| t.starts_with(p) && !p.is_empty()));
                if !theirs && !repeats {
                    continue;
                }
                if let Value::Object(m) = &mut v {
                    if theirs {
                        m.insert("text".into(), Value::String(String::new()));
                        for k in ["sender", "sender_name", "media"] {
                            m.insert(k.into(), Value::Null);
                        }
                        m.insert("reactions".into(), Value::Array(Vec::new()));
                        // A group message's WAHA id ends with its author's number.
                        if let Some(id) = m.get("waha_id").and_then(Value::as_str) {
                            let raw = crate::domain::chat::raw_message_id(id).to_string();
                            m.insert("waha_id".into(), Value::String(raw));
                        }
                    }
                    if repeats {
                        m.insert("last_message_preview".into(), Value::Null);
                    }
                }
                on_tx!(tx, c => sqlx::query("UPDATE events SET data = $2 WHERE id = $1")
                    .bind(eid).bind(v.to_string()).execute(c).await.map(|r| r.rows_affected()))?;
            }
        }
    }
    Ok(())
}

/// Whether the contact was erased (and when).
pub async fn erased_at(db: &Db, id: i64) -> Result<Option<i64>> {
    let at: Option<Option<i64>> = on_pool!(db, p => sqlx::query_scalar(
        "SELECT erased_at FROM contacts WHERE id = $1").bind(id).fetch_optional(p).await)?;
    Ok(at.flatten())
}
