//! The presence rules: how a member's sockets, activity and own choice move their status.
//! No timers and no I/O here — the presence actor (`actors::presence`) feeds the inputs,
//! runs the timers the effects ask for, and logs the transitions.
//!
//! - The first socket makes a member online (or what they chose: busy, away, offline).
//! - The last socket closing starts a grace period; a socket opening within it cancels it
//!   with no transition (a reload, a phone switching networks); when it ends the member
//!   is offline. Without a grace period the member is offline at once.
//! - No activity for the idle time makes an online member away; activity makes them
//!   online again. Idleness never overrides a status the member chose.
//! - A member's choice (busy, away, offline) stays until they change it, across sockets;
//!   choosing online hands the status back to the automatic rules.

use super::status::text_enum;
use super::PresenceStatus;

text_enum! {
    /// Why a member's presence changed, as logged and pushed with `presence.updated`.
    PresenceCause {
        FirstSocket => "first_socket",
        /// The last socket closed and there is no grace period.
        LastSocketClosed => "last_socket_closed",
        /// The last socket closed and no socket opened within the grace period.
        GraceExpired => "grace_expired",
        Idle => "idle",
        ActiveAgain => "active_again",
        SetByMember => "set_by_member",
        Deactivated => "deactivated",
        /// The hub started: sockets of the previous process died with it.
        HubRestart => "hub_restart",
    }
}

text_enum! {
    /// What a member did to their own presence, as stored on its way to the keeper
    /// (cluster mode): chose a status, or was deactivated.
    Choice {
        Online => "online",
        Away => "away",
        Busy => "busy",
        Offline => "offline",
        Deactivated => "deactivated",
    }
}

impl Choice {
    pub fn set(status: PresenceStatus) -> Choice {
        match status {
            PresenceStatus::Online => Choice::Online,
            PresenceStatus::Away => Choice::Away,
            PresenceStatus::Busy => Choice::Busy,
            PresenceStatus::Offline => Choice::Offline,
        }
    }

    pub fn input(self) -> Input {
        match self {
            Choice::Online => Input::Set(PresenceStatus::Online),
            Choice::Away => Input::Set(PresenceStatus::Away),
            Choice::Busy => Input::Set(PresenceStatus::Busy),
            Choice::Offline => Input::Set(PresenceStatus::Offline),
            Choice::Deactivated => Input::Deactivated,
        }
    }
}

/// What happened to a member, as the presence actor tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The member's sockets, all nodes together, are now this many.
    Sockets(u32),
    GraceExpired,
    /// The idle time passed without activity.
    Idle,
    /// The member did something (a command from one of their sockets).
    Activity,
    /// The member chose a status.
    Set(PresenceStatus),
    Deactivated,
}

/// What the presence actor must do after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effects {
    /// The member's new status and why (log it, tell everyone).
    pub transition: Option<(PresenceStatus, PresenceCause)>,
    pub start_grace: bool,
    pub cancel_grace: bool,
    /// The member came back after having no socket and no grace period: they may have
    /// missed pushes, so they get the whole state again.
    pub arrived: bool,
}

/// One member's presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPresence {
    pub status: PresenceStatus,
    /// What the member chose and keeps until they change it (busy, away, offline);
    /// `None`: the automatic rules decide.
    pub chosen: Option<PresenceStatus>,
    /// Sockets of the member, all nodes together.
    pub sockets: u32,
    /// The last socket closed and the grace period is running.
    pub grace: bool,
    /// Away because idle (not chosen).
    idle_away: bool,
}

impl MemberPresence {
    /// A member with no socket, and the choice they last made (if any).
    pub fn new(chosen: Option<PresenceStatus>) -> Self {
        MemberPresence {
            status: PresenceStatus::Offline,
            chosen: chosen.filter(|c| *c != PresenceStatus::Online),
            sockets: 0,
            grace: false,
            idle_away: false,
        }
    }

    /// A member whose keeper just changed (cluster mode): as present as they were, their
    /// sockets not yet counted — as if within a grace period, so the sockets the nodes
    /// report next change nothing, and if none does the member goes offline when it ends.
    pub fn taken_over(status: PresenceStatus, chosen: Option<PresenceStatus>) -> Self {
        let chosen = chosen.filter(|c| *c != PresenceStatus::Online);
        MemberPresence {
            status,
            chosen,
            sockets: 0,
            grace: status != PresenceStatus::Offline,
            idle_away: status == PresenceStatus::Away && chosen.is_none(),
        }
    }

    /// Has a socket, or may get one back within the grace period.
    pub fn present(&self) -> bool {
        self.sockets > 0 || self.grace
    }

    /// Online by the automatic rules, so idleness may make them away.
    pub fn watching_idle(&self) -> bool {
        self.sockets > 0 && self.status == PresenceStatus::Online && self.chosen.is_none()
    }

    /// The status while connected.
    fn connected(&self) -> PresenceStatus {
        match self.chosen {
            Some(c) => c,
            None if self.idle_away => PresenceStatus::Away,
            None => PresenceStatus::Online,
        }
    }

    fn go(&mut self, to: PresenceStatus, cause: PresenceCause, e: &mut Effects) {
        if self.status != to {
            self.status = to;
            e.transition = Some((to, cause));
        }
    }

    /// Applies `input`; `grace` says whether a grace period is configured (else the last
    /// socket closing is offline at once).
    pub fn step(&mut self, input: Input, grace: bool) -> Effects {
        let mut e = Effects::default();
        match input {
            Input::Sockets(n) => {
                let before = self.sockets;
                self.sockets = n;
                if before == 0 && n > 0 {
                    if self.grace {
                        // Back within the grace period: as if nothing happened.
                        self.grace = false;
                        e.cancel_grace = true;
                    } else {
                        self.idle_away = false;
                        e.arrived = true;
                        self.go(self.connected(), PresenceCause::FirstSocket, &mut e);
                    }
                } else if before > 0 && n == 0 {
                    if grace {
                        self.grace = true;
                        e.start_grace = true;
                    } else {
                        self.idle_away = false;
                        self.go(
                            PresenceStatus::Offline,
                            PresenceCause::LastSocketClosed,
                            &mut e,
                        );
                    }
                }
            }
            Input::GraceExpired => {
                // A timer that fired after a socket came back changes nothing.
                if self.grace && self.sockets == 0 {
                    self.grace = false;
                    self.idle_away = false;
                    self.go(PresenceStatus::Offline, PresenceCause::GraceExpired, &mut e);
                }
            }
            Input::Idle => {
                if self.watching_idle() {
                    self.idle_away = true;
                    self.go(PresenceStatus::Away, PresenceCause::Idle, &mut e);
                }
            }
            Input::Activity => {
                if self.idle_away && self.sockets > 0 {
                    self.idle_away = false;
                    self.go(self.connected(), PresenceCause::ActiveAgain, &mut e);
                }
            }
            Input::Set(status) => {
                self.chosen = (status != PresenceStatus::Online).then_some(status);
                self.idle_away = false;
                // Within a grace period too: in a cluster the keeper may count a member's
                // sockets late (a node's counts missed, a keeper taking over) while the
                // choice itself shows a socket.
                if self.present() {
                    self.go(status, PresenceCause::SetByMember, &mut e);
                }
            }
            Input::Deactivated => {
                self.chosen = None;
                self.idle_away = false;
                if self.grace {
                    self.grace = false;
                    e.cancel_grace = true;
                }
                self.go(PresenceStatus::Offline, PresenceCause::Deactivated, &mut e);
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::PresenceCause as C;
    use super::*;
    use PresenceStatus::*;

    fn t(e: Effects) -> Option<(PresenceStatus, PresenceCause)> {
        e.transition
    }

    #[test]
    fn a_member_taken_over_keeps_their_status_until_their_sockets_are_counted() {
        let mut m = MemberPresence::taken_over(Online, None);
        assert!(m.present());
        let e = m.step(Input::Sockets(2), true);
        assert_eq!(
            t(e),
            None,
            "no flicker when the new keeper counts the sockets"
        );
        assert!(e.cancel_grace);
        let mut gone = MemberPresence::taken_over(Busy, Some(Busy));
        assert_eq!(
            t(gone.step(Input::GraceExpired, true)),
            Some((Offline, C::GraceExpired))
        );
        let mut idle = MemberPresence::taken_over(Away, None);
        idle.step(Input::Sockets(1), true);
        assert_eq!(
            t(idle.step(Input::Activity, true)),
            Some((Online, C::ActiveAgain))
        );
        assert!(!MemberPresence::taken_over(Offline, None).present());
    }

    #[test]
    fn sockets_make_a_member_online_and_offline_after_the_grace() {
        let mut m = MemberPresence::new(None);
        let e = m.step(Input::Sockets(1), true);
        assert_eq!(t(e), Some((Online, C::FirstSocket)));
        assert!(e.arrived);
        // A second tab or device: one presence.
        assert_eq!(m.step(Input::Sockets(2), true), Effects::default());
        assert_eq!(m.step(Input::Sockets(1), true), Effects::default());
        let e = m.step(Input::Sockets(0), true);
        assert!(e.start_grace && e.transition.is_none());
        assert!(m.present());
        assert_eq!(
            t(m.step(Input::GraceExpired, true)),
            Some((Offline, C::GraceExpired))
        );
        assert!(!m.present());
    }

    #[test]
    fn a_reload_within_the_grace_changes_nothing() {
        let mut m = MemberPresence::new(None);
        m.step(Input::Sockets(1), true);
        m.step(Input::Sockets(0), true);
        let e = m.step(Input::Sockets(1), true);
        assert_eq!(
            e,
            Effects {
                cancel_grace: true,
                ..Default::default()
            }
        );
        // The cancelled timer firing late changes nothing either.
        assert_eq!(m.step(Input::GraceExpired, true), Effects::default());
        assert_eq!(m.status, Online);
    }

    #[test]
    fn without_grace_the_last_socket_closing_is_offline_at_once() {
        let mut m = MemberPresence::new(None);
        m.step(Input::Sockets(1), false);
        assert_eq!(
            t(m.step(Input::Sockets(0), false)),
            Some((Offline, C::LastSocketClosed))
        );
    }

    #[test]
    fn idle_makes_away_and_activity_online_again() {
        let mut m = MemberPresence::new(None);
        m.step(Input::Sockets(1), true);
        assert!(m.watching_idle());
        assert_eq!(t(m.step(Input::Idle, true)), Some((Away, C::Idle)));
        assert!(!m.watching_idle());
        assert_eq!(t(m.step(Input::Idle, true)), None);
        assert_eq!(
            t(m.step(Input::Activity, true)),
            Some((Online, C::ActiveAgain))
        );
        // Activity while online changes nothing.
        assert_eq!(t(m.step(Input::Activity, true)), None);
    }

    #[test]
    fn a_choice_stays_until_changed() {
        let mut m = MemberPresence::new(None);
        m.step(Input::Sockets(1), true);
        assert_eq!(
            t(m.step(Input::Set(Busy), true)),
            Some((Busy, C::SetByMember))
        );
        // Idle never overrides busy; activity does not make them online.
        assert_eq!(t(m.step(Input::Idle, true)), None);
        assert_eq!(t(m.step(Input::Activity, true)), None);
        m.step(Input::Sockets(0), true);
        assert_eq!(
            t(m.step(Input::GraceExpired, true)),
            Some((Offline, C::GraceExpired))
        );
        // Coming back: still busy.
        assert_eq!(
            t(m.step(Input::Sockets(1), true)),
            Some((Busy, C::FirstSocket))
        );
        // Online hands back to the automatic rules.
        assert_eq!(
            t(m.step(Input::Set(Online), true)),
            Some((Online, C::SetByMember))
        );
        assert_eq!(t(m.step(Input::Idle, true)), Some((Away, C::Idle)));
        // Choosing offline while connected: invisible, and the first socket keeps it so.
        let mut m = MemberPresence::new(Some(Offline));
        let e = m.step(Input::Sockets(1), true);
        assert!(e.arrived && e.transition.is_none());
        // A member who was idle-away and chooses away keeps it.
        let mut m = MemberPresence::new(None);
        m.step(Input::Sockets(1), true);
        m.step(Input::Idle, true);
        assert_eq!(t(m.step(Input::Set(Away), true)), None);
        assert_eq!(t(m.step(Input::Activity, true)), None);
        assert_eq!(m.status, Away);
    }

    #[test]
    fn a_choice_counted_within_the_grace_period_is_taken() {
        // A new keeper has not counted the member's sockets yet: the choice still shows.
        let mut m = MemberPresence::taken_over(Online, None);
        assert_eq!(
            t(m.step(Input::Set(Busy), true)),
            Some((Busy, C::SetByMember))
        );
        assert_eq!(t(m.step(Input::Sockets(1), true)), None);
        assert_eq!(m.status, Busy);
        // With no socket and no grace period, the first socket brings the choice.
        let mut m = MemberPresence::new(None);
        assert_eq!(t(m.step(Input::Set(Away), true)), None);
        assert_eq!(
            t(m.step(Input::Sockets(1), true)),
            Some((Away, C::FirstSocket))
        );
    }

    #[test]
    fn choices_are_stored_as_their_texts() {
        for s in PresenceStatus::ALL {
            let c = Choice::set(*s);
            assert_eq!(c.as_str(), s.as_str());
            assert_eq!(c.input(), Input::Set(*s));
        }
        assert_eq!(Choice::Deactivated.input(), Input::Deactivated);
    }

    #[test]
    fn deactivation_is_offline_now() {
        let mut m = MemberPresence::new(Some(Busy));
        m.step(Input::Sockets(1), true);
        let e = m.step(Input::Deactivated, true);
        assert_eq!(t(e), Some((Offline, C::Deactivated)));
        assert_eq!(m.chosen, None);
        // Its sockets closing afterwards change nothing.
        m.step(Input::Sockets(0), true);
        assert_eq!(t(m.step(Input::GraceExpired, true)), None);
        // Deactivated during the grace period: the timer is cancelled.
        let mut m = MemberPresence::new(None);
        m.step(Input::Sockets(1), true);
        m.step(Input::Sockets(0), true);
        let e = m.step(Input::Deactivated, true);
        assert!(e.cancel_grace);
        assert_eq!(t(e), Some((Offline, C::Deactivated)));
        assert!(!m.present());
    }

    #[test]
    fn causes_are_their_texts() {
        assert_eq!(C::parse("grace_expired"), Some(C::GraceExpired));
        assert_eq!(C::HubRestart.as_str(), "hub_restart");
    }
}
