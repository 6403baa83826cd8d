//! `strava-gateway import`: loads one athlete's activities from a Strava bulk export
//! (the archive `export_NNNN.zip` or its `activities.csv`, in any export language)
//! or from a JSON array of SummaryActivity (what `/athlete/activities` returns),
//! without calling Strava.
//!
//! All or nothing: one transaction per import creates the athlete when unknown
//! (name and unit preference from an athlete JSON in Strava's shape when one is
//! given) and stores the rows; when any row is bad, every bad row is reported (the
//! first [`BAD_ROWS_LISTED`] by line or index, then a count) and nothing is stored,
//! not even the athlete, unless the athlete chose to skip bad rows
//! ([`ImportArgs::skip_bad_rows`]): then the good rows are stored and the bad ones
//! reported. Rows are upserted by owner and activity id, so importing the same file
//! again changes nothing, and no file can touch another athlete's rows.
//!
//! The file is streamed: a blocking thread reads it (`export_csv`, `json_array`) and
//! hands rows over in batches (`rows`) to the bulk upsert, so memory is bounded by a
//! few batches, not by the file.

mod csv_input;
mod export_csv;
mod export_zip;
mod gps;
mod json_array;
mod language;
mod rows;
mod zip_index;

pub use export_csv::parse_export_date;
pub use rows::Place;

use chrono::{SubsecRound, Utc};
use db::activities::ActivityRow;
use db::athletes::AthleteUpsert;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::AthleteId;
use rows::{AthleteZone, Batcher, Parsed, ReadError, RowContext};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// How many bad rows a report lists; the rest are counted.
pub const BAD_ROWS_LISTED: usize = 20;

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    /// The athlete the activities belong to.
    pub athlete: AthleteId,
    /// Strava's athlete JSON, used when the athlete must be created.
    pub athlete_json: Option<PathBuf>,
    /// The export archive (`.zip`), `activities.csv` or a `.json` array of
    /// SummaryActivity.
    pub file: PathBuf,
    /// The athlete's time zone, stored on the athlete. The export's dates are UTC, so
    /// a CSV needs this or a zone already stored for the athlete; in an archive it is
    /// the zone of activities without a GPS file.
    pub timezone: Option<chrono_tz::Tz>,
    /// Store the good rows and report the bad ones, instead of refusing the file.
    pub skip_bad_rows: bool,
    /// The most activities the athlete may hold once the file is stored; a file
    /// that would take them past it is refused whole. `None` for the operator's CLI.
    pub max_activities: Option<usize>,
}

/// The outcome of an import that could run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Rows read without error.
    pub read: usize,
    /// Rows inserted or updated.
    pub written: usize,
    /// Rows read that the athlete already has from Strava's API, kept as the API
    /// gave them (the fuller copy).
    pub kept: usize,
    /// Whether the athlete was created by this import.
    pub created_athlete: bool,
    /// The first [`BAD_ROWS_LISTED`] rows that could not be read: where and why.
    pub bad: Vec<BadRow>,
    /// How many rows could not be read in all.
    pub bad_count: usize,
    /// Whether the bad rows were left out and the good ones stored.
    pub bad_skipped: bool,
}

/// A row that could not be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    pub place: Place,
    pub reason: String,
}

impl Report {
    /// Whether the good rows were stored: when none was bad, or when the bad ones
    /// were skipped.
    pub fn stored(&self) -> bool {
        self.bad_count == 0 || self.bad_skipped
    }

    /// The exit code: 0 when every row was stored, 1 when bad rows stopped the import.
    pub fn exit_code(&self) -> u8 {
        if self.stored() { 0 } else { 1 }
    }

    fn note_bad(&mut self, place: Place, reason: String) {
        self.bad_count += 1;
        if self.bad.len() < BAD_ROWS_LISTED {
            self.bad.push(BadRow { place, reason });
        }
    }
}

/// Why an import could not run at all (exit code 2); nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Usage(String),
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
    if args.athlete.get() <= 0 {
        return Err(ImportError::Usage(format!(
            "--athlete must be a positive Strava athlete id, not {}",
            args.athlete.get()
        )));
    }
    run_observed(pool, args, None).await
}

/// Runs an import as [`run`] does, telling `progress` how many rows are stored so far
/// after each batch (the worker's progress bar). It takes any athlete id: the worker
/// imports uploads of athletes who exist already, local ones (negative ids) included.
pub async fn run_observed(
    pool: &db::Pool,
    args: &ImportArgs,
    progress: Option<&watch::Sender<usize>>,
) -> Result<Report, ImportError> {
    let profile = match &args.athlete_json {
        Some(path) => Some(parse_athlete(path, &read_text(path)?, args.athlete)?),
        None => None,
    };
    let (input, format) = open(&args.file)?;
    let mut conn = pool.get().await?;
    let outcome = conn
        .transaction(async |conn| {
            let mut report = import(conn, args, profile, input, format, progress).await?;
            report.bad_skipped = args.skip_bad_rows && report.bad_count > 0;
            // Rolls the transaction back: a refused import leaves no trace.
            if report.stored() {
                Ok(report)
            } else {
                Err(Refused::Rows(report))
            }
        })
        .await;
    match outcome {
        Ok(report) | Err(Refused::Rows(report)) => Ok(report),
        Err(Refused::Error(e)) => Err(e),
    }
}

/// Why the import's transaction rolls back.
enum Refused {
    Rows(Report),
    Error(ImportError),
}

impl From<diesel::result::Error> for Refused {
    fn from(e: diesel::result::Error) -> Self {
        Self::Error(e.into())
    }
}

impl From<ImportError> for Refused {
    fn from(e: ImportError) -> Self {
        Self::Error(e)
    }
}

/// The file formats `import` reads.
#[derive(Debug, Clone, Copy)]
enum Format {
    ExportCsv,
    /// The export archive; read from its path, since entries are opened by name.
    ExportZip,
    JsonArray,
}

type Input = BufReader<File>;

/// Opens the file, past a byte-order mark, and tells its format: a ZIP signature is
/// the export archive (checked to hold `activities.csv`), a `.json` name or a first
/// character `[` is JSON, anything else the export CSV.
fn open(path: &Path) -> Result<(Input, Format), ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut input = BufReader::new(File::open(path).map_err(read_error)?);
    let head = input.fill_buf().map_err(read_error)?;
    if export_zip::is_zip(head) {
        export_zip::check(path).map_err(|reason| ImportError::Format {
            path: path.display().to_string(),
            reason,
        })?;
        return Ok((input, Format::ExportZip));
    }
    let bom = if head.starts_with("\u{feff}".as_bytes()) {
        3
    } else {
        0
    };
    let starts_with_bracket = head[bom..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'[');
    input.consume(bom);
    let named_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let format = if named_json || starts_with_bracket {
        Format::JsonArray
    } else {
        Format::ExportCsv
    };
    Ok((input, format))
}

/// The import inside its transaction: the athlete, then the rows as they are read.
async fn import(
    conn: &mut AsyncPgConnection,
    args: &ImportArgs,
    profile: Option<AthleteUpsert>,
    input: Input,
    format: Format,
    progress: Option<&watch::Sender<usize>>,
) -> Result<Report, ImportError> {
    let mut report = Report::default();
    let timezone = match db::athletes::find(conn, args.athlete).await? {
        Some(row) => row.timezone,
        None => {
            let new = profile.unwrap_or_else(|| AthleteUpsert {
                id: args.athlete.get(),
                firstname: String::new(),
                lastname: String::new(),
                measurement_preference: domain::Units::Metric,
                timezone: None,
                is_demo: false,
            });
            db::athletes::upsert(conn, &new).await?;
            report.created_athlete = true;
            new.timezone
        }
    };
    let zone = match args.timezone {
        Some(tz) => {
            let label = domain::dates::strava_label(tz, Utc::now());
            db::athletes::set_timezone(conn, args.athlete, &label).await?;
            Some(AthleteZone { tz, label })
        }
        None => timezone.and_then(|label| {
            let tz = domain::dates::parse_strava_timezone(&label).ok()?;
            Some(AthleteZone { tz, label })
        }),
    };
    // An archive's activities with GPS files carry their own zone; the others are
    // bad rows that say what to pass.
    if zone.is_none() && matches!(format, Format::ExportCsv) {
        // Refused before any row: the transaction rolls back a just-created athlete.
        return Err(ImportError::Usage(format!(
            "the export's Activity Date is UTC and athlete {} has no time zone stored: \
             pass --timezone Area/City (e.g. --timezone Europe/Paris) so local dates and \
             times are right",
            args.athlete.get()
        )));
    }
    let ctx = RowContext {
        athlete: args.athlete,
        zone,
        // PostgreSQL keeps microseconds; the duplicate check compares this value.
        fetched_at: Utc::now().trunc_subsecs(6),
    };
    let (mut batcher, mut batches) = Batcher::channel();
    let reader_ctx = ctx.clone();
    let path = args.file.clone();
    let reader = tokio::task::spawn_blocking(move || {
        match format {
            Format::ExportCsv => export_csv::read(input, &reader_ctx, &mut batcher, None),
            Format::ExportZip => export_zip::read(&path, &reader_ctx, &mut batcher),
            Format::JsonArray => json_array::read(input, &reader_ctx, &mut batcher),
        }?;
        batcher.finish()
    });
    let held_before = match args.max_activities {
        Some(_) => usize::try_from(db::activities::count_for(conn, args.athlete).await?)
            .unwrap_or(usize::MAX),
        None => 0,
    };
    let mut writer = Writer {
        ctx: &ctx,
        report: &mut report,
        skip_bad_rows: args.skip_bad_rows,
        progress,
        cap: args.max_activities.map(|max| Cap { max, held_before }),
    };
    let format_error = |reason: String| ImportError::Format {
        path: args.file.display().to_string(),
        reason,
    };
    while let Some(batch) = batches.recv().await {
        writer.write(conn, batch).await?;
        if let Some(max) = writer.over_cap(conn).await? {
            // Returning drops the receiver, which stops the reader at its next batch.
            return Err(format_error(format!(
                "the file holds more activities than an account here may keep ({max}); \
                 Strava's busiest athletes have far fewer"
            )));
        }
    }
    match reader.await {
        Ok(Ok(())) => Ok(report),
        Ok(Err(ReadError::File(reason))) => Err(format_error(reason)),
        // Only the writer stops the reader, and it has returned its error above.
        Ok(Err(ReadError::Stopped)) => Err(format_error("the reader stopped early".into())),
        Err(e) => Err(format_error(format!("the reader failed: {e}"))),
    }
}

/// Stores batches while no row has been bad; after the first bad row it only
/// collects the reasons, since the transaction will roll back, unless bad rows are
/// skipped: then it stores the good rows of every batch.
struct Writer<'a> {
    ctx: &'a RowContext,
    report: &'a mut Report,
    skip_bad_rows: bool,
    progress: Option<&'a watch::Sender<usize>>,
    cap: Option<Cap>,
}

/// The most activities the athlete may hold, and how many they held before.
#[derive(Debug, Clone, Copy)]
struct Cap {
    max: usize,
    held_before: usize,
}

impl Writer<'_> {
    /// The cap, when the athlete now holds more than it allows. Rows written include
    /// updates of rows held before, so their sum with what was held is an upper
    /// bound, free to keep; only when it passes the cap is the transaction's own
    /// count asked (a file imported again updates its rows, adding none).
    async fn over_cap(
        &mut self,
        conn: &mut AsyncPgConnection,
    ) -> Result<Option<usize>, ImportError> {
        let Some(cap) = self.cap.as_mut() else {
            return Ok(None);
        };
        if cap.held_before + self.report.written <= cap.max {
            return Ok(None);
        }
        let held = usize::try_from(db::activities::count_for(conn, self.ctx.athlete).await?)
            .unwrap_or(usize::MAX);
        if held > cap.max {
            return Ok(Some(cap.max));
        }
        cap.held_before = held.saturating_sub(self.report.written);
        Ok(None)
    }

    async fn write(
        &mut self,
        conn: &mut AsyncPgConnection,
        batch: Vec<Parsed>,
    ) -> Result<(), ImportError> {
        let mut rows: Vec<ActivityRow> = Vec::with_capacity(batch.len());
        let mut places: HashMap<i64, Place> = HashMap::with_capacity(batch.len());
        for Parsed { place, row } in batch {
            match row {
                Err(reason) => self.report.note_bad(place, reason),
                Ok(row) => {
                    if let Some(first) = places.insert(row.id, place) {
                        self.report
                            .note_bad(place, format!("activity {} is also on {first}", row.id));
                        continue;
                    }
                    self.report.read += 1;
                    rows.push(row);
                }
            }
        }
        let storing = |report: &Report| report.bad_count == 0 || self.skip_bad_rows;
        if !storing(self.report) || rows.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let earlier =
            db::activities::ids_fetched_at(conn, self.ctx.athlete, &ids, self.ctx.fetched_at)
                .await?;
        for id in &earlier {
            self.report.note_bad(
                places[id],
                format!("activity {id} appears earlier in the file"),
            );
        }
        if !storing(self.report) {
            return Ok(());
        }
        if !earlier.is_empty() {
            rows.retain(|r| !earlier.contains(&r.id));
            self.report.read -= earlier.len();
        }
        let written = db::activities::upsert_many(conn, &rows).await?;
        db::gear::upsert_many(conn, &export_gear(&rows, self.ctx)).await?;
        self.report.written += written;
        self.report.kept += rows.len() - written;
        if let Some(progress) = self.progress {
            progress.send_replace(self.report.written);
        }
        Ok(())
    }
}

/// The gear an export's rows name (by name only), as gear rows: bikes for rides and
/// shoes for runs, walks and hikes, as Strava keeps them; no kind otherwise.
fn export_gear(rows: &[ActivityRow], ctx: &RowContext) -> Vec<db::gear::GearRow> {
    use domain::{ActivitySource, Gear, GearKind, SportFamily, SportType};
    let mut seen: HashMap<&str, db::gear::GearRow> = HashMap::new();
    for row in rows {
        let Some(id) = row.gear_id.as_deref() else {
            continue;
        };
        let Some(name) = id.strip_prefix("export:") else {
            continue;
        };
        let kind = match SportType::new(row.sport_type.clone()).family() {
            SportFamily::Cycle => Some(GearKind::Bike),
            SportFamily::Foot => Some(GearKind::Shoes),
            _ => None,
        };
        let gear = Gear {
            id: id.to_owned(),
            name: name.to_owned(),
            kind,
            primary: false,
            retired: false,
            distance_m: None,
        };
        let entry = seen.entry(id).or_insert_with(|| {
            db::gear::GearRow::new(ctx.athlete, &gear, ActivitySource::Import, ctx.fetched_at)
        });
        if entry.kind.is_none() {
            entry.kind = kind.map(|k| k.as_str().to_owned());
        }
    }
    let mut gear: Vec<_> = seen.into_values().collect();
    gear.sort_by(|a, b| a.id.cmp(&b.id));
    gear
}

fn read_text(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })
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
    let Some(preference) = domain::Units::from_strava(&preference) else {
        return Err(bad(format!(
            "measurement_preference {preference:?} is not meters or feet"
        )));
    };
    Ok(AthleteUpsert {
        id: id.get(),
        firstname: text_of("firstname").unwrap_or_default(),
        lastname: text_of("lastname").unwrap_or_default(),
        measurement_preference: preference,
        timezone: text_of("timezone"),
        is_demo: false,
    })
}
