//! A member's email choices (docs/notifications.md) and the satisfaction scores
//! (docs/csat.md).

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::notify::{HandoffEmail, NotificationPrefs};
use crate::domain::Viewer;
use crate::store::csat::{self, AgentScore};
use crate::store::{notify, sessions};

/// A change of a member's choices: `None` keeps one as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrefsPatch {
    pub handoff: Option<HandoffEmail>,
    pub sla_breach: Option<bool>,
    pub daily_summary: Option<bool>,
}

impl Hub {
    /// The viewer's own email choices.
    pub async fn notification_prefs(&self, v: &Viewer) -> Result<NotificationPrefs, HubError> {
        v.may_set_own_notifications()
            .map_err(|d| HubError::denied(d, || "notification settings".into()))?;
        Ok(notify::prefs(self.db(), v.user_id).await?)
    }

    /// Changes the viewer's own email choices; answers them as they now are.
    pub async fn set_notification_prefs(
        &self,
        v: &Viewer,
        patch: PrefsPatch,
    ) -> Result<NotificationPrefs, HubError> {
        let mut p = self.notification_prefs(v).await?;
        if let Some(h) = patch.handoff {
            p.handoff = h;
        }
        if let Some(s) = patch.sla_breach {
            p.sla_breach = s;
        }
        if let Some(d) = patch.daily_summary {
            p.daily_summary = d;
        }
        notify::set_prefs(self.db(), v.user_id, &p, self.now_ms()).await?;
        Ok(p)
    }

    /// Ratings answered in `[from, to)` (ms) per agent and in total, in the viewer's
    /// sessions or in `session` (a name; one the viewer does not see is a 404).
    pub async fn csat_scores(
        &self,
        v: &Viewer,
        session: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<(Vec<AgentScore>, AgentScore), HubError> {
        let denied = |d| HubError::denied(d, || format!("session {:?}", session.unwrap_or("")));
        v.may_read_csat().map_err(denied)?;
        let session_id = match session {
            None => None,
            Some(name) => Some(
                sessions::by_name(self.db(), name)
                    .await?
                    .ok_or_else(|| HubError::NotFound(format!("session {name:?}")))?
                    .id,
            ),
        };
        let ids = v.csat_sessions(session_id).map_err(denied)?;
        Ok(csat::scores(self.db(), from, to, ids.as_deref()).await?)
    }
}
