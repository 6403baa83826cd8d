//! Expected figures, computed in plain Rust over the generated activities: never
//! through the engine, so a wrong plan cannot make its own expectation.

use chrono::{Datelike, NaiveDate, NaiveTime};
use domain::format::{self, PaceUnit};
use domain::{Activity, SportFamily, Units};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Which activities a figure covers, and what to compute over them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// count, sum, avg, max, min, streak, top_weekday, pct, remaining, top, top_value,
    /// rest_days (days in [from, to) with none of the activities), last_rest (the
    /// latest of those days)
    pub agg: String,
    /// distance, time, elapsed, elevation, pace, speed, hr, max_hr, cadence, power,
    /// kudos, calories, achievements
    #[serde(default)]
    pub metric: String,
    pub sports: Option<Vec<String>>,
    /// Sports left out ("excluding virtual rides").
    pub not_sports: Option<Vec<String>>,
    /// First local date included.
    pub from: Option<NaiveDate>,
    /// First local date excluded.
    pub to: Option<NaiveDate>,
    pub name: Option<String>,
    pub dist_min: Option<f64>,
    pub dist_max: Option<f64>,
    pub dur_min: Option<f64>,
    pub dur_max: Option<f64>,
    pub elev_min: Option<f64>,
    /// ISO weekday, Monday = 1.
    pub weekday: Option<u32>,
    /// Saturday or Sunday (true), Monday to Friday (false).
    pub weekend: Option<bool>,
    /// Local start hour range [from, to); wraps when from > to.
    pub hours: Option<(u32, u32)>,
    /// Local start time at or after this ("after 9pm" is 21:00).
    pub time_from: Option<NaiveTime>,
    /// Local start time before this ("before 6:30" is 06:30).
    pub time_to: Option<NaiveTime>,
    pub commute: Option<bool>,
    pub trainer: Option<bool>,
    pub month_day: Option<(u32, u32)>,
    /// Exactly this gear id.
    pub gear: Option<String>,
    /// Whether any gear is recorded.
    pub has_gear: Option<bool>,
    /// Whether the activity set at least one personal record.
    pub pr: Option<bool>,
    /// The figure is over best efforts of this distance (metres) within the kept
    /// activities (the demo's, as its generator makes them), not over whole activities.
    pub effort: Option<f64>,
    /// Strava workout types kept (1 and 11 are races, 2 a long run).
    pub workout_types: Option<Vec<i32>>,
    /// Only the N most recent of the activities the other filters keep.
    pub last: Option<usize>,
    /// Only the N with the highest `metric` (of those the other filters keep).
    pub highest: Option<usize>,
    /// Only the one with the highest and the one with the lowest `metric`.
    #[serde(default)]
    pub ends: bool,
    /// For pct: the activities the share is taken of.
    pub of: Option<Box<Figure>>,
    /// For remaining: the goal in the metric's base unit (metres, seconds).
    pub goal: Option<f64>,
    /// For top and top_value: week (labelled by its Monday), month (YYYY-MM),
    /// year or weekday; groups are summed (count, distance, time, elevation).
    pub by: Option<String>,
    /// For sum: spread over this many periods (a weekly average over four weeks).
    pub per: Option<f64>,
    /// "imperial" to format in miles and feet; default: the athlete's.
    pub units: Option<String>,
}

impl Figure {
    fn keeps(&self, a: &Activity) -> bool {
        let local = a.start_date_local;
        let d = local.date();
        let t = local.time();
        let hour = chrono::Timelike::hour(&t);
        let sport = a.sport_type.as_str();
        self.sports
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == sport))
            && self
                .not_sports
                .as_ref()
                .is_none_or(|s| s.iter().all(|x| x != sport))
            && self.from.is_none_or(|f| d >= f)
            && self.to.is_none_or(|x| d < x)
            && self
                .name
                .as_ref()
                .is_none_or(|n| a.name.to_lowercase().contains(&n.to_lowercase()))
            && self.dist_min.is_none_or(|m| a.distance_m >= m)
            && self.dist_max.is_none_or(|m| a.distance_m <= m)
            && self.dur_min.is_none_or(|m| f64::from(a.moving_time_s) >= m)
            && self.dur_max.is_none_or(|m| f64::from(a.moving_time_s) <= m)
            && self.elev_min.is_none_or(|m| a.total_elevation_gain_m >= m)
            && self
                .weekday
                .is_none_or(|w| d.weekday().number_from_monday() == w)
            && self
                .weekend
                .is_none_or(|w| (d.weekday().number_from_monday() >= 6) == w)
            && self.hours.is_none_or(|(lo, hi)| {
                if lo <= hi {
                    hour >= lo && hour < hi
                } else {
                    hour >= lo || hour < hi
                }
            })
            && self.time_from.is_none_or(|f| t >= f)
            && self.time_to.is_none_or(|x| t < x)
            && self.commute.is_none_or(|c| a.commute == c)
            && self.trainer.is_none_or(|x| a.trainer == x)
            && self
                .month_day
                .is_none_or(|(m, day)| d.month() == m && d.day() == day)
            && self
                .gear
                .as_ref()
                .is_none_or(|g| a.gear_id.as_ref() == Some(g))
            && self.has_gear.is_none_or(|h| a.gear_id.is_some() == h)
            && self.pr.is_none_or(|p| (a.pr_count > 0) == p)
            && self
                .workout_types
                .as_ref()
                .is_none_or(|w| a.workout_type.is_some_and(|t| w.contains(&t)))
    }

    /// The activities this figure covers, oldest first.
    pub fn activities<'a>(&self, all: &'a [Activity]) -> Vec<&'a Activity> {
        let mut acts: Vec<&Activity> = all.iter().filter(|a| self.keeps(a)).collect();
        acts.sort_by_key(|a| (a.start_date_local, a.id.get()));
        if let Some(n) = self.last {
            let skip = acts.len().saturating_sub(n);
            acts.drain(..skip);
        }
        if self.highest.is_some() || self.ends {
            let mut ranked: Vec<(&Activity, f64)> = acts
                .iter()
                .filter_map(|a| self.value(a).filter(|v| *v > 0.0).map(|v| (*a, v)))
                .collect();
            ranked.sort_by(|x, y| y.1.total_cmp(&x.1));
            acts = match self.highest {
                Some(n) => ranked.iter().take(n).map(|(a, _)| *a).collect(),
                None => ranked
                    .first()
                    .into_iter()
                    .chain(ranked.last())
                    .map(|(a, _)| *a)
                    .collect(),
            };
        }
        acts
    }

    fn units(&self, athlete_units: Units) -> Units {
        match self.units.as_deref() {
            Some("imperial") => Units::Imperial,
            Some("metric") => Units::Metric,
            _ => athlete_units,
        }
    }

    fn family(&self) -> SportFamily {
        match self.sports.as_deref() {
            Some([only]) if only == "Swim" => SportFamily::Swim,
            Some([first, ..]) => SportFamily::of(first),
            _ => SportFamily::Other,
        }
    }

    /// The metric's value for one activity, in base units; None when not recorded.
    fn value(&self, a: &Activity) -> Option<f64> {
        match self.metric.as_str() {
            "distance" => Some(a.distance_m),
            "time" => Some(f64::from(a.moving_time_s)),
            "elapsed" => Some(f64::from(a.elapsed_time_s)),
            "elevation" => Some(a.total_elevation_gain_m),
            "speed" | "pace" => (a.distance_m > 0.0).then_some(a.average_speed_mps),
            "hr" => a.average_heartrate,
            "max_hr" => a.max_heartrate,
            "cadence" => a.average_cadence,
            "power" => a.average_watts,
            "kudos" => Some(f64::from(a.kudos_count)),
            "calories" => a.calories,
            "achievements" => Some(f64::from(a.achievement_count)),
            _ => Some(1.0),
        }
    }

    /// The metric as an answer shows it.
    fn show(&self, v: f64, units: Units) -> String {
        let family = self.family();
        match self.metric.as_str() {
            // A total, a month's total and what is left of a goal are sums.
            "distance" if matches!(self.agg.as_str(), "sum" | "remaining" | "top_value") => {
                format::total_distance_for(family, v, units)
            }
            "distance" if family == SportFamily::Swim => format::swim_distance(v, units),
            "distance" => format::distance(v, units),
            "time" | "elapsed" => format::duration_f64(v),
            "elevation" => format::elevation(v, units),
            "pace" => format::pace(
                v,
                PaceUnit::for_family(family, units).unwrap_or(PaceUnit::PerKilometre),
            ),
            "speed" => match PaceUnit::for_family(family, units) {
                Some(p) => format::pace(v, p),
                None => format::speed(v, units),
            },
            "hr" | "max_hr" => format!("{} bpm", format::number(v, 0)),
            "cadence" => format!("{} rpm", format::number(v, 0)),
            "power" => format!("{} W", format::number(v, 0)),
            "calories" => format!("{} kcal", format::number(v, 0)),
            _ => format::group_thousands(v.round() as i64),
        }
    }

    /// The figure in base units (metres, seconds, m/s, bpm, a count or a percentage),
    /// or None for figures that are labels. Err when it covers nothing to measure,
    /// which is a mistake in the case, not in the engine.
    pub fn number(&self, all: &[Activity]) -> Result<Option<f64>, String> {
        let acts = self.activities(all);
        let values: Vec<f64> = match self.effort {
            // Best efforts are timed by the clock, as Strava ranks them.
            Some(metres) => acts
                .iter()
                .flat_map(|a| demo::demo_best_efforts(a))
                .filter(|e| (e.distance_m - metres).abs() < 1.0 && e.elapsed_time_s > 0)
                .map(|e| e.distance_m / f64::from(e.elapsed_time_s))
                .collect(),
            None => acts.iter().filter_map(|a| self.value(a)).collect(),
        };
        let needs_values = matches!(self.agg.as_str(), "avg" | "max" | "min");
        if needs_values && values.is_empty() {
            return Err(format!("{} {} over no activities", self.agg, self.metric));
        }
        Ok(match self.agg.as_str() {
            "count" => Some(acts.len() as f64),
            "sum" => Some(values.iter().sum::<f64>() / self.per.unwrap_or(1.0)),
            "avg" if matches!(self.metric.as_str(), "pace" | "speed") => {
                let moving = acts.iter().filter(|a| a.distance_m > 0.0);
                let (d, t) = moving.fold((0.0, 0.0), |(d, t), a| {
                    (d + a.distance_m, t + f64::from(a.moving_time_s))
                });
                Some(d / t)
            }
            "avg" => Some(values.iter().sum::<f64>() / values.len() as f64),
            "max" => Some(values.iter().copied().fold(f64::MIN, f64::max)),
            "min" => Some(
                values
                    .iter()
                    .copied()
                    .filter(|v| *v > 0.0)
                    .fold(f64::MAX, f64::min),
            ),
            "streak" => Some(f64::from(streak(&acts))),
            "rest_days" => Some(self.rest_days(all)?.len() as f64),
            "pct" => {
                let of = self.of.as_ref().ok_or("pct needs `of`")?;
                let whole = of.activities(all).len();
                if whole == 0 {
                    return Err("pct of no activities".into());
                }
                Some(100.0 * acts.len() as f64 / whole as f64)
            }
            "remaining" => {
                let goal = self.goal.ok_or("remaining needs `goal`")?;
                Some((goal - values.iter().sum::<f64>()).max(0.0))
            }
            "top_value" => Some(self.top_group(&acts)?.1),
            "top" | "top_weekday" | "last_rest" => None,
            other => return Err(format!("unknown figure aggregate {other}")),
        })
    }

    /// Per-group totals in calendar order (weekdays from Monday), keyed by label.
    fn groups(&self, acts: &[&Activity]) -> Result<BTreeMap<(u32, String), f64>, String> {
        let by = self.by.as_deref().unwrap_or("weekday");
        let mut out = BTreeMap::new();
        for a in acts {
            let d = a.start_date_local.date();
            let key = match by {
                "week" => {
                    let monday =
                        d - chrono::Days::new(u64::from(d.weekday().num_days_from_monday()));
                    monday.to_string()
                }
                "month" => format!("{}-{:02}", d.year(), d.month()),
                "year" => d.year().to_string(),
                "weekday" => {
                    let i = d.weekday().num_days_from_monday();
                    *out.entry((i, WEEKDAYS[i as usize].to_string()))
                        .or_default() += self.value(a).unwrap_or(0.0);
                    continue;
                }
                other => return Err(format!("unknown grouping {other}")),
            };
            *out.entry((0, key)).or_default() += self.value(a).unwrap_or(0.0);
        }
        Ok(out)
    }

    /// The group with the largest total (the earliest label on a tie).
    fn top_group(&self, acts: &[&Activity]) -> Result<(String, f64), String> {
        self.groups(acts)?
            .into_iter()
            .fold(None::<(String, f64)>, |best, ((_, k), v)| match best {
                Some((_, bv)) if bv >= v => best,
                _ => Some((k, v)),
            })
            .ok_or_else(|| "top over no activities".to_string())
    }

    /// Every way the answer may write the figure (without the bold markers); the
    /// first is the canonical one.
    pub fn expected(&self, all: &[Activity], athlete_units: Units) -> Result<Vec<String>, String> {
        let units = self.units(athlete_units);
        match self.agg.as_str() {
            "top_weekday" => {
                let f = Figure {
                    by: Some("weekday".into()),
                    metric: String::new(),
                    ..self.clone()
                };
                return Ok(vec![f.top_group(&self.activities(all))?.0]);
            }
            "last_rest" => {
                let last = self.rest_days(all)?.pop().ok_or("no rest day")?;
                return Ok(vec![format::day(last)]);
            }
            "top" => {
                let (label, _) = self.top_group(&self.activities(all))?;
                // Months and weeks are written as people write them: "Oct 2025".
                return Ok(vec![format::date_key(&label)]);
            }
            _ => {}
        }
        let v = self.number(all)?.unwrap_or(0.0);
        Ok(match self.agg.as_str() {
            "count" | "streak" | "rest_days" => vec![format::group_thousands(v.round() as i64)],
            "pct" => vec![
                format!("{}%", format::number(v, 0)),
                format!("{}%", format::number(v, 1)),
            ],
            "top_value" if self.metric.is_empty() => {
                vec![format::group_thousands(v.round() as i64)]
            }
            _ => vec![self.show(v, units)],
        })
    }

    /// The days in [from, to) on which none of the activities this figure keeps
    /// started, oldest first.
    fn rest_days(&self, all: &[Activity]) -> Result<Vec<NaiveDate>, String> {
        let from = self.from.ok_or("rest days need `from`")?;
        let to = self.to.ok_or("rest days need `to`")?;
        let active: BTreeSet<NaiveDate> = self
            .activities(all)
            .iter()
            .map(|a| a.start_date_local.date())
            .collect();
        Ok(from
            .iter_days()
            .take_while(|d| *d < to)
            .filter(|d| !active.contains(d))
            .collect())
    }

    /// The ids of the activities this figure covers.
    pub fn ids(&self, all: &[Activity]) -> BTreeSet<i64> {
        self.activities(all).iter().map(|a| a.id.get()).collect()
    }
}

fn streak(acts: &[&Activity]) -> u32 {
    let days: BTreeSet<NaiveDate> = acts.iter().map(|a| a.start_date_local.date()).collect();
    let (mut best, mut cur, mut prev) = (0, 0, None::<NaiveDate>);
    for d in days {
        cur = match prev {
            Some(p) if p.succ_opt() == Some(d) => cur + 1,
            _ => 1,
        };
        best = best.max(cur);
        prev = Some(d);
    }
    best
}

/// A table cell the answer must hold: in the row labelled `x`, column `column`
/// holds the figure, converted to the column's unit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cell {
    pub x: String,
    pub column: String,
    pub figure: Figure,
}

impl Cell {
    /// The figure in the column's unit, as the engine's tables write it.
    pub fn want(&self, all: &[Activity]) -> Result<f64, String> {
        let v = self
            .figure
            .number(all)?
            .ok_or("a cell needs a numeric figure")?;
        let c = self.column.as_str();
        Ok(if c.starts_with("pace_min_per_") {
            let unit = match c {
                "pace_min_per_mi" => PaceUnit::PerMile,
                "pace_min_per_100m" => PaceUnit::Per100Metres,
                "pace_min_per_100yd" => PaceUnit::Per100Yards,
                _ => PaceUnit::PerKilometre,
            };
            unit.metres() / v / 60.0
        } else if c.ends_with("_km") {
            v / 1000.0
        } else if c.ends_with("_mi") {
            v / 1609.344
        } else if c.ends_with("_h") {
            v / 3600.0
        } else if c == "speed_kmh" {
            v * 3.6
        } else if c == "speed_mph" {
            v * 3600.0 / 1609.344
        } else {
            v
        })
    }
}
