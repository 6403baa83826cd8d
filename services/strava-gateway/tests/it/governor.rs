//! The shared rate-limit governor: stops before Strava's limits, holds every replica
//! after a 429, waits for a close reset, and can be switched off.

use super::sync_support::Harness;
use chrono::{DateTime, Duration as Delta, Utc};
use db::ratelimit::{Budget, HeaderReading, next_midnight, next_quarter, quarter_start};
use domain::Secret;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use strava_fake::{FakeConfig, RateLimits};
use strava_gateway::strava::{Clock, Governor, StravaClient, StravaError};

/// A clock the test moves by hand (millisecond resolution).
fn manual_clock(start: DateTime<Utc>) -> (Clock, Arc<AtomicI64>) {
    let millis = Arc::new(AtomicI64::new(start.timestamp_millis()));
    let m = millis.clone();
    let clock: Clock = Arc::new(move || {
        DateTime::from_timestamp_millis(m.load(Ordering::SeqCst)).expect("in range")
    });
    (clock, millis)
}

fn client(h: &Harness, clock: Clock, enabled: bool, max_wait: Duration) -> StravaClient {
    let governor = Governor::new(h.db.pool().clone(), enabled, max_wait).with_clock(clock);
    StravaClient::with_governor(&h.settings.strava, governor)
}

async fn token(h: &Harness) -> Secret<String> {
    let athlete = h.connect("Budget").await;
    let mut conn = h.db.pool().get().await.unwrap();
    db::tokens::load(&mut conn, &h.settings.token_cipher, athlete, false)
        .await
        .unwrap()
        .unwrap()
        .access_token
}

#[tokio::test(flavor = "multi_thread")]
async fn stops_short_of_the_read_limit_for_every_replica_until_the_window_resets() {
    let limits = RateLimits {
        overall_15min: 50,
        overall_daily: 1000,
        read_15min: 5,
        read_daily: 1000,
    };
    let h = Harness::new(
        FakeConfig {
            rate_limits: Some(limits),
            ..FakeConfig::default()
        },
        &[],
    )
    .await;
    // Mid-quarter, on both clocks, so no window rolls over by accident.
    let t = quarter_start(Utc::now()) + Delta::seconds(450);
    h.fake.set_now(Some(t)).unwrap();
    let access = token(&h).await;
    let (clock, millis) = manual_clock(t);
    let one = client(&h, clock.clone(), true, Duration::ZERO);
    let other_replica = client(&h, clock, true, Duration::ZERO);

    // Limit 5 with a margin of 1: four reads go out, the fifth is held back here.
    for _ in 0..4 {
        one.list_activities(&access, 1, 30, None, None)
            .await
            .unwrap();
    }
    let refused = one
        .list_activities(&access, 1, 30, None, None)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        StravaError::RateLimited {
            until: next_quarter(t)
        }
    );
    assert_eq!(
        other_replica.athlete(&access).await.unwrap_err(),
        refused,
        "one budget for all replicas"
    );
    assert_eq!(
        h.fake.rate_usage().read_15min,
        4,
        "Strava never saw the rest"
    );
    assert_eq!(h.fake.rate_usage().overall_15min, 4);

    // Stored figures follow Strava's headers.
    let snap = one.governor().snapshot().await.unwrap();
    assert_eq!(snap.usage.read_15min, 4);
    assert_eq!(snap.limits.read_15min, 5);
    assert_eq!(snap.limits.overall_15min, 50);

    // The next quarter hour starts a new window; the limits learnt carry over.
    let later = next_quarter(t) + Delta::seconds(30);
    h.fake.set_now(Some(later)).unwrap();
    millis.store(later.timestamp_millis(), Ordering::SeqCst);
    other_replica.athlete(&access).await.unwrap();
    let snap = one.governor().snapshot().await.unwrap();
    assert_eq!(snap.usage.read_15min, 1);
    assert_eq!(snap.usage.read_daily, 5);
    assert_eq!(snap.limits.read_15min, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_holds_everyone_until_the_next_quarter_hour() {
    let h = Harness::plain(&[]).await;
    let access = token(&h).await;
    let t = quarter_start(Utc::now()) + Delta::seconds(100);
    let (clock, _) = manual_clock(t);
    let client = client(&h, clock, true, Duration::ZERO);
    h.fake.fail_next_matching(1, Some("/api/v3/athlete"), 429);
    let until = StravaError::RateLimited {
        until: next_quarter(t),
    };
    assert_eq!(client.athlete(&access).await.unwrap_err(), until);
    let seen = h.fake.request_count();
    assert_eq!(
        client
            .get_activity(&access, domain::ActivityId(1))
            .await
            .unwrap_err(),
        until
    );
    assert_eq!(h.fake.request_count(), seen, "held back, not sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn waits_for_a_close_reset_and_postpones_a_far_one() {
    let h = Harness::plain(&[]).await;
    let pool = h.db.pool().clone();
    let spent = HeaderReading {
        overall_usage: Some([200, 300]),
        overall_limit: Some([200, 2000]),
        read_usage: Some([100, 300]),
        read_limit: Some([100, 1000]),
    };

    // 1.5 s before a quarter hour (room for a slow database under load), following
    // real time from there.
    let offset = {
        let now = Utc::now();
        next_quarter(now) - Delta::milliseconds(1500) - now
    };
    let clock: Clock = Arc::new(move || Utc::now() + offset);
    let start = clock();
    {
        let mut conn = pool.get().await.unwrap();
        db::ratelimit::observe(&mut conn, start, &spent)
            .await
            .unwrap();
    }
    let impatient = Governor::new(pool.clone(), true, Duration::ZERO).with_clock(clock.clone());
    assert_eq!(
        impatient.admit(true).await.unwrap_err(),
        StravaError::RateLimited {
            until: next_quarter(start)
        }
    );
    let patient = Governor::new(pool.clone(), true, Duration::from_secs(5)).with_clock(clock);
    let began = Instant::now();
    let at = patient.admit(true).await.unwrap();
    assert!(at >= next_quarter(start), "{at} vs {start}");
    assert!(began.elapsed() >= Duration::from_millis(500));

    // A spent daily budget postpones until midnight UTC, however patient. (A quarter
    // hour the part above did not touch.)
    let t = quarter_start(Utc::now()) + Delta::minutes(30) + Delta::seconds(60);
    let daily = HeaderReading {
        overall_usage: Some([3, 1500]),
        overall_limit: Some([200, 2000]),
        read_usage: Some([3, 1000]),
        read_limit: Some([100, 1000]),
    };
    {
        let mut conn = pool.get().await.unwrap();
        db::ratelimit::observe(&mut conn, t, &daily).await.unwrap();
    }
    let (clock, _) = manual_clock(t);
    let governor = Governor::new(pool.clone(), true, Duration::from_secs(5)).with_clock(clock);
    assert_eq!(
        governor.admit(true).await.unwrap_err(),
        StravaError::RateLimited {
            until: next_midnight(t)
        }
    );
    // Writes only spend the overall budget, which has room.
    governor.admit(false).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn switched_off_it_neither_counts_nor_refuses() {
    let h = Harness::plain(&[("STRAVA_RATE_LIMITS", "false")]).await;
    assert!(!h.settings.strava.rate_limits);
    let access = token(&h).await;
    let client = StravaClient::new(&h.settings.strava, h.db.pool().clone());
    let mut conn = h.db.pool().get().await.unwrap();
    let now = Utc::now();
    let spent = HeaderReading {
        overall_usage: Some([500, 500]),
        overall_limit: Some([200, 2000]),
        ..HeaderReading::default()
    };
    db::ratelimit::observe(&mut conn, now, &spent)
        .await
        .unwrap();
    for _ in 0..3 {
        client.athlete(&access).await.unwrap();
    }
    let snap = db::ratelimit::snapshot(&mut conn, now, Budget::STRAVA_DEFAULT)
        .await
        .unwrap();
    assert_eq!(snap.usage.overall_15min, 500, "nothing counted");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_replicas_never_overspend_the_shared_budget() {
    let h = Harness::plain(&[]).await;
    let t = quarter_start(Utc::now()) + Delta::seconds(200);
    let (clock, _) = manual_clock(t);
    // Limits not yet learnt from Strava: the fallback applies (10 reads, margin 1).
    let fallback = Budget {
        read_15min: 10,
        ..Budget::STRAVA_DEFAULT
    };
    let calls = (0..30).map(|_| {
        let governor = Governor::new(h.db.pool().clone(), true, Duration::ZERO)
            .with_clock(clock.clone())
            .with_fallback(fallback);
        tokio::spawn(async move { governor.admit(true).await })
    });
    let mut granted = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => granted += 1,
            Err(e) => assert_eq!(
                e,
                StravaError::RateLimited {
                    until: next_quarter(t)
                }
            ),
        }
    }
    assert_eq!(granted, 9);
}
