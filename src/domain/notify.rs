//! Emails to team members (docs/notifications.md): who wants which, what each says, when
//! a failed send is tried again, and when a daily summary is due. Pure: no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::status::text_enum;
use super::{PresenceStatus, Role};

text_enum! {
    /// When a member is emailed about a conversation given to them.
    HandoffEmail {
        /// Never.
        Off => "off",
        /// When they are not online at that moment (away or offline): the default.
        Offline => "offline",
        Always => "always",
    }
}

text_enum! {
    /// What an email in the outbox is about.
    EmailKind {
        Handoff => "handoff",
        SlaBreach => "sla_breach",
        DailySummary => "daily_summary",
    }
}

/// A member's choice of emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NotificationPrefs {
    /// A conversation assigned to them (by the router, a handoff or a colleague).
    pub handoff: HandoffEmail,
    /// A customer in one of their sessions waited longer than the session's
    /// `sla_wait_seconds` (admins and managers only: others are never sent one).
    pub sla_breach: bool,
    /// Yesterday's numbers and what waits now, once a day at `TICKHUB_SUMMARY_HOUR`.
    pub daily_summary: bool,
}

impl NotificationPrefs {
    /// What a member who never chose has: handoffs while away, SLA breaches for
    /// supervisors, no daily summary.
    pub fn defaults(role: Role) -> NotificationPrefs {
        NotificationPrefs {
            handoff: HandoffEmail::Offline,
            sla_breach: role.supervises(),
            daily_summary: false,
        }
    }

    /// Whether a conversation just given to the member is worth an email.
    pub fn wants_handoff(&self, presence: PresenceStatus) -> bool {
        match self.handoff {
            HandoffEmail::Off => false,
            HandoffEmail::Always => true,
            HandoffEmail::Offline => presence != PresenceStatus::Online,
        }
    }
}

/// How long the sender waits before trying a failed email again: doubling from 2 s, at
/// most 10 minutes.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 20) as u32;
    (1000i64 << exp).min(600_000)
}

/// After this many failed attempts an email is given up (`failed`, with its last error).
pub const MAX_ATTEMPTS: i64 = 12;

/// The line the sender adds to every email: where the inbox is.
pub fn footer(base_url: &str) -> String {
    format!("\n--\ntickhub: {}\n", base_url.trim_end_matches('/'))
}

/// An email's subject and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub body: String,
}

/// Who a conversation is, for a subject line: its title, else its chat.
pub fn conversation_label(title: Option<&str>, chat_id: &str) -> String {
    let t = title.map(str::trim).filter(|t| !t.is_empty());
    let label: String = t.unwrap_or(chat_id).chars().take(60).collect();
    // A subject is one line.
    label.replace(['\r', '\n'], " ")
}

pub fn handoff_email(label: &str, conversation_id: i64, session: &str) -> Email {
    Email {
        subject: format!("[tickhub] Conversation with {label} assigned to you"),
        body: format!(
            "A conversation was assigned to you.\n\n\
             Customer: {label}\nWhatsApp session: {session}\nConversation: #{conversation_id}\n"
        ),
    }
}

pub fn sla_email(
    label: &str,
    conversation_id: i64,
    session: &str,
    waited_secs: i64,
    threshold_secs: i64,
) -> Email {
    Email {
        subject: format!(
            "[tickhub] SLA breach: {label} has waited {} for a reply",
            duration(waited_secs)
        ),
        body: format!(
            "A customer has waited longer than the session's limit of {}.\n\n\
             Customer: {label}\nWhatsApp session: {session}\nConversation: #{conversation_id}\n\
             Waiting for: {}\n",
            duration(threshold_secs),
            duration(waited_secs)
        ),
    }
}

/// What a daily summary reports (for the member's sessions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryFacts {
    /// The local day summarised, `YYYY-MM-DD`.
    pub day: String,
    /// Conversations resolved that day by the member.
    pub resolved_by_me: i64,
    /// Conversations resolved that day in the member's sessions.
    pub resolved: i64,
    /// Conversations waiting for a person now (pending) in the member's sessions.
    pub waiting_now: i64,
    /// Open conversations assigned to the member now.
    pub mine_open: i64,
    /// Ratings received that day in the member's sessions, and their average.
    pub csat_responses: i64,
    pub csat_average: Option<f64>,
}

pub fn summary_email(f: &SummaryFacts) -> Email {
    let csat = match f.csat_average {
        Some(avg) if f.csat_responses > 0 => {
            format!("{avg:.1} of 5 from {} rating(s)", f.csat_responses)
        }
        _ => "no ratings".to_string(),
    };
    Email {
        subject: format!("[tickhub] Your summary for {}", f.day),
        body: format!(
            "Your summary for {}:\n\n\
             Conversations you resolved: {}\nConversations resolved in your sessions: {}\n\
             Customer satisfaction: {csat}\n\n\
             Now: {} conversation(s) waiting for someone, {} open and assigned to you.\n",
            f.day, f.resolved_by_me, f.resolved, f.waiting_now, f.mine_open
        ),
    }
}

/// "3 min", "2 h 5 min", "45 s".
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    match (secs / 3600, (secs % 3600) / 60) {
        (0, 0) => format!("{secs} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// The local day whose summary is due at `now_ms` in `tz` at `hour` (the day before the
/// current local date, once the local time has reached `hour`); `None` before that hour.
pub fn summary_day(now_ms: i64, tz: chrono_tz::Tz, hour: u32) -> Option<(String, i64, i64)> {
    use chrono::{Duration, NaiveTime, TimeZone};
    let now = chrono::DateTime::from_timestamp_millis(now_ms)?.with_timezone(&tz);
    if now.time() < NaiveTime::from_hms_opt(hour, 0, 0)? {
        return None;
    }
    let today = now.date_naive();
    let yesterday = today - Duration::days(1);
    let start = tz
        .from_local_datetime(&yesterday.and_hms_opt(0, 0, 0)?)
        .earliest()?
        .timestamp_millis();
    let end = tz
        .from_local_datetime(&today.and_hms_opt(0, 0, 0)?)
        .earliest()?
        .timestamp_millis();
    Some((yesterday.format("%Y-%m-%d").to_string(), start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_role() {
        assert!(NotificationPrefs::defaults(Role::Admin).sla_breach);
        assert!(NotificationPrefs::defaults(Role::Manager).sla_breach);
        assert!(!NotificationPrefs::defaults(Role::Agent).sla_breach);
        let p = NotificationPrefs::defaults(Role::Agent);
        assert!(p.wants_handoff(PresenceStatus::Offline));
        assert!(p.wants_handoff(PresenceStatus::Away));
        assert!(!p.wants_handoff(PresenceStatus::Online));
        let always = NotificationPrefs {
            handoff: HandoffEmail::Always,
            ..p
        };
        assert!(always.wants_handoff(PresenceStatus::Online));
        let off = NotificationPrefs {
            handoff: HandoffEmail::Off,
            ..p
        };
        assert!(!off.wants_handoff(PresenceStatus::Offline));
    }

    #[test]
    fn retries_back_off_to_a_ceiling() {
        assert_eq!(retry_delay_ms(1), 2_000);
        assert_eq!(retry_delay_ms(2), 4_000);
        assert_eq!(retry_delay_ms(30), 600_000);
        assert_eq!(retry_delay_ms(-3), 2_000);
    }

    #[test]
    fn labels_are_one_line() {
        assert_eq!(conversation_label(Some("Ann\nB"), "1@c.us"), "Ann B");
        assert_eq!(conversation_label(Some(" "), "1@c.us"), "1@c.us");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(125), "2 min");
        assert_eq!(duration(7500), "2 h 5 min");
    }

    #[test]
    fn the_summary_is_due_after_its_hour_for_yesterday() {
        let tz: chrono_tz::Tz = "Europe/London".parse().unwrap();
        // 2026-01-06 07:59 UTC (winter: London = UTC): not yet.
        let before = 1_767_686_340_000;
        assert_eq!(summary_day(before, tz, 8), None);
        let (day, start, end) = summary_day(before + 60_000, tz, 8).unwrap();
        assert_eq!(day, "2026-01-05");
        assert_eq!(end - start, 86_400_000);
        assert_eq!(start, 1_767_571_200_000);
    }
}
