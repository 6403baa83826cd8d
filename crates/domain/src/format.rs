//! Turning SI values into text for a person, in the athlete's units.
//!
//! Inputs are what Strava stores: metres, seconds, metres per second. Every function
//! here is total: zero, negative, infinite or NaN input gives [`MISSING`] (or `None`)
//! instead of a panic or a nonsense string like "inf:NaN /km".
//!
//! Choices:
//! - [`duration`] writes times the way Strava and athletes do: "22:38" under an hour,
//!   "1:02:03" from an hour, never "0:22:38". Paces use the same style ("5:03 /km").
//! - Dates read "6 Sep 2026" ([`day`]), or "6 Sep" where the year is plain from
//!   around them ([`day_month`]), always in the athlete's local time.
//! - Distances get two decimals ("10.02 km"), speeds one ("28.4 km/h"), elevations and
//!   swim distances none ("1,234 m", "1,500 m"); thousands are separated by commas.
//! - A pace slower than [`MAX_PACE_SECONDS`] per unit is treated as no pace: it comes
//!   from a paused or broken recording, not from moving.

use crate::Units;
use crate::sport::SportFamily;
use chrono::{NaiveDate, NaiveDateTime};

/// Metres in a kilometre.
pub const METRES_PER_KILOMETRE: f64 = 1000.0;
/// Metres in an international mile.
pub const METRES_PER_MILE: f64 = 1609.344;
/// Metres in a yard.
pub const METRES_PER_YARD: f64 = 0.9144;
/// Metres in a foot.
pub const METRES_PER_FOOT: f64 = 0.3048;
/// Multiply metres per second by this for km/h.
pub const MPS_TO_KMH: f64 = 3.6;
/// Multiply metres per second by this for mph.
pub const MPS_TO_MPH: f64 = 3600.0 / METRES_PER_MILE;
/// What is shown when a value cannot be shown.
pub const MISSING: &str = "—";
/// Paces slower than this many seconds per unit (one day) are not shown.
pub const MAX_PACE_SECONDS: f64 = 86_400.0;

/// Metres to kilometres.
pub fn metres_to_km(m: f64) -> f64 {
    m / METRES_PER_KILOMETRE
}

/// Metres to miles.
pub fn metres_to_miles(m: f64) -> f64 {
    m / METRES_PER_MILE
}

/// Metres to feet.
pub fn metres_to_feet(m: f64) -> f64 {
    m / METRES_PER_FOOT
}

/// Metres to yards.
pub fn metres_to_yards(m: f64) -> f64 {
    m / METRES_PER_YARD
}

/// Metres per second to km/h.
pub fn mps_to_kmh(mps: f64) -> f64 {
    mps * MPS_TO_KMH
}

/// Metres per second to mph.
pub fn mps_to_mph(mps: f64) -> f64 {
    mps * MPS_TO_MPH
}

/// An integer with comma thousands separators: 1234567 -> "1,234,567".
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    out.push_str(&group_digits(&digits));
    out
}

fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number rounded to `decimals` places with thousands separators:
/// (12345.678, 2) -> "12,345.68". Non-finite values give [`MISSING`].
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return MISSING.to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    // Values that round to zero lose their sign: "-0.00" reads like a bug.
    let negative = value < 0.0 && text.bytes().any(|b| (b'1'..=b'9').contains(&b));
    let mut out = String::with_capacity(text.len() + 8);
    if negative {
        out.push('-');
    }
    out.push_str(&group_digits(int));
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A distance in km or miles with two decimals: "10.02 km", "6.23 mi".
pub fn distance(metres: f64, units: Units) -> String {
    if !metres.is_finite() || metres < 0.0 {
        return MISSING.to_string();
    }
    format!(
        "{} {}",
        number(metres / units.metres_per_distance_unit(), 2),
        units.distance_label()
    )
}

/// A short distance in whole metres or yards, as swims are given: "1,500 m", "1,640 yd".
pub fn swim_distance(metres: f64, units: Units) -> String {
    if !metres.is_finite() || metres < 0.0 {
        return MISSING.to_string();
    }
    format!(
        "{} {}",
        number(metres / units.metres_per_swim_unit(), 0),
        units.swim_label()
    )
}

/// A distance as the sport is usually told: swims in m/yd, everything else in km/mi.
pub fn distance_for(family: SportFamily, metres: f64, units: Units) -> String {
    match family {
        SportFamily::Swim => swim_distance(metres, units),
        _ => distance(metres, units),
    }
}

/// Swim totals from this many metres on are told in km or miles: "12.4 km" reads
/// better than "12,400 m".
const SWIM_TOTAL_IN_DISTANCE_UNITS: f64 = 10_000.0;

/// A distance summed over activities, as a sentence gives it: one decimal in km or
/// miles ("1,234.6 km"; the second decimal of a total is noise), swims in metres or
/// yards below 10 km and like the others from there.
pub fn total_distance_for(family: SportFamily, metres: f64, units: Units) -> String {
    if !metres.is_finite() || metres < 0.0 {
        return MISSING.to_string();
    }
    if family == SportFamily::Swim && metres < SWIM_TOTAL_IN_DISTANCE_UNITS {
        return swim_distance(metres, units);
    }
    format!(
        "{} {}",
        number(metres / units.metres_per_distance_unit(), 1),
        units.distance_label()
    )
}

/// An elevation in whole metres or feet: "1,234 m", "4,049 ft". Negative is allowed
/// (some places lie below sea level).
pub fn elevation(metres: f64, units: Units) -> String {
    if !metres.is_finite() {
        return MISSING.to_string();
    }
    format!(
        "{} {}",
        number(metres / units.metres_per_elevation_unit(), 0),
        units.elevation_label()
    )
}

/// A duration as athletes write it: `m:ss` under an hour and `h:mm:ss` from an hour:
/// 1358 -> "22:38", 3723 -> "1:02:03". Hours are not folded into days, so weekly or
/// yearly totals stay comparable. Negative durations give [`MISSING`].
pub fn duration(seconds: i64) -> String {
    if seconds < 0 {
        return MISSING.to_string();
    }
    let (h, m, s) = split_hms(seconds);
    if h == 0 {
        format!("{m}:{s:02}")
    } else {
        format!("{h}:{m:02}:{s:02}")
    }
}

/// Like [`duration`] for fractional seconds (rounded to the nearest second).
pub fn duration_f64(seconds: f64) -> String {
    match whole_seconds(seconds) {
        Some(s) => duration(s),
        None => MISSING.to_string(),
    }
}

/// A calendar day as Strava writes it: "6 Sep 2026".
pub fn day(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// A day without its year, for axes and lists where the year is plain: "6 Sep".
pub fn day_month(date: NaiveDate) -> String {
    date.format("%-d %b").to_string()
}

/// A local date-time as a day and a 24-hour clock: "6 Sep 2026 07:10".
pub fn day_time(at: NaiveDateTime) -> String {
    format!("{} {}", day(at.date()), at.format("%H:%M"))
}

/// A date key as machines write it, as a person reads it: "2026-09-07" -> "7 Sep
/// 2026", "2026-09-07T07:10:00" -> "7 Sep 2026 07:10", "2026-09" -> "Sep 2026".
/// Anything else (a year, a sport name) comes back unchanged.
pub fn date_key(text: &str) -> String {
    match DateKey::parse(text) {
        Some(DateKey::Day(d)) => day(d),
        Some(DateKey::DayTime(t)) => day_time(t),
        Some(DateKey::Month(d)) => d.format("%b %Y").to_string(),
        None => text.to_string(),
    }
}

/// [`date_key`] short enough for a chart axis: "7 Sep", "Sep 2026".
pub fn date_key_short(text: &str) -> String {
    match DateKey::parse(text) {
        Some(DateKey::Day(d)) => day_month(d),
        Some(DateKey::DayTime(t)) => day_month(t.date()),
        Some(DateKey::Month(d)) => d.format("%b %Y").to_string(),
        None => text.to_string(),
    }
}

enum DateKey {
    Day(NaiveDate),
    DayTime(NaiveDateTime),
    Month(NaiveDate),
}

impl DateKey {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Some(Self::Day(d));
        }
        for layout in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(text, layout) {
                return Some(Self::DayTime(t));
            }
        }
        // "2026-09": chrono needs a day to make a date.
        if text.len() == 7 && text.as_bytes()[4] == b'-' {
            return NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
                .ok()
                .map(Self::Month);
        }
        None
    }
}

fn split_hms(seconds: i64) -> (i64, i64, i64) {
    (seconds / 3600, seconds / 60 % 60, seconds % 60)
}

fn whole_seconds(seconds: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, so compare with < to stay in range.
    (seconds.is_finite() && seconds >= 0.0 && seconds.round() < i64::MAX as f64)
        .then(|| seconds.round() as i64)
}

/// Reads "h:mm:ss", "m:ss" or plain seconds back into seconds; minutes and seconds
/// after the first field must be below 60. `None` for anything else.
pub fn parse_duration(text: &str) -> Option<i64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    let mut total: i64 = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: i64 = part.parse().ok()?;
        if i > 0 && value >= 60 {
            return None;
        }
        total = total.checked_mul(60)?.checked_add(value)?;
    }
    Some(total)
}

/// The distance a pace is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaceUnit {
    /// Minutes per kilometre (runs, walks, metric).
    PerKilometre,
    /// Minutes per mile (runs, walks, imperial).
    PerMile,
    /// Minutes per 100 metres (swims, metric).
    Per100Metres,
    /// Minutes per 100 yards (swims, imperial).
    Per100Yards,
}

impl PaceUnit {
    /// The pace unit for a sport family, or `None` where speed is used instead.
    pub fn for_family(family: SportFamily, units: Units) -> Option<Self> {
        match (family, units) {
            (SportFamily::Foot, Units::Metric) => Some(Self::PerKilometre),
            (SportFamily::Foot, Units::Imperial) => Some(Self::PerMile),
            (SportFamily::Swim, Units::Metric) => Some(Self::Per100Metres),
            (SportFamily::Swim, Units::Imperial) => Some(Self::Per100Yards),
            (SportFamily::Cycle | SportFamily::Other, _) => None,
        }
    }

    /// How many metres the pace is measured over.
    pub fn metres(self) -> f64 {
        match self {
            Self::PerKilometre => METRES_PER_KILOMETRE,
            Self::PerMile => METRES_PER_MILE,
            Self::Per100Metres => 100.0,
            Self::Per100Yards => 100.0 * METRES_PER_YARD,
        }
    }

    /// The suffix shown after the time: "/km", "/mi", "/100m", "/100yd".
    pub fn label(self) -> &'static str {
        match self {
            Self::PerKilometre => "/km",
            Self::PerMile => "/mi",
            Self::Per100Metres => "/100m",
            Self::Per100Yards => "/100yd",
        }
    }
}

/// Seconds per pace unit at a speed, or `None` when there is no meaningful pace
/// (not moving, non-finite, or slower than [`MAX_PACE_SECONDS`]).
pub fn pace_seconds(speed_mps: f64, unit: PaceUnit) -> Option<f64> {
    if !speed_mps.is_finite() || speed_mps <= 0.0 {
        return None;
    }
    let secs = unit.metres() / speed_mps;
    (secs.is_finite() && secs <= MAX_PACE_SECONDS).then_some(secs)
}

/// A pace from a speed: "5:03 /km", "8:08 /mi", "1:52 /100m"; [`MISSING`] if none.
pub fn pace(speed_mps: f64, unit: PaceUnit) -> String {
    // Round to whole seconds before splitting, so 5:59.7 becomes 6:00, not 5:60.
    match pace_seconds(speed_mps, unit).and_then(whole_seconds) {
        Some(secs) => format!("{} {}", duration(secs), unit.label()),
        None => MISSING.to_string(),
    }
}

/// A pace from a distance and a time; [`MISSING`] when either is not positive.
pub fn pace_from(distance_m: f64, time_s: f64, unit: PaceUnit) -> String {
    if !(distance_m.is_finite() && time_s.is_finite() && distance_m > 0.0 && time_s > 0.0) {
        return MISSING.to_string();
    }
    pace(distance_m / time_s, unit)
}

/// A speed with one decimal: "28.4 km/h", "17.6 mph"; [`MISSING`] if negative or not finite.
pub fn speed(speed_mps: f64, units: Units) -> String {
    if !speed_mps.is_finite() || speed_mps < 0.0 {
        return MISSING.to_string();
    }
    format!(
        "{} {}",
        number(speed_mps * units.speed_factor(), 1),
        units.speed_label()
    )
}

/// Pace for foot sports and swims, speed for everything else.
pub fn speed_or_pace(family: SportFamily, speed_mps: f64, units: Units) -> String {
    match PaceUnit::for_family(family, units) {
        Some(unit) => pace(speed_mps, unit),
        None => speed(speed_mps, units),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(-1_234_567), "-1,234,567");
        assert_eq!(group_thousands(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(number(12_345.678, 2), "12,345.68");
        assert_eq!(number(-0.001, 2), "0.00");
        assert_eq!(number(-1234.5, 0), "-1,234");
        assert_eq!(number(f64::NAN, 1), MISSING);
    }

    #[test]
    fn distances() {
        assert_eq!(distance(10_020.0, Units::Metric), "10.02 km");
        assert_eq!(distance(10_020.0, Units::Imperial), "6.23 mi");
        assert_eq!(distance(0.0, Units::Metric), "0.00 km");
        assert_eq!(distance(1_234_560.0, Units::Metric), "1,234.56 km");
        assert_eq!(distance(-5.0, Units::Metric), MISSING);
        assert_eq!(distance(f64::NAN, Units::Imperial), MISSING);
        assert_eq!(swim_distance(1500.0, Units::Metric), "1,500 m");
        assert_eq!(swim_distance(1500.0, Units::Imperial), "1,640 yd");
        assert_eq!(
            distance_for(SportFamily::Swim, 1500.0, Units::Metric),
            "1,500 m"
        );
        assert_eq!(
            distance_for(SportFamily::Foot, 1500.0, Units::Metric),
            "1.50 km"
        );
    }

    #[test]
    fn totals_of_distance() {
        use SportFamily::{Cycle, Swim};
        assert_eq!(
            total_distance_for(Cycle, 1_234_560.0, Units::Metric),
            "1,234.6 km"
        );
        assert_eq!(
            total_distance_for(Cycle, 1_609.344, Units::Imperial),
            "1.0 mi"
        );
        // Swims: metres or yards up to 10 km, then km or miles.
        assert_eq!(total_distance_for(Swim, 9_999.0, Units::Metric), "9,999 m");
        assert_eq!(total_distance_for(Swim, 12_449.0, Units::Metric), "12.4 km");
        assert_eq!(
            total_distance_for(Swim, 16_093.44, Units::Imperial),
            "10.0 mi"
        );
        assert_eq!(total_distance_for(Swim, f64::NAN, Units::Metric), MISSING);
    }

    #[test]
    fn elevations() {
        assert_eq!(elevation(1234.0, Units::Metric), "1,234 m");
        assert_eq!(elevation(1234.0, Units::Imperial), "4,049 ft");
        assert_eq!(elevation(-12.4, Units::Metric), "-12 m");
        assert_eq!(elevation(f64::INFINITY, Units::Metric), MISSING);
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(95), "1:35");
        assert_eq!(duration(1358), "22:38");
        assert_eq!(duration(3599), "59:59");
        assert_eq!(duration(3600), "1:00:00");
        assert_eq!(duration(3723), "1:02:03");
        assert_eq!(duration(100 * 3600), "100:00:00");
        assert_eq!(duration(-1), MISSING);
        assert_eq!(duration_f64(59.6), "1:00");
        assert_eq!(duration_f64(f64::NAN), MISSING);
        assert_eq!(duration_f64(1e300), MISSING);
        assert_eq!(parse_duration("1:02:03"), Some(3723));
        assert_eq!(parse_duration("25:03"), Some(1503));
        assert_eq!(parse_duration("42"), Some(42));
        assert_eq!(parse_duration("1:60"), None);
        assert_eq!(parse_duration("1::3"), None);
        assert_eq!(parse_duration("-1:00"), None);
        assert_eq!(parse_duration("1:2:3:4"), None);
    }

    #[test]
    fn days() {
        let d = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(day(d), "6 Sep 2026");
        assert_eq!(day_month(d), "6 Sep");
        assert_eq!(
            day_time(d.and_hms_opt(7, 10, 0).unwrap()),
            "6 Sep 2026 07:10"
        );
        assert_eq!(date_key("2026-09-06"), "6 Sep 2026");
        assert_eq!(date_key("2026-09-06T07:10:00"), "6 Sep 2026 07:10");
        assert_eq!(date_key("2026-09"), "Sep 2026");
        assert_eq!(date_key_short("2026-09-06"), "6 Sep");
        assert_eq!(date_key_short("2026-09-06T07:10:00"), "6 Sep");
        // Not dates: left alone.
        for text in ["2026", "Run", "2026-13", "2026-02-30", "b1234", "2026-9"] {
            assert_eq!(date_key(text), text);
        }
    }

    #[test]
    fn paces() {
        let v = 1000.0 / 303.0;
        assert_eq!(pace(v, PaceUnit::PerKilometre), "5:03 /km");
        assert_eq!(pace(v, PaceUnit::PerMile), "8:08 /mi");
        let swim = 100.0 / 112.0;
        assert_eq!(pace(swim, PaceUnit::Per100Metres), "1:52 /100m");
        assert_eq!(pace(swim, PaceUnit::Per100Yards), "1:42 /100yd");
        assert_eq!(
            pace_from(5000.0, 1500.0, PaceUnit::PerKilometre),
            "5:00 /km"
        );
        // 5:59.7 per km rounds to 6:00, never 5:60.
        assert_eq!(pace(1000.0 / 359.7, PaceUnit::PerKilometre), "6:00 /km");
        assert_eq!(pace(0.0, PaceUnit::PerKilometre), MISSING);
        assert_eq!(pace_from(0.0, 600.0, PaceUnit::PerKilometre), MISSING);
        assert_eq!(pace_from(1000.0, 0.0, PaceUnit::PerKilometre), MISSING);
        assert_eq!(pace(1e-9, PaceUnit::PerKilometre), MISSING);
        assert_eq!(pace_seconds(-2.0, PaceUnit::PerMile), None);
        // A slow hike: 1h05 per km still shows the hour.
        assert_eq!(
            pace_from(1000.0, 3900.0, PaceUnit::PerKilometre),
            "1:05:00 /km"
        );
    }

    #[test]
    fn speeds() {
        assert_eq!(speed(28.4 / 3.6, Units::Metric), "28.4 km/h");
        assert_eq!(speed(28.4 / 3.6, Units::Imperial), "17.6 mph");
        assert_eq!(speed(0.0, Units::Metric), "0.0 km/h");
        assert_eq!(speed(-1.0, Units::Metric), MISSING);
        assert_eq!(
            speed_or_pace(SportFamily::Cycle, 10.0, Units::Metric),
            "36.0 km/h"
        );
        assert_eq!(
            speed_or_pace(SportFamily::Foot, 1000.0 / 303.0, Units::Metric),
            "5:03 /km"
        );
        assert_eq!(
            speed_or_pace(SportFamily::Other, 2.0, Units::Metric),
            "7.2 km/h"
        );
    }

    #[test]
    fn conversions_share_factors() {
        assert_eq!(metres_to_km(5000.0), 5.0);
        assert!((metres_to_miles(METRES_PER_MILE) - 1.0).abs() < 1e-12);
        assert!((metres_to_feet(0.3048) - 1.0).abs() < 1e-12);
        assert!((metres_to_yards(0.9144) - 1.0).abs() < 1e-12);
        assert!((mps_to_kmh(10.0) - 36.0).abs() < 1e-12);
        assert!((mps_to_mph(METRES_PER_MILE / 3600.0) - 1.0).abs() < 1e-12);
        assert_eq!(MPS_TO_MPH, Units::Imperial.speed_factor());
    }

    proptest! {
        #[test]
        fn duration_round_trips(secs in 0i64..10_000_000) {
            prop_assert_eq!(parse_duration(&duration(secs)), Some(secs));
            let text = duration(secs);
            let parts: Vec<&str> = text.split(':').collect();
            // Never a zero hour in front: "22:38", not "0:22:38".
            prop_assert_eq!(parts.len(), if secs < 3600 { 2 } else { 3 });
            prop_assert!(!text.starts_with("0:") || secs < 60);
            prop_assert!(parts[1..].iter().all(|p| p.len() == 2));
        }

        #[test]
        fn formatting_never_panics(v in any::<f64>(), t in any::<f64>(), i in any::<i64>()) {
            for units in [Units::Metric, Units::Imperial] {
                for unit in [PaceUnit::PerKilometre, PaceUnit::PerMile, PaceUnit::Per100Metres, PaceUnit::Per100Yards] {
                    let p = pace(v, unit);
                    prop_assert!(p == MISSING || p.ends_with(unit.label()));
                    let _ = pace_from(v, t, unit);
                }
                let _ = (distance(v, units), swim_distance(v, units), elevation(v, units), speed(v, units));
            }
            let _ = (duration(i), duration_f64(v), group_thousands(i));
        }

        #[test]
        fn number_reads_back(v in -1e12f64..1e12) {
            let text = number(v, 2).replace(',', "");
            let back: f64 = text.parse().unwrap();
            // Half a cent, plus the float spacing of numbers this large.
            prop_assert!((back - v).abs() <= 0.005 + v.abs() * 1e-15);
        }

        #[test]
        fn pace_seconds_are_valid(secs in 1i64..86_400) {
            let speed = 1000.0 / secs as f64;
            let text = pace(speed, PaceUnit::PerKilometre);
            let clock = text.trim_end_matches(" /km");
            prop_assert_eq!(parse_duration(clock), Some(secs));
        }
    }
}
