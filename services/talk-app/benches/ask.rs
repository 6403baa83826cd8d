//! Ask latency of the built-in engine over 10,000 activities, measured in-process:
//! `talk_app::ask::ask` end to end (athlete lookup, conversation, parse, compile, the
//! sandboxed query, render, storing both messages) against a real PostgreSQL, and the
//! pure engine alone (parse + compile, no database); then `POST /api/ask` over HTTP with
//! a personal token at 16 connections, three rounds of 20 s (`ASK_BENCH_SECS`), into
//! the token's own conversation. Prints p50/p99, asks/s and, where the server loads
//! `pg_stat_statements`, statements and Postgres time per question; asserts nothing.
//!
//! `DATABASE_URL=postgres://... cargo bench -p talk-app --bench ask`

use ask::{self, Context, Parsed};
use chrono::{DateTime, Utc};
use db::activities::{self, ActivityRow};
use db::athletes::{self, AthleteUpsert};
use domain::{AthleteId, Units};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use testkit::{StatementCounter, TestDb};

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
            // Not the demo template: its API tokens do not authenticate.
            is_demo: false,
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

    let mut counter = match StatementCounter::new(db.conn().await).await {
        Ok(c) => Some(c),
        Err(e) => {
            println!("statements: n/a ({e})");
            None
        }
    };
    // Statements of the question alone, and of the whole exchange in process.
    if let Some(counter) = counter.as_mut() {
        let plain = "how many runs did I do last month?";
        counter.reset().await.expect("reset");
        let query = {
            let ctx = Context {
                today,
                units: Units::Metric,
                previous: None,
            };
            let Parsed::Plan(plan) = ask::parse(plain, &ctx) else {
                panic!("a plan")
            };
            ask::compile(&plan, &ctx)
        };
        for _ in 0..100 {
            talk_app::ask::run_query(&mut conn, athlete, &query, Duration::from_secs(5))
                .await
                .expect("query");
        }
        let own = counter.calls().await.expect("calls");
        let own_ms = own
            .iter()
            .filter(|c| c.query.contains("FROM activities"))
            .map(|c| c.exec_ms)
            .sum::<f64>()
            / 100.0;
        println!("the question's own query ({plain:?}): {own_ms:.3} ms in Postgres");
        counter.reset().await.expect("reset");
        for _ in 0..100 {
            talk_app::ask::ask(pool, None, athlete, None, plain, now)
                .await
                .expect("ask");
        }
        print_statements(counter, "talk_app::ask::ask", 100).await;
    }
    api(&db, counter.as_mut()).await;
}

async fn print_statements(counter: &mut StatementCounter, what: &str, n: usize) {
    match counter.calls().await {
        Ok(calls) => {
            let total: i64 = calls.iter().map(|c| c.calls).sum();
            let ms: f64 = calls.iter().map(|c| c.exec_ms).sum();
            println!(
                "{what}: {:.2} statements and {:.3} ms of Postgres execution per question",
                total as f64 / n as f64,
                ms / n as f64
            );
            for c in calls.iter().take(14) {
                println!(
                    "  {:>6.2}/question {:>7.3} ms/question  {}",
                    c.calls as f64 / n as f64,
                    c.exec_ms / n as f64,
                    c.query
                );
            }
        }
        Err(e) => println!("{what}: statements n/a ({e})"),
    }
}

/// `POST /api/ask` with a personal token, 16 connections, three rounds.
async fn api(db: &TestDb, mut counter: Option<&mut StatementCounter>) {
    const CONNECTIONS: usize = 16;
    let secs: u64 = std::env::var("ASK_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let vars = [
        ("DATABASE_URL", db.url()),
        ("PORT", "0"),
        ("BIND_ADDRESS", "127.0.0.1"),
        (
            "SESSION_SECRET",
            "bench-session-secret-of-at-least-32-bytes",
        ),
        ("SUPPORT_EMAIL", "support@bench.localhost"),
        ("QUESTIONS_PER_MINUTE", "1000000"),
        ("QUESTIONS_IN_FLIGHT", "64"),
        ("DATABASE_POOL_SIZE", "16"),
    ];
    let env = service::Env::from_pairs(None, talk_app::settings::DEFAULTS, &vars).expect("env");
    let settings = talk_app::Settings::from_env(&env).expect("settings");
    let pool = db::connect_pool(db.url(), 16).expect("pool");
    let token = {
        let mut conn = pool.get().await.expect("conn");
        db::api_tokens::create(&mut conn, AthleteId(1), "bench")
            .await
            .expect("token")
            .1
    };
    let app = talk_app::startup::build(&settings, pool).expect("app");
    let url = format!("http://127.0.0.1:{}/api/ask", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    for round in 1..=3 {
        if let Some(c) = counter.as_deref_mut() {
            c.reset().await.expect("reset");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|i| {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                let (stop, done, failed) = (stop.clone(), done.clone(), failed.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut k = i;
                    while !stop.load(Ordering::Relaxed) {
                        let q = QUESTIONS[k % QUESTIONS.len()];
                        k += 1;
                        let t = Instant::now();
                        let ok = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&serde_json::json!({ "question": q }))
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 200);
                        if ok {
                            done.fetch_add(1, Ordering::Relaxed);
                            latencies.push(t.elapsed());
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    latencies
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await.expect("task"));
        }
        let took = started.elapsed().as_secs_f64();
        let n = done.load(Ordering::Relaxed);
        let (p50, p99, _) = percentiles(latencies);
        println!(
            "/api/ask round {round}: {n} answers in {took:.1}s = {:.0} asks/s at {CONNECTIONS} connections; p50 {p50:?} p99 {p99:?}; {} refused or failed",
            n as f64 / took,
            failed.load(Ordering::Relaxed)
        );
        if let Some(c) = counter.as_deref_mut() {
            print_statements(c, "  /api/ask", n.max(1) as usize).await;
        }
    }
}
