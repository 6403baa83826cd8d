//! A ZIP archive's central directory kept as a compact index, so that an export
//! with 100,000 GPS files costs a few megabytes, not one heap record per file.
//!
//! A general ZIP reader keeps every entry's name, sizes, dates and extra fields.
//! The importer only ever asks "where is this file and how is it compressed", so
//! each entry is kept as 32 bytes: a hash of its name and where its data is. A
//! lookup confirms the name against the entry's own local header, so two names
//! with the same hash can never be confused.
//!
//! Read from the format's published specification (PKWARE's APPNOTE): the end of
//! central directory record, its ZIP64 variant for archives over 65,535 entries or
//! 4 GiB, and entries stored or deflated, with or without data descriptors.
//! Encrypted entries and other compression methods are reported, not read.

use flate2::read::DeflateDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_OF_DIRECTORY: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
/// Fixed part of the end record; a comment of up to 65,535 bytes may follow it.
const END_LEN: u64 = 22;
const MAX_COMMENT: u64 = u16::MAX as u64;

/// Where one entry's data is.
#[derive(Clone, Copy, Debug)]
struct Entry {
    name_hash: u64,
    /// Offset of the local header, from the start of the file.
    header: u64,
    compressed: u64,
    crc: u32,
    method: u16,
    encrypted: bool,
}

/// The entries of one archive, sorted by name hash.
pub struct ZipIndex {
    entries: Vec<Entry>,
}

/// One entry's name and place, for the few entries the importer keeps by name.
#[derive(Clone, Debug)]
pub struct Found {
    pub name: String,
    entry: Entry,
}

/// Why an archive or an entry cannot be read.
#[derive(Debug)]
pub enum ZipError {
    Io(io::Error),
    /// Not a ZIP archive, or a damaged one.
    Damaged(&'static str),
    /// An entry this reader does not decode.
    Unsupported(String),
}

impl std::fmt::Display for ZipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZipError::Io(e) => write!(f, "{e}"),
            ZipError::Damaged(what) => write!(f, "not a ZIP archive or a damaged one ({what})"),
            ZipError::Unsupported(what) => f.write_str(what),
        }
    }
}

impl From<io::Error> for ZipError {
    fn from(e: io::Error) -> Self {
        ZipError::Io(e)
    }
}

impl ZipIndex {
    /// Reads the central directory of the archive at `path`. `keep` is asked about
    /// every entry's name (as UTF-8, lossily); the entries it accepts come back by
    /// name as well, for the caller to choose among.
    pub fn read(
        path: &Path,
        mut keep: impl FnMut(&str) -> bool,
    ) -> Result<(ZipIndex, Vec<Found>), ZipError> {
        let mut file = BufReader::new(File::open(path)?);
        let directory = find_directory(&mut file)?;
        file.seek(SeekFrom::Start(directory.start))?;
        let mut entries = Vec::with_capacity(directory.entries.min(1 << 20) as usize);
        let mut kept = Vec::new();
        let mut name = Vec::new();
        for _ in 0..directory.entries {
            let fixed: [u8; 46] = read_array(&mut file)?;
            if le32(&fixed, 0) != CENTRAL_HEADER {
                return Err(ZipError::Damaged("central directory entry"));
            }
            let flags = le16(&fixed, 8);
            let method = le16(&fixed, 10);
            let mut compressed = u64::from(le32(&fixed, 20));
            let uncompressed = le32(&fixed, 24);
            let name_len = usize::from(le16(&fixed, 28));
            let extra_len = usize::from(le16(&fixed, 30));
            let comment_len = i64::from(le16(&fixed, 32));
            let mut header = u64::from(le32(&fixed, 42));
            name.resize(name_len, 0);
            file.read_exact(&mut name)?;
            let mut extra = vec![0; extra_len];
            file.read_exact(&mut extra)?;
            file.seek_relative(comment_len)?;
            // ZIP64: a field saturated in the fixed part is in the extra field, in
            // this order, and only the saturated ones are there.
            if let Some(mut wide) = zip64_extra(&extra) {
                let mut next = || -> Result<u64, ZipError> {
                    let (value, rest) = wide
                        .split_first_chunk::<8>()
                        .ok_or(ZipError::Damaged("ZIP64 extra field"))?;
                    wide = rest;
                    Ok(u64::from_le_bytes(*value))
                };
                if uncompressed == u32::MAX {
                    next()?;
                }
                if compressed == u64::from(u32::MAX) {
                    compressed = next()?;
                }
                if header == u64::from(u32::MAX) {
                    header = next()?;
                }
            }
            let entry = Entry {
                name_hash: name_hash(&name),
                header: directory
                    .base
                    .checked_add(header)
                    .ok_or(ZipError::Damaged("entry offset"))?,
                compressed,
                crc: le32(&fixed, 16),
                method,
                encrypted: flags & 1 != 0,
            };
            entries.push(entry);
            let text = String::from_utf8_lossy(&name);
            if keep(&text) {
                kept.push(Found {
                    name: text.into_owned(),
                    entry,
                });
            }
        }
        entries.sort_unstable_by_key(|e| e.name_hash);
        entries.shrink_to_fit();
        Ok((ZipIndex { entries }, kept))
    }

    /// The data of the entry called `name`, decompressed, read from `file` (the
    /// same archive, opened by the caller). `Ok(None)` when there is no such entry.
    pub fn open<'a, R: Read + Seek>(
        &self,
        file: &'a mut R,
        name: &str,
    ) -> Result<Option<EntryReader<&'a mut R>>, ZipError> {
        let hash = name_hash(name.as_bytes());
        let first = self.entries.partition_point(|e| e.name_hash < hash);
        for entry in self.entries[first..]
            .iter()
            .take_while(|e| e.name_hash == hash)
        {
            if seek_to_data(file, entry, Some(name.as_bytes()))? {
                return EntryReader::new(file, entry).map(Some);
            }
        }
        Ok(None)
    }
}

impl Found {
    /// This entry's data, decompressed, read from `file` (the same archive).
    pub fn open<R: Read + Seek>(&self, mut file: R) -> Result<EntryReader<R>, ZipError> {
        seek_to_data(&mut file, &self.entry, None)?;
        EntryReader::new(file, &self.entry)
    }
}

/// An entry's decompressed data. Read to its end, it is checked against the CRC-32
/// the directory gives, so a damaged stored file is an error, not wrong rows.
pub struct EntryReader<R> {
    data: Data<R>,
    crc: flate2::Crc,
    expected_crc: u32,
}

enum Data<R> {
    Stored(io::Take<R>),
    Deflated(DeflateDecoder<io::Take<R>>),
}

impl<R: Read> EntryReader<R> {
    fn new(file: R, entry: &Entry) -> Result<Self, ZipError> {
        if entry.encrypted {
            return Err(ZipError::Unsupported("the file is encrypted".into()));
        }
        let raw = file.take(entry.compressed);
        let data = match entry.method {
            0 => Data::Stored(raw),
            8 => Data::Deflated(DeflateDecoder::new(raw)),
            other => {
                return Err(ZipError::Unsupported(format!(
                    "the file is compressed with method {other}; only stored and deflated files can be read"
                )));
            }
        };
        Ok(EntryReader {
            data,
            crc: flate2::Crc::new(),
            expected_crc: entry.crc,
        })
    }
}

impl<R: Read> Read for EntryReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.data {
            Data::Stored(r) => r.read(buf)?,
            Data::Deflated(r) => r.read(buf)?,
        };
        self.crc.update(&buf[..n]);
        if n == 0 && !buf.is_empty() && self.crc.sum() != self.expected_crc {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the file's checksum does not match: the archive is damaged",
            ));
        }
        Ok(n)
    }
}

/// Moves `file` to the entry's data. With `name`, first checks that the local
/// header carries that name, and returns false if it does not.
fn seek_to_data<R: Read + Seek>(
    file: &mut R,
    entry: &Entry,
    name: Option<&[u8]>,
) -> Result<bool, ZipError> {
    file.seek(SeekFrom::Start(entry.header))?;
    let fixed: [u8; 30] = read_array(file)?;
    if le32(&fixed, 0) != LOCAL_HEADER {
        return Err(ZipError::Damaged("local file header"));
    }
    let name_len = usize::from(le16(&fixed, 26));
    let extra_len = i64::from(le16(&fixed, 28));
    match name {
        Some(expected) => {
            let mut stored = vec![0; name_len];
            file.read_exact(&mut stored)?;
            if stored != expected {
                return Ok(false);
            }
        }
        None => {
            file.seek(SeekFrom::Current(name_len as i64))?;
        }
    }
    file.seek(SeekFrom::Current(extra_len))?;
    Ok(true)
}

/// Where the central directory starts, how many entries it has, and how far the
/// archive's offsets are shifted (data prepended to the archive).
struct Directory {
    start: u64,
    entries: u64,
    base: u64,
}

fn find_directory<R: Read + Seek>(file: &mut R) -> Result<Directory, ZipError> {
    let len = file.seek(SeekFrom::End(0))?;
    if len < END_LEN {
        return Err(ZipError::Damaged("too short"));
    }
    let tail_len = len.min(END_LEN + MAX_COMMENT);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0; tail_len as usize];
    file.read_exact(&mut tail)?;
    // The last signature whose comment fits in what follows it.
    let end_at = (0..=tail.len() - END_LEN as usize)
        .rev()
        .find(|&i| {
            le32(&tail, i) == END_OF_DIRECTORY
                && i + END_LEN as usize + usize::from(le16(&tail, i + 20)) <= tail.len()
        })
        .ok_or(ZipError::Damaged("no end of central directory"))?;
    let end_pos = len - tail_len + end_at as u64;
    let end = &tail[end_at..];
    let mut entries = u64::from(le16(end, 10));
    let mut size = u64::from(le32(end, 12));
    let mut start = u64::from(le32(end, 16));
    let mut directory_end = end_pos;
    // A ZIP64 locator sits just before the end record when any field saturates.
    if end_pos >= 20 {
        file.seek(SeekFrom::Start(end_pos - 20))?;
        let locator: [u8; 20] = read_array(file)?;
        if le32(&locator, 0) == ZIP64_LOCATOR {
            let record_pos = le64(&locator, 8);
            file.seek(SeekFrom::Start(record_pos))?;
            let record: [u8; 56] = read_array(file)?;
            if le32(&record, 0) != ZIP64_END_OF_DIRECTORY {
                return Err(ZipError::Damaged("ZIP64 end of central directory"));
            }
            entries = le64(&record, 32);
            size = le64(&record, 40);
            start = le64(&record, 48);
            directory_end = record_pos;
        }
    }
    let base = directory_end
        .checked_sub(size)
        .and_then(|d| d.checked_sub(start))
        .ok_or(ZipError::Damaged("central directory outside the file"))?;
    // Each entry takes at least 46 bytes: a count beyond that is a damaged record,
    // not a reason to reserve memory.
    if entries > size / 46 {
        return Err(ZipError::Damaged("entry count"));
    }
    Ok(Directory {
        start: base + start,
        entries,
        base,
    })
}

/// The ZIP64 extended-information field's data, if the extra fields hold one.
fn zip64_extra(mut extra: &[u8]) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let id = le16(extra, 0);
        let len = usize::from(le16(extra, 2));
        let data = extra.get(4..4 + len)?;
        if id == 0x0001 {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
}

/// FNV-1a: stable across runs and cheap; collisions are resolved by name.
fn name_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn read_array<const N: usize, R: Read>(r: &mut R) -> io::Result<[u8; N]> {
    let mut buf = [0; N];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("four bytes"))
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};
    use zip::CompressionMethod::{Deflated, Stored};
    use zip::write::SimpleFileOptions;

    /// An archive written by the `zip` crate, an independent writer.
    fn archive(entries: &[(&str, &[u8], zip::CompressionMethod)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes, method) in entries {
            zip.start_file(
                *name,
                SimpleFileOptions::default().compression_method(*method),
            )
            .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.set_comment("an archive comment").unwrap();
        zip.finish().unwrap().into_inner()
    }

    fn on_disk(bytes: &[u8]) -> std::path::PathBuf {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "stravatalk-zip-index-{}-{n}.zip",
            std::process::id()
        ));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn read_entry(path: &Path, index: &ZipIndex, name: &str) -> Option<Vec<u8>> {
        let mut file = BufReader::new(File::open(path).unwrap());
        let mut entry = index.open(&mut file, name).unwrap()?;
        let mut out = Vec::new();
        entry.read_to_end(&mut out).unwrap();
        Some(out)
    }

    #[test]
    fn stored_and_deflated_entries_are_found_by_name() {
        let csv = b"Activity ID,Activity Date\n1,\"Jul 14, 2020, 10:36:55 PM\"\n".repeat(50);
        let path = on_disk(&archive(&[
            ("export_7/activities.csv", &csv, Deflated),
            (
                "export_7/activities/1.gpx.gz",
                b"\x1f\x8b not really gzip",
                Stored,
            ),
            ("export_7/profile.csv", b"Athlete ID\n7\n", Deflated),
        ]));
        let (index, kept) = ZipIndex::read(&path, |n| n.ends_with(".csv")).unwrap();
        let names: Vec<&str> = kept.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["export_7/activities.csv", "export_7/profile.csv"]);

        let mut streamed = Vec::new();
        kept[0]
            .open(File::open(&path).unwrap())
            .unwrap()
            .read_to_end(&mut streamed)
            .unwrap();
        assert_eq!(streamed, csv);
        assert_eq!(
            read_entry(&path, &index, "export_7/activities/1.gpx.gz").unwrap(),
            b"\x1f\x8b not really gzip"
        );
        assert_eq!(
            read_entry(&path, &index, "export_7/activities/2.gpx.gz"),
            None
        );
        assert_eq!(read_entry(&path, &index, "activities/1.gpx.gz"), None);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn entries_written_with_data_descriptors_are_read() {
        // A writer that cannot seek back leaves sizes out of the local headers.
        let mut zip = zip::ZipWriter::new_stream(Vec::new());
        let options = SimpleFileOptions::default().compression_method(Deflated);
        zip.start_file("activities.csv", options).unwrap();
        zip.write_all(b"Activity ID\n42\n").unwrap();
        zip.start_file("activities/42.tcx", options).unwrap();
        zip.write_all(b"<TrainingCenterDatabase/>").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let path = on_disk(&bytes);
        let (index, kept) = ZipIndex::read(&path, |n| n == "activities.csv").unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            read_entry(&path, &index, "activities/42.tcx").unwrap(),
            b"<TrainingCenterDatabase/>"
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn an_archive_of_more_than_65535_files_uses_zip64_and_is_read_whole() {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(Stored);
        for i in 0..70_000u32 {
            zip.start_file(format!("activities/{i}.gpx"), options)
                .unwrap();
            zip.write_all(&i.to_le_bytes()).unwrap();
        }
        let path = on_disk(&zip.finish().unwrap().into_inner());
        let (index, kept) = ZipIndex::read(&path, |_| false).unwrap();
        assert!(kept.is_empty());
        assert_eq!(index.entries.len(), 70_000);
        for i in [0u32, 65_535, 65_536, 69_999] {
            let data = read_entry(&path, &index, &format!("activities/{i}.gpx")).unwrap();
            assert_eq!(data, i.to_le_bytes());
        }
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn data_before_the_archive_shifts_every_offset() {
        let mut bytes = b"#!/bin/sh\nexit 0\n".to_vec();
        bytes.extend(archive(&[(
            "activities.csv",
            b"Activity ID\n9\n",
            Deflated,
        )]));
        let path = on_disk(&bytes);
        let (index, _) = ZipIndex::read(&path, |_| false).unwrap();
        assert_eq!(
            read_entry(&path, &index, "activities.csv").unwrap(),
            b"Activity ID\n9\n"
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn damaged_archives_and_entries_are_errors() {
        let good = archive(&[("activities.csv", b"Activity ID\n9\n", Stored)]);

        let cut = on_disk(&good[..good.len() - 30]);
        let err = ZipIndex::read(&cut, |_| true).err().unwrap();
        assert!(err.to_string().contains("not a ZIP archive"), "{err}");
        std::fs::remove_file(cut).unwrap();

        let not_zip = on_disk(b"Activity ID,Activity Date\n");
        assert!(ZipIndex::read(&not_zip, |_| true).is_err());
        std::fs::remove_file(not_zip).unwrap();

        // One byte of the stored CSV changed: its checksum no longer matches.
        let mut flipped = good.clone();
        let at = flipped.windows(2).position(|w| w == b"\n9").unwrap() + 1;
        flipped[at] = b'8';
        let path = on_disk(&flipped);
        let (index, _) = ZipIndex::read(&path, |_| false).unwrap();
        let mut file = BufReader::new(File::open(&path).unwrap());
        let mut entry = index.open(&mut file, "activities.csv").unwrap().unwrap();
        let err = entry.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        std::fs::remove_file(path).unwrap();
    }

    /// Uploads are hostile input: damaged copies of a real-layout archive (bytes
    /// overwritten, the file cut short) are errors or partial reads, never a panic
    /// or an allocation the file's size does not justify.
    #[test]
    fn damaged_copies_of_an_archive_never_panic() {
        let good = archive(&[
            (
                "activities.csv",
                b"Activity ID,Activity Date\n1,x\n",
                Deflated,
            ),
            ("activities/1.gpx.gz", b"\x1f\x8b\x08\x00 gpx", Stored),
        ]);
        // A fixed xorshift sequence: the same damage on every run.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut opened, mut refused) = (0, 0);
        for round in 0..2_000 {
            let mut bytes = good.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = match next() % 3 {
                    0 => 0xff,
                    1 => 0,
                    _ => next() as u8,
                };
            }
            if round % 10 == 0 {
                bytes.truncate((next() % bytes.len() as u64) as usize);
            }
            let path = on_disk(&bytes);
            match ZipIndex::read(&path, |_| true) {
                Ok((index, kept)) => {
                    opened += 1;
                    assert!(index.entries.len() <= 2, "{} entries", index.entries.len());
                    for found in kept {
                        if let Ok(mut entry) = found.open(File::open(&path).unwrap()) {
                            let _ = entry.read_to_end(&mut Vec::new());
                        }
                        let mut file = BufReader::new(File::open(&path).unwrap());
                        if let Ok(Some(mut entry)) = index.open(&mut file, &found.name) {
                            let _ = entry.read_to_end(&mut Vec::new());
                        }
                    }
                }
                Err(_) => refused += 1,
            }
            std::fs::remove_file(path).unwrap();
        }
        // Both outcomes occur: the damage reaches the directory and the data.
        assert!(
            opened > 100 && refused > 100,
            "{opened} opened, {refused} refused"
        );
    }

    #[test]
    fn other_compression_methods_are_named_not_misread() {
        let mut bytes = archive(&[("activities.csv", b"Activity ID\n9\n", Stored)]);
        // Rewrite the method (offset 8 in the local header, 10 in the central
        // one) to 12, bzip2.
        bytes[8] = 12;
        let central = bytes
            .windows(4)
            .position(|w| w == CENTRAL_HEADER.to_le_bytes())
            .unwrap();
        bytes[central + 10] = 12;
        let path = on_disk(&bytes);
        let (index, _) = ZipIndex::read(&path, |_| false).unwrap();
        let mut file = BufReader::new(File::open(&path).unwrap());
        let err = index.open(&mut file, "activities.csv").err().unwrap();
        assert!(err.to_string().contains("method 12"), "{err}");
        std::fs::remove_file(path).unwrap();
    }
}
