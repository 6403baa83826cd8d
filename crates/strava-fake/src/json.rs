//! Strava's JSON: error bodies and the athlete/activity shapes from the published
//! API reference (SummaryAthlete, DetailedAthlete, SummaryActivity, DetailedActivity).

use crate::model::Athlete;
use crate::state::Stored;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use domain::{Activity, Gear, GearKind};
use serde_json::{Map, Value, json};
use std::fmt;

/// An error answered with Strava's `{"message", "errors": [...]}` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Response body.
    pub body: Value,
}

impl ApiError {
    /// One error entry with Strava's resource/field/code triple.
    pub fn new(status: StatusCode, message: &str, resource: &str, field: &str, code: &str) -> Self {
        Self {
            status,
            body: json!({
                "message": message,
                "errors": [{"resource": resource, "field": field, "code": code}],
            }),
        }
    }

    /// 400 "Bad Request".
    pub fn bad_request(resource: &str, field: &str, code: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            resource,
            field,
            code,
        )
    }

    /// 401 "Authorization Error".
    pub fn unauthorized(resource: &str, field: &str, code: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Authorization Error",
            resource,
            field,
            code,
        )
    }

    /// The 401 for a missing, unknown, revoked or expired bearer token.
    pub fn bad_token() -> Self {
        Self::unauthorized("Athlete", "access_token", "invalid")
    }

    /// 404 "Record Not Found".
    pub fn not_found(resource: &str, field: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Record Not Found",
            resource,
            field,
            "invalid",
        )
    }

    /// 429 "Rate Limit Exceeded".
    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate Limit Exceeded",
            "Application",
            "rate limit",
            "exceeded",
        )
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(&self.body)
    }
}

/// ISO 8601 with a `Z`, as Strava writes every date.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Strava's legacy `type` for a `sport_type`: newer sport types collapse to an older one.
pub fn legacy_type(sport_type: &str) -> &str {
    match sport_type {
        "GravelRide" | "MountainBikeRide" => "Ride",
        "EMountainBikeRide" => "EBikeRide",
        "TrailRun" => "Run",
        "Badminton"
        | "HighIntensityIntervalTraining"
        | "Pickleball"
        | "Pilates"
        | "Racquetball"
        | "Squash"
        | "TableTennis"
        | "Tennis"
        | "VirtualRow" => "Workout",
        other => other,
    }
}

/// A start point near the city the activity's time zone names; none indoors or
/// for manual entries, where Strava sends empty arrays.
fn start_point(a: &Activity) -> Option<(f64, f64)> {
    if a.trainer || a.manual {
        return None;
    }
    let tz = a.timezone.as_deref().unwrap_or("");
    let base = [
        ("Paris", (48.8566, 2.3522)),
        ("New_York", (40.7812, -73.9665)),
        ("Tokyo", (35.6852, 139.7528)),
        ("London", (51.5072, -0.1276)),
        ("Berlin", (52.5200, 13.4050)),
        ("Los_Angeles", (34.0522, -118.2437)),
    ]
    .into_iter()
    .find(|(city, _)| tz.contains(city))
    .map(|(_, p)| p)?;
    // Spread starts a little so routes do not all overlap.
    let jitter = (a.id.get().rem_euclid(1000) as f64) * 1e-5;
    Some((base.0 + jitter, base.1 - jitter))
}

/// A small loop whose size grows with the distance, enough for a map thumbnail.
fn route(a: &Activity) -> Vec<(f64, f64)> {
    let Some((lat, lng)) = start_point(a) else {
        return Vec::new();
    };
    let d = (a.distance_m / 4.0 / 111_000.0).clamp(0.0005, 0.5);
    vec![
        (lat, lng),
        (lat + d, lng),
        (lat + d, lng + d),
        (lat, lng + d),
        (lat + 0.0001, lng + 0.0001),
    ]
}

/// Google's encoded polyline format, which Strava uses for maps.
pub fn encode_polyline(points: &[(f64, f64)]) -> String {
    fn push(out: &mut String, v: i64) {
        let mut v = if v < 0 { !(v << 1) } else { v << 1 };
        while v >= 0x20 {
            out.push(char::from(((0x20 | (v & 0x1f)) + 63) as u8));
            v >>= 5;
        }
        out.push(char::from((v + 63) as u8));
    }
    let mut out = String::new();
    let (mut prev_lat, mut prev_lng) = (0i64, 0i64);
    for &(lat, lng) in points {
        let (la, ln) = ((lat * 1e5).round() as i64, (lng * 1e5).round() as i64);
        push(&mut out, la - prev_lat);
        push(&mut out, ln - prev_lng);
        (prev_lat, prev_lng) = (la, ln);
    }
    out
}

/// Whole degrees Celsius, as a recording device with a thermometer reports it:
/// none for manual entries and indoor or virtual sessions. Derived from the start
/// month (warmer mid-year) and the id, so summary and detail agree.
fn average_temp(a: &Activity) -> Option<i64> {
    let sport = a.sport_type.as_str();
    if a.manual || a.trainer || sport.starts_with("Virtual") {
        return None;
    }
    let month = i64::from(chrono::Datelike::month(&a.start_date_local));
    let season = 6 - (month - 7).abs();
    Some(4 + 3 * season + a.id.get().rem_euclid(5))
}

fn latlng(p: Option<(f64, f64)>) -> Value {
    match p {
        Some((lat, lng)) => json!([round(lat, 6), round(lng, 6)]),
        None => json!([]),
    }
}

fn round(v: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    (v * f).round() / f
}

fn insert_opt<T: Into<Value>>(m: &mut Map<String, Value>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v.into());
    }
}

/// SummaryActivity (resource_state 2), as `/athlete/activities` lists it.
pub fn summary_activity(s: &Stored) -> Value {
    activity_json(s, false)
}

/// DetailedActivity (resource_state 3), as `/activities/{id}` returns it.
pub fn detailed_activity(s: &Stored) -> Value {
    activity_json(s, true)
}

fn activity_json(s: &Stored, detailed: bool) -> Value {
    let a = &s.activity;
    let id = a.id.get();
    let points = route(a);
    let polyline = encode_polyline(&points);
    let start = points.first().copied();
    let end = points.last().copied();
    let utc_offset = (a.start_date_local - a.start_date.naive_utc()).num_seconds() as f64;
    let sport = a.sport_type.as_str();
    let has_hr = a.average_heartrate.is_some();
    let recorded = !a.manual;
    let suffer_score = a
        .average_heartrate
        .map(|hr| (f64::from(a.moving_time_s) / 60.0 * ((hr - 100.0).max(0.0) / 40.0)).round());
    let mut map = json!({
        "id": format!("a{id}"),
        "summary_polyline": polyline,
        "resource_state": if detailed { 3 } else { 2 },
    });
    if detailed && let Some(m) = map.as_object_mut() {
        m.insert("polyline".into(), Value::String(polyline.clone()));
    }
    let mut v = json!({
        "resource_state": if detailed { 3 } else { 2 },
        "athlete": {"id": a.athlete_id.get(), "resource_state": 1},
        "name": a.name,
        "distance": a.distance_m,
        "moving_time": a.moving_time_s,
        "elapsed_time": a.elapsed_time_s,
        "total_elevation_gain": a.total_elevation_gain_m,
        "type": legacy_type(sport),
        "sport_type": sport,
        "workout_type": a.workout_type,
        "id": id,
        "upload_id": recorded.then_some(id + 1_000_000_000),
        "start_date": iso(a.start_date),
        "start_date_local": a.start_date_local.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "timezone": a.timezone,
        "utc_offset": utc_offset,
        "location_city": null,
        "location_state": null,
        "location_country": null,
        "achievement_count": a.achievement_count,
        "kudos_count": a.kudos_count,
        "comment_count": a.comment_count,
        "athlete_count": 1,
        "photo_count": 0,
        "map": map,
        "trainer": a.trainer,
        "commute": a.commute,
        "manual": a.manual,
        "private": a.private,
        "visibility": if a.private { "only_me" } else { "everyone" },
        "flagged": a.flagged,
        "gear_id": a.gear_id,
        "start_latlng": latlng(start),
        "end_latlng": latlng(end),
        "average_speed": a.average_speed_mps,
        "max_speed": a.max_speed_mps,
        "has_heartrate": has_hr,
        "heartrate_opt_out": false,
        "display_hide_heartrate_option": has_hr,
        "elev_high": a.elev_high_m,
        "elev_low": a.elev_low_m,
        "pr_count": a.pr_count,
        "total_photo_count": 0,
        "has_kudoed": false,
        "from_accepted_tag": false,
    });
    let Some(m) = v.as_object_mut() else {
        return v;
    };
    // Strava leaves fields out entirely, rather than sending null, when it has no
    // value: the upload's file fields for manual entries, the relative effort
    // without heart rate, and sensor fields when the sensor was absent.
    insert_opt(m, "external_id", recorded.then(|| format!("fake-{id}.fit")));
    insert_opt(
        m,
        "upload_id_str",
        recorded.then(|| (id + 1_000_000_000).to_string()),
    );
    insert_opt(m, "suffer_score", suffer_score);
    insert_opt(m, "average_temp", average_temp(a));
    insert_opt(m, "average_cadence", a.average_cadence);
    insert_opt(m, "average_watts", a.average_watts);
    insert_opt(m, "weighted_average_watts", a.weighted_average_watts);
    insert_opt(m, "max_watts", a.max_watts);
    insert_opt(m, "kilojoules", a.kilojoules);
    if a.average_watts.is_some() {
        m.insert("device_watts".into(), Value::Bool(a.device_watts));
    }
    insert_opt(m, "average_heartrate", a.average_heartrate);
    insert_opt(m, "max_heartrate", a.max_heartrate);
    if detailed {
        m.insert(
            "description".into(),
            s.description.clone().map_or(Value::Null, Value::String),
        );
        m.insert("calories".into(), json!(a.calories.unwrap_or(0.0)));
        let device = if let Some(device) = &a.device_name {
            json!(device)
        } else if a.manual {
            Value::Null
        } else if sport == "VirtualRide" || sport == "VirtualRun" {
            json!("Zwift")
        } else {
            json!("Garmin Forerunner 965")
        };
        m.insert("device_name".into(), device);
        m.insert("embed_token".into(), json!(format!("{:040x}", id)));
        m.insert("photos".into(), json!({"primary": null, "count": 0}));
        m.insert(
            "gear".into(),
            match &a.gear_id {
                Some(g) => summary_gear(&gear_named(g), None),
                None => Value::Null,
            },
        );
        m.insert("best_efforts".into(), best_efforts(a));
        for key in [
            "segment_efforts",
            "splits_metric",
            "splits_standard",
            "laps",
            "highlighted_kudosers",
            "available_zones",
        ] {
            m.insert(key.into(), json!([]));
        }
        m.insert("hide_from_home".into(), Value::Bool(false));
        m.insert("partner_brand_tag".into(), Value::Null);
    }
    v
}

/// A run's best efforts in DetailedActivity's shape: the demo generator's, derived
/// from the activity itself, so they agree with its distance and times.
fn best_efforts(a: &Activity) -> Value {
    let efforts: Vec<Value> = demo::demo_best_efforts(a)
        .iter()
        .enumerate()
        .map(|(i, e)| {
            json!({
                "id": a.id.get() * 100 + i as i64,
                "resource_state": 2,
                "name": e.name,
                "activity": {"id": a.id.get(), "resource_state": 1},
                "athlete": {"id": a.athlete_id.get(), "resource_state": 1},
                "elapsed_time": e.elapsed_time_s,
                "moving_time": e.moving_time_s,
                "start_date": iso(e.start_date),
                "start_date_local": e.start_date_local.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                "distance": e.distance_m,
                "pr_rank": e.pr_rank,
                "achievements": [],
            })
        })
        .collect();
    Value::Array(efforts)
}

/// The gear an activity's `gear_id` names: the demo athlete's, else a made-up name.
/// Strava's ids say the kind: bikes start with "b", shoes with "g".
pub fn gear_named(id: &str) -> Gear {
    demo::demo_gear()
        .into_iter()
        .find(|g| g.id == id)
        .unwrap_or_else(|| Gear {
            id: id.to_owned(),
            name: format!("Gear {id}"),
            kind: if id.starts_with('b') {
                Some(GearKind::Bike)
            } else {
                Some(GearKind::Shoes)
            },
            primary: false,
            retired: false,
            distance_m: None,
        })
}

/// SummaryGear (resource_state 2); `distance` in metres when known.
pub fn summary_gear(g: &Gear, distance: Option<f64>) -> Value {
    let distance = distance.or(g.distance_m).unwrap_or(0.0);
    json!({
        "id": g.id,
        "primary": g.primary,
        "name": g.name,
        "nickname": g.name,
        "resource_state": 2,
        "retired": g.retired,
        "distance": distance,
        "converted_distance": round(distance / 1000.0, 1),
    })
}

/// DetailedGear (resource_state 3), as `/gear/{id}` returns it.
pub fn detailed_gear(g: &Gear, distance: f64) -> Value {
    let mut v = summary_gear(g, Some(distance));
    if let Some(m) = v.as_object_mut() {
        m.insert("resource_state".into(), json!(3));
        let (brand, model) = g.name.split_once(' ').unwrap_or((&g.name, ""));
        m.insert("brand_name".into(), json!(brand));
        m.insert("model_name".into(), json!(model));
        m.insert("description".into(), json!(""));
        if g.kind == Some(GearKind::Bike) {
            m.insert("frame_type".into(), json!(3));
        }
    }
    v
}

/// SummaryAthlete (resource_state 2), as the token exchange returns it.
pub fn summary_athlete(a: &Athlete) -> Value {
    json!({
        "id": a.id.get(),
        "username": a.username,
        "resource_state": 2,
        "firstname": a.firstname,
        "lastname": a.lastname,
        "bio": "",
        "city": a.city,
        "state": a.state,
        "country": a.country,
        "sex": a.sex,
        "premium": a.summit,
        "summit": a.summit,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.updated_at),
        "badge_type_id": u8::from(a.summit),
        "weight": a.weight,
        "profile_medium": "avatar/athlete/medium.png",
        "profile": "avatar/athlete/large.png",
        "friend": null,
        "follower": null,
    })
}

/// DetailedAthlete (resource_state 3) for `/athlete`; the private fields, units
/// among them, only when the token has `profile:read_all`. `gear` is what the
/// athlete's activities name, with each one's distance: the bikes and shoes not
/// retired are listed, as Strava lists them.
pub fn detailed_athlete(a: &Athlete, profile_read_all: bool, gear: &[(Gear, f64)]) -> Value {
    let mut v = summary_athlete(a);
    if !profile_read_all {
        return v;
    }
    if let Some(m) = v.as_object_mut() {
        m.insert("resource_state".into(), json!(3));
        m.insert("follower_count".into(), json!(0));
        m.insert("friend_count".into(), json!(0));
        m.insert(
            "measurement_preference".into(),
            json!(a.measurement_preference.as_strava()),
        );
        m.insert("ftp".into(), json!(a.ftp));
        m.insert("date_preference".into(), json!("%m/%d/%Y"));
        m.insert("athlete_type".into(), json!(1));
        m.insert("clubs".into(), json!([]));
        let listed = |kind: GearKind| -> Vec<Value> {
            gear.iter()
                .filter(|(g, _)| g.kind == Some(kind) && !g.retired)
                .map(|(g, distance)| summary_gear(g, Some(*distance)))
                .collect()
        };
        m.insert("bikes".into(), Value::Array(listed(GearKind::Bike)));
        m.insert("shoes".into(), Value::Array(listed(GearKind::Shoes)));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyline_matches_the_reference_example() {
        // The worked example from the format's description.
        let pts = [(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)];
        assert_eq!(encode_polyline(&pts), "_p~iF~ps|U_ulLnnqC_mqNvxq`@");
    }
}
