//! Conversations: seeing one, replying, reading, typing.

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::{EventKind, LoggedEvent, Reply, Viewer};
use crate::store::contacts::{self, ContactCard};
use crate::store::conversations::{self, Conversation};
use crate::store::events::conversation_scope;
use crate::store::handling::Refused;
use crate::store::messages::{self, Message};

fn conversation_not_found(id: i64) -> impl FnOnce() -> String {
    move || format!("conversation {id}")
}

impl Hub {
    /// A conversation the viewer may see (else: not found, whether or not it exists).
    pub async fn conversation(&self, v: &Viewer, id: i64) -> Result<Conversation, HubError> {
        let filter = v
            .conversations()
            .map_err(|d| HubError::denied(d, conversation_not_found(id)))?;
        conversations::get_visible(self.db(), &filter, id)
            .await?
            .ok_or_else(|| HubError::NotFound(conversation_not_found(id)()))
    }

    /// A conversation the viewer may see, with its contact (an agent who may see the
    /// conversation sees its contact's card, whatever it may do with contacts).
    pub async fn conversation_with_contact(
        &self,
        v: &Viewer,
        id: i64,
    ) -> Result<(Conversation, Option<ContactCard>), HubError> {
        let conv = self.conversation(v, id).await?;
        let card = match conv.contact_id {
            Some(c) => contacts::get(self.db(), c).await?.map(ContactCard::from),
            None => None,
        };
        Ok((conv, card))
    }

    /// A conversation the viewer may act on.
    async fn workable(&self, v: &Viewer, id: i64) -> Result<Conversation, HubError> {
        let conv = self.conversation(v, id).await?;
        v.may_act_on_conversation(conv.facts())
            .map_err(|d| HubError::denied(d, conversation_not_found(id)))?;
        Ok(conv)
    }

    /// A message the viewer may see, through its conversation.
    pub async fn message(&self, v: &Viewer, id: i64) -> Result<Message, HubError> {
        let not_found = || HubError::NotFound(format!("message {id}"));
        let m = messages::get(self.db(), id).await?.ok_or_else(not_found)?;
        self.conversation(v, m.conversation_id)
            .await
            .map_err(|_| not_found())?;
        Ok(m)
    }

    /// An agent's reply: stored (with its outbox row) by the conversation's actor, then
    /// sent by the session's queue. Returns the stored message.
    pub async fn reply(&self, v: &Viewer, reply: Reply) -> Result<Message, HubError> {
        crate::domain::protocol::validate_text(&reply.text).map_err(HubError::Invalid)?;
        let id = reply.conversation_id;
        let conv = self.conversation(v, id).await?;
        let reply = Reply {
            author_id: v.user_id,
            ..reply
        };
        // The reply rule is checked in the conversation's turn, against its assignee then.
        self.registry
            .reply(&conv, reply, v)
            .await?
            .map_err(|r| super::handling::refused(r, id))?
            .ok_or_else(|| HubError::NotFound(conversation_not_found(id)()))
    }

    /// Sends a failed outbound message again (the same message, back to `pending`).
    /// Refused as replying in its conversation would be; a message that is not an
    /// outbound one that failed (or already went back in the queue) is a conflict.
    pub async fn retry_message(&self, v: &Viewer, id: i64) -> Result<Message, HubError> {
        let not_found = || HubError::NotFound(format!("message {id}"));
        let m = messages::get(self.db(), id).await?.ok_or_else(not_found)?;
        // A role without an inbox is told so (403), as when replying.
        let conv = self
            .conversation(v, m.conversation_id)
            .await
            .map_err(|e| match e {
                HubError::NotFound(_) => not_found(),
                e => e,
            })?;
        match self.registry.retry(&conv, id, v).await? {
            Ok(m) => Ok(m),
            Err(Refused::Denied(d)) => Err(HubError::denied(d, || format!("message {id}"))),
            Err(r) => Err(super::handling::refused(r, id)),
        }
    }

    pub async fn mark_read(&self, v: &Viewer, id: i64) -> Result<Conversation, HubError> {
        let conv = self.workable(v, id).await?;
        self.registry
            .mark_read(&conv)
            .await?
            .ok_or_else(|| HubError::NotFound(conversation_not_found(id)()))
    }

    /// An agent is typing: an ephemeral event to whoever may see the conversation.
    pub async fn typing(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        let conv = self.workable(v, id).await?;
        let data = serde_json::json!({ "conversation_id": conv.id, "who": "agent", "user_id": v.user_id, "state": "typing" });
        let data =
            crate::domain::event::encode(&data).map_err(|e| HubError::Invalid(e.to_string()))?;
        self.bus().publish_ephemeral(LoggedEvent::ephemeral(
            EventKind::Typing,
            conversation_scope(&conv),
            &data,
        ));
        Ok(())
    }
}
