//! The model sandbox on its own: hostile SQL run as the model role directly, without
//! the guard in front, and generated queries capped in bytes by the database.

use super::{activity, athlete, count, rows};
use db::questions::{self, GENERATED_ROW_CAP, RowCaps};
use db::{activities, athletes, chats, sandbox};
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use std::time::Duration;
use testkit::TestDb;

/// The answer table's limits, as talk-app passes them.
const CELL_CHARS: usize = 200;
const TABLE_BYTES: usize = 256 * 1024;
const CAPS: RowCaps = RowCaps {
    cell_chars: CELL_CHARS,
    table_bytes: TABLE_BYTES,
};

const ME: AthleteId = AthleteId(101);
const THEM: AthleteId = AthleteId(202);
/// Words only the other athlete's rows hold; no answer for ME may contain them.
const CANARIES: &[&str] = &["canary-activity", "canary-message", "CanaryFirst"];

fn corpus() -> Vec<&'static str> {
    include_str!("../hostile_sql.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Two athletes; the other one's activity, name and conversation carry canaries.
async fn seed(conn: &mut AsyncPgConnection) {
    athletes::upsert(conn, &athlete(ME.get())).await.unwrap();
    let mut them = athlete(THEM.get());
    them.firstname = "CanaryFirst".into();
    athletes::upsert(conn, &them).await.unwrap();
    let mine: Vec<_> = (0..3)
        .map(|i| activity(ME.get(), 1000 + i, "Run", "2026-11-02T07:10:00"))
        .collect();
    let mut theirs = activity(THEM.get(), 2000, "Ride", "2026-11-03T18:00:00");
    theirs.name = "canary-activity".into();
    activities::upsert_many(conn, &rows(&mine)).await.unwrap();
    activities::upsert_many(conn, &rows(&[theirs]))
        .await
        .unwrap();
    let answer = serde_json::json!({ "text": "canary-message" });
    let stored = chats::append_exchange(
        conn,
        uuid::Uuid::new_v4(),
        THEM,
        "canary-message",
        &answer,
        None,
    )
    .await
    .unwrap();
    assert!(stored);
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct SessionState {
    #[diesel(sql_type = Text)]
    who: String,
    #[diesel(sql_type = Text)]
    scope: String,
    #[diesel(sql_type = Text)]
    search_path: String,
    #[diesel(sql_type = Text)]
    read_only: String,
    #[diesel(sql_type = BigInt)]
    advisory_locks: i64,
}

/// What a pooled connection carries from one use to the next.
async fn session_state(conn: &mut AsyncPgConnection) -> SessionState {
    diesel::sql_query(
        "SELECT current_user::text AS who, \
                coalesce(current_setting('stravatalk.model_scope', true), '') AS scope, \
                current_setting('search_path') AS search_path, \
                current_setting('default_transaction_read_only') AS read_only, \
                (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory') \
                    AS advisory_locks",
    )
    .get_result(conn)
    .await
    .unwrap()
}

async fn as_model(
    conn: &mut AsyncPgConnection,
    sql: &str,
    timeout: Duration,
) -> Result<Option<String>, String> {
    sandbox::run_as_model(conn, ME, sql, timeout)
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn hostile_sql_run_as_the_model_role_without_the_guard_reaches_nothing() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    seed(&mut conn).await;
    let before = session_state(&mut conn).await;
    let timeout = Duration::from_secs(2);

    for sql in corpus() {
        // Each query both as the statement itself and as a subquery of the kind the
        // application wraps generated SQL in.
        let wrapped = format!("SELECT coalesce(json_agg(g), '[]')::text FROM ({sql}) AS g");
        for run in [sql.to_owned(), wrapped] {
            if let Ok(Some(out)) = as_model(&mut conn, &run, timeout).await {
                for canary in CANARIES {
                    assert!(!out.contains(canary), "{run} revealed {canary}: {out}");
                }
            }
            assert_eq!(session_state(&mut conn).await, before, "{run} left a trace");
        }
    }

    // The view shows ME's rows only, however the query asks.
    for (sql, expected) in [
        ("SELECT count(*)::text FROM activities", "3"),
        (
            "SELECT count(*)::text FROM activities WHERE athlete_id = 202",
            "0",
        ),
        (
            "SELECT count(*)::text FROM activities a JOIN activities b ON b.athlete_id <> a.athlete_id",
            "0",
        ),
    ] {
        assert_eq!(
            as_model(&mut conn, sql, timeout).await,
            Ok(Some(expected.into())),
            "{sql}"
        );
    }

    // No climbing back to the login role, whichever way it is asked for.
    for sql in [
        "SELECT set_config('role', 'none', true)",
        "SELECT set_config('session_authorization', 'postgres', true)",
        "SET ROLE postgres",
        "RESET ROLE",
    ] {
        let err = as_model(&mut conn, sql, timeout).await.unwrap_err();
        assert!(err.contains("security-definer"), "{sql}: {err}");
    }
    // Other tables and the base table: no privilege at all.
    for sql in [
        "SELECT count(*)::text FROM public.activities",
        "SELECT count(*)::text FROM public.messages",
        "SELECT count(*)::text FROM public.strava_tokens",
        "SELECT count(*)::text FROM public.athletes",
        "SELECT count(*)::text FROM stravatalk_model.scope_key",
        "SELECT stravatalk_model.scope_token(202)",
        "DELETE FROM activities",
    ] {
        let err = as_model(&mut conn, sql, timeout).await.unwrap_err();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    // The scope cannot be forged from inside: a token for another athlete fails.
    let forge = format!(
        "SELECT (SELECT string_agg(name, ',') FROM activities WHERE s.x IS NOT NULL) \
         FROM (SELECT set_config('stravatalk.model_scope', '202:{}', true) AS x) AS s",
        "0".repeat(64)
    );
    let err = as_model(&mut conn, &forge, timeout).await.unwrap_err();
    assert!(err.contains("model scope is not valid"), "{err}");
    // Nor by replaying this transaction's own hash under another athlete's id.
    let replay = "SELECT (SELECT string_agg(name, ',') FROM activities WHERE s.x IS NOT NULL) \
         FROM (SELECT set_config('stravatalk.model_scope', \
               '202:' || split_part(current_setting('stravatalk.model_scope'), ':', 2), true) AS x) AS s";
    let err = as_model(&mut conn, replay, timeout).await.unwrap_err();
    assert!(err.contains("model scope is not valid"), "{err}");
    // A token is worth nothing outside its own transaction.
    let err = diesel::sql_query("SELECT * FROM stravatalk_model.activities")
        .execute(&mut conn)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no model scope"), "{err}");

    // The timeout holds even when the query turns it off for itself.
    let err = as_model(
        &mut conn,
        "SELECT set_config('statement_timeout', '0', true) || pg_sleep(3)::text",
        Duration::from_millis(300),
    )
    .await
    .unwrap_err();
    assert!(err.contains("statement timeout"), "{err}");

    // Settings changed for the whole session and advisory locks are undone.
    for sql in [
        "SELECT set_config('search_path', 'stravatalk_model', false)",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT pg_advisory_lock(42)::text",
    ] {
        as_model(&mut conn, sql, timeout).await.unwrap();
        assert_eq!(session_state(&mut conn).await, before, "{sql}");
    }
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM activities").await,
        4,
        "nothing was changed"
    );
}

/// ~200 rows of ~600 KB each (8 columns of 75 KB), from functions the guard allows.
const OVERSIZED: &str = "SELECT n, b AS c1, b AS c2, b AS c3, b AS c4, b AS c5, b AS c6, b AS c7, b AS c8 \
     FROM generate_series(1, 250) AS n, \
          (SELECT string_agg('0123456789', '') AS b FROM generate_series(1, 7500)) AS big";

#[tokio::test]
async fn generated_queries_are_capped_in_rows_and_bytes_by_the_database() {
    let test = TestDb::new().await;
    let mut conn = test.conn().await;
    seed(&mut conn).await;
    let checked = db::guard::check(OVERSIZED).expect("the oversized query is allowed SQL");

    let uncapped = count(
        &mut conn,
        &format!(
            "SELECT sum(octet_length(row_to_json(g)::text))::bigint AS n \
             FROM (SELECT * FROM ({checked}) AS x LIMIT {}) AS g",
            GENERATED_ROW_CAP + 1
        ),
    )
    .await;
    let wrapped = questions::wrap_generated(&checked, CAPS);
    let started = std::time::Instant::now();
    let text = sandbox::run_as_model(&mut conn, ME, &wrapped, Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let took = started.elapsed();
    println!(
        "oversized generated query: {} rows × {} KB uncapped = {:.1} MB; the database returned {:.1} KB in {took:.2?}",
        GENERATED_ROW_CAP + 1,
        uncapped / (GENERATED_ROW_CAP as i64 + 1) / 1024,
        uncapped as f64 / 1e6,
        text.len() as f64 / 1024.0
    );
    assert!(uncapped > 100_000_000);
    assert!(text.len() < TABLE_BYTES + 1024, "{} bytes", text.len());

    let result = questions::run_generated(&mut conn, ME, &checked, CAPS, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(result.fetched, GENERATED_ROW_CAP + 1);
    assert!(result.more_than_cap());
    assert!(!result.rows.is_empty());
    assert!(
        result.dropped_for_size() > 0,
        "{} rows kept",
        result.rows.len()
    );
    assert_eq!(result.cut_cells, result.rows.len() * 8);
    let first = &result.rows[0];
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["n", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"],
        "columns keep their order"
    );
    assert_eq!(first["n"], 1);
    let cell = first["c1"].as_str().unwrap();
    assert_eq!(cell.chars().count(), CELL_CHARS);
    assert!(cell.ends_with('…'));

    // Small results come back whole.
    let small = questions::run_generated(
        &mut conn,
        ME,
        "SELECT name, distance_m FROM activities ORDER BY id",
        CAPS,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(small.fetched, 3);
    assert_eq!(small.cut_cells, 0);
    assert_eq!(small.dropped_for_size(), 0);
    assert_eq!(small.rows[0]["name"], "Run 1000");
}
