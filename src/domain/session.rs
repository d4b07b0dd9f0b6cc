//! A WhatsApp session as the rest of the hub refers to it.

/// A session's id and its WAHA name (sessions are never renamed or deleted).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionRef {
    pub id: i64,
    pub name: String,
}
