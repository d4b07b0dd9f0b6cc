//! A WhatsApp session as the rest of the hub refers to it.

/// A session's id and its WAHA name (sessions are never renamed or deleted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionRef {
    pub id: i64,
    pub name: String,
}

use super::status::text_enum;

text_enum! {
    /// Who may reply in a session's conversations.
    ReplyPolicy {
        /// Whoever may see the conversation.
        Anyone => "anyone",
        /// Only its assignee, and supervisors: no two people answer one customer.
        Assignee => "assignee",
    }
}
