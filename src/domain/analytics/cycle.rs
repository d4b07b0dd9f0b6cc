//! How the facts of a conversation become the figures of the reports: a customer's message
//! opens a cycle (unless one is open), a person's reply answers the wait, a resolve closes
//! the cycle. The same code runs live (fed from the event log) and in a rebuild (fed from
//! the stored messages, assignments and resolves), so the two agree by construction.
//! Definitions: docs/analytics.md.

use std::collections::{BTreeMap, HashMap};

use super::histogram::Histogram;

/// One thing that happened in a conversation, as the reports see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// The customer wrote.
    Inbound,
    /// The customer answered the rating question: traffic, not a request.
    Rating,
    /// A member replied through tickhub.
    MemberReply(i64),
    /// A bot replied.
    BotReply,
    /// Anything else sent (a campaign, the business's phone).
    OtherOut,
    /// The conversation's assignee is now this (or nobody).
    Assigned(Option<i64>),
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactAt {
    pub conversation_id: i64,
    pub session_id: i64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    pub fact: Fact,
}

/// A customer's request from their first message to its resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The stored row (`None`: opened in this batch).
    pub id: Option<i64>,
    pub conversation_id: i64,
    pub session_id: i64,
    pub started_at: i64,
    /// The customer's first message no person has answered yet.
    pub waiting_since: Option<i64>,
    pub assignee_id: Option<i64>,
    pub first_response_at: Option<i64>,
    pub first_responder_id: Option<i64>,
    pub bot_replied: bool,
    pub member_replied: bool,
    pub resolved_at: Option<i64>,
    /// The assignee when it was resolved.
    pub handled_by: Option<i64>,
    /// Resolved after the bot answered, with no person replying or assigned.
    pub auto_resolved: bool,
    /// The part of start → resolve inside the session's business hours.
    pub resolution_business_ms: Option<i64>,
}

/// A person answering a customer's wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub conversation_id: i64,
    pub session_id: i64,
    pub user_id: i64,
    pub at: i64,
    pub wait_ms: i64,
    /// The part of the wait inside the session's business hours.
    pub wait_business_ms: i64,
    /// The cycle's first response.
    pub first: bool,
}

/// The figures a day keeps per session, member and metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    FirstResponse,
    FirstResponseBusiness,
    Response,
    ResponseBusiness,
    Resolution,
    ResolutionBusiness,
    /// Resolved cycles the bot took part in.
    BotCycles,
    AutoResolved,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::FirstResponse,
        Metric::FirstResponseBusiness,
        Metric::Response,
        Metric::ResponseBusiness,
        Metric::Resolution,
        Metric::ResolutionBusiness,
        Metric::BotCycles,
        Metric::AutoResolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::FirstResponseBusiness => "first_response_business",
            Metric::Response => "response",
            Metric::ResponseBusiness => "response_business",
            Metric::Resolution => "resolution",
            Metric::ResolutionBusiness => "resolution_business",
            Metric::BotCycles => "bot_cycles",
            Metric::AutoResolved => "auto_resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Where a tally belongs: the UTC day, the session, the member (0: none) and the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayKey {
    pub day_ms: i64,
    pub session_id: i64,
    pub user_id: i64,
    pub metric: Metric,
}

/// A count, a sum of durations and their histogram.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub n: i64,
    pub sum_ms: i64,
    pub hist: Histogram,
}

impl Tally {
    pub fn add(&mut self, ms: Option<i64>) {
        self.n += 1;
        if let Some(ms) = ms {
            self.sum_ms += ms;
            self.hist.add(ms);
        }
    }

    pub fn merge(&mut self, o: &Tally) {
        self.n += o.n;
        self.sum_ms += o.sum_ms;
        self.hist.merge(&o.hist);
    }
}

/// A session's traffic in one UTC hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HourTally {
    pub messages_in: i64,
    pub messages_out: i64,
    pub cycles_started: i64,
}

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;

/// The start of the UTC day/hour of `at`.
pub fn floor_to(at: i64, unit: i64) -> i64 {
    at.div_euclid(unit) * unit
}

/// What a batch of facts changes: the open cycles (loaded for the batch, then changed),
/// the cycles it closed, and what to add to the rollups.
#[derive(Debug, Default)]
pub struct Projection {
    /// Conversation → its open cycle.
    pub open: HashMap<i64, Cycle>,
    /// Conversation → its assignee, in or out of a cycle (a cycle starts with it).
    pub assignees: HashMap<i64, Option<i64>>,
    /// Conversations whose assignee changed.
    pub assignees_changed: Vec<i64>,
    /// Conversations whose open cycle changed.
    pub touched: Vec<i64>,
    pub closed: Vec<Cycle>,
    pub responses: Vec<Response>,
    pub days: BTreeMap<DayKey, Tally>,
    /// (session, UTC hour) → its traffic.
    pub hours: BTreeMap<(i64, i64), HourTally>,
    /// (session, member, UTC hour) → messages the member sent.
    pub member_hours: BTreeMap<(i64, i64, i64), i64>,
}

impl Projection {
    /// Applies `f`; `business_ms(session, from, to)` is the part of a span inside that
    /// session's business hours.
    pub fn apply(&mut self, f: FactAt, business_ms: &impl Fn(i64, i64, i64) -> i64) {
        let hour = self
            .hours
            .entry((f.session_id, floor_to(f.at, HOUR_MS)))
            .or_default();
        match f.fact {
            Fact::Inbound | Fact::Rating => hour.messages_in += 1,
            Fact::MemberReply(_) | Fact::BotReply | Fact::OtherOut => hour.messages_out += 1,
            _ => {}
        }
        if let Fact::MemberReply(user) = f.fact {
            *self
                .member_hours
                .entry((f.session_id, user, floor_to(f.at, HOUR_MS)))
                .or_insert(0) += 1;
        }
        if let Fact::Assigned(to) = f.fact {
            if self.assignees.get(&f.conversation_id).copied().flatten() == to {
                return;
            }
            self.assignees.insert(f.conversation_id, to);
            if !self.assignees_changed.contains(&f.conversation_id) {
                self.assignees_changed.push(f.conversation_id);
            }
        }
        if f.fact == Fact::Inbound && !self.open.contains_key(&f.conversation_id) {
            hour.cycles_started += 1;
            let assignee_id = self.assignees.get(&f.conversation_id).copied().flatten();
            self.open.insert(
                f.conversation_id,
                Cycle {
                    id: None,
                    conversation_id: f.conversation_id,
                    session_id: f.session_id,
                    started_at: f.at,
                    waiting_since: Some(f.at),
                    assignee_id,
                    first_response_at: None,
                    first_responder_id: None,
                    bot_replied: false,
                    member_replied: false,
                    resolved_at: None,
                    handled_by: None,
                    auto_resolved: false,
                    resolution_business_ms: None,
                },
            );
            self.touch(f.conversation_id);
            return;
        }
        let Some(c) = self.open.get_mut(&f.conversation_id) else {
            // Outside a cycle (an outreach, a resolve of what was resolved): no figure.
            return;
        };
        let mut closed = false;
        let mut response = None;
        match f.fact {
            Fact::Inbound => {
                c.waiting_since.get_or_insert(f.at);
            }
            Fact::MemberReply(user) => {
                c.member_replied = true;
                if let Some(since) = c.waiting_since.take() {
                    let first = c.first_response_at.is_none();
                    if first {
                        c.first_response_at = Some(f.at);
                        c.first_responder_id = Some(user);
                    }
                    response = Some(Response {
                        conversation_id: c.conversation_id,
                        session_id: c.session_id,
                        user_id: user,
                        at: f.at,
                        wait_ms: f.at - since,
                        wait_business_ms: business_ms(c.session_id, since, f.at),
                        first,
                    });
                }
            }
            Fact::BotReply => c.bot_replied = true,
            Fact::OtherOut | Fact::Rating => return,
            Fact::Assigned(to) => c.assignee_id = to,
            Fact::Resolved => {
                c.resolved_at = Some(f.at);
                c.handled_by = c.assignee_id;
                c.waiting_since = None;
                c.auto_resolved = c.bot_replied && !c.member_replied && c.assignee_id.is_none();
                closed = true;
            }
        }
        self.touch(f.conversation_id);
        if let Some(r) = response {
            let (s, u) = (r.session_id, r.user_id);
            if r.first {
                self.tally(r.at, s, u, Metric::FirstResponse, Some(r.wait_ms));
                self.tally(
                    r.at,
                    s,
                    u,
                    Metric::FirstResponseBusiness,
                    Some(r.wait_business_ms),
                );
            }
            self.tally(r.at, s, u, Metric::Response, Some(r.wait_ms));
            self.tally(
                r.at,
                s,
                u,
                Metric::ResponseBusiness,
                Some(r.wait_business_ms),
            );
            self.responses.push(r);
        }
        if closed {
            if let Some(c) = self.open.remove(&f.conversation_id) {
                self.close(c, business_ms);
            }
        }
    }

    fn close(&mut self, mut c: Cycle, business_ms: &impl Fn(i64, i64, i64) -> i64) {
        let at = c.resolved_at.unwrap_or(c.started_at);
        let (s, u) = (c.session_id, c.handled_by.unwrap_or(0));
        let wall = at - c.started_at;
        self.tally(at, s, u, Metric::Resolution, Some(wall));
        let business = business_ms(s, c.started_at, at);
        c.resolution_business_ms = Some(business);
        self.tally(at, s, u, Metric::ResolutionBusiness, Some(business));
        if c.bot_replied {
            self.tally(at, s, 0, Metric::BotCycles, None);
        }
        if c.auto_resolved {
            self.tally(at, s, 0, Metric::AutoResolved, None);
        }
        self.touched.retain(|id| *id != c.conversation_id);
        self.closed.push(c);
    }

    /// Moves `other`'s rollups (days, hours, members' hours) into this one.
    pub fn add_rollups(&mut self, other: &mut Projection) {
        for (k, t) in std::mem::take(&mut other.days) {
            self.days.entry(k).or_default().merge(&t);
        }
        for (k, h) in std::mem::take(&mut other.hours) {
            let e = self.hours.entry(k).or_default();
            e.messages_in += h.messages_in;
            e.messages_out += h.messages_out;
            e.cycles_started += h.cycles_started;
        }
        for (k, n) in std::mem::take(&mut other.member_hours) {
            *self.member_hours.entry(k).or_insert(0) += n;
        }
    }

    fn touch(&mut self, conversation_id: i64) {
        if !self.touched.contains(&conversation_id) {
            self.touched.push(conversation_id);
        }
    }

    fn tally(&mut self, at: i64, session_id: i64, user_id: i64, metric: Metric, ms: Option<i64>) {
        let key = DayKey {
            day_ms: floor_to(at, DAY_MS),
            session_id,
            user_id,
            metric,
        };
        self.days.entry(key).or_default().add(ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(conversation_id: i64, at: i64, fact: Fact) -> FactAt {
        FactAt {
            conversation_id,
            session_id: 1,
            at,
            fact,
        }
    }

    fn wall(_: i64, a: i64, b: i64) -> i64 {
        b - a
    }

    #[test]
    fn a_cycle_from_first_message_to_resolve() {
        let mut p = Projection::default();
        for f in [
            at(7, 0, Fact::Inbound),
            at(7, 1_000, Fact::Inbound),
            at(7, 2_000, Fact::BotReply),
            at(7, 5_000, Fact::Assigned(Some(3))),
            at(7, 60_000, Fact::MemberReply(3)),
            at(7, 61_000, Fact::MemberReply(3)),
            at(7, 100_000, Fact::Inbound),
            at(7, 130_000, Fact::MemberReply(4)),
            at(7, 200_000, Fact::Resolved),
            at(7, 300_000, Fact::MemberReply(3)),
        ] {
            p.apply(f, &wall);
        }
        assert!(p.open.is_empty());
        assert_eq!(p.closed.len(), 1);
        let c = &p.closed[0];
        assert_eq!(
            (c.started_at, c.first_response_at, c.handled_by),
            (0, Some(60_000), Some(3))
        );
        assert!(!c.auto_resolved);
        let waits: Vec<_> = p
            .responses
            .iter()
            .map(|r| (r.user_id, r.wait_ms, r.first))
            .collect();
        assert_eq!(waits, vec![(3, 60_000, true), (4, 30_000, false)]);
        let day = |user, metric| {
            p.days
                .get(&DayKey {
                    day_ms: 0,
                    session_id: 1,
                    user_id: user,
                    metric,
                })
                .map(|t| (t.n, t.sum_ms))
        };
        assert_eq!(day(3, Metric::FirstResponse), Some((1, 60_000)));
        assert_eq!(day(3, Metric::Resolution), Some((1, 200_000)));
        // Replies after the resolve still count as messages sent.
        assert_eq!(p.member_hours[&(1, 3, 0)], 3);
        assert_eq!(day(0, Metric::BotCycles), Some((1, 0)));
        assert_eq!(day(0, Metric::AutoResolved), None);
        let h = p.hours[&(1, 0)];
        assert_eq!((h.messages_in, h.messages_out, h.cycles_started), (3, 5, 1));
    }

    #[test]
    fn the_bot_alone_resolves_and_a_new_message_opens_a_new_cycle() {
        let mut p = Projection::default();
        for f in [
            at(9, 0, Fact::Inbound),
            at(9, 1_000, Fact::BotReply),
            at(9, 2_000, Fact::Resolved),
            at(9, 3_000, Fact::Inbound),
        ] {
            p.apply(f, &wall);
        }
        assert!(p.closed[0].auto_resolved);
        p.apply(at(9, 4_000, Fact::Resolved), &wall);
        p.apply(at(9, 5_000, Fact::Assigned(Some(2))), &wall);
        p.apply(at(9, 6_000, Fact::Inbound), &wall);
        assert_eq!(p.open[&9].assignee_id, Some(2));
        assert_eq!(p.open[&9].started_at, 6_000);
        assert_eq!(p.touched, vec![9]);
    }
}
