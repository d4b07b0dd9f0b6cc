//! Contacts: the people behind person chats, as the team edits them.

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::{ChatId, Viewer};
use crate::store::contacts::{self, Contact, ContactPatch};
use crate::store::sessions;

impl Hub {
    pub async fn contact(&self, v: &Viewer, id: i64) -> Result<Contact, HubError> {
        let not_found = || HubError::NotFound(format!("contact {id}"));
        let c = contacts::get(self.db(), id).await?.ok_or_else(not_found)?;
        v.may_see_contact(c.session_id).map_err(|_| not_found())?;
        Ok(c)
    }

    /// A new contact reached through the session called `session`, at `phone` (digits).
    pub async fn create_contact(
        &self,
        v: &Viewer,
        session: &str,
        phone_digits: &str,
        patch: &ContactPatch,
    ) -> Result<Contact, HubError> {
        let unknown = || HubError::Invalid(format!("unknown session {session:?}"));
        let s = sessions::by_name(self.db(), session)
            .await?
            .ok_or_else(unknown)?;
        v.may_write_contacts(s.id)
            .map_err(|d| HubError::denied(d, || format!("session {session:?}")))
            .map_err(|e| match e {
                HubError::NotFound(_) => unknown(),
                e => e,
            })?;
        let chat = ChatId::normalise(&format!("{phone_digits}@c.us"));
        Ok(contacts::create(
            self.db(),
            s.id,
            chat.as_str(),
            chat.phone().as_deref(),
            patch,
            self.now_ms(),
        )
        .await?)
    }

    pub async fn update_contact(
        &self,
        v: &Viewer,
        id: i64,
        patch: &ContactPatch,
    ) -> Result<Contact, HubError> {
        let c = self.contact(v, id).await?;
        v.may_write_contacts(c.session_id)
            .map_err(|d| HubError::denied(d, || format!("contact {id}")))?;
        Ok(contacts::update(self.db(), id, patch, self.now_ms()).await?)
    }

    /// Deletes a contact; its conversations stay, without a contact.
    pub async fn delete_contact(&self, v: &Viewer, id: i64) -> Result<(), HubError> {
        let c = self.contact(v, id).await?;
        v.may_write_contacts(c.session_id)
            .map_err(|d| HubError::denied(d, || format!("contact {id}")))?;
        let existed = self
            .services
            .writer
            .run(id, |tx, id| Box::pin(contacts::delete(tx, *id)))
            .await?;
        if !existed {
            return Err(HubError::NotFound(format!("contact {id}")));
        }
        Ok(())
    }
}
