//! What an event from WhatsApp means to the inbox, whatever WAHA version or engine said
//! it: the `waha` module translates webhooks into these, and the store applies them.

use super::{AckStatus, ChatId, Direction};

/// A webhook's meaning, and the chat whose conversation it belongs to (`None`: the
/// session's own, e.g. a status change).
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub chat: Option<ChatId>,
    pub change: Change,
}

impl Inbound {
    /// What makes two deliveries the same event when WAHA sends no envelope id (older
    /// versions): the business key of the change, within its session. `None` for changes
    /// that are never duplicates — a status repeated (WORKING again after a reconnect) is
    /// a real event, applied idempotently; typing is ephemeral.
    pub fn dedupe_key(&self) -> Option<String> {
        Some(match &self.change {
            Change::Message(m) => format!("msg:{}", super::chat::raw_message_id(&m.waha_id)),
            Change::Ack { raw_id, status } => format!("ack:{raw_id}:{}", status.as_str()),
            Change::Reaction {
                raw_id,
                sender,
                emoji,
            } => format!(
                "reaction:{raw_id}:{sender}:{}",
                emoji.as_deref().unwrap_or("")
            ),
            Change::Revoke { raw_id } => format!("revoke:{raw_id}"),
            Change::SessionStatus { .. } | Change::Typing { .. } | Change::Nothing { .. } => {
                return None
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Message(IncomingMessage),
    /// A delivery status for a message, by its raw WAHA id.
    Ack {
        raw_id: String,
        status: AckStatus,
    },
    /// `emoji: None` removes the sender's reaction.
    Reaction {
        raw_id: String,
        sender: String,
        emoji: Option<String>,
    },
    Revoke {
        raw_id: String,
    },
    SessionStatus {
        status: String,
        me: Option<Account>,
        /// WAHA's time for the change (ms), when its version says.
        at: Option<i64>,
    },
    /// The customer is typing (or stopped): ephemeral, never stored.
    Typing {
        state: String,
    },
    /// Nothing to apply: an event the hub does not act on, or a payload that cannot mean
    /// anything (retrying cannot fix it, so it is recorded as processed).
    Nothing {
        reason: String,
    },
}

/// The business's own WhatsApp account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
}

/// Who wrote a message, as the steps after storing it (bot, router) need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Customer,
    /// An agent, through tickhub.
    Agent(i64),
    /// The hub's bot, through tickhub.
    Bot,
    /// Someone on the business's phone (or another WAHA client): a person taking over.
    BusinessPhone,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Customer => "customer",
            Author::Agent(_) => "agent",
            Author::Bot => "bot",
            Author::BusinessPhone => "business_phone",
        }
    }
}

#[derive(
    Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct Media {
    pub url: Option<String>,
    pub mimetype: Option<String>,
    pub filename: Option<String>,
}

/// A message seen in a chat, prepared for storing.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    /// WAHA's (serialized) message id.
    pub waha_id: String,
    pub chat: ChatId,
    /// `fromMe`: typed on the business phone, or our own API send coming back.
    pub from_me: bool,
    pub direction: Direction,
    pub status: AckStatus,
    /// The sender's WhatsApp id (the member, in groups).
    pub sender: Option<String>,
    /// The customer's WhatsApp name (never set for the business's own messages).
    pub sender_name: Option<String>,
    pub text: String,
    pub media: Option<Media>,
    /// What the conversation list shows: the text, or a word for the media.
    pub preview: String,
    /// WhatsApp's own time for it, in ms.
    pub wa_timestamp: Option<i64>,
}

impl IncomingMessage {
    pub fn author(&self) -> Author {
        if self.from_me {
            Author::BusinessPhone
        } else {
            Author::Customer
        }
    }

    /// The conversation title this message sets: a person's WhatsApp name.
    pub fn title(&self) -> Option<&str> {
        if self.chat.is_group() {
            None
        } else {
            self.sender_name.as_deref()
        }
    }
}

/// The conversation-list preview of a media message without a caption.
pub fn media_preview(media: Option<&Media>) -> String {
    match media.and_then(|m| m.mimetype.as_deref()) {
        Some(t) if t.starts_with("image/") => "📷 Photo".into(),
        Some(t) if t.starts_with("video/") => "🎥 Video".into(),
        Some(t) if t.starts_with("audio/") => "🎤 Audio".into(),
        Some(_) => "📎 File".into(),
        None => String::new(),
    }
}
