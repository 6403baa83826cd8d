//! The first position of an activity file in Strava's export: GPX (`<trkpt lat lon>`),
//! TCX (`<Position><LatitudeDegrees>…`) or FIT (the first `record` message with a
//! valid `position_lat`/`position_long`), each possibly gzipped.
//!
//! Files are read as streams and only as far as the first position: an activity's
//! zone needs one point, and an export holds thousands of files.

use flate2::read::GzDecoder;
use std::io::{self, BufRead, BufReader, Read};

/// A point in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
}

/// How far a file is read, after decompression, looking for its first position. A
/// real file has one within its first kilobytes (a TCX may start with points
/// recorded before the fix); past this it is treated as having none, so a file
/// made to be huge costs at most this much work.
const READ_LIMIT: u64 = 4 << 20;

/// The first position in `input`, an activity file named `name` (the export's
/// "Filename", e.g. "activities/123.fit.gz"). `Ok(None)` when the format is not one
/// we read or the file has no position (an indoor activity).
pub fn first_position(name: &str, input: impl Read) -> io::Result<Option<Position>> {
    let lower = name.to_ascii_lowercase();
    let (stem, input): (&str, Box<dyn Read + '_>) = match lower.strip_suffix(".gz") {
        Some(stem) => (stem, Box::new(GzDecoder::new(input))),
        None => (lower.as_str(), Box::new(input)),
    };
    if stem.ends_with(".gpx") {
        text_position(input, Markup::Gpx)
    } else if stem.ends_with(".tcx") {
        text_position(input, Markup::Tcx)
    } else if stem.ends_with(".fit") {
        fit_position(BufReader::new(input))
    } else {
        Ok(None)
    }
}

#[derive(Clone, Copy)]
enum Markup {
    Gpx,
    Tcx,
}

/// Scans XML text for the first point without building a tree: the window holds
/// what has been read since the last place a point could start.
fn text_position(input: impl Read, markup: Markup) -> io::Result<Option<Position>> {
    let mut input = BufReader::new(input.take(READ_LIMIT));
    let mut window = String::new();
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(None);
        }
        window.push_str(&String::from_utf8_lossy(chunk));
        let used = chunk.len();
        input.consume(used);
        let found = match markup {
            Markup::Gpx => gpx_point(&window),
            Markup::Tcx => tcx_point(&window),
        };
        match found {
            Scan::Found(p) => return Ok(Some(p)),
            // Keep only the tail that may hold the start of a point.
            Scan::NotYet(mut keep_from) => {
                while !window.is_char_boundary(keep_from) {
                    keep_from -= 1;
                }
                window.drain(..keep_from);
            }
        }
    }
}

enum Scan {
    Found(Position),
    /// Not complete in the window; the byte offset from which to keep it.
    NotYet(usize),
}

fn gpx_point(window: &str) -> Scan {
    let mut from = 0;
    loop {
        let Some(at) = ["<trkpt", "<rtept", "<wpt"]
            .iter()
            .filter_map(|tag| window[from..].find(tag).map(|i| from + i))
            .min()
        else {
            return Scan::NotYet(window.len().saturating_sub(8));
        };
        let Some(end) = window[at..].find('>') else {
            return Scan::NotYet(at);
        };
        let tag = &window[at..at + end];
        if let (Some(lat), Some(lon)) = (attribute(tag, "lat"), attribute(tag, "lon"))
            && let Some(p) = valid(lat, lon)
        {
            return Scan::Found(p);
        }
        from = at + end;
    }
}

/// The number in `name="…"` (or single quotes) within a start tag.
fn attribute(tag: &str, name: &str) -> Option<f64> {
    let mut rest = tag;
    while let Some(i) = rest.find(name) {
        let before_ok = rest[..i].ends_with(|c: char| c.is_whitespace());
        let after = rest[i + name.len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                let inner = &value[1..];
                let close = inner.find(quote)?;
                return inner[..close].trim().parse().ok();
            }
        }
        rest = &rest[i + name.len()..];
    }
    None
}

fn tcx_point(window: &str) -> Scan {
    let mut from = 0;
    loop {
        let Some(at) = window[from..].find("<Position>").map(|i| from + i) else {
            return Scan::NotYet(window.len().saturating_sub(10));
        };
        let Some(end) = window[at..].find("</Position>") else {
            return Scan::NotYet(at);
        };
        let block = &window[at..at + end];
        let lat = element(block, "LatitudeDegrees");
        let lon = element(block, "LongitudeDegrees");
        if let (Some(lat), Some(lon)) = (lat, lon)
            && let Some(p) = valid(lat, lon)
        {
            return Scan::Found(p);
        }
        from = at + end;
    }
}

fn element(block: &str, name: &str) -> Option<f64> {
    let open = format!("<{name}>");
    let start = block.find(&open)? + open.len();
    let end = block[start..].find('<')? + start;
    block[start..end].trim().parse().ok()
}

fn valid(lat: f64, lon: f64) -> Option<Position> {
    // (0, 0) is what some devices write before they have a fix.
    let ok = lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
        && !(lat == 0.0 && lon == 0.0);
    ok.then_some(Position { lat, lon })
}

/// FIT's global message number of `record`, and its position fields.
const RECORD: u16 = 20;
const POSITION_LAT: u8 = 0;
const POSITION_LONG: u8 = 1;
/// A sint32 field with no value.
const INVALID_SINT32: i32 = 0x7FFF_FFFF;

/// One field of a FIT definition message.
#[derive(Clone, Copy)]
struct FieldDef {
    number: u8,
    size: u8,
}

#[derive(Clone, Default)]
struct Definition {
    big_endian: bool,
    global: u16,
    fields: Vec<FieldDef>,
    /// Bytes of developer fields after the regular ones.
    developer_bytes: usize,
}

/// Walks FIT records until the first `record` message with a position. Only the
/// layout is read (header, definitions, data sizes); CRCs are not checked, since a
/// damaged file only costs the activity its own zone.
fn fit_position(mut input: impl BufRead) -> io::Result<Option<Position>> {
    let mut header = [0u8; 12];
    if input.read_exact(&mut header).is_err() {
        return Ok(None);
    }
    let header_size = usize::from(header[0]);
    if header_size < 12 || &header[8..12] != b".FIT" {
        return Ok(None);
    }
    skip(&mut input, header_size - 12)?;
    let data_size = u64::from(u32::from_le_bytes([
        header[4], header[5], header[6], header[7],
    ]));
    let mut input = input.take(data_size.min(READ_LIMIT));
    let mut definitions: [Option<Definition>; 16] = Default::default();
    let mut byte = [0u8; 1];
    loop {
        if input.read(&mut byte)? == 0 {
            return Ok(None);
        }
        let record_header = byte[0];
        let (local, is_definition, has_developer) = if record_header & 0x80 != 0 {
            // Compressed timestamp header: a data message of local type 0–3.
            (usize::from((record_header >> 5) & 0x03), false, false)
        } else {
            (
                usize::from(record_header & 0x0F),
                record_header & 0x40 != 0,
                record_header & 0x20 != 0,
            )
        };
        if is_definition {
            definitions[local] = Some(read_definition(&mut input, has_developer)?);
            continue;
        }
        let Some(def) = definitions[local].clone() else {
            // Data before its definition: not a file we can follow.
            return Ok(None);
        };
        let mut lat = None;
        let mut lon = None;
        for field in &def.fields {
            let mut value = vec![0u8; usize::from(field.size)];
            input.read_exact(&mut value)?;
            if def.global == RECORD && field.size == 4 {
                let bytes = [value[0], value[1], value[2], value[3]];
                let v = if def.big_endian {
                    i32::from_be_bytes(bytes)
                } else {
                    i32::from_le_bytes(bytes)
                };
                match field.number {
                    POSITION_LAT if v != INVALID_SINT32 => lat = Some(v),
                    POSITION_LONG if v != INVALID_SINT32 => lon = Some(v),
                    _ => {}
                }
            }
        }
        skip(&mut input, def.developer_bytes)?;
        if let (Some(lat), Some(lon)) = (lat, lon)
            && let Some(p) = valid(semicircles(lat), semicircles(lon))
        {
            return Ok(Some(p));
        }
    }
}

fn read_definition(input: &mut impl Read, has_developer: bool) -> io::Result<Definition> {
    let mut fixed = [0u8; 5];
    input.read_exact(&mut fixed)?;
    let big_endian = fixed[1] == 1;
    let global = if big_endian {
        u16::from_be_bytes([fixed[2], fixed[3]])
    } else {
        u16::from_le_bytes([fixed[2], fixed[3]])
    };
    let mut fields = Vec::with_capacity(usize::from(fixed[4]));
    for _ in 0..fixed[4] {
        let mut f = [0u8; 3];
        input.read_exact(&mut f)?;
        fields.push(FieldDef {
            number: f[0],
            size: f[1],
        });
    }
    let mut developer_bytes = 0;
    if has_developer {
        let mut count = [0u8; 1];
        input.read_exact(&mut count)?;
        for _ in 0..count[0] {
            let mut f = [0u8; 3];
            input.read_exact(&mut f)?;
            developer_bytes += usize::from(f[1]);
        }
    }
    Ok(Definition {
        big_endian,
        global,
        fields,
        developer_bytes,
    })
}

fn skip(input: &mut impl Read, n: usize) -> io::Result<()> {
    io::copy(&mut input.take(n as u64), &mut io::sink()).map(|_| ())
}

fn semicircles(v: i32) -> f64 {
    f64::from(v) * (180.0 / 2_147_483_648.0)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    pub fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    /// A FIT file with a file_id message, a record without position (no fix yet),
    /// then records at `points` (degrees). Built by hand from the FIT layout.
    pub fn fit_file(points: &[(f64, f64)]) -> Vec<u8> {
        let mut data = Vec::new();
        // Definition, local 0: file_id (global 0), one field: type (0), 1 byte, enum.
        data.extend([0x40, 0, 0, 0, 0, 1, 0, 1, 0x00]);
        data.extend([0x00, 4]);
        // Definition, local 1: record (20), little-endian: timestamp (253, 4 bytes),
        // position_lat (0), position_long (1), heart_rate (3, 1 byte).
        data.extend([
            0x41, 0, 0, 20, 0, 4, 253, 4, 0x86, 0, 4, 0x85, 1, 4, 0x85, 3, 1, 0x02,
        ]);
        let mut record = |lat: i32, lon: i32| {
            data.push(0x01);
            data.extend(1_000_000_000u32.to_le_bytes());
            data.extend(lat.to_le_bytes());
            data.extend(lon.to_le_bytes());
            data.push(120);
        };
        record(INVALID_SINT32, INVALID_SINT32);
        for (lat, lon) in points {
            let to = |deg: f64| (deg * 2_147_483_648.0 / 180.0).round() as i32;
            record(to(*lat), to(*lon));
        }
        let mut file = vec![14, 0x20, 0x08, 0x08];
        file.extend((data.len() as u32).to_le_bytes());
        file.extend(b".FIT");
        file.extend([0, 0]);
        file.extend(data);
        file.extend([0, 0]);
        file
    }

    fn near(p: Option<Position>, lat: f64, lon: f64) {
        let p = p.expect("a position");
        assert!(
            (p.lat - lat).abs() < 1e-6 && (p.lon - lon).abs() < 1e-6,
            "{p:?}"
        );
    }

    #[test]
    fn gpx_first_track_point_in_either_attribute_order() {
        let gpx = r#"<?xml version="1.0"?><gpx creator="StravaGPX"><metadata><time>2020-07-14T22:36:55Z</time></metadata>
<trk><name>Corrida</name><trkseg><trkpt lon="-34.8770" lat='-8.0476'><ele>7.2</ele></trkpt>
<trkpt lat="-8.1" lon="-34.9"/></trkseg></trk></gpx>"#;
        near(
            first_position("activities/1.gpx", gpx.as_bytes()).unwrap(),
            -8.0476,
            -34.877,
        );
        near(
            first_position("activities/1.gpx.gz", gzip(gpx.as_bytes()).as_slice()).unwrap(),
            -8.0476,
            -34.877,
        );
    }

    #[test]
    fn tcx_first_position_skips_points_without_one() {
        let tcx = "<TrainingCenterDatabase><Activities><Activity Sport=\"Running\"><Lap><Track>\
            <Trackpoint><Time>2024-03-31T00:30:00Z</Time><HeartRateBpm><Value>90</Value></HeartRateBpm></Trackpoint>\
            <Trackpoint><Time>2024-03-31T00:30:01Z</Time><Position><LatitudeDegrees>52.3676</LatitudeDegrees>\
            <LongitudeDegrees>4.9041</LongitudeDegrees></Position></Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>";
        near(
            first_position("activities/2.TCX.GZ", gzip(tcx.as_bytes()).as_slice()).unwrap(),
            52.3676,
            4.9041,
        );
    }

    #[test]
    fn fit_first_record_with_a_fix() {
        let fit = fit_file(&[(35.6812, 139.7671), (35.0, 139.0)]);
        near(
            first_position("activities/3.fit", fit.as_slice()).unwrap(),
            35.6812,
            139.7671,
        );
        near(
            first_position("activities/3.fit.gz", gzip(&fit).as_slice()).unwrap(),
            35.6812,
            139.7671,
        );
    }

    #[test]
    fn files_without_a_position_give_none() {
        assert_eq!(
            first_position("a.fit", fit_file(&[]).as_slice()).unwrap(),
            None
        );
        assert_eq!(
            first_position("a.gpx", "<gpx><trk></trk></gpx>".as_bytes()).unwrap(),
            None
        );
        assert_eq!(
            first_position(
                "a.gpx",
                "<gpx><trkpt lat=\"0\" lon=\"0\"/></gpx>".as_bytes()
            )
            .unwrap(),
            None
        );
        assert_eq!(
            first_position("a.fit", b"not a fit file".as_slice()).unwrap(),
            None
        );
        assert_eq!(
            first_position("photo.jpg", b"\xff\xd8".as_slice()).unwrap(),
            None
        );
    }

    #[test]
    fn a_file_is_read_only_so_far_for_its_first_point() {
        // A point behind the limit is not looked for; one before it is found, gzipped
        // or not, however large the file.
        let padded = |pad: u64| {
            let mut file = b"<gpx><trk><trkseg>".to_vec();
            file.extend(std::iter::repeat_n(b' ', pad as usize));
            file.extend_from_slice(
                b"<trkpt lat=\"48.85\" lon=\"2.35\"></trkpt></trkseg></trk></gpx>",
            );
            file
        };
        near(
            first_position("a.gpx", padded(READ_LIMIT / 2).as_slice()).unwrap(),
            48.85,
            2.35,
        );
        assert_eq!(
            first_position("a.gpx", padded(READ_LIMIT).as_slice()).unwrap(),
            None
        );
        let bomb = gzip(&padded(16 * READ_LIMIT));
        assert!(bomb.len() < (1 << 20), "{} bytes", bomb.len());
        assert_eq!(first_position("a.gpx.gz", bomb.as_slice()).unwrap(), None);
    }

    #[test]
    fn a_point_split_across_reads_is_found() {
        // A reader that hands over three bytes at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(3).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let gpx =
            "<gpx><trk><trkseg><trkpt lat=\"48.8566\" lon=\"2.3522\"></trkpt></trkseg></trk></gpx>";
        near(
            first_position("a.gpx", Trickle(gpx.as_bytes())).unwrap(),
            48.8566,
            2.3522,
        );
    }
}
