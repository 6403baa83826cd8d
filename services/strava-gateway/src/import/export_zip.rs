//! Strava's export archive (`export_NNNN.zip`) read in place: `activities.csv` is
//! streamed out of it, and each activity's GPS file (the CSV's "Filename") is opened
//! on a second handle to the same archive, read to its first position and looked up
//! in the time-zone boundaries embedded in the binary (`tzf-rs`). Nothing is
//! unpacked to disk; what is held is the row being read and the archive's index,
//! 32 bytes per file in it (`zip_index`).

use super::export_csv;
use super::gps;
use super::rows::{Batcher, ReadError, RowContext, ZoneFinder};
use super::zip_index::{Found, ZipIndex};
use chrono_tz::Tz;
use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// The CSV's name inside the archive.
const CSV_NAME: &str = "activities.csv";

/// Whether `head` (the first bytes of a file) starts a ZIP archive.
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Opens the archive and finds `activities.csv`, so a file that is not an export is
/// refused before the import starts.
pub fn check(path: &Path) -> Result<(), String> {
    open(path).map(|_| ())
}

/// The archive's index and its `activities.csv`. The folder the CSV sits in (""
/// or "export_123/") is where the "Filename" column's paths start.
fn open(path: &Path) -> Result<(ZipIndex, Found), String> {
    let is_csv = |name: &str| {
        let lower = name.to_ascii_lowercase();
        lower == CSV_NAME || lower.ends_with(&format!("/{CSV_NAME}"))
    };
    let (index, candidates) = ZipIndex::read(path, is_csv).map_err(|e| e.to_string())?;
    // The shallowest one is the export's own.
    let csv = candidates
        .into_iter()
        .min_by_key(|found| found.name.len())
        .ok_or_else(|| format!("no {CSV_NAME} in the archive: is this a Strava export?"))?;
    Ok((index, csv))
}

fn open_file(path: &Path) -> Result<BufReader<File>, ReadError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| ReadError::File(format!("cannot open: {e}")))
}

/// Reads the archive's `activities.csv` row by row, each activity in the zone of
/// its GPS file when it has one.
pub fn read(path: &Path, ctx: &RowContext, out: &mut Batcher) -> Result<(), ReadError> {
    let (index, csv_entry) = open(path).map_err(ReadError::File)?;
    let folder = csv_entry.name[..csv_entry.name.len() - CSV_NAME.len()].to_owned();
    let csv = csv_entry
        .open(open_file(path)?)
        .map_err(|e| ReadError::File(format!("cannot read {CSV_NAME}: {e}")))?;
    let mut zones = ArchiveZones {
        index,
        file: open_file(path)?,
        folder,
        finder: tzf_rs::EmbeddedFinder::new(),
        found: HashMap::new(),
    };
    export_csv::read(csv, ctx, out, Some(&mut zones))
}

/// Zones from the GPS files of one archive, read on a second handle to it while
/// the first streams the CSV. Each file is read once, however many rows name it:
/// rows of a hostile file may all point at one large file.
struct ArchiveZones {
    index: ZipIndex,
    file: BufReader<File>,
    folder: String,
    finder: tzf_rs::EmbeddedFinder,
    /// The zone found for each file name read so far (`None`: no file, no position).
    found: HashMap<String, Option<Tz>>,
}

impl ArchiveZones {
    fn read_zone(&mut self, name: &str) -> Option<Tz> {
        // An unreadable file costs the activity only its own zone.
        let entry = self.index.open(&mut self.file, name).ok()??;
        let position = gps::first_position(name, entry).ok()??;
        zone_at(&self.finder, position)
    }
}

impl ZoneFinder for ArchiveZones {
    fn zone_of(&mut self, filename: &str) -> Option<Tz> {
        let name = format!("{}{}", self.folder, filename.trim());
        if let Some(zone) = self.found.get(&name) {
            return *zone;
        }
        let zone = self.read_zone(&name);
        self.found.insert(name, zone);
        zone
    }
}

/// The zone covering a position; `None` where the boundaries name a zone chrono-tz
/// does not know.
pub fn zone_at(finder: &tzf_rs::EmbeddedFinder, p: gps::Position) -> Option<Tz> {
    finder.get_tz_name(p.lon, p.lat).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_give_the_zone_of_a_position() {
        let finder = tzf_rs::EmbeddedFinder::new();
        let at = |lat, lon| zone_at(&finder, gps::Position { lat, lon }).map(|z| z.name());
        assert_eq!(at(48.8566, 2.3522), Some("Europe/Paris"));
        assert_eq!(at(35.6812, 139.7671), Some("Asia/Tokyo"));
        assert_eq!(at(-8.0476, -34.877), Some("America/Recife"));
        assert_eq!(at(52.3676, 4.9041), Some("Europe/Amsterdam"));
    }
}
