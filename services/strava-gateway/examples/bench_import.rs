//! Benchmark (not a test): `strava-gateway import` of a large Strava export, timed,
//! with the importer's peak memory.
//!
//! ```text
//! cargo build --release -p strava-gateway --bin strava-gateway --example bench_import
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     target/release/examples/bench_import [--rows N] [--json | --zip]
//! ```
//!
//! Writes an `activities.csv` of N rows (default 1,000,000) in Strava's export layout
//! (or with `--json` a JSON array of N SummaryActivity, or with `--zip` an export
//! archive whose activities have a gzipped GPX file each, but every tenth, spread
//! over three continents' zones), runs the release
//! `strava-gateway import` binary next to this one against a throwaway database, and
//! prints the elapsed time and the importer's peak resident memory (`VmHWM` from
//! `/proc/<pid>/status`, sampled while it runs; the kernel keeps the high-water mark,
//! so the last sample before exit is the peak).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::TestDb;

const HEADER: &str = "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,Athlete Weight,Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Average Speed,Elevation Gain,Elevation Loss,Elevation Low,Elevation High,Max Grade,Average Grade,Max Cadence,Average Cadence,Max Heart Rate,Average Heart Rate,Max Watts,Average Watts,Calories,Commute,Flagged";

struct Args {
    rows: u64,
    json: bool,
    zip: bool,
}

fn args() -> Args {
    let mut a = Args {
        rows: 1_000_000,
        json: false,
        zip: false,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        match flag.as_str() {
            "--rows" => match argv.next().and_then(|v| v.parse().ok()) {
                Some(n) => a.rows = n,
                None => usage(),
            },
            "--json" => a.json = true,
            "--zip" => a.zip = true,
            _ => usage(),
        }
    }
    a
}

fn usage() -> ! {
    eprintln!("usage: bench_import [--rows N] [--json | --zip]");
    std::process::exit(2);
}

/// Row `i`: a morning run or ride, one a day going back from 2026, with a quoted
/// date and, every tenth row, a description over two lines.
fn write_csv(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{HEADER}")?;
    for i in 0..rows {
        let id = 1_000_000_000 + i;
        let day =
            chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() - chrono::Days::new(i % 20_000);
        let date = day.format("%b %-d, %Y, 7:10:12 AM");
        let (kind, km) = if i % 3 == 0 {
            ("Ride", 30.5)
        } else {
            ("Run", 8.2)
        };
        let desc = if i % 10 == 0 {
            "\"easy, then\nhills\""
        } else {
            ""
        };
        writeln!(
            out,
            "{id},\"{date}\",Morning {kind},{kind},{desc},2950,{km},171,40,false,,,activities/{id}.gpx.gz,,,2950.0,2900.0,{m},4.2,2.86,35.0,34.0,10.0,45.0,8.0,0.1,90,84.5,171,150.2,,,420,0.0,0.0",
            m = km * 1000.0
        )?;
    }
    out.flush()
}

fn write_json(path: &Path, rows: u64) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    write!(out, "[")?;
    for i in 0..rows {
        let item = serde_json::json!({
            "id": 1_000_000_000 + i, "name": "Morning Run", "sport_type": "Run", "type": "Run",
            "start_date": "2024-05-01T16:00:00Z", "start_date_local": "2024-05-01T18:00:00Z",
            "timezone": "(GMT+01:00) Europe/Paris", "distance": 8200.0, "moving_time": 2900,
            "elapsed_time": 2950, "total_elevation_gain": 35.0, "average_speed": 2.83,
            "max_speed": 4.2, "average_heartrate": 150.2, "max_heartrate": 171.0,
            "athlete": {"id": 1, "resource_state": 1}
        });
        if i > 0 {
            write!(out, ",")?;
        }
        serde_json::to_writer(&mut out, &item)?;
        writeln!(out)?;
    }
    write!(out, "]")?;
    out.flush()
}

/// An export archive: the CSV of `write_csv` and a one-point GPX file for nine rows
/// in ten, in Paris, Tokyo or New York.
fn write_zip(path: &Path, rows: u64) -> std::io::Result<()> {
    let csv = path.with_extension("csv");
    write_csv(&csv, rows)?;
    let mut zip = zip::ZipWriter::new(BufWriter::new(std::fs::File::create(path)?));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("activities.csv", deflated)?;
    std::io::copy(&mut std::fs::File::open(&csv)?, &mut zip)?;
    std::fs::remove_file(&csv)?;
    const PLACES: [(f64, f64); 3] = [(48.8566, 2.3522), (35.6812, 139.7671), (40.7128, -74.006)];
    for i in (0..rows).filter(|i| i % 10 != 0) {
        let (lat, lon) = PLACES[(i % 3) as usize];
        let gpx = format!(
            "<?xml version=\"1.0\"?><gpx creator=\"bench\"><trk><trkseg><trkpt lat=\"{lat}\" lon=\"{lon}\"><ele>35.0</ele></trkpt></trkseg></trk></gpx>"
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(gpx.as_bytes())?;
        zip.start_file(format!("activities/{}.gpx.gz", 1_000_000_000 + i), stored)?;
        zip.write_all(&gz.finish()?)?;
    }
    zip.finish()?.flush()
}

/// `VmHWM` of a running process, in kB.
fn peak_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn gateway_binary() -> PathBuf {
    let bin = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.join("strava-gateway")));
    match bin.filter(|p| p.is_file()) {
        Some(bin) => bin,
        None => {
            eprintln!("bench_import: build the strava-gateway binary next to this example");
            std::process::exit(2);
        }
    }
}

#[tokio::main]
async fn main() {
    let args = args();
    let bin = gateway_binary();
    let dir = std::env::temp_dir().join(format!("stravatalk-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(if args.json {
        "activities.json"
    } else if args.zip {
        "export_1.zip"
    } else {
        "activities.csv"
    });
    let written = if args.json {
        write_json(&file, args.rows)
    } else if args.zip {
        write_zip(&file, args.rows)
    } else {
        write_csv(&file, args.rows)
    };
    written.expect("write the file");
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let db = TestDb::new().await;

    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args(["import", "--timezone", "UTC", "--athlete", "1"])
        .arg(&file)
        .env_clear()
        .env("DATABASE_URL", db.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start strava-gateway import");
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = peak_kb(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let output = child.wait_with_output().expect("output");
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "import of {} rows ({}, {:.0} MB): {}",
        args.rows,
        if args.json {
            "JSON array"
        } else if args.zip {
            "export ZIP with GPS files"
        } else {
            "export CSV"
        },
        bytes as f64 / 1e6,
        String::from_utf8_lossy(&output.stdout).trim()
    );
    if !status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        eprintln!("bench_import: the import failed ({status})");
        std::process::exit(1);
    }
    println!(
        "  {:.1} s = {:.0} rows/s; peak RSS of the importer {:.1} MB (VmHWM)",
        took.as_secs_f64(),
        args.rows as f64 / took.as_secs_f64(),
        peak as f64 / 1024.0
    );
}
