//! Benchmark (not a test): webhook acknowledgements, backfill throughput and idle
//! memory of the gateway, on this machine.
//!
//! ```text
//! cargo build --release -p strava-gateway --bin strava-gateway --example bench_webhooks
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     target/release/examples/bench_webhooks [--events N] [--seconds S] [--activities N]
//! ```
//!
//! 1. Webhooks: the app on port 0 against a throwaway database, driven by 64
//!    concurrent HTTP/1.1 connections posting distinct events, bounded by a count and
//!    a time limit. Reports acks/s and latency percentiles, then checks that every
//!    acknowledged event is in the inbox.
//! 2. Backfill: the fake Strava with rate limits off holds N activities; one worker
//!    runs the backfill job; reports activities/s from queueing to done.
//! 3. Idle RSS: starts the release `strava-gateway serve` binary next to this one,
//!    waits until it listens and settles, and reads `VmRSS` from `/proc/<pid>/status`.

use chrono::Utc;
use db::jobs::JobState;
use db::tokens::StravaTokens;
use diesel_async::RunQueryDsl;
use domain::Secret;
use service::Env;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use strava_fake::{FakeConfig, FakeStrava, NewAthlete};
use strava_gateway::Settings;
use strava_gateway::worker::{Context, Workers, backfill_job};
use testkit::TestDb;

const CONNECTIONS: usize = 64;
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Args {
    events: u64,
    seconds: u64,
    activities: usize,
}

fn args() -> Args {
    let mut a = Args {
        events: 100_000,
        seconds: 20,
        activities: 20_000,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse::<u64>().ok());
        match (pair[0].as_str(), value) {
            ("--events", Some(v)) => a.events = v,
            ("--seconds", Some(v)) => a.seconds = v,
            ("--activities", Some(v)) => a.activities = v as usize,
            _ => {
                eprintln!("usage: bench_webhooks [--events N] [--seconds S] [--activities N]");
                std::process::exit(2);
            }
        }
    }
    a
}

fn settings(db: &TestDb, fake: &FakeStrava, extra: &[(&str, &str)]) -> Settings {
    let oauth = format!("{}/oauth", fake.base_url());
    let api = fake.api_url();
    let mut vars = vec![
        ("DATABASE_URL", db.url()),
        ("PORT", "0"),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("TOKEN_ENCRYPTION_KEY", KEY),
        ("STRAVA_CLIENT_ID", fake.client_id()),
        ("STRAVA_CLIENT_SECRET", fake.client_secret()),
        ("STRAVA_OAUTH_BASE_URL", &oauth),
        ("STRAVA_API_BASE_URL", &api),
        ("STRAVA_WEBHOOK_VERIFY_TOKEN", "bench"),
        ("STRAVA_RATE_LIMITS", "false"),
        ("GATEWAY_PUBLIC_URL", "http://127.0.0.1:9"),
        ("TALK_APP_URL", "http://127.0.0.1:8"),
        ("OAUTH_STATE_SECRET", "0123456789abcdef0123456789abcdef"),
        ("UPKEEP_INTERVAL_SECS", "0"),
        ("DATABASE_POOL_SIZE", "16"),
    ];
    vars.extend_from_slice(extra);
    let env = Env::from_pairs(None, strava_gateway::settings::DEFAULTS, &vars).expect("env");
    Settings::from_env(&env).expect("settings")
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn webhooks(args: &Args) {
    let db = TestDb::new().await;
    let fake = FakeStrava::start(FakeConfig::default())
        .await
        .expect("fake");
    let pool = db::connect_pool(db.url(), 16).expect("pool");
    // Events are kept only for athletes we hold tokens for: make owner 1 one (no
    // worker runs here, so the tokens are never read).
    {
        let mut conn = pool.get().await.expect("connection");
        diesel::sql_query(
            "WITH a AS (INSERT INTO athletes (id) VALUES (1) RETURNING id) \
             INSERT INTO strava_tokens (athlete_id, access_token_enc, refresh_token_enc, expires_at) \
             SELECT id, '\\x00', '\\x00', now() FROM a",
        )
        .execute(&mut conn)
        .await
        .expect("owner 1 connected");
    }
    let app = strava_gateway::startup::build(
        &settings(&db, &fake, &[("STRAVA_SUBSCRIPTION_ID", "1")]),
        pool,
    )
    .expect("app");
    let base = format!("http://127.0.0.1:{}/webhook", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .http1_only()
        .build()
        .expect("client");

    let run = |count: u64, limit: Duration, first_id: u64| {
        let next = Arc::new(AtomicU64::new(first_id));
        let end = first_id + count;
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                let client = client.clone();
                let base = base.clone();
                let next = next.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut failed = 0u64;
                    loop {
                        let id = next.fetch_add(1, Ordering::Relaxed);
                        if id >= end || started.elapsed() >= limit {
                            break;
                        }
                        let body = format!(
                            r#"{{"aspect_type":"create","event_time":1700000000,"object_id":{id},"object_type":"activity","owner_id":1,"subscription_id":1,"updates":{{}}}}"#
                        );
                        let sent = Instant::now();
                        let ok = client
                            .post(&base)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .is_ok_and(|r| r.status() == 200);
                        if ok {
                            latencies.push(sent.elapsed().as_micros() as u64);
                        } else {
                            failed += 1;
                        }
                    }
                    (latencies, failed)
                })
            })
            .collect();
        async move {
            let mut all = Vec::new();
            let mut failed = 0;
            for t in tasks {
                let (l, f) = t.await.expect("load task");
                all.extend(l);
                failed += f;
            }
            (all, failed, started.elapsed())
        }
    };

    // Warm-up: connections open, the pool fills, code pages are in.
    let (warm, _, _) = run(5_000, Duration::from_secs(10), 1).await;
    let (mut latencies, failed, took) =
        run(args.events, Duration::from_secs(args.seconds), 1_000_000).await;
    latencies.sort_unstable();
    let acked = latencies.len() as u64;
    let mut conn = db.pool().get().await.expect("conn");
    let stored: Count = diesel::sql_query("SELECT count(*) AS n FROM webhook_events")
        .get_result(&mut conn)
        .await
        .expect("count");
    let expected = acked + warm.len() as u64;
    println!(
        "webhooks: {acked} acks in {:.2}s = {:.0} acks/s at {CONNECTIONS} connections; \
         latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {failed} not acked; \
         inbox holds {} of {expected} acked events ({})",
        took.as_secs_f64(),
        acked as f64 / took.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        stored.n,
        if stored.n as u64 == expected {
            "all stored"
        } else {
            "MISSING EVENTS"
        },
    );
}

async fn backfill(args: &Args) {
    let db = TestDb::new().await;
    let fake = FakeStrava::start(FakeConfig {
        rate_limits: None,
        workers: 2,
        ..FakeConfig::default()
    })
    .await
    .expect("fake");
    let athlete = fake.add_athlete(NewAthlete::default()).expect("athlete");
    fake.generate_activities(athlete, args.activities)
        .expect("activities");
    let settings = settings(&db, &fake, &[("WORKER_COUNT", "1")]);
    let pool = db.pool().clone();
    let pair = fake
        .issue_tokens(athlete, "read,activity:read_all")
        .expect("tokens");
    {
        let mut conn = pool.get().await.expect("conn");
        db::athletes::upsert(
            &mut conn,
            &db::athletes::AthleteUpsert {
                id: athlete.get(),
                firstname: "Bench".into(),
                lastname: "Mark".into(),
                measurement_preference: domain::Units::Metric,
                timezone: None,
                is_demo: false,
            },
        )
        .await
        .expect("athlete row");
        let tokens = StravaTokens {
            access_token: Secret::new(pair.access_token),
            refresh_token: Secret::new(pair.refresh_token),
            expires_at: Utc::now() + chrono::Duration::hours(6),
            scopes: "read,activity:read_all".into(),
        };
        db::tokens::save(&mut conn, &settings.token_cipher, athlete, &tokens)
            .await
            .expect("tokens");
    }
    let workers = Workers::spawn(Context {
        strava: strava_gateway::strava::StravaClient::new(&settings.strava, pool.clone()),
        pool: pool.clone(),
        cipher: settings.token_cipher.clone(),
        settings: settings.worker.clone(),
    });
    let started = Instant::now();
    let job_id = {
        let mut conn = pool.get().await.expect("conn");
        db::jobs::enqueue(&mut conn, &backfill_job(athlete))
            .await
            .expect("enqueue")
            .expect("queued")
    };
    loop {
        let mut conn = pool.get().await.expect("conn");
        let job = db::jobs::find(&mut conn, job_id)
            .await
            .expect("job")
            .expect("row");
        if matches!(job.state, JobState::Done | JobState::Failed) {
            break;
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    let mut conn = pool.get().await.expect("conn");
    let stored = db::activities::count_for(&mut conn, athlete)
        .await
        .expect("count");
    println!(
        "backfill: {stored} of {} activities in {:.2}s = {:.0} activities/s (one worker, rate limits off)",
        args.activities,
        took.as_secs_f64(),
        stored as f64 / took.as_secs_f64()
    );
    workers.shutdown(Duration::from_secs(5)).await;
}

async fn idle_rss() {
    let Some(bin) = std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.join("strava-gateway")))
        .filter(|p| p.is_file())
    else {
        println!("idle RSS: skipped (build the strava-gateway binary next to this example)");
        return;
    };
    let db = TestDb::new().await;
    let fake = FakeStrava::start(FakeConfig::default())
        .await
        .expect("fake");
    let mut child = Command::new(&bin)
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("PORT", "0")
        .env("BIND_ADDRESS", "127.0.0.1")
        .env("TOKEN_ENCRYPTION_KEY", KEY)
        .env("STRAVA_CLIENT_ID", fake.client_id())
        .env("STRAVA_CLIENT_SECRET", fake.client_secret())
        .env(
            "STRAVA_OAUTH_BASE_URL",
            format!("{}/oauth", fake.base_url()),
        )
        .env("STRAVA_API_BASE_URL", fake.api_url())
        .env("STRAVA_WEBHOOK_VERIFY_TOKEN", "bench")
        .env("GATEWAY_PUBLIC_URL", "http://127.0.0.1:9")
        .env("TALK_APP_URL", "http://127.0.0.1:8")
        .env("OAUTH_STATE_SECRET", "0123456789abcdef0123456789abcdef")
        .env("LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .expect("gateway starts");
    let port = testkit::process::listening_port(child.stderr.take().expect("stderr"));
    // One request so the HTTP and database paths have run once, then let it settle.
    let _ = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or("VmRSS: unknown")
        .trim_start_matches("VmRSS:")
        .trim()
        .to_owned();
    println!("idle RSS: {rss} (release strava-gateway serve, 2 workers, after one /readyz)");
    let _ = testkit::process::terminate(&mut child, Duration::from_secs(15));
}

fn main() {
    let args = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        webhooks(&args).await;
        backfill(&args).await;
        idle_rss().await;
    });
}
