//! Strava's activity JSON (SummaryActivity from listings, DetailedActivity from
//! `/activities/{id}`, or an imported array of either) read into [`StravaActivity`],
//! then into [`domain::Activity`].
//!
//! Strava writes `start_date_local` with a trailing `Z` although it is the wall-clock
//! time where the activity happened, not UTC: it is read as a naive local time, never
//! shifted. Sensor fields are absent (or null) when there was no sensor, so they stay
//! `None`. Every field we read is checked strictly, by the checks every reader shares
//! (`domain::fields::check`): a value of the wrong type, a negative distance or time,
//! an impossible heart rate, a name longer than Strava allows or holding a NUL is a
//! [`FieldError`] naming the field, never a silent 0 or "".

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::fields::{self, FieldError, Problem, check};
use domain::{
    Activity, ActivityId, ActivitySource, AthleteId, BestEffort, Gear, GearKind, SportType,
};
use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::{Map, Value};

/// An activity as Strava sends it (SummaryActivity, DetailedActivity): the fields we
/// read, typed, `None` where Strava leaves one out (or sends `null`). Fields Strava adds
/// are ignored. Reading one checks every field: a wrong type or an impossible value is
/// an error naming the field (`activity 7: distance: -5 is negative`).
#[derive(Debug, Clone, PartialEq)]
pub struct StravaActivity {
    pub id: i64,
    /// `athlete.id` (a MetaAthlete).
    pub athlete_id: i64,
    pub name: Option<String>,
    /// `sport_type`, or the older `type` when it is absent.
    pub sport_type: String,
    pub start_date: DateTime<Utc>,
    /// Wall-clock time where the activity happened (Strava's trailing `Z` ignored).
    pub start_date_local: NaiveDateTime,
    pub timezone: Option<String>,
    pub distance: Option<f64>,
    pub moving_time: Option<i32>,
    pub elapsed_time: Option<i32>,
    pub total_elevation_gain: Option<f64>,
    pub elev_high: Option<f64>,
    pub elev_low: Option<f64>,
    pub average_speed: Option<f64>,
    pub max_speed: Option<f64>,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub average_cadence: Option<f64>,
    pub average_watts: Option<f64>,
    pub weighted_average_watts: Option<i32>,
    pub max_watts: Option<i32>,
    pub kilojoules: Option<f64>,
    /// DetailedActivity only.
    pub calories: Option<f64>,
    pub device_watts: Option<bool>,
    pub kudos_count: Option<i32>,
    pub comment_count: Option<i32>,
    pub achievement_count: Option<i32>,
    pub pr_count: Option<i32>,
    pub commute: Option<bool>,
    pub trainer: Option<bool>,
    pub manual: Option<bool>,
    pub private: Option<bool>,
    pub flagged: Option<bool>,
    pub workout_type: Option<i32>,
    pub gear_id: Option<String>,
    /// DetailedActivity only.
    pub device_name: Option<String>,
    /// DetailedActivity only: `None` when the object has no `best_efforts` (a
    /// SummaryActivity), so efforts stored earlier are kept.
    pub best_efforts: Option<Vec<BestEffort>>,
    /// The object exactly as sent, kept in `activities.raw`.
    pub raw: Value,
}

impl StravaActivity {
    /// Reads one activity object; the error names the field at fault.
    pub fn from_json(raw: Value) -> Result<Self, String> {
        let obj = raw
            .as_object()
            .ok_or_else(|| format!("expected an activity object, got {}", kind_of(&raw)))?;
        let id = positive_id(obj.get("id")).ok_or("id is missing or not a positive integer")?;
        let mut activity = Fields(obj)
            .read(id)
            .map_err(|e| format!("activity {id}: {e}"))?;
        activity.raw = raw;
        Ok(activity)
    }

    /// The activity in our terms. Strava leaves out what it has none of: no flag is
    /// false, no count or quantity is 0, and 0 calories is none.
    pub fn to_activity(&self, source: ActivitySource) -> Activity {
        let flag = |v: Option<bool>| v.unwrap_or(false);
        let zero = |v: Option<f64>| v.unwrap_or(0.0);
        let count = |v: Option<i32>| v.unwrap_or(0);
        let text = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Activity {
            id: ActivityId(self.id),
            athlete_id: AthleteId(self.athlete_id),
            name: self.name.clone().unwrap_or_default(),
            sport_type: SportType::new(self.sport_type.clone()),
            start_date: self.start_date,
            start_date_local: self.start_date_local,
            timezone: text(&self.timezone),
            distance_m: zero(self.distance),
            moving_time_s: count(self.moving_time),
            elapsed_time_s: count(self.elapsed_time),
            total_elevation_gain_m: zero(self.total_elevation_gain),
            elev_high_m: self.elev_high,
            elev_low_m: self.elev_low,
            average_speed_mps: zero(self.average_speed),
            max_speed_mps: zero(self.max_speed),
            average_heartrate: self.average_heartrate,
            max_heartrate: self.max_heartrate,
            average_cadence: self.average_cadence,
            average_watts: self.average_watts,
            weighted_average_watts: self.weighted_average_watts,
            max_watts: self.max_watts,
            kilojoules: self.kilojoules,
            calories: self.calories.filter(|c| *c > 0.0),
            device_watts: flag(self.device_watts),
            kudos_count: count(self.kudos_count),
            comment_count: count(self.comment_count),
            achievement_count: count(self.achievement_count),
            pr_count: count(self.pr_count),
            commute: flag(self.commute),
            trainer: flag(self.trainer),
            manual: flag(self.manual),
            private: flag(self.private),
            flagged: flag(self.flagged),
            workout_type: self.workout_type,
            gear_id: text(&self.gear_id),
            device_name: text(&self.device_name),
            source,
        }
    }
}

impl<'de> Deserialize<'de> for StravaActivity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_json(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// One item of an activity listing: a page is read item by item, so one activity
/// that does not read is skipped (with its reason) rather than losing the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The item's `id` as sent, even when the rest does not read: it exists on Strava.
    pub id: Option<i64>,
    pub activity: Result<StravaActivity, String>,
}

impl<'de> Deserialize<'de> for Listed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        Ok(Self {
            id: raw.get("id").and_then(Value::as_i64),
            activity: StravaActivity::from_json(raw),
        })
    }
}

/// Converts one activity object (an API answer or an item of an imported array); the
/// error names the field at fault.
pub fn activity_from_strava(json: &Value, source: ActivitySource) -> Result<Activity, String> {
    StravaActivity::from_json(json.clone()).map(|a| a.to_activity(source))
}

/// The fields of one activity object, read with their types checked.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn read(&self, id: i64) -> Result<StravaActivity, FieldError> {
        let athlete_id = match self.0.get("athlete") {
            Some(Value::Object(a)) => positive_id(a.get("id")),
            _ => None,
        }
        .ok_or_else(|| FieldError::new("athlete.id", "", Problem::Missing))?;
        let sport = match self.label("sport_type", fields::MAX_TYPE_CHARS)? {
            Some(s) if !s.is_empty() => s,
            _ => self
                .label("type", fields::MAX_TYPE_CHARS)?
                .filter(|s| !s.is_empty())
                .ok_or_else(|| FieldError::new("sport_type", "", Problem::Missing))?,
        };
        let start_date = self.time("start_date", |s| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })?;
        let start_date_local = self.time("start_date_local", parse_local)?;
        let label = |name: &str| {
            self.label(name, fields::MAX_LABEL_CHARS)
                .map(|v| v.map(str::to_owned))
        };
        Ok(StravaActivity {
            id,
            athlete_id,
            name: self
                .label("name", fields::MAX_NAME_CHARS)?
                .map(str::to_owned),
            sport_type: sport.to_owned(),
            start_date,
            start_date_local,
            timezone: label("timezone")?,
            distance: self.quantity("distance")?,
            moving_time: self.whole("moving_time")?,
            elapsed_time: self.whole("elapsed_time")?,
            total_elevation_gain: self.quantity("total_elevation_gain")?,
            // Elevations may be below sea level.
            elev_high: self.number("elev_high")?,
            elev_low: self.number("elev_low")?,
            average_speed: self.quantity("average_speed")?,
            max_speed: self.quantity("max_speed")?,
            average_heartrate: self.heartrate("average_heartrate")?,
            max_heartrate: self.heartrate("max_heartrate")?,
            average_cadence: self.quantity("average_cadence")?,
            average_watts: self.quantity("average_watts")?,
            weighted_average_watts: self.whole("weighted_average_watts")?,
            max_watts: self.whole("max_watts")?,
            kilojoules: self.quantity("kilojoules")?,
            calories: self.quantity("calories")?,
            device_watts: self.flag("device_watts")?,
            kudos_count: self.whole("kudos_count")?,
            comment_count: self.whole("comment_count")?,
            achievement_count: self.whole("achievement_count")?,
            pr_count: self.whole("pr_count")?,
            commute: self.flag("commute")?,
            trainer: self.flag("trainer")?,
            manual: self.flag("manual")?,
            private: self.flag("private")?,
            flagged: self.flag("flagged")?,
            workout_type: self.whole("workout_type")?,
            gear_id: label("gear_id")?,
            device_name: label("device_name")?,
            best_efforts: self.best_efforts()?,
            raw: Value::Null,
        })
    }

    /// DetailedActivity's `best_efforts`: each one's distance, times and start, checked
    /// as the activity's own fields are, and named by its place in the list.
    fn best_efforts(&self) -> Result<Option<Vec<BestEffort>>, FieldError> {
        let items = match self.get("best_efforts") {
            None => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(FieldError::new(
                    "best_efforts",
                    kind_of(other),
                    Problem::WrongType { want: "an array" },
                ));
            }
        };
        let mut efforts = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(obj) = item else {
                return Err(FieldError::new(
                    format!("best_efforts[{i}]"),
                    kind_of(item),
                    Problem::WrongType { want: "an object" },
                ));
            };
            let effort = Fields(obj);
            let named = |mut e: FieldError| {
                e.field = format!("best_efforts[{i}].{}", e.field);
                e
            };
            let need = |name: &str| FieldError::new(name, "", Problem::Missing);
            let read = || -> Result<BestEffort, FieldError> {
                let elapsed = effort
                    .whole("elapsed_time")?
                    .ok_or_else(|| need("elapsed_time"))?;
                Ok(BestEffort {
                    name: effort
                        .label("name", fields::MAX_TYPE_CHARS)?
                        .ok_or_else(|| need("name"))?
                        .to_owned(),
                    distance_m: effort
                        .quantity("distance")?
                        .ok_or_else(|| need("distance"))?,
                    elapsed_time_s: elapsed,
                    moving_time_s: effort.whole("moving_time")?.unwrap_or(elapsed),
                    start_date: effort.time("start_date", |s| {
                        DateTime::parse_from_rfc3339(s)
                            .ok()
                            .map(|d| d.with_timezone(&Utc))
                    })?,
                    start_date_local: effort.time("start_date_local", parse_local)?,
                    pr_rank: effort.whole("pr_rank")?,
                })
            };
            efforts.push(read().map_err(named)?);
        }
        Ok(Some(efforts))
    }

    /// The field's value; absent and `null` are the same to Strava.
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn text(&self, name: &str) -> Result<Option<&str>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, "a string", other)),
        }
    }

    /// Text of at most `max_chars` characters without a NUL.
    fn label(&self, name: &str, max_chars: usize) -> Result<Option<&str>, FieldError> {
        let Some(text) = self.text(name)? else {
            return Ok(None);
        };
        check::text(text, max_chars)
            .map(Some)
            .map_err(|p| FieldError::new(name, kind_of(&Value::String(text.into())), p))
    }

    /// A time, read by `parse`; required.
    fn time<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, FieldError> {
        let text = self
            .text(name)?
            .ok_or_else(|| FieldError::new(name, "", Problem::Missing))?;
        parse(text).ok_or_else(|| {
            FieldError::new(
                name,
                kind_of(&Value::String(text.into())),
                Problem::NotATime,
            )
        })
    }

    fn flag(&self, name: &str) -> Result<Option<bool>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(name, "true or false", other)),
        }
    }

    /// A number, passed through `check`.
    fn checked<T>(
        &self,
        name: &str,
        check: impl Fn(f64) -> Result<T, Problem>,
    ) -> Result<Option<T>, FieldError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::INFINITY);
                check(v)
                    .map(Some)
                    .map_err(|p| FieldError::new(name, v.to_string(), p))
            }
            Some(other) => Err(wrong_type(name, "a number", other)),
        }
    }

    fn number(&self, name: &str) -> Result<Option<f64>, FieldError> {
        self.checked(name, check::number)
    }

    fn quantity(&self, name: &str) -> Result<Option<f64>, FieldError> {
        self.checked(name, check::quantity)
    }

    fn whole(&self, name: &str) -> Result<Option<i32>, FieldError> {
        self.checked(name, check::whole)
    }

    fn heartrate(&self, name: &str) -> Result<Option<f64>, FieldError> {
        self.checked(name, check::heartrate)
    }
}

/// Reads Strava's SummaryGear or DetailedGear (`id`, `name`, `primary`, `retired`,
/// `distance` in metres). `kind` is the list it came in (`bikes` or `shoes`); without
/// one, Strava's id says it: bikes' ids start with "b", shoes' with "g".
pub fn gear_from_strava(raw: &Value, kind: Option<GearKind>) -> Result<Gear, FieldError> {
    let obj = raw.as_object().ok_or_else(|| {
        FieldError::new(
            "gear",
            kind_of(raw),
            Problem::WrongType { want: "an object" },
        )
    })?;
    let fields = Fields(obj);
    let missing = |name: &str| FieldError::new(name, "", Problem::Missing);
    let id = fields
        .label("id", fields::MAX_LABEL_CHARS)?
        .filter(|id| !id.is_empty())
        .ok_or_else(|| missing("id"))?
        .to_owned();
    let name = fields
        .label("name", fields::MAX_LABEL_CHARS)?
        .or(fields.label("nickname", fields::MAX_LABEL_CHARS)?)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing("name"))?
        .to_owned();
    let kind = kind.or(match id.as_bytes().first() {
        Some(b'b') => Some(GearKind::Bike),
        Some(b'g') => Some(GearKind::Shoes),
        _ => None,
    });
    Ok(Gear {
        primary: fields.flag("primary")?.unwrap_or(false),
        retired: fields.flag("retired")?.unwrap_or(false),
        distance_m: fields.quantity("distance")?,
        id,
        name,
        kind,
    })
}

fn positive_id(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_i64).filter(|id| *id > 0)
}

fn wrong_type(name: &str, want: &'static str, got: &Value) -> FieldError {
    FieldError::new(name, kind_of(got), Problem::WrongType { want })
}

/// A short description of a JSON value for error messages: its type, and the value
/// itself when it is short enough to help.
fn kind_of(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 24 => format!("the string {s:?}"),
        Value::String(_) => "a long string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
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

    #[test]
    fn wrong_types_and_impossible_values_are_errors_naming_the_field() {
        let cases = [
            (
                "distance",
                json!("5 km"),
                "distance: expected a number, got the string \"5 km\"",
            ),
            ("distance", json!(-5.0), "distance: -5 is negative"),
            ("moving_time", json!(-1), "moving_time: -1 is negative"),
            (
                "elapsed_time",
                json!(12.5),
                "elapsed_time: 12.5 is not a whole number",
            ),
            ("elapsed_time", json!(1e12), "elapsed_time"),
            (
                "name",
                json!(42),
                "name: expected a string, got the number 42",
            ),
            ("commute", json!("yes"), "commute: expected true or false"),
            (
                "max_heartrate",
                json!(400),
                "max_heartrate: 400 bpm is not a heart rate",
            ),
            (
                "kudos_count",
                json!([]),
                "kudos_count: expected a number, got an array",
            ),
        ];
        for (field, value, want) in cases {
            let mut v = sample();
            v[field] = value;
            let err = activity_from_strava(&v, ActivitySource::Import).unwrap_err();
            assert!(err.contains(want), "{field}: {err}");
            assert!(err.starts_with("activity 154504250376: "), "{err}");
        }
        for bad_id in [json!(0), json!(-5), json!(1.5), json!("7")] {
            let mut v = sample();
            v["id"] = bad_id;
            assert!(activity_from_strava(&v, ActivitySource::Import).is_err());
        }
        let err = activity_from_strava(&json!("run"), ActivitySource::Import).unwrap_err();
        assert!(err.contains("expected an activity object"), "{err}");
    }

    #[test]
    fn text_fields_have_the_csv_readers_bounds() {
        // The same checks as the export's CSV (issue 19): names up to 1,000
        // characters, sport types up to 64, no NUL anywhere.
        let mut v = sample();
        v["name"] = json!("é".repeat(1000));
        assert!(activity_from_strava(&v, ActivitySource::Import).is_ok());
        v["name"] = json!("é".repeat(1001));
        let err = activity_from_strava(&v, ActivitySource::Import).unwrap_err();
        assert!(err.contains("name is 1001 characters long"), "{err}");
        v["name"] = json!("nul\0here");
        let err = activity_from_strava(&v, ActivitySource::Import).unwrap_err();
        assert!(
            err.contains(": name: ") && err.ends_with("holds a NUL character"),
            "{err}"
        );
        let mut v = sample();
        v["sport_type"] = json!("R".repeat(65));
        let err = activity_from_strava(&v, ActivitySource::Import).unwrap_err();
        assert!(err.contains("sport_type is 65 characters long"), "{err}");
        let mut v = sample();
        v["gear_id"] = json!("g\0");
        assert!(activity_from_strava(&v, ActivitySource::Import).is_err());
    }

    #[test]
    fn detailed_best_efforts_are_read_and_checked() {
        let mut v = sample();
        assert_eq!(
            StravaActivity::from_json(v.clone()).unwrap().best_efforts,
            None
        );
        v["best_efforts"] = json!([{
            "name": "5k", "distance": 5000, "elapsed_time": 1290, "moving_time": 1288,
            "start_date": "2018-05-02T12:20:00Z", "start_date_local": "2018-05-02T05:20:00Z",
            "pr_rank": 2
        }]);
        let efforts = StravaActivity::from_json(v.clone())
            .unwrap()
            .best_efforts
            .unwrap();
        assert_eq!(efforts.len(), 1);
        let e = &efforts[0];
        assert_eq!(
            (e.name.as_str(), e.distance_m, e.elapsed_time_s),
            ("5k", 5000.0, 1290)
        );
        assert_eq!((e.moving_time_s, e.pr_rank), (1288, Some(2)));
        assert_eq!(e.start_date_local.to_string(), "2018-05-02 05:20:00");
        v["best_efforts"][0]["elapsed_time"] = json!(-3);
        let err = StravaActivity::from_json(v.clone()).unwrap_err();
        assert!(
            err.contains("best_efforts[0].elapsed_time: -3 is negative"),
            "{err}"
        );
        v["best_efforts"] = json!("fast");
        assert!(StravaActivity::from_json(v).is_err());
    }

    #[test]
    fn gear_reads_from_summary_and_detailed_gear() {
        let g = gear_from_strava(
            &json!({"id": "b12345", "primary": true, "name": "EMC", "resource_state": 2,
                    "distance": 1234.5, "retired": false}),
            None,
        )
        .unwrap();
        assert_eq!((g.id.as_str(), g.name.as_str()), ("b12345", "EMC"));
        assert_eq!(
            (g.kind, g.primary, g.retired),
            (Some(GearKind::Bike), true, false)
        );
        assert_eq!(g.distance_m, Some(1234.5));
        let shoes = gear_from_strava(
            &json!({"id": "g7", "name": "Pegasus", "retired": true}),
            None,
        )
        .unwrap();
        assert_eq!((shoes.kind, shoes.retired), (Some(GearKind::Shoes), true));
        let err = gear_from_strava(&json!({"id": "g7"}), None).unwrap_err();
        assert_eq!(err.to_string(), "name is missing");
        assert!(gear_from_strava(&json!({"id": "g7", "name": "x", "distance": -1}), None).is_err());
    }

    #[test]
    fn absent_and_null_optional_fields_are_fine() {
        let mut v = sample();
        let obj = v.as_object_mut().unwrap();
        for field in [
            "max_watts",
            "kilojoules",
            "gear_id",
            "name",
            "commute",
            "kudos_count",
        ] {
            obj.remove(field);
        }
        obj.insert("average_heartrate".into(), Value::Null);
        obj.insert("elev_low".into(), json!(-12.5));
        obj.insert("elapsed_time".into(), json!(4500.0));
        let a = activity_from_strava(&v, ActivitySource::Import).unwrap();
        assert_eq!((a.max_watts, a.kilojoules, a.gear_id), (None, None, None));
        assert_eq!((a.name.as_str(), a.commute, a.kudos_count), ("", false, 0));
        assert_eq!((a.average_heartrate, a.elev_low_m), (None, Some(-12.5)));
        assert_eq!(a.elapsed_time_s, 4500);
    }

    #[test]
    fn a_listing_reads_item_by_item_and_keeps_each_object_as_sent() {
        let mut bad = sample();
        bad["id"] = json!(7);
        bad["distance"] = json!("far");
        let mut added = sample();
        added["id"] = json!(8);
        added["a_field_strava_adds_later"] = json!({"x": 1});
        let page: Vec<Listed> =
            serde_json::from_value(json!([sample(), bad, added.clone()])).unwrap();
        assert_eq!(page.len(), 3);
        assert_eq!(page[0].activity.as_ref().unwrap().id, 154504250376);
        assert_eq!(
            page[1].id,
            Some(7),
            "an item that does not read still has its id"
        );
        assert_eq!(
            page[1].activity.as_ref().unwrap_err(),
            "activity 7: distance: expected a number, got the string \"far\""
        );
        let read = page[2].activity.as_ref().unwrap();
        assert_eq!(read.raw, added);
        assert_eq!(read.kudos_count, Some(3));
        assert_eq!(read.average_heartrate, None);
        // One activity alone is all or nothing, with the same message.
        let err = serde_json::from_value::<StravaActivity>(json!({"id": 9, "athlete": {"id": 1}}))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "activity 9: sport_type is missing");
    }
}
