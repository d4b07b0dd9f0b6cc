//! Customer satisfaction reports and members' own email choices (docs/csat.md,
//! docs/notifications.md).

use super::{allow, Decision, Denied, Viewer};

impl Viewer {
    /// CSAT scores per agent: admins (every session) and managers (the sessions they work
    /// in); agents, sales and marketing get 403.
    pub fn may_read_csat(&self) -> Decision {
        allow(
            self.role.supervises(),
            "only admins and managers read satisfaction scores",
        )
    }

    /// The sessions whose ratings this viewer may read (`None`: every session), or `Err`
    /// when they may read none; asking for one session outside theirs is a 404.
    pub fn csat_sessions(&self, session_id: Option<i64>) -> Result<Option<Vec<i64>>, Denied> {
        self.may_read_csat()?;
        match session_id {
            Some(s) if !self.may_access_session(s) => Err(Denied::Hidden),
            Some(s) => Ok(Some(vec![s])),
            None => Ok(self.session_list()),
        }
    }

    /// A member reads and sets their own email choices (every role: each is emailed only
    /// about what they may see anyway).
    pub fn may_set_own_notifications(&self) -> Decision {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::SessionAccess;
    use crate::domain::audit::Origin;
    use crate::domain::Role;

    fn v(role: Role, sessions: SessionAccess) -> Viewer {
        Viewer {
            user_id: 5,
            role,
            sessions,
            origin: Origin::system(),
        }
    }

    #[test]
    fn supervisors_read_their_sessions_ratings_others_get_403() {
        for role in Role::ALL {
            let allowed = role.supervises();
            let viewer = v(*role, SessionAccess::Only(vec![1]));
            match viewer.csat_sessions(None) {
                Ok(s) => assert!(allowed && s == Some(vec![1]), "{role}"),
                Err(Denied::Forbidden(_)) => assert!(!allowed, "{role}"),
                Err(Denied::Hidden) => panic!("{role}: a refusal, not a 404"),
            }
            assert!(viewer.may_set_own_notifications().is_ok());
        }
        let manager = v(Role::Manager, SessionAccess::Only(vec![1]));
        assert_eq!(manager.csat_sessions(Some(2)), Err(Denied::Hidden));
        assert_eq!(manager.csat_sessions(Some(1)), Ok(Some(vec![1])));
        let admin = v(Role::Admin, SessionAccess::All);
        assert_eq!(admin.csat_sessions(None), Ok(None));
    }
}
