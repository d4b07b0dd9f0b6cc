//! A report's period (dates in a time zone) and the rows read out of the rollups.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

use super::cycle::{Metric, Tally, DAY_MS};
use crate::domain::FieldError;

/// The longest period a report covers.
const MAX_DAYS: i64 = 3 * 366;
/// The period when none is given: the last seven days, today included.
const DEFAULT_DAYS: i64 = 7;

/// `[from_ms, to_ms)` and the zone its days and hours are read in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub from_ms: i64,
    pub to_ms: i64,
    pub tz: Tz,
}

impl Period {
    /// `from` and `to` are dates (`YYYY-MM-DD`, `to` included) in `tz` or RFC 3339 instants
    /// (`to` excluded); `tz` is an IANA name (default UTC).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        tz: Option<&str>,
        now_ms: i64,
    ) -> Result<Period, FieldError> {
        let tz: Tz = match tz {
            None | Some("") => Tz::UTC,
            Some(name) => name.parse().map_err(|_| {
                FieldError::new(
                    "tz",
                    format!("unknown time zone {name:?} (use an IANA name such as Europe/London)"),
                )
            })?,
        };
        let today = DateTime::<Utc>::from_timestamp_millis(now_ms)
            .unwrap_or_default()
            .with_timezone(&tz)
            .date_naive();
        let to_ms = match to {
            None => midnight(tz, today.succ_opt().unwrap_or(today)),
            Some(s) => instant(tz, s, true).ok_or_else(|| bad("to", s))?,
        };
        let from_ms = match from {
            None => midnight(tz, today - chrono::Duration::days(DEFAULT_DAYS - 1)).min(to_ms),
            Some(s) => instant(tz, s, false).ok_or_else(|| bad("from", s))?,
        };
        if from_ms >= to_ms {
            return Err(FieldError::new(
                "from",
                "the period is empty: from is not before to",
            ));
        }
        if to_ms - from_ms > MAX_DAYS * DAY_MS {
            return Err(FieldError::new(
                "to",
                format!("a report covers at most {MAX_DAYS} days"),
            ));
        }
        Ok(Period { from_ms, to_ms, tz })
    }

    /// Today in `tz`: from its midnight to the next.
    pub fn today(tz: Tz, now_ms: i64) -> Period {
        let day = DateTime::<Utc>::from_timestamp_millis(now_ms)
            .unwrap_or_default()
            .with_timezone(&tz)
            .date_naive();
        Period {
            from_ms: midnight(tz, day),
            to_ms: midnight(tz, day.succ_opt().unwrap_or(day)),
            tz,
        }
    }

    /// The whole UTC days inside the period, `[first, end)` (empty when there are none),
    /// which the daily rollups answer; the rest is read from the rows themselves.
    pub fn whole_utc_days(&self) -> (i64, i64) {
        // Saturating: a bot's metrics take any instants from outside, i64's ends included.
        let first = match self.from_ms.rem_euclid(DAY_MS) {
            0 => self.from_ms,
            r => self.from_ms.saturating_add(DAY_MS - r),
        };
        let end = self.to_ms.saturating_sub(self.to_ms.rem_euclid(DAY_MS));
        if first >= end {
            (self.from_ms, self.from_ms)
        } else {
            (first, end)
        }
    }

    /// The parts of the period outside its whole UTC days.
    pub fn edges(&self) -> Vec<(i64, i64)> {
        let (first, end) = self.whole_utc_days();
        if first == end {
            return vec![(self.from_ms, self.to_ms)];
        }
        [(self.from_ms, first), (end, self.to_ms)]
            .into_iter()
            .filter(|(a, b)| a < b)
            .collect()
    }

    /// The local hour of day (0–23) and day of week (0 = Monday) of an instant.
    pub fn local_hour_and_weekday(&self, at_ms: i64) -> (usize, usize) {
        let local = DateTime::<Utc>::from_timestamp_millis(at_ms)
            .unwrap_or_default()
            .with_timezone(&self.tz);
        (
            local.hour() as usize,
            local.weekday().num_days_from_monday() as usize,
        )
    }
}

fn bad(field: &str, value: &str) -> FieldError {
    FieldError::new(
        field,
        format!("{value:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"),
    )
}

fn midnight(tz: Tz, day: NaiveDate) -> i64 {
    let at = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(at + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|d| d.timestamp_millis())
        .unwrap_or_default()
}

/// A date is its local midnight (`to`: the midnight after it, so the day is included).
fn instant(tz: Tz, s: &str, end: bool) -> Option<i64> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end { d.succ_opt()? } else { d };
        return Some(midnight(tz, d));
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// A member's figures over a period (docs/analytics.md defines each).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct AgentFigures {
    /// The member (`null` in the team row, which adds everyone up).
    pub user_id: Option<i64>,
    pub name: Option<String>,
    /// Cycles resolved while assigned to the member.
    pub conversations_handled: i64,
    pub first_responses: i64,
    pub first_response_median_s: Option<f64>,
    pub first_response_p90_s: Option<f64>,
    /// The same, counting only the session's business hours.
    pub first_response_business_median_s: Option<f64>,
    pub first_response_business_p90_s: Option<f64>,
    /// Every answer to a customer's wait, the first included.
    pub responses: i64,
    pub response_median_s: Option<f64>,
    pub response_p90_s: Option<f64>,
    pub resolution_median_s: Option<f64>,
    pub resolution_p90_s: Option<f64>,
    pub resolution_business_median_s: Option<f64>,
    pub messages_sent: i64,
    /// Customers' ratings (docs/csat.md) of conversations the member had when resolved,
    /// answered in the period: how many, their mean (1–5) and the share of 4s and 5s (%).
    pub csat_responses: i64,
    pub csat_average: Option<f64>,
    pub csat_percent: Option<f64>,
}

impl AgentFigures {
    /// Adds the member's ratings: `(responses, average, percent of 4s and 5s)`.
    pub fn with_csat(mut self, csat: Option<(i64, f64, f64)>) -> AgentFigures {
        if let Some((n, average, percent)) = csat.filter(|c| c.0 > 0) {
            self.csat_responses = n;
            self.csat_average = Some(average);
            self.csat_percent = Some(percent);
        }
        self
    }

    /// Fills the figures from a member's tallies.
    pub fn from_tallies(
        user_id: Option<i64>,
        tallies: &BTreeMap<Metric, Tally>,
        messages_sent: i64,
    ) -> AgentFigures {
        let t = |m| tallies.get(&m).cloned().unwrap_or_default();
        let q = |m, p| t(m).hist.quantile_s(p);
        AgentFigures {
            user_id,
            name: None,
            conversations_handled: t(Metric::Resolution).n,
            first_responses: t(Metric::FirstResponse).n,
            first_response_median_s: q(Metric::FirstResponse, 0.5),
            first_response_p90_s: q(Metric::FirstResponse, 0.9),
            first_response_business_median_s: q(Metric::FirstResponseBusiness, 0.5),
            first_response_business_p90_s: q(Metric::FirstResponseBusiness, 0.9),
            responses: t(Metric::Response).n,
            response_median_s: q(Metric::Response, 0.5),
            response_p90_s: q(Metric::Response, 0.9),
            resolution_median_s: q(Metric::Resolution, 0.5),
            resolution_p90_s: q(Metric::Resolution, 0.9),
            resolution_business_median_s: q(Metric::ResolutionBusiness, 0.5),
            messages_sent,
            csat_responses: 0,
            csat_average: None,
            csat_percent: None,
        }
    }
}

/// A session's traffic over a period, with its shape by local hour and weekday.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct SessionFigures {
    pub session: String,
    pub messages_in: i64,
    pub messages_out: i64,
    /// Customers' requests that began (cycles opened).
    pub conversations_started: i64,
    /// Index 0 is 00:00–01:00 local time.
    pub by_hour_of_day: Vec<InOut>,
    /// Index 0 is Monday.
    pub by_day_of_week: Vec<InOut>,
    /// Resolved cycles the bot took part in, and those it resolved alone.
    pub bot_conversations: i64,
    pub bot_auto_resolved: i64,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema, PartialEq, Eq, Default)]
pub struct InOut {
    #[serde(rename = "in")]
    pub messages_in: i64,
    #[serde(rename = "out")]
    pub messages_out: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn whole_days_hold_at_the_ends_of_time() {
        let p = Period {
            from_ms: i64::MIN,
            to_ms: i64::MAX,
            tz: chrono_tz::UTC,
        };
        let (first, end) = p.whole_utc_days();
        assert!(i64::MIN < first && first < end);
        assert_eq!(end.rem_euclid(DAY_MS), 0);
        assert_eq!(p.edges(), vec![(i64::MIN, first), (end, i64::MAX)]);
    }

    #[test]
    fn dates_are_local_days_and_to_is_included() {
        let now = ms("2026-03-10T12:00:00Z");
        let p = Period::parse(
            Some("2026-03-01"),
            Some("2026-03-02"),
            Some("Asia/Kolkata"),
            now,
        )
        .unwrap();
        assert_eq!(p.from_ms, ms("2026-02-28T18:30:00Z"));
        assert_eq!(p.to_ms, ms("2026-03-02T18:30:00Z"));
        assert_eq!(
            p.whole_utc_days(),
            (ms("2026-03-01T00:00:00Z"), ms("2026-03-02T00:00:00Z"))
        );
        assert_eq!(
            p.edges(),
            vec![
                (ms("2026-02-28T18:30:00Z"), ms("2026-03-01T00:00:00Z")),
                (ms("2026-03-02T00:00:00Z"), ms("2026-03-02T18:30:00Z"))
            ]
        );
        let utc = Period::parse(Some("2026-03-01"), Some("2026-03-01"), None, now).unwrap();
        assert!(utc.edges().is_empty());
        let short = Period::parse(
            Some("2026-03-01T10:00:00Z"),
            Some("2026-03-01T11:00:00Z"),
            None,
            now,
        )
        .unwrap();
        assert_eq!(short.edges(), vec![(short.from_ms, short.to_ms)]);
        let default = Period::parse(None, None, Some("UTC"), now).unwrap();
        assert_eq!(
            (default.from_ms, default.to_ms),
            (ms("2026-03-04T00:00:00Z"), ms("2026-03-11T00:00:00Z"))
        );
    }

    #[test]
    fn bad_periods_name_their_field() {
        let now = ms("2026-03-10T12:00:00Z");
        assert_eq!(
            Period::parse(None, None, Some("Mars/Base"), now)
                .unwrap_err()
                .field,
            "tz"
        );
        assert_eq!(
            Period::parse(Some("yesterday"), None, None, now)
                .unwrap_err()
                .field,
            "from"
        );
        assert_eq!(
            Period::parse(Some("2026-03-05"), Some("2026-03-01"), None, now)
                .unwrap_err()
                .field,
            "from"
        );
        assert_eq!(
            Period::parse(Some("2020-01-01"), Some("2026-03-01"), None, now)
                .unwrap_err()
                .field,
            "to"
        );
    }
}
