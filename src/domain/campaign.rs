//! Campaigns with no I/O: the lifecycle a campaign moves through, the states of each
//! recipient, and the clock arithmetic of sending (quiet hours in the recipient's time
//! zone, randomised gaps, recurring runs).

use std::time::Duration;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::Rng;

use super::status::text_enum;
use super::FieldError;

text_enum! {
    /// draft → scheduled → running ⇄ paused → completed, or cancelled from any unfinished state.
    CampaignStatus {
        Draft => "draft",
        Scheduled => "scheduled",
        Running => "running",
        Paused => "paused",
        Completed => "completed",
        Cancelled => "cancelled",
    }
}

text_enum! {
    /// What a member asks of a campaign.
    CampaignAction {
        Start => "start",
        Pause => "pause",
        Resume => "resume",
        Cancel => "cancel",
    }
}

impl CampaignStatus {
    /// The status `action` leads to, or why it may not be taken now.
    pub fn after(self, action: CampaignAction) -> Result<CampaignStatus, String> {
        use CampaignAction as A;
        use CampaignStatus as S;
        match (self, action) {
            (S::Draft | S::Scheduled, A::Start) => Ok(S::Running),
            (S::Running, A::Pause) => Ok(S::Paused),
            (S::Paused, A::Resume) => Ok(S::Running),
            (S::Draft | S::Scheduled | S::Running | S::Paused, A::Cancel) => Ok(S::Cancelled),
            (s, a) => Err(format!("a {s} campaign cannot be {}", a.past())),
        }
    }

    /// Whether its settings may change: not while it sends, nor once it is over.
    pub fn editable(self) -> bool {
        matches!(
            self,
            CampaignStatus::Draft | CampaignStatus::Scheduled | CampaignStatus::Paused
        )
    }

    /// Whether it may still send (the recipients' progress is worth watching).
    pub fn live(self) -> bool {
        matches!(
            self,
            CampaignStatus::Scheduled | CampaignStatus::Running | CampaignStatus::Paused
        )
    }
}

impl CampaignAction {
    fn past(self) -> &'static str {
        match self {
            CampaignAction::Start => "started",
            CampaignAction::Pause => "paused",
            CampaignAction::Resume => "resumed",
            CampaignAction::Cancel => "cancelled",
        }
    }
}

text_enum! {
    /// Where one recipient stands. `pending` until its message is stored (with its outbox
    /// row, in one transaction); then the outbox and WAHA's acks move it on; a reply ends it.
    RecipientState {
        Pending => "pending",
        Queued => "queued",
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        Replied => "replied",
        Failed => "failed",
        Skipped => "skipped",
    }
}

impl RecipientState {
    /// The states a recipient may move to `self` from, as the message's acks arrive
    /// (an ack never takes it back; a late `sent` after `read` changes nothing).
    pub fn reached_from(self) -> &'static [RecipientState] {
        use RecipientState as R;
        match self {
            R::Sent => &[R::Queued],
            R::Delivered => &[R::Queued, R::Sent],
            R::Read => &[R::Queued, R::Sent, R::Delivered],
            R::Replied => &[R::Sent, R::Delivered, R::Read],
            R::Failed => &[R::Queued],
            R::Pending | R::Queued | R::Skipped => &[],
        }
    }
}

text_enum! {
    /// A recurring campaign runs again at the same local time.
    Recurrence {
        Daily => "daily",
        Weekly => "weekly",
    }
}

/// Why a recipient was skipped (the report groups by these).
pub mod skip {
    pub const OPTED_OUT: &str = "opted_out";
    pub const ERASED: &str = "erased";
    pub const DUPLICATE_NUMBER: &str = "duplicate_number";
    pub const FREQUENCY_CAP: &str = "frequency_cap";
    pub const CANCELLED: &str = "cancelled";
    pub const EMPTY_MESSAGE: &str = "empty_message";
}

/// The fastest a campaign may send, per minute (the session's rate caps it further).
pub const MAX_RATE_PER_MINUTE: i64 = 600;
/// A conservative default: one message every 5 s on average.
pub const DEFAULT_RATE_PER_MINUTE: i64 = 12;
pub const DEFAULT_JITTER: f64 = 0.5;
pub const MAX_JITTER: f64 = 0.9;
/// A year.
pub const MAX_FREQUENCY_CAP_HOURS: i64 = 24 * 366;

/// A reply within this long after the campaign's message counts as a reply to it.
pub const REPLY_WINDOW_MS: i64 = 7 * 86_400_000;

/// "HH:MM", 00:00 to 23:59.
fn clock_time(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// An IANA time zone, named in the error when unknown.
pub fn time_zone(field: &str, s: &str) -> Result<Tz, FieldError> {
    s.parse::<Tz>()
        .map_err(|_| FieldError::new(field, format!("unknown time zone {s:?}")))
}

/// Hours in which nobody is messaged, in the recipient's local time; may wrap midnight
/// (21:00–08:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    pub fn parse(start: &str, end: &str) -> Result<QuietHours, FieldError> {
        let start_t = clock_time(start)
            .ok_or_else(|| FieldError::new("quiet_hours.start", format!("not HH:MM: {start:?}")))?;
        let end_t = clock_time(end)
            .ok_or_else(|| FieldError::new("quiet_hours.end", format!("not HH:MM: {end:?}")))?;
        if start_t == end_t {
            return Err(FieldError::new(
                "quiet_hours.end",
                "must differ from start (equal times would mean always or never)",
            ));
        }
        Ok(QuietHours {
            start: start_t,
            end: end_t,
        })
    }

    pub fn start_text(&self) -> String {
        self.start.format("%H:%M").to_string()
    }

    pub fn end_text(&self) -> String {
        self.end.format("%H:%M").to_string()
    }

    fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// When `at` falls in the quiet hours of `tz`, the instant they end; `None` when one
    /// may send now.
    pub fn ends_after(&self, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&tz);
        let t = local.time();
        if !self.contains(t) {
            return None;
        }
        let today = local.date_naive();
        // Quiet since yesterday evening (wrapping) ends today; otherwise today's end, or
        // tomorrow's when the end is before the start.
        let end_date = if self.start < self.end || t < self.end {
            today
        } else {
            today.checked_add_days(Days::new(1))?
        };
        let end = end_date.and_time(self.end);
        // A daylight-saving jump can skip the end time: the first instant after it.
        let end = tz.from_local_datetime(&end).earliest().or_else(|| {
            tz.from_local_datetime(&(end + chrono::Duration::hours(1)))
                .earliest()
        })?;
        Some(end.with_timezone(&Utc))
    }
}

/// How a campaign paces itself: `rate_per_minute` on average, each gap randomised by ±
/// `jitter` (WhatsApp flags numbers that send at machine-regular intervals).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    pub rate_per_minute: i64,
    pub jitter: f64,
}

impl Pace {
    pub fn check(rate_per_minute: i64, jitter: f64) -> Result<Pace, FieldError> {
        if !(1..=MAX_RATE_PER_MINUTE).contains(&rate_per_minute) {
            return Err(FieldError::new(
                "rate_per_minute",
                format!("1 to {MAX_RATE_PER_MINUTE}, got {rate_per_minute}"),
            ));
        }
        if !(0.0..=MAX_JITTER).contains(&jitter) {
            return Err(FieldError::new(
                "jitter",
                format!("0 to {MAX_JITTER}, got {jitter}"),
            ));
        }
        Ok(Pace {
            rate_per_minute,
            jitter,
        })
    }

    /// The wait before the next message.
    pub fn gap(&self, rng: &mut impl Rng) -> Duration {
        let mean = 60.0 / self.rate_per_minute.max(1) as f64;
        let factor = if self.jitter > 0.0 {
            1.0 + rng.random_range(-self.jitter..=self.jitter)
        } else {
            1.0
        };
        Duration::from_secs_f64((mean * factor).max(0.0))
    }
}

/// The next run of a recurring campaign first started at `first`: the same local time in
/// `tz`, a day or a week on, the first such instant after `after`.
pub fn next_run(
    first: DateTime<Utc>,
    tz: Tz,
    every: Recurrence,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let step = match every {
        Recurrence::Daily => 1,
        Recurrence::Weekly => 7,
    };
    let local = first.with_timezone(&tz);
    let (mut date, time) = (local.date_naive(), local.time());
    // Whole steps between `first` and `after`, then forward until past it.
    let behind = (after - first).num_days().max(0) as u64 / step * step;
    date = date.checked_add_days(Days::new(behind))?;
    for _ in 0..10 {
        let at = date.and_time(time);
        if let Some(t) = tz.from_local_datetime(&at).earliest().or_else(|| {
            tz.from_local_datetime(&(at + chrono::Duration::hours(1)))
                .earliest()
        }) {
            let t = t.with_timezone(&Utc);
            if t > after {
                return Some(t);
            }
        }
        date = date.checked_add_days(Days::new(step))?;
    }
    None
}

/// The name of a campaign: 1 to 200 characters, not blank.
pub fn check_name(name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 200 || n.contains('\0') {
        return Err(FieldError::new(
            "name",
            "1 to 200 characters without U+0000",
        ));
    }
    Ok(n.to_string())
}

pub fn check_frequency_cap(hours: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_FREQUENCY_CAP_HOURS).contains(&hours) {
        return Err(FieldError::new(
            "frequency_cap_hours",
            format!("1 to {MAX_FREQUENCY_CAP_HOURS}, got {hours}"),
        ));
    }
    Ok(hours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn lifecycle() {
        use CampaignAction as A;
        use CampaignStatus as S;
        assert_eq!(S::Draft.after(A::Start), Ok(S::Running));
        assert_eq!(S::Scheduled.after(A::Start), Ok(S::Running));
        assert_eq!(S::Running.after(A::Pause), Ok(S::Paused));
        assert_eq!(S::Paused.after(A::Resume), Ok(S::Running));
        assert_eq!(S::Paused.after(A::Cancel), Ok(S::Cancelled));
        assert_eq!(
            S::Running.after(A::Start),
            Err("a running campaign cannot be started".into())
        );
        assert_eq!(
            S::Completed.after(A::Cancel),
            Err("a completed campaign cannot be cancelled".into())
        );
        assert!(S::Draft.after(A::Resume).is_err());
        assert!(S::Cancelled.after(A::Resume).is_err());
        assert!(!S::Running.editable() && S::Paused.editable() && !S::Completed.editable());
    }

    #[test]
    fn acks_only_move_recipients_forward() {
        use RecipientState as R;
        assert!(R::Read.reached_from().contains(&R::Sent));
        assert!(!R::Sent.reached_from().contains(&R::Read));
        assert!(!R::Delivered.reached_from().contains(&R::Replied));
        assert!(R::Replied.reached_from().contains(&R::Read));
        assert!(!R::Replied.reached_from().contains(&R::Queued));
        assert!(R::Skipped.reached_from().is_empty());
    }

    #[test]
    fn quiet_hours_across_midnight_in_the_recipients_zone() {
        let q = QuietHours::parse("21:00", "08:00").unwrap();
        let london: Tz = "Europe/London".parse().unwrap();
        // 22:30 in London (winter: UTC) → quiet until 08:00 tomorrow.
        assert_eq!(
            q.ends_after(utc("2026-12-07T22:30:00Z"), london),
            Some(utc("2026-12-08T08:00:00Z"))
        );
        // 06:00 → until 08:00 today.
        assert_eq!(
            q.ends_after(utc("2026-12-08T06:00:00Z"), london),
            Some(utc("2026-12-08T08:00:00Z"))
        );
        assert_eq!(q.ends_after(utc("2026-12-08T08:00:00Z"), london), None);
        assert_eq!(q.ends_after(utc("2026-12-08T20:59:00Z"), london), None);
        // The same instant is daytime in São Paulo (UTC-3): 19:30 there.
        let sp: Tz = "America/Sao_Paulo".parse().unwrap();
        assert_eq!(q.ends_after(utc("2026-12-07T22:30:00Z"), sp), None);
        // And quiet in Tokyo (UTC+9): 07:30 → 08:00 local = 23:00 UTC.
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            q.ends_after(utc("2026-12-07T22:30:00Z"), tokyo),
            Some(utc("2026-12-07T23:00:00Z"))
        );
    }

    #[test]
    fn quiet_hours_within_a_day_and_bad_input() {
        let q = QuietHours::parse("12:00", "14:00").unwrap();
        assert_eq!(
            q.ends_after(utc("2026-06-01T12:30:00Z"), Tz::UTC),
            Some(utc("2026-06-01T14:00:00Z"))
        );
        assert_eq!(q.ends_after(utc("2026-06-01T14:00:00Z"), Tz::UTC), None);
        assert_eq!(
            QuietHours::parse("25:00", "08:00").unwrap_err().field,
            "quiet_hours.start"
        );
        assert_eq!(
            QuietHours::parse("21:00", "8:00").unwrap_err().field,
            "quiet_hours.end"
        );
        assert_eq!(
            QuietHours::parse("21:00", "21:00").unwrap_err().field,
            "quiet_hours.end"
        );
    }

    #[test]
    fn quiet_hours_end_inside_a_daylight_saving_jump() {
        // London skips 01:00–02:00 on 2026-03-29: an end at 01:30 becomes 02:30 BST.
        let q = QuietHours::parse("23:00", "01:30").unwrap();
        let london: Tz = "Europe/London".parse().unwrap();
        assert_eq!(
            q.ends_after(utc("2026-03-29T00:10:00Z"), london),
            Some(utc("2026-03-29T01:30:00Z"))
        );
    }

    #[test]
    fn gaps_average_the_rate_within_the_jitter() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let p = Pace::check(12, 0.5).unwrap();
        let gaps: Vec<f64> = (0..2000).map(|_| p.gap(&mut rng).as_secs_f64()).collect();
        assert!(
            gaps.iter().all(|g| (2.5..=7.5).contains(g)),
            "within ±50% of 5 s"
        );
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        assert!((4.8..5.2).contains(&mean), "{mean}");
        assert!(gaps.windows(2).any(|w| w[0] != w[1]), "randomised");
        let steady = Pace::check(60, 0.0).unwrap();
        assert_eq!(steady.gap(&mut rng), Duration::from_secs(1));
        assert_eq!(Pace::check(0, 0.1).unwrap_err().field, "rate_per_minute");
        assert_eq!(Pace::check(601, 0.1).unwrap_err().field, "rate_per_minute");
        assert_eq!(Pace::check(10, 0.95).unwrap_err().field, "jitter");
    }

    #[test]
    fn recurring_runs_keep_the_local_time() {
        let london: Tz = "Europe/London".parse().unwrap();
        // 09:00 London in winter (UTC) …
        let first = utc("2026-03-20T09:00:00Z");
        assert_eq!(
            next_run(first, london, Recurrence::Daily, first),
            Some(utc("2026-03-21T09:00:00Z"))
        );
        // … stays 09:00 London after the clocks go forward (08:00 UTC).
        assert_eq!(
            next_run(first, london, Recurrence::Weekly, first),
            Some(utc("2026-03-27T09:00:00Z"))
        );
        assert_eq!(
            next_run(
                first,
                london,
                Recurrence::Weekly,
                utc("2026-03-30T12:00:00Z")
            ),
            Some(utc("2026-04-03T08:00:00Z"))
        );
        assert_eq!(
            next_run(
                first,
                london,
                Recurrence::Daily,
                utc("2026-04-10T08:30:00Z")
            ),
            Some(utc("2026-04-11T08:00:00Z"))
        );
    }

    #[test]
    fn names_time_zones_and_caps() {
        assert_eq!(check_name("  Spring sale "), Ok("Spring sale".into()));
        assert_eq!(check_name(" ").unwrap_err().field, "name");
        assert!(time_zone("time_zone", "Europe/Lisbon").is_ok());
        assert_eq!(
            time_zone("time_zone", "Mars/Base").unwrap_err().reason,
            "unknown time zone \"Mars/Base\""
        );
        assert_eq!(check_frequency_cap(24), Ok(24));
        assert!(check_frequency_cap(0).is_err());
    }
}
