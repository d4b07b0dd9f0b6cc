//! What nodes say to each other over Redis pub/sub, and on which channel. Everything on
//! the wire is at most once: each message either repeats state (absolute socket counts,
//! statuses) or has a durable record behind it (the event log, the inbox, the outbox), so
//! a lost one is made good by the next, by a sweep, or by `since`.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::domain::{EventKind, EventScope, LoggedEvent, PresenceStatus};

/// Every key and channel starts with this, so a Redis shared with other programs is safe.
pub const PREFIX: &str = "tickhub";

/// Committed events, from the node whose writer committed them.
pub fn events_channel() -> String {
    format!("{PREFIX}:events")
}

/// Messages every node takes (typing, presence statuses, disconnections).
pub fn all_channel() -> String {
    format!("{PREFIX}:all")
}

/// Messages for the node that keeps presence (the coordinator); every node listens, the
/// coordinator of the moment acts.
pub fn keeper_channel() -> String {
    format!("{PREFIX}:keeper")
}

/// Messages for one node.
pub fn node_channel(node: &str) -> String {
    format!("{PREFIX}:node:{node}")
}

// Adjacently tagged, the tag first: serde then reads each variant in place, which an
// embedded `RawValue` (an event's frame) needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", content = "c", rename_all = "snake_case")]
pub enum Wire {
    /// A committed batch of events, in seq order.
    Events {
        from: String,
        /// When it was published (ms, the sender's clock): the receiver's bus lag.
        at: i64,
        events: Vec<WireEvent>,
    },
    /// An event that is not logged (typing).
    Ephemeral {
        from: String,
        event: WireEvent,
    },
    /// Something about a member's sockets, for the presence keeper.
    Signal {
        from: String,
        user_id: i64,
        signal: WireSignal,
    },
    /// Every member with sockets on `from`, and how many (absolute: a lost count is made
    /// good by the next snapshot; a member missing here has none there).
    Sockets {
        from: String,
        counts: Vec<(i64, u32)>,
    },
    /// Close every socket of a member, on every node.
    Disconnect {
        from: String,
        user_id: i64,
        reason: String,
    },
    /// To a session's owner: a webhook stored by `from` waits in the inbox (`body` is
    /// what WAHA sent, so the owner need not read it back); `req` is answered with
    /// `Queued` once it is in line behind the session's earlier events.
    Apply {
        from: String,
        req: u64,
        session_id: i64,
        session: String,
        inbox_id: i64,
        body: String,
    },
    Queued {
        req: u64,
    },
    /// To a session's owner: a webhook `from` received, to store and apply there as if it
    /// had arrived there (one transaction on the owner), answered with `Ingested` after
    /// the commit. Should no answer come in time, `from` stores it itself, unapplied.
    Ingest {
        from: String,
        req: u64,
        session_id: i64,
        session: String,
        event_key: String,
        event: String,
        body: String,
    },
    /// The owner's answer: stored and applied (`duplicate`: it was already), or not
    /// (`ok: false`: not the owner any more, or its database failed).
    Ingested {
        req: u64,
        ok: bool,
        duplicate: bool,
    },
    /// To a session's owner: an outbox row written elsewhere is ready to send.
    Send {
        session_id: i64,
        outbox_id: i64,
        chat_id: String,
    },
    /// A node let a session go (draining): whoever may take it need not wait for the
    /// lease to expire.
    Released {
        from: String,
        session_id: i64,
    },
}

/// Presence signals as they travel (`bus::SignalKind`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "k", content = "v", rename_all = "snake_case")]
pub enum WireSignal {
    Sockets(u32),
    Activity,
    Set(PresenceStatus),
    Deactivated,
    /// A choice was stored: the keeper reads the stored choices.
    Chosen,
}

/// An event as it travels: its frame is embedded as the JSON agents receive (not as a
/// string of it: nothing to escape on one side and unescape on the other), and the
/// receiving node forwards it without encoding it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEvent {
    pub seq: Option<i64>,
    pub kind: String,
    /// session, conversation, assignee, user, supervisors only.
    pub scope: (Option<i64>, Option<i64>, Option<i64>, Option<i64>, bool),
    pub frame: Box<RawValue>,
}

impl From<&LoggedEvent> for WireEvent {
    fn from(e: &LoggedEvent) -> Self {
        let s = e.scope;
        WireEvent {
            seq: e.seq,
            kind: e.kind.as_str().to_string(),
            scope: (
                s.session_id,
                s.conversation_id,
                s.assignee_id,
                s.user_id,
                s.supervisors_only,
            ),
            // A frame is one serialized JSON object by construction (`domain::event::frame`).
            frame: RawValue::from_string(e.frame.to_string()).unwrap_or_default(),
        }
    }
}

impl WireEvent {
    /// `None` for a kind this node does not know (a newer node's): dropped.
    pub fn into_event(self) -> Option<LoggedEvent> {
        let kind = EventKind::try_from(self.kind).ok()?;
        let (session_id, conversation_id, assignee_id, user_id, supervisors_only) = self.scope;
        Some(LoggedEvent {
            seq: self.seq,
            kind,
            scope: EventScope {
                session_id,
                conversation_id,
                assignee_id,
                user_id,
                supervisors_only,
            },
            // The raw JSON's own buffer becomes the shared frame: no copy.
            frame: String::from(Box::<str>::from(self.frame)).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_crosses_the_wire_unchanged() {
        let e = LoggedEvent {
            seq: Some(42),
            kind: EventKind::MessageCreated,
            scope: EventScope::conversation(1, 2, Some(3)),
            frame: r#"{"type":"message.created","seq":42,"data":{"text":"hé \"x\""}}"#.into(),
        };
        let w = Wire::Events {
            from: "a".into(),
            at: 1,
            events: vec![WireEvent::from(&e)],
        };
        let text = serde_json::to_string(&w).unwrap();
        assert!(
            text.contains(r#""frame":{"type":"message.created""#),
            "the frame travels as JSON, not as an escaped string: {text}"
        );
        let Wire::Events { events, .. } = serde_json::from_str(&text).unwrap() else {
            panic!("not events: {text}");
        };
        let back = events.into_iter().next().unwrap().into_event().unwrap();
        assert_eq!(back.seq, e.seq);
        assert_eq!(back.kind, e.kind);
        assert_eq!(back.scope, e.scope);
        assert_eq!(back.frame, e.frame);
    }

    #[test]
    fn every_other_message_crosses_the_wire() {
        let messages = [
            Wire::Ingest {
                from: "a".into(),
                req: 7,
                session_id: 1,
                session: "default".into(),
                event_key: "evt_1".into(),
                event: "message".into(),
                body: "{\"id\":\"evt_1\",\n \"body\":\"hé\"}".into(),
            },
            Wire::Ingested {
                req: 7,
                ok: true,
                duplicate: false,
            },
            Wire::Sockets {
                from: "c".into(),
                counts: vec![(1, 2), (3, 1)],
            },
            Wire::Signal {
                from: "a".into(),
                user_id: 3,
                signal: WireSignal::Chosen,
            },
        ];
        for m in messages {
            let text = serde_json::to_string(&m).unwrap();
            let back: Wire = serde_json::from_str(&text).unwrap();
            assert_eq!(format!("{back:?}"), format!("{m:?}"), "{text}");
        }
    }

    #[test]
    fn an_unknown_kind_is_dropped_not_misread() {
        let w = WireEvent {
            seq: Some(1),
            kind: "from.the.future".into(),
            scope: (None, None, None, None, false),
            frame: RawValue::from_string("{}".into()).unwrap(),
        };
        assert!(w.into_event().is_none());
    }
}
