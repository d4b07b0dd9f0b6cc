//! Handling a conversation: assigning, resolving, reopening, private notes. Each change
//! runs in the conversation's own actor (one writer per conversation), where the access
//! policy is checked again against the conversation as it is at that moment.

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::{FieldError, Viewer};
use crate::store::conversations::Conversation;
use crate::store::handling::{self, Assign, Handled, Outcome, Refused};
use crate::store::notes::{self, Note};

pub(super) fn refused(r: Refused, id: i64) -> HubError {
    match r {
        Refused::Denied(d) => HubError::denied(d, || format!("conversation {id}")),
        Refused::Invalid(m) => HubError::Unprocessable(m),
        Refused::Conflict(m) => HubError::Conflict(m),
    }
}

fn settle<T>(id: i64, outcome: Outcome<T>) -> Result<T, HubError> {
    outcome.map_err(|r| refused(r, id))
}

impl Hub {
    /// Assigns the conversation to `to` (or to nobody), with an optional note.
    pub async fn assign(
        &self,
        v: &Viewer,
        id: i64,
        to: Option<i64>,
        note: Option<String>,
    ) -> Result<Handled, HubError> {
        if let Some(n) = &note {
            crate::domain::protocol::validate_text(n).map_err(|e| FieldError::new("note", e))?;
        }
        let conv = self.conversation(v, id).await?;
        let job = Assign {
            by: v.clone(),
            conversation_id: id,
            to,
            note,
            to_presence: to
                .map(|u| self.presence.current(u))
                .unwrap_or(crate::domain::PresenceStatus::Offline),
        };
        let outcome = self
            .registry
            .in_conversation(&conv, job, |tx, a| Box::pin(handling::assign(tx, a)))
            .await?;
        settle(id, outcome)
    }

    pub async fn set_resolved(
        &self,
        v: &Viewer,
        id: i64,
        resolved: bool,
    ) -> Result<Conversation, HubError> {
        let conv = self.conversation(v, id).await?;
        let outcome = self.registry.set_resolved(&conv, v, resolved).await?;
        settle(id, outcome)
    }

    pub async fn add_note(&self, v: &Viewer, id: i64, text: String) -> Result<Note, HubError> {
        crate::domain::protocol::validate_text(&text).map_err(|e| FieldError::new("text", e))?;
        let conv = self.conversation(v, id).await?;
        let outcome = self
            .registry
            .in_conversation(&conv, (v.clone(), id, text), |tx, input| {
                Box::pin(handling::add_note(tx, input))
            })
            .await?;
        settle(id, outcome)
    }

    pub async fn notes(
        &self,
        v: &Viewer,
        id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Note>, HubError> {
        self.conversation(v, id).await?;
        Ok(notes::list(self.db(), id, before, limit).await?)
    }
}
