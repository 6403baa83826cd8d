//! One home for an activity's stored fields: every column of `activities` with its type
//! and meaning ([`ACTIVITY_COLUMNS`]), and the value checks every reader of activity data
//! applies (Strava's JSON from the API or an imported array, an export's CSV), with one
//! error type ([`FieldError`]).
//!
//! The others follow this list: the model's prompt and the model sandbox's view name
//! exactly its `model` columns, a demo copy carries every column but the keys, and tests
//! hold the migrated table, the upsert and the view to it. A new field is a line here, a
//! migration, and the places that really differ (where Strava or the export says it).

use std::fmt;

/// A column's type as PostgreSQL names it (and as the model is told).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    BigInt,
    Int,
    Float,
    Text,
    Bool,
    Timestamptz,
    Timestamp,
    Jsonb,
}

impl ColumnType {
    /// The name `information_schema.columns.data_type` gives.
    pub fn pg_name(self) -> &'static str {
        match self {
            Self::BigInt => "bigint",
            Self::Int => "integer",
            Self::Float => "double precision",
            Self::Text => "text",
            Self::Bool => "boolean",
            Self::Timestamptz => "timestamp with time zone",
            Self::Timestamp => "timestamp without time zone",
            Self::Jsonb => "jsonb",
        }
    }

    /// The short name the model is told.
    pub fn short(self) -> &'static str {
        match self {
            Self::BigInt => "bigint",
            Self::Int => "int",
            Self::Float => "float8",
            Self::Text => "text",
            Self::Bool => "bool",
            Self::Timestamptz => "timestamptz",
            Self::Timestamp => "timestamp",
            Self::Jsonb => "jsonb",
        }
    }
}

/// One stored column of an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    /// Whether the column may be NULL.
    pub nullable: bool,
    /// What it holds, in words fit for the model's prompt ("" when the name says it).
    pub meaning: &'static str,
    /// Whether model-written SQL may read it (the sandbox view shows exactly these).
    pub model: bool,
    /// Only a DetailedActivity (or the details job) gives it: a listing's
    /// SummaryActivity leaves it out, so an upsert keeps the stored value.
    pub detail_only: bool,
}

const fn col(name: &'static str, ty: ColumnType, nullable: bool, meaning: &'static str) -> Column {
    Column {
        name,
        ty,
        nullable,
        meaning,
        model: true,
        detail_only: false,
    }
}

/// A column only DetailedActivity gives (see [`Column::detail_only`]).
const fn detail(mut c: Column) -> Column {
    c.detail_only = true;
    c
}

/// A column the model never sees: raw Strava JSON and bookkeeping.
const fn kept(name: &'static str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        name,
        ty,
        nullable,
        meaning: "",
        model: false,
        detail_only: false,
    }
}

use ColumnType::{BigInt, Bool, Float, Int, Jsonb, Text, Timestamp, Timestamptz};

/// Every column of `activities`, in table order. The keys come first.
pub const ACTIVITY_COLUMNS: &[Column] = &[
    col("id", BigInt, false, "the Strava activity id"),
    col("athlete_id", BigInt, false, "always this athlete"),
    col("name", Text, false, ""),
    col(
        "sport_type",
        Text,
        false,
        "Strava sport_type such as Run, TrailRun, Ride, VirtualRide, Swim, Walk, Hike",
    ),
    col("start_date", Timestamptz, false, "UTC"),
    col(
        "start_date_local",
        Timestamp,
        false,
        "the athlete's local time; use it for dates",
    ),
    col(
        "timezone",
        Text,
        true,
        "Strava's label, e.g. (GMT+01:00) Europe/Paris",
    ),
    col("distance_m", Float, false, "metres"),
    col("moving_time_s", Int, false, "seconds"),
    col("elapsed_time_s", Int, false, "seconds"),
    col("total_elevation_gain_m", Float, false, "metres"),
    col("elev_high_m", Float, true, "metres"),
    col("elev_low_m", Float, true, "metres"),
    col("average_speed_mps", Float, false, "metres per second"),
    col("max_speed_mps", Float, false, "metres per second"),
    col("average_heartrate", Float, true, "beats per minute"),
    col("max_heartrate", Float, true, "beats per minute"),
    col("average_cadence", Float, true, ""),
    col("average_watts", Float, true, ""),
    col("weighted_average_watts", Int, true, ""),
    col("max_watts", Int, true, ""),
    col("kilojoules", Float, true, ""),
    detail(col("calories", Float, true, "kcal")),
    col("device_watts", Bool, false, "power from a power meter"),
    col("kudos_count", Int, false, ""),
    col("comment_count", Int, false, ""),
    col("achievement_count", Int, false, ""),
    col("pr_count", Int, false, ""),
    col("commute", Bool, false, ""),
    col("trainer", Bool, false, "indoors"),
    col("manual", Bool, false, "entered by hand"),
    col("private", Bool, false, ""),
    col("flagged", Bool, false, ""),
    col(
        "workout_type",
        Int,
        true,
        "Strava's code: runs 0 default, 1 race, 2 long run, 3 workout; rides 10 default, 11 race, 12 workout",
    ),
    col(
        "gear_id",
        Text,
        true,
        "the bike or shoes used, a key of the gear relation",
    ),
    kept("source", Text, false),
    kept("raw", Jsonb, true),
    kept("fetched_at", Timestamptz, false),
    detail(col(
        "device_name",
        Text,
        true,
        "the recording device, e.g. Garmin Forerunner 255",
    )),
    // When the details (DetailedActivity: best efforts, calories, device) were fetched.
    detail(kept("details_fetched_at", Timestamptz, true)),
];

/// The columns model-written SQL may read, in table order.
pub fn model_columns() -> impl Iterator<Item = &'static Column> {
    ACTIVITY_COLUMNS.iter().filter(|c| c.model)
}

/// The longest activity name stored, in characters: far above what Strava's apps let
/// anyone type, so only a file written to harm reaches it.
pub const MAX_NAME_CHARS: usize = 1000;

/// The longest sport type: Strava's names are one or two words.
pub const MAX_TYPE_CHARS: usize = 64;

/// The longest short label stored (a time zone, a device, a gear id or name).
pub const MAX_LABEL_CHARS: usize = 256;

/// Heart rates above this are sensor noise or a typo, not a person.
pub const MAX_HEARTRATE_BPM: f64 = 300.0;

/// What is wrong with one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// Not of the type the field holds (`want` says which).
    WrongType {
        want: &'static str,
    },
    NotANumber,
    /// Infinite, or too large for any column.
    OutOfRange,
    Negative,
    /// Has a fraction where a whole number belongs.
    NotWhole,
    /// A whole number larger than the column holds.
    TooLarge {
        max: i64,
    },
    NotAHeartRate,
    /// Holds a NUL character, which PostgreSQL's text cannot store.
    Nul,
    TooLong {
        chars: usize,
        max: usize,
    },
    NotAFlag,
    NotATime,
    NotADate,
    /// Not a positive whole number, as ids are.
    NotAnId,
    Missing,
}

/// A value of a named field that cannot be stored. `field` names it as the reader's
/// input does (`distance`, or `column 5 (Distance)`), `value` shows it (a short excerpt).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub value: String,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: impl Into<String>, value: impl Into<String>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            value: value.into(),
            problem,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (field, value) = (&self.field, &self.value);
        match &self.problem {
            Problem::WrongType { want } => write!(f, "{field}: expected {want}, got {value}"),
            Problem::TooLong { chars, max } => write!(
                f,
                "{field} is {chars} characters long, more than Strava allows ({max} at most)"
            ),
            Problem::Missing => write!(f, "{field} is missing"),
            other => {
                let what = match other {
                    Problem::NotANumber => "is not a number".to_owned(),
                    Problem::OutOfRange => "is out of range".to_owned(),
                    Problem::Negative => "is negative".to_owned(),
                    Problem::NotWhole => "is not a whole number".to_owned(),
                    Problem::TooLarge { max } => format!("is more than {max}"),
                    Problem::NotAHeartRate => "bpm is not a heart rate".to_owned(),
                    Problem::Nul => "holds a NUL character".to_owned(),
                    Problem::NotAFlag => "is not true or false".to_owned(),
                    Problem::NotATime => "is not an ISO 8601 time".to_owned(),
                    Problem::NotADate => "is not a date".to_owned(),
                    Problem::NotAnId => "is not a positive integer".to_owned(),
                    Problem::WrongType { .. } | Problem::TooLong { .. } | Problem::Missing => {
                        unreachable!("written above")
                    }
                };
                write!(f, "{field}: {value} {what}")
            }
        }
    }
}

impl std::error::Error for FieldError {}

/// A row's reason in an import report, or an activity's in a sync log, is text.
impl From<FieldError> for String {
    fn from(e: FieldError) -> Self {
        e.to_string()
    }
}

/// The value checks, one per kind of field. Readers turn their input into a number,
/// text or flag, call these, and name the field in a [`FieldError`].
pub mod check {
    use super::{MAX_HEARTRATE_BPM, Problem};

    /// Any finite number (an elevation may be below sea level).
    pub fn number(v: f64) -> Result<f64, Problem> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(Problem::OutOfRange)
        }
    }

    /// A number that cannot be negative: a distance, speed, power, energy.
    pub fn quantity(v: f64) -> Result<f64, Problem> {
        match number(v)? {
            v if v < 0.0 => Err(Problem::Negative),
            v => Ok(v),
        }
    }

    /// A whole, non-negative number that fits the column: seconds, counts, watts.
    pub fn whole(v: f64) -> Result<i32, Problem> {
        let v = quantity(v)?;
        if v.fract() != 0.0 {
            return Err(Problem::NotWhole);
        }
        if v > f64::from(i32::MAX) {
            return Err(Problem::TooLarge {
                max: i64::from(i32::MAX),
            });
        }
        Ok(v as i32)
    }

    /// Beats per minute a person can have.
    pub fn heartrate(v: f64) -> Result<f64, Problem> {
        match quantity(v)? {
            v if v > MAX_HEARTRATE_BPM => Err(Problem::NotAHeartRate),
            v => Ok(v),
        }
    }

    /// Text stored as it is: at most `max_chars` characters and no NUL (which
    /// PostgreSQL's text cannot hold; left in, it would fail the whole import).
    pub fn text(s: &str, max_chars: usize) -> Result<&str, Problem> {
        if s.contains('\0') {
            return Err(Problem::Nul);
        }
        let chars = s.chars().count();
        if chars > max_chars {
            return Err(Problem::TooLong {
                chars,
                max: max_chars,
            });
        }
        Ok(s)
    }

    /// true/false, yes/no, or 1/0, as text (an export's second "Commute" says "1.0").
    pub fn flag_text(s: &str) -> Result<bool, Problem> {
        match s.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            number => match number.parse::<f64>() {
                Ok(1.0) => Ok(true),
                Ok(0.0) => Ok(false),
                _ => Err(Problem::NotAFlag),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique_and_the_keys_come_first() {
        let mut names: Vec<_> = ACTIVITY_COLUMNS.iter().map(|c| c.name).collect();
        assert_eq!(&names[..2], ["id", "athlete_id"]);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACTIVITY_COLUMNS.len());
        // Raw JSON and bookkeeping never reach the model.
        for hidden in ["raw", "source", "fetched_at"] {
            assert!(model_columns().all(|c| c.name != hidden), "{hidden}");
        }
    }

    #[test]
    fn checks_refuse_what_cannot_be_stored() {
        assert_eq!(check::quantity(-1.0), Err(Problem::Negative));
        assert_eq!(check::number(f64::INFINITY), Err(Problem::OutOfRange));
        assert_eq!(check::number(-12.5), Ok(-12.5));
        assert_eq!(check::whole(12.5), Err(Problem::NotWhole));
        assert_eq!(
            check::whole(3e9),
            Err(Problem::TooLarge { max: 2147483647 })
        );
        assert_eq!(check::whole(4500.0), Ok(4500));
        assert_eq!(check::heartrate(301.0), Err(Problem::NotAHeartRate));
        assert_eq!(check::text("a\0b", 10), Err(Problem::Nul));
        assert_eq!(
            check::text("ééé", 2),
            Err(Problem::TooLong { chars: 3, max: 2 })
        );
        assert_eq!(check::text("éé", 2), Ok("éé"));
        assert_eq!(check::flag_text("1.0"), Ok(true));
        assert_eq!(check::flag_text("2.0"), Err(Problem::NotAFlag));
    }

    #[test]
    fn errors_name_the_field_and_show_the_value() {
        let e = FieldError::new("distance", "-5", Problem::Negative);
        assert_eq!(e.to_string(), "distance: -5 is negative");
        let e = FieldError::new(
            "column 3 (Activity Name)",
            "\"n…\"",
            Problem::TooLong {
                chars: 5000,
                max: 1000,
            },
        );
        assert_eq!(
            e.to_string(),
            "column 3 (Activity Name) is 5000 characters long, more than Strava allows (1000 at most)"
        );
        let e = FieldError::new(
            "name",
            "the number 42",
            Problem::WrongType { want: "a string" },
        );
        assert_eq!(e.to_string(), "name: expected a string, got the number 42");
    }
}
