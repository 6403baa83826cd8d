//! Seed files: athletes with generated activities and/or activities written in
//! Strava's SummaryActivity shape (for instance saved from the real API).
//!
//! ```json
//! {"athletes": [
//!   {"id": 42, "firstname": "Ada", "measurement_preference": "feet",
//!    "timezone": "(GMT-05:00) America/New_York", "generate": 300,
//!    "activities": [{"id": 7, "name": "Lunch Run", "sport_type": "Run",
//!                    "start_date": "2024-05-01T16:00:00Z", "distance": 5012.3,
//!                    "moving_time": 1510, "elapsed_time": 1600}]}
//! ]}
//! ```

use crate::model::{FakeError, NewAthlete};
use crate::state::Shared;
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::dates::parse_strava_timezone;
use domain::{Activity, ActivityId, ActivitySource, AthleteId, SportType};
use serde::{Deserialize, Serialize};

/// A whole seed file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedFile {
    /// Athletes to add, in order (the first one "logs in" by default).
    pub athletes: Vec<SeedAthlete>,
}

/// One athlete of a seed file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SeedAthlete {
    /// Profile fields.
    #[serde(flatten)]
    pub athlete: NewAthlete,
    /// Generated activities to add.
    #[serde(default)]
    pub generate: usize,
    /// Activities in Strava's shape.
    #[serde(default)]
    pub activities: Vec<SeedActivity>,
}

/// The SummaryActivity fields a seed may give; the rest are derived or zero.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedActivity {
    /// Activity id; `None` takes the next free one.
    pub id: Option<i64>,
    /// Title.
    pub name: Option<String>,
    /// Sport type ("Run", "GravelRide"...).
    pub sport_type: Option<String>,
    #[serde(rename = "type")]
    /// Strava's older `type`, used when `sport_type` is absent.
    pub legacy_type: Option<String>,
    /// UTC start; required.
    pub start_date: Option<DateTime<Utc>>,
    /// Local start as Strava writes it (with a misleading `Z`).
    pub start_date_local: Option<String>,
    /// Strava zone label; defaults to the athlete's.
    pub timezone: Option<String>,
    /// Metres.
    pub distance: f64,
    /// Seconds.
    pub moving_time: i32,
    /// Seconds; defaults to the moving time.
    pub elapsed_time: Option<i32>,
    /// Metres.
    pub total_elevation_gain: f64,
    /// Metres.
    pub elev_high: Option<f64>,
    /// Metres.
    pub elev_low: Option<f64>,
    /// Metres per second; derived when absent.
    pub average_speed: Option<f64>,
    /// Metres per second.
    pub max_speed: Option<f64>,
    /// Beats per minute.
    pub average_heartrate: Option<f64>,
    /// Beats per minute.
    pub max_heartrate: Option<f64>,
    /// Steps or revolutions per minute.
    pub average_cadence: Option<f64>,
    /// Watts.
    pub average_watts: Option<f64>,
    /// Work, kJ.
    pub kilojoules: Option<f64>,
    /// Kudos.
    pub kudos_count: i32,
    /// Comments.
    pub comment_count: i32,
    /// Achievements.
    pub achievement_count: i32,
    /// Personal records.
    pub pr_count: i32,
    /// Commute flag.
    pub commute: bool,
    /// Indoor flag.
    pub trainer: bool,
    /// Entered by hand.
    pub manual: bool,
    /// Only visible with `activity:read_all`.
    pub private: bool,
    /// 1 = run race, 11 = ride race...
    pub workout_type: Option<i32>,
    /// Gear id.
    pub gear_id: Option<String>,
    /// Recording device (DetailedActivity's `device_name`).
    pub device_name: Option<String>,
}

impl Shared {
    /// Loads a seed file; returns the athlete ids added.
    pub fn seed(&self, file: SeedFile) -> Result<Vec<AthleteId>, FakeError> {
        let mut ids = Vec::new();
        for entry in file.athletes {
            let athlete = self.add_athlete(entry.athlete)?;
            ids.push(athlete.id);
            let mut acts = Vec::with_capacity(entry.activities.len());
            for (i, s) in entry.activities.into_iter().enumerate() {
                let id = match s.id {
                    Some(id) => id,
                    None => self.lock().take_activity_id(),
                };
                acts.push(
                    s.into_activity(id, athlete.id, &athlete.timezone)
                        .map_err(|e| {
                            FakeError::Invalid(format!("athlete {} activity #{i}: {e}", athlete.id))
                        })?,
                );
            }
            self.add_activities(acts)?;
            if entry.generate > 0 {
                self.generate_activities(athlete.id, entry.generate)?;
            }
        }
        Ok(ids)
    }
}

impl SeedActivity {
    fn into_activity(self, id: i64, athlete: AthleteId, home: &str) -> Result<Activity, String> {
        let start = self.start_date.ok_or("start_date is required")?;
        let label = self.timezone.unwrap_or_else(|| home.to_string());
        let local = match self.start_date_local.as_deref() {
            // Strava writes local times with a misleading "Z"; it is not UTC.
            Some(text) => {
                NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S")
                    .map_err(|_| "start_date_local is not YYYY-MM-DDTHH:MM:SSZ")?
            }
            None => match parse_strava_timezone(&label) {
                Ok(tz) => start.with_timezone(&tz).naive_local(),
                Err(_) => start.naive_utc(),
            },
        };
        let sport = self
            .sport_type
            .or(self.legacy_type)
            .unwrap_or_else(|| "Run".into());
        let moving = self.moving_time.max(0);
        let speed = self.average_speed.unwrap_or(if moving > 0 {
            self.distance / f64::from(moving)
        } else {
            0.0
        });
        Ok(Activity {
            id: ActivityId(id),
            athlete_id: athlete,
            name: self.name.unwrap_or_else(|| format!("{sport} activity")),
            sport_type: SportType::new(sport),
            start_date: start,
            start_date_local: local,
            timezone: Some(label),
            distance_m: self.distance,
            moving_time_s: moving,
            elapsed_time_s: self.elapsed_time.unwrap_or(moving),
            total_elevation_gain_m: self.total_elevation_gain,
            elev_high_m: self.elev_high,
            elev_low_m: self.elev_low,
            average_speed_mps: speed,
            max_speed_mps: self.max_speed.unwrap_or(speed),
            average_heartrate: self.average_heartrate,
            max_heartrate: self.max_heartrate,
            average_cadence: self.average_cadence,
            average_watts: self.average_watts,
            weighted_average_watts: None,
            max_watts: None,
            kilojoules: self.kilojoules,
            calories: None,
            device_watts: false,
            kudos_count: self.kudos_count,
            comment_count: self.comment_count,
            achievement_count: self.achievement_count,
            pr_count: self.pr_count,
            commute: self.commute,
            trainer: self.trainer,
            manual: self.manual,
            private: self.private,
            flagged: false,
            workout_type: self.workout_type,
            gear_id: self.gear_id,
            device_name: self.device_name,
            source: ActivitySource::Import,
        })
    }
}
