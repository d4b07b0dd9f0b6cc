//! GDPR erasure (issue 17): what of a stored frame is personal data, and what it becomes.
//! The store rewrites the event log's frames of an erased contact's conversations with
//! [`redact_frame`], so a `since` replay answers them redacted.

use serde_json::{Map, Value};

/// What an erased contact's conversation's chat id becomes: unique per conversation (the
/// `(session, chat_id)` key stays free, so the same number writing again starts a fresh
/// conversation and contact), and no number in it.
pub fn erased_chat_id(conversation_id: i64) -> String {
    format!("erased-{conversation_id}")
}

/// The same for the contact's own chat id.
pub fn erased_contact_chat_id(contact_id: i64) -> String {
    format!("erased-contact-{contact_id}")
}

/// The marker an audit entry's `before`/`after` becomes (the database admits exactly this
/// change to an audit entry, migration 0013).
pub const AUDIT_MARKER: &str = r#"{"erased":true}"#;

/// Keys whose values are the customer's words or identity wherever they appear in a frame
/// of an erased conversation (a message, a conversation, a note, a contact card).
const CLEARED: &[&str] = &[
    "name",
    "push_name",
    "phone",
    "email",
    "notes",
    "title",
    "last_message_preview",
    "sender",
    "sender_name",
    "media",
    "attributes",
    "tags",
    "wa_ids",
];

/// Rewrites a stored event's data in place: texts emptied, names, numbers and media
/// cleared, chat ids replaced by `chat_id`. Walks nested objects and arrays, since a
/// conversation frame may carry its contact's card.
pub fn redact_frame(v: &mut Value, chat_id: &str) {
    match v {
        Value::Object(m) => redact_object(m, chat_id),
        Value::Array(a) => a.iter_mut().for_each(|x| redact_frame(x, chat_id)),
        _ => {}
    }
}

fn redact_object(m: &mut Map<String, Value>, chat_id: &str) {
    for (k, val) in m.iter_mut() {
        match k.as_str() {
            "text" | "body" | "preview" | "reason" if val.is_string() => {
                *val = Value::String(String::new())
            }
            "chat_id" | "wa_id" if val.is_string() => *val = Value::String(chat_id.to_string()),
            // A serialized WAHA id names the chat; its raw part does not.
            "waha_id" => {
                if let Some(id) = val.as_str() {
                    *val = Value::String(super::chat::raw_message_id(id).to_string());
                }
            }
            "reactions" => *val = Value::Array(Vec::new()),
            "attributes" if val.is_object() => *val = Value::Object(Map::new()),
            "tags" | "wa_ids" if val.is_array() => *val = Value::Array(Vec::new()),
            k if CLEARED.contains(&k) => *val = Value::Null,
            _ => redact_frame(val, chat_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_message_frame_keeps_its_shape_without_the_words() {
        let mut v = json!({"id": 9, "conversation_id": 3, "text": "my card is 4111",
            "waha_id": "false_447700900123@c.us_ABCDEF",
            "sender": "447700900123@c.us", "sender_name": "Ann", "status": "read",
            "media": {"url": "http://x/y.jpg", "mimetype": "image/jpeg", "filename": "y.jpg"},
            "reactions": [{"sender": "447700900123@c.us", "emoji": "👍"}], "direction": "in"});
        redact_frame(&mut v, "erased-3");
        assert_eq!(
            v,
            json!({"id": 9, "conversation_id": 3, "text": "", "waha_id": "ABCDEF", "sender": null,
                "sender_name": null, "status": "read", "media": null, "reactions": [],
                "direction": "in"})
        );
    }

    #[test]
    fn nested_cards_are_redacted_too() {
        let mut v = json!({"conversation": {"id": 3, "chat_id": "447700900123@c.us",
            "title": "Ann", "last_message_preview": "hello",
            "contact": {"id": 1, "name": "Ann", "phone": "+447700900123", "tags": ["vip"],
                "attributes": {"city": "Leeds"}}}, "status": "open"});
        redact_frame(&mut v, "erased-3");
        let text = v.to_string();
        for gone in ["447700900123", "Ann", "hello", "vip", "Leeds"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        assert_eq!(v["conversation"]["chat_id"], "erased-3");
        assert_eq!(v["status"], "open");
    }
}
