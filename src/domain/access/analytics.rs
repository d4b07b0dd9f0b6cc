//! Reports: supervisors read the team's, bots' and sessions' figures in their sessions;
//! a member who works the inbox reads their own row of the agents report; marketing reads
//! the campaigns report (campaigns are theirs) and nothing else.

use super::{allow, Decision, Denied, Viewer};
use crate::domain::Role;

/// What a viewer's reports cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsScope {
    /// Sessions (`None`: all).
    pub sessions: Option<Vec<i64>>,
    /// Only this member's figures (`None`: everyone in those sessions).
    pub only_user: Option<i64>,
}

impl Viewer {
    /// The agents report: supervisors see everyone in their sessions; agents and sales see
    /// themselves; marketing has no inbox to be measured on.
    pub fn agent_analytics(&self) -> Result<AnalyticsScope, Denied> {
        match self.role {
            Role::Admin | Role::Manager => Ok(AnalyticsScope {
                sessions: self.session_list(),
                only_user: None,
            }),
            Role::Agent | Role::Sales => Ok(AnalyticsScope {
                sessions: self.session_list(),
                only_user: Some(self.user_id),
            }),
            Role::Marketing => Err(Denied::Forbidden(
                "marketing reads the campaigns report; team figures are for supervisors",
            )),
        }
    }

    /// The bots, sessions and dashboard-wide figures: admins and managers, in their
    /// sessions.
    pub fn team_analytics(&self) -> Result<AnalyticsScope, Denied> {
        allow(
            self.role.supervises(),
            "only admins and managers read the bots' and sessions' reports",
        )?;
        Ok(AnalyticsScope {
            sessions: self.session_list(),
            only_user: None,
        })
    }

    /// The campaigns report: whoever works with campaigns, in their sessions.
    pub fn campaign_analytics(&self) -> Result<AnalyticsScope, Denied> {
        self.may_read_campaigns()?;
        Ok(AnalyticsScope {
            sessions: self.session_list(),
            only_user: None,
        })
    }

    /// Whether a report may name a session (`?session=`): it must be one of the viewer's.
    pub fn may_report_on(&self, session_id: i64) -> Decision {
        self.may_see_session(session_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::SessionAccess;
    use crate::domain::audit::Origin;

    fn viewer(role: Role) -> Viewer {
        Viewer {
            user_id: 5,
            role,
            sessions: SessionAccess::Only(vec![1]),
            origin: Origin::system(),
        }
    }

    #[test]
    fn each_role_reads_what_it_may() {
        for role in Role::ALL {
            let v = viewer(*role);
            match (role, v.agent_analytics()) {
                (Role::Admin | Role::Manager, Ok(s)) => assert_eq!(s.only_user, None),
                (Role::Agent | Role::Sales, Ok(s)) => assert_eq!(s.only_user, Some(5)),
                (Role::Marketing, Err(Denied::Forbidden(_))) => {}
                (r, other) => panic!("{r}: {other:?}"),
            }
            assert_eq!(v.team_analytics().is_ok(), role.supervises(), "{role}");
            assert_eq!(
                v.campaign_analytics().is_ok(),
                matches!(role, Role::Admin | Role::Manager | Role::Marketing),
                "{role}"
            );
            if let Ok(s) = v.agent_analytics() {
                assert_eq!(s.sessions, Some(vec![1]), "{role}");
            }
        }
    }
}
