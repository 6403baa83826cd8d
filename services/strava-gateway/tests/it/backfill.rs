//! Backfill (paging, rate limits, crash and resume), reconciliation and retention.

use crate::sync_support::{Harness, wait_until};
use db::jobs::JobState;
use db::sync::SyncState;
use diesel_async::RunQueryDsl;
use domain::AthleteId;
use std::time::Duration;
use strava_fake::{FakeConfig, RateLimits};
use strava_gateway::worker::backfill_job;

async fn queue(h: &Harness, job: &db::jobs::NewJob) -> i64 {
    let mut conn = h.db.pool().get().await.unwrap();
    db::jobs::enqueue(&mut conn, job)
        .await
        .unwrap()
        .expect("queued")
}

pub(crate) async fn job(h: &Harness, id: i64) -> db::jobs::Job {
    let mut conn = h.db.pool().get().await.unwrap();
    db::jobs::find(&mut conn, id).await.unwrap().unwrap()
}

async fn status(h: &Harness, athlete: AthleteId) -> Option<db::sync::SyncStatus> {
    let mut conn = h.db.pool().get().await.unwrap();
    db::sync::find(&mut conn, athlete).await.unwrap()
}

fn list_requests(h: &Harness) -> Vec<strava_fake::RecordedRequest> {
    h.fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/athlete/activities"))
        .collect()
}

fn page_of(r: &strava_fake::RecordedRequest) -> i32 {
    r.query
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|p| p.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn backfill_of_5000_with_short_pages_and_a_429_completes_with_correct_progress() {
    // Strava answers 429 after 8 reads; our own governor is off so the 429 is real.
    let h = Harness::new(
        FakeConfig {
            rate_limits: Some(RateLimits {
                read_15min: 8,
                ..RateLimits::default()
            }),
            ..FakeConfig::default()
        },
        &[("STRAVA_RATE_LIMITS", "false")],
    )
    .await;
    let ada = h.connect("Ada").await;
    h.fake.generate_activities(ada, 5000).unwrap();
    h.fake.set_short_pages(Some(150));
    let id = queue(&h, &backfill_job(ada)).await;
    let workers = h.start_workers();

    let postponed = wait_until(Duration::from_secs(60), || async {
        let j = job(&h, id).await;
        j.state == JobState::Queued
            && j.run_after > chrono::Utc::now() + chrono::Duration::seconds(5)
    })
    .await;
    assert!(
        postponed,
        "the 429 postpones the job: {:?}",
        job(&h, id).await
    );
    let j = job(&h, id).await;
    assert_eq!(j.attempts, 0, "waiting is not a failed attempt");
    assert!(j.last_error.is_none());
    let mid = status(&h, ada).await.unwrap();
    assert_eq!(mid.state, SyncState::Backfilling);
    assert!(
        mid.pages_fetched >= 1 && mid.activities_synced == mid.pages_fetched * 150,
        "{mid:?}"
    );
    assert_eq!(mid.estimated_total, None, "no guessed total mid-import");

    // The window reopens.
    h.fake.set_rate_limits(None);
    h.fake.reset_rate_usage();
    h.exec(&format!(
        "UPDATE jobs SET run_after = now() WHERE id = {id}"
    ))
    .await;
    h.exec("NOTIFY stravatalk_jobs").await;
    assert!(
        wait_until(Duration::from_secs(120), || async {
            job(&h, id).await.state == JobState::Done
        })
        .await,
        "{:?}",
        job(&h, id).await
    );
    let done = status(&h, ada).await.unwrap();
    let pages = (5000 + 149) / 150;
    assert_eq!(done.state, SyncState::Done);
    assert_eq!(
        (
            done.pages_fetched,
            done.activities_synced,
            done.estimated_total
        ),
        (pages, 5000, Some(5000))
    );
    assert_eq!(done.next_page, pages + 1);
    assert!(done.last_synced_at.is_some());
    assert_eq!(h.stored(ada).await, h.on_strava(ada));
    // Each page was asked for once after the 429 (the refused one again).
    let asked: Vec<i32> = list_requests(&h)
        .iter()
        .filter(|r| r.status == 200)
        .map(page_of)
        .collect();
    assert_eq!(asked, (1..=pages + 1).collect::<Vec<_>>());
    let mut conn = h.db.pool().get().await.unwrap();
    let profile = db::athletes::find(&mut conn, ada).await.unwrap().unwrap();
    assert!(
        profile.timezone.is_some(),
        "time zone taken from the newest activity"
    );
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backfill_killed_mid_way_resumes_from_its_cursor_without_duplicates() {
    let h = Harness::plain(&[("WORKER_LEASE_SECS", "2"), ("WORKER_COUNT", "1")]).await;
    let ada = h.connect("Ada").await;
    h.fake.generate_activities(ada, 5000).unwrap();
    h.fake.set_short_pages(Some(100));
    h.fake.delay_next(
        10_000,
        Duration::from_millis(40),
        Some("/api/v3/athlete/activities"),
    );
    let id = queue(&h, &backfill_job(ada)).await;
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            status(&h, ada).await.is_some_and(|s| s.pages_fetched >= 5)
        })
        .await
    );
    workers.abort();
    // Let a request in flight at the crash reach the fake before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let crashed = status(&h, ada).await.unwrap();
    assert_eq!(crashed.state, SyncState::Backfilling);
    assert_eq!(h.stored(ada).await.len() as i32, crashed.activities_synced);
    let before = list_requests(&h).len();
    assert_eq!(
        job(&h, id).await.state,
        JobState::Running,
        "the dead worker's lease still holds"
    );

    h.fake.clear_faults();
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            job(&h, id).await.state == JobState::Done
        })
        .await,
        "{:?}",
        job(&h, id).await
    );
    let resumed = list_requests(&h);
    assert_eq!(
        page_of(&resumed[before]),
        crashed.next_page,
        "resumes at the cursor"
    );
    let done = status(&h, ada).await.unwrap();
    assert_eq!(
        (done.state, done.pages_fetched, done.activities_synced),
        (SyncState::Done, 50, 5000)
    );
    assert_eq!(h.stored(ada).await, h.on_strava(ada));
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_drops_rows_strava_no_longer_lists_and_retention_refreshes_or_drops_old_rows() {
    let h = Harness::plain(&[("UPKEEP_INTERVAL_SECS", "1"), ("RECONCILE_DAYS", "30")]).await;
    let ada = h.connect("Ada").await;
    let ids = h.fake.generate_activities(ada, 400).unwrap();
    let id = queue(&h, &backfill_job(ada)).await;
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            job(&h, id).await.state == JobState::Done
        })
        .await
    );
    assert_eq!(h.stored(ada).await.len(), 400);

    // Deleted on Strava while no webhook reached us: one recent, one old.
    let mut by_date = h.fake.activities(ada);
    by_date.sort_by_key(|a| a.start_date);
    let newest = by_date.last().unwrap().id;
    let oldest = by_date[0].id;
    assert!(ids.contains(&newest) && ids.contains(&oldest));
    h.fake.delete_activity(newest).unwrap();
    h.fake.delete_activity(oldest).unwrap();
    // The upkeep sweep queues the daily reconcile (the backfill just finished).
    assert!(
        wait_until(Duration::from_secs(30), || async {
            let stored = h.stored(ada).await;
            stored.len() == 399 && stored.iter().all(|(i, _)| *i != newest.get())
        })
        .await,
        "reconcile removed the recent deletion only"
    );
    assert!(h.stored(ada).await.iter().any(|(i, _)| *i == oldest.get()));

    // Rows nearing the 7-day limit get a full refresh, which also finds the old deletion.
    h.exec("UPDATE activities SET fetched_at = now() - interval '6 days 12 hours'")
        .await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            h.stored(ada).await == h.on_strava(ada)
        })
        .await,
        "refresh brought every row in line"
    );
    #[derive(diesel::QueryableByName)]
    struct Oldest {
        #[diesel(sql_type = diesel::sql_types::Double)]
        age_days: f64,
    }
    let mut conn = h.db.pool().get().await.unwrap();
    let age: Oldest = diesel::sql_query(
        "SELECT coalesce(extract(epoch FROM now() - min(fetched_at)) / 86400, 0)::float8 AS age_days FROM activities",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(age.age_days < 1.0, "every row refreshed: {}", age.age_days);

    // An athlete who cannot be refreshed (no tokens) loses rows past the limit.
    h.exec("DELETE FROM strava_tokens").await;
    h.exec("UPDATE activities SET fetched_at = now() - interval '8 days' WHERE id IN (SELECT id FROM activities LIMIT 10)").await;
    assert!(
        wait_until(Duration::from_secs(30), || async {
            h.stored(ada).await.len() == 388
        })
        .await,
        "rows past the limit deleted: {}",
        h.stored(ada).await.len()
    );
    workers.shutdown(Duration::from_secs(5)).await;
}
