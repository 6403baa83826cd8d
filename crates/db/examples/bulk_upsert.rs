//! Benchmark: bulk activity upsert throughput against a real PostgreSQL.
//! Run with `cargo xtask bench` (release build; uses DATABASE_URL or a throwaway cluster).

use chrono::{NaiveDate, TimeZone, Utc};
use db::activities::{self, ActivityRow};
use db::athletes::{self, AthleteUpsert};
use std::time::Instant;

const ROWS: usize = 10_000;
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() {
    let test = testkit::TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(
        &mut conn,
        &AthleteUpsert {
            id: 1,
            firstname: "Bench".into(),
            lastname: "Mark".into(),
            measurement_preference: domain::Units::Metric,
            timezone: None,
            is_demo: false,
        },
    )
    .await
    .expect("athlete");
    // Realistic rows: the demo generator's activities, re-numbered to reach ROWS.
    let template = demo::demo_activities(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap(), 3);
    let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
    let rows: Vec<ActivityRow> = (0..ROWS)
        .map(|i| {
            let mut a = template[i % template.len()].clone();
            a.id = domain::ActivityId(1_000_000 + i as i64);
            a.athlete_id = domain::AthleteId(1);
            let raw = serde_json::json!({"id": a.id.get(), "name": a.name, "sport_type": a.sport_type.as_str()});
            ActivityRow::new(&a, Some(raw), now)
        })
        .collect();

    println!(
        "bulk upsert, {ROWS} activities per round, {} rows per statement",
        activities::UPSERT_CHUNK
    );
    for round in 1..=ROUNDS {
        let what = if round == 1 { "insert" } else { "update" };
        let started = Instant::now();
        let n = activities::upsert_many(&mut conn, &rows)
            .await
            .expect("upsert");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "  round {round} ({what}): {n} rows in {:.0} ms = {:.0} rows/s",
            secs * 1e3,
            n as f64 / secs
        );
    }
}
