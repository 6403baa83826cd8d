//! The activity as StravaTalk stores it: the SummaryActivity fields we use.

use crate::{ActivityId, AthleteId, SportType};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a stored activity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivitySource {
    /// Fetched from the Strava API (subject to Strava's retention rules).
    Api,
    /// Loaded from a Strava bulk export or a JSON file.
    Import,
    /// Generated demo data.
    Demo,
}

impl ActivitySource {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Import => "import",
            Self::Demo => "demo",
        }
    }
}

impl fmt::Display for ActivitySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActivitySource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "api" => Ok(Self::Api),
            "import" => Ok(Self::Import),
            "demo" => Ok(Self::Demo),
            other => Err(format!(
                "unknown activity source {other:?} (expected api, import or demo)"
            )),
        }
    }
}

/// One activity. Distances are metres, times seconds, speeds metres per second,
/// as Strava sends them; conversion happens only when formatting for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    pub athlete_id: AthleteId,
    pub name: String,
    pub sport_type: SportType,
    /// Start instant in UTC.
    pub start_date: DateTime<Utc>,
    /// Wall-clock start time where the activity happened.
    pub start_date_local: NaiveDateTime,
    /// Strava's time zone label, e.g. "(GMT+01:00) Europe/Paris".
    pub timezone: Option<String>,
    pub distance_m: f64,
    pub moving_time_s: i32,
    pub elapsed_time_s: i32,
    pub total_elevation_gain_m: f64,
    pub elev_high_m: Option<f64>,
    pub elev_low_m: Option<f64>,
    pub average_speed_mps: f64,
    pub max_speed_mps: f64,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub average_cadence: Option<f64>,
    pub average_watts: Option<f64>,
    pub weighted_average_watts: Option<i32>,
    pub max_watts: Option<i32>,
    pub kilojoules: Option<f64>,
    pub calories: Option<f64>,
    pub device_watts: bool,
    pub kudos_count: i32,
    pub comment_count: i32,
    pub achievement_count: i32,
    pub pr_count: i32,
    pub commute: bool,
    pub trainer: bool,
    pub manual: bool,
    pub private: bool,
    pub flagged: bool,
    /// Strava's workout type code ([`Workout::from_code`] reads it).
    pub workout_type: Option<i32>,
    pub gear_id: Option<String>,
    /// The recording device, as DetailedActivity's `device_name` gives it.
    pub device_name: Option<String>,
    pub source: ActivitySource,
}

impl Activity {
    /// Strava marks races with workout type 1 (runs) or 11 (rides).
    pub fn is_race(&self) -> bool {
        self.workout_type.and_then(Workout::from_code) == Some(Workout::Race)
    }
}

/// What an athlete marked an activity as. Strava's codes differ by sport: runs 0
/// (default), 1 race, 2 long run, 3 workout; rides 10 (default), 11 race, 12 workout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workout {
    Race,
    LongRun,
    Workout,
}

impl Workout {
    /// The kind a code names; `None` for the defaults and codes Strava has not defined.
    pub fn from_code(code: i32) -> Option<Self> {
        match code {
            1 | 11 => Some(Self::Race),
            2 => Some(Self::LongRun),
            3 | 12 => Some(Self::Workout),
            _ => None,
        }
    }

    /// The codes that mean this kind, runs' first.
    pub fn codes(self) -> &'static [i32] {
        match self {
            Self::Race => &[1, 11],
            Self::LongRun => &[2],
            Self::Workout => &[3, 12],
        }
    }
}
