//! Who sees what (contract §3): agents see their own and unassigned conversations of the
//! sessions they may access; supervisors see everything in their sessions.

use super::{EventScope, Role};

/// What the hub knows about a connected user when deciding what to send them.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: i64,
    pub role: Role,
    /// `None`: every session (the only mode until session access lists exist).
    pub sessions: Option<Vec<i64>>,
}

impl Viewer {
    pub fn may_access_session(&self, session_id: i64) -> bool {
        self.sessions
            .as_ref()
            .is_none_or(|s| s.contains(&session_id))
    }

    pub fn can_see(&self, scope: &EventScope) -> bool {
        if let Some(user) = scope.user_id {
            return user == self.user_id;
        }
        if scope.supervisors_only && !self.role.supervises() {
            return false;
        }
        if let Some(session) = scope.session_id {
            if !self.may_access_session(session) {
                return false;
            }
        }
        if self.role.supervises() || scope.conversation_id.is_none() {
            return true;
        }
        scope.assignee_id.is_none_or(|a| a == self.user_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(assignee: Option<i64>) -> EventScope {
        EventScope {
            session_id: Some(1),
            conversation_id: Some(7),
            assignee_id: assignee,
            ..Default::default()
        }
    }

    #[test]
    fn agents_see_their_own_and_unassigned() {
        let agent = Viewer {
            user_id: 5,
            role: Role::Agent,
            sessions: None,
        };
        assert!(agent.can_see(&conv(None)));
        assert!(agent.can_see(&conv(Some(5))));
        assert!(!agent.can_see(&conv(Some(6))));
        let boss = Viewer {
            user_id: 1,
            role: Role::Manager,
            sessions: None,
        };
        assert!(boss.can_see(&conv(Some(6))));
    }

    #[test]
    fn no_event_of_a_session_without_access() {
        let agent = Viewer {
            user_id: 5,
            role: Role::Admin,
            sessions: Some(vec![2]),
        };
        assert!(!agent.can_see(&conv(None)));
    }

    #[test]
    fn presence_is_for_supervisors() {
        let scope = EventScope {
            supervisors_only: true,
            ..Default::default()
        };
        assert!(!Viewer {
            user_id: 5,
            role: Role::Agent,
            sessions: None
        }
        .can_see(&scope));
        assert!(Viewer {
            user_id: 1,
            role: Role::Admin,
            sessions: None
        }
        .can_see(&scope));
    }
}
