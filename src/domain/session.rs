//! A WhatsApp session as the rest of the hub refers to it.

/// A session's id and its WAHA name (sessions are never renamed or deleted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionRef {
    pub id: i64,
    pub name: String,
}

use super::status::text_enum;

/// A WAHA session name: 1 to 64 letters, digits, `_` or `-` (`^[A-Za-z0-9_-]{1,64}$`).
pub fn is_session_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

text_enum! {
    /// Who may reply in a session's conversations.
    ReplyPolicy {
        /// Whoever may see the conversation.
        Anyone => "anyone",
        /// Only its assignee, and supervisors: no two people answer one customer.
        Assignee => "assignee",
    }
}
