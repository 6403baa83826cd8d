//! Webhook events are unsigned: anyone can post one. These tests post forged events
//! as an attacker would and check that they delete, erase and fetch nothing beyond a
//! bounded cost, while Strava's real events still do their work.

use crate::sync_support::{Harness, SUBSCRIPTION, event, wait_until};
use chrono::DurationRound as _;
use diesel_async::RunQueryDsl;
use domain::AthleteId;
use serde_json::json;
use std::time::{Duration, Instant};
use strava_fake::NewActivity;

/// Posts an event body; returns the status.
async fn post(base: &str, body: &serde_json::Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/webhook"))
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Posts `n` create events for `owner` of activities Strava does not have (ids from
/// 70,000), each accepted.
async fn forged_creates(base: &str, owner: AthleteId, n: i64) {
    for k in 0..n {
        let forged = event(
            "activity",
            70_000 + k,
            "create",
            owner.get(),
            SUBSCRIPTION,
            k,
            json!({}),
        );
        assert_eq!(post(base, &forged).await, 200);
    }
}

/// Waits until no event is pending and due, or processing.
async fn drained(h: &Harness) -> bool {
    wait_until(Duration::from_secs(30), || async {
        let now = chrono::Utc::now();
        h.inbox().await.iter().all(|e| {
            e.status != db::inbox::InboxStatus::Processing
                && !(e.status == db::inbox::InboxStatus::Pending && e.next_attempt_at <= now)
        })
    })
    .await
}

/// Requests the fake served on Strava's API (not its OAuth pages).
fn api_requests(h: &Harness, path_prefix: &str) -> usize {
    h.fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(path_prefix))
        .count()
}

/// Uploads `n` activities for `athlete` on the fake and stores them through create
/// events (no subscription, so the fake pushes nothing itself); returns their ids.
async fn with_activities(h: &Harness, base: &str, athlete: AthleteId, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for k in 0..n {
        let id = h
            .fake
            .upload_activity(athlete, NewActivity::default())
            .unwrap()
            .get();
        let create = event(
            "activity",
            id,
            "create",
            athlete.get(),
            SUBSCRIPTION,
            k as i64,
            json!({}),
        );
        assert_eq!(post(base, &create).await, 200);
        ids.push(id);
    }
    ids
}

async fn count(h: &Harness, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = h.db.pool().get().await.unwrap();
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}

fn deauthorization(athlete: AthleteId, time: i64) -> serde_json::Value {
    event(
        "athlete",
        athlete.get(),
        "update",
        athlete.get(),
        SUBSCRIPTION,
        time,
        json!({"authorized": "false"}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_deauthorization_erases_nothing_and_a_real_one_still_erases_within_seconds() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let workers = h.start_workers();
    with_activities(&h, &base, ada, 3).await;
    assert!(drained(&h).await);
    assert_eq!(h.stored(ada).await.len(), 3);

    // Several forged copies: the first is checked with Strava, which still accepts
    // Ada's token; the copies that arrived before that check are settled by it.
    for t in 100..105 {
        assert_eq!(post(&base, &deauthorization(ada, t)).await, 200);
    }
    assert!(drained(&h).await);
    assert_eq!(h.stored(ada).await.len(), 3, "no activity erased");
    let a = ada.get();
    assert_eq!(
        count(
            &h,
            &format!("SELECT count(*) AS n FROM strava_tokens WHERE athlete_id = {a}")
        )
        .await,
        1
    );
    let athlete_events: Vec<_> = h
        .inbox()
        .await
        .into_iter()
        .filter(|e| e.object_type == db::inbox::ObjectType::Athlete)
        .collect();
    assert_eq!(athlete_events.len(), 5);
    assert!(
        athlete_events
            .iter()
            .any(|e| e.status == db::inbox::InboxStatus::Ignored
                && e.last_error
                    .as_deref()
                    .is_some_and(|n| n.contains("not confirmed"))),
        "{athlete_events:?}"
    );
    assert!(
        api_requests(&h, "/api/v3/athlete") <= 5,
        "at most one confirmation per forged copy"
    );

    // Ada really revokes access: Strava refuses her tokens and pushes the event.
    h.subscribe(&base).await;
    let revoked_at = Instant::now();
    h.fake.deauthorize_athlete(ada).unwrap();
    let erased = wait_until(Duration::from_secs(10), || async {
        count(
            &h,
            &format!("SELECT count(*) AS n FROM athletes WHERE id = {a}"),
        )
        .await
            == 0
    })
    .await;
    assert!(
        erased,
        "a confirmed deauthorization erases: {:?}",
        h.inbox().await
    );
    eprintln!(
        "real deauthorization erased after {:?}",
        revoked_at.elapsed()
    );
    assert!(h.stored(ada).await.is_empty());
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_activity_delete_removes_nothing_and_a_real_delete_still_does() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let workers = h.start_workers();
    let ids = with_activities(&h, &base, ada, 2).await;
    assert!(drained(&h).await);
    assert_eq!(h.stored(ada).await.len(), 2);

    // Forged: the activity is still on Strava, so it stays (refetched).
    let forged = event(
        "activity",
        ids[0],
        "delete",
        ada.get(),
        SUBSCRIPTION,
        50,
        json!({}),
    );
    assert_eq!(post(&base, &forged).await, 200);
    // Forged, for an activity we never held: nothing to confirm, nothing asked.
    let unknown = event(
        "activity",
        987_654_321,
        "delete",
        ada.get(),
        SUBSCRIPTION,
        51,
        json!({}),
    );
    assert_eq!(post(&base, &unknown).await, 200);
    assert!(drained(&h).await);
    assert_eq!(
        h.stored(ada).await.len(),
        2,
        "the forged delete removed nothing"
    );
    assert_eq!(api_requests(&h, "/api/v3/activities/987654321"), 0);
    let inbox = h.inbox().await;
    let unknown_row = inbox.iter().find(|e| e.object_id == 987_654_321).unwrap();
    assert_eq!(
        (
            unknown_row.status.as_str(),
            unknown_row.last_error.as_deref()
        ),
        ("done", Some("no such activity is stored"))
    );

    // Real: deleted on Strava, so Strava answers 404 and the row goes.
    h.fake.delete_activity(domain::ActivityId(ids[0])).unwrap();
    let real = event(
        "activity",
        ids[0],
        "delete",
        ada.get(),
        SUBSCRIPTION,
        52,
        json!({}),
    );
    assert_eq!(post(&base, &real).await, 200);
    assert!(drained(&h).await);
    let left: Vec<i64> = h.stored(ada).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(left, vec![ids[1]]);
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_events_for_unknown_athletes_or_other_subscriptions_cost_nothing() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let workers = h.start_workers();
    let client = reqwest::Client::new();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for n in 0..300_i64 {
        let body = if n % 2 == 0 {
            // Our subscription, an athlete we do not know.
            event(
                "activity",
                10_000 + n,
                "create",
                500_000 + n,
                SUBSCRIPTION,
                n,
                json!({}),
            )
        } else {
            // A known athlete, a guessed subscription id.
            event(
                "activity",
                10_000 + n,
                "delete",
                ada.get(),
                SUBSCRIPTION + n,
                n,
                json!({}),
            )
        };
        let status = client
            .post(format!("{base}/webhook"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        *statuses.entry(status).or_default() += 1;
    }
    // Every guess is answered alike, so none tells the attacker anything.
    assert_eq!(statuses, [(200, 300)].into());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(h.inbox().await.is_empty(), "nothing stored");
    assert_eq!(
        api_requests(&h, "/api/v3"),
        0,
        "Strava was not asked anything"
    );
    eprintln!(
        "forged burst: 300 events, {} requests reached the fake",
        h.fake.request_count()
    );
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_athletes_burst_is_capped_per_quarter_hour_and_others_still_sync() {
    let h = Harness::plain(&[("WEBHOOK_OWNER_CALLS_PER_QUARTER", "5")]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let bob = h.connect("Bob").await;
    // 100 forged creates for Ada (ids Strava does not have), then Bob's real one.
    forged_creates(&base, ada, 100).await;
    let bobs = h
        .fake
        .upload_activity(bob, NewActivity::default())
        .unwrap()
        .get();
    let real = event(
        "activity",
        bobs,
        "create",
        bob.get(),
        SUBSCRIPTION,
        1,
        json!({}),
    );
    assert_eq!(post(&base, &real).await, 200);
    let workers = h.start_workers();
    assert!(drained(&h).await);
    assert_eq!(h.stored(bob).await.len(), 1, "Bob's activity synced");
    let forged_fetches = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v3/activities/7"))
        .count();
    assert_eq!(forged_fetches, 5, "Ada's events spent exactly her cap");
    let inbox = h.inbox().await;
    let waiting = inbox
        .iter()
        .filter(|e| {
            e.owner_id == ada.get()
                && e.status == db::inbox::InboxStatus::Pending
                && e.attempts == 0
                && e.next_attempt_at > chrono::Utc::now()
        })
        .count();
    assert_eq!(
        waiting, 95,
        "the rest wait for the next quarter, attempts unspent"
    );
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn one_athletes_events_spend_a_daily_share_and_the_newest_goes_first() {
    let h = Harness::plain(&[
        ("WEBHOOK_OWNER_CALLS_PER_QUARTER", "100"),
        ("WEBHOOK_OWNER_CALLS_PER_DAY", "3"),
        ("WORKER_COUNT", "1"),
    ])
    .await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    // 10 forged creates for Ada, then a real one of hers.
    forged_creates(&base, ada, 10).await;
    let hers = h
        .fake
        .upload_activity(ada, NewActivity::default())
        .unwrap()
        .get();
    let real = event(
        "activity",
        hers,
        "create",
        ada.get(),
        SUBSCRIPTION,
        11,
        json!({}),
    );
    assert_eq!(post(&base, &real).await, 200);
    let fetches = || {
        h.fake
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/v3/activities/"))
            .count()
    };
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(20), || async {
            // Every event settled, or waiting for tomorrow (none still in a batch).
            h.inbox().await.iter().all(|e| match e.status {
                db::inbox::InboxStatus::Processing => false,
                db::inbox::InboxStatus::Pending => {
                    e.attempts == 0 && e.next_attempt_at > chrono::Utc::now()
                }
                _ => true,
            })
        })
        .await
    );
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(fetches(), 3, "the day's share, then nothing");
    let tomorrow = chrono::Utc::now()
        .duration_trunc(chrono::TimeDelta::days(1))
        .unwrap()
        + chrono::TimeDelta::days(1);
    let waiting: Vec<_> = h
        .inbox()
        .await
        .into_iter()
        .filter(|e| e.status == db::inbox::InboxStatus::Pending)
        .collect();
    assert_eq!(waiting.len(), 8);
    assert!(
        waiting.iter().all(|e| e.next_attempt_at == tomorrow),
        "they wait for the next UTC day"
    );

    // The next day (its calls forgotten, the events due): the newest event goes first,
    // so Ada's real activity is among the day's three calls.
    h.exec("DELETE FROM webhook_owner_calls").await;
    h.exec("UPDATE webhook_events SET next_attempt_at = now() WHERE status = 'pending'")
        .await;
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(20), || async { fetches() == 6 }).await,
        "three more calls"
    );
    workers.shutdown(Duration::from_secs(5)).await;
    assert_eq!(
        h.stored(ada).await.len(),
        1,
        "the real event was settled first"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_repeated_for_one_activity_are_settled_by_one_fetch() {
    let h = Harness::plain(&[("WORKER_COUNT", "1")]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let id = h
        .fake
        .upload_activity(ada, NewActivity::default())
        .unwrap()
        .get();
    for n in 0..10 {
        let update = event(
            "activity",
            id,
            "update",
            ada.get(),
            SUBSCRIPTION,
            100 + n,
            json!({"title": format!("take {n}")}),
        );
        assert_eq!(post(&base, &update).await, 200);
    }
    let workers = h.start_workers();
    assert!(drained(&h).await);
    assert_eq!(api_requests(&h, &format!("/api/v3/activities/{id}")), 1);
    let inbox = h.inbox().await;
    assert!(
        inbox
            .iter()
            .all(|e| e.status == db::inbox::InboxStatus::Done),
        "{inbox:?}"
    );
    assert_eq!(
        inbox
            .iter()
            .filter(|e| e
                .last_error
                .as_deref()
                .is_some_and(|n| n.starts_with("settled by event")))
            .count(),
        9
    );
    assert_eq!(h.stored(ada).await.len(), 1);
    workers.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_pinned_id_events_wait_until_the_subscription_is_learned_from_strava() {
    let h = Harness::plain(&[("STRAVA_SUBSCRIPTION_ID", "")]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let ours = |time: i64| {
        event(
            "activity",
            5,
            "create",
            ada.get(),
            SUBSCRIPTION,
            time,
            json!({}),
        )
    };
    // No subscription on Strava yet: nothing can be checked, so Strava is asked to retry.
    assert_eq!(post(&base, &ours(1)).await, 503);
    assert!(h.inbox().await.is_empty());

    let id = h.subscribe(&base).await;
    assert_eq!(id, SUBSCRIPTION);
    let learned = wait_until(Duration::from_secs(5), || async {
        post(&base, &ours(2)).await == 200
    })
    .await;
    assert!(learned, "the gateway learned the id after the handshake");
    let guess = event("activity", 6, "create", ada.get(), id + 1, 3, json!({}));
    assert_eq!(post(&base, &guess).await, 200);
    let stored: Vec<i64> = h.inbox().await.iter().map(|e| e.object_id).collect();
    assert_eq!(
        stored,
        vec![5],
        "only the event for our subscription is kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_database_answers_503_before_stravas_two_seconds_and_loses_nothing() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    // Another session holds the inbox table locked, as a hung server would stall us.
    let mut locker = h.db.pool().get().await.unwrap();
    diesel::sql_query("BEGIN")
        .execute(&mut locker)
        .await
        .unwrap();
    diesel::sql_query("LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    // Strava waits two seconds for an answer.
    let strava = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let body = event(
        "activity",
        5,
        "create",
        ada.get(),
        SUBSCRIPTION,
        1,
        json!({}),
    );
    let res = strava
        .post(format!("{base}/webhook"))
        .json(&body)
        .send()
        .await
        .expect("answered within Strava's two seconds");
    assert_eq!(res.status(), 503, "Strava is told to retry");
    diesel::sql_query("ROLLBACK")
        .execute(&mut locker)
        .await
        .unwrap();
    drop(locker);
    // Strava's retry is acknowledged, and the event is stored once.
    assert_eq!(post(&base, &body).await, 200);
    assert_eq!(h.inbox().await.len(), 1);
}
