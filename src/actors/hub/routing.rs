//! What the team sees of automatic assignment: a session's queue (its order is the order
//! the router assigns in; supervisors only) and a conversation's assignment history with
//! the why of each automatic assignment (whoever may see the conversation). Reads only: the router's writes go through the
//! conversations' actors (`actors::router`).

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::Viewer;
use crate::store::routing::{self, AssignmentItem, QueueItem};

impl Hub {
    /// The session's waiting conversations in the order they will be assigned, after the
    /// queue position `(waiting_since, id)` of a previous page.
    pub async fn queue(
        &self,
        v: &Viewer,
        name: &str,
        after: Option<(i64, i64)>,
        limit: i64,
    ) -> Result<Vec<QueueItem>, HubError> {
        let s = self.session_record(v, name).await?;
        v.may_supervise_routing()
            .map_err(|d| HubError::denied(d, || format!("the queue of {name:?}")))?;
        Ok(routing::queue(self.db(), s.id, after, limit).await?)
    }

    /// Who held the conversation when, who decided, and why.
    pub async fn assignments(
        &self,
        v: &Viewer,
        id: i64,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AssignmentItem>, HubError> {
        let c = self.conversation(v, id).await?;
        v.may_read_assignments(c.facts())
            .map_err(|d| HubError::denied(d, || format!("conversation {id}")))?;
        Ok(routing::assignments(self.db(), id, after, limit).await?)
    }
}
