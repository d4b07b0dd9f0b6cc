//! Saved message templates are campaign material: the roles that run campaigns (admins,
//! managers, marketing) read and write them; agents and sales, who work the inbox, do not
//! (their saved texts are quick replies).

use super::{Decision, Viewer};

impl Viewer {
    /// List and read templates: whoever works with campaigns (`may_read_campaigns`).
    pub fn may_read_templates(&self) -> Decision {
        self.may_read_campaigns()
    }

    /// Create, edit and delete templates: the same roles, since a template is shared by
    /// everyone who builds campaigns and carries no session's data.
    pub fn may_write_templates(&self) -> Decision {
        self.may_read_campaigns()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{Denied, SessionAccess};
    use crate::domain::audit::Origin;
    use crate::domain::Role;

    #[test]
    fn campaign_roles_use_templates_inbox_roles_get_403() {
        for role in Role::ALL {
            let v = Viewer {
                user_id: 5,
                role: *role,
                sessions: SessionAccess::Only(vec![1]),
                origin: Origin::system(),
            };
            let allowed = matches!(role, Role::Admin | Role::Manager | Role::Marketing);
            for d in [v.may_read_templates(), v.may_write_templates()] {
                match d {
                    Ok(()) => assert!(allowed, "{role}"),
                    Err(Denied::Forbidden(_)) => assert!(!allowed, "{role}"),
                    Err(Denied::Hidden) => panic!("{role}: a 403, not a 404"),
                }
            }
        }
    }
}
