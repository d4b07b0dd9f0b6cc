//! Who is looking at which conversation, so that two people do not answer one customer
//! without knowing: each socket says which conversation it has open, and everyone who may
//! see that conversation receives the list of viewers (ephemeral `conversation.viewers`).
//! Held per node; cluster mode will carry it over the bus like typing.

use dashmap::DashMap;
use serde::Serialize;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::{EventKind, LoggedEvent, Viewer};
use crate::store::events::conversation_scope;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Looker {
    pub user_id: i64,
    pub name: String,
    /// A socket of the member (one member may look from several).
    #[serde(skip)]
    pub socket: u64,
}

/// Conversation id → who has it open.
#[derive(Default)]
pub struct Viewing {
    by_conversation: DashMap<i64, Vec<Looker>>,
}

impl Viewing {
    /// Adds or removes `who`; `true` when the set of members looking changed.
    fn change(&self, conversation_id: i64, who: Looker, looking: bool) -> bool {
        let mut entry = self.by_conversation.entry(conversation_id).or_default();
        let users_before = distinct_users(&entry);
        entry.retain(|l| l.socket != who.socket);
        if looking {
            entry.push(who);
        }
        let changed = users_before != distinct_users(&entry);
        let empty = entry.is_empty();
        drop(entry);
        if empty {
            self.by_conversation
                .remove_if(&conversation_id, |_, v| v.is_empty());
        }
        changed
    }

    fn lookers(&self, conversation_id: i64) -> Vec<Looker> {
        let mut out: Vec<Looker> = Vec::new();
        if let Some(v) = self.by_conversation.get(&conversation_id) {
            for l in v.iter() {
                if !out.iter().any(|o| o.user_id == l.user_id) {
                    out.push(l.clone());
                }
            }
        }
        out
    }

    /// The conversations `socket` has open.
    fn of_socket(&self, socket: u64) -> Vec<i64> {
        self.by_conversation
            .iter()
            .filter(|e| e.value().iter().any(|l| l.socket == socket))
            .map(|e| *e.key())
            .collect()
    }
}

fn distinct_users(v: &[Looker]) -> Vec<i64> {
    let mut u: Vec<i64> = v.iter().map(|l| l.user_id).collect();
    u.sort_unstable();
    u.dedup();
    u
}

impl Hub {
    /// `socket` of member `v` (called `name`) opened (`true`) or closed a conversation.
    pub async fn set_viewing(
        &self,
        v: &Viewer,
        name: &str,
        socket: u64,
        conversation_id: i64,
        looking: bool,
    ) -> Result<(), HubError> {
        let who = Looker {
            user_id: v.user_id,
            name: name.to_string(),
            socket,
        };
        if looking {
            // Only a conversation the member may see can be looked at.
            self.conversation(v, conversation_id).await?;
        }
        if self.viewing.change(conversation_id, who, looking) {
            self.announce_viewers(conversation_id).await?;
        }
        Ok(())
    }

    /// A socket closed: it looks at nothing any more.
    pub async fn socket_closed(&self, user_id: i64, socket: u64) {
        for id in self.viewing.of_socket(socket) {
            let who = Looker {
                user_id,
                name: String::new(),
                socket,
            };
            if self.viewing.change(id, who, false) {
                if let Err(e) = self.announce_viewers(id).await {
                    tracing::debug!(conversation_id = id, error = %e, "could not announce viewers");
                }
            }
        }
    }

    async fn announce_viewers(&self, conversation_id: i64) -> Result<(), HubError> {
        // Read afresh: the audience is whoever may see the conversation now.
        let Some(conv) = crate::store::conversations::get_visible(
            self.db(),
            &Default::default(),
            conversation_id,
        )
        .await?
        else {
            return Ok(());
        };
        let data = serde_json::json!({
            "conversation_id": conversation_id,
            "viewers": self.viewing.lookers(conversation_id),
        });
        let data =
            crate::domain::event::encode(&data).map_err(|e| HubError::Invalid(e.to_string()))?;
        self.bus().publish_ephemeral(LoggedEvent::ephemeral(
            EventKind::Viewers,
            conversation_scope(&conv),
            &data,
        ));
        Ok(())
    }
}
