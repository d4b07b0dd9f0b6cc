//! The access policy: the one place that answers "may this person see / do this". HTTP
//! handlers, list queries (through the filters below, turned into SQL by the store),
//! websocket delivery, `since` replay and websocket commands all ask it.
//!
//! The floor is CONTRACT §3a: agents and sales work their sessions' unassigned
//! conversations and their own; marketing has no inbox; managers see everything in their
//! sessions; admins see everything and run the sessions and the team.

mod analytics;
pub use analytics::AnalyticsScope;
pub mod api_keys;
mod crm;
mod notify;
mod templates;

use super::audit::Origin;
use super::session::ReplyPolicy;
use super::{EventKind, EventScope, Role};

/// Which WhatsApp sessions a member may work in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAccess {
    /// Every session (admins; and everyone until session access lists exist).
    All,
    /// Only these session ids.
    Only(Vec<i64>),
}

/// Who is asking: built once per request and once per socket.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: i64,
    pub role: Role,
    pub sessions: SessionAccess,
    /// How the request reached the hub (recorded in the audit log with each change).
    pub origin: Origin,
}

/// What the policy needs to know about a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationFacts {
    pub session_id: i64,
    pub assignee_id: Option<i64>,
}

/// The conversations a viewer may see, as a filter the store turns into SQL, so lists
/// never fetch and then filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversationFilter {
    /// `Some`: only these sessions.
    pub sessions: Option<Vec<i64>>,
    /// `Some(user)`: only conversations assigned to `user` or to nobody.
    pub mine_or_unassigned: Option<i64>,
}

/// The contacts a viewer may see, likewise.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactFilter {
    pub sessions: Option<Vec<i64>>,
}

/// The audit entries a viewer may read, likewise: the store writes it into its SQL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFilter {
    /// `Some`: only entries of these sessions, and entries that belong to no session
    /// (the team, logins); `None`: every entry.
    pub sessions: Option<Vec<i64>>,
}

impl AuditFilter {
    /// Whether an entry of `session_id` is readable (what the store's SQL says too).
    pub fn admits(&self, session_id: Option<i64>) -> bool {
        match (&self.sessions, session_id) {
            (None, _) | (_, None) => true,
            (Some(ids), Some(s)) => ids.contains(&s),
        }
    }
}

/// Why something was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The thing is outside what the viewer may see: answer as if it did not exist.
    Hidden,
    /// The viewer knows the thing exists but may not do this to it.
    Forbidden(&'static str),
}

pub type Decision = Result<(), Denied>;

fn allow(ok: bool, why: &'static str) -> Decision {
    if ok {
        Ok(())
    } else {
        Err(Denied::Forbidden(why))
    }
}

impl Viewer {
    /// The hub acting by itself (returning a deactivated member's conversations to the
    /// queue, the router later): sees and may do everything; audited as the system.
    pub fn system() -> Viewer {
        Viewer {
            user_id: 0,
            role: Role::Admin,
            sessions: SessionAccess::All,
            origin: Origin::system(),
        }
    }

    pub fn may_access_session(&self, session_id: i64) -> bool {
        match &self.sessions {
            SessionAccess::All => true,
            SessionAccess::Only(ids) => ids.contains(&session_id),
        }
    }

    fn session_list(&self) -> Option<Vec<i64>> {
        match &self.sessions {
            SessionAccess::All => None,
            SessionAccess::Only(ids) => Some(ids.clone()),
        }
    }

    /// Whether this role works the inbox at all.
    pub fn has_inbox(&self) -> bool {
        !matches!(self.role, Role::Marketing)
    }

    // ---- conversations and their messages

    /// The conversations this viewer may list; `Err` when the inbox is not theirs at all.
    pub fn conversations(&self) -> Result<ConversationFilter, Denied> {
        allow(self.has_inbox(), "this role has no inbox")?;
        Ok(ConversationFilter {
            sessions: self.session_list(),
            mine_or_unassigned: (!self.role.supervises()).then_some(self.user_id),
        })
    }

    pub fn may_see_conversation(&self, c: ConversationFacts) -> Decision {
        let filter = self.conversations()?;
        let visible = self.may_access_session(c.session_id)
            && filter
                .mine_or_unassigned
                .is_none_or(|me| c.assignee_id.is_none_or(|a| a == me));
        if visible {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Mark read, type, resolve, reopen, write a note: whoever may see a conversation
    /// may work in it.
    pub fn may_act_on_conversation(&self, c: ConversationFacts) -> Decision {
        self.may_see_conversation(c)
    }

    /// Reply to the customer: whoever may work in the conversation, unless the session
    /// keeps replies to the assignee (then: the assignee and supervisors).
    pub fn may_reply(&self, c: ConversationFacts, policy: ReplyPolicy) -> Decision {
        self.may_act_on_conversation(c)?;
        match policy {
            ReplyPolicy::Anyone => Ok(()),
            ReplyPolicy::Assignee => allow(
                self.role.supervises() || c.assignee_id == Some(self.user_id),
                "only the assignee replies in this session's conversations: take the conversation first",
            ),
        }
    }

    /// Change who a conversation is assigned to (`to`: the new assignee, or nobody).
    /// Supervisors assign anything they see; agents and sales take an unassigned
    /// conversation for themselves, and hand their own to a colleague or back to the queue.
    pub fn may_assign(&self, c: ConversationFacts, to: Option<i64>) -> Decision {
        self.may_see_conversation(c)?;
        if self.role.supervises() {
            return Ok(());
        }
        let mine = c.assignee_id == Some(self.user_id);
        let taking = c.assignee_id.is_none() && to == Some(self.user_id);
        allow(
            mine || taking,
            "agents take unassigned conversations for themselves or hand on their own",
        )
    }

    /// A conversation's assignment history (who held it, who decided, the router's why):
    /// whoever may see the conversation, since it tells them why it is in their hands.
    pub fn may_read_assignments(&self, c: ConversationFacts) -> Decision {
        self.may_see_conversation(c)
    }

    /// Whether a supervisor's own choice may put a member past their capacity (agents
    /// handing on or taking conversations may not).
    pub fn may_exceed_capacity(&self) -> bool {
        self.role.supervises()
    }

    // ---- sessions

    pub fn may_see_session(&self, session_id: i64) -> Decision {
        if self.may_access_session(session_id) {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Who works in a session (names, roles, presence, load): whoever may see the session
    /// and works an inbox, since agents hand their own conversations to these colleagues
    /// and read their names on messages. Marketing has no inbox to hand anything from.
    pub fn may_see_session_members(&self, session_id: i64) -> Decision {
        self.may_see_session(session_id)?;
        allow(self.has_inbox(), "this role has no inbox")
    }

    /// The sessions this viewer may list (`None`: all).
    pub fn sessions_filter(&self) -> Option<Vec<i64>> {
        self.session_list()
    }

    /// Register, start, stop, log out, pair, change settings: admins only.
    pub fn may_manage_sessions(&self) -> Decision {
        allow(
            self.role == Role::Admin,
            "only admins manage WhatsApp sessions",
        )
    }

    // ---- contacts

    pub fn contacts(&self) -> ContactFilter {
        ContactFilter {
            sessions: self.session_list(),
        }
    }

    pub fn may_see_contact(&self, session_id: i64) -> Decision {
        self.may_see_session(session_id)
    }

    /// Create, edit and delete contacts: everyone but agents, who only read them.
    pub fn may_write_contacts(&self, session_id: i64) -> Decision {
        self.may_see_contact(session_id)?;
        allow(
            self.role != Role::Agent,
            "agents read contacts but do not edit them",
        )
    }

    // ---- quick replies

    /// The team's saved responses: whoever works an inbox reads them.
    pub fn may_read_quick_replies(&self) -> Decision {
        allow(self.has_inbox(), "this role has no inbox")
    }

    /// Create, edit and delete quick replies: admins and managers.
    pub fn may_write_quick_replies(&self) -> Decision {
        self.may_read_quick_replies()?;
        allow(
            self.role.supervises(),
            "only admins and managers edit quick replies",
        )
    }

    // ---- the team and operations

    /// See the team list and members' profiles.
    pub fn may_manage_members(&self) -> Decision {
        allow(
            self.role.supervises(),
            "only admins and managers manage the team",
        )
    }

    /// Create, edit, deactivate or reset the password of a member with `role` (before and
    /// after the change): admins any; managers agents, sales and marketing.
    pub fn may_manage_member(&self, role: Role) -> Decision {
        self.may_manage_members()?;
        allow(
            self.role == Role::Admin || !role.supervises(),
            "managers manage agents, sales and marketing; admins manage everyone",
        )
    }

    /// Grant or withdraw access to these sessions: admins any; managers only sessions
    /// they work in themselves.
    pub fn may_grant_sessions(&self, session_ids: &[i64]) -> Decision {
        self.may_manage_members()?;
        allow(
            session_ids.iter().all(|s| self.may_access_session(*s)),
            "managers grant only the sessions they work in",
        )
    }

    /// A member's presence and its history: supervisors (everyone's, CONTRACT §3a), and
    /// each member their own.
    pub fn may_read_presence(&self, user_id: i64) -> Decision {
        allow(
            self.role.supervises() || self.user_id == user_id,
            "only admins and managers read other members' presence",
        )
    }

    /// The supervisors' board: admins and managers.
    pub fn may_see_board(&self) -> Decision {
        allow(
            self.role.supervises(),
            "only admins and managers see the board",
        )
    }

    /// Whether member `id` (with `role`, working in `sessions`) is on this viewer's board:
    /// admins see everyone; a manager, the members who share a session with them (admins
    /// work in every session) and themself.
    pub fn sees_on_board(&self, id: i64, role: Role, sessions: &[i64]) -> bool {
        match &self.sessions {
            SessionAccess::All => true,
            SessionAccess::Only(mine) => {
                id == self.user_id
                    || role == Role::Admin
                    || sessions.iter().any(|s| mine.contains(s))
            }
        }
    }

    // ---- bots

    /// Bots, their triggers, the tester and their metrics: admins and managers.
    pub fn may_manage_bots(&self) -> Decision {
        allow(
            self.role.supervises(),
            "only admins and managers manage bots",
        )
    }

    /// A bot serving `session_ids`: admins any; a manager only a bot that serves nothing
    /// outside their sessions (else it does not exist for them).
    pub fn may_see_bot(&self, session_ids: &[i64]) -> Decision {
        self.may_manage_bots()?;
        if session_ids.iter().all(|s| self.may_access_session(*s)) {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Attach a bot to `session_ids`: managers only to sessions they work in.
    pub fn may_attach_bot(&self, session_ids: &[i64]) -> Decision {
        self.may_manage_bots()?;
        allow(
            session_ids.iter().all(|s| self.may_access_session(*s)),
            "managers attach bots only to the sessions they work in",
        )
    }

    /// A session's queue (the order the router assigns in): admins and managers (who see
    /// the conversations concerned anyway).
    pub fn may_supervise_routing(&self) -> Decision {
        allow(
            self.role.supervises(),
            "only admins and managers see the queue",
        )
    }

    /// Operator views (webhooks that could not be applied, …): admins only.
    pub fn may_operate(&self) -> Decision {
        allow(self.role == Role::Admin, "only admins see operator views")
    }

    // ---- integrations

    /// Outbound webhook subscriptions, API keys and the hub's stored secrets: admins
    /// only. A subscription receives events of every session, and a key can act for its
    /// maker without a password, so neither is for a role bounded by sessions.
    pub fn may_manage_integrations(&self) -> Decision {
        allow(
            self.role == Role::Admin,
            "only admins manage webhooks, API keys and the hub's settings",
        )
    }

    // ---- the audit log

    /// Read the audit log: admins and managers.
    pub fn may_read_audit(&self) -> Decision {
        allow(
            self.role.supervises(),
            "only admins and managers read the audit log",
        )
    }

    /// The audit entries this viewer may read: admins every entry; managers those of the
    /// sessions they work in and those of no session.
    pub fn audit_log(&self) -> Result<AuditFilter, Denied> {
        self.may_read_audit()?;
        Ok(AuditFilter {
            sessions: self.session_list(),
        })
    }

    // ---- events, live and on replay

    /// The events this viewer receives: applied to each live event, and by the store, in
    /// SQL, to the event log on replay.
    pub fn events(&self) -> EventFilter {
        EventFilter {
            user_id: self.user_id,
            supervisor: self.role.supervises(),
            sessions: self.session_list(),
            conversations: match self.conversations() {
                Ok(f) => ConversationEvents::Visible {
                    mine_or_unassigned: f.mine_or_unassigned,
                },
                Err(_) => ConversationEvents::None,
            },
            campaigns: self.may_read_campaigns().is_ok(),
        }
    }

    pub fn can_see(&self, scope: &EventScope) -> bool {
        self.events().matches(scope)
    }

    pub fn can_see_event(&self, kind: EventKind, scope: &EventScope) -> bool {
        self.events().admits(kind, scope)
    }
}

/// Which conversation events a viewer receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConversationEvents {
    /// None at all (no inbox).
    None,
    /// Those of conversations it may see.
    Visible { mine_or_unassigned: Option<i64> },
}

/// The event rule in a form the store can also write as SQL (`store::events::replay`
/// must say exactly what [`EventFilter::matches`] says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub user_id: i64,
    pub supervisor: bool,
    /// `Some`: only events of these sessions (and events of no session).
    pub sessions: Option<Vec<i64>>,
    pub conversations: ConversationEvents,
    /// Whether campaign events (`campaign.progress`) reach this viewer.
    pub campaigns: bool,
}

impl EventFilter {
    /// Whether an event of `kind` with `scope` reaches this viewer.
    pub fn admits(&self, kind: EventKind, scope: &EventScope) -> bool {
        (self.campaigns || !kind.is_campaigns_only()) && self.matches(scope)
    }

    pub fn matches(&self, scope: &EventScope) -> bool {
        if let Some(user) = scope.user_id {
            return user == self.user_id;
        }
        if scope.supervisors_only && !self.supervisor {
            return false;
        }
        if let (Some(session), Some(ids)) = (scope.session_id, &self.sessions) {
            if !ids.contains(&session) {
                return false;
            }
        }
        if scope.conversation_id.is_none() {
            return true;
        }
        match &self.conversations {
            ConversationEvents::None => false,
            ConversationEvents::Visible { mine_or_unassigned } => {
                mine_or_unassigned.is_none_or(|me| scope.assignee_id.is_none_or(|a| a == me))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(role: Role, sessions: SessionAccess) -> Viewer {
        Viewer {
            user_id: 5,
            role,
            sessions,
            origin: Origin::system(),
        }
    }

    fn conv(session_id: i64, assignee_id: Option<i64>) -> ConversationFacts {
        ConversationFacts {
            session_id,
            assignee_id,
        }
    }

    fn scope(assignee: Option<i64>) -> EventScope {
        EventScope {
            session_id: Some(1),
            conversation_id: Some(7),
            assignee_id: assignee,
            ..Default::default()
        }
    }

    #[test]
    fn agents_see_their_own_and_unassigned() {
        let agent = viewer(Role::Agent, SessionAccess::All);
        assert!(agent.can_see(&scope(None)));
        assert!(agent.can_see(&scope(Some(5))));
        assert!(!agent.can_see(&scope(Some(6))));
        assert_eq!(
            agent.may_see_conversation(conv(1, Some(6))),
            Err(Denied::Hidden)
        );
        assert_eq!(
            agent.may_act_on_conversation(conv(1, Some(6))),
            Err(Denied::Hidden)
        );
        assert_eq!(
            agent.conversations(),
            Ok(ConversationFilter {
                sessions: None,
                mine_or_unassigned: Some(5)
            })
        );
        let boss = viewer(Role::Manager, SessionAccess::All);
        assert!(boss.can_see(&scope(Some(6))));
        assert_eq!(boss.may_act_on_conversation(conv(1, Some(6))), Ok(()));
        assert_eq!(boss.conversations().map(|f| f.mine_or_unassigned), Ok(None));
    }

    #[test]
    fn nothing_of_a_session_without_access() {
        for role in Role::ALL {
            let v = viewer(*role, SessionAccess::Only(vec![2]));
            assert!(!v.can_see(&scope(None)), "{role}");
            let session_event = EventScope {
                session_id: Some(1),
                ..Default::default()
            };
            assert!(!v.can_see(&session_event), "{role}");
            assert_eq!(v.may_see_session(1), Err(Denied::Hidden), "{role}");
            assert_eq!(v.may_see_contact(1), Err(Denied::Hidden), "{role}");
            assert!(v.may_see_conversation(conv(1, None)).is_err(), "{role}");
            assert!(v.may_see_conversation(conv(1, Some(5))).is_err(), "{role}");
        }
        let v = viewer(Role::Agent, SessionAccess::Only(vec![2]));
        assert_eq!(v.conversations().map(|f| f.sessions), Ok(Some(vec![2])));
    }

    #[test]
    fn marketing_has_no_inbox() {
        let m = viewer(Role::Marketing, SessionAccess::All);
        assert!(matches!(m.conversations(), Err(Denied::Forbidden(_))));
        assert!(m.may_see_conversation(conv(1, None)).is_err());
        assert!(!m.can_see(&scope(None)));
        assert!(!m.can_see(&scope(Some(5))));
        assert_eq!(m.may_write_contacts(1), Ok(()));
    }

    #[test]
    fn only_admins_manage_sessions_and_operate() {
        for role in Role::ALL {
            let v = viewer(*role, SessionAccess::All);
            assert_eq!(
                v.may_manage_sessions().is_ok(),
                *role == Role::Admin,
                "{role}"
            );
            assert_eq!(v.may_operate().is_ok(), *role == Role::Admin, "{role}");
            assert_eq!(v.may_manage_members().is_ok(), role.supervises(), "{role}");
            assert_eq!(
                v.may_write_contacts(1).is_ok(),
                *role != Role::Agent,
                "{role}"
            );
        }
    }

    #[test]
    fn presence_is_for_supervisors_and_personal_events_for_their_user() {
        let presence = EventScope {
            supervisors_only: true,
            ..Default::default()
        };
        assert!(!viewer(Role::Agent, SessionAccess::All).can_see(&presence));
        assert!(viewer(Role::Admin, SessionAccess::All).can_see(&presence));
        let personal = EventScope {
            user_id: Some(9),
            ..Default::default()
        };
        assert!(!viewer(Role::Admin, SessionAccess::All).can_see(&personal));
        assert!(Viewer {
            user_id: 9,
            role: Role::Agent,
            sessions: SessionAccess::All,
            origin: Origin::system(),
        }
        .can_see(&personal));
    }

    #[test]
    fn who_may_assign() {
        let agent = viewer(Role::Agent, SessionAccess::Only(vec![1]));
        // Take an unassigned one for oneself, not for a colleague.
        assert_eq!(agent.may_assign(conv(1, None), Some(5)), Ok(()));
        assert!(matches!(
            agent.may_assign(conv(1, None), Some(6)),
            Err(Denied::Forbidden(_))
        ));
        // Hand on one's own: to a colleague, or back to the queue.
        assert_eq!(agent.may_assign(conv(1, Some(5)), Some(6)), Ok(()));
        assert_eq!(agent.may_assign(conv(1, Some(5)), None), Ok(()));
        // A colleague's is hidden; another session's too.
        assert_eq!(
            agent.may_assign(conv(1, Some(6)), Some(5)),
            Err(Denied::Hidden)
        );
        assert_eq!(
            agent.may_assign(conv(2, None), Some(5)),
            Err(Denied::Hidden)
        );
        assert!(!agent.may_exceed_capacity());
        let sales = viewer(Role::Sales, SessionAccess::Only(vec![1]));
        assert_eq!(sales.may_assign(conv(1, None), Some(5)), Ok(()));
        let manager = viewer(Role::Manager, SessionAccess::Only(vec![1]));
        assert_eq!(manager.may_assign(conv(1, Some(6)), Some(7)), Ok(()));
        assert_eq!(
            manager.may_assign(conv(2, Some(6)), Some(7)),
            Err(Denied::Hidden)
        );
        assert!(manager.may_exceed_capacity());
        let marketing = viewer(Role::Marketing, SessionAccess::All);
        assert!(marketing.may_assign(conv(1, None), Some(5)).is_err());
    }

    #[test]
    fn the_reply_rule() {
        let agent = viewer(Role::Agent, SessionAccess::All);
        assert_eq!(agent.may_reply(conv(1, None), ReplyPolicy::Anyone), Ok(()));
        assert!(matches!(
            agent.may_reply(conv(1, None), ReplyPolicy::Assignee),
            Err(Denied::Forbidden(_))
        ));
        assert_eq!(
            agent.may_reply(conv(1, Some(5)), ReplyPolicy::Assignee),
            Ok(())
        );
        assert_eq!(
            agent.may_reply(conv(1, Some(6)), ReplyPolicy::Anyone),
            Err(Denied::Hidden)
        );
        let manager = viewer(Role::Manager, SessionAccess::All);
        assert_eq!(
            manager.may_reply(conv(1, Some(6)), ReplyPolicy::Assignee),
            Ok(())
        );
    }

    #[test]
    fn presence_and_the_board() {
        for role in Role::ALL {
            let v = viewer(*role, SessionAccess::Only(vec![1]));
            // Their own presence: everyone; another's: supervisors only.
            assert_eq!(v.may_read_presence(5), Ok(()), "{role}");
            assert_eq!(v.may_read_presence(6).is_ok(), role.supervises(), "{role}");
            assert_eq!(v.may_see_board().is_ok(), role.supervises(), "{role}");
        }
        assert!(matches!(
            viewer(Role::Agent, SessionAccess::All).may_read_presence(6),
            Err(Denied::Forbidden(_))
        ));
        let manager = viewer(Role::Manager, SessionAccess::Only(vec![1, 2]));
        assert!(manager.sees_on_board(6, Role::Agent, &[2, 3]));
        assert!(!manager.sees_on_board(6, Role::Agent, &[3]));
        assert!(!manager.sees_on_board(6, Role::Manager, &[]));
        assert!(manager.sees_on_board(6, Role::Admin, &[]));
        assert!(manager.sees_on_board(5, Role::Manager, &[]));
        let admin = viewer(Role::Admin, SessionAccess::All);
        assert!(admin.sees_on_board(6, Role::Agent, &[]));
    }

    #[test]
    fn only_supervisors_see_the_queue_and_the_why() {
        for role in Role::ALL {
            let v = viewer(*role, SessionAccess::Only(vec![1]));
            assert_eq!(
                v.may_supervise_routing().is_ok(),
                role.supervises(),
                "{role}"
            );
        }
        assert!(matches!(
            viewer(Role::Agent, SessionAccess::All).may_supervise_routing(),
            Err(Denied::Forbidden(_))
        ));
    }

    #[test]
    fn whoever_sees_a_conversation_reads_why_it_was_assigned() {
        let agent = viewer(Role::Agent, SessionAccess::Only(vec![1]));
        assert_eq!(agent.may_read_assignments(conv(1, None)), Ok(()));
        assert_eq!(agent.may_read_assignments(conv(1, Some(5))), Ok(()));
        assert_eq!(
            agent.may_read_assignments(conv(1, Some(6))),
            Err(Denied::Hidden),
            "a colleague's"
        );
        assert_eq!(
            agent.may_read_assignments(conv(2, None)),
            Err(Denied::Hidden),
            "another session's"
        );
        let manager = viewer(Role::Manager, SessionAccess::Only(vec![1]));
        assert_eq!(manager.may_read_assignments(conv(1, Some(6))), Ok(()));
        assert_eq!(
            manager.may_read_assignments(conv(2, Some(6))),
            Err(Denied::Hidden)
        );
        let marketing = viewer(Role::Marketing, SessionAccess::All);
        assert!(matches!(
            marketing.may_read_assignments(conv(1, None)),
            Err(Denied::Forbidden(_))
        ));
    }

    #[test]
    fn who_sees_a_sessions_members() {
        for role in Role::ALL {
            let v = viewer(*role, SessionAccess::Only(vec![1]));
            if *role == Role::Marketing {
                assert!(matches!(
                    v.may_see_session_members(1),
                    Err(Denied::Forbidden(_))
                ));
            } else {
                assert_eq!(v.may_see_session_members(1), Ok(()), "{role}");
            }
            assert_eq!(
                v.may_see_session_members(2),
                Err(Denied::Hidden),
                "{role}: another session does not exist for them"
            );
        }
        assert_eq!(
            viewer(Role::Admin, SessionAccess::All).may_see_session_members(2),
            Ok(())
        );
    }

    #[test]
    fn who_reads_the_audit_log() {
        for role in Role::ALL {
            let v = viewer(*role, SessionAccess::Only(vec![1, 2]));
            let supervises = matches!(role, Role::Admin | Role::Manager);
            assert_eq!(v.may_read_audit().is_ok(), supervises, "{role}");
            if !supervises {
                assert!(
                    matches!(v.may_read_audit(), Err(Denied::Forbidden(_))),
                    "{role}: a 403, not a 404"
                );
                assert!(v.audit_log().is_err(), "{role}");
            }
        }
        let admin = viewer(Role::Admin, SessionAccess::All);
        assert_eq!(admin.audit_log(), Ok(AuditFilter { sessions: None }));
        let f = admin.audit_log().unwrap();
        assert!(f.admits(Some(9)) && f.admits(None));
        let manager = viewer(Role::Manager, SessionAccess::Only(vec![1, 2]));
        let f = manager.audit_log().unwrap();
        assert_eq!(f.sessions, Some(vec![1, 2]));
        assert!(f.admits(Some(1)));
        assert!(f.admits(None), "entries of no session (the team, logins)");
        assert!(!f.admits(Some(3)), "another session's entries");
        let no_sessions = viewer(Role::Manager, SessionAccess::Only(vec![]));
        let f = no_sessions.audit_log().unwrap();
        assert!(f.admits(None) && !f.admits(Some(1)));
    }

    #[test]
    fn who_reads_and_writes_quick_replies() {
        for role in Role::ALL {
            let v = viewer(*role, SessionAccess::Only(vec![]));
            assert_eq!(
                v.may_read_quick_replies().is_ok(),
                *role != Role::Marketing,
                "{role}"
            );
            assert_eq!(
                v.may_write_quick_replies().is_ok(),
                role.supervises(),
                "{role}"
            );
            // Refusals are 403s: quick replies belong to no session to hide them behind.
            for d in [v.may_read_quick_replies(), v.may_write_quick_replies()] {
                assert!(!matches!(d, Err(Denied::Hidden)), "{role}");
            }
        }
    }

    #[test]
    fn who_manages_whom() {
        for role in Role::ALL {
            let admin = viewer(Role::Admin, SessionAccess::All);
            assert_eq!(admin.may_manage_member(*role), Ok(()), "{role}");
            let manager = viewer(Role::Manager, SessionAccess::Only(vec![1]));
            assert_eq!(
                manager.may_manage_member(*role).is_ok(),
                !role.supervises(),
                "{role}"
            );
            for other in [Role::Agent, Role::Sales, Role::Marketing] {
                assert!(viewer(other, SessionAccess::All)
                    .may_manage_member(*role)
                    .is_err());
            }
        }
        let manager = viewer(Role::Manager, SessionAccess::Only(vec![1, 2]));
        assert_eq!(manager.may_grant_sessions(&[1, 2]), Ok(()));
        assert!(manager.may_grant_sessions(&[1, 3]).is_err());
        assert_eq!(
            viewer(Role::Admin, SessionAccess::All).may_grant_sessions(&[9]),
            Ok(())
        );
        assert!(viewer(Role::Agent, SessionAccess::Only(vec![1]))
            .may_grant_sessions(&[1])
            .is_err());
    }
}
