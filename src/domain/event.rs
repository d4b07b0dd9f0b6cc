//! The events agents receive, who they concern, and the one way a frame is written.

use serde::Serialize;
use serde_json::value::RawValue;
/// A frame's JSON as every socket shares it: cloning is a reference count, and the
/// websocket writes it as it is (no re-encoding, no UTF-8 check per socket).
pub use tokio_tungstenite::tungstenite::Utf8Bytes as FrameText;

use super::status::text_enum;

text_enum! {
    /// Every `type` a server frame can have: events of the inbox and the team (logged with
    /// a `seq`, except `typing` and `conversation.viewers`), then those of the socket itself.
    EventKind {
        MessageCreated => "message.created",
        MessageUpdated => "message.updated",
        ConversationUpdated => "conversation.updated",
        /// To a member who could see a conversation and no longer can (reassigned).
        ConversationRemoved => "conversation.removed",
        NoteCreated => "note.created",
        /// The bot handed a conversation to a person (or a person took it over), with why.
        ConversationHandoff => "conversation.handoff",
        /// Who is looking at a conversation (ephemeral).
        Viewers => "conversation.viewers",
        MemberUpdated => "member.updated",
        PresenceUpdated => "presence.updated",
        /// Changed rows of the supervisors' board, to each supervisor (see docs/websocket.md).
        DashboardUpdated => "dashboard.updated",
        /// A member's conversation counts (mine, unassigned, per status), to that member.
        CountsUpdated => "counts.updated",
        /// To a member the router gave a conversation: which, by what rule, and why it
        /// left the bot (the handoff's reason).
        ConversationAssigned => "conversation.assigned",
        /// A contact was created, edited or deleted (`{"id", "session_id", "change"}`): to
        /// everyone who sees its session, so that contact views and segment counts are read
        /// again (docs/segments.md).
        ContactUpdated => "contact.updated",
        /// A contact import moved on (`{"id", "session_id", "status", "rows", "created",
        /// "updated", "skipped", "failed"}`, after each chunk): to everyone who sees its session.
        ContactImportProgress => "contact_import.progress",
        /// A segment was created, edited or deleted (`{"id", "change"}`): to everyone.
        SegmentUpdated => "segment.updated",
        /// A campaign moved on (`{"campaign_id", "status", "counts"}`): to those who run
        /// campaigns in its session (admins, managers, marketing).
        CampaignProgress => "campaign.progress",
        /// A message template was created, edited or deleted (`{"id", "change"}`): to those
        /// who run campaigns (no content: they read the template again).
        TemplateUpdated => "template.updated",
        /// A customer waited longer than the session's `sla_wait_seconds` for a reply
        /// (`{"conversation_id", "session", "waiting_since", "waited_seconds",
        /// "threshold_seconds", "assignee_id"}`), once per wait: to the session's supervisors.
        SlaBreached => "sla.breached",
        SessionStatus => "session.status",
        SessionSettings => "session.settings",
        Typing => "typing",
        Hello => "hello",
        ResyncRequired => "resync_required",
        /// A command (sent with a `ref`) was carried out.
        Ack => "ack",
        Error => "error",
        Pong => "pong",
    }
}

impl EventKind {
    /// Events only those who run campaigns receive (the log's replay says the same in SQL,
    /// `store::events::replay`).
    pub fn is_campaigns_only(self) -> bool {
        matches!(
            self,
            EventKind::CampaignProgress | EventKind::TemplateUpdated
        )
    }
}

/// Who an event concerns, fixed when it is logged so that a replay with `since` gives a
/// user what they were entitled to then, and the live path and the replay path agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventScope {
    /// The WhatsApp session the event belongs to (`None`: not session-bound, e.g. presence).
    pub session_id: Option<i64>,
    pub conversation_id: Option<i64>,
    /// The conversation's assignee when the event happened (`None`: unassigned).
    pub assignee_id: Option<i64>,
    /// Set for events addressed to one user only.
    pub user_id: Option<i64>,
    /// Events only supervisors receive (e.g. every member's presence).
    pub supervisors_only: bool,
}

impl EventScope {
    /// An event about one conversation.
    pub fn conversation(session_id: i64, conversation_id: i64, assignee_id: Option<i64>) -> Self {
        EventScope {
            session_id: Some(session_id),
            conversation_id: Some(conversation_id),
            assignee_id,
            ..Default::default()
        }
    }

    /// An event about a session as a whole (its status).
    pub fn session(session_id: i64) -> Self {
        EventScope {
            session_id: Some(session_id),
            ..Default::default()
        }
    }

    /// An event for one user only.
    pub fn user(user_id: i64) -> Self {
        EventScope {
            user_id: Some(user_id),
            ..Default::default()
        }
    }

    pub fn supervisors() -> Self {
        EventScope {
            supervisors_only: true,
            ..Default::default()
        }
    }
}

/// An event on its way to sockets, with its frame serialized once for every socket.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    /// Its place in the event log; `None` for ephemeral events (typing), never replayed.
    pub seq: Option<i64>,
    pub kind: EventKind,
    pub scope: EventScope,
    /// Cheap to clone: every socket shares the one buffer.
    pub frame: FrameText,
}

impl LoggedEvent {
    pub fn ephemeral(kind: EventKind, scope: EventScope, data: &RawValue) -> Self {
        LoggedEvent {
            seq: None,
            kind,
            scope,
            frame: frame(kind, None, data),
        }
    }
}

#[derive(Serialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    kind: EventKind,
    seq: Option<i64>,
    data: &'a RawValue,
}

/// A server frame: `{"type": …, "seq": …, "data": …}` (contract §3), with `data` already
/// encoded (events are encoded once, when they are logged).
pub fn frame(kind: EventKind, seq: Option<i64>, data: &RawValue) -> FrameText {
    // Serializing a struct of a string, a number and valid raw JSON cannot fail.
    serde_json::to_string(&Frame { kind, seq, data })
        .unwrap_or_default()
        .into()
}

/// Encodes a frame's data once, to be shared.
pub fn encode<T: Serialize + ?Sized>(data: &T) -> Result<Box<RawValue>, serde_json::Error> {
    serde_json::value::to_raw_value(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_the_contract_shape() {
        let data = encode(&serde_json::json!({"a": 1})).unwrap();
        assert_eq!(
            &*frame(EventKind::MessageCreated, Some(7), &data),
            r#"{"type":"message.created","seq":7,"data":{"a":1}}"#
        );
        assert_eq!(
            &*frame(EventKind::Typing, None, &data),
            r#"{"type":"typing","seq":null,"data":{"a":1}}"#
        );
    }
}
