//! The upkeep sweep prunes what nothing reads any more: finished jobs past retention,
//! stale sessions and spent login tickets; it leaves live ones alone.

use crate::sync_support::{Harness, wait_until};
use chrono::Utc;
use diesel_async::RunQueryDsl;
use std::time::Duration;

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(h: &Harness, sql: &str) -> i64 {
    let mut conn = h.db.pool().get().await.unwrap();
    diesel::sql_query(format!("SELECT count(*) AS n FROM {sql}"))
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}

#[tokio::test]
async fn upkeep_prunes_finished_jobs_stale_sessions_and_spent_tickets_only() {
    let h = Harness::plain(&[("UPKEEP_INTERVAL_SECS", "1")]).await;
    let mut conn = h.db.pool().get().await.unwrap();
    db::demo::seed(&mut conn, Utc::now()).await.unwrap();
    let athlete = demo::DEMO_ATHLETE_ID;
    let live_session =
        db::sessions::create(&mut conn, athlete, Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap();
    let stale_session =
        db::sessions::create(&mut conn, athlete, Utc::now() - chrono::Duration::days(8))
            .await
            .unwrap();
    db::tickets::create(
        &mut conn,
        athlete,
        Duration::from_secs(300),
        &db::tickets::binding_of("a-browser"),
    )
    .await
    .unwrap();
    drop(conn);
    h.exec(&format!(
        "INSERT INTO login_tickets (ticket_hash, athlete_id, expires_at) \
         VALUES ('\\x00'::bytea, {id}, now() - interval '2 days')",
        id = athlete.get()
    ))
    .await;
    // Old done and failed jobs go; an old queued job and a recent done one stay.
    h.exec(
        "INSERT INTO jobs (kind, payload, state, run_after, updated_at) VALUES \
         ('backfill', '{\"athlete_id\": 1}', 'done', now() + interval '1 year', now() - interval '30 days'), \
         ('refresh', '{\"athlete_id\": 1}', 'failed', now() + interval '1 year', now() - interval '30 days'), \
         ('refresh', '{\"athlete_id\": 2}', 'queued', now() + interval '1 year', now() - interval '30 days'), \
         ('backfill', '{\"athlete_id\": 2}', 'done', now() + interval '1 year', now())",
    )
    .await;

    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(20), || async {
            count(&h, "jobs").await == 2 && count(&h, "login_tickets").await == 1
        })
        .await,
        "jobs left: {}, tickets left: {}",
        count(&h, "jobs").await,
        count(&h, "login_tickets").await
    );
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        count(
            &h,
            "jobs WHERE state = 'queued' OR updated_at > now() - interval '1 day'"
        )
        .await,
        2
    );
    assert_eq!(
        count(
            &h,
            &format!("app_sessions WHERE id = '{}'", live_session.id)
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &h,
            &format!("app_sessions WHERE id = '{}'", stale_session.id)
        )
        .await,
        0
    );
}

#[tokio::test]
async fn upkeep_prunes_events_applied_a_day_ago_and_never_one_not_yet_applied() {
    let h = Harness::plain(&[("UPKEEP_INTERVAL_SECS", "1"), ("WORKER_COUNT", "1")]).await;
    // Far-future attempts, so the worker leaves the pending one alone.
    h.exec(
        "INSERT INTO webhook_events (dedupe_key, subscription_id, object_type, object_id, \
             aspect_type, owner_id, event_time, status, next_attempt_at, received_at, processed_at) VALUES \
         ('old-done', 1, 'activity', 1, 'create', 1, 0, 'done', now(), now() - interval '3 days', now() - interval '2 days'), \
         ('old-ignored', 1, 'activity', 2, 'create', 1, 0, 'ignored', now(), now() - interval '3 days', now() - interval '25 hours'), \
         ('recent-done', 1, 'activity', 3, 'create', 1, 0, 'done', now(), now() - interval '2 hours', now() - interval '1 hour'), \
         ('old-failed', 1, 'activity', 4, 'create', 1, 0, 'failed', now(), now() - interval '9 days', now() - interval '8 days'), \
         ('old-pending', 1, 'activity', 5, 'create', 1, 0, 'pending', now() + interval '1 year', now() - interval '9 days', NULL)",
    )
    .await;
    h.exec(
        "INSERT INTO webhook_objects (object_type, object_id, applied_at) VALUES \
         ('activity', 1, now() - interval '2 days'), ('activity', 3, now() - interval '1 hour')",
    )
    .await;
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(20), || async {
            count(&h, "webhook_events").await == 3
        })
        .await,
        "events left: {}",
        count(&h, "webhook_events").await
    );
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        count(
            &h,
            "webhook_events WHERE dedupe_key IN ('recent-done', 'old-failed', 'old-pending')"
        )
        .await,
        3,
        "a recent applied event, a failed one and one never applied stay"
    );
    assert_eq!(
        count(&h, "webhook_objects WHERE object_id = 3").await,
        1,
        "a recent mark stays"
    );
    assert_eq!(count(&h, "webhook_objects").await, 1);
}
