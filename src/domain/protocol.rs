//! What clients send over the websocket: commands, parsed into types before anything acts
//! on them. A command that cannot be read is answered with an `error` frame, never dropped.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::PresenceStatus;

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Answered by the `message.created` event echoing `client_id`.
    MessageSend {
        conversation_id: i64,
        text: String,
        client_id: Option<String>,
    },
    ConversationRead {
        conversation_id: i64,
    },
    Typing {
        conversation_id: i64,
    },
    PresenceSet {
        status: PresenceStatus,
    },
    /// The member has the conversation open on screen (until `conversation.leave` or the
    /// socket closes): the others who see it are told who is looking.
    ConversationView {
        conversation_id: i64,
    },
    ConversationLeave {
        conversation_id: i64,
    },
    ConversationAssign {
        conversation_id: i64,
        assignee_id: Option<i64>,
        note: Option<String>,
    },
    ConversationResolve {
        conversation_id: i64,
    },
    ConversationReopen {
        conversation_id: i64,
    },
    ConversationNote {
        conversation_id: i64,
        text: String,
    },
    Ping,
    /// The member did something (the web app sends it on user input, throttled): keeps
    /// them from going idle, and brings an idle member back online.
    Activity,
}

impl Command {
    /// Whether this command shows the member at work. Every command does but `ping`, a
    /// keep-alive a hidden tab sends as well (websocket-level pongs do not count either).
    pub fn is_activity(&self) -> bool {
        !matches!(self, Command::Ping)
    }
}

/// Why a command was refused, as the `error` frame says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// `bad_command` (not a command at all), `unknown_command`, `invalid` (bad data).
    pub code: &'static str,
    pub message: String,
    /// Echoed so the client can match the error to what it sent.
    pub client_id: Option<String>,
}

impl CommandError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        CommandError {
            code,
            message: message.into(),
            client_id: None,
        }
    }
}

/// The longest message text accepted, in characters as WhatsApp counts them (and JSON
/// Schema's `maxLength`); WhatsApp's own limit is far higher, agents' replies far shorter.
pub const MAX_TEXT: usize = 4096;

/// The rule for a message an agent sends, over HTTP and the websocket alike: not empty or
/// only whitespace (what `str::trim` strips), at most `MAX_TEXT` characters, no U+0000
/// (PostgreSQL cannot store it).
pub fn validate_text(text: &str) -> Result<(), String> {
    if text.contains('\0') {
        return Err("text must not contain U+0000".into());
    }
    if text.trim().is_empty() {
        return Err("text must not be empty".into());
    }
    if text.chars().count() > MAX_TEXT {
        return Err(format!("text is longer than {MAX_TEXT} characters"));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
struct RefOnly {
    #[serde(default, rename = "ref")]
    reference: Option<Value>,
}

/// The client's `ref` on a command, if any: echoed in the `ack` (done) or `error` frame
/// that answers it, so a client knows when what it asked for happened.
pub fn reference(text: &str) -> Option<Value> {
    serde_json::from_str::<RefOnly>(text)
        .ok()
        .and_then(|r| r.reference)
        .filter(|r| r.is_string() || r.is_number())
}

#[derive(Deserialize)]
struct Send {
    conversation_id: i64,
    text: String,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
struct ConversationRef {
    conversation_id: i64,
}

#[derive(Deserialize)]
struct Assign {
    conversation_id: i64,
    /// Required: a member's id, or null for nobody.
    assignee_id: Value,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
struct Note {
    conversation_id: i64,
    text: String,
}

/// An id or null, where the field must be present.
pub fn id_or_null(field: &str, v: &Value) -> Result<Option<i64>, super::FieldError> {
    match v {
        Value::Null => Ok(None),
        v => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| super::FieldError::new(field, format!("a member id or null, got {v}"))),
    }
}

#[derive(Deserialize)]
struct PresenceSet {
    status: String,
}

fn data<T: DeserializeOwned>(v: Value) -> Result<T, CommandError> {
    serde_json::from_value(v).map_err(|e| CommandError::new("invalid", e.to_string()))
}

impl Command {
    pub fn parse(text: &str) -> Result<Command, CommandError> {
        let env: Envelope = serde_json::from_str(text)
            .map_err(|e| CommandError::new("bad_command", format!("not a command: {e}")))?;
        Ok(match env.kind.as_str() {
            "message.send" => {
                let s: Send = data(env.data)?;
                validate_text(&s.text).map_err(|m| CommandError {
                    client_id: s.client_id.clone(),
                    ..CommandError::new("invalid", m)
                })?;
                Command::MessageSend {
                    conversation_id: s.conversation_id,
                    text: s.text,
                    client_id: s.client_id,
                }
            }
            "conversation.read" => Command::ConversationRead {
                conversation_id: data::<ConversationRef>(env.data)?.conversation_id,
            },
            "typing" => Command::Typing {
                conversation_id: data::<ConversationRef>(env.data)?.conversation_id,
            },
            "presence.set" => {
                let p: PresenceSet = data(env.data)?;
                let status = PresenceStatus::parse(&p.status).ok_or_else(|| {
                    CommandError::new("invalid", "status must be online, away, busy or offline")
                })?;
                Command::PresenceSet { status }
            }
            "conversation.view" => Command::ConversationView {
                conversation_id: data::<ConversationRef>(env.data)?.conversation_id,
            },
            "conversation.leave" => Command::ConversationLeave {
                conversation_id: data::<ConversationRef>(env.data)?.conversation_id,
            },
            "conversation.assign" => {
                let a: Assign = data(env.data)?;
                Command::ConversationAssign {
                    conversation_id: a.conversation_id,
                    assignee_id: id_or_null("assignee_id", &a.assignee_id)
                        .map_err(|m| CommandError::new("invalid", m.to_string()))?,
                    note: a.note,
                }
            }
            "conversation.resolve" => Command::ConversationResolve {
                conversation_id: data::<ConversationRef>(env.data)?.conversation_id,
            },
            "conversation.reopen" => Command::ConversationReopen {
                conversation_id: data::<ConversationRef>(env.data)?.conversation_id,
            },
            "conversation.note" => {
                let n: Note = data(env.data)?;
                Command::ConversationNote {
                    conversation_id: n.conversation_id,
                    text: n.text,
                }
            }
            "ping" => Command::Ping,
            "activity" => Command::Activity,
            other => {
                return Err(CommandError::new(
                    "unknown_command",
                    format!("unknown command {other:?}"),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(
            Command::parse(
                r#"{"type":"message.send","data":{"conversation_id":3,"text":"hi","client_id":"c1"}}"#
            ),
            Ok(Command::MessageSend {
                conversation_id: 3,
                text: "hi".into(),
                client_id: Some("c1".into())
            })
        );
        assert_eq!(
            Command::parse(r#"{"type":"presence.set","data":{"status":"busy"}}"#),
            Ok(Command::PresenceSet {
                status: PresenceStatus::Busy
            })
        );
        assert_eq!(Command::parse(r#"{"type":"ping"}"#), Ok(Command::Ping));
        assert_eq!(
            Command::parse(r#"{"type":"activity","data":{}}"#),
            Ok(Command::Activity)
        );
        assert_eq!(
            Command::parse(r#"{"type":"activity"}"#),
            Ok(Command::Activity)
        );
        assert!(Command::Activity.is_activity() && !Command::Ping.is_activity());
        assert_eq!(
            Command::parse(r#"{"type":"typing","data":{"conversation_id":1}}"#),
            Ok(Command::Typing { conversation_id: 1 })
        );
        assert_eq!(
            Command::parse(
                r#"{"type":"conversation.assign","data":{"conversation_id":2,"assignee_id":null}}"#
            ),
            Ok(Command::ConversationAssign {
                conversation_id: 2,
                assignee_id: None,
                note: None
            })
        );
        assert_eq!(
            Command::parse(
                r#"{"type":"conversation.assign","data":{"conversation_id":2,"assignee_id":7,"note":"vip"}}"#
            ),
            Ok(Command::ConversationAssign {
                conversation_id: 2,
                assignee_id: Some(7),
                note: Some("vip".into())
            })
        );
        assert_eq!(
            Command::parse(r#"{"type":"conversation.view","data":{"conversation_id":4}}"#),
            Ok(Command::ConversationView { conversation_id: 4 })
        );
    }

    #[test]
    fn a_ref_is_echoed_when_it_is_a_string_or_a_number() {
        assert_eq!(
            reference(r#"{"type":"ping","ref":"r1"}"#),
            Some(Value::from("r1"))
        );
        assert_eq!(
            reference(r#"{"type":"ping","ref":7}"#),
            Some(Value::from(7))
        );
        assert_eq!(reference(r#"{"type":"ping","ref":{"x":1}}"#), None);
        assert_eq!(reference("not json"), None);
    }

    #[test]
    fn assigning_names_the_assignee_or_null() {
        // Leaving assignee_id out must not unassign.
        assert_eq!(
            Command::parse(r#"{"type":"conversation.assign","data":{"conversation_id":2}}"#)
                .unwrap_err()
                .code,
            "invalid"
        );
        assert_eq!(
            Command::parse(
                r#"{"type":"conversation.assign","data":{"conversation_id":2,"assignee_id":"x"}}"#
            )
            .unwrap_err()
            .code,
            "invalid"
        );
    }

    #[test]
    fn refuses_with_a_reason() {
        assert_eq!(Command::parse("nope").unwrap_err().code, "bad_command");
        assert_eq!(
            Command::parse(r#"{"type":"dance"}"#).unwrap_err().code,
            "unknown_command"
        );
        assert_eq!(
            Command::parse(r#"{"type":"conversation.read","data":{"conversation_id":"x"}}"#)
                .unwrap_err()
                .code,
            "invalid"
        );
        let e = Command::parse(
            r#"{"type":"message.send","data":{"conversation_id":1,"text":"  ","client_id":"c9"}}"#,
        )
        .unwrap_err();
        assert_eq!((e.code, e.client_id.as_deref()), ("invalid", Some("c9")));
        assert_eq!(
            Command::parse(r#"{"type":"presence.set","data":{"status":"asleep"}}"#)
                .unwrap_err()
                .code,
            "invalid"
        );
    }
}
