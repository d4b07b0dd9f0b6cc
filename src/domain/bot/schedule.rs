//! Business hours: open when the weekly hours (in the bot's time zone) contain the local
//! time and the local date is not a holiday. The weekly part is [`WeeklyHours`]: days
//! `mon` … `sun`, intervals `["HH:MM", "HH:MM"]`, "24:00" ends a day, an interval does not
//! cross midnight (split it over two days). Local time is taken from the time zone's rules
//! at that instant, so daylight-saving changes need nothing special: on the night clocks
//! go forward the skipped local times never occur, and when they go back the repeated hour
//! is open twice if the hours cover it. Holidays are local dates, closed all day.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use super::BusinessHours;
use crate::domain::hours::{WeeklyHours, DAYS};
use crate::domain::FieldError;

impl BusinessHours {
    /// Checks every part; the error starts with the field's path under `field`.
    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        self.weekly_hours().validate(field)
    }

    fn weekly_hours(&self) -> WeeklyHours {
        WeeklyHours {
            time_zone: self.time_zone.clone(),
            weekly: self.weekly.clone(),
            holidays: self.holidays.clone(),
        }
    }
}

/// Business hours ready to answer "open at this instant?" without parsing anything.
#[derive(Debug, Clone)]
pub struct Schedule {
    hours: WeeklyHours,
    tz: Tz,
    /// Per day (Monday first), the intervals as shown to customers, in order.
    shown: [String; 7],
}

impl Schedule {
    /// Validates `def` (errors under `field`) and prepares it.
    pub fn compile(def: &BusinessHours, field: &str) -> Result<Schedule, FieldError> {
        def.validate(field)?;
        let tz = def
            .time_zone
            .parse::<Tz>()
            .map_err(|_| FieldError::new(format!("{field}.time_zone"), "unknown time zone"))?;
        let shown = DAYS.map(|day| {
            let mut spans: Vec<&[String; 2]> = def.weekly.get(day).into_iter().flatten().collect();
            // "HH:MM" has a fixed width, so text order is time order.
            spans.sort();
            let spans: Vec<String> = spans.iter().map(|[a, b]| format!("{a}–{b}")).collect();
            if spans.is_empty() {
                "closed".to_owned()
            } else {
                spans.join(", ")
            }
        });
        Ok(Schedule {
            hours: def.weekly_hours(),
            tz,
            shown,
        })
    }

    /// The local date at `at` is a holiday.
    pub fn is_holiday(&self, at: DateTime<Utc>) -> bool {
        self.hours
            .is_holiday(at.with_timezone(&self.tz).date_naive())
    }

    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.hours.contains(at)
    }

    /// The local day's hours as customers see them: `09:00–12:00, 13:00–17:00`, or
    /// `closed` on a holiday or a day without hours.
    pub fn hours_today(&self, at: DateTime<Utc>) -> String {
        if self.is_holiday(at) {
            return "closed".to_owned();
        }
        let day = at.with_timezone(&self.tz).weekday().num_days_from_monday() as usize;
        self.shown[day].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn schedule(tz: &str, weekly: serde_json::Value, holidays: &[&str]) -> Schedule {
        let def: BusinessHours = serde_json::from_value(
            json!({"time_zone": tz, "weekly": weekly, "holidays": holidays}),
        )
        .unwrap();
        Schedule::compile(&def, "business_hours").unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn weekdays(from: &str, to: &str) -> serde_json::Value {
        let span = json!([[from, to]]);
        json!({"mon": span, "tue": span, "wed": span, "thu": span, "fri": span})
    }

    #[test]
    fn london_across_its_2026_clock_changes() {
        let s = schedule("Europe/London", weekdays("09:00", "17:00"), &[]);
        // Friday 27 March: GMT, so 09:00 local is 09:00 UTC.
        assert!(!s.is_open(utc(2026, 3, 27, 8, 30)));
        assert!(s.is_open(utc(2026, 3, 27, 9, 0)));
        assert!(s.is_open(utc(2026, 3, 27, 16, 30)));
        // Monday 30 March, after clocks went forward on the 29th: BST, 09:00 is 08:00 UTC.
        assert!(s.is_open(utc(2026, 3, 30, 8, 30)));
        assert!(!s.is_open(utc(2026, 3, 30, 16, 30)));
        // Back to GMT after 25 October.
        assert!(s.is_open(utc(2026, 10, 23, 8, 30)));
        assert!(!s.is_open(utc(2026, 10, 26, 8, 30)));
        assert!(s.is_open(utc(2026, 10, 26, 16, 30)));
    }

    #[test]
    fn london_on_the_night_clocks_go_forward() {
        // 01:00–02:00 local does not exist on Sunday 29 March 2026.
        let s = schedule("Europe/London", json!({"sun": [["01:30", "02:30"]]}), &[]);
        assert!(!s.is_open(utc(2026, 3, 29, 0, 59))); // 00:59 GMT
        assert!(s.is_open(utc(2026, 3, 29, 1, 0))); // 02:00 BST
        assert!(!s.is_open(utc(2026, 3, 29, 1, 30))); // 02:30 BST
    }

    #[test]
    fn new_york_across_its_2026_clock_changes() {
        let s = schedule("America/New_York", weekdays("09:00", "17:00"), &[]);
        // Friday 6 March: EST (UTC-5). Monday 9 March: EDT (UTC-4).
        assert!(!s.is_open(utc(2026, 3, 6, 13, 30)));
        assert!(s.is_open(utc(2026, 3, 6, 14, 0)));
        assert!(s.is_open(utc(2026, 3, 9, 13, 0)));
        assert!(!s.is_open(utc(2026, 3, 9, 12, 59)));
        assert!(!s.is_open(utc(2026, 3, 9, 21, 0))); // 17:00 EDT
                                                     // Friday 30 October: EDT. Monday 2 November: EST again.
        assert!(s.is_open(utc(2026, 10, 30, 13, 30)));
        assert!(!s.is_open(utc(2026, 11, 2, 13, 30)));
        assert!(s.is_open(utc(2026, 11, 2, 21, 30))); // 16:30 EST
    }

    #[test]
    fn new_york_repeated_hour_is_open_twice() {
        // 01:00–02:00 happens twice on Sunday 1 November 2026 (EDT, then EST).
        let s = schedule(
            "America/New_York",
            json!({"sun": [["01:00", "02:00"]]}),
            &[],
        );
        assert!(s.is_open(utc(2026, 11, 1, 5, 30))); // 01:30 EDT
        assert!(s.is_open(utc(2026, 11, 1, 6, 30))); // 01:30 EST
        assert!(!s.is_open(utc(2026, 11, 1, 7, 0))); // 02:00 EST
    }

    #[test]
    fn auckland_a_day_ahead_and_across_its_april_change() {
        let s = schedule(
            "Pacific/Auckland",
            json!({"mon": [["09:00", "17:00"]]}),
            &[],
        );
        // Sunday 29 March 20:30 UTC is Monday 09:30 NZDT (UTC+13).
        assert!(s.is_open(utc(2026, 3, 29, 20, 30)));
        assert!(!s.is_open(utc(2026, 3, 30, 20, 30))); // Tuesday there
                                                       // After daylight saving ends on 5 April: Sunday 20:30 UTC is Monday 08:30 NZST.
        assert!(!s.is_open(utc(2026, 4, 5, 20, 30)));
        assert!(s.is_open(utc(2026, 4, 5, 21, 0)));
        // After it starts again on 27 September: NZDT once more.
        assert!(s.is_open(utc(2026, 9, 27, 20, 30)));
        assert_eq!(s.hours_today(utc(2026, 9, 27, 20, 30)), "09:00–17:00");
        assert_eq!(s.hours_today(utc(2026, 9, 27, 10, 0)), "closed"); // Sunday there
    }

    #[test]
    fn a_holiday_is_closed_all_local_day() {
        let all = json!([["00:00", "24:00"]]);
        let s = schedule(
            "Pacific/Auckland",
            json!({"thu": all, "fri": all, "sat": all}),
            &["2026-12-25"],
        );
        // 24 December 20:00 UTC is Christmas morning in Auckland.
        assert!(s.is_open(utc(2026, 12, 24, 10, 0)));
        assert!(!s.is_open(utc(2026, 12, 24, 20, 0)));
        assert_eq!(s.hours_today(utc(2026, 12, 24, 20, 0)), "closed");
        assert!(s.is_open(utc(2026, 12, 25, 11, 0))); // Saturday 26th there
        assert_eq!(s.hours_today(utc(2026, 12, 25, 11, 0)), "00:00–24:00");

        let london = schedule("Europe/London", weekdays("09:00", "17:00"), &["2026-12-25"]);
        assert!(!london.is_open(utc(2026, 12, 25, 12, 0)));
        assert!(london.is_open(utc(2026, 12, 18, 12, 0)));
    }

    #[test]
    fn validation_names_the_field() {
        let def = |holidays: serde_json::Value, tz: &str| -> BusinessHours {
            serde_json::from_value(json!({
                "time_zone": tz, "weekly": {"mon": [["09:00", "17:00"]]}, "holidays": holidays
            }))
            .unwrap()
        };
        assert_eq!(
            def(json!(["2026-12-25"]), "Europe/London").validate("business_hours"),
            Ok(())
        );
        for bad in [
            "2026-13-01",
            "2026-02-30",
            "2026-1-05",
            "25/12/2026",
            "",
            "2026-12-25x",
        ] {
            assert_eq!(
                def(json!(["2026-12-24", bad]), "UTC").validate("business_hours"),
                Err(FieldError::new(
                    "business_hours.holidays[1]",
                    "not a date YYYY-MM-DD"
                )),
                "{bad}"
            );
        }
        let e = def(json!([]), "Moon/Base")
            .validate("business_hours")
            .unwrap_err();
        assert_eq!(e.field, "business_hours.time_zone", "{e}");
        let no_holidays: BusinessHours =
            serde_json::from_value(json!({"time_zone": "UTC", "weekly": {}})).unwrap();
        assert!(no_holidays.holidays.is_empty());
    }
}
