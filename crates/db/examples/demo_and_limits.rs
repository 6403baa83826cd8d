//! Benchmark: what the demo copies and the question limits cost in PostgreSQL.
//! - making a visitor's copy of the demo athlete (one INSERT ... SELECT of its
//!   activities), the storage one copy takes, and deleting expired copies;
//! - the per-question gate: counting a question (rate limit), taking and freeing an
//!   in-flight slot.
//!
//! Prints figures; asserts nothing. Run with `cargo xtask bench` (release build; uses
//! DATABASE_URL or a throwaway cluster).

use chrono::Utc;
use db::demo::CopyOutcome;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use std::time::{Duration, Instant};

const COPIES: usize = 30;
const ROUNDS: usize = 1_000;

#[derive(diesel::QueryableByName)]
struct Bytes {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn stored_bytes(conn: &mut AsyncPgConnection) -> i64 {
    diesel::sql_query(
        "SELECT (pg_total_relation_size('activities') + pg_total_relation_size('athletes'))::bigint AS n",
    )
    .get_result::<Bytes>(conn)
    .await
    .expect("sizes")
    .n
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3
    )
}

#[tokio::main]
async fn main() {
    let test = testkit::TestDb::new().await;
    let mut conn = test.conn().await;
    let n = db::demo::seed(&mut conn, Utc::now()).await.expect("seed");
    diesel::sql_query("VACUUM ANALYZE activities")
        .execute(&mut conn)
        .await
        .expect("vacuum");
    let before = stored_bytes(&mut conn).await;

    let mut made = Vec::new();
    let mut copies = Vec::new();
    for _ in 0..COPIES {
        let started = Instant::now();
        match db::demo::create_copy(
            &mut conn,
            chrono::Duration::hours(24),
            1_000_000,
            &db::demo::DemoClient {
                key: vec![1],
                max_copies: 1_000_000,
            },
        )
        .await
        .expect("copy")
        {
            CopyOutcome::Created { athlete, .. } => copies.push(athlete),
            other => panic!("{other:?}"),
        }
        made.push(started.elapsed());
    }
    let per_copy = (stored_bytes(&mut conn).await - before) / COPIES as i64;
    println!(
        "demo copy of {n} activities, {COPIES} copies: {}",
        summary(made)
    );
    println!(
        "storage per copy (activities + athletes, with indexes): {:.2} MB",
        per_copy as f64 / 1e6
    );

    diesel::sql_query(
        "UPDATE athletes SET demo_expires_at = now() WHERE demo_expires_at IS NOT NULL",
    )
    .execute(&mut conn)
    .await
    .expect("expire");
    let started = Instant::now();
    let deleted = db::demo::delete_expired_copies(&mut conn, Utc::now())
        .await
        .expect("delete");
    let took = started.elapsed();
    println!(
        "deleting {deleted} expired copies: {:.1} ms ({:.2} ms per copy)",
        took.as_secs_f64() * 1e3,
        took.as_secs_f64() * 1e3 / deleted.max(1) as f64
    );

    let athlete = AthleteId(demo::DEMO_ATHLETE_ID.get());
    let limits = db::ask_limits::Limits {
        window: chrono::Duration::minutes(1),
        per_window: i32::MAX,
        in_flight: 2,
        lease: Duration::from_secs(120),
    };
    let mut admitted = Vec::with_capacity(ROUNDS);
    let mut freed = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let db::ask_limits::Admission::Granted(lease) =
            db::ask_limits::admit(&mut conn, athlete, Utc::now(), &limits)
                .await
                .expect("admit")
        else {
            panic!("a free slot");
        };
        admitted.push(started.elapsed());
        let started = Instant::now();
        db::ask_limits::release_slot(&mut conn, &lease)
            .await
            .expect("release");
        freed.push(started.elapsed());
    }
    println!(
        "per question, admission (rate count and slot, 1 statement): {}",
        summary(admitted)
    );
    println!(
        "per question, freeing the slot (1 statement): {}",
        summary(freed)
    );
    let _ = copies;
}
