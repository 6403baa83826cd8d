//! `strava-gateway import export_NNNN.zip`: Strava's export archive, each activity in
//! the zone its GPS file was recorded in, and `--skip-bad-rows`.
//!
//! The archive is built here in Strava's layout (`activities.csv` at the top,
//! `activities/<id>.<ext>[.gz]` beside it) from five rows of a real English export
//! (github.com/Bergolito/strava-atividades, activities.csv, an athlete in Recife).
//! The rows are verbatim except where noted: two get dates on the night Europe
//! moved to summer time (29 March 2020, 01:00 UTC) and one a FIT file name. The GPS
//! files are ours: one point each, placed where the test needs it.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::PathBuf;
use strava_gateway::import::{ImportArgs, Place, run};
use testkit::TestDb;

use domain::{ActivityId, AthleteId};

const HEADER: &str = r#"Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,Athlete Weight,Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Average Speed,Elevation Gain,Elevation Loss,Elevation Low,Elevation High,Max Grade,Average Grade,Average Positive Grade,Average Negative Grade,Max Cadence,Average Cadence,Max Heart Rate,Average Heart Rate,Max Watts,Average Watts,Calories,Max Temperature,Average Temperature,Relative Effort,Total Work,Number of Runs,Uphill Time,Downhill Time,Other Time,Perceived Exertion,"<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.type"">Type</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.start_time"">Start Time</span>",Weighted Average Power,Power Count,Prefer Perceived Exertion,Perceived Relative Effort,Commute,Total Weight Lifted,From Upload,Grade Adjusted Distance,Weather Observation Time,Weather Condition,Weather Temperature,Apparent Temperature,Dewpoint,Humidity,Weather Pressure,Wind Speed,Wind Gust,Wind Bearing,Precipitation Intensity,Sunrise Time,Sunset Time,Moon Phase,Bike,Gear,Precipitation Probability,Precipitation Type,Cloud Cover,Weather Visibility,UV Index,Weather Ozone,"<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.jump_count"">Jump Count</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.total_grit"">Total Grit</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.avg_flow"">Avg Flow</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.flagged"">Flagged</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.avg_elapsed_speed"">Avg Elapsed Speed</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.dirt_distance"">Dirt Distance</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.newly_explored_distance"">Newly Explored Distance</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.newly_explored_dirt_distance"">Newly Explored Dirt Distance</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.sport_type"">Sport Type</span>","<span class=""translation_missing"" title=""translation missing: en-US.lib.export.portability_exporter.activities.horton_values.total_steps"">Total Steps</span>",Media"#;

/// Recorded at home in Recife (GPX).
const HOME_RUN: &str = r#"3763864420,"Jul 14, 2020, 10:36:55 PM",Corrida no Cavoucão,Run,"",3378,6.32,,,false,,,activities/4021635014.gpx.gz,,,3378.0,3261.0,6325.60009765625,5.800000190734863,1.9397730827331543,99.9000015258789,102.0999984741211,0.20000000298023224,17.100000381469727,49.5,-0.03477931022644043,,,92.0,70.70278930664062,,,,,637.270263671875,,,,,,,,,,,,,,,,0.0,,1.0,6915.5,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"""#;
/// Recorded abroad, in Lisbon (TCX).
const ABROAD_RUN: &str = r#"3787367551,"Jul 11, 2020, 10:10:58 PM",Corrida,Run,,3767,7.00,183.0,105,false,,,activities/4047875950.tcx.gz,,,3767.0,3707.0,7000.0,7.300000190734863,1.8883193731307983,3.4000000953674316,3.200000047683716,10.699999809265137,14.199999809265137,2.700000047683716,0.0028571428265422583,,,,,,156.2411651611328,,,943.0,,,105.0,,,,,,,,,,,,,0.0,,1.0,7007.0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"""#;
/// Its GPS file is not in the archive: the athlete's zone applies.
const NO_FILE: &str = r#"3785578121,"Jul 15, 2020, 11:44:01 PM",Funcional,Workout,"",1785,0,151.0,8,false,,,activities/4045907087.gpx.gz,,,1785.0,1785.0,0.0,0.0,0.0,0.0,,,,0.0,0.0,,,68.0,22.96575355529785,,124.43585205078125,,,,,,8.0,,,,,,,,,,,,,0.0,,1.0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"""#;
/// Date moved to one minute before Paris changed to summer time; FIT file.
const BEFORE_DST: &str = r#"3787254231,"Mar 29, 2020, 12:59:00 AM",Corrida,Walk,Cavouco,3178,5.64,188.0,68,false,,,activities/4047748524.fit.gz,,,3178.0,3046.0,5642.60009765625,8.899999618530273,1.8524622917175293,218.39999389648438,221.60000610351562,15.899999618530273,57.099998474121094,42.70000076293945,-0.05671144649386406,,,93.0,56.596065521240234,,146.52688598632812,,,519.9712524414062,,,68.0,,,,,,,,,,,,,0.0,,1.0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"""#;
/// Date moved to the minute Paris changed to summer time; TCX file.
const AFTER_DST: &str = r#"3787572592,"Mar 29, 2020, 1:00:00 AM",Corrida,Run,,4528,7.14,184.0,53,false,,,activities/4048107193.tcx.gz,,,4528.0,4158.0,7140.0,6.400000095367432,1.7171716690063477,3.174999952316284,3.375,10.699999809265137,14.800000190734863,3.5999999046325684,-0.002801120514050126,,,,,,141.6282501220703,,,982.0,,,53.0,,,,,,,,,,,,,0.0,,1.0,7148.5,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"""#;

const RECIFE: (f64, f64) = (-8.0476, -34.8770);
const LISBON: (f64, f64) = (38.7223, -9.1393);
const PARIS: (f64, f64) = (48.8566, 2.3522);

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn gpx((lat, lon): (f64, f64)) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><gpx creator="StravaGPX" version="1.1"><trk><trkseg><trkpt lat="{lat}" lon="{lon}"><ele>7.0</ele></trkpt></trkseg></trk></gpx>"#
    )
    .into_bytes()
}

fn tcx((lat, lon): (f64, f64)) -> Vec<u8> {
    format!(
        "<TrainingCenterDatabase><Activities><Activity Sport=\"Running\"><Lap><Track><Trackpoint><Position><LatitudeDegrees>{lat}</LatitudeDegrees><LongitudeDegrees>{lon}</LongitudeDegrees></Position></Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>"
    )
    .into_bytes()
}

/// A FIT file with one `record` message at a position, laid out by hand: header,
/// a definition (record: position_lat, position_long as sint32), one data message.
fn fit((lat, lon): (f64, f64)) -> Vec<u8> {
    let semicircles = |deg: f64| (deg * 2_147_483_648.0 / 180.0).round() as i32;
    let mut data = vec![0x40, 0, 0, 20, 0, 2, 0, 4, 0x85, 1, 4, 0x85, 0x00];
    data.extend(semicircles(lat).to_le_bytes());
    data.extend(semicircles(lon).to_le_bytes());
    let mut file = vec![12, 0x10, 0, 0];
    file.extend((data.len() as u32).to_le_bytes());
    file.extend(b".FIT");
    file.extend(data);
    file.extend([0, 0]);
    file
}

/// An export archive holding `csv` and the GPS files named in it.
fn export_zip(csv: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "stravatalk-zip-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export_31337.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("activities.csv", options).unwrap();
    zip.write_all(csv.as_bytes()).unwrap();
    // Strava's archive holds more than activities; they must not get in the way.
    zip.start_file("profile.csv", options).unwrap();
    zip.write_all(b"Athlete ID,First Name\n31337,Ada\n")
        .unwrap();
    for (name, bytes) in files {
        // Already gzipped, as Strava stores them.
        zip.start_file(
            *name,
            options.compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn the_export() -> PathBuf {
    let csv = [HEADER, HOME_RUN, ABROAD_RUN, NO_FILE, BEFORE_DST, AFTER_DST].join("\n") + "\n";
    export_zip(
        &csv,
        &[
            ("activities/4021635014.gpx.gz", gzip(&gpx(RECIFE))),
            ("activities/4047875950.tcx.gz", gzip(&tcx(LISBON))),
            ("activities/4047748524.fit.gz", gzip(&fit(PARIS))),
            ("activities/4048107193.tcx.gz", gzip(&tcx(PARIS))),
        ],
    )
}

fn args(athlete: i64, file: PathBuf, timezone: Option<chrono_tz::Tz>) -> ImportArgs {
    ImportArgs {
        athlete: AthleteId(athlete),
        athlete_json: None,
        file,
        timezone,
        skip_bad_rows: false,
        max_activities: None,
    }
}

/// (local start, zone label) of a stored activity.
async fn local(db: &TestDb, athlete: i64, id: i64) -> (String, String) {
    let mut conn = db.pool().get().await.unwrap();
    let a = db::activities::find(&mut conn, AthleteId(athlete), ActivityId(id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("activity {id} not stored"));
    (
        a.start_date_local.to_string(),
        a.timezone.unwrap_or_default(),
    )
}

async fn count(db: &TestDb, athlete: i64) -> i64 {
    let mut conn = db.pool().get().await.unwrap();
    db::activities::count_for(&mut conn, AthleteId(athlete))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_zip_gives_each_activity_the_zone_it_was_recorded_in() {
    let db = TestDb::new().await;
    let report = run(
        db.pool(),
        &args(31337, the_export(), Some(chrono_tz::America::Recife)),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.read, report.written, report.bad_count),
        (5, 5, 0),
        "{report:?}"
    );
    // Hand-computed: Recife is UTC-3 all year; Lisbon is UTC+1 in July; Paris is
    // UTC+1 until 29 March 2020 01:00 UTC and UTC+2 from then on.
    let want = [
        (
            3763864420,
            "2020-07-14 19:36:55",
            "(GMT-03:00) America/Recife",
        ),
        (
            3787367551,
            "2020-07-11 23:10:58",
            "(GMT+00:00) Europe/Lisbon",
        ),
        (
            3785578121,
            "2020-07-15 20:44:01",
            "(GMT-03:00) America/Recife",
        ),
        (
            3787254231,
            "2020-03-29 01:59:00",
            "(GMT+01:00) Europe/Paris",
        ),
        (
            3787572592,
            "2020-03-29 03:00:00",
            "(GMT+01:00) Europe/Paris",
        ),
    ];
    for (id, start, label) in want {
        assert_eq!(
            local(&db, 31337, id).await,
            (start.to_owned(), label.to_owned()),
            "activity {id}"
        );
    }
    // The Lisbon run was in the evening of the 11th there (19:10 in the athlete's
    // zone), and the workout logged at 23:44 UTC on the 15th was on the 15th at home.
    let mut conn = db.pool().get().await.unwrap();
    // The athlete's own zone was stored.
    let athlete = db::athletes::find(&mut conn, AthleteId(31337))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        athlete.timezone.as_deref(),
        Some("(GMT-03:00) America/Recife")
    );
    // Importing the archive again changes nothing.
    let again = run(
        db.pool(),
        &args(31337, the_export(), Some(chrono_tz::America::Recife)),
    )
    .await
    .unwrap();
    assert_eq!((again.read, again.bad_count), (5, 0), "{again:?}");
    assert_eq!(count(&db, 31337).await, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_zone_rows_lacking_gps_are_bad_and_skip_bad_rows_stores_the_rest() {
    let db = TestDb::new().await;
    // No --timezone and no athlete yet: the workout without a GPS file has no zone.
    let report = run(db.pool(), &args(4242, the_export(), None))
        .await
        .unwrap();
    assert!(!report.stored(), "{report:?}");
    assert_eq!(report.bad_count, 1);
    assert_eq!(report.bad[0].place, Place::Line(4));
    assert!(
        report.bad[0].reason.contains("--timezone"),
        "{}",
        report.bad[0].reason
    );
    assert_eq!(count(&db, 4242).await, 0, "one bad row refuses the file");

    let skip = ImportArgs {
        skip_bad_rows: true,
        ..args(4242, the_export(), None)
    };
    let report = run(db.pool(), &skip).await.unwrap();
    assert!(report.stored() && report.bad_skipped, "{report:?}");
    assert_eq!((report.read, report.written, report.bad_count), (4, 4, 1));
    assert_eq!(report.bad[0].place, Place::Line(4));
    assert_eq!(count(&db, 4242).await, 4);
    assert_eq!(
        local(&db, 4242, 3787367551).await.0,
        "2020-07-11 23:10:58",
        "the good rows keep their GPS zones"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_bad_rows_in_a_csv_keeps_the_good_rows_and_lists_the_bad_ones() {
    let db = TestDb::new().await;
    let csv = [
        HEADER,
        HOME_RUN,
        &HOME_RUN.replace("3763864420,\"Jul 14", "3763864421,\"Jul 99"),
        ABROAD_RUN,
        &ABROAD_RUN
            .replace("3787367551,", "3787367552,")
            .replace(",7000.0,", ",-7000.0,"),
        // The same activity again: bad, and the first one stays.
        HOME_RUN,
    ]
    .join("\n")
        + "\n";
    let dir = std::env::temp_dir().join(format!("stravatalk-skip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("activities.csv");
    std::fs::write(&file, csv).unwrap();

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strava-gateway"))
        .args(["import", "--skip-bad-rows", "--timezone", "America/Recife"])
        .args(["--athlete", "5151"])
        .arg(&file)
        .env_clear()
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "skipped line 3: column 2 (Activity Date): \"Jul 99, 2020, 10:36:55 PM\" is not a date"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped line 5: column 18 (Distance): \"-7000.0\" is negative"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped line 6: activity 3763864420 is also on line 2"),
        "{stderr}"
    );
    assert!(stdout.contains("3 bad rows skipped"), "{stdout}");
    assert_eq!(count(&db, 5151).await, 2);

    // Without the flag the same file changes nothing.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strava-gateway"))
        .args(["import", "--timezone", "America/Recife"])
        .args(["--athlete", "5252"])
        .arg(&file)
        .env_clear()
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(count(&db, 5252).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_without_activities_csv_is_refused_before_anything_is_stored() {
    let db = TestDb::new().await;
    let dir = std::env::temp_dir().join(format!("stravatalk-nocsv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("export_1.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    zip.start_file("profile.csv", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"x").unwrap();
    zip.finish().unwrap();
    let err = run(
        db.pool(),
        &args(6161, path, Some(chrono_tz::America::Recife)),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("no activities.csv in the archive"),
        "{err}"
    );
    let mut conn = db.pool().get().await.unwrap();
    assert!(
        db::athletes::find(&mut conn, AthleteId(6161))
            .await
            .unwrap()
            .is_none()
    );
}
