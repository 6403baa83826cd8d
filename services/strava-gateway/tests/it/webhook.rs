//! `GET /webhook` (the subscription handshake) and `POST /webhook` (the inbox).

use crate::sync_support::{Harness, SUBSCRIPTION, VERIFY, event};
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn handshake_echoes_the_challenge_only_for_our_token() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    let http = reqwest::Client::new();
    let get = |query: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = format!("{base}/webhook");
        async move { http.get(url).query(&query).send().await.unwrap() }
    };
    let ok = get(vec![
        ("hub.mode", "subscribe".into()),
        ("hub.verify_token", VERIFY.into()),
        ("hub.challenge", "c-123".into()),
    ])
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<serde_json::Value>().await.unwrap(),
        json!({"hub.challenge": "c-123"})
    );
    for query in [
        vec![
            ("hub.mode", "subscribe".to_owned()),
            ("hub.verify_token", "wrong".into()),
            ("hub.challenge", "c".into()),
        ],
        vec![
            ("hub.mode", "unsubscribe".to_owned()),
            ("hub.verify_token", VERIFY.into()),
            ("hub.challenge", "c".into()),
        ],
        vec![
            ("hub.mode", "subscribe".to_owned()),
            ("hub.challenge", "c".into()),
        ],
        vec![
            ("hub.mode", "subscribe".to_owned()),
            ("hub.verify_token", VERIFY.into()),
        ],
        vec![],
    ] {
        assert_eq!(get(query.clone()).await.status(), 403, "{query:?}");
    }
    // Strava's own check: the fake performs the handshake before subscribing.
    let id = h.subscribe(&base).await;
    assert!(id > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_bodies_are_refused_and_other_subscriptions_dropped_storing_nothing() {
    let h = Harness::plain(&[("STRAVA_SUBSCRIPTION_ID", "77")]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let http = reqwest::Client::new();
    let good = event(
        "activity",
        5,
        "create",
        ada.get(),
        77,
        1_700_000_000,
        json!({}),
    );
    let with = |key: &str, value: serde_json::Value| {
        let mut e = good.clone();
        e[key] = value;
        e.to_string()
    };
    let without = |key: &str| {
        let mut e = good.clone();
        e.as_object_mut().unwrap().remove(key);
        e.to_string()
    };
    let cases: Vec<(String, u16)> = vec![
        ("{not json".into(), 400),
        ("".into(), 400),
        ("[]".into(), 400),
        (without("object_id"), 400),
        (without("subscription_id"), 400),
        (with("object_id", json!("five")), 400),
        (with("event_time", json!(1.5)), 400),
        (with("object_type", json!("club")), 400),
        (with("aspect_type", json!("rename")), 400),
        (with("updates", json!("title")), 400),
        (with("owner_id", json!(-1)), 400),
        // Answered like ours, so guesses learn nothing; not stored.
        (with("subscription_id", json!(78)), 200),
        (
            with("updates", json!({"title": "x".repeat(17 * 1024)})),
            413,
        ),
    ];
    for (body, status) in cases {
        let res = http
            .post(format!("{base}/webhook"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            status,
            "{}",
            &body[..body.len().min(120)]
        );
        if status == 400 {
            let msg: serde_json::Value = res.json().await.unwrap();
            assert!(
                msg["error"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty() && m.len() < 200),
                "{msg}"
            );
        }
    }
    // A good event sent as anything but JSON is not Strava's.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut req = http.post(format!("{base}/webhook")).body(good.to_string());
        if let Some(t) = content_type {
            req = req.header("content-type", t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 415, "{content_type:?}");
    }
    assert!(h.inbox().await.is_empty(), "nothing stored");
    // The good one goes in, once, however often Strava retries it.
    for _ in 0..3 {
        let res = http
            .post(format!("{base}/webhook"))
            .json(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let stored = h.inbox().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].object_id, stored[0].status.as_str()),
        (5, "pending")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn events_differing_only_in_updates_are_kept_apart() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    let ada = h.connect("Ada").await;
    let http = reqwest::Client::new();
    for updates in [
        json!({"title": "A"}),
        json!({"title": "B"}),
        json!({"title": "A"}),
    ] {
        let e = event(
            "activity",
            5,
            "update",
            ada.get(),
            SUBSCRIPTION,
            1_700_000_000,
            updates,
        );
        assert_eq!(
            http.post(format!("{base}/webhook"))
                .json(&e)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(h.inbox().await.len(), 2);
}
