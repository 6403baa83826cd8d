//! Benchmark (not a test): how fast the workers apply webhook events, and what each
//! event costs in statements, as the inbox's history grows.
//!
//! ```text
//! cargo build --release -p strava-gateway --example bench_events
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     target/release/examples/bench_events [--events N] [--history N,N,...] [--workers N]
//! ```
//!
//! For each history size H (default 3,000 and 3,000,000): a fresh database whose inbox
//! already holds H applied events from the last hour (spread over the same activities,
//! so per-object look-ups meet them), then N `create` events, one per activity the fake
//! Strava holds (rate limits off, per-athlete caps raised). Reports events applied per
//! second from the first claim to the last done, and, when the server loads
//! `pg_stat_statements`, the statements and Postgres execution time per event with
//! the most frequent statements.

use chrono::Utc;
use db::inbox::{AspectType, NewEvent, ObjectType};
use db::tokens::StravaTokens;
use diesel_async::RunQueryDsl;
use domain::Secret;
use service::Env;
use std::time::{Duration, Instant};
use strava_fake::{FakeConfig, FakeStrava, NewAthlete};
use strava_gateway::Settings;
use strava_gateway::worker::{Context, Workers};
use testkit::{StatementCounter, TestDb};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

struct Args {
    events: usize,
    history: Vec<u64>,
    workers: usize,
}

fn args() -> Args {
    let mut a = Args {
        events: 3_000,
        history: vec![3_000, 3_000_000],
        workers: 2,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or("");
        match pair[0].as_str() {
            "--events" if value.parse::<usize>().is_ok() => a.events = value.parse().unwrap(),
            "--workers" if value.parse::<usize>().is_ok() => a.workers = value.parse().unwrap(),
            "--history" => {
                a.history = value.split(',').filter_map(|v| v.parse().ok()).collect();
            }
            _ => {
                eprintln!("usage: bench_events [--events N] [--history N,N,...] [--workers N]");
                std::process::exit(2);
            }
        }
    }
    a
}

fn settings(db: &TestDb, fake: &FakeStrava, workers: usize) -> Settings {
    let oauth = format!("{}/oauth", fake.base_url());
    let api = fake.api_url();
    let workers = workers.to_string();
    let vars = [
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
        ("WORKER_COUNT", &workers),
        ("IMPORT_WORKER_COUNT", "0"),
        ("WEBHOOK_OWNER_CALLS_PER_QUARTER", "10000000"),
        ("WEBHOOK_OWNER_CALLS_PER_DAY", "10000000"),
    ];
    let env = Env::from_pairs(None, strava_gateway::settings::DEFAULTS, &vars).expect("env");
    Settings::from_env(&env).expect("settings")
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn run(args: &Args, history: u64) {
    let db = TestDb::new().await;
    let fake = FakeStrava::start(FakeConfig {
        rate_limits: None,
        workers: 2,
        ..FakeConfig::default()
    })
    .await
    .expect("fake");
    let athlete = fake.add_athlete(NewAthlete::default()).expect("athlete");
    let ids = fake
        .generate_activities(athlete, args.events)
        .expect("activities");
    let settings = settings(&db, &fake, args.workers);
    let pool = db.pool().clone();
    let pair = fake
        .issue_tokens(athlete, "read,activity:read_all")
        .expect("tokens");
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
    // The history: applied events of the last hour, over the same activities.
    let started = Instant::now();
    let first = ids.iter().map(|i| i.get()).min().unwrap_or(1);
    diesel::sql_query(
        "INSERT INTO webhook_events (dedupe_key, subscription_id, object_type, object_id, \
             aspect_type, owner_id, event_time, status, attempts, received_at, processed_at) \
         SELECT 'history-' || n, 1, 'activity', $1 + n % $2, 'update', $3, 1700000000, 'done', 1, \
                now() - interval '1 hour' * (n::float8 / $4), now() - interval '1 hour' * (n::float8 / $4) \
         FROM generate_series(1, $4) AS n",
    )
    .bind::<diesel::sql_types::BigInt, _>(first)
    .bind::<diesel::sql_types::BigInt, _>(args.events.max(1) as i64)
    .bind::<diesel::sql_types::BigInt, _>(athlete.get())
    .bind::<diesel::sql_types::BigInt, _>(history as i64)
    .execute(&mut conn)
    .await
    .expect("history");
    diesel::sql_query("VACUUM ANALYZE webhook_events")
        .execute(&mut conn)
        .await
        .expect("analyze");
    let loaded = started.elapsed();
    let events: Vec<NewEvent> = ids
        .iter()
        .map(|id| NewEvent {
            dedupe_key: format!("bench-{}", id.get()),
            subscription_id: 1,
            object_type: ObjectType::Activity,
            object_id: id.get(),
            aspect_type: AspectType::Create,
            owner_id: athlete.get(),
            event_time: 1_700_000_000,
            updates: serde_json::json!({}),
        })
        .collect();
    for chunk in events.chunks(1000) {
        db::inbox::insert_many(&mut conn, chunk)
            .await
            .expect("events");
    }
    drop(conn);
    let mut counter = match StatementCounter::new(db.conn().await).await {
        Ok(c) => Some(c),
        Err(e) => {
            println!("  statements: n/a ({e})");
            None
        }
    };
    let started = Instant::now();
    let workers = Workers::spawn(Context {
        strava: strava_gateway::strava::StravaClient::new(&settings.strava, pool.clone()),
        pool: pool.clone(),
        cipher: settings.token_cipher.clone(),
        settings: settings.worker.clone(),
    });
    // Polled on a connection of its own, marked so the counter leaves it out.
    let mut poll = db.conn().await;
    loop {
        let left: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM webhook_events /* bench-own */ \
             WHERE status IN ('pending', 'processing')",
        )
        .get_result(&mut poll)
        .await
        .expect("count");
        if left.n == 0 || started.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = started.elapsed();
    workers.shutdown(Duration::from_secs(5)).await;
    let applied: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM webhook_events /* bench-own */ \
         WHERE status = 'done' AND dedupe_key LIKE 'bench-%'",
    )
    .get_result(&mut poll)
    .await
    .expect("count");
    let n = applied.n.max(1) as f64;
    println!(
        "events: {} of {} applied in {:.2}s = {:.0} events/s ({} workers, inbox history {history} rows, loaded in {:.0}s)",
        applied.n,
        args.events,
        took.as_secs_f64(),
        applied.n as f64 / took.as_secs_f64(),
        args.workers,
        loaded.as_secs_f64(),
    );
    if let Some(counter) = counter.as_mut() {
        match counter.calls().await {
            Ok(calls) => {
                let total: i64 = calls.iter().map(|c| c.calls).sum();
                let ms: f64 = calls.iter().map(|c| c.exec_ms).sum();
                println!(
                    "  statements per event: {:.2} ({total} in all); Postgres execution {:.3} ms per event",
                    total as f64 / n,
                    ms / n
                );
                for c in calls.iter().take(12) {
                    println!(
                        "  {:>8.2}/event {:>8.3} ms/event  {}",
                        c.calls as f64 / n,
                        c.exec_ms / n,
                        c.query
                    );
                }
            }
            Err(e) => println!("  statements: n/a ({e})"),
        }
    }
}

fn main() {
    let args = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for &history in &args.history {
            run(&args, history).await;
        }
    });
}
