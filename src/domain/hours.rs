//! Weekly hours in a time zone: a member's working hours, a session's business hours (the
//! analytics' business-hours clock) and a bot's business hours.
//! `{"time_zone": "Europe/London", "weekly": {"mon": [["09:00", "17:00"]], …},
//! "holidays": ["2026-12-25"]}`: each day has zero or more intervals, start before end, none
//! overlapping; "24:00" ends a day; a holiday is a local date closed all day. Validation
//! names the exact field that is wrong.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldError;

pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Hours as the API takes and answers them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WeeklyHours {
    /// An IANA time zone name, e.g. `Europe/London`.
    pub time_zone: String,
    /// Day (`mon` … `sun`) → intervals `["HH:MM", "HH:MM"]`; a missing day has no hours.
    #[schema(value_type = Object, example = json!({"mon": [["09:00", "17:00"]]}))]
    pub weekly: BTreeMap<String, Vec<[String; 2]>>,
    /// Local dates (`YYYY-MM-DD`, in `time_zone`) closed all day, e.g. public holidays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<String>,
}

/// A strict `YYYY-MM-DD` that names a real date.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let (y, m, d) = (
        s[..4].parse().ok()?,
        s[5..7].parse().ok()?,
        s[8..].parse().ok()?,
    );
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Minutes since midnight of "HH:MM" (00:00 to 24:00).
fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(24 * 60),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl WeeklyHours {
    /// Checks every part; the error starts with the field's path under `field`.
    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        if self.time_zone.parse::<Tz>().is_err() {
            return Err(FieldError::new(
                format!("{field}.time_zone"),
                format!(
                    "unknown time zone {:?} (use an IANA name such as Europe/London)",
                    self.time_zone
                ),
            ));
        }
        for (day, intervals) in &self.weekly {
            if !DAYS.contains(&day.as_str()) {
                return Err(FieldError::new(
                    format!("{field}.weekly"),
                    format!("unknown day {day:?} (use mon, tue, wed, thu, fri, sat, sun)"),
                ));
            }
            let mut spans = Vec::with_capacity(intervals.len());
            for (i, [from, to]) in intervals.iter().enumerate() {
                let at = format!("{field}.weekly.{day}[{i}]");
                let (Some(a), Some(b)) = (minutes(from), minutes(to)) else {
                    return Err(FieldError::new(
                        at,
                        "times are \"HH:MM\" from 00:00 to 24:00",
                    ));
                };
                if a >= b {
                    return Err(FieldError::new(at, format!("{from} is not before {to}")));
                }
                spans.push((a, b, i));
            }
            spans.sort_unstable();
            for w in spans.windows(2) {
                if w[1].0 < w[0].1 {
                    return Err(FieldError::new(
                        format!("{field}.weekly.{day}[{}]", w[1].2),
                        format!("overlaps {day}[{}]", w[0].2),
                    ));
                }
            }
        }
        for (i, day) in self.holidays.iter().enumerate() {
            if parse_date(day).is_none() {
                return Err(FieldError::new(
                    format!("{field}.holidays[{i}]"),
                    "not a date YYYY-MM-DD",
                ));
            }
        }
        Ok(())
    }

    /// Whether the local date `day` is one of the holidays.
    pub fn is_holiday(&self, day: NaiveDate) -> bool {
        self.holidays.iter().any(|h| parse_date(h) == Some(day))
    }

    /// Whether `at` falls inside the hours (assumes `validate` passed).
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let Ok(tz) = self.time_zone.parse::<Tz>() else {
            return false;
        };
        let local = at.with_timezone(&tz);
        if self.is_holiday(local.date_naive()) {
            return false;
        }
        let now = local.hour() * 60 + local.minute();
        self.weekly
            .get(day_name(local.weekday()))
            .is_some_and(|spans| {
                spans.iter().any(|[a, b]| match (minutes(a), minutes(b)) {
                    (Some(a), Some(b)) => a <= now && now < b,
                    _ => false,
                })
            })
    }

    /// Milliseconds of `[from_ms, to_ms)` that fall inside the hours (a span longer than
    /// `MAX_SPAN_DAYS` counts only its first that many days).
    pub fn overlap_ms(&self, from_ms: i64, to_ms: i64) -> i64 {
        let (Ok(tz), Some(from)) = (
            self.time_zone.parse::<Tz>(),
            DateTime::<Utc>::from_timestamp_millis(from_ms),
        ) else {
            return 0;
        };
        let mut total = 0;
        let mut day = from.with_timezone(&tz).date_naive();
        let holidays: Vec<NaiveDate> = self.holidays.iter().filter_map(|h| parse_date(h)).collect();
        for _ in 0..MAX_SPAN_DAYS {
            let open = (!holidays.contains(&day))
                .then(|| self.weekly.get(day_name(day.weekday())))
                .flatten();
            for [a, b] in open.into_iter().flatten() {
                let (Some(a), Some(b)) = (minutes(a), minutes(b)) else {
                    continue;
                };
                if let (Some(start), Some(end)) = (local_ms(&tz, day, a), local_ms(&tz, day, b)) {
                    total += (end.min(to_ms) - start.max(from_ms)).max(0);
                }
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
            if local_ms(&tz, day, 0).is_none_or(|m| m >= to_ms) {
                break;
            }
        }
        total
    }
}

/// Business-hours spans are counted over at most this many days.
const MAX_SPAN_DAYS: usize = 3660;

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// The instant of `minutes` after local midnight of `day` in `tz` (a time skipped by a
/// DST change counts from the change; 24:00 is the next midnight).
fn local_ms(tz: &Tz, day: chrono::NaiveDate, minutes: u32) -> Option<i64> {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0)?;
    let at = midnight + chrono::Duration::minutes(minutes as i64);
    let local = tz.from_local_datetime(&at).earliest().or_else(|| {
        tz.from_local_datetime(&(at + chrono::Duration::hours(1)))
            .earliest()
    })?;
    Some(local.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn overlap_counts_only_the_hours() {
        let h = hours(
            "Europe/London",
            serde_json::json!({"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}),
        );
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        // Monday 16:00 → Tuesday 10:00 (winter, London = UTC): 1 h + 1 h.
        assert_eq!(
            h.overlap_ms(at("2026-01-05T16:00:00Z"), at("2026-01-06T10:00:00Z")),
            2 * 3_600_000
        );
        // Inside one span.
        assert_eq!(
            h.overlap_ms(at("2026-01-05T10:00:00Z"), at("2026-01-05T10:30:00Z")),
            1_800_000
        );
        // Saturday to Sunday: none.
        assert_eq!(
            h.overlap_ms(at("2026-01-10T10:00:00Z"), at("2026-01-11T10:00:00Z")),
            0
        );
        // Summer: London is UTC+1, so 09:00 local is 08:00 UTC.
        assert_eq!(
            h.overlap_ms(at("2026-07-06T07:00:00Z"), at("2026-07-06T09:00:00Z")),
            3_600_000
        );
        // A whole week: two days of eight hours.
        assert_eq!(
            h.overlap_ms(at("2026-01-04T00:00:00Z"), at("2026-01-11T00:00:00Z")),
            16 * 3_600_000
        );
    }

    #[test]
    fn holidays_are_closed_all_day() {
        let mut h = hours(
            "Europe/London",
            serde_json::json!({"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}),
        );
        h.holidays = vec!["2026-12-08".into()];
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        // Monday 7 December 16:00 → Wednesday 10:00: Tuesday is a holiday, so 1 h.
        assert_eq!(
            h.overlap_ms(at("2026-12-07T16:00:00Z"), at("2026-12-09T10:00:00Z")),
            3_600_000
        );
        assert!(h.contains(Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap()));
        assert!(!h.contains(Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 0).unwrap()));
        // The holiday is a local date: in Auckland, Tuesday 8 December starts on Monday 11:00 UTC.
        let mut nz = hours(
            "Pacific/Auckland",
            serde_json::json!({"tue": [["00:00", "24:00"]]}),
        );
        assert!(nz.contains(Utc.with_ymd_and_hms(2026, 12, 7, 11, 30, 0).unwrap()));
        nz.holidays = vec!["2026-12-08".into()];
        assert!(!nz.contains(Utc.with_ymd_and_hms(2026, 12, 7, 11, 30, 0).unwrap()));
        assert_eq!(nz.validate("business_hours"), Ok(()));
        nz.holidays.push("2026-02-30".into());
        let e = nz.validate("business_hours").unwrap_err().to_string();
        assert!(e.contains("business_hours.holidays[1]"), "{e}");
    }

    fn hours(tz: &str, weekly: serde_json::Value) -> WeeklyHours {
        serde_json::from_value(serde_json::json!({"time_zone": tz, "weekly": weekly})).unwrap()
    }

    #[test]
    fn validation_names_the_field() {
        let ok = hours(
            "Europe/London",
            serde_json::json!({"mon": [["09:00", "12:00"], ["13:00", "24:00"]]}),
        );
        assert_eq!(ok.validate("working_hours"), Ok(()));
        let cases = [
            (
                hours("Mars/Olympus", serde_json::json!({})),
                "working_hours.time_zone",
            ),
            (
                hours("UTC", serde_json::json!({"funday": []})),
                "working_hours.weekly: unknown day",
            ),
            (
                hours("UTC", serde_json::json!({"tue": [["9:00", "10:00"]]})),
                "working_hours.weekly.tue[0]",
            ),
            (
                hours("UTC", serde_json::json!({"tue": [["10:00", "09:00"]]})),
                "is not before",
            ),
            (
                hours(
                    "UTC",
                    serde_json::json!({"wed": [["09:00", "12:00"], ["11:00", "13:00"]]}),
                ),
                "wed[1]: overlaps wed[0]",
            ),
            (
                hours("UTC", serde_json::json!({"wed": [["09:00", "24:30"]]})),
                "HH:MM",
            ),
        ];
        for (h, want) in cases {
            let e = h.validate("working_hours").expect_err(want).to_string();
            assert!(e.contains(want), "{e} should contain {want}");
        }
    }

    #[test]
    fn contains_follows_the_time_zone() {
        let h = hours(
            "America/New_York",
            serde_json::json!({"mon": [["09:00", "17:00"]]}),
        );
        // Monday 2026-12-07 14:00 UTC is 09:00 in New York (EST, UTC-5).
        assert!(h.contains(Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap()));
        assert!(!h.contains(Utc.with_ymd_and_hms(2026, 12, 7, 13, 59, 0).unwrap()));
        assert!(!h.contains(Utc.with_ymd_and_hms(2026, 12, 7, 22, 0, 0).unwrap()));
    }
}
