//! The access-token service against the fake Strava: refresh once under concurrency
//! with rotation, reconnect marking, and disconnecting.

use super::sync_support::Harness;
use domain::{AthleteId, Secret};
use std::time::Duration;
use strava_gateway::strava::{StravaClient, StravaError};
use strava_gateway::tokens::{self, TokenError};

/// Moves a just-issued six-hour token into its last hour.
const TOKEN_LAST_HOUR: Duration = Duration::from_secs(5 * 3600 + 60);

fn client(h: &Harness) -> StravaClient {
    StravaClient::new(&h.settings.strava, h.db.pool().clone())
}

/// Makes the stored access token look expired (Strava's copy stays valid).
async fn expire_stored(h: &Harness, athlete: AthleteId) {
    h.exec(&format!(
        "UPDATE strava_tokens SET expires_at = now() - interval '1 minute' WHERE athlete_id = {athlete}"
    ))
    .await;
}

async fn stored(h: &Harness, athlete: AthleteId) -> db::tokens::StravaTokens {
    let mut conn = h.db.pool().get().await.unwrap();
    db::tokens::load(&mut conn, &h.settings.token_cipher, athlete, false)
        .await
        .unwrap()
        .unwrap()
}

async fn needs_reconnect(h: &Harness, athlete: AthleteId) -> bool {
    let mut conn = h.db.pool().get().await.unwrap();
    db::athletes::find(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap()
        .needs_reconnect
}

fn token_requests(h: &Harness) -> usize {
    h.fake
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_workers_refresh_an_expiring_token_exactly_once() {
    let h = Harness::plain(&[]).await;
    let athlete = h.connect("Rot").await;
    let client = client(&h);
    let before = stored(&h, athlete).await;

    // A fresh token is used as it is.
    let t = tokens::access_token(h.db.pool(), &client, &h.settings.token_cipher, athlete)
        .await
        .unwrap();
    assert_eq!(t.expose(), before.access_token.expose());
    assert_eq!(token_requests(&h), 0);

    expire_stored(&h, athlete).await;
    // Strava answers a refresh with the same pair while the access token has over an
    // hour left; move its clock into that last hour so the refresh rotates.
    h.fake.advance_clock(TOKEN_LAST_HOUR).unwrap();
    let calls = (0..8).map(|_| {
        let (pool, client, cipher) = (
            h.db.pool().clone(),
            client.clone(),
            h.settings.token_cipher.clone(),
        );
        tokio::spawn(async move { tokens::access_token(&pool, &client, &cipher, athlete).await })
    });
    let mut got = Vec::new();
    for call in calls {
        got.push(call.await.unwrap().unwrap());
    }
    assert_eq!(token_requests(&h), 1, "one refresh for eight callers");
    assert!(got.iter().all(|t| t.expose() == got[0].expose()));
    assert_ne!(got[0].expose(), before.access_token.expose());

    // The newest pair is what is stored: the old refresh token is dead at Strava,
    // the stored one works (and the stored access token works too).
    let after = stored(&h, athlete).await;
    assert_eq!(after.access_token.expose(), got[0].expose());
    assert_ne!(after.refresh_token.expose(), before.refresh_token.expose());
    assert!(after.expires_at > chrono::Utc::now() + chrono::Duration::hours(5));
    assert_eq!(
        client.refresh(&before.refresh_token).await.unwrap_err(),
        StravaError::Unauthorized
    );
    client.athlete(&got[0]).await.unwrap();
    client.refresh(&after.refresh_token).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_refresh_marks_the_athlete_for_reconnect() {
    let h = Harness::plain(&[]).await;
    let athlete = h.connect("Gone").await;
    let client = client(&h);
    // The athlete revoked access on Strava's side; our copy is expiring.
    h.fake.deauthorize_athlete(athlete).unwrap();
    expire_stored(&h, athlete).await;
    let err = tokens::access_token(h.db.pool(), &client, &h.settings.token_cipher, athlete)
        .await
        .unwrap_err();
    assert!(matches!(err, TokenError::Reconnect), "{err:?}");
    assert!(needs_reconnect(&h, athlete).await);

    // Unknown athletes are not connected, and say so.
    let err = tokens::access_token(
        h.db.pool(),
        &client,
        &h.settings.token_cipher,
        AthleteId(987_654),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TokenError::NotConnected(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_after_refreshing_marks_the_athlete_for_reconnect() {
    let h = Harness::plain(&[]).await;
    let athlete = h.connect("Scope").await;
    let client = client(&h);
    // Tokens that refresh fine but cannot read activities (the athlete dropped the
    // scope): every listing answers 401, before and after a refresh.
    let pair = h.fake.issue_tokens(athlete, "read").unwrap();
    // In its last hour at Strava (still fresh to us), so the refresh issues a new pair.
    h.fake.advance_clock(TOKEN_LAST_HOUR).unwrap();
    {
        let mut conn = h.db.pool().get().await.unwrap();
        let tokens = db::tokens::StravaTokens {
            access_token: Secret::new(pair.access_token.clone()),
            refresh_token: Secret::new(pair.refresh_token),
            expires_at: chrono::DateTime::from_timestamp(pair.expires_at, 0).unwrap(),
            scopes: "read".into(),
        };
        db::tokens::save(&mut conn, &h.settings.token_cipher, athlete, &tokens)
            .await
            .unwrap();
    }
    let cipher = h.settings.token_cipher.clone();
    let err = tokens::with_token(h.db.pool(), &client, &cipher, athlete, |t| {
        let client = client.clone();
        async move { client.list_activities(&t, 1, 10, None, None).await }
    })
    .await
    .unwrap_err();
    assert!(matches!(err, TokenError::Reconnect), "{err:?}");
    assert_eq!(token_requests(&h), 1, "one refresh, then give up");
    assert!(needs_reconnect(&h, athlete).await);
    assert_ne!(
        stored(&h, athlete).await.access_token.expose(),
        &pair.access_token,
        "the refreshed pair was kept"
    );

    // With a good token, a 401 from an early-expired token is healed by one refresh.
    let other = h.connect("Healed").await;
    h.fake.expire_access_tokens(Some(other));
    let page = tokens::with_token(h.db.pool(), &client, &cipher, other, |t| {
        let client = client.clone();
        async move { client.list_activities(&t, 1, 10, None, None).await }
    })
    .await
    .unwrap();
    assert!(page.is_empty());
    assert!(!needs_reconnect(&h, other).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnect_revokes_at_strava_then_erases() {
    let h = Harness::plain(&[]).await;
    let athlete = h.connect("Bye").await;
    let keep = h.connect("Stay").await;
    let client = client(&h);
    let access = stored(&h, athlete).await.access_token;
    let done =
        strava_gateway::oauth::disconnect(h.db.pool(), &client, &h.settings.token_cipher, athlete)
            .await
            .unwrap();
    assert!(done.revoked && done.erased, "{done:?}");
    assert_eq!(
        client.athlete(&access).await.unwrap_err(),
        StravaError::Unauthorized,
        "revoked at Strava"
    );
    let mut conn = h.db.pool().get().await.unwrap();
    assert!(
        db::athletes::find(&mut conn, athlete)
            .await
            .unwrap()
            .is_none()
    );
    assert!(db::athletes::find(&mut conn, keep).await.unwrap().is_some());

    // Again: nothing to revoke, nothing to erase, no error.
    let again =
        strava_gateway::oauth::disconnect(h.db.pool(), &client, &h.settings.token_cipher, athlete)
            .await
            .unwrap();
    assert!(!again.revoked && !again.erased);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_application_credentials_do_not_disconnect_athletes() {
    let h = Harness::plain(&[]).await;
    let athlete = h.connect("Kept").await;
    let mut cfg = h.settings.strava.clone();
    cfg.client_secret = Secret::new("not-the-secret".into());
    let misconfigured = StravaClient::new(&cfg, h.db.pool().clone());
    expire_stored(&h, athlete).await;
    let err = tokens::access_token(
        h.db.pool(),
        &misconfigured,
        &h.settings.token_cipher,
        athlete,
    )
    .await
    .unwrap_err();
    match err {
        TokenError::Strava(StravaError::Rejected(why)) => {
            assert!(why.contains("STRAVA_CLIENT_SECRET"), "{why}");
            assert!(!why.contains("not-the-secret"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!needs_reconnect(&h, athlete).await);
    // Fixed configuration: the stored refresh token still works.
    tokens::access_token(h.db.pool(), &client(&h), &h.settings.token_cipher, athlete)
        .await
        .unwrap();
}
