//! `strava-gateway import`: loads one athlete's activities from a Strava bulk export
//! (`activities.csv`) or from a JSON array of SummaryActivity (what
//! `/athlete/activities` returns), without calling Strava.
//!
//! Rows are upserted by activity id, so importing the same file again changes
//! nothing. A row that cannot be read is reported with its line (CSV) or index (JSON)
//! and the others still load. The athlete is created when unknown, with name and unit
//! preference from an athlete JSON in Strava's shape when one is given.
//!
//! The CSV export repeats some header names with different units: the first
//! "Distance" is in kilometres (or miles), the second in metres; "Elapsed Time",
//! "Max Heart Rate", "Relative Effort" and "Commute" also appear twice. Columns are
//! found by name and, for repeated names, by occurrence. Dates are UTC in an
//! English, locale-dependent format ("Nov 2, 2023, 7:10:12 AM", "2 Nov 2023,
//! 07:10:12") or ISO 8601; the local start time comes from the athlete's time zone
//! when we know it, else it is the UTC time.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use db::activities::ActivityRow;
use db::athletes::AthleteUpsert;
use domain::{Activity, ActivityId, ActivitySource, AthleteId, SportType};
use std::path::{Path, PathBuf};

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    /// The athlete the activities belong to.
    pub athlete: AthleteId,
    /// Strava's athlete JSON, used when the athlete must be created.
    pub athlete_json: Option<PathBuf>,
    /// `activities.csv` or a `.json` array of SummaryActivity.
    pub file: PathBuf,
}

/// The outcome of an import that could run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Rows read without error.
    pub read: usize,
    /// Rows inserted or updated.
    pub written: usize,
    /// Rows read that belong to another athlete already stored (left alone).
    pub skipped: usize,
    /// Whether the athlete was created by this import.
    pub created_athlete: bool,
    /// Rows that could not be read: where ("line 7", "index 3") and why.
    pub bad: Vec<(String, String)>,
}

impl Report {
    /// The exit code: 0 when every row loaded, 1 when some were bad.
    pub fn exit_code(&self) -> u8 {
        if self.bad.is_empty() { 0 } else { 1 }
    }
}

/// Why an import could not run at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("database: {0}")]
    Pool(#[from] db::pool::PoolError),
}

/// Runs an import against the database.
pub async fn run(pool: &db::Pool, args: &ImportArgs) -> Result<Report, ImportError> {
    let text = read(&args.file)?;
    let profile = match &args.athlete_json {
        Some(path) => Some(parse_athlete(path, &read(path)?, args.athlete)?),
        None => None,
    };
    let mut conn = pool.get().await?;
    let mut report = Report::default();
    let known = db::athletes::find(&mut conn, args.athlete).await?;
    let timezone = match known {
        Some(row) => row.timezone,
        None => {
            let new = profile.unwrap_or_else(|| AthleteUpsert {
                id: args.athlete.get(),
                firstname: String::new(),
                lastname: String::new(),
                measurement_preference: "meters".into(),
                timezone: None,
                is_demo: false,
            });
            db::athletes::upsert(&mut conn, &new).await?;
            report.created_athlete = true;
            new.timezone
        }
    };
    let zone = timezone
        .as_deref()
        .and_then(|label| domain::dates::parse_strava_timezone(label).ok());
    let now = Utc::now();
    let rows = if looks_like_json(&args.file, &text) {
        json_rows(&args.file, &text, args.athlete, now, &mut report)?
    } else {
        let zone = zone.map(|tz| (tz, timezone.clone().unwrap_or_default()));
        csv_rows(&args.file, &text, args.athlete, zone, now, &mut report)?
    };
    report.read = rows.len();
    report.written = db::activities::upsert_many(&mut conn, &rows).await?;
    report.skipped = report.read - report.written;
    Ok(report)
}

fn read(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn looks_like_json(path: &Path, text: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('[')
}

/// The athlete to create, from Strava's athlete JSON (`firstname`, `lastname`,
/// `measurement_preference`; a `timezone` label is taken when present).
fn parse_athlete(path: &Path, text: &str, id: AthleteId) -> Result<AthleteUpsert, ImportError> {
    let bad = |reason: String| ImportError::Format {
        path: path.display().to_string(),
        reason,
    };
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    if !v.is_object() {
        return Err(bad("expected an athlete object".into()));
    }
    if let Some(other) = v.get("id").and_then(serde_json::Value::as_i64)
        && other != id.get()
    {
        return Err(bad(format!(
            "athlete id {other} is not --athlete {}",
            id.get()
        )));
    }
    let text_of = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let preference = text_of("measurement_preference").unwrap_or_else(|| "meters".into());
    if domain::Units::from_strava(&preference).is_none() {
        return Err(bad(format!(
            "measurement_preference {preference:?} is not meters or feet"
        )));
    }
    Ok(AthleteUpsert {
        id: id.get(),
        firstname: text_of("firstname").unwrap_or_default(),
        lastname: text_of("lastname").unwrap_or_default(),
        measurement_preference: preference,
        timezone: text_of("timezone"),
        is_demo: false,
    })
}

fn json_rows(
    path: &Path,
    text: &str,
    athlete: AthleteId,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<Vec<ActivityRow>, ImportError> {
    let items: Vec<serde_json::Value> = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| ImportError::Format {
        path: path.display().to_string(),
        reason: format!("expected a JSON array of activities: {e}"),
    })?;
    let mut rows = Vec::with_capacity(items.len());
    for (index, mut item) in items.into_iter().enumerate() {
        // Exports of one athlete may leave out the athlete: it is the one named.
        if let Some(obj) = item.as_object_mut()
            && !obj.contains_key("athlete")
        {
            obj.insert("athlete".into(), serde_json::json!({ "id": athlete.get() }));
        }
        match crate::convert::activity_from_strava(&item, ActivitySource::Import) {
            Ok(a) if a.athlete_id == athlete => rows.push(ActivityRow::new(&a, Some(item), now)),
            Ok(a) => report.bad.push((
                format!("index {index}"),
                format!("belongs to athlete {}", a.athlete_id.get()),
            )),
            Err(e) => report.bad.push((format!("index {index}"), e)),
        }
    }
    Ok(rows)
}

fn csv_rows(
    path: &Path,
    text: &str,
    athlete: AthleteId,
    zone: Option<(Tz, String)>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<Vec<ActivityRow>, ImportError> {
    let format_error = |reason: String| ImportError::Format {
        path: path.display().to_string(),
        reason,
    };
    let mut records = parse_csv(text).map_err(format_error)?.into_iter();
    let header = records
        .next()
        .ok_or_else(|| format_error("the file is empty".into()))?;
    let columns = Columns::new(&header.fields);
    for required in ["Activity ID", "Activity Date"] {
        if columns.find(required).is_empty() {
            return Err(format_error(format!(
                "no {required:?} column: is this activities.csv?"
            )));
        }
    }
    let mut rows = Vec::new();
    for record in records {
        // A trailing newline leaves one empty record.
        if record.fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match csv_activity(&columns, &record.fields, athlete, zone.as_ref()) {
            Ok(a) => rows.push(ActivityRow::new(&a, None, now)),
            Err(e) => report.bad.push((format!("line {}", record.line), e)),
        }
    }
    Ok(rows)
}

/// Header positions by name; a name may occur more than once.
struct Columns {
    names: Vec<String>,
}

impl Columns {
    fn new(header: &[String]) -> Self {
        Self {
            names: header
                .iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
                .collect(),
        }
    }

    /// Every position holding `name`, in order.
    fn find(&self, name: &str) -> Vec<usize> {
        self.names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(i, _)| i)
            .collect()
    }

    /// The non-empty value of the last column named `name` that has one: where a
    /// name repeats, the later column is the detailed one (seconds, metres).
    fn last<'a>(&self, row: &'a [String], name: &str) -> Option<&'a str> {
        self.find(name)
            .into_iter()
            .rev()
            .filter_map(|i| row.get(i).map(|v| v.trim()))
            .find(|v| !v.is_empty())
    }

    /// The value at occurrence `nth` (0-based) of `name`, when not empty.
    fn nth<'a>(&self, row: &'a [String], name: &str, nth: usize) -> Option<&'a str> {
        let i = *self.find(name).get(nth)?;
        row.get(i).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

fn number(columns: &Columns, row: &[String], name: &str) -> Result<Option<f64>, String> {
    columns
        .last(row, name)
        .map(|v| {
            v.replace(',', "")
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| format!("{name} {v:?} is not a number"))
        })
        .transpose()
}

fn flag(columns: &Columns, row: &[String], name: &str) -> bool {
    columns
        .last(row, name)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

fn seconds(v: Option<f64>) -> Option<i32> {
    v.map(|s| s.round().clamp(0.0, f64::from(i32::MAX)) as i32)
}

/// One CSV row as an activity.
fn csv_activity(
    columns: &Columns,
    row: &[String],
    athlete: AthleteId,
    zone: Option<&(Tz, String)>,
) -> Result<Activity, String> {
    let id_text = columns.last(row, "Activity ID").ok_or("no Activity ID")?;
    let id: i64 = id_text
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("Activity ID {id_text:?} is not a positive number"))?;
    let date_text = columns
        .last(row, "Activity Date")
        .ok_or("no Activity Date")?;
    let start_date = parse_export_date(date_text)
        .ok_or_else(|| format!("Activity Date {date_text:?} is not a date"))?;
    let start_date_local = match zone {
        Some((tz, _)) => start_date.with_timezone(tz).naive_local(),
        None => start_date.naive_utc(),
    };
    // The second Distance is metres; the first is kilometres (or miles, which the
    // export does not say), so it is only a fallback.
    let distance_m = match columns.nth(row, "Distance", 1) {
        Some(metres) => parse_f64(metres, "Distance")?,
        None => columns
            .nth(row, "Distance", 0)
            .map(|km| parse_f64(km, "Distance").map(|v| v * 1000.0))
            .transpose()?
            .unwrap_or(0.0),
    };
    let elapsed = seconds(number(columns, row, "Elapsed Time")?).unwrap_or(0);
    let moving = seconds(number(columns, row, "Moving Time")?).unwrap_or(elapsed);
    let kind = columns.last(row, "Activity Type").unwrap_or("Workout");
    let sport_type =
        SportType::lookup(kind).unwrap_or_else(|| SportType::new(kind.replace([' ', '-'], "")));
    let average_speed = number(columns, row, "Average Speed")?.unwrap_or_else(|| {
        if moving > 0 {
            distance_m / f64::from(moving)
        } else {
            0.0
        }
    });
    let opt_i32 = |v: Option<f64>| v.map(|x| x.round() as i32);
    Ok(Activity {
        id: ActivityId(id),
        athlete_id: athlete,
        name: columns.last(row, "Activity Name").unwrap_or("").to_owned(),
        sport_type,
        start_date,
        start_date_local,
        timezone: zone.map(|(_, label)| label.clone()),
        distance_m,
        moving_time_s: moving,
        elapsed_time_s: elapsed,
        total_elevation_gain_m: number(columns, row, "Elevation Gain")?.unwrap_or(0.0),
        elev_high_m: number(columns, row, "Elevation High")?,
        elev_low_m: number(columns, row, "Elevation Low")?,
        average_speed_mps: average_speed,
        max_speed_mps: number(columns, row, "Max Speed")?.unwrap_or(0.0),
        average_heartrate: number(columns, row, "Average Heart Rate")?,
        max_heartrate: number(columns, row, "Max Heart Rate")?,
        average_cadence: number(columns, row, "Average Cadence")?,
        average_watts: number(columns, row, "Average Watts")?,
        weighted_average_watts: opt_i32(number(columns, row, "Weighted Average Power")?),
        max_watts: opt_i32(number(columns, row, "Max Watts")?),
        // "Total Work" is in joules.
        kilojoules: number(columns, row, "Total Work")?.map(|j| j / 1000.0),
        calories: number(columns, row, "Calories")?,
        device_watts: false,
        kudos_count: 0,
        comment_count: 0,
        achievement_count: 0,
        pr_count: 0,
        commute: flag(columns, row, "Commute"),
        trainer: false,
        manual: false,
        private: false,
        flagged: flag(columns, row, "Flagged"),
        workout_type: None,
        gear_id: None,
        source: ActivitySource::Import,
    })
}

fn parse_f64(v: &str, name: &str) -> Result<f64, String> {
    v.trim()
        .replace(',', "")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("{name} {v:?} is not a number"))
}

/// Reads the export's UTC date: English month-name formats with or without
/// seconds, 12- or 24-hour clock, and ISO 8601.
pub fn parse_export_date(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    // Newer exports put a narrow no-break space before AM/PM; commas vary by locale.
    let cleaned: String = t
        .chars()
        .map(|c| {
            if c == ',' || c.is_whitespace() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    const FORMATS: &[&str] = &[
        "%b %d %Y %I:%M:%S %p",
        "%B %d %Y %I:%M:%S %p",
        "%b %d %Y %I:%M %p",
        "%b %d %Y %H:%M:%S",
        "%B %d %Y %H:%M:%S",
        "%d %b %Y %H:%M:%S",
        "%d %B %Y %H:%M:%S",
        "%d %b %Y %I:%M:%S %p",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
    ];
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&cleaned, f).ok())
        .map(|naive| naive.and_utc())
}

/// One CSV record and the line it starts on (1-based, the header is line 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits CSV text into records: comma-separated fields, double-quoted fields may hold
/// commas, line breaks and doubled quotes (`""`); CRLF or LF line ends; a leading
/// byte-order mark is dropped. An unterminated quote is an error.
pub fn parse_csv(text: &str) -> Result<Vec<Record>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut in_quotes = false;
    let mut quote_started_line = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                quote_started_line = line;
            }
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                records.push(Record {
                    line: record_line,
                    fields: std::mem::take(&mut fields),
                });
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(format!(
            "line {quote_started_line}: a quoted field never ends"
        ));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push(Record {
            line: record_line,
            fields,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn csv_quotes_commas_newlines_and_escapes() {
        let text = "\u{feff}a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n3,,last";
        let r = parse_csv(text).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].fields, ["a", "b", "c"]);
        assert_eq!(r[1].fields, ["1", "x, y", "say \"hi\""]);
        assert_eq!(
            (r[2].line, r[2].fields.clone()),
            (3, vec!["2".into(), "two\nlines".into(), String::new()])
        );
        assert_eq!(
            (r[3].line, r[3].fields.clone()),
            (5, vec!["3".into(), String::new(), "last".into()])
        );
        assert!(parse_csv("a\n\"open").unwrap_err().contains("line 2"));
    }

    #[test]
    fn export_dates_in_english_and_iso() {
        let want = Utc.with_ymd_and_hms(2023, 11, 2, 7, 10, 12).unwrap();
        for text in [
            "Nov 2, 2023, 7:10:12 AM",
            "Nov 2, 2023, 7:10:12\u{202f}AM",
            "November 2, 2023, 7:10:12 AM",
            "2 Nov 2023, 07:10:12",
            "Nov 02, 2023 07:10:12",
            "2023-11-02T07:10:12Z",
            "2023-11-02 07:10:12",
        ] {
            assert_eq!(parse_export_date(text), Some(want), "{text}");
        }
        assert_eq!(
            parse_export_date("Nov 2, 2023, 7:10:12 PM"),
            Some(Utc.with_ymd_and_hms(2023, 11, 2, 19, 10, 12).unwrap())
        );
        assert_eq!(parse_export_date("yesterday"), None);
    }

    #[test]
    fn repeated_columns_take_the_detailed_one() {
        let header: Vec<String> = [
            "Activity ID",
            "Activity Date",
            "Activity Type",
            "Elapsed Time",
            "Distance",
            "Elapsed Time",
            "Moving Time",
            "Distance",
        ]
        .map(String::from)
        .to_vec();
        let row: Vec<String> = [
            "9",
            "Nov 2, 2023, 7:10:12 AM",
            "Trail Run",
            "1800",
            "5.01",
            "1800.0",
            "1700",
            "5012.3",
        ]
        .map(String::from)
        .to_vec();
        let columns = Columns::new(&header);
        let zone = (
            chrono_tz::Europe::Paris,
            "(GMT+01:00) Europe/Paris".to_owned(),
        );
        let a = csv_activity(&columns, &row, AthleteId(1), Some(&zone)).unwrap();
        assert_eq!(a.distance_m, 5012.3);
        assert_eq!((a.elapsed_time_s, a.moving_time_s), (1800, 1700));
        assert_eq!(a.sport_type.as_str(), "TrailRun");
        assert_eq!(a.start_date_local.to_string(), "2023-11-02 08:10:12");
        let mut km_only = row.clone();
        km_only[7] = String::new();
        let b = csv_activity(&columns, &km_only, AthleteId(1), None).unwrap();
        assert!((b.distance_m - 5010.0).abs() < 1e-6);
        assert_eq!(b.start_date_local.to_string(), "2023-11-02 07:10:12");
    }
}
