//! Strava's activity JSON (SummaryActivity from listings, DetailedActivity from
//! `/activities/{id}`) into [`domain::Activity`].
//!
//! Strava writes `start_date_local` with a trailing `Z` although it is the wall-clock
//! time where the activity happened, not UTC: it is read as a naive local time, never
//! shifted. Sensor fields are absent when there was no sensor, so they stay `None`.

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::{Activity, ActivityId, ActivitySource, AthleteId, SportType};
use serde_json::Value;

/// Converts one activity; the error names the field at fault.
pub fn activity_from_strava(json: &Value, source: ActivitySource) -> Result<Activity, String> {
    let id = json["id"]
        .as_i64()
        .filter(|id| *id > 0)
        .ok_or("id is missing or not a positive integer")?;
    let athlete = json["athlete"]["id"]
        .as_i64()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("activity {id}: athlete.id is missing"))?;
    let field = |name: &str| format!("activity {id}: {name}");
    let sport = json["sport_type"]
        .as_str()
        .or_else(|| json["type"].as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| field("sport_type is missing"))?;
    let start_date = json["start_date"]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .ok_or_else(|| field("start_date is missing or not an ISO 8601 time"))?;
    let start_date_local = json["start_date_local"]
        .as_str()
        .and_then(parse_local)
        .ok_or_else(|| field("start_date_local is missing or not an ISO 8601 time"))?;
    let f = |name: &str| json[name].as_f64();
    let int = |name: &str| json[name].as_f64().map(|v| v.round() as i32);
    let flag = |name: &str| json[name].as_bool().unwrap_or(false);
    Ok(Activity {
        id: ActivityId(id),
        athlete_id: AthleteId(athlete),
        name: json["name"].as_str().unwrap_or("").to_owned(),
        sport_type: SportType::new(sport.to_owned()),
        start_date,
        start_date_local,
        timezone: json["timezone"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        distance_m: f("distance").unwrap_or(0.0),
        moving_time_s: int("moving_time").unwrap_or(0),
        elapsed_time_s: int("elapsed_time").unwrap_or(0),
        total_elevation_gain_m: f("total_elevation_gain").unwrap_or(0.0),
        elev_high_m: f("elev_high"),
        elev_low_m: f("elev_low"),
        average_speed_mps: f("average_speed").unwrap_or(0.0),
        max_speed_mps: f("max_speed").unwrap_or(0.0),
        average_heartrate: f("average_heartrate"),
        max_heartrate: f("max_heartrate"),
        average_cadence: f("average_cadence"),
        average_watts: f("average_watts"),
        weighted_average_watts: int("weighted_average_watts"),
        max_watts: int("max_watts"),
        kilojoules: f("kilojoules"),
        // Only DetailedActivity has calories; Strava sends 0 when it has none.
        calories: f("calories").filter(|c| *c > 0.0),
        device_watts: flag("device_watts"),
        kudos_count: int("kudos_count").unwrap_or(0),
        comment_count: int("comment_count").unwrap_or(0),
        achievement_count: int("achievement_count").unwrap_or(0),
        pr_count: int("pr_count").unwrap_or(0),
        commute: flag("commute"),
        trainer: flag("trainer"),
        manual: flag("manual"),
        private: flag("private"),
        flagged: flag("flagged"),
        workout_type: int("workout_type"),
        gear_id: json["gear_id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        source,
    })
}

/// `2023-11-02T07:10:00Z` (or without the `Z`, or with fractional seconds) as the
/// wall-clock time it names.
fn parse_local(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim().trim_end_matches('Z');
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "resource_state": 2,
            "athlete": {"id": 134815, "resource_state": 1},
            "name": "Happy Friday",
            "distance": 24931.4,
            "moving_time": 4500,
            "elapsed_time": 4500,
            "total_elevation_gain": 0,
            "type": "Ride",
            "sport_type": "MountainBikeRide",
            "workout_type": null,
            "id": 154504250376_i64,
            "start_date": "2018-05-02T12:15:09Z",
            "start_date_local": "2018-05-02T05:15:09Z",
            "timezone": "(GMT-08:00) America/Los_Angeles",
            "utc_offset": -25200,
            "achievement_count": 0,
            "kudos_count": 3,
            "comment_count": 0,
            "trainer": true,
            "commute": false,
            "manual": false,
            "private": false,
            "flagged": false,
            "gear_id": "b12345678987654321",
            "average_speed": 5.54,
            "max_speed": 11,
            "average_watts": 175.3,
            "device_watts": true,
            "max_watts": 500,
            "weighted_average_watts": 210,
            "kilojoules": 788.7,
            "has_heartrate": false,
            "elev_high": 0,
            "elev_low": 0,
            "pr_count": 0
        })
    }

    #[test]
    fn converts_strava_reference_summary_activity() {
        let a = activity_from_strava(&sample(), ActivitySource::Api).unwrap();
        assert_eq!(a.id, ActivityId(154504250376));
        assert_eq!(a.athlete_id, AthleteId(134815));
        assert_eq!(a.sport_type.as_str(), "MountainBikeRide");
        assert_eq!(a.start_date.to_rfc3339(), "2018-05-02T12:15:09+00:00");
        // The local time is not shifted, whatever its 'Z' suggests.
        assert_eq!(a.start_date_local.to_string(), "2018-05-02 05:15:09");
        assert_eq!(a.moving_time_s, 4500);
        assert_eq!(a.max_speed_mps, 11.0);
        assert_eq!(a.max_watts, Some(500));
        assert_eq!(a.average_heartrate, None);
        assert!(a.trainer && a.device_watts && !a.commute);
        assert_eq!(a.gear_id.as_deref(), Some("b12345678987654321"));
        assert_eq!(a.calories, None);
        assert_eq!(a.source, ActivitySource::Api);
    }

    #[test]
    fn falls_back_to_type_and_names_bad_fields() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("sport_type");
        assert_eq!(
            activity_from_strava(&v, ActivitySource::Import)
                .unwrap()
                .sport_type
                .as_str(),
            "Ride"
        );
        v["start_date_local"] = json!("yesterday");
        let err = activity_from_strava(&v, ActivitySource::Api).unwrap_err();
        assert!(err.contains("start_date_local"), "{err}");
        assert!(activity_from_strava(&json!({"id": "x"}), ActivitySource::Api).is_err());
    }
}
