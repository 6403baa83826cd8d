//! Strava's export archive (`export_NNNN.zip`) read in place: `activities.csv` is
//! streamed out of it, and each activity's GPS file (the CSV's "Filename") is opened
//! on a second handle to the same archive, read to its first position and looked up
//! in the time-zone boundaries embedded in the binary (`tzf-rs`). Nothing is
//! unpacked to disk and nothing is held beyond the row being read.

use super::export_csv;
use super::gps;
use super::rows::{Batcher, ReadError, RowContext, ZoneFinder};
use chrono_tz::Tz;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;
use zip::ZipArchive;

/// The CSV's name inside the archive.
const CSV_NAME: &str = "activities.csv";

/// Whether `head` (the first bytes of a file) starts a ZIP archive.
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Opens the archive and finds `activities.csv`, so a file that is not an export is
/// refused before the import starts. Returns the folder the CSV sits in ("" or
/// "export_123/"): the "Filename" column is relative to it.
pub fn check(path: &Path) -> Result<String, String> {
    let archive = open(path)?;
    csv_folder(&archive)
}

fn open(path: &Path) -> Result<ZipArchive<BufReader<File>>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    ZipArchive::new(BufReader::new(file)).map_err(|e| format!("not a ZIP archive: {e}"))
}

fn csv_folder<R: Read + Seek>(archive: &ZipArchive<R>) -> Result<String, String> {
    let mut best: Option<String> = None;
    for name in archive.file_names() {
        let Ok(name) = name else { continue };
        let lower = name.to_ascii_lowercase();
        if lower == CSV_NAME || lower.ends_with(&format!("/{CSV_NAME}")) {
            let folder = name[..name.len() - CSV_NAME.len()].to_owned();
            // The shallowest one is the export's own.
            if best.as_ref().is_none_or(|b| folder.len() < b.len()) {
                best = Some(folder);
            }
        }
    }
    best.ok_or_else(|| format!("no {CSV_NAME} in the archive: is this a Strava export?"))
}

/// Reads the archive's `activities.csv` row by row, each activity in the zone of
/// its GPS file when it has one.
pub fn read(path: &Path, ctx: &RowContext, out: &mut Batcher) -> Result<(), ReadError> {
    let mut archive = open(path).map_err(ReadError::File)?;
    let folder = csv_folder(&archive).map_err(ReadError::File)?;
    let mut zones = ArchiveZones {
        archive: open(path).map_err(ReadError::File)?,
        folder: folder.clone(),
        finder: tzf_rs::EmbeddedFinder::new(),
    };
    let csv = archive
        .by_name(&format!("{folder}{CSV_NAME}"))
        .map_err(|e| ReadError::File(format!("cannot read {CSV_NAME}: {e}")))?;
    export_csv::read(csv, ctx, out, Some(&mut zones))
}

/// Zones from the GPS files of one archive.
struct ArchiveZones<R> {
    archive: ZipArchive<R>,
    folder: String,
    finder: tzf_rs::EmbeddedFinder,
}

impl<R: Read + Seek> ZoneFinder for ArchiveZones<R> {
    fn zone_of(&mut self, filename: &str) -> Option<Tz> {
        let name = format!("{}{}", self.folder, filename.trim());
        let entry = self.archive.by_name(&name).ok()?;
        // An unreadable file costs the activity only its own zone.
        let position = gps::first_position(&name, entry).ok()??;
        zone_at(&self.finder, position)
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
