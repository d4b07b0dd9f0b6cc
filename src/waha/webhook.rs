//! WAHA's webhook bodies, parsed leniently: WAHA versions and engines add, drop and null
//! fields, so nothing beyond `event` and `session` is required.

use serde::Deserialize;
use serde_json::Value;

use crate::domain::ChatId;

#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    /// `evt_…`; absent in WAHA before late 2024.
    #[serde(default)]
    pub id: Option<String>,
    /// ms since the epoch; absent in WAHA before late 2024.
    #[serde(default)]
    pub timestamp: Option<f64>,
    pub event: String,
    pub session: String,
    #[serde(default)]
    pub me: Option<Me>,
    #[serde(default, deserialize_with = "without_nul")]
    pub payload: Value,
}

/// The payload with U+0000 removed from its strings: PostgreSQL cannot store it in text,
/// so a customer's message holding one could never be applied (and refusing the webhook
/// would make WAHA give up on it). Removed on both databases, so the stored text is the
/// same on each.
fn without_nul<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    fn strip(v: &mut Value) {
        match v {
            Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
            Value::Array(a) => a.iter_mut().for_each(strip),
            Value::Object(o) => o.values_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = Value::deserialize(d)?;
    strip(&mut v);
    Ok(v)
}

#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    pub id: String,
    #[serde(rename = "pushName", default)]
    pub push_name: Option<String>,
}

/// `message` / `message.any` (and the base of reactions and revoked bodies).
#[derive(Debug, Clone, Deserialize)]
pub struct WaMessage {
    pub id: String,
    #[serde(default)]
    pub timestamp: Option<f64>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(rename = "fromMe", default)]
    pub from_me: bool,
    #[serde(default)]
    pub participant: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(rename = "hasMedia", default)]
    pub has_media: bool,
    #[serde(default)]
    pub media: Option<WaMedia>,
    /// Deprecated older field for the media URL.
    #[serde(rename = "mediaUrl", default)]
    pub media_url: Option<String>,
    #[serde(default)]
    pub ack: Option<i64>,
    /// `app` (typed on the phone) or `api` (sent through WAHA's API); newer WAHA only.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub location: Option<Value>,
    #[serde(rename = "vCards", default)]
    pub vcards: Option<Vec<String>>,
    #[serde(rename = "_data", default)]
    pub data: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WaMedia {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub mimetype: Option<String>,
    #[serde(default)]
    pub filename: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AckBody {
    pub id: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(rename = "fromMe", default)]
    pub from_me: bool,
    #[serde(default)]
    pub ack: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReactionBody {
    #[serde(flatten)]
    pub base: ReactionBase,
    pub reaction: ReactionInner,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReactionBase {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(rename = "fromMe", default)]
    pub from_me: bool,
    #[serde(default)]
    pub participant: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReactionInner {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(rename = "messageId")]
    pub message_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RevokedBody {
    #[serde(rename = "revokedMessageId", default)]
    pub revoked_message_id: Option<String>,
    #[serde(default)]
    pub before: Option<WaMessage>,
    #[serde(default)]
    pub after: Option<WaMessage>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionStatusBody {
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PresenceBody {
    pub id: String,
    #[serde(default)]
    pub presences: Vec<Presence>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Presence {
    #[serde(default)]
    pub participant: Option<String>,
    #[serde(rename = "lastKnownPresence", default)]
    pub last_known_presence: Option<String>,
}

/// The chat a message-like event belongs to. Engines disagree on `from`/`to` for one's
/// own messages, hence the rule integrations settled on: `fromMe ? (to ?? from) : from`.
pub fn chat_of(from_me: bool, from: Option<&str>, to: Option<&str>) -> Option<ChatId> {
    let raw = if from_me { to.or(from) } else { from }?;
    (!raw.is_empty()).then(|| ChatId::normalise(raw))
}

impl WaMessage {
    pub fn chat(&self) -> Option<ChatId> {
        chat_of(self.from_me, self.from.as_deref(), self.to.as_deref())
    }

    /// The sender's display name (`notifyName` on WEBJS, `pushName` on NOWEB/GOWS).
    pub fn sender_name(&self) -> Option<String> {
        let d = self.data.as_ref()?;
        ["notifyName", "pushName"]
            .iter()
            .find_map(|k| d.get(k).and_then(Value::as_str))
            .or_else(|| d.pointer("/Info/PushName").and_then(Value::as_str))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// Who wrote it: the member in a group, the chat itself otherwise.
    pub fn sender(&self) -> Option<String> {
        self.participant
            .as_deref()
            .or(self.author.as_deref())
            .filter(|s| !s.is_empty())
            .or(if self.from_me {
                None
            } else {
                self.from.as_deref()
            })
            .map(|s| ChatId::normalise(s).into_string())
    }

    pub fn media_url(&self) -> Option<&str> {
        self.media
            .as_ref()
            .and_then(|m| m.url.as_deref())
            .or(self.media_url.as_deref())
    }

    /// Text to show: the body or caption, else a short description of what was sent.
    pub fn text(&self) -> String {
        if let Some(b) = self.body.as_deref().filter(|b| !b.is_empty()) {
            return b.to_string();
        }
        if let Some(loc) = &self.location {
            let desc = loc.get("description").and_then(Value::as_str).unwrap_or("");
            let lat = loc
                .get("latitude")
                .map(|v| v.to_string())
                .unwrap_or_default();
            let lon = loc
                .get("longitude")
                .map(|v| v.to_string())
                .unwrap_or_default();
            return format!("📍 {desc} ({lat}, {lon})").replace(" ()", "");
        }
        if self.vcards.as_ref().is_some_and(|v| !v.is_empty()) {
            return "👤 Contact card".into();
        }
        String::new()
    }
}

impl Envelope {
    /// The chat whose conversation actor handles this event, if it belongs to one.
    pub fn chat(&self) -> Option<ChatId> {
        let p = &self.payload;
        let field = |k: &str| p.get(k).and_then(Value::as_str);
        let from_me = p.get("fromMe").and_then(Value::as_bool).unwrap_or(false);
        match self.event.as_str() {
            "message" | "message.any" | "message.ack" | "message.reaction" | "message.edited" => {
                chat_of(from_me, field("from"), field("to"))
            }
            "message.revoked" => ["after", "before"].iter().find_map(|k| {
                let m = p.get(*k)?;
                let from_me = m.get("fromMe").and_then(Value::as_bool).unwrap_or(false);
                chat_of(
                    from_me,
                    m.get("from").and_then(Value::as_str),
                    m.get("to").and_then(Value::as_str),
                )
            }),
            "presence.update" => field("id").map(ChatId::normalise),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_about_nulls_and_missing_fields() {
        let body = r#"{"event":"message","session":"default","payload":{"id":"false_1@c.us_AA",
            "from":"1@c.us","to":null,"participant":null,"media":null,"body":"hi","ack":null,
            "_data":{"notifyName":"Ann"},"extra":{"x":1}}}"#;
        let env: Envelope = serde_json::from_str(body).unwrap();
        assert!(env.id.is_none());
        let m = WaMessage::deserialize(&env.payload).unwrap();
        assert_eq!(m.chat().unwrap().as_str(), "1@c.us");
        assert_eq!(m.sender_name().as_deref(), Some("Ann"));
        assert_eq!(m.sender().as_deref(), Some("1@c.us"));
        assert_eq!(m.text(), "hi");
    }

    #[test]
    fn own_messages_belong_to_the_recipient_chat() {
        assert_eq!(
            chat_of(true, Some("me@c.us"), Some("2@c.us"))
                .unwrap()
                .as_str(),
            "2@c.us"
        );
        assert_eq!(
            chat_of(true, Some("2@c.us"), None).unwrap().as_str(),
            "2@c.us"
        );
        assert_eq!(
            chat_of(false, Some("3@g.us"), Some("me@c.us"))
                .unwrap()
                .as_str(),
            "3@g.us"
        );
    }
}
