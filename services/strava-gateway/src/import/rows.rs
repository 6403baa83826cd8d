//! What the file readers hand to the writer: rows tagged with their place in the
//! file, in bounded batches over a channel, so reading (a blocking thread) and
//! writing (the database) overlap and memory is bounded by the batch, not the file.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use db::activities::ActivityRow;
use domain::AthleteId;
use std::fmt;
use tokio::sync::mpsc;

/// Rows per batch: two upsert statements' worth.
pub const BATCH_ROWS: usize = 2 * db::activities::UPSERT_CHUNK;

/// Batches in flight between the reader and the writer.
pub const BATCHES_IN_FLIGHT: usize = 2;

/// Where a row sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The line a CSV record starts on (1-based; the header is line 1).
    Line(u64),
    /// The position of an element in a JSON array (0-based).
    Index(u64),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Index(n) => write!(f, "index {n}"),
        }
    }
}

/// One row of the file: the row to store, or why it cannot be stored.
#[derive(Debug)]
pub struct Parsed {
    pub place: Place,
    pub row: Result<ActivityRow, String>,
}

/// What every row of one import shares.
#[derive(Debug, Clone)]
pub struct RowContext {
    /// The athlete the rows belong to.
    pub athlete: AthleteId,
    /// The athlete's time zone, for files that give only UTC start times.
    pub zone: Option<AthleteZone>,
    /// The instant stamped on every row (whole microseconds, as PostgreSQL keeps it).
    pub fetched_at: DateTime<Utc>,
}

/// An athlete's time zone and Strava's label for it ("(GMT+01:00) Europe/Paris").
#[derive(Debug, Clone)]
pub struct AthleteZone {
    pub tz: Tz,
    pub label: String,
}

/// Finds an activity's time zone from its GPS file, named as the export's
/// "Filename" column names it ("activities/123.fit.gz").
pub trait ZoneFinder {
    /// The zone of the file's first position; `None` when the file is not there or
    /// holds no position (an indoor ride), so the athlete's zone applies.
    fn zone_of(&mut self, filename: &str) -> Option<Tz>;
}

/// Why a reader stopped before the end of its file.
#[derive(Debug)]
pub enum ReadError {
    /// The file as a whole cannot be read as this format (no export header, not a
    /// JSON array) or cannot be read at all.
    File(String),
    /// The writer has gone (it failed, and reports why), so there is no point
    /// reading on.
    Stopped,
}

/// Gathers parsed rows into batches and sends each full batch to the writer,
/// waiting while `BATCHES_IN_FLIGHT` are queued. Call only from a blocking thread.
pub struct Batcher {
    tx: mpsc::Sender<Vec<Parsed>>,
    batch: Vec<Parsed>,
}

impl Batcher {
    /// A batcher and the receiving end for the writer.
    pub fn channel() -> (Self, mpsc::Receiver<Vec<Parsed>>) {
        let (tx, rx) = mpsc::channel(BATCHES_IN_FLIGHT);
        let batcher = Self {
            tx,
            batch: Vec::with_capacity(BATCH_ROWS),
        };
        (batcher, rx)
    }

    /// Adds one row, sending the batch when it is full.
    pub fn push(&mut self, parsed: Parsed) -> Result<(), ReadError> {
        self.batch.push(parsed);
        if self.batch.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends what is left.
    pub fn finish(mut self) -> Result<(), ReadError> {
        self.flush()
    }

    fn flush(&mut self) -> Result<(), ReadError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
        self.tx.blocking_send(full).map_err(|_| ReadError::Stopped)
    }
}

/// `text` cut to a length fit for an error message: a hostile file may put megabytes
/// in one cell.
pub fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    if text.chars().count() <= MAX_CHARS {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(MAX_CHARS).collect();
        format!("{head:?}…")
    }
}
