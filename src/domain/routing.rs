//! Automatic assignment: which member takes a waiting conversation, and why. No I/O here:
//! the store gathers each candidate's facts (under their row locks) and the presence
//! keeper says who is online; this decides and explains.
//!
//! - Eligible: active, an `agent` or `sales` member, working in the conversation's
//!   session, online (not away, busy or offline), inside their working hours (none set:
//!   always), below their capacity (none set: no limit).
//! - The member who returned this very conversation to the queue is set aside while
//!   anyone else is eligible (it must not bounce straight back to them), but not when
//!   they are the only one: that would hold up the whole queue behind it.
//! - Among the eligible: the conversation's previous agent (a customer coming back to a
//!   resolved conversation) when they are eligible; else the least loaded (fewest open
//!   conversations), then the longest idle (the oldest last assignment; never assigned
//!   counts as idlest), then the lowest id — a total order, so the choice is reproducible.
//!
//! [`Why`] records the decision (every candidate, their load and capacity, why each
//! excluded one was, and the rule that decided) and is stored with the assignment.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::status::text_enum;
use super::{PresenceStatus, Role};

/// What the router knows about one member when it assigns a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: i64,
    pub role: Role,
    pub active: bool,
    pub works_in_session: bool,
    pub presence: PresenceStatus,
    /// Inside their working hours now (`true` when they have none).
    pub within_working_hours: bool,
    /// The most open conversations at once; `None`: no limit.
    pub capacity: Option<i64>,
    /// Open conversations assigned to them now.
    pub load: i64,
    /// When they were last given a conversation (ms); `None`: never.
    pub last_assigned_at: Option<i64>,
    /// They returned this conversation to the queue themselves: it goes back to them
    /// only when nobody else can take it.
    pub returned_it: bool,
}

text_enum! {
    /// Why a candidate could not take the conversation (the first reason that applies).
    Exclusion {
        Deactivated => "deactivated",
        /// Only agents and sales take conversations automatically.
        NotAnAgent => "not_an_agent",
        NoSessionAccess => "no_session_access",
        /// They returned this conversation to the queue themselves (and someone else
        /// can take it).
        ReturnedIt => "returned_it",
        Offline => "offline",
        Away => "away",
        Busy => "busy",
        OutsideHours => "outside_hours",
        AtCapacity => "at_capacity",
    }
}

text_enum! {
    /// What decided between the eligible candidates.
    Rule {
        /// The customer's previous agent, back with them (online and with room).
        PreviousAgent => "previous_agent",
        /// The chosen had fewer open conversations than every other eligible candidate
        /// (or was the only one eligible).
        LeastLoaded => "least_loaded",
        /// Equal load: the chosen had waited longest since their last assignment.
        LongestIdle => "longest_idle",
        /// Equal load and idle time (e.g. never assigned): the lowest member id.
        LowestId => "lowest_id",
    }
}

/// One candidate as the decision saw them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Considered {
    pub user_id: i64,
    /// Open conversations at the time.
    pub load: i64,
    /// `null`: no limit.
    pub capacity: Option<i64>,
    /// When they were last given a conversation (ms); `null`: never.
    pub last_assigned_at: Option<i64>,
    pub eligible: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub excluded_because: Option<Exclusion>,
}

/// Why a conversation went to its assignee: stored with the assignment, shown to
/// supervisors by `GET /api/conversations/{id}/assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Why {
    pub rule: Rule,
    /// Every member considered, in id order.
    pub candidates: Vec<Considered>,
}

/// The member chosen and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub assignee: i64,
    pub why: Why,
}

impl Candidate {
    /// The first reason this candidate cannot take the conversation, if any.
    pub fn exclusion(&self) -> Option<Exclusion> {
        if !self.active {
            return Some(Exclusion::Deactivated);
        }
        if !matches!(self.role, Role::Agent | Role::Sales) {
            return Some(Exclusion::NotAnAgent);
        }
        if !self.works_in_session {
            return Some(Exclusion::NoSessionAccess);
        }
        match self.presence {
            PresenceStatus::Online => {}
            PresenceStatus::Offline => return Some(Exclusion::Offline),
            PresenceStatus::Away => return Some(Exclusion::Away),
            PresenceStatus::Busy => return Some(Exclusion::Busy),
        }
        if !self.within_working_hours {
            return Some(Exclusion::OutsideHours);
        }
        if self.capacity.is_some_and(|c| self.load >= c) {
            return Some(Exclusion::AtCapacity);
        }
        None
    }

    /// The order among eligible candidates: least loaded, longest idle (never assigned
    /// first), lowest id.
    fn rank(&self) -> (i64, i64, i64) {
        (
            self.load,
            self.last_assigned_at.unwrap_or(i64::MIN),
            self.user_id,
        )
    }
}

/// Chooses who takes a waiting conversation. `previous`: the member who handled it before
/// it was resolved (they get it back when eligible). `Err` holds what every candidate was
/// found to be when nobody is eligible.
pub fn choose(candidates: &[Candidate], previous: Option<i64>) -> Result<Choice, Vec<Considered>> {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by_key(|c| c.user_id);
    let others_eligible = |me: i64| {
        sorted
            .iter()
            .any(|c| c.user_id != me && c.exclusion().is_none())
    };
    let exclusion = |c: &Candidate| {
        c.exclusion().or_else(|| {
            (c.returned_it && others_eligible(c.user_id)).then_some(Exclusion::ReturnedIt)
        })
    };
    let considered: Vec<Considered> = sorted
        .iter()
        .map(|c| {
            let excluded_because = exclusion(c);
            Considered {
                user_id: c.user_id,
                load: c.load,
                capacity: c.capacity,
                last_assigned_at: c.last_assigned_at,
                eligible: excluded_because.is_none(),
                excluded_because,
            }
        })
        .collect();
    let mut eligible: Vec<&Candidate> = sorted
        .iter()
        .copied()
        .filter(|c| exclusion(c).is_none())
        .collect();
    if let Some(p) = previous.and_then(|p| eligible.iter().find(|c| c.user_id == p)) {
        return Ok(Choice {
            assignee: p.user_id,
            why: Why {
                rule: Rule::PreviousAgent,
                candidates: considered,
            },
        });
    }
    eligible.sort_by_key(|c| c.rank());
    let Some(first) = eligible.first() else {
        return Err(considered);
    };
    let rule = match eligible.get(1) {
        None => Rule::LeastLoaded,
        Some(second) if first.load != second.load => Rule::LeastLoaded,
        Some(second) if first.last_assigned_at != second.last_assigned_at => Rule::LongestIdle,
        Some(_) => Rule::LowestId,
    };
    Ok(Choice {
        assignee: first.user_id,
        why: Why {
            rule,
            candidates: considered,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: i64, load: i64) -> Candidate {
        Candidate {
            user_id: id,
            role: Role::Agent,
            active: true,
            works_in_session: true,
            presence: PresenceStatus::Online,
            within_working_hours: true,
            capacity: Some(5),
            load,
            last_assigned_at: None,
            returned_it: false,
        }
    }

    fn chosen(c: &[Candidate]) -> (i64, Rule) {
        let choice = choose(c, None).expect("someone is eligible");
        (choice.assignee, choice.why.rule)
    }

    #[test]
    fn the_least_loaded_wins() {
        let c = [agent(1, 3), agent(2, 1), agent(3, 2)];
        assert_eq!(chosen(&c), (2, Rule::LeastLoaded));
    }

    #[test]
    fn equal_load_goes_to_the_longest_idle_and_never_assigned_is_idlest() {
        let mut a = agent(1, 1);
        a.last_assigned_at = Some(2_000);
        let mut b = agent(2, 1);
        b.last_assigned_at = Some(1_000);
        assert_eq!(chosen(&[a.clone(), b.clone()]), (2, Rule::LongestIdle));
        let never = agent(3, 1);
        assert_eq!(chosen(&[a, b, never]), (3, Rule::LongestIdle));
    }

    #[test]
    fn a_full_tie_goes_to_the_lowest_id_whatever_the_input_order() {
        let c = [agent(9, 0), agent(4, 0), agent(7, 0)];
        assert_eq!(chosen(&c), (4, Rule::LowestId));
        let mut same_time = [agent(9, 2), agent(4, 2)];
        for a in &mut same_time {
            a.last_assigned_at = Some(5);
        }
        assert_eq!(chosen(&same_time), (4, Rule::LowestId));
    }

    #[test]
    fn the_only_eligible_one_is_least_loaded() {
        let mut away = agent(1, 0);
        away.presence = PresenceStatus::Away;
        assert_eq!(chosen(&[away, agent(2, 4)]), (2, Rule::LeastLoaded));
    }

    #[test]
    fn each_exclusion_is_named_and_the_first_reason_wins() {
        let cases: Vec<(Candidate, Exclusion)> = vec![
            (
                Candidate {
                    active: false,
                    presence: PresenceStatus::Offline,
                    ..agent(1, 0)
                },
                Exclusion::Deactivated,
            ),
            (
                Candidate {
                    role: Role::Manager,
                    ..agent(2, 0)
                },
                Exclusion::NotAnAgent,
            ),
            (
                Candidate {
                    role: Role::Marketing,
                    ..agent(3, 0)
                },
                Exclusion::NotAnAgent,
            ),
            (
                Candidate {
                    works_in_session: false,
                    ..agent(4, 0)
                },
                Exclusion::NoSessionAccess,
            ),
            (
                Candidate {
                    presence: PresenceStatus::Offline,
                    within_working_hours: false,
                    ..agent(6, 0)
                },
                Exclusion::Offline,
            ),
            (
                Candidate {
                    presence: PresenceStatus::Away,
                    ..agent(7, 0)
                },
                Exclusion::Away,
            ),
            (
                Candidate {
                    presence: PresenceStatus::Busy,
                    ..agent(8, 0)
                },
                Exclusion::Busy,
            ),
            (
                Candidate {
                    within_working_hours: false,
                    ..agent(9, 9)
                },
                Exclusion::OutsideHours,
            ),
            (agent(10, 5), Exclusion::AtCapacity),
            (
                Candidate {
                    capacity: Some(0),
                    ..agent(11, 0)
                },
                Exclusion::AtCapacity,
            ),
        ];
        let all: Vec<Candidate> = cases.iter().map(|(c, _)| c.clone()).collect();
        let considered = choose(&all, None).expect_err("nobody is eligible");
        for ((c, want), got) in cases.iter().zip(&considered) {
            assert_eq!(got.user_id, c.user_id);
            assert!(!got.eligible, "{}", c.user_id);
            assert_eq!(got.excluded_because, Some(*want), "{}", c.user_id);
        }
    }

    #[test]
    fn who_returned_it_is_set_aside_unless_alone() {
        let returner = Candidate {
            returned_it: true,
            ..agent(1, 0)
        };
        let choice = choose(&[returner.clone(), agent(2, 3)], None).unwrap();
        assert_eq!(choice.assignee, 2);
        assert_eq!(
            choice.why.candidates[0].excluded_because,
            Some(Exclusion::ReturnedIt)
        );
        assert!(!choice.why.candidates[0].eligible);
        // Alone (the other is offline), they take it back rather than block the queue.
        let mut off = agent(2, 0);
        off.presence = PresenceStatus::Offline;
        let choice = choose(&[returner.clone(), off], None).unwrap();
        assert_eq!((choice.assignee, choice.why.rule), (1, Rule::LeastLoaded));
        assert!(choice.why.candidates[0].eligible);
        // A real exclusion still wins over being set aside.
        let mut away = returner;
        away.presence = PresenceStatus::Away;
        assert_eq!(away.exclusion(), Some(Exclusion::Away));
    }

    #[test]
    fn sales_count_and_no_capacity_means_no_limit() {
        let sales = Candidate {
            role: Role::Sales,
            capacity: None,
            ..agent(1, 1_000)
        };
        assert_eq!(sales.exclusion(), None);
        let full = agent(2, 5);
        assert_eq!(chosen(&[sales, full]), (1, Rule::LeastLoaded));
    }

    #[test]
    fn capacity_is_never_exceeded() {
        // One below capacity is eligible, at capacity is not.
        assert_eq!(agent(1, 4).exclusion(), None);
        assert_eq!(agent(1, 5).exclusion(), Some(Exclusion::AtCapacity));
        assert_eq!(agent(1, 6).exclusion(), Some(Exclusion::AtCapacity));
    }

    #[test]
    fn the_previous_agent_gets_it_back_only_when_eligible() {
        let c = [agent(1, 0), agent(2, 3)];
        let choice = choose(&c, Some(2)).unwrap();
        assert_eq!((choice.assignee, choice.why.rule), (2, Rule::PreviousAgent));
        let mut busy = c.clone();
        busy[1].presence = PresenceStatus::Busy;
        let choice = choose(&busy, Some(2)).unwrap();
        assert_eq!((choice.assignee, choice.why.rule), (1, Rule::LeastLoaded));
        let mut full = c.clone();
        full[1].load = 5;
        assert_eq!(choose(&full, Some(2)).unwrap().assignee, 1);
        // Someone who is not a candidate at all.
        assert_eq!(choose(&c, Some(99)).unwrap().assignee, 1);
    }

    #[test]
    fn nobody_eligible_or_nobody_at_all() {
        assert_eq!(choose(&[], None), Err(vec![]));
        let mut off = agent(1, 0);
        off.presence = PresenceStatus::Offline;
        assert!(choose(&[off], Some(1)).is_err());
    }

    #[test]
    fn the_why_lists_everyone_in_id_order_with_their_numbers() {
        let mut full = agent(3, 5);
        full.last_assigned_at = Some(42);
        let c = [full, agent(1, 2)];
        let why = choose(&c, None).unwrap().why;
        let json = serde_json::to_value(&why).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "rule": "least_loaded",
                "candidates": [
                    {"user_id": 1, "load": 2, "capacity": 5, "last_assigned_at": null, "eligible": true},
                    {"user_id": 3, "load": 5, "capacity": 5, "last_assigned_at": 42, "eligible": false,
                     "excluded_because": "at_capacity"},
                ]
            })
        );
        let back: Why = serde_json::from_value(json).unwrap();
        assert_eq!(back, why);
    }

    #[test]
    fn fairness_over_many_assignments() {
        // 100 conversations over 5 equal agents, each assignment adding to the load:
        // 20 each, and no agent ever more than one ahead of another.
        let mut team: Vec<Candidate> = (1..=5)
            .map(|id| Candidate {
                capacity: Some(30),
                ..agent(id, 0)
            })
            .collect();
        for t in 0..100 {
            let pick = choose(&team, None).unwrap().assignee;
            let a = team.iter_mut().find(|c| c.user_id == pick).unwrap();
            a.load += 1;
            a.last_assigned_at = Some(t);
            let loads: Vec<i64> = team.iter().map(|c| c.load).collect();
            let (min, max) = (loads.iter().min().unwrap(), loads.iter().max().unwrap());
            assert!(max - min <= 1, "{loads:?}");
        }
        assert!(team.iter().all(|c| c.load == 20));
    }
}
