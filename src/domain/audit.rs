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

/// How a reader picks entries by action: `member.create` exactly, or every action under
/// a prefix ending in `.` (`member.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionMatch {
    Exact(String),
    Prefix(String),
}

impl ActionMatch {
    pub fn parse(s: &str) -> Result<ActionMatch, super::FieldError> {
        if s.is_empty() {
            return Err(super::FieldError::new(
                "action",
                "give an action (member.create) or a prefix ending in . (member.)",
            ));
        }
        // No stored text holds U+0000 (PostgreSQL's text cannot).
        if s.contains('\0') {
            return Err(super::FieldError::new("action", "must not contain U+0000"));
        }
        Ok(if s.ends_with('.') {
            ActionMatch::Prefix(s.to_string())
        } else {
            ActionMatch::Exact(s.to_string())
        })
    }

    /// What the store's SQL says too.
    pub fn matches(&self, action: &str) -> bool {
        match self {
            ActionMatch::Exact(a) => action == a,
            ActionMatch::Prefix(p) => action.starts_with(p.as_str()),
        }
    }
}

/// What a reader of the audit log asks for; every part is optional and narrows the
/// answer. (Who may read which entries is the access policy's `AuditFilter`.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor_id: Option<i64>,
    pub action: Option<ActionMatch>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub session_id: Option<i64>,
    /// From this time on (ms, inclusive).
    pub from: Option<i64>,
    /// Before this time (ms, exclusive).
    pub to: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_match_exactly_or_by_prefix() {
        let exact = ActionMatch::parse("member.create").unwrap();
        assert!(exact.matches("member.create"));
        assert!(!exact.matches("member.create_x"));
        assert!(!exact.matches("member"));
        let prefix = ActionMatch::parse("member.").unwrap();
        assert_eq!(prefix, ActionMatch::Prefix("member.".into()));
        assert!(prefix.matches("member.create"));
        assert!(prefix.matches("member.deactivate"));
        assert!(!prefix.matches("members.create"));
        assert!(!prefix.matches("member"));
        // `_` and `%` are plain characters, not patterns.
        let odd = ActionMatch::parse("a_b.").unwrap();
        assert!(!odd.matches("axb.c"));
        assert!(ActionMatch::parse("").is_err());
        assert!(ActionMatch::parse("a\u{0}b").is_err());
    }
}
