//! The details job: DetailedActivity (best efforts, calories, device) and gear names for
//! a backfilled history, newest first, within its share of Strava's read budget.

use crate::backfill::job;
use crate::sync_support::{Harness, wait_until};
use db::jobs::JobState;
use diesel_async::RunQueryDsl;
use domain::{ActivityId, AthleteId};
use std::time::Duration;
use strava_fake::{FakeConfig, RateLimits};
use strava_gateway::worker::{READ_SHARE_PERCENT, backfill_job};

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Effort {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    activity_id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    elapsed_time_s: i32,
}

async fn efforts(h: &Harness, athlete: AthleteId) -> Vec<Effort> {
    let mut conn = h.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "SELECT activity_id, name, elapsed_time_s FROM best_efforts \
         WHERE athlete_id = {} ORDER BY activity_id, distance_m",
        athlete.get()
    ))
    .load(&mut conn)
    .await
    .unwrap()
}

async fn detailed_ids(h: &Harness, athlete: AthleteId) -> Vec<i64> {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let mut conn = h.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "SELECT id FROM activities WHERE athlete_id = {} AND details_fetched_at IS NOT NULL \
         ORDER BY id",
        athlete.get()
    ))
    .load::<Id>(&mut conn)
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect()
}

fn reads(h: &Harness) -> usize {
    h.fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v3/"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn details_spend_only_their_share_of_the_read_budget_newest_first_then_finish() {
    // Strava's default read limits: 100 per 15 minutes, 1,000 a day.
    let h = Harness::new(
        FakeConfig {
            rate_limits: Some(RateLimits::default()),
            ..FakeConfig::default()
        },
        &[],
    )
    .await;
    let ada = h.connect("Ada").await;
    h.fake.generate_activities(ada, 60).unwrap();
    {
        let mut conn = h.db.pool().get().await.unwrap();
        db::jobs::enqueue(&mut conn, &backfill_job(ada))
            .await
            .unwrap();
    }
    let workers = h.start_workers();
    // The share is spent: the job waits for the next window, not having failed.
    let details = |h: &Harness| {
        let pool = h.db.pool().clone();
        async move {
            #[derive(diesel::QueryableByName)]
            struct JobId {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                id: i64,
            }
            let mut conn = pool.get().await.unwrap();
            diesel::sql_query("SELECT id FROM jobs WHERE kind = 'details' ORDER BY id DESC LIMIT 1")
                .load::<JobId>(&mut conn)
                .await
                .unwrap()
                .into_iter()
                .map(|j| j.id)
                .next()
        }
    };
    let postponed = wait_until(Duration::from_secs(60), || async {
        match details(&h).await {
            Some(id) => {
                let j = job(&h, id).await;
                j.state == JobState::Queued
                    && j.run_after > chrono::Utc::now() + chrono::Duration::seconds(5)
            }
            None => false,
        }
    })
    .await;
    let id = details(&h)
        .await
        .expect("the backfill queued the details job");
    assert!(postponed, "{:?}", job(&h, id).await);
    let j = job(&h, id).await;
    assert_eq!((j.attempts, j.last_error.as_deref()), (0, None), "{j:?}");
    // Every read this quarter hour, the backfill's and the connection's included,
    // stayed within the share (100 × 30%), leaving the rest to webhook events.
    let share = 100 * READ_SHARE_PERCENT as usize / 100;
    let spent = reads(&h);
    assert!(spent <= share, "{spent} reads, share {share}");
    let first = detailed_ids(&h, ada).await;
    println!(
        "first window: {spent} reads of 100 (share {share}), {} of 60 activities detailed",
        first.len()
    );
    assert!(first.len() >= share / 2, "{} detailed", first.len());
    // Newest first: the detailed ones are the most recent on Strava.
    let mut on_strava = h.fake.activities(ada);
    on_strava.sort_by_key(|a| std::cmp::Reverse((a.start_date, a.id)));
    let mut newest: Vec<i64> = on_strava[..first.len()]
        .iter()
        .map(|a| a.id.get())
        .collect();
    newest.sort_unstable();
    assert_eq!(first, newest);

    // A larger budget: the job resumes where it stopped and finishes.
    h.fake.set_rate_limits(Some(RateLimits {
        overall_15min: 10_000,
        overall_daily: 100_000,
        read_15min: 10_000,
        read_daily: 100_000,
    }));
    h.exec("DELETE FROM strava_rate_windows").await;
    h.exec(&format!(
        "UPDATE jobs SET run_after = now() WHERE id = {id}"
    ))
    .await;
    h.exec("NOTIFY stravatalk_jobs").await;
    assert!(
        wait_until(Duration::from_secs(60), || async {
            job(&h, id).await.state == JobState::Done
        })
        .await,
        "{:?}",
        job(&h, id).await
    );
    workers.shutdown(Duration::from_secs(5)).await;
    let all: Vec<i64> = {
        let mut ids: Vec<i64> = on_strava.iter().map(|a| a.id.get()).collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(detailed_ids(&h, ada).await, all);
    let asked: Vec<String> = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v3/activities/"))
        .map(|r| r.path.clone())
        .collect();
    let mut unique = asked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(asked.len(), unique.len(), "each activity fetched once");

    // Best efforts: for each run, Strava's standard distances it covers (computed here
    // from the distance alone), with times no faster than 2:00/km and no slower than
    // the run's own pace.
    let stored = efforts(&h, ada).await;
    for a in &on_strava {
        let mine: Vec<&Effort> = stored
            .iter()
            .filter(|e| e.activity_id == a.id.get())
            .collect();
        let want: Vec<&str> = if matches!(a.sport_type.as_str(), "Run" | "TrailRun") && !a.manual {
            [
                ("400m", 400.0),
                ("1/2 mile", 804.672),
                ("1k", 1000.0),
                ("1 mile", 1609.344),
                ("2 mile", 3218.688),
                ("5k", 5000.0),
                ("10k", 10000.0),
                ("15k", 15000.0),
                ("10 mile", 16093.44),
                ("20k", 20000.0),
                ("Half-Marathon", 21097.5),
                ("30k", 30000.0),
                ("Marathon", 42195.0),
                ("50k", 50000.0),
            ]
            .iter()
            .filter(|(_, d)| *d <= a.distance_m)
            .map(|(n, _)| *n)
            .collect()
        } else {
            Vec::new()
        };
        let names: Vec<&str> = mine.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            want,
            "activity {} ({})",
            a.id.get(),
            a.sport_type.as_str()
        );
        let pace = f64::from(a.elapsed_time_s) / a.distance_m;
        for e in &mine {
            let d = match e.name.as_str() {
                "1k" => 1000.0,
                "5k" => 5000.0,
                "10k" => 10000.0,
                _ => continue,
            };
            let t = f64::from(e.elapsed_time_s);
            assert!(
                t >= d * 0.12 && t <= d * pace + 1.0,
                "{e:?} in {}",
                a.id.get()
            );
        }
    }
    assert!(stored.iter().any(|e| e.name == "5k"));

    // Gear: the bikes and shoes Strava lists, and the retired boots from /gear/{id}.
    let mut conn = h.db.pool().get().await.unwrap();
    let gear = db::gear::list(&mut conn, ada).await.unwrap();
    let used: std::collections::BTreeSet<&str> = on_strava
        .iter()
        .filter_map(|a| a.gear_id.as_deref())
        .collect();
    let stored_ids: std::collections::BTreeSet<&str> = gear.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(stored_ids, used);
    for g in &gear {
        let want = demo::demo_gear()
            .into_iter()
            .find(|d| d.id == g.id)
            .unwrap();
        assert_eq!(
            (g.name.as_str(), g.retired),
            (want.name.as_str(), want.retired)
        );
        let km: f64 = on_strava
            .iter()
            .filter(|a| a.gear_id.as_deref() == Some(g.id.as_str()))
            .map(|a| a.distance_m)
            .sum();
        assert!((g.distance_m.unwrap() - km).abs() < 1e-6, "{g:?}");
    }
    if used.contains("g1002") {
        assert!(
            h.fake
                .requests()
                .iter()
                .any(|r| r.path == "/api/v3/gear/g1002"),
            "retired gear is looked up"
        );
    }
    // A device and calories from the details.
    let row = db::activities::find(&mut conn, ada, ActivityId(on_strava[0].id.get()))
        .await
        .unwrap()
        .unwrap();
    assert!(row.device_name.is_some() && row.details_fetched_at.is_some());
}
