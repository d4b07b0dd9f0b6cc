//! WAHA's event names, and what each webhook means to the inbox: the translation from
//! WAHA's payloads (which differ by version and engine) into the domain's [`Inbound`].

use serde::Deserialize;

use super::webhook::{
    AckBody, Envelope, PresenceBody, ReactionBody, RevokedBody, SessionStatusBody, WaMessage,
};
use crate::domain::inbound::{media_preview, Account, Change, Inbound, IncomingMessage, Media};
use crate::domain::{AckStatus, ChatId, Direction};

/// The WAHA events the hub subscribes to and acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WahaEvent {
    Message,
    MessageAny,
    MessageAck,
    MessageReaction,
    MessageRevoked,
    SessionStatus,
    PresenceUpdate,
}

impl WahaEvent {
    pub const ALL: [WahaEvent; 7] = [
        WahaEvent::Message,
        WahaEvent::MessageAny,
        WahaEvent::MessageAck,
        WahaEvent::MessageReaction,
        WahaEvent::MessageRevoked,
        WahaEvent::SessionStatus,
        WahaEvent::PresenceUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WahaEvent::Message => "message",
            WahaEvent::MessageAny => "message.any",
            WahaEvent::MessageAck => "message.ack",
            WahaEvent::MessageReaction => "message.reaction",
            WahaEvent::MessageRevoked => "message.revoked",
            WahaEvent::SessionStatus => "session.status",
            WahaEvent::PresenceUpdate => "presence.update",
        }
    }

    /// `None` for an event the hub does not act on (acknowledged and dropped).
    pub fn parse(name: &str) -> Option<WahaEvent> {
        WahaEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The names to subscribe to, as WAHA's session config lists them.
    pub fn names() -> Vec<String> {
        WahaEvent::ALL
            .iter()
            .map(|e| e.as_str().to_string())
            .collect()
    }
}

fn unusable(event: &str, e: serde_json::Error) -> Change {
    Change::Nothing {
        reason: format!("unusable {event} payload: {e}"),
    }
}

/// What a webhook means. Never fails: what cannot mean anything becomes
/// [`Change::Nothing`] with the reason.
pub fn translate(env: &Envelope) -> Inbound {
    let chat = env.chat();
    let p = &env.payload;
    let change = match WahaEvent::parse(&env.event) {
        None => Change::Nothing {
            reason: format!("event {:?} is not handled", env.event),
        },
        Some(WahaEvent::Message | WahaEvent::MessageAny) => match WaMessage::deserialize(p) {
            Ok(m) => match prepare(&m) {
                Some(m) => Change::Message(m),
                None => Change::Nothing {
                    reason: format!("message {} has no chat id", m.id),
                },
            },
            Err(e) => unusable(&env.event, e),
        },
        Some(WahaEvent::MessageAck) => match AckBody::deserialize(p) {
            Ok(a) => match a.ack.and_then(AckStatus::from_waha) {
                Some(status) => Change::Ack {
                    raw_id: crate::domain::chat::raw_message_id(&a.id).to_string(),
                    status,
                },
                None => Change::Nothing {
                    reason: format!("ack {:?} is not a status", a.ack),
                },
            },
            Err(e) => unusable(&env.event, e),
        },
        Some(WahaEvent::MessageReaction) => match ReactionBody::deserialize(p) {
            Ok(r) => reaction(&r, env.me.as_ref().map(|m| m.id.as_str())),
            Err(e) => unusable(&env.event, e),
        },
        Some(WahaEvent::MessageRevoked) => match RevokedBody::deserialize(p) {
            Ok(r) => match r
                .revoked_message_id
                .or_else(|| r.before.as_ref().map(|m| m.id.clone()))
            {
                Some(target) => Change::Revoke {
                    raw_id: crate::domain::chat::raw_message_id(&target).to_string(),
                },
                None => Change::Nothing {
                    reason: "revoke without a message id".into(),
                },
            },
            Err(e) => unusable(&env.event, e),
        },
        Some(WahaEvent::SessionStatus) => match SessionStatusBody::deserialize(p) {
            Ok(s) => Change::SessionStatus {
                status: s.status,
                me: env.me.as_ref().map(|m| Account {
                    id: m.id.clone(),
                    name: m.push_name.clone(),
                }),
                at: env.timestamp.map(|t| t as i64),
            },
            Err(e) => unusable(&env.event, e),
        },
        Some(WahaEvent::PresenceUpdate) => match PresenceBody::deserialize(p) {
            Ok(b) => match b
                .presences
                .iter()
                .find_map(|x| x.last_known_presence.clone())
            {
                Some(state) => Change::Typing { state },
                None => Change::Nothing {
                    reason: "presence without a state".into(),
                },
            },
            Err(e) => unusable(&env.event, e),
        },
    };
    Inbound { chat, change }
}

/// A WAHA message prepared for storing; `None` without a chat to put it in.
fn prepare(m: &WaMessage) -> Option<IncomingMessage> {
    let chat = m.chat()?;
    let media = m.has_media.then(|| Media {
        url: m.media_url().map(str::to_string),
        mimetype: m.media.as_ref().and_then(|x| x.mimetype.clone()),
        filename: m.media.as_ref().and_then(|x| x.filename.clone()),
    });
    let text = m.text();
    let (direction, status) = if m.from_me {
        // Typed on the business phone (or sent by another API client): show it as ours.
        let ack = m
            .ack
            .and_then(AckStatus::from_waha)
            .unwrap_or(AckStatus::Sent);
        (Direction::Out, ack)
    } else {
        (Direction::In, AckStatus::Delivered)
    };
    let preview = if text.is_empty() {
        media_preview(media.as_ref())
    } else {
        text.clone()
    };
    Some(IncomingMessage {
        waha_id: m.id.clone(),
        chat,
        from_me: m.from_me,
        direction,
        status,
        sender: m.sender(),
        sender_name: if m.from_me { None } else { m.sender_name() },
        text,
        media,
        preview,
        wa_timestamp: m.timestamp.map(|t| (t * 1000.0) as i64),
    })
}

fn reaction(r: &ReactionBody, me: Option<&str>) -> Change {
    let b = &r.base;
    let sender = if b.from_me {
        me.map(str::to_string)
    } else {
        b.participant
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| b.from.clone())
    };
    match sender {
        Some(sender) => Change::Reaction {
            raw_id: crate::domain::chat::raw_message_id(&r.reaction.message_id).to_string(),
            sender: ChatId::normalise(&sender).into_string(),
            emoji: r.reaction.text.clone().filter(|t| !t.is_empty()),
        },
        None => Change::Nothing {
            reason: "reaction without a sender".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(event: &str, payload: serde_json::Value) -> Envelope {
        serde_json::from_value(serde_json::json!({
            "event": event, "session": "default", "payload": payload,
            "me": {"id": "100@c.us", "pushName": "Shop"}
        }))
        .unwrap()
    }

    #[test]
    fn a_customer_message() {
        let i = translate(&envelope(
            "message",
            serde_json::json!({"id": "false_1@c.us_AA", "from": "1@c.us", "body": "hi",
                "timestamp": 1700000000, "_data": {"notifyName": "Ann"}}),
        ));
        assert_eq!(i.chat.as_ref().map(|c| c.as_str()), Some("1@c.us"));
        let Change::Message(m) = i.change else {
            panic!("{:?}", i.change)
        };
        assert_eq!(
            (m.direction, m.status),
            (Direction::In, AckStatus::Delivered)
        );
        assert_eq!(m.sender_name.as_deref(), Some("Ann"));
        assert_eq!(m.title(), Some("Ann"));
        assert_eq!(m.wa_timestamp, Some(1_700_000_000_000));
    }

    #[test]
    fn media_without_caption_gets_a_preview() {
        let i = translate(&envelope(
            "message.any",
            serde_json::json!({"id": "x", "from": "1@c.us", "hasMedia": true,
                "media": {"mimetype": "image/jpeg", "url": "http://w/f.jpg"}}),
        ));
        let Change::Message(m) = i.change else {
            panic!()
        };
        assert_eq!(m.preview, "📷 Photo");
        assert_eq!(
            m.media.and_then(|x| x.url).as_deref(),
            Some("http://w/f.jpg")
        );
    }

    #[test]
    fn acks_reactions_revokes_status() {
        let ack = translate(&envelope(
            "message.ack",
            serde_json::json!({"id": "true_1@c.us_BB", "from": "1@c.us", "fromMe": true, "ack": 3}),
        ));
        assert_eq!(
            ack.change,
            Change::Ack {
                raw_id: "BB".into(),
                status: AckStatus::Read
            }
        );
        let mine = translate(&envelope(
            "message.reaction",
            serde_json::json!({"from": "1@c.us", "fromMe": true,
                "reaction": {"text": "👍", "messageId": "false_1@c.us_CC"}}),
        ));
        assert_eq!(
            mine.change,
            Change::Reaction {
                raw_id: "CC".into(),
                sender: "100@c.us".into(),
                emoji: Some("👍".into())
            }
        );
        let revoke = translate(&envelope(
            "message.revoked",
            serde_json::json!({"revokedMessageId": "DD", "before": {"id": "x", "from": "1@c.us"}}),
        ));
        assert_eq!(
            revoke.change,
            Change::Revoke {
                raw_id: "DD".into()
            }
        );
        assert_eq!(revoke.chat.as_ref().map(|c| c.as_str()), Some("1@c.us"));
        let status = translate(&envelope(
            "session.status",
            serde_json::json!({"status": "WORKING"}),
        ));
        assert!(
            matches!(status.change, Change::SessionStatus { ref status, .. } if status == "WORKING")
        );
        assert_eq!(status.chat, None);
    }

    #[test]
    fn nonsense_means_nothing() {
        for (event, payload) in [
            ("message", serde_json::json!({"no": "id"})),
            ("message.ack", serde_json::json!({"id": "x", "ack": 99})),
            ("call.received", serde_json::json!({})),
        ] {
            assert!(
                matches!(
                    translate(&envelope(event, payload)).change,
                    Change::Nothing { .. }
                ),
                "{event}"
            );
        }
    }
}
