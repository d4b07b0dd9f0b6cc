//! The supervisors' board and members' counts, read afresh (the pushed updates come from
//! `actors::board`, computed by the same functions).

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::analytics::report::Period;
use crate::domain::board::{self, Board, BoardInput, Counts};
use crate::domain::Viewer;
use crate::store::board as reads;

impl Hub {
    /// The board as `v` may see it: their sessions' queues and the members who share a
    /// session with them (admins: everything).
    pub async fn dashboard(&self, v: &Viewer) -> Result<Board, HubError> {
        v.may_see_board()
            .map_err(|d| HubError::denied(d, || "the board".into()))?;
        let team = reads::team(self.db()).await?;
        let names = reads::session_names(self.db()).await?;
        // Every session's: a member's load counts wherever it is.
        let tallies = board::tallies(&reads::tally_rows(self.db(), None).await?);
        let today = Period::today(self.services.config.time_zone, self.now_ms());
        let today = crate::store::analytics::reports::today(self.db(), &today).await?;
        let input = BoardInput {
            team: &team,
            sessions: &names,
            tallies: &tallies,
            today: &today,
            now_ms: self.now_ms(),
        };
        Ok(board::board(v, &input, |id| {
            self.presence.current_since(id)
        }))
    }

    /// `v`'s counts over the conversations they may see.
    pub async fn counts(&self, v: &Viewer) -> Result<Counts, HubError> {
        let filter = v
            .conversations()
            .map_err(|d| HubError::denied(d, || "conversations".into()))?;
        let rows = reads::tally_rows(self.db(), filter.sessions.as_deref()).await?;
        board::counts(v, &board::tallies(&rows))
            .ok_or(HubError::Forbidden("this role has no inbox"))
    }
}
