//! `strava-gateway import`: Strava's bulk-export CSV and SummaryActivity JSON, all or
//! nothing, streamed in batches.

use domain::{ActivityId, AthleteId};
use std::path::PathBuf;
use std::process::Command;
use strava_gateway::import::{ImportArgs, Place, Report, run};
use testkit::TestDb;

/// A slice of a real export's header: note the repeated names.
const HEADER: &str = "Activity ID,Activity Date,Activity Name,Activity Type,Activity Description,Elapsed Time,Distance,Max Heart Rate,Relative Effort,Commute,Activity Private Note,Activity Gear,Filename,Athlete Weight,Bike Weight,Elapsed Time,Moving Time,Distance,Max Speed,Average Speed,Elevation Gain,Elevation Loss,Elevation Low,Elevation High,Max Grade,Average Grade,Max Cadence,Average Cadence,Max Heart Rate,Average Heart Rate,Max Watts,Average Watts,Calories,Commute,Flagged";

fn row(id: &str, date: &str, name: &str, kind: &str, km: &str, metres: &str) -> String {
    row_with(id, date, name, kind, "", km, metres)
}

fn row_with(
    id: &str,
    date: &str,
    name: &str,
    kind: &str,
    desc: &str,
    km: &str,
    metres: &str,
) -> String {
    format!(
        "{id},\"{date}\",{name},{kind},{desc},1800,{km},171,40,false,,,activities/{id}.fit,,,1800.0,1750.0,{metres},4.2,2.86,35.0,34.0,10.0,45.0,8.0,0.1,90,84.5,171,150.2,,,420,0.0,0.0"
    )
}

fn temp_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stravatalk-import-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// Three good rows; the second spans two lines.
fn good_rows() -> Vec<String> {
    vec![
        row(
            "101",
            "Nov 2, 2023, 7:10:12 AM",
            "Morning Run",
            "Run",
            "5.01",
            "5012.3",
        ),
        // A name with a comma and quotes, a description with a line break.
        row_with(
            "102",
            "Nov 3, 2023, 6:00:00 PM",
            "\"Evening, \"\"easy\"\"\"",
            "Ride",
            "\"two\nlines\"",
            "20.5",
            "20512.0",
        ),
        row(
            "104",
            "2023-11-05T08:00:00Z",
            "Trail",
            "Trail Run",
            "10.2",
            "10234.5",
        ),
    ]
}

fn csv_of(rows: &[String]) -> String {
    let mut lines = vec![HEADER.to_owned()];
    lines.extend(rows.iter().cloned());
    lines.join("\n") + "\n"
}

fn args(athlete: i64, file: PathBuf) -> ImportArgs {
    ImportArgs {
        athlete: AthleteId(athlete),
        athlete_json: None,
        file,
        timezone: Some(chrono_tz::UTC),
        skip_bad_rows: false,
        max_activities: None,
    }
}

async fn stored(db: &TestDb, athlete: i64) -> (bool, i64) {
    let mut conn = db.pool().get().await.unwrap();
    let exists = db::athletes::find(&mut conn, AthleteId(athlete))
        .await
        .unwrap()
        .is_some();
    let count = db::activities::count_for(&mut conn, AthleteId(athlete))
        .await
        .unwrap();
    (exists, count)
}

fn places(report: &Report) -> Vec<String> {
    report.bad.iter().map(|b| b.place.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_csv_loads_every_row_and_reimports_idempotently() {
    let db = TestDb::new().await;
    // Windows tools write a byte-order mark and CRLF line ends.
    let text = format!(
        "\u{feff}{}",
        csv_of(&good_rows()).replace("0.0\n", "0.0\r\n")
    );
    let file = temp_file("activities.csv", &text);
    let athlete_json = temp_file(
        "athlete.json",
        r#"{"id": 31337, "firstname": "Ada", "lastname": "Lovelace", "measurement_preference": "feet", "resource_state": 3}"#,
    );
    let args = ImportArgs {
        athlete: AthleteId(31337),
        athlete_json: Some(athlete_json),
        file,
        timezone: Some(chrono_tz::UTC),
        skip_bad_rows: false,
        max_activities: None,
    };
    let report = run(db.pool(), &args).await.unwrap();
    assert_eq!(
        (
            report.read,
            report.written,
            report.bad_count,
            report.exit_code()
        ),
        (3, 3, 0, 0),
        "{report:?}"
    );
    assert!(report.created_athlete && report.stored());

    let mut conn = db.pool().get().await.unwrap();
    let athlete = db::athletes::find(&mut conn, AthleteId(31337))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            athlete.firstname.as_str(),
            athlete.measurement_preference.as_strava()
        ),
        ("Ada", "feet")
    );
    let run_row = db::activities::find(&mut conn, AthleteId(31337), ActivityId(101))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        run_row.distance_m, 5012.3,
        "the second Distance column is metres"
    );
    assert_eq!(
        (run_row.elapsed_time_s, run_row.moving_time_s),
        (1800, 1750)
    );
    assert_eq!(run_row.start_date.to_rfc3339(), "2023-11-02T07:10:12+00:00");
    assert_eq!(
        run_row.start_date_local.to_string(),
        "2023-11-02 07:10:12",
        "UTC in the UTC zone"
    );
    assert_eq!(
        (run_row.source.as_str(), run_row.average_heartrate),
        ("import", Some(150.2))
    );
    let ride = db::activities::find(&mut conn, AthleteId(31337), ActivityId(102))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ride.name, "Evening, \"easy\"");
    assert_eq!(ride.start_date.to_rfc3339(), "2023-11-03T18:00:00+00:00");
    let trail = db::activities::find(&mut conn, AthleteId(31337), ActivityId(104))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(trail.sport_type, "TrailRun");

    let again = run(db.pool(), &args).await.unwrap();
    assert_eq!(
        (again.read, again.bad_count, again.created_athlete),
        (3, 0, false)
    );
    assert_eq!(stored(&db, 31337).await, (true, 3));
    let same = db::activities::find(&mut conn, AthleteId(31337), ActivityId(101))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (same.name, same.distance_m),
        (run_row.name, run_row.distance_m)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_bad_row_stores_nothing_not_even_the_athlete_and_every_bad_row_is_reported() {
    let db = TestDb::new().await;
    let mut rows = good_rows();
    // Line numbers: header 1, 101 on 2, 102 on 3-4, 104 on 5.
    rows.push(row("105", "not a date", "Broken", "Run", "1", "1000"));
    rows.push(row(
        "106",
        "Nov 6, 2023, 7:00:00 AM",
        "Back",
        "Run",
        "1",
        "-1000",
    ));
    rows.push("107,\"Nov 7, 2023, 7:00:00 AM\",Short row".to_owned());
    let file = temp_file("activities.csv", &csv_of(&rows));
    let report = run(db.pool(), &args(31337, file)).await.unwrap();
    assert!(!report.stored());
    assert_eq!(report.exit_code(), 1);
    assert_eq!(
        places(&report),
        ["line 6", "line 7", "line 8"],
        "{report:?}"
    );
    assert!(report.bad[0].reason.contains("Activity Date"), "{report:?}");
    assert!(
        report.bad[1]
            .reason
            .contains("(Distance): \"-1000\" is negative"),
        "{report:?}"
    );
    assert!(
        report.bad[2]
            .reason
            .contains("3 fields where the header has 35"),
        "{report:?}"
    );
    assert_eq!(stored(&db, 31337).await, (false, 0), "no athlete, no rows");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_import_leaves_an_existing_athletes_rows_as_they_were() {
    let db = TestDb::new().await;
    let first = temp_file("activities.csv", &csv_of(&good_rows()));
    run(db.pool(), &args(7, first)).await.unwrap();
    let mut renamed = good_rows();
    renamed[0] = row(
        "101",
        "Nov 2, 2023, 7:10:12 AM",
        "Renamed",
        "Run",
        "9",
        "9000",
    );
    renamed.push(row(
        "108",
        "Nov 8, 2023, 7:00:00 AM",
        "New",
        "Run",
        "1",
        "x",
    ));
    let second = temp_file("activities.csv", &csv_of(&renamed));
    let report = run(db.pool(), &args(7, second)).await.unwrap();
    assert_eq!(places(&report), ["line 6"], "{report:?}");
    let mut conn = db.pool().get().await.unwrap();
    let kept = db::activities::find(&mut conn, AthleteId(7), ActivityId(101))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.distance_m),
        ("Morning Run", 5012.3)
    );
    assert_eq!(stored(&db, 7).await, (true, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unterminated_quote_is_refused_not_merged_into_the_next_row() {
    let db = TestDb::new().await;
    let mut rows = good_rows();
    // The name opens a quote that never closes; it used to swallow row 104.
    rows[0] = row(
        "101",
        "Nov 2, 2023, 7:10:12 AM",
        "\"Morning Run",
        "Run",
        "5.01",
        "5012.3",
    );
    let file = temp_file("activities.csv", &csv_of(&rows));
    let report = run(db.pool(), &args(5, file)).await.unwrap();
    assert!(!report.stored(), "{report:?}");
    assert_eq!(report.bad[0].place, Place::Line(2), "{report:?}");
    assert!(
        report.bad.iter().any(|b| b.reason.contains("quote")),
        "{report:?}"
    );
    assert_eq!(stored(&db, 5).await, (false, 0));

    // At the very end of the file, the open quote takes the rest of the file.
    let text = "Activity ID,Activity Date,Activity Name\n1,2023-11-02T07:10:12Z,\"Morning\n2,2023-11-03T07:10:12Z,Evening\n";
    let report = run(db.pool(), &args(5, temp_file("a.csv", text)))
        .await
        .unwrap();
    assert_eq!(places(&report), ["line 2"], "{report:?}");
    assert!(report.bad[0].reason.contains("never closes"), "{report:?}");
    assert_eq!(stored(&db, 5).await, (false, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_rows_are_listed_up_to_twenty_and_all_counted() {
    let db = TestDb::new().await;
    let rows: Vec<String> = (1..=25)
        .map(|i| row(&i.to_string(), "never", "x", "Run", "1", "1000"))
        .collect();
    let report = run(db.pool(), &args(9, temp_file("a.csv", &csv_of(&rows))))
        .await
        .unwrap();
    assert_eq!(
        (report.bad.len(), report.bad_count),
        (strava_gateway::import::BAD_ROWS_LISTED, 25)
    );
    assert_eq!(report.bad[19].place, Place::Line(21));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_activity_listed_twice_is_refused_in_one_batch_or_across_batches() {
    let db = TestDb::new().await;
    // More rows than one batch holds, so the rows go to the database in several.
    let mut rows: Vec<String> = (1..=2500)
        .map(|i| {
            row(
                &i.to_string(),
                "2024-01-01T07:00:00Z",
                "Run",
                "Run",
                "5",
                "5000",
            )
        })
        .collect();
    let good = temp_file("a.csv", &csv_of(&rows));
    let report = run(db.pool(), &args(11, good)).await.unwrap();
    assert_eq!(
        (report.read, report.written, report.bad_count),
        (2500, 2500, 0)
    );
    assert_eq!(stored(&db, 11).await, (true, 2500));

    let again = |id: &str| row(id, "2024-01-01T07:00:00Z", "Again", "Run", "5", "5000");
    let db2 = TestDb::new().await;
    let mut in_one_batch = rows.clone();
    in_one_batch[3] = again("2");
    let report = run(
        db2.pool(),
        &args(11, temp_file("a.csv", &csv_of(&in_one_batch))),
    )
    .await
    .unwrap();
    assert_eq!(places(&report), ["line 5"], "{report:?}");
    assert_eq!(report.bad[0].reason, "activity 2 is also on line 3");
    // Row 2401 goes to the database two batches after row 10.
    rows[2400] = again("10");
    let report = run(db2.pool(), &args(11, temp_file("a.csv", &csv_of(&rows))))
        .await
        .unwrap();
    assert_eq!(places(&report), ["line 2402"], "{report:?}");
    assert_eq!(
        report.bad[0].reason,
        "activity 10 appears earlier in the file"
    );
    assert_eq!(stored(&db2, 11).await, (false, 0));
}

fn summary(id: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id, "name": "Lunch Run", "sport_type": "Run", "type": "Run",
        "start_date": "2024-05-01T16:00:00Z", "start_date_local": "2024-05-01T18:00:00Z",
        "timezone": "(GMT+01:00) Europe/Paris", "distance": 5012.3, "moving_time": 1510,
        "elapsed_time": 1600, "total_elevation_gain": 12.0, "average_speed": 3.3, "max_speed": 4.1,
        "athlete": {"id": 77, "resource_state": 1}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn summary_activity_json_streams_in_and_keeps_the_local_time() {
    let db = TestDb::new().await;
    let mut no_athlete = summary(3);
    no_athlete.as_object_mut().unwrap().remove("athlete");
    let items = serde_json::json!([summary(1), summary(2), no_athlete]);
    let file = temp_file("activities.json", &items.to_string());
    // SummaryActivity carries its own local time: no zone needed.
    let no_zone = ImportArgs {
        timezone: None,
        ..args(77, file)
    };
    let report = run(db.pool(), &no_zone).await.unwrap();
    assert_eq!((report.read, report.bad_count), (3, 0), "{report:?}");
    let mut conn = db.pool().get().await.unwrap();
    let a = db::activities::find(&mut conn, AthleteId(77), ActivityId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.source.as_str(), a.start_date_local.to_string()),
        ("import", "2024-05-01 18:00:00".into())
    );
    assert_eq!(stored(&db, 77).await, (true, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn json_with_wrong_types_or_impossible_values_is_refused_by_index_and_field() {
    let db = TestDb::new().await;
    let mut text_distance = summary(2);
    text_distance["distance"] = serde_json::json!("5 km");
    let mut negative_time = summary(3);
    negative_time["moving_time"] = serde_json::json!(-60);
    let mut number_name = summary(4);
    number_name["name"] = serde_json::json!(42);
    let mut other_athlete = summary(5);
    other_athlete["athlete"]["id"] = serde_json::json!(78);
    let items = serde_json::json!([
        summary(1),
        text_distance,
        negative_time,
        number_name,
        other_athlete,
        {"id": 0},
        "not an activity"
    ]);
    let file = temp_file("activities.json", &items.to_string());
    let report = run(db.pool(), &args(77, file)).await.unwrap();
    assert_eq!(
        places(&report),
        [
            "index 1", "index 2", "index 3", "index 4", "index 5", "index 6"
        ],
        "{report:?}"
    );
    let reasons: Vec<&str> = report.bad.iter().map(|b| b.reason.as_str()).collect();
    assert!(
        reasons[0].contains("distance: expected a number"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("moving_time: -60 is negative"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("name: expected a string"),
        "{reasons:?}"
    );
    assert!(reasons[3].contains("belongs to athlete 78"), "{reasons:?}");
    assert!(
        reasons[4].contains("id is missing or not a positive integer"),
        "{reasons:?}"
    );
    assert!(
        reasons[5].contains("expected an activity object"),
        "{reasons:?}"
    );
    assert_eq!(stored(&db, 77).await, (false, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_json_is_reported_where_it_breaks_and_stores_nothing() {
    let db = TestDb::new().await;
    let text = format!("[{}, {}, {{\"id\": 3,", summary(1), summary(2));
    let report = run(db.pool(), &args(77, temp_file("a.json", &text)))
        .await
        .unwrap();
    assert_eq!(places(&report), ["index 2"], "{report:?}");
    assert!(
        report.bad[0].reason.contains("not valid JSON"),
        "{report:?}"
    );
    assert_eq!(stored(&db, 77).await, (false, 0));

    let err = run(db.pool(), &args(77, temp_file("a.json", "{\"id\": 1}")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expected a JSON array"), "{err}");
    assert_eq!(stored(&db, 77).await, (false, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_exits_0_1_or_2_and_refuses_ids_that_are_not_positive() {
    let db = TestDb::new().await;
    let bin = env!("CARGO_BIN_EXE_strava-gateway");
    let import = |athlete: &str, file: &PathBuf| {
        Command::new(bin)
            .args(["import", "--timezone", "UTC", "--athlete", athlete])
            .arg(file)
            .env_clear()
            .env("DATABASE_URL", db.url())
            .output()
            .unwrap()
    };
    let good = temp_file("good.csv", &csv_of(&good_rows()));
    let out = import("5", &good);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = good_rows();
    rows.push(row("105", "not a date", "Broken", "Run", "1", "1000"));
    let out = import("6", &temp_file("activities.csv", &csv_of(&rows)));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 6: column 2 (Activity Date)"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing imported: 1 bad rows"), "{stderr}");
    assert_eq!(stored(&db, 6).await, (false, 0));
    let out = import("5", &PathBuf::from("/nonexistent/activities.csv"));
    assert_eq!(out.status.code(), Some(2));
    for id in ["0", "-5"] {
        let out = import(id, &good);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{id}: {stderr}");
        assert!(stderr.contains("positive integer"), "{id}: {stderr}");
    }
    assert_eq!(stored(&db, 0).await, (false, 0));
    let out = Command::new(bin)
        .args(["import", "--athlete"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
}

/// Imports `rows` for `athlete` through the binary with extra arguments.
fn import_bin(db: &TestDb, extra: &[&str], athlete: &str, file: &PathBuf) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strava-gateway"))
        .arg("import")
        .args(extra)
        .args(["--athlete", athlete])
        .arg(file)
        .env_clear()
        .env("DATABASE_URL", db.url())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn timezone_flag_gives_local_dates_and_times_with_daylight_saving_per_row() {
    let db = TestDb::new().await;
    // The export's dates are UTC; Paris is UTC+2 in July and UTC+1 in January.
    let rows = vec![
        row(
            "201",
            "Jul 15, 2024, 5:30:00 AM",
            "Morning Run",
            "Run",
            "5",
            "5000",
        ),
        row(
            "202",
            "Jan 15, 2024, 7:00:00 AM",
            "Morning Run",
            "Run",
            "5",
            "5000",
        ),
        row(
            "203",
            "Jan 20, 2024, 11:30:00 PM",
            "Night Run",
            "Run",
            "5",
            "5000",
        ),
        row(
            "204",
            "Jul 20, 2024, 9:45:00 PM",
            "Evening Run",
            "Run",
            "5",
            "5000",
        ),
    ];
    let file = temp_file("activities.csv", &csv_of(&rows));
    let out = import_bin(&db, &["--timezone", "Europe/Paris"], "88", &file);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conn = db.pool().get().await.unwrap();
    let athlete = db::athletes::find(&mut conn, AthleteId(88))
        .await
        .unwrap()
        .unwrap();
    let label = athlete.timezone.expect("the flag stores the zone");
    assert_eq!(label, "(GMT+01:00) Europe/Paris");
    assert_eq!(
        domain::dates::parse_strava_timezone(&label),
        Ok(chrono_tz::Europe::Paris)
    );
    for (id, utc, local) in [
        (201, "2024-07-15T05:30:00+00:00", "2024-07-15 07:30:00"),
        (202, "2024-01-15T07:00:00+00:00", "2024-01-15 08:00:00"),
        // A winter evening run at 23:30 UTC is on the next local day.
        (203, "2024-01-20T23:30:00+00:00", "2024-01-21 00:30:00"),
        (204, "2024-07-20T21:45:00+00:00", "2024-07-20 23:45:00"),
    ] {
        let a = db::activities::find(&mut conn, AthleteId(88), ActivityId(id))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.start_date.to_rfc3339(), a.start_date_local.to_string()),
            (utc.to_owned(), local.to_owned()),
            "activity {id}"
        );
        assert_eq!(a.timezone.as_deref(), Some(label.as_str()));
    }

    // The zone is now the athlete's: a later CSV needs no flag.
    let more = vec![row(
        "205",
        "Jan 21, 2024, 6:00:00 AM",
        "Run",
        "Run",
        "5",
        "5000",
    )];
    let report = run(
        db.pool(),
        &ImportArgs {
            timezone: None,
            ..args(88, temp_file("more.csv", &csv_of(&more)))
        },
    )
    .await
    .unwrap();
    assert_eq!((report.read, report.bad_count), (1, 0), "{report:?}");
    let a = db::activities::find(&mut conn, AthleteId(88), ActivityId(205))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.start_date_local.to_string(), "2024-01-21 07:00:00");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_without_any_time_zone_is_refused_and_nothing_is_stored() {
    let db = TestDb::new().await;
    let file = temp_file("activities.csv", &csv_of(&good_rows()));
    let no_zone = ImportArgs {
        timezone: None,
        ..args(89, file.clone())
    };
    let err = run(db.pool(), &no_zone).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("UTC") && message.contains("--timezone Area/City"),
        "{message}"
    );
    assert_eq!(stored(&db, 89).await, (false, 0), "not even the athlete");

    // An athlete JSON without a zone does not help either.
    let athlete_json = temp_file("athlete.json", r#"{"id": 89, "firstname": "Ada"}"#);
    let out = import_bin(
        &db,
        &["--athlete-json", athlete_json.to_str().unwrap()],
        "89",
        &file,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--timezone Area/City"), "{stderr}");
    assert_eq!(stored(&db, 89).await, (false, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_timezone_is_a_usage_error_naming_the_flag() {
    let db = TestDb::new().await;
    let file = temp_file("activities.csv", &csv_of(&good_rows()));
    for zone in ["Mars/Olympus_Mons", "(GMT+01:00) Europe/Paris", ""] {
        let out = import_bin(&db, &["--timezone", zone], "90", &file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{zone}: {stderr}");
        assert!(stderr.contains("--timezone"), "{zone}: {stderr}");
        assert!(stderr.contains("unknown time zone"), "{zone}: {stderr}");
    }
    assert_eq!(stored(&db, 90).await, (false, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn export_sport_names_are_stored_as_strava_sport_types() {
    let db = TestDb::new().await;
    let names = [
        ("Football (Soccer)", "Soccer"),
        ("Rock Climb", "RockClimbing"),
        ("Stair-Stepper", "StairStepper"),
        ("Weight Training", "WeightTraining"),
        ("Alpine Ski", "AlpineSki"),
        ("E-Bike Ride", "EBikeRide"),
        ("Canoe", "Canoeing"),
        // Unknown names are kept, spaces and hyphens removed.
        ("Underwater Hockey", "UnderwaterHockey"),
    ];
    let rows: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, (shown, _))| {
            row(
                &(301 + i).to_string(),
                "2024-03-01T10:00:00Z",
                "Game",
                shown,
                "1",
                "1000",
            )
        })
        .collect();
    let report = run(
        db.pool(),
        &args(91, temp_file("activities.csv", &csv_of(&rows))),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.read, report.bad_count),
        (names.len(), 0),
        "{report:?}"
    );
    let mut conn = db.pool().get().await.unwrap();
    for (i, (shown, sport)) in names.iter().enumerate() {
        let a = db::activities::find(&mut conn, AthleteId(91), ActivityId(301 + i as i64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&a.sport_type, sport, "{shown}");
    }
}
