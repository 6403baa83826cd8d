//! Workers applying webhook events: convergence under duplicates and disorder,
//! deauthorization, unknown athletes, retries, rate limits.

use crate::sync_support::{Harness, SUBSCRIPTION, event, wait_until};
use domain::AthleteId;
use serde_json::json;
use std::time::Duration;
use strava_fake::{ActivityUpdate, NewActivity, RateLimits};

/// Waits until no event is pending or processing.
async fn drained(h: &Harness, timeout: Duration) -> bool {
    wait_until(timeout, || async {
        let inbox = h.inbox().await;
        let open = inbox
            .iter()
            .filter(|e| {
                e.status == db::inbox::InboxStatus::Pending
                    || e.status == db::inbox::InboxStatus::Processing
            })
            .count();
        open == 0
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_storm_with_duplicates_and_disorder_ends_in_exactly_stravas_rows() {
    let h = Harness::plain(&[("WORKER_COUNT", "4")]).await;
    let base = h.start_app();
    let sub = h.subscribe(&base).await;
    let ada = h.connect("Ada").await;
    let bob = h.connect("Bob").await;
    let workers = h.start_workers();

    let mut ids = Vec::new();
    for n in 0..30 {
        let owner = if n % 3 == 0 { bob } else { ada };
        let id = h
            .fake
            .upload_activity(
                owner,
                NewActivity {
                    name: Some(format!("Run {n}")),
                    ..NewActivity::default()
                },
            )
            .unwrap();
        ids.push(id);
    }
    for (n, id) in ids.iter().enumerate().take(12) {
        for round in 0..3 {
            h.fake
                .update_activity(
                    *id,
                    ActivityUpdate {
                        name: Some(format!("Renamed {n}.{round}")),
                        ..Default::default()
                    },
                )
                .unwrap();
        }
    }
    for id in &ids[12..15] {
        h.fake
            .update_activity(
                *id,
                ActivityUpdate {
                    private: Some(true),
                    sport_type: Some("TrailRun".into()),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    for id in &ids[20..26] {
        h.fake.delete_activity(*id).unwrap();
    }
    let deliveries = h
        .fake
        .wait_for_deliveries(30 + 36 + 3 + 6, Duration::from_secs(30))
        .await;
    assert!(
        deliveries
            .iter()
            .all(|d| d.outcome == strava_fake::DeliveryOutcome::Delivered)
    );

    // Strava retries and reorders: replay every event newest first (exact duplicates,
    // dropped by the inbox) and again with later times (stale creates and updates
    // arriving after deletes, which must refetch and find nothing).
    let http = reqwest::Client::new();
    for d in deliveries.iter().rev() {
        let e = &d.event;
        for time in [e.event_time, e.event_time + 1000] {
            let body = event(
                &e.object_type,
                e.object_id,
                &e.aspect_type,
                e.owner_id,
                sub,
                time,
                json!(e.updates),
            );
            let res = http
                .post(format!("{base}/webhook"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
    }
    let ok = drained(&h, Duration::from_secs(60)).await;
    if !ok {
        let inbox = h.inbox().await;
        let mut by: std::collections::BTreeMap<String, usize> = Default::default();
        for e in &inbox {
            *by.entry(format!("{} {} {:?}", e.status, e.attempts, e.last_error))
                .or_default() += 1;
        }
        panic!("inbox not drained: {by:#?}");
    }
    let inbox = h.inbox().await;
    assert_eq!(inbox.len(), deliveries.len() * 2, "duplicates stored once");
    assert!(
        inbox
            .iter()
            .all(|e| e.status == db::inbox::InboxStatus::Done),
        "{:?}",
        inbox
            .iter()
            .filter(|e| e.status != db::inbox::InboxStatus::Done)
            .collect::<Vec<_>>()
    );

    for athlete in [ada, bob] {
        let stored = h.stored(athlete).await;
        assert_eq!(stored, h.on_strava(athlete), "athlete {athlete}");
    }
    let mut conn = h.db.pool().get().await.unwrap();
    let private = db::activities::find(
        &mut conn,
        AthleteId(h.fake.activity(ids[13]).unwrap().athlete_id.get()),
        ids[13],
    )
    .await
    .unwrap()
    .unwrap();
    assert!(private.private);
    assert_eq!(private.sport_type, "TrailRun");
    assert_eq!(private.source, "api");
    assert!(private.raw.is_some());
    workers.shutdown(Duration::from_secs(5)).await;
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows held for an athlete in every table that has some.
async fn holdings(h: &Harness, athlete: AthleteId) -> Vec<i64> {
    use diesel_async::RunQueryDsl;
    let mut conn = h.db.pool().get().await.unwrap();
    let mut out = Vec::new();
    for table in [
        "athletes",
        "strava_tokens",
        "activities",
        "app_sessions",
        "login_tickets",
        "conversations",
        "messages",
        "sync_status",
    ] {
        let column = if table == "athletes" {
            "id"
        } else {
            "athlete_id"
        };
        let c: Count = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM {table} WHERE {column} = {}",
            athlete.get()
        ))
        .get_result(&mut conn)
        .await
        .unwrap();
        out.push(c.n);
    }
    out
}

async fn give_sessions_and_chats(h: &Harness, athlete: AthleteId) {
    let a = athlete.get();
    h.exec(&format!("INSERT INTO app_sessions (id, athlete_id, expires_at) VALUES (gen_random_uuid(), {a}, now() + interval '1 day')")).await;
    h.exec(&format!("INSERT INTO login_tickets (ticket_hash, athlete_id, expires_at) VALUES (decode(md5(random()::text), 'hex'), {a}, now() + interval '1 minute')")).await;
    h.exec(&format!(
        "WITH c AS (INSERT INTO conversations (id, athlete_id) VALUES (gen_random_uuid(), {a}) RETURNING id) \
         INSERT INTO messages (conversation_id, athlete_id, role, content) SELECT id, {a}, 'user', 'how far?' FROM c"
    ))
    .await;
    h.exec(&format!(
        "INSERT INTO sync_status (athlete_id, state) VALUES ({a}, 'done')"
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deauthorization_erases_everything_of_that_athlete_and_nothing_of_another() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    h.subscribe(&base).await;
    let ada = h.connect("Ada").await;
    let bob = h.connect("Bob").await;
    let workers = h.start_workers();
    for athlete in [ada, bob] {
        for _ in 0..3 {
            h.fake
                .upload_activity(athlete, NewActivity::default())
                .unwrap();
        }
        give_sessions_and_chats(&h, athlete).await;
    }
    h.fake.wait_for_deliveries(6, Duration::from_secs(10)).await;
    assert!(drained(&h, Duration::from_secs(30)).await);
    assert_eq!(holdings(&h, ada).await, [1, 1, 3, 1, 1, 1, 1, 1]);

    h.fake.deauthorize_athlete(ada).unwrap();
    h.fake.wait_for_deliveries(7, Duration::from_secs(10)).await;
    assert!(drained(&h, Duration::from_secs(30)).await);
    assert_eq!(holdings(&h, ada).await, [0; 8], "everything of Ada is gone");
    assert_eq!(
        holdings(&h, bob).await,
        [1, 1, 3, 1, 1, 1, 1, 1],
        "Bob keeps everything"
    );
    let last = h.inbox().await.into_iter().last().unwrap();
    assert_eq!(
        (last.object_type.as_str(), last.status.as_str()),
        ("athlete", "done")
    );
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_athletes_are_not_stored_and_failures_retry_until_they_stay_failed() {
    let h = Harness::plain(&[
        ("WEBHOOK_MAX_ATTEMPTS", "2"),
        ("WORKER_RETRY_BASE_SECS", "1"),
    ])
    .await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let id = h.fake.upload_activity(ada, NewActivity::default()).unwrap();
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| {
        let http = http.clone();
        let url = format!("{base}/webhook");
        async move {
            assert_eq!(
                http.post(url).json(&body).send().await.unwrap().status(),
                200
            )
        }
    };
    post(event(
        "activity",
        999,
        "create",
        424_242,
        SUBSCRIPTION,
        1,
        json!({}),
    ))
    .await;
    // Strava fails every fetch of this activity.
    h.fake
        .fail_next_matching(100, Some(&format!("/api/v3/activities/{}", id.get())), 500);
    post(event(
        "activity",
        id.get(),
        "create",
        ada.get(),
        SUBSCRIPTION,
        2,
        json!({}),
    ))
    .await;
    let workers = h.start_workers();
    assert!(drained(&h, Duration::from_secs(20)).await);
    let inbox = h.inbox().await;
    assert_eq!(inbox.len(), 1, "the unknown athlete's event was not kept");
    assert_eq!(inbox[0].status, db::inbox::InboxStatus::Failed);
    assert_eq!(inbox[0].attempts, 2);
    assert!(
        inbox[0].last_error.as_deref().unwrap().contains("500"),
        "{:?}",
        inbox[0].last_error
    );
    assert!(h.stored(ada).await.is_empty());
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_event_waits_without_spending_an_attempt() {
    let h = Harness::new(
        strava_fake::FakeConfig {
            rate_limits: Some(RateLimits {
                read_15min: 1,
                ..RateLimits::default()
            }),
            ..strava_fake::FakeConfig::default()
        },
        // Never wait for a reset in-process, even one a second away.
        &[
            ("STRAVA_RATE_LIMITS", "true"),
            ("STRAVA_RATE_LIMIT_MAX_WAIT_SECS", "0"),
        ],
    )
    .await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let first = h.fake.upload_activity(ada, NewActivity::default()).unwrap();
    let second = h.fake.upload_activity(ada, NewActivity::default()).unwrap();
    let http = reqwest::Client::new();
    for (n, id) in [first, second].into_iter().enumerate() {
        let body = event(
            "activity",
            id.get(),
            "create",
            ada.get(),
            SUBSCRIPTION,
            n as i64,
            json!({}),
        );
        assert_eq!(
            http.post(format!("{base}/webhook"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let workers = h.start_workers();
    let waiting = wait_until(Duration::from_secs(20), || async {
        let inbox = h.inbox().await;
        inbox
            .iter()
            .filter(|e| e.status == db::inbox::InboxStatus::Done)
            .count()
            == 1
            && inbox.iter().any(|e| {
                e.status == db::inbox::InboxStatus::Pending
                    && e.attempts == 0
                    && e.next_attempt_at > chrono::Utc::now()
            })
    })
    .await;
    assert!(waiting, "{:?}", h.inbox().await);
    assert_eq!(h.stored(ada).await.len(), 1);
    workers.shutdown(Duration::from_secs(5)).await;
}
