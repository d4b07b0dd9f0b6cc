//! Weekly hours in a time zone: a member's working hours (and, later, a bot's business
//! hours). `{"time_zone": "Europe/London", "weekly": {"mon": [["09:00", "17:00"]], …}}`:
//! each day has zero or more intervals, start before end, none overlapping; "24:00" ends a
//! day. Validation names the exact field that is wrong.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
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
        Ok(())
    }

    /// Whether `at` falls inside the hours (assumes `validate` passed).
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let Ok(tz) = self.time_zone.parse::<Tz>() else {
            return false;
        };
        let local = at.with_timezone(&tz);
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
        for _ in 0..MAX_SPAN_DAYS {
            for [a, b] in self
                .weekly
                .get(day_name(day.weekday()))
                .into_iter()
                .flatten()
            {
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
