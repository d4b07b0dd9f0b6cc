//! The team: members, their roles and the sessions they work in. Every change is checked
//! by the access policy, saved in one writer transaction with its audit entry and its
//! `member.updated` event, and a member whose access changed has their sockets closed so
//! that they reconnect under the new rules.

use serde_json::json;

use super::Hub;
use crate::actors::error::HubError;
use crate::domain::audit::AuditEntry;
use crate::domain::hours::WeeklyHours;
use crate::domain::{member as rules, password, EventKind, EventScope, FieldError, Role, Viewer};
use crate::store::members::{self, Member, NewMember, Profile};
use crate::store::{audit, events, sessions, tokens, StoreError, Tx};

/// A new member, as asked for (validated here).
#[derive(Debug, Clone)]
pub struct MemberInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    pub sessions: Vec<String>,
    pub capacity: Option<i64>,
    pub working_hours: Option<WeeklyHours>,
    pub skills: Vec<String>,
}

/// A change to a member: `None` leaves a field as it is; for the nullable fields
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct MemberPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<Role>,
    pub sessions: Option<Vec<String>>,
    pub capacity: Option<Option<i64>>,
    pub working_hours: Option<Option<WeeklyHours>>,
    pub skills: Option<Vec<String>>,
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> HubError {
    HubError::Unprocessable(FieldError::new(field, reason))
}

fn member_not_found(id: i64) -> HubError {
    HubError::NotFound(format!("member {id}"))
}

/// Logs `member.updated` for supervisors (the board and the team list follow it) and for
/// the member themself (their capacity, sessions, hours).
async fn log_member(tx: &mut Tx, id: i64) -> Result<Member, StoreError> {
    let m = members::get_in(tx, id).await?;
    events::append(tx, EventKind::MemberUpdated, EventScope::supervisors(), &m).await?;
    if !m.role.supervises() {
        let own = EventScope {
            user_id: Some(id),
            ..Default::default()
        };
        events::append(tx, EventKind::MemberUpdated, own, &m).await?;
    }
    Ok(m)
}

/// The profile fields an audit entry shows (never the password).
fn profile_json(m: &Member) -> serde_json::Value {
    json!({"email": m.email, "name": m.name, "role": m.role, "sessions": m.sessions,
        "capacity": m.capacity, "working_hours": m.working_hours, "skills": m.skills, "active": m.active})
}

impl Hub {
    /// Session names → ids; an unknown name is a 422 naming it.
    pub(super) async fn session_ids(&self, names: &[String]) -> Result<Vec<i64>, HubError> {
        let mut ids = Vec::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            // What cannot be a session's name is not looked up (PostgreSQL refuses a NUL
            // even in a value it only compares).
            let found = match crate::domain::session::is_session_name(name) {
                true => sessions::by_name(self.db(), name).await?,
                false => None,
            };
            let s = found.ok_or_else(|| {
                invalid(
                    format!("sessions[{i}]"),
                    format!("unknown session {name:?}"),
                )
            })?;
            if !ids.contains(&s.id) {
                ids.push(s.id);
            }
        }
        Ok(ids)
    }

    pub async fn members(
        &self,
        v: &Viewer,
        after: Option<i64>,
        limit: i64,
        with_presence: bool,
    ) -> Result<Vec<Member>, HubError> {
        v.may_manage_members()
            .map_err(|d| HubError::denied(d, || "the team".into()))?;
        let mut items = members::list(self.db(), after, limit).await?;
        if with_presence {
            for m in &mut items {
                m.presence = Some(self.presence().current(m.id));
            }
        }
        Ok(items)
    }

    pub async fn member(
        &self,
        v: &Viewer,
        id: i64,
        with_presence: bool,
    ) -> Result<Member, HubError> {
        v.may_manage_members()
            .map_err(|d| HubError::denied(d, || format!("member {id}")))?;
        let mut m = members::get(self.db(), id)
            .await?
            .ok_or_else(|| member_not_found(id))?;
        if with_presence {
            m.presence = Some(self.presence().current(m.id));
        }
        Ok(m)
    }

    pub async fn create_member(&self, v: &Viewer, input: MemberInput) -> Result<Member, HubError> {
        v.may_manage_member(input.role)
            .map_err(|d| HubError::denied(d, || "the team".into()))?;
        rules::check_email(&input.email)?;
        rules::check_name(&input.name)?;
        rules::check_capacity(input.capacity)?;
        rules::check_skills(&input.skills)?;
        rules::check_hours(input.working_hours.as_ref())?;
        password::check(&input.password, &input.email).map_err(|e| invalid("password", e))?;
        let sessions = self.session_ids(&input.sessions).await?;
        v.may_grant_sessions(&sessions)
            .map_err(|d| HubError::denied(d, || "session".into()))?;
        let password_hash = crate::credentials::hash_async(input.password).await?;
        let new = NewMember {
            email: input.email.trim().to_string(),
            name: input.name.trim().to_string(),
            role: input.role,
            password_hash,
            capacity: input.capacity,
            working_hours: input.working_hours,
            skills: rules::tidy_skills(&input.skills),
            sessions,
        };
        let m = self
            .services
            .writer
            .run((v.clone(), new), |tx, (v, new)| {
                Box::pin(async move {
                    let id = members::insert(tx, new).await?;
                    let m = log_member(tx, id).await?;
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("member.create", "member", id).after(profile_json(&m)),
                    )
                    .await?;
                    Ok(m)
                })
            })
            .await?;
        Ok(m)
    }

    pub async fn update_member(
        &self,
        v: &Viewer,
        id: i64,
        patch: MemberPatch,
    ) -> Result<Member, HubError> {
        let current = self.member(v, id, false).await?;
        v.may_manage_member(current.role)
            .map_err(|d| HubError::denied(d, || format!("member {id}")))?;
        if let Some(role) = patch.role {
            v.may_manage_member(role)
                .map_err(|d| HubError::denied(d, || format!("member {id}")))?;
            if id == v.user_id && role != current.role {
                return Err(HubError::ConflictOn(FieldError::new(
                    "role",
                    "members do not change their own role",
                )));
            }
        }
        if let Some(e) = &patch.email {
            rules::check_email(e)?;
        }
        if let Some(n) = &patch.name {
            rules::check_name(n)?;
        }
        if let Some(c) = patch.capacity {
            rules::check_capacity(c)?;
        }
        if let Some(s) = &patch.skills {
            rules::check_skills(s)?;
        }
        if let Some(h) = &patch.working_hours {
            rules::check_hours(h.as_ref())?;
        }
        let sessions = match &patch.sessions {
            None => None,
            Some(names) => {
                let asked = self.session_ids(names).await?;
                v.may_grant_sessions(&asked)
                    .map_err(|d| HubError::denied(d, || "session".into()))?;
                // A manager's change leaves the sessions they do not work in as they were.
                let kept = members::session_ids(self.db(), id)
                    .await?
                    .into_iter()
                    .filter(|s| !v.may_access_session(*s));
                let mut all: Vec<i64> = kept.chain(asked).collect();
                all.sort_unstable();
                all.dedup();
                Some(all)
            }
        };
        let profile = Profile {
            email: patch.email.clone().unwrap_or(current.email.clone()),
            name: patch
                .name
                .clone()
                .map(|n| n.trim().to_string())
                .unwrap_or(current.name.clone()),
            role: patch.role.unwrap_or(current.role),
            capacity: patch.capacity.unwrap_or(current.capacity),
            working_hours: patch
                .working_hours
                .clone()
                .unwrap_or(current.working_hours.clone()),
            skills: patch
                .skills
                .as_deref()
                .map(rules::tidy_skills)
                .unwrap_or(current.skills.clone()),
        };
        let access_changed = profile.role != current.role || sessions.is_some();
        let m = self
            .services
            .writer
            .run(
                (v.clone(), id, profile, sessions, current),
                |tx, (v, id, p, sessions, before)| {
                    Box::pin(async move {
                        members::update(tx, *id, p).await?;
                        if let Some(s) = sessions {
                            members::set_sessions(tx, *id, s).await?;
                        }
                        let m = log_member(tx, *id).await?;
                        audit::record(
                            tx,
                            v,
                            &AuditEntry::new("member.update", "member", id)
                                .before(profile_json(before))
                                .after(profile_json(&m)),
                        )
                        .await?;
                        Ok(m)
                    })
                },
            )
            .await?;
        if access_changed {
            self.bus()
                .disconnect_user(id, "your access changed: reconnect");
        }
        Ok(m)
    }

    /// Deactivates (`false`) or reactivates a member. Deactivation revokes their tokens
    /// and closes their sockets at once, and returns their open conversations to the queue.
    pub async fn set_member_active(
        &self,
        v: &Viewer,
        id: i64,
        active: bool,
    ) -> Result<Member, HubError> {
        let current = self.member(v, id, false).await?;
        v.may_manage_member(current.role)
            .map_err(|d| HubError::denied(d, || format!("member {id}")))?;
        if !active && id == v.user_id {
            return Err(HubError::Conflict(
                "members do not deactivate themselves".into(),
            ));
        }
        let m = self
            .services
            .writer
            .run(
                (v.clone(), id, active, current.role),
                |tx, (v, id, active, role)| {
                    Box::pin(async move {
                        if !*active
                            && *role == Role::Admin
                            && members::other_active_admins_in(tx, *id).await? == 0
                        {
                            return Err(StoreError::Conflict(
                                "the team needs an active admin".into(),
                            ));
                        }
                        if members::set_active(tx, *id, *active).await? {
                            if !*active {
                                tokens::revoke_all_in(tx, *id, None).await?;
                            }
                            let action = if *active {
                                "member.activate"
                            } else {
                                "member.deactivate"
                            };
                            audit::record(
                                tx,
                                v,
                                &AuditEntry::new(action, "member", id)
                                    .before(json!({"active": !*active}))
                                    .after(json!({"active": *active})),
                            )
                            .await?;
                            return log_member(tx, *id).await;
                        }
                        members::get_in(tx, *id).await
                    })
                },
            )
            .await?;
        if !active {
            self.presence().deactivated(id);
            self.bus()
                .disconnect_user(id, "your account was deactivated");
            self.return_to_queue(id).await;
        }
        Ok(m)
    }

    /// A supervisor sets a member's password; every token of the member stops working.
    pub async fn reset_password(&self, v: &Viewer, id: i64, new: String) -> Result<(), HubError> {
        let current = self.member(v, id, false).await?;
        if id == v.user_id {
            // A token alone must not be enough to take over an account.
            return Err(HubError::Conflict(
                "members change their own password with POST /api/auth/password, giving the current one".into(),
            ));
        }
        v.may_manage_member(current.role)
            .map_err(|d| HubError::denied(d, || format!("member {id}")))?;
        password::check(&new, &current.email).map_err(|e| invalid("password", e))?;
        let hash = crate::credentials::hash_async(new).await?;
        self.services
            .writer
            .run((v.clone(), id, hash), |tx, (v, id, hash)| {
                Box::pin(async move {
                    members::set_password(tx, *id, hash).await?;
                    tokens::revoke_all_in(tx, *id, None).await?;
                    audit::record(
                        tx,
                        v,
                        &AuditEntry::new("member.reset_password", "member", id),
                    )
                    .await
                })
            })
            .await?;
        self.bus()
            .disconnect_user(id, "your password was reset: log in again");
        Ok(())
    }

    /// Hands the open conversations of a member who left back to the queue, each through
    /// its own actor. A failure is logged; a supervisor can still reassign by hand.
    async fn return_to_queue(&self, user_id: i64) {
        let open = match members::open_conversations(self.db(), user_id).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(user_id, error = %e, "could not list a deactivated member's conversations");
                return;
            }
        };
        let system = Viewer::system();
        for conversation_id in open {
            if let Err(e) = self.assign(&system, conversation_id, None, None).await {
                tracing::warn!(user_id, conversation_id, error = %e, "could not return a conversation to the queue");
            }
        }
    }
}
