//! `strava-gateway import`: Strava's bulk-export CSV and SummaryActivity JSON.

use domain::AthleteId;
use std::path::PathBuf;
use std::process::Command;
use strava_gateway::import::{ImportArgs, run};
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

fn csv() -> String {
    [
        HEADER.to_owned(),
        row(
            "101",
            "Nov 2, 2023, 7:10:12 AM",
            "Morning Run",
            "Run",
            "5.01",
            "5012.3",
        ),
        // A description with a comma, a quote and a line break.
        row_with(
            "102",
            "Nov 3, 2023, 6:00:00 PM",
            "\"Evening, \"\"easy\"\"\"",
            "Ride",
            "\"two\nlines\"",
            "20.5",
            "20512.0",
        ),
        row("103", "not a date", "Broken", "Run", "1", "1000"),
        row(
            "104",
            "2023-11-05T08:00:00Z",
            "Trail",
            "Trail Run",
            "10.2",
            "10234.5",
        ),
    ]
    .join("\n")
        + "\n"
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_with_a_bad_row_loads_the_rest_reports_the_line_and_reimports_idempotently() {
    let db = TestDb::new().await;
    let file = temp_file("activities.csv", &csv());
    let athlete_json = temp_file(
        "athlete.json",
        r#"{"id": 31337, "firstname": "Ada", "lastname": "Lovelace", "measurement_preference": "feet", "resource_state": 3}"#,
    );
    let args = ImportArgs {
        athlete: AthleteId(31337),
        athlete_json: Some(athlete_json),
        file: file.clone(),
    };
    let report = run(db.pool(), &args).await.unwrap();
    assert_eq!(report.bad.len(), 1, "{report:?}");
    // Header is line 1; row 102 spans lines 3-4, so the bad row starts on line 5.
    assert_eq!(report.bad[0].0, "line 5");
    assert!(
        report.bad[0].1.contains("not a date"),
        "{}",
        report.bad[0].1
    );
    assert_eq!((report.read, report.written, report.exit_code()), (3, 3, 1));
    assert!(report.created_athlete);

    let mut conn = db.pool().get().await.unwrap();
    let athlete = db::athletes::find(&mut conn, AthleteId(31337))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            athlete.firstname.as_str(),
            athlete.measurement_preference.as_str()
        ),
        ("Ada", "feet")
    );
    let run_row = db::activities::find(&mut conn, AthleteId(31337), domain::ActivityId(101))
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
        "UTC without a time zone"
    );
    assert_eq!(
        (run_row.source.as_str(), run_row.average_heartrate),
        ("import", Some(150.2))
    );
    let ride = db::activities::find(&mut conn, AthleteId(31337), domain::ActivityId(102))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ride.name, "Evening, \"easy\"");
    assert_eq!(ride.start_date.to_rfc3339(), "2023-11-03T18:00:00+00:00");
    let trail = db::activities::find(&mut conn, AthleteId(31337), domain::ActivityId(104))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(trail.sport_type, "TrailRun");

    let again = run(db.pool(), &args).await.unwrap();
    assert_eq!(
        (again.read, again.bad.len(), again.created_athlete),
        (3, 1, false)
    );
    assert_eq!(
        db::activities::count_for(&mut conn, AthleteId(31337))
            .await
            .unwrap(),
        3
    );
    let same = db::activities::find(&mut conn, AthleteId(31337), domain::ActivityId(101))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (same.name, same.distance_m),
        (run_row.name, run_row.distance_m)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn summary_activity_json_imports_with_bad_items_reported_by_index() {
    let db = TestDb::new().await;
    let good = |id: i64| {
        serde_json::json!({
            "id": id, "name": "Lunch Run", "sport_type": "Run", "type": "Run",
            "start_date": "2024-05-01T16:00:00Z", "start_date_local": "2024-05-01T18:00:00Z",
            "timezone": "(GMT+01:00) Europe/Paris", "distance": 5012.3, "moving_time": 1510,
            "elapsed_time": 1600, "total_elevation_gain": 12.0, "average_speed": 3.3, "max_speed": 4.1,
            "athlete": {"id": 77, "resource_state": 1}
        })
    };
    let items = serde_json::json!([good(1), {"id": "x"}, good(2)]);
    let file = temp_file("activities.json", &items.to_string());
    let args = ImportArgs {
        athlete: AthleteId(77),
        athlete_json: None,
        file,
    };
    let report = run(db.pool(), &args).await.unwrap();
    assert_eq!((report.read, report.bad.len()), (2, 1), "{report:?}");
    assert_eq!(report.bad[0].0, "index 1");
    let mut conn = db.pool().get().await.unwrap();
    let a = db::activities::find(&mut conn, AthleteId(77), domain::ActivityId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.source.as_str(), a.start_date_local.to_string()),
        ("import", "2024-05-01 18:00:00".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_exits_0_1_or_2() {
    let db = TestDb::new().await;
    let bin = env!("CARGO_BIN_EXE_strava-gateway");
    let import = |file: &PathBuf| {
        Command::new(bin)
            .args(["import", "--athlete", "5"])
            .arg(file)
            .env_clear()
            .env("DATABASE_URL", db.url())
            .output()
            .unwrap()
    };
    let all_good = csv()
        .lines()
        .filter(|l| !l.contains("not a date"))
        .collect::<Vec<_>>()
        .join("\n");
    let out = import(&temp_file("good.csv", &all_good));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = import(&temp_file("activities.csv", &csv()));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 5"));
    let out = import(&PathBuf::from("/nonexistent/activities.csv"));
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin)
        .args(["import", "--athlete"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage error");
}
