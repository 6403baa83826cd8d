//! The db crate against a real PostgreSQL: migrations, row-level security, token
//! encryption, bulk upserts, the job queue and the demo seed.

use chrono::{NaiveDate, TimeZone, Utc};
use db::activities::{self, ActivityRow};
use db::athletes::{self, AthleteUpsert};
use db::crypto::TokenCipher;
use db::{jobs, sandbox, tokens};
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{Activity, ActivityId, ActivitySource, AthleteId, Secret, SportType};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use testkit::TestDb;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .await
        .unwrap()
        .n
}

fn athlete(id: i64) -> AthleteUpsert {
    AthleteUpsert {
        id,
        firstname: format!("Athlete{id}"),
        lastname: "Test".into(),
        measurement_preference: domain::Units::Metric,
        timezone: Some("(GMT+01:00) Europe/Paris".into()),
        is_demo: false,
    }
}

fn activity(athlete: i64, id: i64, sport: &str, local: &str) -> Activity {
    let start_date_local =
        chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S").unwrap();
    Activity {
        id: ActivityId(id),
        athlete_id: AthleteId(athlete),
        name: format!("{sport} {id}"),
        sport_type: SportType::new(sport),
        start_date: Utc.from_utc_datetime(&(start_date_local - chrono::Duration::hours(1))),
        start_date_local,
        timezone: Some("(GMT+01:00) Europe/Paris".into()),
        distance_m: 5000.0 + id as f64,
        moving_time_s: 1500,
        elapsed_time_s: 1600,
        total_elevation_gain_m: 42.0,
        elev_high_m: Some(100.0),
        elev_low_m: Some(58.0),
        average_speed_mps: 3.3,
        max_speed_mps: 4.8,
        average_heartrate: Some(148.0),
        max_heartrate: Some(171.0),
        average_cadence: Some(86.0),
        average_watts: None,
        weighted_average_watts: None,
        max_watts: None,
        kilojoules: None,
        calories: Some(410.0),
        device_watts: false,
        kudos_count: 3,
        comment_count: 0,
        achievement_count: 1,
        pr_count: 0,
        commute: false,
        trainer: false,
        manual: false,
        private: false,
        flagged: false,
        workout_type: None,
        gear_id: None,
        device_name: None,
        source: ActivitySource::Api,
    }
}

fn rows(activities: &[Activity]) -> Vec<ActivityRow> {
    activities
        .iter()
        .map(|a| ActivityRow::new(a, Some(serde_json::json!({"id": a.id.get()})), Utc::now()))
        .collect()
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_are_idempotent() {
    let test = TestDb::new().await;
    // The test database came from the template; build a truly empty one beside it.
    let empty = format!("{}_empty", test.name());
    let mut admin = test.conn().await;
    diesel::sql_query(format!("CREATE DATABASE \"{empty}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = testkit::with_database(test.url(), &empty);

    let first = db::migrate::run_pending(&url).await.unwrap();
    assert_eq!(first, db::migrate::embedded_versions());
    let second = db::migrate::run_pending(&url).await.unwrap();
    assert!(second.is_empty(), "second run applied {second:?}");
    let mut conn = db::connect(&url).await.unwrap();
    assert!(db::migrate::pending(&mut conn).await.unwrap().is_empty());
    drop(conn);
    diesel::sql_query(format!("DROP DATABASE \"{empty}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn schema_rs_matches_the_migrated_database() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    #[derive(diesel::QueryableByName, PartialEq, Eq, Hash, Debug, Clone)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        udt_name: String,
        #[diesel(sql_type = Text)]
        is_nullable: String,
    }
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, udt_name::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let in_db: HashSet<(String, String, String)> = columns
        .into_iter()
        .map(|c| {
            let ty = if c.is_nullable == "YES" {
                format!("Nullable<{}>", c.udt_name)
            } else {
                c.udt_name
            };
            (c.table_name, c.column_name, ty)
        })
        .collect();
    let in_schema_rs = parse_schema_rs(include_str!("../src/schema.rs"));
    let missing: Vec<_> = in_db.difference(&in_schema_rs).collect();
    let extra: Vec<_> = in_schema_rs.difference(&in_db).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "schema.rs lacks {missing:?}; has extra {extra:?}"
    );
}

#[tokio::test]
async fn the_activities_table_and_the_model_view_follow_the_fields_home() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Column {
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        data_type: String,
        #[diesel(sql_type = Text)]
        is_nullable: String,
    }
    let columns_of = |schema: &'static str| {
        diesel::sql_query(format!(
            "SELECT column_name::text, data_type::text, is_nullable::text \
             FROM information_schema.columns \
             WHERE table_schema = '{schema}' AND table_name = 'activities' \
             ORDER BY ordinal_position"
        ))
    };
    let table: Vec<Column> = columns_of("public").load(&mut conn).await.unwrap();
    let home: Vec<Column> = domain::fields::ACTIVITY_COLUMNS
        .iter()
        .map(|c| Column {
            column_name: c.name.to_owned(),
            data_type: c.ty.pg_name().to_owned(),
            is_nullable: if c.nullable { "YES" } else { "NO" }.to_owned(),
        })
        .collect();
    assert_eq!(table, home);
    let view: Vec<String> = columns_of("stravatalk_model")
        .load::<Column>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.column_name)
        .collect();
    let model: Vec<&str> = domain::fields::model_columns().map(|c| c.name).collect();
    assert_eq!(view, model);
}

/// Reads `table! { name (pk) { col -> Type, } }` blocks into (table, column, pg type).
fn parse_schema_rs(text: &str) -> HashSet<(String, String, String)> {
    let diesel_to_pg = |t: &str| match t {
        "Int8" => "int8",
        "Int4" => "int4",
        "Int2" => "int2",
        "Text" => "text",
        "Bool" => "bool",
        "Float8" => "float8",
        "Timestamptz" => "timestamptz",
        "Timestamp" => "timestamp",
        "Jsonb" => "jsonb",
        "Uuid" => "uuid",
        "Bytea" => "bytea",
        other => panic!("schema_rs test: map diesel type {other}"),
    };
    let mut out = HashSet::new();
    let mut table = None;
    for line in text.lines().map(str::trim) {
        if let Some(name) = line
            .strip_suffix('{')
            .map(str::trim)
            .and_then(|l| l.split_once(' '))
            .map(|(n, _)| n)
        {
            if !name.contains("table!") {
                table = Some(name.to_owned());
            }
            continue;
        }
        if let (Some(t), Some((col, ty))) = (&table, line.trim_end_matches(',').split_once(" -> "))
        {
            let ty = match ty
                .strip_prefix("Nullable<")
                .and_then(|t| t.strip_suffix('>'))
            {
                Some(inner) => format!("Nullable<{}>", diesel_to_pg(inner)),
                None => diesel_to_pg(ty).to_owned(),
            };
            out.insert((t.clone(), col.to_owned(), ty));
        }
        if line == "}" {
            table = None;
        }
    }
    out
}

#[tokio::test]
async fn row_level_security_keeps_each_athlete_to_their_own_rows() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(&mut conn, &athlete(101)).await.unwrap();
    athletes::upsert(&mut conn, &athlete(202)).await.unwrap();
    let mut mine = vec![];
    for i in 0..3 {
        mine.push(activity(101, 1000 + i, "Run", "2026-11-02T07:10:00"));
    }
    let theirs: Vec<_> = (0..5)
        .map(|i| activity(202, 2000 + i, "Ride", "2026-11-03T18:00:00"))
        .collect();
    activities::upsert_many(&mut conn, &rows(&mine))
        .await
        .unwrap();
    activities::upsert_many(&mut conn, &rows(&theirs))
        .await
        .unwrap();

    let timeout = Duration::from_secs(2);
    // Hand-written queries that try to reach athlete 202's rows from athlete 101's scope.
    for (sql, expected) in [
        ("SELECT count(*) AS n FROM activities", 3),
        (
            "SELECT count(*) AS n FROM activities WHERE athlete_id = 202",
            0,
        ),
        (
            "SELECT count(*) AS n FROM activities a JOIN activities b ON b.athlete_id <> a.athlete_id",
            0,
        ),
        (
            "SELECT count(*) AS n FROM public.activities WHERE true OR athlete_id = 202",
            3,
        ),
    ] {
        let seen: i64 = sandbox::with_athlete_scope(&mut conn, AthleteId(101), timeout, |c| {
            Box::pin(async move {
                diesel::sql_query(sql)
                    .get_result::<Count>(c)
                    .await
                    .map(|r| r.n)
            })
        })
        .await
        .unwrap();
        assert_eq!(seen, expected, "{sql}");
    }

    // Nothing inside the scope can write, and other tables are out of reach.
    let write: Result<usize, diesel::result::Error> =
        sandbox::with_athlete_scope(&mut conn, AthleteId(101), timeout, |c| {
            Box::pin(async move { diesel::sql_query("DELETE FROM activities").execute(c).await })
        })
        .await;
    assert!(write.is_err(), "a write inside the scope must fail");
    let tokens_read: Result<i64, diesel::result::Error> =
        sandbox::with_athlete_scope(&mut conn, AthleteId(101), timeout, |c| {
            Box::pin(async move {
                diesel::sql_query("SELECT count(*) AS n FROM strava_tokens")
                    .get_result::<Count>(c)
                    .await
                    .map(|r| r.n)
            })
        })
        .await;
    assert!(
        tokens_read.is_err(),
        "the reader role has no access to tokens"
    );

    // The statement timeout applies.
    let slow: Result<usize, diesel::result::Error> =
        sandbox::with_athlete_scope(&mut conn, AthleteId(101), Duration::from_millis(100), |c| {
            Box::pin(async move { diesel::sql_query("SELECT pg_sleep(2)").execute(c).await })
        })
        .await;
    let err = slow.expect_err("pg_sleep(2) must be cancelled").to_string();
    assert!(err.contains("statement timeout"), "{err}");

    // The connection is usable and unscoped afterwards; everything is still there.
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM activities").await,
        8
    );
}

#[tokio::test]
async fn tokens_are_stored_encrypted_and_need_the_right_key() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(&mut conn, &athlete(7)).await.unwrap();
    let cipher = TokenCipher::from_bytes(&[3u8; 32]).unwrap();
    let saved = tokens::StravaTokens {
        access_token: Secret::new("access-abc123".into()),
        refresh_token: Secret::new("refresh-xyz789".into()),
        expires_at: Utc.with_ymd_and_hms(2026, 11, 29, 18, 0, 0).unwrap(),
        scopes: "read,activity:read_all".into(),
    };
    tokens::save(&mut conn, &cipher, AthleteId(7), &saved)
        .await
        .unwrap();

    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        access_token_enc: Vec<u8>,
    }
    let stored: Stored = diesel::sql_query("SELECT access_token_enc FROM strava_tokens")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(
        !stored.access_token_enc.windows(6).any(|w| w == b"access"),
        "plaintext must not be stored"
    );

    let loaded = tokens::load(&mut conn, &cipher, AthleteId(7), false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.access_token.expose(), "access-abc123");
    assert_eq!(loaded.refresh_token.expose(), "refresh-xyz789");
    assert_eq!(loaded.expires_at, saved.expires_at);

    let wrong = TokenCipher::from_bytes(&[4u8; 32]).unwrap();
    let err = tokens::load(&mut conn, &wrong, AthleteId(7), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("TOKEN_ENCRYPTION_KEY"), "{err}");
    assert!(!err.contains("access-abc123"));
}

#[tokio::test]
async fn bulk_upsert_of_ten_thousand_activities() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(&mut conn, &athlete(1)).await.unwrap();
    athletes::upsert(&mut conn, &athlete(2)).await.unwrap();
    let base = NaiveDate::from_ymd_opt(2020, 1, 1)
        .unwrap()
        .and_hms_opt(6, 0, 0)
        .unwrap();
    let mut all: Vec<Activity> = (0..10_000)
        .map(|i| {
            let local = base + chrono::Duration::hours(i * 7);
            activity(
                1,
                10_000 + i,
                if i % 3 == 0 { "Ride" } else { "Run" },
                &local.format("%Y-%m-%dT%H:%M:%S").to_string(),
            )
        })
        .collect();

    let started = Instant::now();
    let written = activities::upsert_many(&mut conn, &rows(&all))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "bulk upsert: {written} rows in {:.0} ms = {:.0} rows/s (debug build; `cargo xtask bench` for release figures)",
        elapsed.as_secs_f64() * 1e3,
        written as f64 / elapsed.as_secs_f64()
    );
    assert_eq!(written, 10_000);
    assert_eq!(
        activities::count_for(&mut conn, AthleteId(1))
            .await
            .unwrap(),
        10_000
    );

    // Upserting again replaces values rather than duplicating rows.
    for a in &mut all {
        a.name = format!("renamed {}", a.id);
        a.kudos_count = 99;
    }
    activities::upsert_many(&mut conn, &rows(&all))
        .await
        .unwrap();
    assert_eq!(
        activities::count_for(&mut conn, AthleteId(1))
            .await
            .unwrap(),
        10_000
    );
    let one = activities::find(&mut conn, AthleteId(1), ActivityId(10_042))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.name, "renamed 10042");
    assert_eq!(one.kudos_count, 99);
    let back: Activity = one.try_into().unwrap();
    assert_eq!(
        back.sport_type,
        SportType::new("Ride"),
        "10042 is the 42nd, a multiple of 3"
    );

    // The same id under athlete 2 is athlete 2's own row: athlete 1's stays as it was,
    // and neither can see, claim or overwrite the other's.
    let other = activity(2, 10_042, "Run", "2021-01-01T06:00:00");
    activities::upsert_many(&mut conn, &rows(&[other]))
        .await
        .unwrap();
    let still = activities::find(&mut conn, AthleteId(1), ActivityId(10_042))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.name, "renamed 10042");
    let theirs = activities::find(&mut conn, AthleteId(2), ActivityId(10_042))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(theirs.sport_type, "Run");
    assert_eq!(
        activities::count_for(&mut conn, AthleteId(2))
            .await
            .unwrap(),
        1
    );

    // An export's copy of an activity never replaces the one Strava's API gave; a
    // newer API copy replaces either.
    let mut from_export = rows(&[activity(1, 10_042, "Run", "2021-01-01T06:00:00")]);
    from_export[0].source = ActivitySource::Import.as_str().to_owned();
    from_export[0].name = "from the export".into();
    assert_eq!(
        activities::upsert_many(&mut conn, &from_export)
            .await
            .unwrap(),
        0
    );
    let kept = activities::find(&mut conn, AthleteId(1), ActivityId(10_042))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.source.as_str()),
        ("renamed 10042", "api")
    );
    let mut export_only = rows(&[activity(1, 99_001, "Run", "2021-01-01T06:00:00")]);
    export_only[0].source = ActivitySource::Import.as_str().to_owned();
    assert_eq!(
        activities::upsert_many(&mut conn, &export_only)
            .await
            .unwrap(),
        1
    );
    let mut api = export_only.clone();
    api[0].source = ActivitySource::Api.as_str().to_owned();
    api[0].name = "from the API".into();
    assert_eq!(activities::upsert_many(&mut conn, &api).await.unwrap(), 1);
    let replaced = activities::find(&mut conn, AthleteId(1), ActivityId(99_001))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.name, "from the API");
}

#[tokio::test]
async fn unknown_sport_types_round_trip_through_the_database() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(&mut conn, &athlete(5)).await.unwrap();
    let a = activity(5, 77, "Hoverboarding", "2026-01-01T10:00:00");
    activities::upsert_many(&mut conn, &rows(std::slice::from_ref(&a)))
        .await
        .unwrap();
    let back: Activity = activities::find(&mut conn, AthleteId(5), ActivityId(77))
        .await
        .unwrap()
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(back.sport_type.as_str(), "Hoverboarding");
    assert!(!back.sport_type.is_known());
    assert_eq!(back, a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_claimers_never_take_the_same_job() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    for i in 0..200 {
        jobs::enqueue(
            &mut conn,
            &jobs::NewJob::for_athlete(jobs::JobKind::Backfill, AthleteId(i + 1)),
        )
        .await
        .unwrap();
    }
    let claimer = |url: String| async move {
        let mut conn = db::connect(&url).await.unwrap();
        let mut taken = vec![];
        while let Some(job) = jobs::claim(&mut conn, jobs::JobKind::ALL, Duration::from_secs(60))
            .await
            .unwrap()
        {
            taken.push(job.id);
            jobs::complete(&mut conn, job.id).await.unwrap();
        }
        taken
    };
    let (a, b) = tokio::join!(
        tokio::spawn(claimer(test.url().to_owned())),
        tokio::spawn(claimer(test.url().to_owned()))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let unique: HashSet<i64> = a.iter().chain(&b).copied().collect();
    assert_eq!(a.len() + b.len(), 200, "every job claimed once");
    assert_eq!(unique.len(), 200, "no job claimed twice");
    assert!(
        !a.is_empty() && !b.is_empty(),
        "both claimers got work ({} / {})",
        a.len(),
        b.len()
    );
}

#[tokio::test]
async fn a_job_row_of_an_unknown_kind_fails_to_load_instead_of_travelling_as_text() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    let id: i64 = diesel::sql_query(
        "INSERT INTO jobs (kind, payload) VALUES ('mystery', '{\"athlete_id\": 1}') RETURNING id AS id",
    )
    .get_result::<IdRow>(&mut conn)
    .await
    .unwrap()
    .id;
    let err = jobs::find(&mut conn, id).await.unwrap_err();
    let why = format!("{err:?}");
    assert!(
        why.contains("mystery") && why.contains("is not a JobKind"),
        "{why}"
    );
    for kind in jobs::JobKind::ALL {
        assert_eq!(kind.as_str().parse::<jobs::JobKind>(), Ok(*kind));
    }
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

#[tokio::test]
async fn jobs_retry_with_backoff_dedupe_and_recover_lapsed_leases() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    let job = jobs::NewJob::for_athlete(jobs::JobKind::Backfill, AthleteId(1));
    assert_eq!(job.dedupe_key.as_deref(), Some("backfill:1"));
    let id = jobs::enqueue(&mut conn, &job)
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(
        jobs::enqueue(&mut conn, &job).await.unwrap(),
        None,
        "one active job per dedupe key"
    );

    // A worker claims it with a short lease and dies: the job becomes claimable again.
    let first = jobs::claim(
        &mut conn,
        &[jobs::JobKind::Backfill],
        Duration::from_secs(1),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((first.id, first.attempts), (id, 1));
    assert!(
        jobs::claim(
            &mut conn,
            &[jobs::JobKind::Backfill],
            Duration::from_secs(1)
        )
        .await
        .unwrap()
        .is_none()
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = jobs::claim(
        &mut conn,
        &[jobs::JobKind::Backfill],
        Duration::from_secs(60),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((second.id, second.attempts), (id, 2));
    assert!(
        !jobs::heartbeat(
            &mut conn,
            id,
            1,
            Duration::from_secs(60),
            &serde_json::json!({})
        )
        .await
        .unwrap(),
        "the first worker lost the job"
    );
    assert!(
        jobs::heartbeat(
            &mut conn,
            id,
            2,
            Duration::from_secs(60),
            &serde_json::json!({"pages": 3})
        )
        .await
        .unwrap()
    );

    // A failure requeues it later; the last error is kept.
    jobs::fail(
        &mut conn,
        &second,
        "Strava answered 500",
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let after = jobs::find(&mut conn, id).await.unwrap().unwrap();
    assert_eq!(after.state, jobs::JobState::Queued);
    assert_eq!(after.athlete(), Ok(AthleteId(1)));
    assert_eq!(after.last_error.as_deref(), Some("Strava answered 500"));
    assert!(
        after.run_after > Utc::now() + chrono::Duration::seconds(50),
        "backoff 30 s * 2"
    );
    assert!(
        jobs::claim(
            &mut conn,
            &[jobs::JobKind::Backfill],
            Duration::from_secs(60)
        )
        .await
        .unwrap()
        .is_none(),
        "not due yet"
    );
}

#[tokio::test]
async fn demo_seed_loads_the_demo_athlete_idempotently() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
    let n = db::demo::seed(&mut conn, now).await.unwrap();
    assert!(n > 500, "three years of training, got {n}");
    let again = db::demo::seed(&mut conn, now).await.unwrap();
    assert_eq!(n, again);
    let id = demo::DEMO_ATHLETE_ID;
    assert_eq!(
        activities::count_for(&mut conn, id).await.unwrap(),
        n as i64
    );
    let profile = athletes::find(&mut conn, id).await.unwrap().unwrap();
    assert!(profile.is_demo);
    assert_eq!(profile.units(), domain::Units::Metric);
}

#[tokio::test]
async fn erasing_an_athlete_removes_everything_of_theirs_only() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    let cipher = TokenCipher::from_bytes(&[9u8; 32]).unwrap();
    for id in [11, 12] {
        athletes::upsert(&mut conn, &athlete(id)).await.unwrap();
        activities::upsert_many(
            &mut conn,
            &rows(&[activity(id, id * 100, "Run", "2026-03-01T08:00:00")]),
        )
        .await
        .unwrap();
        let t = tokens::StravaTokens {
            access_token: Secret::new("a".into()),
            refresh_token: Secret::new("r".into()),
            expires_at: Utc::now(),
            scopes: String::new(),
        };
        tokens::save(&mut conn, &cipher, AthleteId(id), &t)
            .await
            .unwrap();
        for sql in [
            format!(
                "INSERT INTO app_sessions (id, athlete_id, expires_at) VALUES (gen_random_uuid(), {id}, now() + interval '1 day')"
            ),
            format!("INSERT INTO conversations (id, athlete_id) VALUES (gen_random_uuid(), {id})"),
            format!(
                "INSERT INTO gear (athlete_id, id, name, source) VALUES ({id}, 'g1', 'Pegasus', 'api')"
            ),
            format!(
                "INSERT INTO best_efforts (athlete_id, activity_id, name, distance_m, elapsed_time_s, \
                 moving_time_s, start_date, start_date_local, source) \
                 VALUES ({id}, {}, '5k', 5000, 1300, 1300, now(), now(), 'api')",
                id * 100
            ),
        ] {
            diesel::sql_query(sql).execute(&mut conn).await.unwrap();
        }
    }
    assert!(athletes::erase(&mut conn, AthleteId(11)).await.unwrap());
    for table in [
        "activities",
        "gear",
        "best_efforts",
        "strava_tokens",
        "app_sessions",
        "conversations",
        "athletes",
    ] {
        let gone = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM {table} WHERE {} = 11",
                if table == "athletes" {
                    "id"
                } else {
                    "athlete_id"
                }
            ),
        )
        .await;
        let kept = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM {table} WHERE {} = 12",
                if table == "athletes" {
                    "id"
                } else {
                    "athlete_id"
                }
            ),
        )
        .await;
        assert_eq!((gone, kept), (0, 1), "{table}");
    }
}

#[tokio::test]
async fn question_slots_never_over_admit_and_lapsed_leases_are_taken_over() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(&mut conn, &athlete(21)).await.unwrap();
    athletes::upsert(&mut conn, &athlete(22)).await.unwrap();
    let ada = AthleteId(21);
    let lease = Duration::from_secs(60);
    // Twelve questions at once, each on its own connection, for three slots.
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let pool = test.pool().clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.get().await.unwrap();
            db::ask_limits::take_slot(&mut conn, ada, 3, lease)
                .await
                .unwrap()
        }));
    }
    let mut taken = Vec::new();
    for t in tasks {
        if let Some(l) = t.await.unwrap() {
            taken.push(l);
        }
    }
    let mut slots: Vec<i16> = taken.iter().map(|l| l.slot).collect();
    slots.sort();
    assert_eq!(slots, [0, 1, 2]);
    assert_eq!(db::ask_limits::in_flight(&mut conn, ada).await.unwrap(), 3);
    // Another athlete has slots of their own.
    assert!(
        db::ask_limits::take_slot(&mut conn, AthleteId(22), 3, lease)
            .await
            .unwrap()
            .is_some()
    );

    // Releasing frees a slot for the next question.
    assert!(
        db::ask_limits::release_slot(&mut conn, &taken[0])
            .await
            .unwrap()
    );
    let next = db::ask_limits::take_slot(&mut conn, ada, 3, lease)
        .await
        .unwrap()
        .expect("a freed slot");
    assert_eq!(next.slot, taken[0].slot);

    // A holder that died: its lease lapses and the slot is taken over; its late
    // release then frees nothing of the new holder's.
    diesel::sql_query(format!(
        "UPDATE ask_slots SET expires_at = now() - interval '1 second' WHERE slot = {} AND athlete_id = 21",
        taken[1].slot
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let over = db::ask_limits::take_slot(&mut conn, ada, 3, lease)
        .await
        .unwrap()
        .expect("the lapsed slot");
    assert_eq!(over.slot, taken[1].slot);
    assert!(
        !db::ask_limits::release_slot(&mut conn, &taken[1])
            .await
            .unwrap()
    );
    assert_eq!(db::ask_limits::in_flight(&mut conn, ada).await.unwrap(), 3);
    assert!(
        db::ask_limits::take_slot(&mut conn, ada, 3, lease)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn admission_counts_and_takes_a_slot_in_one_statement_and_slots_never_multiply_rows() {
    use db::ask_limits::{Admission, Limits, admit, release_slot};
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(&mut conn, &athlete(23)).await.unwrap();
    let ada = AthleteId(23);
    let limits = Limits {
        window: chrono::Duration::minutes(1),
        per_window: 40,
        in_flight: 2,
        lease: Duration::from_secs(60),
    };
    let now = Utc.with_ymd_and_hms(2026, 12, 8, 10, 0, 30).unwrap();
    // Thirty questions asked and answered one after another: two slot rows at most.
    for _ in 0..30 {
        let Admission::Granted(lease) = admit(&mut conn, ada, now, &limits).await.unwrap() else {
            panic!("a free slot and budget left");
        };
        assert!(release_slot(&mut conn, &lease).await.unwrap());
    }
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM ask_slots").await,
        1,
        "one slot row, taken and freed thirty times"
    );
    // Two in flight: the third is busy, yet counted against the minute.
    let a = admit(&mut conn, ada, now, &limits).await.unwrap();
    let b = admit(&mut conn, ada, now, &limits).await.unwrap();
    assert!(matches!(
        (a, b),
        (Admission::Granted(_), Admission::Granted(_))
    ));
    assert_eq!(
        admit(&mut conn, ada, now, &limits).await.unwrap(),
        Admission::Busy
    );
    assert_eq!(
        count(&mut conn, "SELECT hits::bigint AS n FROM api_rate_limits").await,
        33
    );
    // Past the minute's budget nothing is taken, even with a slot free.
    let Admission::Granted(held) = a else {
        unreachable!()
    };
    release_slot(&mut conn, &held).await.unwrap();
    for _ in 33..40 {
        if let Admission::Granted(l) = admit(&mut conn, ada, now, &limits).await.unwrap() {
            release_slot(&mut conn, &l).await.unwrap();
        }
    }
    assert_eq!(
        admit(&mut conn, ada, now, &limits).await.unwrap(),
        Admission::TooMany
    );
    assert_eq!(db::ask_limits::in_flight(&mut conn, ada).await.unwrap(), 1);
    // The next minute starts afresh, and the old window's row goes.
    let later = now + chrono::Duration::minutes(1);
    assert!(matches!(
        admit(&mut conn, ada, later, &limits).await.unwrap(),
        Admission::Granted(_)
    ));
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM api_rate_limits").await,
        1
    );
}

#[tokio::test]
async fn a_slot_does_not_outlive_the_session_that_took_it() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    athletes::upsert(&mut conn, &athlete(24)).await.unwrap();
    let ada = AthleteId(24);
    let hour = Duration::from_secs(3600);
    // A talk-app process: its own connection takes the only slot for an hour...
    let mut process = test.conn().await;
    let taken = db::ask_limits::take_slot(&mut process, ada, 1, hour)
        .await
        .unwrap();
    assert!(taken.is_some());
    assert!(
        db::ask_limits::take_slot(&mut conn, ada, 1, hour)
            .await
            .unwrap()
            .is_none(),
        "held while its process lives"
    );
    // ...and is killed: its connections end with it, without a release.
    let pid = count(&mut process, "SELECT pg_backend_pid()::bigint AS n").await;
    drop(process);
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = {pid}"),
    )
    .await
        > 0
    {
        assert!(Instant::now() < deadline, "the session did not end");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(db::ask_limits::in_flight(&mut conn, ada).await.unwrap(), 0);
    assert!(
        db::ask_limits::take_slot(&mut conn, ada, 1, hour)
            .await
            .unwrap()
            .is_some(),
        "free at once, not an hour later"
    );
}

#[tokio::test]
async fn an_event_is_applied_only_with_data_fetched_after_every_earlier_application() {
    use db::inbox::{self, Applied, AspectType, NewEvent, ObjectType};
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    diesel::sql_query(
        "WITH a AS (INSERT INTO athletes (id) VALUES (25) RETURNING id) \
         INSERT INTO strava_tokens (athlete_id, access_token_enc, refresh_token_enc, expires_at) \
         SELECT id, '\\x00', '\\x00', now() FROM a",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let event = |key: &str, object_id: i64| NewEvent {
        dedupe_key: key.into(),
        subscription_id: 1,
        object_type: ObjectType::Activity,
        object_id,
        aspect_type: AspectType::Update,
        owner_id: 25,
        event_time: 0,
        updates: serde_json::json!({}),
    };
    let earlier = clock(&mut conn).await;
    inbox::insert_many(&mut conn, &[event("a", 7), event("b", 7)])
        .await
        .unwrap();
    inbox::insert_many(&mut conn, &[event("c", 8)])
        .await
        .unwrap();
    let claimed = inbox::claim(&mut conn, Duration::from_secs(60), 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let first = &claimed[0];
    assert_eq!(
        first.dedupe_key, "b",
        "newest first among events due together"
    );
    let fetched = clock(&mut conn).await;
    assert_eq!(
        inbox::apply(&mut conn, first, fetched).await.unwrap(),
        Applied::Recorded { ours: true }
    );
    let by_key = |events: &[inbox::Event], key: &str| {
        events.iter().find(|e| e.dedupe_key == key).unwrap().clone()
    };
    let all = inbox::all(&mut conn).await.unwrap();
    assert_eq!(by_key(&all, "b").status, inbox::InboxStatus::Done);
    assert_eq!(
        by_key(&all, "a").status,
        inbox::InboxStatus::Done,
        "an earlier pending event of the object is settled by the fetch"
    );
    assert_eq!(by_key(&all, "c").status, inbox::InboxStatus::Pending);
    // Data fetched before that application is stale: nothing changes.
    let rest = inbox::claim(&mut conn, Duration::from_secs(60), 16)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    let mut stale = rest[0].clone();
    stale.object_id = 7;
    assert_eq!(
        inbox::apply(&mut conn, &stale, earlier).await.unwrap(),
        Applied::Stale
    );
    assert_eq!(
        by_key(&inbox::all(&mut conn).await.unwrap(), "c").status,
        inbox::InboxStatus::Processing
    );
    // Its own object, fetched now, applies.
    let now = clock(&mut conn).await;
    assert_eq!(
        inbox::apply(&mut conn, &rest[0], now).await.unwrap(),
        Applied::Recorded { ours: true }
    );
}

async fn clock(conn: &mut AsyncPgConnection) -> chrono::DateTime<Utc> {
    #[derive(diesel::QueryableByName)]
    struct Now {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        t: chrono::DateTime<Utc>,
    }
    diesel::sql_query("SELECT clock_timestamp() AS t")
        .get_result::<Now>(conn)
        .await
        .unwrap()
        .t
}

/// Demo client number `n`, who may hold as many copies as the tests make.
fn visitor(n: u8) -> db::demo::DemoClient {
    db::demo::DemoClient {
        key: vec![n],
        max_copies: 100,
    }
}

#[tokio::test]
async fn demo_copies_carry_every_column_get_fresh_ids_and_expire() {
    use db::demo::CopyOutcome;
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    let day = chrono::Duration::hours(24);
    assert_eq!(
        db::demo::create_copy(&mut conn, day, 10, &visitor(0))
            .await
            .unwrap(),
        CopyOutcome::NoTemplate
    );
    let n = db::demo::seed(&mut conn, Utc::now()).await.unwrap() as i64;
    let mut copies = Vec::new();
    for _ in 0..2 {
        let started = Instant::now();
        match db::demo::create_copy(&mut conn, day, 2, &visitor(0))
            .await
            .unwrap()
        {
            CopyOutcome::Created { athlete, .. } => copies.push(athlete),
            other => panic!("{other:?}"),
        }
        println!("demo copy of {n} activities: {:?}", started.elapsed());
    }
    assert_eq!(
        db::demo::create_copy(&mut conn, day, 2, &visitor(0))
            .await
            .unwrap(),
        CopyOutcome::Full
    );
    let template = demo::DEMO_ATHLETE_ID.get();
    for copy in &copies {
        let c = copy.get();
        assert!(c < 0, "copies have ids Strava never uses");
        // Every column but the ids equals the template's, whatever columns exist.
        let differing = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM ( \
                   (SELECT to_jsonb(a) - 'id' - 'athlete_id' FROM activities a WHERE athlete_id = {template} \
                    EXCEPT ALL \
                    SELECT to_jsonb(a) - 'id' - 'athlete_id' FROM activities a WHERE athlete_id = {c}) \
                   UNION ALL \
                   (SELECT to_jsonb(a) - 'id' - 'athlete_id' FROM activities a WHERE athlete_id = {c} \
                    EXCEPT ALL \
                    SELECT to_jsonb(a) - 'id' - 'athlete_id' FROM activities a WHERE athlete_id = {template})) d"
            ),
        )
        .await;
        assert_eq!(differing, 0);
        assert_eq!(
            count(
                &mut conn,
                &format!("SELECT count(*) AS n FROM activities WHERE athlete_id = {c} AND id < 0")
            )
            .await,
            n
        );
        // Gear and best efforts come along, the efforts following their activities.
        for (table, join) in [
            ("gear", "true"),
            (
                "best_efforts",
                "EXISTS (SELECT 1 FROM activities a WHERE a.athlete_id = t.athlete_id AND a.id = t.activity_id)",
            ),
        ] {
            let of = |athlete: i64| {
                format!(
                    "SELECT count(*) AS n FROM {table} t WHERE athlete_id = {athlete} AND {join}"
                )
            };
            let template_n = count(&mut conn, &of(template)).await;
            assert!(template_n > 0, "{table}");
            assert_eq!(count(&mut conn, &of(c)).await, template_n, "{table}");
        }
        let row = athletes::find(&mut conn, *copy).await.unwrap().unwrap();
        assert!(row.is_demo && row.demo_expires_at.is_some());
        assert_eq!(row.timezone.as_deref(), Some(demo::DEMO_TIMEZONE));
    }

    // Upkeep deletes the expired copy with everything of it, nothing else.
    let (gone, kept) = (copies[0].get(), copies[1].get());
    for sql in [
        format!(
            "UPDATE athletes SET demo_expires_at = now() - interval '1 minute' WHERE id = {gone}"
        ),
        format!("INSERT INTO conversations (id, athlete_id) VALUES (gen_random_uuid(), {gone})"),
        format!(
            "INSERT INTO app_sessions (id, athlete_id, expires_at) VALUES (gen_random_uuid(), {gone}, now())"
        ),
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    assert_eq!(
        db::demo::delete_expired_copies(&mut conn, Utc::now())
            .await
            .unwrap(),
        1
    );
    for (table, column) in [
        ("athletes", "id"),
        ("activities", "athlete_id"),
        ("conversations", "athlete_id"),
        ("app_sessions", "athlete_id"),
    ] {
        let sql = format!("SELECT count(*) AS n FROM {table} WHERE {column} = {gone}");
        assert_eq!(count(&mut conn, &sql).await, 0, "{table}");
    }
    let kept_rows = format!("SELECT count(*) AS n FROM activities WHERE athlete_id = {kept}");
    assert_eq!(count(&mut conn, &kept_rows).await, n);
    let template_rows =
        format!("SELECT count(*) AS n FROM activities WHERE athlete_id = {template}");
    assert_eq!(count(&mut conn, &template_rows).await, n);
    // Room for a new visitor again.
    assert!(matches!(
        db::demo::create_copy(&mut conn, day, 2, &visitor(0))
            .await
            .unwrap(),
        CopyOutcome::Created { .. }
    ));
}

#[tokio::test]
async fn one_client_holds_its_share_of_demo_copies_and_a_full_demo_recycles_idle_ones() {
    use db::demo::CopyOutcome;
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    let day = chrono::Duration::hours(24);
    db::demo::seed(&mut conn, Utc::now()).await.unwrap();
    let make = async |conn: &mut AsyncPgConnection, client: u8, max: i64| {
        let client = db::demo::DemoClient {
            key: vec![client],
            max_copies: 2,
        };
        db::demo::create_copy(conn, day, max, &client)
            .await
            .unwrap()
    };
    let id = |outcome: CopyOutcome| match outcome {
        CopyOutcome::Created { athlete, .. } => athlete.get(),
        other => panic!("{other:?}"),
    };
    let copies_of = async |conn: &mut AsyncPgConnection| {
        count(
            conn,
            "SELECT count(*) AS n FROM athletes WHERE demo_expires_at IS NOT NULL",
        )
        .await
    };
    // Client 1 asks three times: it keeps its two newest copies.
    let first = id(make(&mut conn, 1, 3).await);
    let second = id(make(&mut conn, 1, 3).await);
    let third = id(make(&mut conn, 1, 3).await);
    let alive = |a: i64| format!("SELECT count(*) AS n FROM athletes WHERE id = {a}");
    assert_eq!(
        count(&mut conn, &alive(first)).await,
        0,
        "its oldest gave way"
    );
    assert_eq!(count(&mut conn, &alive(second)).await, 1);
    assert_eq!(count(&mut conn, &alive(third)).await, 1);
    // The demo holds three: a second client fills it, a third finds every copy in use.
    id(make(&mut conn, 2, 3).await);
    assert_eq!(make(&mut conn, 3, 3).await, CopyOutcome::Full);
    // Once a copy has gone unused for a while, it makes room; one whose session was
    // just used does not, however old.
    diesel::sql_query(format!(
        "UPDATE athletes SET created_at = now() - interval '1 hour' WHERE id IN ({second}, {third})"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO app_sessions (id, athlete_id, expires_at) \
         VALUES (gen_random_uuid(), {second}, now() + interval '1 day')"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    id(make(&mut conn, 3, 3).await);
    assert_eq!(
        count(&mut conn, &alive(third)).await,
        0,
        "the idle copy was recycled"
    );
    assert_eq!(
        count(&mut conn, &alive(second)).await,
        1,
        "the one in use stays"
    );
    assert_eq!(copies_of(&mut conn).await, 3);
}

mod tls;

#[path = "suites/model_sandbox.rs"]
mod model_sandbox;

#[tokio::test]
async fn an_exchange_creates_its_conversation_and_never_lands_in_another_athletes() {
    use db::chats::{self, Opened, Role};
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    athletes::upsert(&mut conn, &athlete(301)).await.unwrap();
    athletes::upsert(&mut conn, &athlete(302)).await.unwrap();
    let id = uuid::Uuid::new_v4();
    assert_eq!(
        chats::open(&conn, id, AthleteId(301)).await.unwrap(),
        Opened::New
    );

    let plan = serde_json::json!({ "metric": "count" });
    let first = serde_json::json!({ "text": "12 runs" });
    let stored =
        chats::append_exchange(&mut conn, id, AthleteId(301), "runs?", &first, Some(&plan))
            .await
            .unwrap();
    assert!(stored);
    assert_eq!(
        chats::open(&conn, id, AthleteId(301)).await.unwrap(),
        Opened::Existing {
            plan: Some(plan.clone())
        }
    );
    // The latest answer decides: one without a plan leaves nothing to build on.
    let second = serde_json::json!({ "text": "I can't answer that" });
    assert!(
        chats::append_exchange(
            &mut conn,
            id,
            AthleteId(301),
            "and kudos givers?",
            &second,
            None
        )
        .await
        .unwrap()
    );
    assert_eq!(
        chats::open(&conn, id, AthleteId(301)).await.unwrap(),
        Opened::Existing { plan: None }
    );
    let messages = chats::messages(&mut conn, id).await.unwrap();
    let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::Assistant]
    );
    assert_eq!(messages[0].content, "runs?");
    assert_eq!(messages[1].content, "12 runs");
    let title = chats::find(&mut conn, id).await.unwrap().unwrap().title;
    assert_eq!(title, "runs?");

    // Another athlete can neither read nor write it.
    assert_eq!(
        chats::open(&conn, id, AthleteId(302)).await.unwrap(),
        Opened::NotTheirs
    );
    let stored = chats::append_exchange(&mut conn, id, AthleteId(302), "mine?", &first, None)
        .await
        .unwrap();
    assert!(!stored);
    assert_eq!(chats::messages(&mut conn, id).await.unwrap().len(), 4);
}
