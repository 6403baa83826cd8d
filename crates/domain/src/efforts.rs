//! Best efforts: the fastest stretch of a standard distance within one activity, as
//! Strava's DetailedActivity gives them or as computed from a GPS file.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// Strava's standard distances for running best efforts: its name and metres.
pub const STANDARD_DISTANCES: &[(&str, f64)] = &[
    ("400m", 400.0),
    ("1/2 mile", 804.672),
    ("1k", 1000.0),
    ("1 mile", 1609.344),
    ("2 mile", 3218.688),
    ("5k", 5000.0),
    ("10k", 10000.0),
    ("15k", 15000.0),
    ("10 mile", 16093.44),
    ("20k", 20000.0),
    ("Half-Marathon", 21097.5),
    ("30k", 30000.0),
    ("Marathon", 42195.0),
    ("50k", 50000.0),
];

/// One best effort of one activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestEffort {
    /// Strava's name of the distance ("5k", "1 mile").
    pub name: String,
    pub distance_m: f64,
    pub elapsed_time_s: i32,
    pub moving_time_s: i32,
    /// When the stretch started, UTC.
    pub start_date: DateTime<Utc>,
    /// When it started, where it happened.
    pub start_date_local: NaiveDateTime,
    /// 1 to 3 when Strava ranked it among the athlete's best at the time.
    pub pr_rank: Option<i32>,
}
