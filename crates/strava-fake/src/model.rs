//! The public data types the fake keeps: athletes, what to upload, how OAuth answers.

use chrono::{DateTime, Utc};
use domain::{AthleteId, Units};
use serde::{Deserialize, Serialize};

/// An athlete as the fake stores it; rendered in Strava's shapes by [`crate::json`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Athlete {
    /// Strava athlete id.
    pub id: AthleteId,
    /// Profile username, if any.
    pub username: Option<String>,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// "M", "F" or none.
    pub sex: Option<String>,
    /// Subscriber.
    pub summit: bool,
    /// "meters" or "feet" (shown only to tokens with `profile:read_all`).
    pub measurement_preference: Units,
    /// Kilograms.
    pub weight: Option<f64>,
    /// Functional threshold power, watts.
    pub ftp: Option<i32>,
    /// Not part of Strava's athlete JSON: the zone generated activities are placed in.
    pub timezone: String,
    /// Account creation.
    pub created_at: DateTime<Utc>,
    /// Last profile change.
    pub updated_at: DateTime<Utc>,
}

/// What [`crate::FakeStrava::add_athlete`] and `POST /_fake/athletes` take; every field
/// has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewAthlete {
    /// Fixed id; `None` takes the next free one.
    pub id: Option<AthleteId>,
    /// Username.
    pub username: Option<String>,
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// City.
    pub city: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// "M" or "F".
    pub sex: Option<String>,
    /// "meters" or "feet".
    pub measurement_preference: Units,
    /// Strava time zone label such as "(GMT+01:00) Europe/Paris".
    pub timezone: String,
    /// Kilograms.
    pub weight: Option<f64>,
}

impl Default for NewAthlete {
    fn default() -> Self {
        Self {
            id: None,
            username: None,
            firstname: "Fake".into(),
            lastname: "Athlete".into(),
            city: Some("Paris".into()),
            country: Some("France".into()),
            sex: None,
            measurement_preference: Units::Metric,
            timezone: demo::DEMO_TIMEZONE.into(),
            weight: Some(68.0),
        }
    }
}

/// An activity to "upload": a create event follows. Unset numbers are derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewActivity {
    /// Fixed id; `None` takes the next free one.
    pub id: Option<i64>,
    /// Title; `None` gives Strava's "Morning Run" style name.
    pub name: Option<String>,
    /// Strava sport type, e.g. "Run", "Ride", "TrailRun".
    pub sport_type: String,
    /// Start instant; `None` means one hour before the fake's now.
    pub start_date: Option<DateTime<Utc>>,
    /// Metres.
    pub distance_m: f64,
    /// Seconds.
    pub moving_time_s: i32,
    /// Seconds; `None` is the moving time.
    pub elapsed_time_s: Option<i32>,
    /// Metres climbed.
    pub total_elevation_gain_m: f64,
    /// Only visible to `activity:read_all` tokens.
    pub private: bool,
    /// Indoor.
    pub trainer: bool,
    /// Commute.
    pub commute: bool,
    /// Entered by hand (no GPS).
    pub manual: bool,
    /// 1 = run race, 11 = ride race.
    pub workout_type: Option<i32>,
    /// Beats per minute.
    pub average_heartrate: Option<f64>,
    /// Free text (DetailedActivity only).
    pub description: Option<String>,
}

impl Default for NewActivity {
    fn default() -> Self {
        Self {
            id: None,
            name: None,
            sport_type: "Run".into(),
            start_date: None,
            distance_m: 5000.0,
            moving_time_s: 1500,
            elapsed_time_s: None,
            total_elevation_gain_m: 20.0,
            private: false,
            trainer: false,
            commute: false,
            manual: false,
            workout_type: None,
            average_heartrate: None,
            description: None,
        }
    }
}

/// Changes to an existing activity; each set field that Strava reports in webhooks
/// (title, sport type, privacy) shows up in the update event's `updates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityUpdate {
    /// New title (`updates.title`).
    pub name: Option<String>,
    /// New sport type (`updates.sport_type`, and its legacy `updates.type`).
    pub sport_type: Option<String>,
    /// New privacy (`updates.private`, "true"/"false").
    pub private: Option<bool>,
    /// New description (no webhook field; Strava sends none for it either).
    pub description: Option<String>,
}

/// How `/oauth/authorize` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AuthorizeMode {
    /// Grant every scope asked for.
    #[default]
    Approve,
    /// Redirect back with `error=access_denied`.
    Deny,
    /// Grant what was asked minus these scopes (the athlete unticked boxes);
    /// `read` is always granted, as on Strava.
    Without {
        /// Scopes to withhold, e.g. `["activity:read_all"]`.
        scopes: Vec<String>,
    },
}

/// A token pair, as the token endpoint returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// Bearer token for `/api/v3`.
    pub access_token: String,
    /// Single-use token for the refresh grant.
    pub refresh_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A request the fake served (control calls excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Status answered.
    pub status: u16,
}

/// Errors of the handle and control API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FakeError {
    /// No such athlete.
    #[error("unknown athlete {0}")]
    UnknownAthlete(i64),
    /// No such activity.
    #[error("unknown activity {0}")]
    UnknownActivity(i64),
    /// Id already taken.
    #[error("id {0} already exists")]
    Duplicate(i64),
    /// Input that cannot be used.
    #[error("{0}")]
    Invalid(String),
}
