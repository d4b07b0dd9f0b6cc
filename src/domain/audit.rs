//! What the audit log records about a change: who made it, through what, and what it did.

use serde_json::Value;

use super::status::text_enum;

text_enum! {
    /// The way a change reached the hub.
    Via {
        Http => "http",
        Websocket => "websocket",
        Cli => "cli",
        System => "system",
    }
}

/// Where a request came from: recorded with every change it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub via: Via,
    /// The client's address as the hub saw it (no proxy headers are trusted).
    pub ip: Option<String>,
}

impl Origin {
    pub fn http(ip: Option<String>) -> Self {
        Origin { via: Via::Http, ip }
    }
    pub fn websocket(ip: Option<String>) -> Self {
        Origin {
            via: Via::Websocket,
            ip,
        }
    }
    pub fn cli() -> Self {
        Origin {
            via: Via::Cli,
            ip: None,
        }
    }
    pub fn system() -> Self {
        Origin {
            via: Via::System,
            ip: None,
        }
    }
}

/// One change, as the audit log keeps it. `before`/`after` hold the settings that changed
/// (never a password or a token).
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    /// e.g. `member.create`, `conversation.assign`.
    pub action: &'static str,
    /// e.g. `member`, `conversation`, `session`.
    pub target_type: &'static str,
    pub target_id: Option<String>,
    /// The WhatsApp session the change belongs to, when it belongs to one.
    pub session_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    pub fn new(action: &'static str, target_type: &'static str, target_id: impl ToString) -> Self {
        AuditEntry {
            action,
            target_type,
            target_id: Some(target_id.to_string()),
            ..Default::default()
        }
    }
    pub fn session(mut self, id: i64) -> Self {
        self.session_id = Some(id);
        self
    }
    pub fn before(mut self, v: Value) -> Self {
        self.before = Some(v);
        self
    }
    pub fn after(mut self, v: Value) -> Self {
        self.after = Some(v);
        self
    }
}
