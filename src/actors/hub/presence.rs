//! Members' presence: their own choice, and its history for those who may read it.

use super::Hub;
use crate::actors::error::HubError;
use crate::actors::presence::Presence;
use crate::domain::{PresenceStatus, Viewer};
use crate::store::presence::{self, PresenceEntry};

impl Hub {
    /// Members' presence: `current`, `deactivated`, and what sockets report.
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// The member's own choice (`presence.set`); it stays until they change it.
    pub async fn set_presence(&self, v: &Viewer, status: PresenceStatus) -> Result<(), HubError> {
        self.presence.set(v.user_id, status).await;
        Ok(())
    }

    /// A member's presence transitions with their causes, newest first, before `before`.
    pub async fn presence_history(
        &self,
        v: &Viewer,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PresenceEntry>, HubError> {
        v.may_read_presence(user_id)
            .map_err(|d| HubError::denied(d, || format!("member {user_id}")))?;
        if !presence::member_exists(self.db(), user_id).await? {
            return Err(HubError::NotFound(format!("member {user_id}")));
        }
        Ok(presence::history(self.db(), user_id, before, limit).await?)
    }
}
