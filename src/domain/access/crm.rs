//! The CRM's part of the policy: contacts' types and attribute definitions, and segments.
//! Contacts themselves stay in `access.rs` (`contacts`, `may_write_contacts`).

use super::{allow, Decision, Viewer};
use crate::domain::Role;

impl Viewer {
    /// The contact types and attribute definitions: whoever reads contacts (everyone)
    /// reads them, since they describe what a contact holds.
    pub fn may_read_contact_schema(&self) -> Decision {
        Ok(())
    }

    /// Declare, change and remove contact types and attributes: admins and managers, since
    /// they shape every contact of every session.
    pub fn may_manage_contact_schema(&self) -> Decision {
        allow(
            self.role.supervises(),
            "only admins and managers define contact types and attributes",
        )
    }

    /// Segments are saved contact filters: whoever reads contacts reads them, and their
    /// counts cover only the contacts the viewer may see (`contacts()`).
    pub fn may_read_segments(&self) -> Decision {
        Ok(())
    }

    /// Export everything held about a contact, or erase it (GDPR): admins and managers of
    /// its session, since both reach every conversation of the person and an erasure
    /// cannot be undone. Others who see the contact get a 403; a contact of a session the
    /// viewer does not see is not found.
    pub fn may_export_or_erase_contact(&self, session_id: i64) -> Decision {
        self.may_see_contact(session_id)?;
        allow(
            self.role.supervises(),
            "only admins and managers export or erase a contact's personal data",
        )
    }

    /// Export contacts as CSV (a segment's): whoever writes contacts (not agents), since a
    /// file of every number leaves the policy's reach once downloaded.
    pub fn may_export_contacts(&self) -> Decision {
        allow(
            self.role != Role::Agent,
            "agents read contacts but do not export them",
        )
    }

    /// Campaigns and their templates: admins, managers and marketing (who run them);
    /// agents and sales work the inbox.
    pub fn may_read_campaigns(&self) -> Decision {
        allow(
            matches!(self.role, Role::Admin | Role::Manager | Role::Marketing),
            "only admins, managers and marketing work with campaigns",
        )
    }

    /// A campaign of `session_id`: create, edit, start, pause, resume, cancel, test, and
    /// read its recipients and report. Whoever may work with campaigns, in the sessions they
    /// work in (another session's campaign does not exist for them).
    pub fn may_run_campaign(&self, session_id: i64) -> Decision {
        self.may_read_campaigns()?;
        self.may_see_session(session_id)
    }

    /// Upload a list (CSV) as the audience of a campaign of `session_id`: whoever runs
    /// the campaign, and writes the session's contacts, since the rows become (or update)
    /// its contacts.
    pub fn may_upload_audience(&self, session_id: i64) -> Decision {
        self.may_run_campaign(session_id)?;
        self.may_write_contacts(session_id)
    }

    /// A campaign over several sessions: what `may_run_campaign` says of each (the first
    /// refusal; a campaign is a member's only if every session it sends over is).
    pub fn may_run_campaign_in(&self, sessions: &[i64]) -> Decision {
        self.may_read_campaigns()?;
        sessions.iter().try_for_each(|s| self.may_run_campaign(*s))
    }

    /// An uploaded list for a campaign over several sessions: its rows may become
    /// contacts of any of them, so `may_upload_audience` must hold for each.
    pub fn may_upload_audience_in(&self, sessions: &[i64]) -> Decision {
        self.may_run_campaign_in(sessions)?;
        sessions
            .iter()
            .try_for_each(|s| self.may_upload_audience(*s))
    }

    /// Create, edit and delete segments: whoever writes contacts (not agents).
    pub fn may_write_segments(&self) -> Decision {
        allow(
            self.role != Role::Agent,
            "agents read segments but do not edit them",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{Denied, SessionAccess};
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
    fn who_shapes_contacts_and_segments() {
        for role in Role::ALL {
            let v = viewer(*role);
            assert_eq!(v.may_read_contact_schema(), Ok(()), "{role}");
            assert_eq!(v.may_read_segments(), Ok(()), "{role}");
            assert_eq!(
                v.may_manage_contact_schema().is_ok(),
                role.supervises(),
                "{role}"
            );
            assert_eq!(
                v.may_export_or_erase_contact(1).is_ok(),
                role.supervises(),
                "{role}"
            );
            assert_eq!(
                v.may_export_or_erase_contact(2),
                Err(Denied::Hidden),
                "{role}: another session's contact is not found"
            );
            assert_eq!(
                v.may_write_segments().is_ok(),
                *role != Role::Agent,
                "{role}"
            );
            for d in [v.may_manage_contact_schema(), v.may_write_segments()] {
                assert!(
                    !matches!(d, Err(Denied::Hidden)),
                    "{role}: a 403, not a 404"
                );
            }
        }
    }

    #[test]
    fn who_runs_campaigns_and_receives_their_progress() {
        use crate::domain::{EventKind, EventScope};
        for role in Role::ALL {
            let v = viewer(*role);
            let runs = matches!(role, Role::Admin | Role::Manager | Role::Marketing);
            assert_eq!(v.may_read_campaigns().is_ok(), runs, "{role}");
            assert_eq!(v.may_run_campaign(1).is_ok(), runs, "{role}");
            assert_eq!(v.may_upload_audience(1).is_ok(), runs, "{role}");
            if runs {
                assert_eq!(v.may_upload_audience(2), Err(Denied::Hidden), "{role}");
            }
            if runs {
                assert_eq!(
                    v.may_run_campaign(2),
                    Err(Denied::Hidden),
                    "{role}: another session's campaign is not found"
                );
            } else {
                assert!(
                    matches!(v.may_run_campaign(2), Err(Denied::Forbidden(_))),
                    "{role}: a 403 whatever the session"
                );
            }
            // Several sessions: every one must be the member's.
            assert_eq!(v.may_run_campaign_in(&[1]).is_ok(), runs, "{role}");
            assert_eq!(v.may_upload_audience_in(&[1]).is_ok(), runs, "{role}");
            if runs {
                assert_eq!(
                    v.may_run_campaign_in(&[1, 2]),
                    Err(Denied::Hidden),
                    "{role}"
                );
                assert_eq!(
                    v.may_run_campaign_in(&[2, 1]),
                    Err(Denied::Hidden),
                    "{role}"
                );
                assert_eq!(
                    v.may_upload_audience_in(&[1, 2]),
                    Err(Denied::Hidden),
                    "{role}"
                );
            } else {
                assert!(
                    matches!(v.may_run_campaign_in(&[1, 2]), Err(Denied::Forbidden(_))),
                    "{role}"
                );
            }
            let ours = EventScope::session(1);
            assert_eq!(
                v.can_see_event(EventKind::CampaignProgress, &ours),
                runs,
                "{role}"
            );
            assert!(
                !v.can_see_event(EventKind::CampaignProgress, &EventScope::session(2)),
                "{role}"
            );
            // Other events of the session are untouched by the rule.
            assert!(v.can_see_event(EventKind::SessionSettings, &ours), "{role}");
        }
    }
}
