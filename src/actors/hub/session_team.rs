//! Who works in a session, for everyone who works an inbox there: the colleagues an agent
//! may hand a conversation to, and the names on the team's messages. The team list itself
//! (`GET /api/team-members`, with emails and hours) stays with supervisors.

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::Viewer;
use crate::store::members::{self, SessionMember};

impl Hub {
    /// The active members with an inbox who work in session `name`, with their presence and
    /// open load.
    pub async fn session_members(
        &self,
        v: &Viewer,
        name: &str,
    ) -> Result<Vec<SessionMember>, HubError> {
        let s = self.session_record(v, name).await?;
        v.may_see_session_members(s.id)
            .map_err(|d| HubError::denied(d, || format!("session {name:?}")))?;
        let mut items = members::in_session(self.db(), s.id).await?;
        for m in &mut items {
            m.presence = self.presence().current(m.id);
        }
        Ok(items)
    }
}
