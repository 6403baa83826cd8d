//! A deterministic demo athlete, so StravaTalk can be tried without a Strava account
//! and tests have realistic data to ask questions about.
//!
//! The athlete lives in Paris and trains four to six times a week: intervals on
//! Tuesdays, parkrun on Saturdays, a long run on Sundays, commutes or Zwift sessions
//! midweek, pool swims, walks, summer hikes, strength and yoga. Every year holds a
//! half marathon (March), a 10K (May), two 5K races (June, September) and a marathon
//! (October), run a little long as GPS measures them, plus a trip to New York (June)
//! and Tokyo (November), where evening and early runs fall on another UTC date, and a
//! New Year's midnight run.
//!
//! Each day draws from its own generator seeded by the seed and the date, so a day's
//! activities (and their ids) do not change when the generated span moves: loading
//! the demo again tomorrow only adds the new day.

use chrono::{Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use domain::dates::to_utc;
use domain::{
    Activity, ActivityId, ActivitySource, AthleteId, BestEffort, Gear, GearKind, SportType, Units,
};
use serde::{Deserialize, Serialize};

/// The demo athlete's id; real Strava athlete ids are far larger, so it cannot clash.
pub const DEMO_ATHLETE_ID: AthleteId = AthleteId(1);
/// The demo athlete's home time zone, as Strava labels it.
pub const DEMO_TIMEZONE: &str = "(GMT+01:00) Europe/Paris";
/// Demo activity ids are this plus `10 * day number + slot`: far above real Strava
/// ids for centuries to come, yet below 2^53 so JavaScript clients read them exactly.
pub const DEMO_ACTIVITY_ID_BASE: i64 = 9_000_000_000_000;
/// The seed [`demo_activities`] uses.
pub const DEMO_SEED: u64 = 0x5374_7261_7661_5461;
/// Longer spans are cut to this many years; the demo does not need more.
pub const MAX_DEMO_YEARS: u32 = 100;

/// Profile data for the demo athlete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAthlete {
    /// Fixed id, [`DEMO_ATHLETE_ID`].
    pub id: AthleteId,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Home city.
    pub city: String,
    /// Home country.
    pub country: String,
    /// Metric.
    pub measurement_preference: Units,
    /// [`DEMO_TIMEZONE`].
    pub timezone: String,
}

/// The demo athlete's profile.
pub fn demo_athlete() -> DemoAthlete {
    DemoAthlete {
        id: DEMO_ATHLETE_ID,
        firstname: "Demo".into(),
        lastname: "Athlete".into(),
        city: "Paris".into(),
        country: "France".into(),
        measurement_preference: Units::Metric,
        timezone: DEMO_TIMEZONE.into(),
    }
}

/// `years` years of activities ending on `end` (inclusive), ordered by local start.
pub fn demo_activities(end: NaiveDate, years: u32) -> Vec<Activity> {
    demo_activities_with_seed(end, years, DEMO_SEED)
}

/// Like [`demo_activities`] with another seed; the same inputs always give the same output.
pub fn demo_activities_with_seed(end: NaiveDate, years: u32, seed: u64) -> Vec<Activity> {
    if years == 0 {
        return Vec::new();
    }
    let start = end
        .checked_sub_months(Months::new(12 * years.min(MAX_DEMO_YEARS)))
        .and_then(|d| d.succ_opt())
        .unwrap_or(end);
    let mut out = Vec::new();
    for date in start.iter_days().take_while(|d| *d <= end) {
        let day_number = i64::from(date.num_days_from_ce());
        let mut rng = Rng::new(seed ^ (day_number as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let mut plans = plan_day(date, &mut rng);
        plans.sort_by_key(|p| p.time);
        for (slot, plan) in plans.iter().enumerate() {
            let id = DEMO_ACTIVITY_ID_BASE + day_number * 10 + slot as i64;
            out.push(build(plan, date, ActivityId(id), &mut rng));
        }
    }
    out
}

/// splitmix64: tiny, fast and good enough for made-up training logs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [lo, hi].
    fn int(&mut self, lo: i32, hi: i32) -> i32 {
        let span = (hi - lo + 1) as u64;
        lo + (self.next_u64() % span) as i32
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next_u64() as usize % items.len()]
    }
}

/// Where an activity happens.
#[derive(Clone, Copy)]
struct Place {
    tz: Tz,
    label: &'static str,
    /// Range of the lowest point of a typical route, metres.
    ground: (f64, f64),
}

const HOME: Place = Place {
    tz: chrono_tz::Europe::Paris,
    label: DEMO_TIMEZONE,
    ground: (30.0, 60.0),
};
const NEW_YORK: Place = Place {
    tz: chrono_tz::America::New_York,
    label: "(GMT-05:00) America/New_York",
    ground: (2.0, 20.0),
};
const TOKYO: Place = Place {
    tz: chrono_tz::Asia::Tokyo,
    label: "(GMT+09:00) Asia/Tokyo",
    ground: (3.0, 25.0),
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Race {
    FiveK,
    TenK,
    Half,
    Marathon,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    EasyRun,
    LongRun,
    Intervals,
    Parkrun,
    Race(Race),
    MidnightRun,
    TripRun,
    Ride,
    GravelRide,
    Commute,
    Zwift,
    Swim,
    Walk,
    Hike,
    Weights,
    Yoga,
}

struct Plan {
    kind: Kind,
    time: NaiveTime,
    place: Place,
}

fn at(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// Whether `d` is the `n`th (1-based) Sunday of its month.
fn nth_sunday(d: NaiveDate, n: u32) -> bool {
    d.weekday() == Weekday::Sun && d.day0() / 7 == n - 1
}

fn last_sunday(d: NaiveDate) -> bool {
    d.weekday() == Weekday::Sun && (d + TimeDelta::days(7)).month() != d.month()
}

/// The yearly race calendar; none falls on a trip or on January 1st.
fn race_on(d: NaiveDate) -> Option<Race> {
    match d.month() {
        3 if nth_sunday(d, 1) => Some(Race::Half),
        5 if nth_sunday(d, 2) => Some(Race::TenK),
        6 if last_sunday(d) => Some(Race::FiveK),
        9 if nth_sunday(d, 1) => Some(Race::FiveK),
        10 if nth_sunday(d, 3) => Some(Race::Marathon),
        _ => None,
    }
}

fn trip_on(d: NaiveDate) -> Option<Place> {
    match (d.month(), d.day()) {
        (6, 10..=16) => Some(NEW_YORK),
        (11, 3..=9) => Some(TOKYO),
        _ => None,
    }
}

/// What the athlete does on `date`.
fn plan_day(date: NaiveDate, rng: &mut Rng) -> Vec<Plan> {
    let mut plans = Vec::new();
    let mut add =
        |kind: Kind, time: NaiveTime, place: Place| plans.push(Plan { kind, time, place });
    // Training sessions start within 20 minutes of their usual time.
    let jitter = |rng: &mut Rng, t: NaiveTime| t + TimeDelta::minutes(i64::from(rng.int(0, 20)));

    if date.month() == 1 && date.day() == 1 {
        // 00:15 in Paris is still December 31st in UTC.
        add(Kind::MidnightRun, at(0, 15), HOME);
        return plans;
    }
    if let Some(place) = trip_on(date) {
        // New York evenings (20:15+) are already tomorrow in UTC; Tokyo mornings
        // (06:15+) are still yesterday.
        let run_at = if place.tz == TOKYO.tz {
            at(6, 15)
        } else {
            at(20, 15)
        };
        if rng.chance(0.65) {
            add(Kind::TripRun, jitter(rng, run_at), place);
        }
        if rng.chance(0.3) {
            add(Kind::Walk, jitter(rng, at(15, 0)), place);
        }
        return plans;
    }
    if let Some(race) = race_on(date) {
        let start = match race {
            Race::Marathon => at(8, 30),
            Race::Half => at(9, 0),
            Race::FiveK => at(9, 30),
            Race::TenK => at(10, 0),
        };
        add(Kind::Race(race), start, HOME);
        return plans;
    }
    let yesterday = date - TimeDelta::days(1);
    let tomorrow = date + TimeDelta::days(1);
    if race_on(yesterday).is_some() {
        if rng.chance(0.5) {
            add(Kind::Walk, jitter(rng, at(11, 0)), HOME);
        }
        return plans;
    }
    let resting_for_race = race_on(tomorrow).is_some();
    let winter = matches!(date.month(), 11 | 12 | 1 | 2 | 3);
    let summer = matches!(date.month(), 6..=9);

    match date.weekday() {
        Weekday::Mon => {
            if rng.chance(0.25) {
                add(Kind::Swim, jitter(rng, at(12, 15)), HOME);
            } else if rng.chance(0.33) {
                add(Kind::Yoga, jitter(rng, at(19, 0)), HOME);
            }
        }
        Weekday::Tue => {
            if rng.chance(0.8) {
                add(Kind::Intervals, jitter(rng, at(18, 30)), HOME);
            }
        }
        Weekday::Wed => {
            if winter {
                if rng.chance(0.5) {
                    // Now and then a session after midnight: the previous date in UTC.
                    let t = if rng.chance(0.1) {
                        at(0, 10)
                    } else {
                        at(19, 30)
                    };
                    add(Kind::Zwift, jitter(rng, t), HOME);
                }
            } else if rng.chance(0.35) {
                add(Kind::Commute, jitter(rng, at(8, 0)), HOME);
                add(Kind::Commute, jitter(rng, at(17, 45)), HOME);
            }
            if rng.chance(0.2) {
                add(Kind::Weights, jitter(rng, at(12, 30)), HOME);
            }
        }
        Weekday::Thu => {
            if rng.chance(0.7) {
                let t = if rng.chance(0.5) {
                    at(7, 0)
                } else {
                    at(12, 30)
                };
                add(Kind::EasyRun, jitter(rng, t), HOME);
            }
        }
        Weekday::Fri => {
            if rng.chance(0.55) {
                add(Kind::Swim, jitter(rng, at(7, 15)), HOME);
            }
        }
        Weekday::Sat => {
            if !resting_for_race && rng.chance(0.75) {
                add(Kind::Parkrun, at(9, 0), HOME);
            }
            if winter {
                if rng.chance(0.3) {
                    add(Kind::Zwift, jitter(rng, at(11, 30)), HOME);
                }
            } else if !resting_for_race && rng.chance(0.35) {
                let kind = if rng.chance(0.3) {
                    Kind::GravelRide
                } else {
                    Kind::Ride
                };
                add(kind, jitter(rng, at(14, 0)), HOME);
            }
        }
        Weekday::Sun => {
            if summer && rng.chance(0.35) {
                add(Kind::Hike, jitter(rng, at(9, 0)), HOME);
            } else if rng.chance(0.8) {
                add(Kind::LongRun, jitter(rng, at(8, 45)), HOME);
            }
            if rng.chance(0.15) {
                add(Kind::Walk, jitter(rng, at(16, 30)), HOME);
            }
        }
    }
    let weekday = date.weekday().num_days_from_monday() < 5;
    if weekday && rng.chance(0.08) {
        add(Kind::Walk, jitter(rng, at(21, 0)), HOME);
    }
    plans
}

/// Pace multiplier over the year, within ±3%: fastest in early October (marathon
/// season), slowest in early April. A triangle wave rather than a cosine keeps the
/// output bit-identical on every platform.
fn form(date: NaiveDate) -> f64 {
    let phase = f64::from((date.ordinal0() + 365 - 280) % 365) / 365.0;
    1.0 + 0.03 * (1.0 - 4.0 * (phase - 0.5).abs())
}

/// The numbers that differ between kinds of activity; [`build`] derives the rest.
struct Shape {
    sport: &'static str,
    name: Option<String>,
    distance_m: f64,
    /// Moving seconds; for distance sports derived from distance and pace.
    moving_s: f64,
    /// Seconds stopped (lights, rests between intervals, photos).
    pause_s: f64,
    climb_m: f64,
    /// Average and maximum heart rate.
    hr: Option<(f64, f64)>,
    cadence: Option<f64>,
    /// Average, weighted average and maximum watts.
    power: Option<(f64, i32, i32)>,
    kcal: f64,
    /// Maximum speed over average speed.
    burst: f64,
    workout_type: Option<i32>,
    gear: Option<&'static str>,
    kudos: (i32, i32),
    commute: bool,
    trainer: bool,
    manual: bool,
}

impl Shape {
    fn new(sport: &'static str) -> Self {
        Self {
            sport,
            name: None,
            distance_m: 0.0,
            moving_s: 0.0,
            pause_s: 0.0,
            climb_m: 0.0,
            hr: None,
            cadence: None,
            power: None,
            kcal: 0.0,
            burst: 1.0,
            workout_type: None,
            gear: None,
            kudos: (0, 4),
            commute: false,
            trainer: false,
            manual: false,
        }
    }

    /// A run of `km` kilometres at `pace` seconds per kilometre.
    fn run(rng: &mut Rng, km: f64, pace: f64, hr: f64, workout_type: i32) -> Self {
        let distance_m = km * 1000.0;
        Self {
            distance_m,
            moving_s: km * pace,
            pause_s: rng.range(0.0, 60.0),
            climb_m: km * rng.range(4.0, 12.0),
            hr: Some((hr, hr + rng.range(12.0, 22.0))),
            cadence: Some(rng.range(84.0, 89.0)),
            kcal: km * rng.range(62.0, 70.0),
            burst: rng.range(1.25, 1.6),
            workout_type: Some(workout_type),
            gear: Some("g1001"),
            kudos: (2, 12),
            ..Self::new("Run")
        }
    }

    /// A ride of `km` kilometres at `kmh`, with `watts` average power if measured.
    fn ride(rng: &mut Rng, sport: &'static str, km: f64, kmh: f64, watts: Option<f64>) -> Self {
        let moving_s = km / kmh * 3600.0;
        Self {
            distance_m: km * 1000.0,
            moving_s,
            pause_s: rng.range(60.0, 900.0),
            climb_m: km * rng.range(5.0, 14.0),
            hr: Some((rng.range(130.0, 146.0), rng.range(165.0, 180.0))),
            cadence: Some(rng.range(84.0, 93.0)),
            power: watts.map(|w| {
                let weighted = w + rng.range(8.0, 22.0);
                (w, weighted.round() as i32, rng.int(550, 900))
            }),
            // Rough rule: kilocalories burned are about the kilojoules of work done.
            kcal: watts.map_or(km * 25.0, |w| w * moving_s / 1000.0),
            burst: rng.range(1.6, 2.2),
            workout_type: Some(10),
            gear: Some("b2001"),
            kudos: (2, 14),
            ..Self::new(sport)
        }
    }
}

fn shape(kind: Kind, date: NaiveDate, rng: &mut Rng) -> Shape {
    let f = form(date);
    // Draw the main numbers first: `Shape::run` and `Shape::ride` need the generator
    // too, and one call cannot borrow it twice.
    let (u, v, w) = (rng.unit(), rng.unit(), rng.unit());
    let between = |t: f64, lo: f64, hi: f64| lo + (hi - lo) * t;
    match kind {
        Kind::EasyRun => {
            let km = between(u, 6.0, 11.0);
            let pace = 335.0 * f * between(v, 0.96, 1.05);
            Shape::run(rng, km, pace, between(w, 138.0, 150.0), 0)
        }
        Kind::TripRun => {
            let name = if date.month() == 6 {
                "Central Park loop"
            } else {
                "Imperial Palace run"
            };
            let km = between(u, 5.0, 10.0);
            let pace = 340.0 * f * between(v, 0.97, 1.05);
            Shape {
                name: Some(name.into()),
                ..Shape::run(rng, km, pace, between(w, 138.0, 150.0), 0)
            }
        }
        Kind::MidnightRun => Shape {
            name: Some("New Year's midnight run".into()),
            kudos: (8, 20),
            ..Shape::run(
                rng,
                between(u, 5.0, 8.0),
                330.0 * f,
                between(w, 140.0, 150.0),
                0,
            )
        },
        Kind::LongRun => {
            // Longer in the marathon build, from August to the race in October.
            let build = matches!(date.month(), 8 | 9) || (date.month() == 10 && date.day() < 15);
            let km = if build {
                between(u, 24.0, 32.0)
            } else {
                between(u, 16.0, 24.0)
            };
            let pace = 345.0 * f * between(v, 0.97, 1.04);
            Shape::run(rng, km, pace, between(w, 144.0, 152.0), 2)
        }
        Kind::Intervals => {
            let set = rng.pick(&[
                "6 x 800 m",
                "5 x 1 km",
                "10 x 400 m",
                "3 x 2 km",
                "8 x 3 min",
            ]);
            let km = between(u, 8.0, 12.0);
            let pace = 300.0 * f * between(v, 0.97, 1.03);
            Shape {
                name: Some(format!("Intervals {set}")),
                // Standing recoveries between repetitions.
                pause_s: between(u, 300.0, 900.0),
                burst: between(v, 1.5, 1.8),
                ..Shape::run(rng, km, pace, between(w, 152.0, 160.0), 3)
            }
        }
        Kind::Parkrun => {
            let pace = 275.0 * f * between(v, 0.97, 1.04);
            Shape {
                name: Some("Saturday parkrun".into()),
                pause_s: between(w, 0.0, 15.0),
                kudos: (4, 16),
                ..Shape::run(
                    rng,
                    between(u, 4.98, 5.06),
                    pace,
                    between(w, 164.0, 172.0),
                    0,
                )
            }
        }
        Kind::Race(race) => {
            // Official distance, GPS-typical overshoot, target pace, average heart rate.
            let (name, km, extra, pace, hr) = match race {
                Race::FiveK => ("5K race", 5.0, between(u, 0.01, 0.06), 250.0, 174.0),
                Race::TenK => ("City 10K", 10.0, between(u, 0.03, 0.12), 262.0, 171.0),
                Race::Half => (
                    "Spring Half Marathon",
                    21.0975,
                    between(u, 0.04, 0.16),
                    275.0,
                    166.0,
                ),
                Race::Marathon => (
                    "Autumn Marathon",
                    42.195,
                    between(u, 0.1, 0.32),
                    295.0,
                    158.0,
                ),
            };
            let pace = pace * f * between(v, 0.98, 1.02);
            let longest_stop = if race == Race::Marathon { 90.0 } else { 10.0 };
            Shape {
                name: Some(name.into()),
                pause_s: between(w, 0.0, longest_stop),
                gear: Some("g1003"),
                kudos: (25, 60),
                ..Shape::run(rng, km + extra, pace, hr + between(w, -2.0, 2.0), 1)
            }
        }
        Kind::Ride => {
            let (km, kmh) = (between(u, 40.0, 110.0), between(v, 26.0, 31.0));
            Shape::ride(rng, "Ride", km, kmh, Some(between(w, 165.0, 205.0)))
        }
        Kind::GravelRide => {
            let (km, kmh) = (between(u, 35.0, 70.0), between(v, 20.0, 24.0));
            let mut s = Shape::ride(rng, "GravelRide", km, kmh, Some(between(w, 150.0, 185.0)));
            s.climb_m = km * rng.range(8.0, 16.0);
            s
        }
        Kind::Commute => {
            let (km, kmh) = (between(u, 8.2, 8.7), between(v, 20.0, 24.0));
            Shape {
                // Traffic lights.
                pause_s: between(w, 60.0, 300.0),
                climb_m: between(w, 25.0, 45.0),
                hr: Some((between(u, 112.0, 128.0), between(v, 140.0, 155.0))),
                gear: Some("b2002"),
                kudos: (0, 3),
                commute: true,
                ..Shape::ride(rng, "Ride", km, kmh, None)
            }
        }
        Kind::Zwift => {
            let route = rng.pick(&[
                "Flat Route",
                "Volcano Circuit",
                "Jungle Loop",
                "Hilly Route",
            ]);
            let (km, kmh) = (between(u, 22.0, 45.0), between(v, 29.0, 34.0));
            Shape {
                name: Some(format!("Zwift - {route} in Watopia")),
                pause_s: between(u, 0.0, 60.0),
                hr: Some((between(v, 138.0, 150.0), between(w, 168.0, 182.0))),
                workout_type: Some(12),
                trainer: true,
                kudos: (3, 10),
                ..Shape::ride(rng, "VirtualRide", km, kmh, Some(between(w, 185.0, 230.0)))
            }
        }
        Kind::Swim => {
            // Whole lengths of a 25 m pool, in 50 m steps from 1,500 to 3,000 m.
            let metres = 50.0 * (30.0 + (u * 31.0).floor());
            let moving_s = metres / 100.0 * between(v, 110.0, 125.0) * f;
            Shape {
                distance_m: metres,
                moving_s,
                pause_s: rng.range(180.0, 600.0),
                kcal: moving_s / 60.0 * between(w, 8.0, 10.0),
                burst: rng.range(1.1, 1.3),
                kudos: (1, 8),
                ..Shape::new("Swim")
            }
        }
        Kind::Walk => {
            let km = between(u, 3.0, 8.0);
            let name = match trip_on(date) {
                Some(p) if p.tz == NEW_YORK.tz => Some("Walk on the High Line".into()),
                Some(_) => Some("Asakusa walk".into()),
                None => None,
            };
            Shape {
                name,
                distance_m: km * 1000.0,
                moving_s: km / between(v, 4.6, 5.4) * 3600.0,
                pause_s: rng.range(60.0, 600.0),
                climb_m: km * between(w, 3.0, 10.0),
                hr: Some((rng.range(95.0, 110.0), rng.range(115.0, 130.0))),
                cadence: Some(rng.range(55.0, 60.0)),
                kcal: km * rng.range(45.0, 55.0),
                burst: rng.range(1.3, 1.6),
                ..Shape::new("Walk")
            }
        }
        Kind::Hike => {
            let km = between(u, 10.0, 22.0);
            let name = rng.pick(&[
                "Hike in the Vosges",
                "Fontainebleau forest hike",
                "Alpine hike",
            ]);
            Shape {
                name: Some(name.into()),
                distance_m: km * 1000.0,
                moving_s: km / between(v, 3.8, 4.7) * 3600.0,
                pause_s: rng.range(900.0, 3600.0),
                climb_m: km * between(w, 40.0, 70.0),
                hr: Some((rng.range(115.0, 130.0), rng.range(150.0, 165.0))),
                cadence: Some(rng.range(50.0, 56.0)),
                kcal: km * rng.range(60.0, 75.0),
                burst: rng.range(1.5, 2.0),
                gear: Some("g1002"),
                kudos: (4, 15),
                ..Shape::new("Hike")
            }
        }
        Kind::Weights => {
            let minutes = between(u, 40.0, 60.0);
            // Sessions logged by hand afterwards have no heart rate.
            let manual = v < 0.3;
            Shape {
                name: Some("Strength session".into()),
                moving_s: minutes * 60.0,
                hr: (!manual).then(|| (rng.range(100.0, 118.0), rng.range(140.0, 158.0))),
                kcal: minutes * between(w, 5.0, 7.0),
                manual,
                ..Shape::new("WeightTraining")
            }
        }
        Kind::Yoga => {
            let minutes = between(u, 30.0, 60.0);
            Shape {
                moving_s: minutes * 60.0,
                hr: Some((between(v, 78.0, 92.0), between(w, 105.0, 120.0))),
                kcal: minutes * 3.5,
                ..Shape::new("Yoga")
            }
        }
    }
}

/// Strava's default title: "Morning Run", "Lunch Swim", "Night Ride"...
fn default_name(time: NaiveTime, sport: &SportType) -> String {
    use chrono::Timelike;
    let part = match time.hour() {
        5..=10 => "Morning",
        11..=13 => "Lunch",
        14..=17 => "Afternoon",
        18..=20 => "Evening",
        _ => "Night",
    };
    format!("{part} {}", sport.display_name())
}

/// Rounds to `places` decimals, as Strava reports its numbers.
fn round_dp(v: f64, places: i32) -> f64 {
    // Dividing by an exact power of ten (rather than multiplying by 0.1) gives the
    // float closest to the short decimal: 5056.4, not 5056.400000000001.
    let scale = 10f64.powi(places);
    (v * scale).round() / scale
}

fn build(plan: &Plan, date: NaiveDate, id: ActivityId, rng: &mut Rng) -> Activity {
    let s = shape(plan.kind, date, rng);
    let sport = SportType::new(s.sport);
    let start_date = to_utc(date.and_time(plan.time), plan.place.tz);
    // Read the wall clock back, so a time inside a DST gap is stored as it was moved.
    let start_date_local = start_date.with_timezone(&plan.place.tz).naive_local();
    let distance_m = round_dp(s.distance_m, 1);
    let moving = s.moving_s.round() as i32;
    let elapsed = moving + s.pause_s.round() as i32;
    let average_speed = if moving > 0 && distance_m > 0.0 {
        round_dp(distance_m / f64::from(moving), 3)
    } else {
        0.0
    };
    let moves = distance_m > 0.0;
    let is_pool = s.sport == "Swim";
    let (elev_low, elev_high) = if moves && !is_pool {
        let (lo, hi) = if s.sport == "Hike" {
            (300.0, 900.0)
        } else {
            plan.place.ground
        };
        let low = rng.range(lo, hi);
        let high = low + 5.0 + s.climb_m * rng.range(0.2, 0.5);
        (Some(round_dp(low, 1)), Some(round_dp(high, 1)))
    } else {
        (None, None)
    };
    let (average_watts, weighted_average_watts, max_watts) = match s.power {
        Some((avg, weighted, max)) => (Some(round_dp(avg, 1)), Some(weighted), Some(max)),
        None => (None, None, None),
    };
    let is_race = matches!(plan.kind, Kind::Race(_));
    let achievements = if is_race {
        rng.int(1, 6)
    } else if matches!(s.sport, "Run" | "Ride" | "GravelRide" | "VirtualRide") {
        // Segment efforts and best efforts: only the sports with segments get them.
        rng.int(0, 3)
    } else {
        0
    };
    let device_name = device_for(&s);
    Activity {
        id,
        athlete_id: DEMO_ATHLETE_ID,
        name: s
            .name
            .unwrap_or_else(|| default_name(start_date_local.time(), &sport)),
        sport_type: sport,
        start_date,
        start_date_local,
        timezone: Some(plan.place.label.to_string()),
        distance_m,
        moving_time_s: moving,
        elapsed_time_s: elapsed,
        total_elevation_gain_m: round_dp(s.climb_m, 1),
        elev_high_m: elev_high,
        elev_low_m: elev_low,
        average_speed_mps: average_speed,
        max_speed_mps: round_dp(average_speed * s.burst, 3),
        average_heartrate: s.hr.map(|(avg, _)| round_dp(avg, 1)),
        max_heartrate: s.hr.map(|(_, max)| max.round()),
        average_cadence: s.cadence.map(|c| round_dp(c, 1)),
        average_watts,
        weighted_average_watts,
        max_watts,
        kilojoules: s
            .power
            .map(|(avg, _, _)| round_dp(avg * f64::from(moving) / 1000.0, 1)),
        calories: Some(s.kcal.round()),
        device_watts: s.power.is_some(),
        kudos_count: rng.int(s.kudos.0, s.kudos.1),
        comment_count: if is_race {
            rng.int(1, 6)
        } else {
            rng.int(0, 2)
        },
        achievement_count: achievements,
        pr_count: rng.int(0, achievements),
        commute: s.commute,
        trainer: s.trainer,
        manual: s.manual,
        private: false,
        flagged: false,
        workout_type: s.workout_type,
        gear_id: s.gear.map(str::to_string),
        device_name,
        source: ActivitySource::Demo,
    }
}

/// The device an activity was recorded with: a watch on foot, a bike computer on the
/// road, the trainer's app indoors, none when entered by hand. Derived, not drawn, so
/// the generated figures stay as they were.
fn device_for(s: &Shape) -> Option<String> {
    let device = match s.sport {
        _ if s.manual => return None,
        _ if s.trainer => "Zwift",
        "Ride" | "GravelRide" | "MountainBikeRide" if s.power.is_some() => "Wahoo ELEMNT BOLT",
        _ => "Garmin Forerunner 965",
    };
    Some(device.to_owned())
}

/// The demo athlete's bikes and shoes, named as the activities' `gear_id`s point to.
pub fn demo_gear() -> Vec<Gear> {
    let gear = |id: &str, name: &str, kind, primary| Gear {
        id: id.to_owned(),
        name: name.to_owned(),
        kind: Some(kind),
        primary,
        retired: false,
        distance_m: None,
    };
    // The hiking boots are retired: Strava no longer lists them on the athlete, so
    // the fake serves them only at `/gear/{id}`.
    let boots = Gear {
        retired: true,
        ..gear("g1002", "Salomon X Ultra 4", GearKind::Shoes, false)
    };
    vec![
        gear("g1001", "Nike Pegasus 40", GearKind::Shoes, true),
        boots,
        gear("g1003", "Nike Vaporfly 3", GearKind::Shoes, false),
        gear("b2001", "Canyon Ultimate", GearKind::Bike, true),
        gear("b2002", "Brompton", GearKind::Bike, false),
    ]
}

/// Best efforts within a demo run: each standard distance the run covers, a little
/// faster than the run's average pace the shorter it is (a steady runner's fastest
/// stretch), placed mid-run. Derived from the activity, so they agree with it.
pub fn demo_best_efforts(a: &Activity) -> Vec<BestEffort> {
    if !matches!(a.sport_type.as_str(), "Run" | "TrailRun") || a.manual || a.distance_m <= 0.0 {
        return Vec::new();
    }
    let pace = f64::from(a.moving_time_s) / a.distance_m;
    let stopped = f64::from(a.elapsed_time_s - a.moving_time_s).max(0.0) / a.distance_m;
    domain::efforts::STANDARD_DISTANCES
        .iter()
        .filter(|(_, d)| *d <= a.distance_m)
        .map(|&(name, d)| {
            let share = d / a.distance_m;
            let moving = (d * pace * (1.0 - 0.04 * (1.0 - share))).round();
            let elapsed = moving + (d * stopped).round();
            let offset = chrono::Duration::seconds(
                ((a.distance_m - d) / 2.0 * (pace + stopped)).round() as i64,
            );
            BestEffort {
                name: name.to_owned(),
                distance_m: d,
                elapsed_time_s: elapsed as i32,
                moving_time_s: moving as i32,
                start_date: a.start_date + offset,
                start_date_local: a.start_date_local + offset,
                pr_rank: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::SportFamily;
    use domain::dates::parse_strava_timezone;
    use std::collections::HashSet;

    /// Checks that a generated activity's UTC start matches its local start in its zone.
    fn start_matches_zone(a: &Activity) -> bool {
        a.timezone
            .as_deref()
            .and_then(|label| parse_strava_timezone(label).ok())
            .is_some_and(|tz| a.start_date.with_timezone(&tz).naive_local() == a.start_date_local)
    }

    fn end() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 15).unwrap()
    }

    fn two_years() -> Vec<Activity> {
        demo_activities(end(), 2)
    }

    #[test]
    fn deterministic() {
        assert_eq!(two_years(), two_years());
        assert_ne!(
            demo_activities_with_seed(end(), 1, 7),
            demo_activities_with_seed(end(), 1, 8)
        );
    }

    #[test]
    fn days_do_not_depend_on_the_span() {
        let long = two_years();
        let short = demo_activities(end(), 1);
        let from = short[0].start_date_local;
        let tail: Vec<_> = long
            .into_iter()
            .filter(|a| a.start_date_local >= from)
            .collect();
        assert_eq!(tail, short);
    }

    #[test]
    fn spans_two_years_at_a_realistic_rate() {
        let all = two_years();
        let first = all.first().unwrap().start_date_local.date();
        let last = all.last().unwrap().start_date_local.date();
        assert!(last <= end());
        assert!((end() - last).num_days() < 7);
        assert!((first - NaiveDate::from_ymd_opt(2023, 3, 16).unwrap()).num_days() < 7);
        assert!((last - first).num_days() >= 2 * 365 - 14);
        let per_week = all.len() as f64 / (2.0 * 365.25 / 7.0);
        assert!((4.0..=6.0).contains(&per_week), "{per_week} per week");
        assert!(demo_activities(end(), 0).is_empty());
    }

    #[test]
    fn ordered_by_local_start() {
        let all = two_years();
        assert!(
            all.windows(2)
                .all(|w| w[0].start_date_local <= w[1].start_date_local)
        );
    }

    #[test]
    fn every_race_distance_is_present() {
        let all = two_years();
        let races: Vec<_> = all.iter().filter(|a| a.is_race()).collect();
        for (lo, hi) in [
            (5000.0, 5100.0),
            (10000.0, 10150.0),
            (21097.5, 21300.0),
            (42195.0, 42550.0),
        ] {
            let n = races
                .iter()
                .filter(|a| (lo..=hi).contains(&a.distance_m))
                .count();
            assert!(n >= 2, "{n} races between {lo} and {hi}");
        }
        assert!(
            races
                .iter()
                .all(|a| a.workout_type == Some(1) && a.sport_type.as_str() == "Run")
        );
        let parkruns = all.iter().filter(|a| a.name.contains("parkrun")).count();
        assert!(parkruns > 50);
    }

    #[test]
    fn some_activities_cross_midnight_in_utc() {
        let all = two_years();
        let crossing: Vec<_> = all
            .iter()
            .filter(|a| a.start_date.date_naive() != a.start_date_local.date())
            .collect();
        assert!(crossing.len() >= 5, "{}", crossing.len());
        assert!(
            crossing
                .iter()
                .any(|a| a.timezone.as_deref() == Some(DEMO_TIMEZONE))
        );
        assert!(crossing.iter().any(|a| {
            a.timezone
                .as_deref()
                .is_some_and(|t| t.contains("New_York"))
        }));
        assert!(
            crossing
                .iter()
                .any(|a| a.timezone.as_deref().is_some_and(|t| t.contains("Tokyo")))
        );
    }

    #[test]
    fn covers_the_sport_mix() {
        let all = two_years();
        let sports: HashSet<_> = all.iter().map(|a| a.sport_type.as_str()).collect();
        for s in [
            "Run",
            "Ride",
            "GravelRide",
            "VirtualRide",
            "Swim",
            "Walk",
            "Hike",
            "WeightTraining",
            "Yoga",
        ] {
            assert!(sports.contains(s), "{s}");
        }
        assert!(all.iter().any(|a| a.commute));
        assert!(
            all.iter()
                .filter(|a| a.trainer)
                .all(|a| a.sport_type.as_str() == "VirtualRide")
        );
        assert!(all.iter().any(|a| a.trainer));
    }

    #[test]
    fn ids_unique_and_values_sane() {
        let all = two_years();
        let ids: HashSet<_> = all.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), all.len());
        for a in &all {
            assert_eq!(a.athlete_id, DEMO_ATHLETE_ID);
            assert_eq!(a.source, ActivitySource::Demo);
            assert!(a.sport_type.is_known());
            assert!(a.id.get() > DEMO_ACTIVITY_ID_BASE && a.id.get() < (1 << 53));
            assert!(
                a.moving_time_s > 0 && a.moving_time_s <= a.elapsed_time_s,
                "{a:?}"
            );
            assert!(start_matches_zone(a), "{a:?}");
            let family = a.sport_type.family();
            if family != SportFamily::Other {
                assert!(a.distance_m > 0.0);
                let speed = a.distance_m / f64::from(a.moving_time_s);
                assert!((a.average_speed_mps - speed).abs() < 0.01);
                assert!(a.max_speed_mps >= a.average_speed_mps);
            } else {
                assert_eq!(a.distance_m, 0.0);
            }
            let kmh = a.average_speed_mps * 3.6;
            match family {
                SportFamily::Foot => assert!((3.0..=16.0).contains(&kmh), "{kmh} {a:?}"),
                SportFamily::Cycle => assert!((15.0..=40.0).contains(&kmh), "{kmh} {a:?}"),
                SportFamily::Swim => assert!((2.0..=4.0).contains(&kmh), "{kmh} {a:?}"),
                SportFamily::Other => {}
            }
            if let Some(hr) = a.average_heartrate {
                assert!((70.0..=185.0).contains(&hr));
                assert!(a.max_heartrate.unwrap() > hr);
            }
            if let (Some(lo), Some(hi)) = (a.elev_low_m, a.elev_high_m) {
                assert!(lo < hi);
            }
            assert!(a.calories.unwrap() > 0.0);
            assert!(a.pr_count <= a.achievement_count);
        }
    }

    #[test]
    fn athlete_profile() {
        let a = demo_athlete();
        assert_eq!(a.id, DEMO_ATHLETE_ID);
        assert_eq!(a.measurement_preference, Units::Metric);
        assert_eq!(
            parse_strava_timezone(&a.timezone),
            Ok(chrono_tz::Europe::Paris)
        );
    }
}
