//! The supervisors' board and each member's conversation counts, computed from tallies of
//! the conversations per session (one GROUP BY over status and assignee per session). The
//! same functions answer `GET /api/dashboard` and `GET /api/conversations/counts` and
//! build the pushed `dashboard.updated` and `counts.updated`, so the pushes and the reads
//! never disagree. What a viewer sees is the access policy's (`Viewer`).

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::analytics::report::InOut;
use super::analytics::Histogram;
use super::{ConversationStatus, PresenceStatus, Role, Viewer};

/// Conversations per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ByStatus {
    pub bot: i64,
    pub pending: i64,
    pub open: i64,
    pub resolved: i64,
}

impl ByStatus {
    fn add(&mut self, status: ConversationStatus, n: i64) {
        match status {
            ConversationStatus::Bot => self.bot += n,
            ConversationStatus::Pending => self.pending += n,
            ConversationStatus::Open => self.open += n,
            ConversationStatus::Resolved => self.resolved += n,
        }
    }

    fn plus(&mut self, o: &ByStatus) {
        self.bot += o.bot;
        self.pending += o.pending;
        self.open += o.open;
        self.resolved += o.resolved;
    }

    /// Not resolved yet: what a queue and a member's load count.
    pub fn not_resolved(&self) -> i64 {
        self.bot + self.pending + self.open
    }
}

/// One group of the tally: conversations of a session with one status and one assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallyRow {
    pub session_id: i64,
    pub status: ConversationStatus,
    pub assignee_id: Option<i64>,
    pub n: i64,
    /// How many of them wait in the queue (`waiting_since` set), and since when the longest.
    pub waiting: i64,
    pub oldest_waiting: Option<i64>,
}

/// A session's conversations, summed from its tally rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionTally {
    pub all: ByStatus,
    pub unassigned: ByStatus,
    pub by_assignee: HashMap<i64, ByStatus>,
    pub waiting: i64,
    pub oldest_waiting: Option<i64>,
}

impl SessionTally {
    fn add(&mut self, r: &TallyRow) {
        self.all.add(r.status, r.n);
        match r.assignee_id {
            None => self.unassigned.add(r.status, r.n),
            Some(a) => self.by_assignee.entry(a).or_default().add(r.status, r.n),
        }
        self.waiting += r.waiting;
        self.oldest_waiting = match (self.oldest_waiting, r.oldest_waiting) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Tallies per session id. Sessions without conversations are absent (all zero).
pub type Tallies = HashMap<i64, SessionTally>;

pub fn tallies(rows: &[TallyRow]) -> Tallies {
    let mut out = Tallies::new();
    for r in rows {
        out.entry(r.session_id).or_default().add(r);
    }
    out
}

/// A member's counts over the conversations they may see.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    /// Assigned to the member and not resolved.
    pub mine: i64,
    /// Assigned to nobody and not resolved (in the member's sessions).
    pub unassigned: i64,
    /// Everything the member may see, per status.
    pub by_status: ByStatus,
}

/// `viewer`'s counts (`None`: no inbox). The policy's conversation filter decides: the
/// sessions they work in; for agents and sales only the unassigned and their own.
pub fn counts(viewer: &Viewer, tallies: &Tallies) -> Option<Counts> {
    let filter = viewer.conversations().ok()?;
    let mut c = Counts::default();
    for (session, t) in tallies {
        if !viewer.may_access_session(*session) {
            continue;
        }
        let mine = t
            .by_assignee
            .get(&viewer.user_id)
            .copied()
            .unwrap_or_default();
        c.mine += mine.not_resolved();
        c.unassigned += t.unassigned.not_resolved();
        if filter.mine_or_unassigned.is_some() {
            c.by_status.plus(&t.unassigned);
            c.by_status.plus(&mine);
        } else {
            c.by_status.plus(&t.all);
        }
    }
    Some(c)
}

/// An active member, as the board needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamMember {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub capacity: Option<i64>,
    /// The sessions they work in (admins: all, whatever is listed).
    pub sessions: Vec<i64>,
}

impl TeamMember {
    /// The member as the access policy sees them.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            user_id: self.id,
            role: self.role,
            sessions: if self.role == Role::Admin {
                super::access::SessionAccess::All
            } else {
                super::access::SessionAccess::Only(self.sessions.clone())
            },
            origin: super::audit::Origin::system(),
        }
    }
}

/// A member on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MemberRow {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub presence: PresenceStatus,
    /// When that presence began (ms since the Unix epoch): the member's latest presence
    /// transition; `null` when the member was never seen.
    pub presence_since: Option<i64>,
    /// Conversations assigned to them and not resolved (in every session).
    pub open: i64,
    /// The most they take at once; `null`: no limit.
    pub capacity: Option<i64>,
}

/// A session's queue on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionRow {
    pub session_id: i64,
    /// The WhatsApp session's name.
    pub session: String,
    /// Waiting: unassigned and not resolved.
    pub unassigned: i64,
    /// Not resolved, assigned or not.
    pub open: i64,
    /// Since when the longest-waiting conversation waits (ms since the Unix epoch).
    pub oldest_waiting_since: Option<i64>,
    /// How long that is, in seconds, when the board was computed (clients count on from
    /// `oldest_waiting_since`).
    pub oldest_wait_s: Option<i64>,
    /// The session's WhatsApp status (`WORKING`, `SCAN_QR_CODE`, `FAILED`, …).
    pub status: String,
}

impl SessionRow {
    /// Equal but for the clock: `oldest_wait_s` grows by itself.
    fn same(&self, o: &SessionRow) -> bool {
        (
            self.session_id,
            &self.session,
            self.unassigned,
            self.open,
            self.oldest_waiting_since,
            &self.status,
        ) == (
            o.session_id,
            &o.session,
            o.unassigned,
            o.open,
            o.oldest_waiting_since,
            &o.status,
        )
    }
}

/// The supervisors' board as one viewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Board {
    pub members: Vec<MemberRow>,
    pub sessions: Vec<SessionRow>,
    /// Members on this board whose presence is online.
    pub agents_online: i64,
    /// Conversations not resolved in this board's sessions.
    pub open_conversations: i64,
    /// Conversations waiting unassigned in this board's sessions.
    pub waiting_conversations: i64,
    /// Messages since midnight (`TICKHUB_TIME_ZONE`) in this board's sessions.
    pub messages_today: InOut,
    pub today: TodayFigures,
}

/// The rest of today's figures over a board's sessions (docs/analytics.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct TodayFigures {
    /// Customers' requests resolved today.
    pub resolved: i64,
    /// The median first response today, in seconds.
    pub first_response_median_s: Option<i64>,
    /// Of today's resolved requests the bot took part in, the share it resolved alone (%).
    pub bot_auto_resolved_percent: Option<i64>,
    pub running_campaigns: i64,
}

/// One session's share of today's figures: what adds up across a board's sessions (the
/// first responses as a histogram, so that several sessions' median is a median).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionToday {
    pub messages: InOut,
    pub resolved: i64,
    pub first_responses: Histogram,
    pub bot_cycles: i64,
    pub auto_resolved: i64,
    pub running_campaigns: i64,
    pub status: String,
}

/// Today's figures of every session.
pub type Today = HashMap<i64, SessionToday>;

/// Adds up the sessions' figures.
fn today(sessions: &[SessionRow], input: &BoardInput) -> (InOut, TodayFigures) {
    let (mut messages, mut f) = (InOut::default(), TodayFigures::default());
    let (mut first, mut bot, mut auto) = (Histogram::default(), 0, 0);
    for t in sessions
        .iter()
        .filter_map(|s| input.today.get(&s.session_id))
    {
        messages.messages_in += t.messages.messages_in;
        messages.messages_out += t.messages.messages_out;
        f.resolved += t.resolved;
        f.running_campaigns += t.running_campaigns;
        first.merge(&t.first_responses);
        bot += t.bot_cycles;
        auto += t.auto_resolved;
    }
    f.first_response_median_s = first.quantile_s(0.5).map(|s| s.round() as i64);
    f.bot_auto_resolved_percent = (bot > 0).then(|| (auto * 100 + bot / 2) / bot);
    (messages, f)
}

/// What the board is computed from.
pub struct BoardInput<'a> {
    /// Active members.
    pub team: &'a [TeamMember],
    /// Every session: id and name.
    pub sessions: &'a [(i64, String)],
    /// Tallies of every session (a member's load counts in all of them).
    pub tallies: &'a Tallies,
    /// Today's figures and status of every session.
    pub today: &'a Today,
    pub now_ms: i64,
}

/// The board `viewer` (a supervisor) sees: the sessions they work in and the members who
/// share one with them (admins: all).
pub fn board(
    viewer: &Viewer,
    input: &BoardInput,
    presence: impl Fn(i64) -> (PresenceStatus, Option<i64>),
) -> Board {
    let members: Vec<MemberRow> = input
        .team
        .iter()
        .filter(|m| viewer.sees_on_board(m.id, m.role, &m.sessions))
        .map(|m| {
            let (status, since) = presence(m.id);
            (m, status, since)
        })
        .map(|(m, status, since)| MemberRow {
            user_id: m.id,
            name: m.name.clone(),
            role: m.role,
            presence: status,
            presence_since: since,
            open: input
                .tallies
                .values()
                .filter_map(|t| t.by_assignee.get(&m.id))
                .map(ByStatus::not_resolved)
                .sum(),
            capacity: m.capacity,
        })
        .collect();
    let empty = SessionTally::default();
    let sessions: Vec<SessionRow> = input
        .sessions
        .iter()
        .filter(|(id, _)| viewer.may_access_session(*id))
        .map(|(id, name)| {
            let t = input.tallies.get(id).unwrap_or(&empty);
            SessionRow {
                session_id: *id,
                session: name.clone(),
                unassigned: t.waiting,
                open: t.all.not_resolved(),
                oldest_waiting_since: t.oldest_waiting,
                oldest_wait_s: t.oldest_waiting.map(|at| (input.now_ms - at).max(0) / 1000),
                status: input
                    .today
                    .get(id)
                    .map(|t| t.status.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let (messages_today, today) = today(&sessions, input);
    Board {
        messages_today,
        today,
        agents_online: members
            .iter()
            .filter(|m| m.presence == PresenceStatus::Online)
            .count() as i64,
        open_conversations: sessions.iter().map(|s| s.open).sum(),
        waiting_conversations: sessions.iter().map(|s| s.unassigned).sum(),
        members,
        sessions,
    }
}

/// `dashboard.updated`: what changed on one supervisor's board (`full`: the whole board,
/// replacing what the client holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BoardUpdate {
    pub full: bool,
    /// New or changed member rows.
    pub members: Vec<MemberRow>,
    /// Members no longer on this board (deactivated, or no longer sharing a session).
    pub removed_members: Vec<i64>,
    /// New or changed session rows.
    pub sessions: Vec<SessionRow>,
    pub removed_sessions: Vec<i64>,
    pub agents_online: i64,
    pub open_conversations: i64,
    pub waiting_conversations: i64,
    pub messages_today: InOut,
    pub today: TodayFigures,
}

/// The update from `before` (what the supervisor was last sent; `None`: nothing) to
/// `after`; `None` when nothing changed.
pub fn changes(before: Option<&Board>, after: &Board) -> Option<BoardUpdate> {
    let Some(before) = before else {
        return Some(BoardUpdate {
            full: true,
            members: after.members.clone(),
            removed_members: vec![],
            sessions: after.sessions.clone(),
            removed_sessions: vec![],
            agents_online: after.agents_online,
            open_conversations: after.open_conversations,
            waiting_conversations: after.waiting_conversations,
            messages_today: after.messages_today,
            today: after.today,
        });
    };
    let members: Vec<MemberRow> = after
        .members
        .iter()
        .filter(|m| !before.members.contains(m))
        .cloned()
        .collect();
    let removed_members: Vec<i64> = before
        .members
        .iter()
        .filter(|b| !after.members.iter().any(|a| a.user_id == b.user_id))
        .map(|b| b.user_id)
        .collect();
    let sessions: Vec<SessionRow> = after
        .sessions
        .iter()
        .filter(|s| !before.sessions.iter().any(|b| b.same(s)))
        .cloned()
        .collect();
    let removed_sessions: Vec<i64> = before
        .sessions
        .iter()
        .filter(|b| !after.sessions.iter().any(|a| a.session_id == b.session_id))
        .map(|b| b.session_id)
        .collect();
    let totals_same = (
        before.agents_online,
        before.open_conversations,
        before.waiting_conversations,
        before.messages_today,
        before.today,
    ) == (
        after.agents_online,
        after.open_conversations,
        after.waiting_conversations,
        after.messages_today,
        after.today,
    );
    if members.is_empty()
        && removed_members.is_empty()
        && sessions.is_empty()
        && removed_sessions.is_empty()
        && totals_same
    {
        return None;
    }
    Some(BoardUpdate {
        full: false,
        members,
        removed_members,
        sessions,
        removed_sessions,
        agents_online: after.agents_online,
        open_conversations: after.open_conversations,
        waiting_conversations: after.waiting_conversations,
        messages_today: after.messages_today,
        today: after.today,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::SessionAccess;
    use crate::domain::audit::Origin;
    use ConversationStatus::*;

    fn row(session: i64, status: ConversationStatus, assignee: Option<i64>, n: i64) -> TallyRow {
        let waits = assignee.is_none() && status != Resolved;
        TallyRow {
            session_id: session,
            status,
            assignee_id: assignee,
            n,
            waiting: if waits { n } else { 0 },
            oldest_waiting: waits.then_some(1_000 * session),
        }
    }

    fn viewer(id: i64, role: Role, sessions: SessionAccess) -> Viewer {
        Viewer {
            user_id: id,
            role,
            sessions,
            origin: Origin::system(),
        }
    }

    fn sample() -> Tallies {
        tallies(&[
            row(1, Pending, None, 2),
            row(1, Open, Some(7), 3),
            row(1, Resolved, Some(7), 4),
            row(1, Open, Some(8), 1),
            row(2, Bot, None, 5),
            row(2, Open, Some(7), 1),
        ])
    }

    #[test]
    fn counts_follow_the_policy() {
        let t = sample();
        let agent = viewer(7, Role::Agent, SessionAccess::Only(vec![1]));
        assert_eq!(
            counts(&agent, &t),
            Some(Counts {
                mine: 3,
                unassigned: 2,
                by_status: ByStatus {
                    pending: 2,
                    open: 3,
                    resolved: 4,
                    bot: 0
                }
            })
        );
        let manager = viewer(9, Role::Manager, SessionAccess::Only(vec![1, 2]));
        let c = counts(&manager, &t).unwrap();
        assert_eq!((c.mine, c.unassigned), (0, 7));
        assert_eq!(
            c.by_status,
            ByStatus {
                bot: 5,
                pending: 2,
                open: 5,
                resolved: 4
            }
        );
        let admin = viewer(7, Role::Admin, SessionAccess::All);
        assert_eq!(counts(&admin, &t).unwrap().mine, 4);
        let marketing = viewer(3, Role::Marketing, SessionAccess::All);
        assert_eq!(counts(&marketing, &t), None);
    }

    fn team() -> Vec<TeamMember> {
        let m = |id, role, sessions: Vec<i64>| TeamMember {
            id,
            name: format!("m{id}"),
            role,
            capacity: Some(5),
            sessions,
        };
        vec![
            m(1, Role::Admin, vec![]),
            m(7, Role::Agent, vec![1, 2]),
            m(8, Role::Agent, vec![2]),
            m(9, Role::Manager, vec![1]),
        ]
    }

    #[test]
    fn a_manager_sees_their_sessions_and_who_shares_one() {
        let (team, t) = (team(), sample());
        let names = vec![(1, "one".to_string()), (2, "two".to_string())];
        let mut first_responses = Histogram::default();
        first_responses.add(60_000);
        let today: Today = HashMap::from([
            (
                1,
                SessionToday {
                    messages: InOut {
                        messages_in: 3,
                        messages_out: 2,
                    },
                    resolved: 1,
                    first_responses,
                    bot_cycles: 2,
                    auto_resolved: 1,
                    running_campaigns: 1,
                    status: "WORKING".into(),
                },
            ),
            (
                2,
                SessionToday {
                    messages: InOut {
                        messages_in: 5,
                        messages_out: 5,
                    },
                    resolved: 4,
                    status: "FAILED".into(),
                    ..SessionToday::default()
                },
            ),
        ]);
        let input = BoardInput {
            team: &team,
            sessions: &names,
            tallies: &t,
            today: &today,
            now_ms: 10_000,
        };
        let online = |id| {
            if id == 7 {
                (PresenceStatus::Online, Some(5_000))
            } else {
                (PresenceStatus::Offline, None)
            }
        };
        let manager = viewer(9, Role::Manager, SessionAccess::Only(vec![1]));
        let b = board(&manager, &input, online);
        let ids: Vec<i64> = b.members.iter().map(|m| m.user_id).collect();
        assert_eq!(ids, vec![1, 7, 9]);
        // Load counts everywhere: 3 open in session 1, 1 in session 2.
        assert_eq!(b.members[1].open, 4);
        assert_eq!(
            (b.members[1].presence, b.members[1].presence_since),
            (PresenceStatus::Online, Some(5_000))
        );
        assert_eq!(b.members[0].presence_since, None, "never seen");
        assert_eq!(b.sessions.len(), 1);
        assert_eq!(
            b.sessions[0],
            SessionRow {
                session_id: 1,
                session: "one".into(),
                unassigned: 2,
                open: 6,
                oldest_waiting_since: Some(1_000),
                oldest_wait_s: Some(9),
                status: "WORKING".into(),
            }
        );
        // Today's figures are the manager's session's only.
        assert_eq!(
            b.messages_today,
            InOut {
                messages_in: 3,
                messages_out: 2
            }
        );
        assert_eq!(
            (
                b.today.resolved,
                b.today.bot_auto_resolved_percent,
                b.today.running_campaigns
            ),
            (1, Some(50), 1)
        );
        assert!(b
            .today
            .first_response_median_s
            .is_some_and(|s| (57..=63).contains(&s)));
        assert_eq!(
            (
                b.agents_online,
                b.open_conversations,
                b.waiting_conversations
            ),
            (1, 6, 2)
        );
        let admin = viewer(1, Role::Admin, SessionAccess::All);
        let b = board(&admin, &input, online);
        assert_eq!(b.members.len(), 4);
        assert_eq!(b.waiting_conversations, 7);
        assert_eq!(b.today.resolved, 5);
    }

    #[test]
    fn updates_carry_what_changed() {
        let (team, t) = (team(), sample());
        let names = vec![(1, "one".to_string())];
        let today = Today::new();
        let mut input = BoardInput {
            team: &team,
            sessions: &names,
            tallies: &t,
            today: &today,
            now_ms: 10_000,
        };
        let admin = viewer(1, Role::Admin, SessionAccess::All);
        let off = |_| (PresenceStatus::Offline, None);
        let first = board(&admin, &input, off);
        assert!(changes(None, &first).unwrap().full);
        // Time passing alone is no change.
        input.now_ms = 20_000;
        let later = board(&admin, &input, off);
        assert_eq!(changes(Some(&first), &later), None);
        // One member comes online: their row and the total.
        let online = board(&admin, &input, |id| {
            if id == 8 {
                (PresenceStatus::Online, Some(15_000))
            } else {
                (PresenceStatus::Offline, None)
            }
        });
        let u = changes(Some(&later), &online).unwrap();
        assert!(!u.full);
        assert_eq!(u.members.len(), 1);
        assert_eq!(u.members[0].user_id, 8);
        assert_eq!(u.members[0].presence_since, Some(15_000));
        assert!(u.sessions.is_empty());
        assert_eq!(u.agents_online, 1);
        // A member leaves the team.
        let smaller: Vec<TeamMember> = team.iter().filter(|m| m.id != 8).cloned().collect();
        input.team = &smaller;
        let gone = board(&admin, &input, off);
        assert_eq!(
            changes(Some(&later), &gone).unwrap().removed_members,
            vec![8]
        );
    }
}
