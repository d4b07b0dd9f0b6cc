//! The events agents receive, and who they concern.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EventKind {
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "message.updated")]
    MessageUpdated,
    #[serde(rename = "conversation.updated")]
    ConversationUpdated,
    #[serde(rename = "presence.updated")]
    PresenceUpdated,
    #[serde(rename = "session.status")]
    SessionStatus,
    #[serde(rename = "typing")]
    Typing,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MessageCreated => "message.created",
            EventKind::MessageUpdated => "message.updated",
            EventKind::ConversationUpdated => "conversation.updated",
            EventKind::PresenceUpdated => "presence.updated",
            EventKind::SessionStatus => "session.status",
            EventKind::Typing => "typing",
        }
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
