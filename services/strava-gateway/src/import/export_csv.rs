//! Strava's bulk export `activities.csv`, read record by record with the `csv`
//! crate: quoted fields may hold commas, quotes and line breaks; each record is
//! reported by the line it starts on.
//!
//! The export repeats some header names with different units: the first "Distance"
//! is in kilometres (or miles), the second in metres; "Elapsed Time", "Max Heart
//! Rate", "Relative Effort" and "Commute" also appear twice. Columns are found by
//! name and, for repeated names, by occurrence, after the header is put into English
//! (`language`): Strava writes header, month names, decimal separator and sport
//! names in the account's language. Dates are UTC; the local start time is that UTC
//! time in the activity's zone (from its GPS file, when the export ZIP holds one) or
//! else the athlete's, daylight saving time applied row by row.
//!
//! Every value we read is checked: a number that is not one, a negative distance or
//! time, a flag that is not true/false is an error naming the line and the column.
//! A record with more or fewer fields than the header, or broken quoting, is an error
//! too, never a row merged with its neighbour.

use super::csv_input::CsvInput;
use super::language::{self, Language};
use super::rows::{Batcher, Parsed, Place, ReadError, RowContext, ZoneFinder, excerpt};
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use db::activities::ActivityRow;
use domain::fields::{self, FieldError, Problem, check};
use domain::{Activity, ActivityId, ActivitySource, Gear, SportType};
use std::collections::HashMap;
use std::io::Read;

/// Columns without which a row means nothing.
const REQUIRED: [&str; 2] = ["Activity ID", "Activity Date"];

/// Reads every record of `input`, handing each row (or its error) to `out`. With
/// `zones`, an activity whose "Filename" names a GPS file takes the zone of its
/// first position.
pub fn read(
    input: impl Read,
    ctx: &RowContext,
    out: &mut Batcher,
    mut zones: Option<&mut dyn ZoneFinder>,
) -> Result<(), ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(CsvInput::new(input));
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(header_error(e)),
    };
    let columns = Columns::new(&header);
    for required in REQUIRED {
        if columns.positions(required).is_empty() {
            return Err(ReadError::File(format!(
                "no {required:?} column in the first line: is this activities.csv?"
            )));
        }
    }
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record);
        if let Some(problem) = reader.get_mut().take_problem() {
            out.push(Parsed {
                place: Place::Line(problem.line),
                row: Err(problem.reason),
            })?;
        }
        match more {
            Ok(false) => return Ok(()),
            Ok(true) => {
                // Spreadsheets pad a sheet with rows of empty cells.
                if record.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let line = line_of(&mut reader, record.position());
                let cells = Cells {
                    columns: &columns,
                    record: &record,
                };
                let gps_zone = match (zones.as_deref_mut(), cells.last("Filename")) {
                    (Some(zones), Some(file)) => zones.zone_of(file.value),
                    _ => None,
                };
                let row = cells
                    .activity(ctx, gps_zone)
                    .map(|a| ActivityRow::new(&a, None, ctx.fetched_at));
                out.push(Parsed {
                    place: Place::Line(line),
                    row,
                })?;
            }
            Err(e) => {
                let line = line_of(&mut reader, e.position());
                let reason = record_error(e)?;
                out.push(Parsed {
                    place: Place::Line(line),
                    row: Err(reason),
                })?;
            }
        }
    }
}

fn header_error(e: csv::Error) -> ReadError {
    ReadError::File(match e.into_kind() {
        csv::ErrorKind::Io(e) => format!("read failed: {e}"),
        csv::ErrorKind::Utf8 { .. } => "the first line is not UTF-8 text".into(),
        other => format!("the first line cannot be read: {other:?}"),
    })
}

/// The line a record starts on, from its byte offset.
fn line_of<R: Read>(
    reader: &mut csv::Reader<CsvInput<R>>,
    position: Option<&csv::Position>,
) -> u64 {
    let offset = position.map_or(0, csv::Position::byte);
    reader.get_mut().line_at(offset)
}

/// Why the reader refused a record. I/O errors end the import.
fn record_error(e: csv::Error) -> Result<String, ReadError> {
    match e.into_kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Ok(format!("{len} fields where the header has {expected_len}")),
        csv::ErrorKind::Utf8 { err, .. } => {
            Ok(format!("field {} is not UTF-8 text", err.field() + 1))
        }
        csv::ErrorKind::Io(e) => Err(ReadError::File(format!("read failed: {e}"))),
        other => Ok(format!("cannot be read: {other:?}")),
    }
}

/// Header positions by English name (case-insensitive); a name may occur more than
/// once. Messages name a column as the file does.
struct Columns {
    names: Vec<String>,
    by_name: HashMap<String, Vec<usize>>,
    language: Option<&'static Language>,
}

impl Columns {
    fn new(header: &csv::StringRecord) -> Self {
        let names: Vec<String> = header.iter().map(language::clean_header).collect();
        let reading = language::read_header(&names);
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, name) in reading.names.iter().enumerate() {
            by_name.entry(name.to_lowercase()).or_default().push(i);
        }
        Self {
            names,
            by_name,
            language: reading.language,
        }
    }

    /// Every position holding `name`, in order.
    fn positions(&self, name: &str) -> &[usize] {
        self.by_name
            .get(&name.to_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// One record read through the header.
struct Cells<'a> {
    columns: &'a Columns,
    record: &'a csv::StringRecord,
}

/// One non-empty cell and where it is, for error messages.
struct Cell<'a> {
    position: usize,
    name: &'a str,
    value: &'a str,
    language: Option<&'static Language>,
}

impl<'a> Cell<'a> {
    /// The problem as a field error naming the column as the file does.
    fn error(&self, problem: Problem) -> FieldError {
        FieldError::new(
            format!("column {} ({})", self.position + 1, self.name),
            excerpt(self.value),
            problem,
        )
    }

    fn number(&self) -> Result<f64, FieldError> {
        let v = language::parse_number(self.value, self.language)
            .ok_or_else(|| self.error(Problem::NotANumber))?;
        check::number(v).map_err(|p| self.error(p))
    }

    fn quantity(&self) -> Result<f64, FieldError> {
        check::quantity(self.number()?).map_err(|p| self.error(p))
    }

    /// Whole seconds (or watts): the export writes seconds with a fraction ("1523.0",
    /// at times "1523.4"), so it is rounded before the shared check.
    fn whole(&self) -> Result<i32, FieldError> {
        check::whole(self.quantity()?.round()).map_err(|p| self.error(p))
    }

    fn heartrate(&self) -> Result<f64, FieldError> {
        check::heartrate(self.number()?).map_err(|p| self.error(p))
    }

    fn text(&self, max_chars: usize) -> Result<&'a str, FieldError> {
        check::text(self.value, max_chars).map_err(|p| self.error(p))
    }

    fn flag(&self) -> Result<bool, FieldError> {
        check::flag_text(self.value).map_err(|p| self.error(p))
    }
}

impl<'a> Cells<'a> {
    /// The value at occurrence `nth` (0-based) of `name`, when not empty.
    fn nth(&self, name: &str, nth: usize) -> Option<Cell<'a>> {
        let position = *self.columns.positions(name).get(nth)?;
        self.cell(position)
    }

    /// The last non-empty cell of the columns named `name`: where a name repeats,
    /// the later column is the detailed one (seconds, metres).
    fn last(&self, name: &str) -> Option<Cell<'a>> {
        self.columns
            .positions(name)
            .iter()
            .rev()
            .find_map(|&p| self.cell(p))
    }

    fn cell(&self, position: usize) -> Option<Cell<'a>> {
        let value = self.record.get(position)?.trim();
        (!value.is_empty()).then(|| Cell {
            position,
            name: &self.columns.names[position],
            value,
            language: self.columns.language,
        })
    }

    fn quantity(&self, name: &str) -> Result<Option<f64>, FieldError> {
        self.last(name).map(|c| c.quantity()).transpose()
    }

    fn number(&self, name: &str) -> Result<Option<f64>, FieldError> {
        self.last(name).map(|c| c.number()).transpose()
    }

    fn whole(&self, name: &str) -> Result<Option<i32>, FieldError> {
        self.last(name).map(|c| c.whole()).transpose()
    }

    fn heartrate(&self, name: &str) -> Result<Option<f64>, FieldError> {
        self.last(name).map(|c| c.heartrate()).transpose()
    }

    fn flag(&self, name: &str) -> Result<bool, FieldError> {
        Ok(self
            .last(name)
            .map(|c| c.flag())
            .transpose()?
            .unwrap_or(false))
    }

    /// The record as an activity of the importing athlete, in `gps_zone` when its GPS
    /// file gave one, else in the athlete's zone.
    fn activity(&self, ctx: &RowContext, gps_zone: Option<Tz>) -> Result<Activity, String> {
        let id_cell = self.last("Activity ID").ok_or("no Activity ID")?;
        let id = id_cell
            .value
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| id_cell.error(Problem::NotAnId))?;
        let date_cell = self.last("Activity Date").ok_or("no Activity Date")?;
        let start_date = parse_export_date_in(date_cell.value, self.columns.language)
            .ok_or_else(|| date_cell.error(Problem::NotADate))?;
        let (start_date_local, timezone) = match (gps_zone, &ctx.zone) {
            (Some(tz), _) => (
                start_date.with_timezone(&tz).naive_local(),
                domain::dates::strava_label(tz, start_date),
            ),
            (None, Some(zone)) => (
                start_date.with_timezone(&zone.tz).naive_local(),
                zone.label.clone(),
            ),
            (None, None) => {
                return Err(
                    "no GPS file in the export gives its time zone and the athlete has none: \
                     set a time zone (in the app's settings, or --timezone Area/City with \
                     the import command) and import again"
                        .into(),
                );
            }
        };
        // The second Distance is metres; the first is kilometres (or miles, which the
        // export does not say), so it is only a fallback.
        let distance_m = match self.nth("Distance", 1) {
            Some(metres) => metres.quantity()?,
            None => match self.nth("Distance", 0) {
                Some(km) => km.quantity()? * 1000.0,
                None => 0.0,
            },
        };
        // A trimmed export may keep only one of the two times: each stands in for
        // the other rather than reading as zero.
        let (elapsed, moving) = (self.whole("Elapsed Time")?, self.whole("Moving Time")?);
        let (elapsed, moving) = (
            elapsed.or(moving).unwrap_or(0),
            moving.or(elapsed).unwrap_or(0),
        );
        let kind = self
            .last("Activity Type")
            .map_or(Ok("Workout"), |c| c.text(fields::MAX_TYPE_CHARS))?;
        let sport_type = SportType::from_export_name(kind);
        let name = self
            .last("Activity Name")
            .map_or(Ok(""), |c| c.text(fields::MAX_NAME_CHARS))?;
        let average_speed = self.quantity("Average Speed")?.unwrap_or_else(|| {
            if moving > 0 {
                distance_m / f64::from(moving)
            } else {
                0.0
            }
        });
        Ok(Activity {
            id: ActivityId(id),
            athlete_id: ctx.athlete,
            name: name.to_owned(),
            sport_type,
            start_date,
            start_date_local,
            timezone: Some(timezone),
            distance_m,
            moving_time_s: moving,
            elapsed_time_s: elapsed,
            total_elevation_gain_m: self.quantity("Elevation Gain")?.unwrap_or(0.0),
            // Elevations may be below sea level.
            elev_high_m: self.number("Elevation High")?,
            elev_low_m: self.number("Elevation Low")?,
            average_speed_mps: average_speed,
            max_speed_mps: self.quantity("Max Speed")?.unwrap_or(0.0),
            average_heartrate: self.heartrate("Average Heart Rate")?,
            max_heartrate: self.heartrate("Max Heart Rate")?,
            average_cadence: self.quantity("Average Cadence")?,
            average_watts: self.quantity("Average Watts")?,
            weighted_average_watts: self.whole("Weighted Average Power")?,
            max_watts: self.whole("Max Watts")?,
            // "Total Work" is in joules.
            kilojoules: self.quantity("Total Work")?.map(|j| j / 1000.0),
            calories: self.quantity("Calories")?,
            device_watts: false,
            kudos_count: 0,
            comment_count: 0,
            achievement_count: 0,
            pr_count: 0,
            commute: self.flag("Commute")?,
            trainer: false,
            manual: false,
            private: false,
            // Strava's moderation flag: no answer uses it, and real exports hold
            // values such as "2.0" whose meaning is not documented. Columns we do not
            // store never fail a row.
            flagged: false,
            workout_type: None,
            // The export names gear, not its id: keyed by name (`gear` rows follow).
            gear_id: self
                .last("Activity Gear")
                .map(|c| c.text(fields::MAX_LABEL_CHARS))
                .transpose()?
                .map(Gear::export_id),
            device_name: None,
            source: ActivitySource::Import,
        })
    }
}

/// Reads the export's UTC date in the export's language (`None`: not known).
pub fn parse_export_date_in(text: &str, language: Option<&Language>) -> Option<DateTime<Utc>> {
    parse_export_date(text)
        .or_else(|| language::parse_date(text, language).map(|naive| naive.and_utc()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::rows::{AthleteZone, BATCH_ROWS};
    use chrono::TimeZone;
    use domain::AthleteId;

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

    /// Rows read in `zone`, or in UTC.
    fn ctx(zone: Option<AthleteZone>) -> RowContext {
        RowContext {
            athlete: AthleteId(1),
            zone: Some(zone.unwrap_or_else(|| AthleteZone {
                tz: chrono_tz::UTC,
                label: "(GMT+00:00) UTC".to_owned(),
            })),
            fetched_at: Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap(),
        }
    }

    /// Every row of `text`, as the writer would receive them.
    fn parse(text: &str, ctx: &RowContext) -> Vec<Parsed> {
        let (mut batcher, mut rx) = crate::import::rows::Batcher::channel();
        let text = text.to_owned();
        let ctx = ctx.clone();
        let reader = std::thread::spawn(move || {
            read(text.as_bytes(), &ctx, &mut batcher, None).map_err(|e| format!("{e:?}"))?;
            batcher.finish().map_err(|_| "stopped".to_owned())
        });
        let mut all = Vec::new();
        while let Some(batch) = rx.blocking_recv() {
            assert!(batch.len() <= BATCH_ROWS);
            all.extend(batch);
        }
        reader.join().unwrap().unwrap();
        all
    }

    const HEADER: &str = "Activity ID,Activity Date,Activity Type,Elapsed Time,Distance,Elapsed Time,Moving Time,Distance";

    #[test]
    fn a_column_not_stored_never_fails_a_row() {
        // A real Portuguese-language export holds "2.0" in Flagged; stored columns
        // stay strict.
        let text = "Activity ID,Activity Date,Activity Type,Commute,Flagged\n\
                    1,2023-11-02T07:10:12Z,Run,false,2.0\n\
                    2,2023-11-02T08:10:12Z,Run,maybe,0.0\n";
        let rows = parse(text, &ctx(None));
        assert!(!rows[0].row.as_ref().unwrap().flagged);
        let error = rows[1].row.as_ref().unwrap_err();
        assert!(
            error.contains("Commute") && error.contains("true or false"),
            "{error}"
        );
    }

    #[test]
    fn activity_gear_is_kept_by_name() {
        let text = "Activity ID,Activity Date,Activity Type,Activity Gear\n\
                    1,2023-11-02T07:10:12Z,Run,Nike Pegasus 40\n\
                    2,2023-11-02T08:10:12Z,Ride,\n";
        let rows = parse(text, &ctx(None));
        let first = rows[0].row.as_ref().unwrap();
        assert_eq!(first.gear_id.as_deref(), Some("export:Nike Pegasus 40"));
        assert_eq!(rows[1].row.as_ref().unwrap().gear_id, None);
        let long = format!(
            "Activity ID,Activity Date,Activity Gear\n1,2023-11-02T07:10:12Z,{}\n",
            "x".repeat(300)
        );
        let error = parse(&long, &ctx(None))[0]
            .row
            .as_ref()
            .unwrap_err()
            .clone();
        assert!(
            error.contains("(Activity Gear) is 300 characters long"),
            "{error}"
        );
    }

    #[test]
    fn repeated_columns_take_the_detailed_one() {
        let zone = AthleteZone {
            tz: chrono_tz::Europe::Paris,
            label: "(GMT+01:00) Europe/Paris".to_owned(),
        };
        let text = format!(
            "{HEADER}\n9,\"Nov 2, 2023, 7:10:12 AM\",Trail Run,1800,5.01,1800.0,1700,5012.3\n10,2023-11-02T07:10:12Z,Run,1800,5.01,,,\n"
        );
        let rows = parse(&text, &ctx(Some(zone)));
        let a = rows[0].row.as_ref().unwrap();
        assert_eq!(rows[0].place, Place::Line(2));
        assert_eq!(a.distance_m, 5012.3);
        assert_eq!((a.elapsed_time_s, a.moving_time_s), (1800, 1700));
        assert_eq!(a.sport_type, "TrailRun");
        assert_eq!(a.start_date_local.to_string(), "2023-11-02 08:10:12");
        let b = rows[1].row.as_ref().unwrap();
        assert!(
            (b.distance_m - 5010.0).abs() < 1e-6,
            "kilometres as a fallback"
        );
        assert_eq!(b.moving_time_s, 1800);
        let rows = parse(&text, &ctx(None));
        let a = rows[0].row.as_ref().unwrap();
        assert_eq!(a.start_date_local.to_string(), "2023-11-02 07:10:12");
    }

    #[test]
    fn bad_values_name_the_line_and_the_column() {
        let text = format!(
            "{HEADER}\n\
             1,2023-11-02T07:10:12Z,Run,1800,5,1800,1700,abc\n\
             2,2023-11-02T07:10:12Z,Run,1800,5,1800,-3,5000\n\
             3,2023-11-02T07:10:12Z,Run,1800,-5,1800,1700,\n\
             0,2023-11-02T07:10:12Z,Run,1800,5,1800,1700,5000\n\
             5,last tuesday,Run,1800,5,1800,1700,5000\n"
        );
        let rows = parse(&text, &ctx(None));
        let errors: Vec<(Place, String)> = rows
            .into_iter()
            .map(|p| (p.place, p.row.unwrap_err()))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    Place::Line(2),
                    "column 8 (Distance): \"abc\" is not a number".to_owned()
                ),
                (
                    Place::Line(3),
                    "column 7 (Moving Time): \"-3\" is negative".to_owned()
                ),
                (
                    Place::Line(4),
                    "column 5 (Distance): \"-5\" is negative".to_owned()
                ),
                (
                    Place::Line(5),
                    "column 1 (Activity ID): \"0\" is not a positive integer".to_owned()
                ),
                (
                    Place::Line(6),
                    "column 2 (Activity Date): \"last tuesday\" is not a date".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn ragged_rows_and_stray_quotes_are_errors_not_merged_rows() {
        // Row 2's name opens a quote that row 3's date "closes": csv alone would read
        // one row with row 3 inside the name.
        let text = "Activity ID,Activity Date,Activity Name,Commute\n\
             1,\"Nov 2, 2023, 7:10:12 AM\",\"Morning run,false\n\
             2,\"Nov 3, 2023, 7:10:12 AM\",Evening,false\n\
             3,\"Nov 4, 2023, 7:10:12 AM\",Night,false,extra\n\
             4,\"Nov 5, 2023, 7:10:12 AM\",Good,false\n";
        let rows = parse(text, &ctx(None));
        let places: Vec<Place> = rows.iter().map(|p| p.place).collect();
        assert!(
            rows.iter()
                .filter(|p| p.row.is_ok())
                .all(|p| p.place == Place::Line(5)),
            "{rows:?}"
        );
        assert!(places.contains(&Place::Line(2)), "{rows:?}");
        assert!(places.contains(&Place::Line(4)), "{rows:?}");
        let ragged = rows.iter().find(|p| p.place == Place::Line(4)).unwrap();
        assert_eq!(
            ragged.row.as_ref().unwrap_err(),
            "5 fields where the header has 4"
        );
        // A quote left open in the last column swallows the rest of the file.
        let text = "Activity ID,Activity Date,Activity Name\n\
                    1,2023-11-02T07:10:12Z,\"Morning\n\
                    2,2023-11-03T07:10:12Z,Evening\n";
        let rows = parse(text, &ctx(None));
        let bad: Vec<_> = rows.iter().filter(|p| p.row.is_err()).collect();
        assert_eq!(bad.len(), 1, "{rows:?}");
        assert_eq!(bad[0].place, Place::Line(2));
        assert!(bad[0].row.as_ref().unwrap_err().contains("never closes"));
    }

    #[test]
    fn a_quoted_field_may_hold_commas_quotes_and_line_breaks() {
        let text = "Activity ID,Activity Date,Activity Name,Activity Description\r\n\
                    1,2023-11-02T07:10:12Z,\"Evening, \"\"easy\"\"\",\"two\nlines\"\r\n\
                    2,2023-11-03T07:10:12Z,Next,\r\n\
                    ,,,\r\n";
        let rows = parse(text, &ctx(None));
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].row.as_ref().unwrap().name, "Evening, \"easy\"");
        assert_eq!(
            (rows[1].place, rows[1].row.as_ref().unwrap().id),
            (Place::Line(4), 2)
        );
    }

    /// The blocks of `tests/data/export-languages.txt`: (block name, CSV text).
    fn export_lines() -> Vec<(String, String)> {
        let text = include_str!("../../tests/data/export-languages.txt");
        let mut blocks: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("## ") {
                blocks.push((name.to_owned(), String::new()));
            } else if line.starts_with('#') || line.is_empty() {
                continue;
            } else if let Some((_, csv)) = blocks.last_mut() {
                csv.push_str(line);
                csv.push('\n');
            }
        }
        blocks
    }

    fn block(name: &str) -> String {
        export_lines()
            .into_iter()
            .find(|(n, _)| n.ends_with(name))
            .unwrap_or_else(|| panic!("no block {name}"))
            .1
    }

    fn zone(name: &str) -> Option<AthleteZone> {
        let tz: chrono_tz::Tz = name.parse().unwrap();
        Some(AthleteZone {
            tz,
            label: domain::dates::strava_label(tz, Utc::now()),
        })
    }

    fn good(rows: &[Parsed]) -> Vec<&db::activities::ActivityRow> {
        rows.iter()
            .map(|p| {
                p.row
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{:?}: {e}", p.place))
            })
            .collect()
    }

    #[test]
    fn english_real_export_with_untranslated_html_headers() {
        let rows = parse(&block("english-real-export"), &ctx(zone("America/Recife")));
        let rows = good(&rows);
        assert_eq!(rows.len(), 5);
        let a = rows[0];
        assert_eq!(a.id, 3763864420);
        assert_eq!(a.name, "Corrida no Cavoucão");
        assert_eq!(a.sport_type, "Run");
        assert_eq!(a.start_date.to_string(), "2020-07-14 22:36:55 UTC");
        // Recife is UTC-3 all year.
        assert_eq!(a.start_date_local.to_string(), "2020-07-14 19:36:55");
        assert_eq!(a.distance_m, 6325.60009765625);
        assert_eq!((a.moving_time_s, a.elapsed_time_s), (3261, 3378));
        assert_eq!(a.calories, Some(637.270263671875));
        assert_eq!(a.timezone.as_deref(), Some("(GMT-03:00) America/Recife"));
        assert_eq!(rows[1].sport_type, "Walk");
        assert_eq!(rows[1].average_heartrate, Some(146.52688598632812));
        assert_eq!(rows[3].sport_type, "Workout");
        assert_eq!(rows[3].distance_m, 0.0);
        // 11:44:01 PM UTC on the 15th is 20:44 local on the 15th.
        assert_eq!(rows[3].start_date_local.to_string(), "2020-07-15 20:44:01");
    }

    #[test]
    fn german_row_with_decimal_comma_and_day_first_date() {
        let rows = parse(&block("german-fixture-row"), &ctx(zone("Europe/Berlin")));
        let rows = good(&rows);
        let a = rows[0];
        assert_eq!(a.id, 19404735112);
        assert_eq!(a.name, "Lauf am Nachmittag");
        assert_eq!(a.sport_type, "Run");
        assert_eq!(a.start_date.to_string(), "2026-07-21 15:09:27 UTC");
        assert_eq!(a.start_date_local.to_string(), "2026-07-21 17:09:27");
        assert_eq!((a.elapsed_time_s, a.max_heartrate), (1390, Some(190.0)));
        assert_eq!(
            (a.average_heartrate, a.calories),
            (Some(148.0), Some(299.0))
        );
        // "2,81" read with a decimal comma (the fixture's second Distanz).
        assert_eq!(a.distance_m, 2.81);
    }

    #[test]
    fn german_header_lines_up_with_the_english_one() {
        let text = block("german-header-92");
        let mut lines = text.lines();
        let cells =
            |line: &str| -> Vec<String> { line.split(',').map(language::clean_header).collect() };
        let german = cells(lines.next().unwrap());
        let english = cells(lines.next().unwrap());
        let reading = language::read_header(&german);
        assert_eq!(reading.language.map(|l| l.code), Some("de"));
        // The English header is a later version: it adds columns after
        // "Average Grade Adjusted Pace" where the German one ends with "Medien".
        let shared = german.len() - 1;
        let mut named = 0;
        for i in 0..shared {
            if reading.names[i] != german[i] {
                assert_eq!(reading.names[i], english[i], "column {}", i + 1);
                named += 1;
            }
        }
        assert!(named >= 50, "only {named} German names are in the table");
        assert_eq!(reading.names.last().map(String::as_str), Some("Media"));
    }

    #[test]
    fn dutch_rows_with_dutch_months_roll_over_midnight_locally() {
        let rows = parse(&block("dutch-fixture"), &ctx(zone("Europe/Amsterdam")));
        let rows = good(&rows);
        let a = rows[0];
        assert_eq!((a.id, a.name.as_str()), (1001, "Avondloop"));
        assert_eq!(a.sport_type, "Run");
        assert_eq!(a.start_date.to_string(), "2026-05-09 19:00:00 UTC");
        assert_eq!(a.start_date_local.to_string(), "2026-05-09 21:00:00");
        assert_eq!((a.moving_time_s, a.elapsed_time_s), (1800, 1900));
        // The fixture keeps one "Afstand" column, in metres; a real export has two and
        // the first is kilometres, which is how a lone one is read. Not asserted.
        assert_eq!(a.total_elevation_gain_m, 80.0);
        assert_eq!(
            (a.average_heartrate, a.max_heartrate),
            (Some(148.0), Some(172.0))
        );
        assert_eq!((a.average_cadence, a.calories), (Some(82.0), Some(520.0)));
        assert_eq!(rows[1].sport_type, "Ride");
        // 22:30 UTC on 7 May is 00:30 on 8 May in Amsterdam (CEST, UTC+2).
        assert_eq!(rows[2].start_date_local.to_string(), "2026-05-08 00:30:00");
    }

    #[test]
    fn french_and_spanish_headers_name_their_columns_in_errors() {
        let rows = parse(&block("french-fixture"), &ctx(None));
        assert_eq!(rows.len(), 3);
        for p in &rows {
            assert_eq!(
                p.row.as_ref().unwrap_err(),
                "column 2 (Date de l'activité): \"date\" is not a date"
            );
        }
        let rows = parse(&block("spanish-fixture"), &ctx(None));
        assert_eq!(
            rows[0].row.as_ref().unwrap_err(),
            "column 2 (Fecha de la actividad): \"x\" is not a date"
        );
        // With the placeholder dates replaced, the French rows read.
        let fixed = block("french-fixture").replace(",date,", ",\"14 juil. 2020, 22:36:55\",");
        let rows = parse(&fixed, &ctx(zone("Europe/Paris")));
        let rows = good(&rows);
        assert_eq!(rows[0].sport_type, "Run");
        assert_eq!(rows[1].sport_type, "Ride");
        assert_eq!(rows[0].start_date_local.to_string(), "2020-07-15 00:36:55");
        assert_eq!(
            (rows[0].elapsed_time_s, rows[0].total_elevation_gain_m),
            (3600, 45.5)
        );
        // Only the first Distance (kilometres) is filled.
        assert_eq!(rows[1].distance_m, 30000.0);
    }

    #[test]
    fn spanish_reduced_header_numbers_and_sports() {
        let text = block("spanish-fixture-reduced");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(language::clean_header)
            .collect();
        let reading = language::read_header(&header);
        assert_eq!(reading.language.map(|l| l.code), Some("es"));
        assert_eq!(
            reading.names,
            [
                "Activity ID",
                "Activity Type",
                "Activity Description",
                "Elapsed Time",
                "Distance",
                "Activity Private Note",
                "Filename",
                "Elapsed Time",
                "Moving Time",
                "Distance",
                "Elevation Gain",
                "Perceived Exertion",
            ]
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let km = language::parse_number(&rows[0][4], reading.language);
        let metres = language::parse_number(&rows[0][9], reading.language);
        assert_eq!((km, metres), (Some(4.03), Some(4030.5)));
        assert_eq!(SportType::from_export_name(&rows[0][1]).as_str(), "Run");
        assert_eq!(
            SportType::from_export_name(&rows[1][1]).as_str(),
            "WeightTraining"
        );
        // Without a date the file is refused as a whole.
        let (mut batcher, _rx) = crate::import::rows::Batcher::channel();
        let err = read(text.as_bytes(), &ctx(None), &mut batcher, None).unwrap_err();
        assert!(
            matches!(&err, ReadError::File(m) if m.contains("Activity Date")),
            "{err:?}"
        );
    }

    #[test]
    fn chinese_real_export_in_beijing_time() {
        let text = block("chinese-real-export");
        let header: Vec<String> = text
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(language::clean_header)
            .collect();
        let reading = language::read_header(&header);
        assert_eq!(reading.language.map(|l| l.code), Some("zh"));
        // Every one of the 103 columns has an English name.
        assert!(
            reading.names.iter().all(|n| n.is_ascii()),
            "{:?}",
            reading.names
        );

        let rows = parse(&text, &ctx(zone("Asia/Shanghai")));
        let rows = good(&rows);
        assert_eq!(rows.len(), 3);
        let a = rows[0];
        assert_eq!(a.id, 19766221137);
        assert_eq!(a.name, "温榆河绕圈✘2+机场东路有氧");
        assert_eq!(a.sport_type, "Ride");
        // "2026年8月16日 09:01:41" is UTC; Beijing is UTC+8 all year.
        assert_eq!(a.start_date.to_string(), "2026-08-16 09:01:41 UTC");
        assert_eq!(a.start_date_local.to_string(), "2026-08-16 17:01:41");
        assert_eq!(a.timezone.as_deref(), Some("(GMT+08:00) Asia/Shanghai"));
        assert_eq!(a.distance_m, 87694.9);
        assert_eq!((a.moving_time_s, a.elapsed_time_s), (12339, 13127));
        assert_eq!(
            (a.average_heartrate, a.max_heartrate),
            (Some(146.0), Some(166.0))
        );
        assert_eq!((a.calories, a.average_watts), (Some(2681.0), Some(127.0)));
        assert_eq!(a.total_elevation_gain_m, 53.0);
        // 22:47 UTC on 8 August is a dawn start on the 9th in Beijing.
        assert_eq!(rows[1].start_date_local.to_string(), "2026-08-09 06:47:15");
        assert_eq!(rows[1].distance_m, 210288.3);
        assert_eq!(rows[1].total_elevation_gain_m, 1825.0);
        // A description with full-width commas and an emoji is one field.
        assert_eq!(rows[2].name, "机场东路有氧40公里");
        assert_eq!(rows[2].average_cadence, Some(80.0));
    }

    #[test]
    fn japanese_fixture_header_and_numeric_date() {
        let rows = parse(&block("japanese-fixture"), &ctx(zone("Asia/Tokyo")));
        let rows = good(&rows);
        let a = rows[0];
        assert_eq!((a.id, a.name.as_str()), (1, "朝のランニング"));
        assert_eq!(a.sport_type, "Run");
        // A morning run: 20:14 UTC is 05:14 the next day in Tokyo (UTC+9).
        assert_eq!(a.start_date_local.to_string(), "2026-06-30 05:14:15");
        // The fixture's "距離_1" is not Strava's name, so the first Distance
        // (kilometres) is the one read.
        assert_eq!(a.distance_m, 12400.0);
        // No elapsed time in the fixture: the moving time stands in for it.
        assert_eq!((a.moving_time_s, a.elapsed_time_s), (4555, 4555));
        assert_eq!(a.total_elevation_gain_m, 163.0);
    }

    #[test]
    fn a_row_without_any_zone_says_what_to_pass() {
        let text = "Activity ID,Activity Date\n1,2023-11-02T07:10:12Z\n";
        let mut no_zone = ctx(None);
        no_zone.zone = None;
        let rows = parse(text, &no_zone);
        assert!(
            rows[0].row.as_ref().unwrap_err().contains("--timezone"),
            "{rows:?}"
        );
    }
}
