//! Local dates: which day it is for the athlete, and the calendar ranges questions
//! talk about ("last week", "this year", "the last 30 days").
//!
//! Activities are filed under the athlete's local date (`start_date_local`), not UTC,
//! so a run at 23:30 in New York counts on that evening's date even though it is the
//! next day in UTC. Weeks start on Monday. Nothing here reads a clock: callers pass
//! `now`, so tests can fix it.

use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A time zone label that names no IANA zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    /// Nothing but whitespace (or only the "(GMT+01:00)" prefix) was given.
    #[error("time zone label is empty")]
    Empty,
    /// The name is not an IANA time zone; holds at most 64 characters of it.
    #[error("unknown time zone {0:?}")]
    Unknown(String),
}

/// Parses Strava's label "(GMT+01:00) Europe/Paris" or a bare IANA name "Europe/Paris".
///
/// The "(GMT…)" prefix is ignored: it is only the standard offset, while the named
/// zone also knows daylight saving time.
pub fn parse_strava_timezone(label: &str) -> Result<Tz, TimeZoneError> {
    let mut name = label.trim();
    if let Some(rest) = name.strip_prefix('(') {
        name = match rest.split_once(')') {
            Some((_, zone)) => zone.trim(),
            None => return Err(unknown(label)),
        };
    }
    if name.is_empty() {
        return Err(TimeZoneError::Empty);
    }
    name.parse::<Tz>().map_err(|_| unknown(name))
}

/// The athlete label Strava would show for `tz`: "(GMT+01:00) Europe/Paris", with the
/// standard (not daylight saving) offset in force at `at`. [`parse_strava_timezone`]
/// reads it back to the same zone.
pub fn strava_label(tz: Tz, at: DateTime<Utc>) -> String {
    use chrono_tz::OffsetComponents;
    let seconds = tz
        .offset_from_utc_datetime(&at.naive_utc())
        .base_utc_offset()
        .num_seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!(
        "(GMT{sign}{:02}:{:02}) {}",
        minutes / 60,
        minutes % 60,
        tz.name()
    )
}

fn unknown(name: &str) -> TimeZoneError {
    // Cap what we echo: the label may come from an untrusted request.
    TimeZoneError::Unknown(name.trim().chars().take(64).collect())
}

/// The athlete's zone: the one they set, else their most recent activity's, else UTC.
/// Labels that do not parse are skipped, not fatal.
pub fn pick_zone(athlete_setting: Option<&str>, latest_activity: Option<&str>) -> Tz {
    [athlete_setting, latest_activity]
        .into_iter()
        .flatten()
        .find_map(|label| parse_strava_timezone(label).ok())
        .unwrap_or(Tz::UTC)
}

/// The athlete's wall-clock time at `now`.
pub fn local_now(now: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    now.with_timezone(&tz).naive_local()
}

/// Today's date in `tz` at `now`.
pub fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    local_now(now, tz).date()
}

/// The UTC instant of a wall-clock time in `tz`.
///
/// When clocks go back the time happens twice and the earlier instant is taken. When
/// they go forward the time never happens; it is read with the offset in force before
/// the jump, as a watch that was not yet changed would show it (02:30 becomes 03:30).
pub fn to_utc(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // A day earlier is outside any gap (even Samoa's skipped day in 2011).
    local
        .checked_sub_signed(TimeDelta::days(1))
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .and_then(|before| local.checked_sub_offset(before.offset().fix()))
        .map(|t| Utc.from_utc_datetime(&t))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// `d` plus `n` days, stopping at the last representable date instead of panicking.
fn add_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

/// `d` minus `n` days, stopping at the first representable date.
fn sub_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap_or(NaiveDate::MIN)
}

/// A span of local dates, half-open: `start` is in it, `end` is the first day after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateRange {
    /// First day in the range.
    pub start: NaiveDate,
    /// First day after the range.
    pub end: NaiveDate,
}

impl DateRange {
    /// `[start, end)`; `None` if `end` is before `start`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Option<Self> {
        (start <= end).then_some(Self { start, end })
    }

    /// The single day `d`.
    pub fn day(d: NaiveDate) -> Self {
        Self {
            start: d,
            end: add_days(d, 1),
        }
    }

    /// The Monday-to-Sunday week containing `d`.
    pub fn week_of(d: NaiveDate) -> Self {
        let start = sub_days(d, u64::from(d.weekday().num_days_from_monday()));
        Self {
            start,
            end: add_days(start, 7),
        }
    }

    /// The calendar month containing `d`.
    pub fn month_of(d: NaiveDate) -> Self {
        let start = sub_days(d, u64::from(d.day0()));
        Self {
            start,
            end: start
                .checked_add_months(Months::new(1))
                .unwrap_or(NaiveDate::MAX),
        }
    }

    /// The calendar year containing `d`.
    pub fn year_of(d: NaiveDate) -> Self {
        let start = sub_days(d, u64::from(d.ordinal0()));
        Self {
            start,
            end: start
                .checked_add_months(Months::new(12))
                .unwrap_or(NaiveDate::MAX),
        }
    }

    /// A month by number (1 = January); `None` for an invalid month or year.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(Self::month_of)
    }

    /// A calendar year; `None` outside chrono's range.
    pub fn year(year: i32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, 1, 1).map(Self::year_of)
    }

    /// This Monday-to-Sunday week.
    pub fn this_week(today: NaiveDate) -> Self {
        Self::week_of(today)
    }

    /// The previous Monday-to-Sunday week.
    pub fn last_week(today: NaiveDate) -> Self {
        Self::week_of(sub_days(today, 7))
    }

    /// The week before last week.
    pub fn week_before_last(today: NaiveDate) -> Self {
        Self::week_of(sub_days(today, 14))
    }

    /// The whole calendar month of `today` (later days simply hold no activities yet).
    pub fn this_month(today: NaiveDate) -> Self {
        Self::month_of(today)
    }

    /// The previous calendar month.
    pub fn last_month(today: NaiveDate) -> Self {
        Self::month_of(sub_days(Self::month_of(today).start, 1))
    }

    /// The whole calendar year of `today`.
    pub fn this_year(today: NaiveDate) -> Self {
        Self::year_of(today)
    }

    /// The previous calendar year.
    pub fn last_year(today: NaiveDate) -> Self {
        Self::year_of(sub_days(Self::year_of(today).start, 1))
    }

    /// January 1st up to and including today.
    pub fn year_to_date(today: NaiveDate) -> Self {
        Self {
            start: Self::year_of(today).start,
            end: add_days(today, 1),
        }
    }

    /// The `n` days ending today, today included: `last_n_days(t, 7)` is the six days
    /// before `t` and `t` itself. `n = 0` is an empty range.
    pub fn last_n_days(today: NaiveDate, n: u32) -> Self {
        let end = add_days(today, 1);
        Self {
            start: sub_days(end, u64::from(n)),
            end,
        }
    }

    /// Whether the local date `d` is in the range.
    pub fn contains_date(&self, d: NaiveDate) -> bool {
        self.start <= d && d < self.end
    }

    /// Whether a local wall-clock time (e.g. `start_date_local`) is in the range.
    pub fn contains(&self, local: NaiveDateTime) -> bool {
        self.contains_date(local.date())
    }

    /// Midnight at the start and midnight at the end, to compare with
    /// `start_date_local` as `start <= t AND t < end`.
    pub fn bounds_local(&self) -> (NaiveDateTime, NaiveDateTime) {
        (
            self.start.and_time(NaiveTime::MIN),
            self.end.and_time(NaiveTime::MIN),
        )
    }

    /// How many days the range holds.
    pub fn num_days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// Whether the range holds no day.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The last day in the range (inclusive), for showing to a person.
    pub fn last_day(&self) -> Option<NaiveDate> {
        (!self.is_empty()).then(|| sub_days(self.end, 1))
    }
}

impl fmt::Display for DateRange {
    /// Inclusive, as people say it: "2024-03-01 to 2024-03-31".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last_day() {
            None => f.write_str("no days"),
            Some(last) if last == self.start => write!(f, "{}", self.start),
            Some(last) => write!(f, "{} to {}", self.start, last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Timelike, Weekday};
    use proptest::prelude::*;

    #[test]
    fn strava_labels_carry_the_standard_offset_and_read_back() {
        let summer = Utc.with_ymd_and_hms(2024, 7, 1, 12, 0, 0).unwrap();
        for (tz, label) in [
            (chrono_tz::Europe::Paris, "(GMT+01:00) Europe/Paris"),
            (chrono_tz::America::St_Johns, "(GMT-03:30) America/St_Johns"),
            (chrono_tz::UTC, "(GMT+00:00) UTC"),
        ] {
            assert_eq!(strava_label(tz, summer), label);
            assert_eq!(parse_strava_timezone(label), Ok(tz));
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn range(a: NaiveDate, b: NaiveDate) -> DateRange {
        DateRange::new(a, b).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn parses_time_zone_labels() {
        let paris = chrono_tz::Europe::Paris;
        assert_eq!(parse_strava_timezone("(GMT+01:00) Europe/Paris"), Ok(paris));
        assert_eq!(parse_strava_timezone("  Europe/Paris "), Ok(paris));
        assert_eq!(
            parse_strava_timezone("(GMT-08:00) America/Los_Angeles"),
            Ok(chrono_tz::America::Los_Angeles)
        );
        assert_eq!(parse_strava_timezone("UTC"), Ok(Tz::UTC));
        assert_eq!(parse_strava_timezone(""), Err(TimeZoneError::Empty));
        assert_eq!(
            parse_strava_timezone("(GMT+01:00)"),
            Err(TimeZoneError::Empty)
        );
        assert!(matches!(
            parse_strava_timezone("(GMT+01:00 Europe/Paris"),
            Err(TimeZoneError::Unknown(_))
        ));
        assert_eq!(
            parse_strava_timezone("Mars/Olympus_Mons"),
            Err(TimeZoneError::Unknown("Mars/Olympus_Mons".into()))
        );
        match parse_strava_timezone(&"x".repeat(10_000)) {
            Err(TimeZoneError::Unknown(s)) => assert_eq!(s.len(), 64),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn picks_zone_in_order() {
        let paris = "(GMT+01:00) Europe/Paris";
        let tokyo = "Asia/Tokyo";
        assert_eq!(
            pick_zone(Some(paris), Some(tokyo)),
            chrono_tz::Europe::Paris
        );
        assert_eq!(pick_zone(None, Some(tokyo)), chrono_tz::Asia::Tokyo);
        assert_eq!(
            pick_zone(Some("garbage"), Some(tokyo)),
            chrono_tz::Asia::Tokyo
        );
        assert_eq!(pick_zone(Some("garbage"), None), Tz::UTC);
        assert_eq!(pick_zone(None, None), Tz::UTC);
    }

    #[test]
    fn today_is_local() {
        let ny = chrono_tz::America::New_York;
        let paris = chrono_tz::Europe::Paris;
        let now = utc("2024-03-01T02:00:00Z");
        assert_eq!(today(now, ny), date(2024, 2, 29));
        assert_eq!(today(now, paris), date(2024, 3, 1));
        assert_eq!(today(now, Tz::UTC), date(2024, 3, 1));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2024-06-10 is a Monday, 2024-06-16 a Sunday.
        let monday = date(2024, 6, 10);
        let sunday = date(2024, 6, 16);
        assert_eq!(monday.weekday(), Weekday::Mon);
        let week = range(monday, date(2024, 6, 17));
        assert_eq!(DateRange::this_week(monday), week);
        assert_eq!(DateRange::this_week(sunday), week);
        assert_eq!(
            DateRange::last_week(monday),
            range(date(2024, 6, 3), monday)
        );
        assert_eq!(
            DateRange::last_week(sunday),
            range(date(2024, 6, 3), monday)
        );
        assert_eq!(
            DateRange::week_before_last(sunday),
            range(date(2024, 5, 27), date(2024, 6, 3))
        );
        // A week spanning New Year.
        assert_eq!(
            DateRange::week_of(date(2025, 1, 1)),
            range(date(2024, 12, 30), date(2025, 1, 6))
        );
    }

    #[test]
    fn month_edges() {
        assert_eq!(
            DateRange::last_month(date(2024, 3, 31)),
            range(date(2024, 2, 1), date(2024, 3, 1))
        );
        assert_eq!(
            DateRange::this_month(date(2023, 1, 31)),
            range(date(2023, 1, 1), date(2023, 2, 1))
        );
        assert_eq!(
            DateRange::last_month(date(2024, 1, 15)),
            range(date(2023, 12, 1), date(2024, 1, 1))
        );
        assert_eq!(
            DateRange::month_of(date(2023, 12, 31)),
            range(date(2023, 12, 1), date(2024, 1, 1))
        );
        assert_eq!(DateRange::month(2024, 2).unwrap().num_days(), 29);
        assert_eq!(DateRange::month(2023, 2).unwrap().num_days(), 28);
        assert_eq!(DateRange::month(1900, 2).unwrap().num_days(), 28);
        assert_eq!(DateRange::month(2000, 2).unwrap().num_days(), 29);
        assert_eq!(DateRange::month(2024, 13), None);
        assert_eq!(DateRange::month(2024, 0), None);
    }

    #[test]
    fn years() {
        let leap_day = date(2024, 2, 29);
        assert_eq!(DateRange::this_year(leap_day).num_days(), 366);
        assert_eq!(
            DateRange::last_year(leap_day),
            range(date(2023, 1, 1), date(2024, 1, 1))
        );
        assert_eq!(
            DateRange::year_to_date(leap_day),
            range(date(2024, 1, 1), date(2024, 3, 1))
        );
        assert_eq!(
            DateRange::year_to_date(date(2024, 1, 1)),
            DateRange::day(date(2024, 1, 1))
        );
        assert_eq!(DateRange::year(2023).unwrap().num_days(), 365);
        assert_eq!(DateRange::year(i32::MAX), None);
    }

    #[test]
    fn last_n_days_includes_today() {
        let t = date(2024, 3, 2);
        let r = DateRange::last_n_days(t, 7);
        assert_eq!(r, range(date(2024, 2, 25), date(2024, 3, 3)));
        assert_eq!(r.num_days(), 7);
        assert!(r.contains_date(t));
        assert_eq!(DateRange::last_n_days(t, 1), DateRange::day(t));
        assert!(DateRange::last_n_days(t, 0).is_empty());
    }

    #[test]
    fn activity_counts_on_its_local_date() {
        // 23:30 in New York on Jan 31 is 04:30 UTC on Feb 1.
        let ny = chrono_tz::America::New_York;
        let local = date(2024, 1, 31).and_hms_opt(23, 30, 0).unwrap();
        let start = to_utc(local, ny);
        assert_eq!(start, utc("2024-02-01T04:30:00Z"));
        let january = DateRange::month(2024, 1).unwrap();
        assert!(january.contains(local));
        assert!(!january.contains_date(start.date_naive()));
        // 00:30 in Paris on Mar 1 is still Feb 29 in UTC.
        let paris = chrono_tz::Europe::Paris;
        let local = date(2024, 3, 1).and_hms_opt(0, 30, 0).unwrap();
        assert_eq!(to_utc(local, paris).date_naive(), date(2024, 2, 29));
        assert!(DateRange::month(2024, 3).unwrap().contains(local));
        let (lo, hi) = january.bounds_local();
        assert_eq!(lo, date(2024, 1, 1).and_hms_opt(0, 0, 0).unwrap());
        assert_eq!(hi, date(2024, 2, 1).and_hms_opt(0, 0, 0).unwrap());
    }

    #[test]
    fn dst_days() {
        let paris = chrono_tz::Europe::Paris;
        // Clocks go forward at 02:00 on 2024-03-31; 00:30 local is 23:30 UTC the day before.
        assert_eq!(today(utc("2024-03-30T23:30:00Z"), paris), date(2024, 3, 31));
        // 02:30 does not exist that morning: it is moved past the gap.
        let gap = date(2024, 3, 31).and_hms_opt(2, 30, 0).unwrap();
        let moved = to_utc(gap, paris);
        assert_eq!(moved, utc("2024-03-31T01:30:00Z"));
        assert_eq!(moved.with_timezone(&paris).hour(), 3);
        assert_eq!(moved.with_timezone(&paris).minute(), 30);
        // 02:30 happens twice on 2024-10-27; the earlier (summer time) is taken.
        let twice = date(2024, 10, 27).and_hms_opt(2, 30, 0).unwrap();
        assert_eq!(to_utc(twice, paris), utc("2024-10-27T00:30:00Z"));
        // The day range is still the local calendar day, 23 or 25 real hours long.
        let day = DateRange::day(date(2024, 3, 31));
        assert!(day.contains(gap));
        assert_eq!(day.num_days(), 1);
        // Late on the long autumn day is still that day locally.
        assert_eq!(
            today(utc("2024-10-27T22:59:00Z"), paris),
            date(2024, 10, 27)
        );
        assert_eq!(
            today(utc("2024-10-27T23:00:00Z"), paris),
            date(2024, 10, 28)
        );
    }

    #[test]
    fn display_is_inclusive() {
        assert_eq!(
            DateRange::month(2024, 2).unwrap().to_string(),
            "2024-02-01 to 2024-02-29"
        );
        assert_eq!(DateRange::day(date(2024, 2, 1)).to_string(), "2024-02-01");
        assert_eq!(
            DateRange::last_n_days(date(2024, 2, 1), 0).to_string(),
            "no days"
        );
        assert_eq!(DateRange::new(date(2024, 2, 2), date(2024, 2, 1)), None);
    }

    #[test]
    fn extreme_dates_do_not_panic() {
        let _ = DateRange::week_of(NaiveDate::MIN);
        let _ = DateRange::month_of(NaiveDate::MAX);
        let _ = DateRange::year_to_date(NaiveDate::MAX);
        let _ = DateRange::last_n_days(NaiveDate::MIN, u32::MAX);
        let _ = DateRange::last_year(NaiveDate::MIN);
    }

    proptest! {
        #[test]
        fn every_date_is_in_exactly_one_week(days in -1_000_000i64..1_000_000) {
            let d = date(2000, 1, 1) + TimeDelta::days(days);
            let week = DateRange::week_of(d);
            prop_assert!(week.contains_date(d));
            prop_assert_eq!(week.start.weekday(), Weekday::Mon);
            prop_assert_eq!(week.num_days(), 7);
            // Neighbouring weeks do not hold it.
            prop_assert!(!DateRange::week_of(week.start - TimeDelta::days(1)).contains_date(d));
            prop_assert!(!DateRange::week_of(week.end).contains_date(d));
            // Every day of the week maps to the same range.
            for i in 0..7 {
                prop_assert_eq!(DateRange::week_of(week.start + TimeDelta::days(i)), week);
            }
        }

        #[test]
        fn months_and_years_tile(days in -1_000_000i64..1_000_000) {
            let d = date(2000, 1, 1) + TimeDelta::days(days);
            let m = DateRange::month_of(d);
            prop_assert!(m.contains_date(d));
            prop_assert_eq!(m.start.day(), 1);
            prop_assert_eq!(m.end.day(), 1);
            prop_assert!((28..=31).contains(&m.num_days()));
            prop_assert_eq!(DateRange::month_of(m.end).start, m.end);
            let y = DateRange::year_of(d);
            prop_assert!(y.contains_date(d));
            prop_assert!((365..=366).contains(&y.num_days()));
            prop_assert_eq!(DateRange::last_month(m.end), m);
        }

        #[test]
        fn local_round_trip(secs in 0i64..4_000_000_000) {
            let now = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            for tz in [chrono_tz::Europe::Paris, chrono_tz::America::New_York, chrono_tz::Asia::Tokyo] {
                prop_assert_eq!(to_utc(local_now(now, tz), tz) <= now, true);
                let back = to_utc(local_now(now, tz), tz).with_timezone(&tz).naive_local();
                prop_assert_eq!(back, local_now(now, tz));
            }
        }
    }
}
