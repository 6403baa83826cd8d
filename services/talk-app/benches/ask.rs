//! Ask latency of the built-in engine over 10,000 activities, measured in-process:
//! `talk_app::ask::ask` end to end (athlete lookup, conversation, parse, compile, the
//! sandboxed query, render, storing both messages) against a real PostgreSQL, and the
//! pure engine alone (parse + compile, no database). Prints p50/p99; asserts nothing.
//!
//! `DATABASE_URL=postgres://... cargo bench -p talk-app --bench ask`

use ask::{self, Context, Parsed};
use chrono::{DateTime, Utc};
use db::activities::{self, ActivityRow};
use db::athletes::{self, AthleteUpsert};
use domain::{AthleteId, Units};
use std::time::{Duration, Instant};
use testkit::TestDb;

const ACTIVITIES: usize = 10_000;
const ROUNDS: usize = 1_000;
const QUESTIONS: &[&str] = &[
    "how many runs did I do last month?",
    "how far did I ride this year?",
    "total running distance in 2025",
    "average pace of my runs in 2024",
    "my longest run by distance",
    "top 5 fastest 5k runs",
    "show my runs last week",
    "my last 3 rides",
    "weekly running distance this year as a chart",
    "runs per month in 2025",
    "distance by sport this year",
    "which day of the week do I run most",
    "running distance 2025 vs 2024",
    "my longest streak",
    "how many parkruns in 2025",
    "runs over 25 km this year",
    "how many runs on Christmas Day",
    "elevation per month this year",
    "average heart rate on rides this year",
    "what was the weather like?",
];

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.99), samples[samples.len() - 1])
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let now: DateTime<Utc> = "2026-11-29T12:00:00Z".parse().expect("now");
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let profile = demo::demo_athlete();
    athletes::upsert(
        &mut conn,
        &AthleteUpsert {
            id: profile.id.get(),
            firstname: profile.firstname,
            lastname: profile.lastname,
            measurement_preference: domain::Units::Metric,
            timezone: Some(profile.timezone),
            is_demo: true,
        },
    )
    .await
    .expect("athlete");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).expect("date");
    let all = demo::demo_activities(today, 45);
    let rows: Vec<ActivityRow> = all[all.len().saturating_sub(ACTIVITIES)..]
        .iter()
        .map(|a| ActivityRow::new(a, None, now))
        .collect();
    activities::upsert_many(&mut conn, &rows)
        .await
        .expect("activities");
    diesel_async::RunQueryDsl::execute(diesel::sql_query("ANALYZE activities"), &mut conn)
        .await
        .expect("analyze");
    println!("{} activities loaded", rows.len());

    // The engine alone.
    let ctx = Context {
        today,
        units: Units::Metric,
        previous: None,
    };
    let mut engine = Vec::with_capacity(ROUNDS * QUESTIONS.len());
    for _ in 0..ROUNDS {
        for q in QUESTIONS {
            let t = Instant::now();
            if let Parsed::Plan(plan) = ask::parse(q, &ctx) {
                std::hint::black_box(ask::compile(&plan, &ctx));
            }
            engine.push(t.elapsed());
        }
    }
    let (p50, p99, max) = percentiles(engine);
    println!("parse+compile: p50 {p50:?}  p99 {p99:?}  max {max:?}");

    // End to end, one question after another on a pool.
    let pool = db.pool();
    let athlete = AthleteId(1);
    for q in QUESTIONS {
        talk_app::ask::ask(pool, None, athlete, None, q, now)
            .await
            .expect("warm-up");
    }
    let mut per_question: Vec<Vec<Duration>> = vec![Vec::new(); QUESTIONS.len()];
    let mut all_samples = Vec::new();
    let rounds = ROUNDS / 10;
    for _ in 0..rounds {
        for (i, q) in QUESTIONS.iter().enumerate() {
            let t = Instant::now();
            talk_app::ask::ask(pool, None, athlete, None, q, now)
                .await
                .expect("ask");
            let d = t.elapsed();
            per_question[i].push(d);
            all_samples.push(d);
        }
    }
    let n = all_samples.len();
    let (p50, p99, max) = percentiles(all_samples);
    println!("ask end to end ({n} asks): p50 {p50:?}  p99 {p99:?}  max {max:?}");
    for (q, samples) in QUESTIONS.iter().zip(per_question) {
        let (p50, p99, _) = percentiles(samples);
        println!("  {p50:>12?} p50 {p99:>12?} p99  {q}");
    }
}
