//! Connecting Strava through the gateway's OAuth routes, against the fake Strava: the
//! full round trip, and every way it may go wrong without connecting anything.

use super::sync_support::Harness;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::AthleteId;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use std::collections::HashMap;
use strava_fake::{AuthorizeMode, NewAthlete, Units};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The nonce talk-app's pre-login cookie holds in these tests' browser; the gateway
/// only ever sees its binding.
const BROWSER_NONCE: &str = "the-pre-login-nonce-of-the-browser-in-tests";

/// `/oauth/authorize` as talk-app's `/auth/connect` links to it.
fn authorize_url(base: &str, scope: Option<&str>) -> String {
    let mut url = format!(
        "{base}/oauth/authorize?login={}",
        db::tickets::binding_of(BROWSER_NONCE)
    );
    if let Some(scope) = scope {
        url.push_str(&format!("&scope={scope}"));
    }
    url
}

fn query_of(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A started flow: where Strava sent the browser back to and the nonce cookie.
struct Flow {
    /// The query Strava put on the redirect to our callback.
    callback_query: String,
    /// `name=value` of the nonce cookie.
    cookie: String,
}

/// `/oauth/authorize` on the gateway, then the fake's authorize page (which decides
/// at once); returns the callback query and the cookie.
async fn start_flow(base: &str, scope: Option<&str>) -> Flow {
    let res = http().get(authorize_url(base, scope)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let set_cookie = res.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let to_strava = location(&res);
    let res = http().get(&to_strava).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = location(&res);
    assert!(
        back.starts_with("http://127.0.0.1:9/oauth/callback?"),
        "{back}"
    );
    Flow {
        callback_query: back.split_once('?').unwrap().1.to_owned(),
        cookie,
    }
}

/// Our callback with `query`, sending `cookie` when given.
async fn callback(base: &str, query: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut req = http().get(format!("{base}/oauth/callback?{query}"));
    if let Some(c) = cookie {
        req = req.header(reqwest::header::COOKIE, c);
    }
    req.send().await.unwrap()
}

async fn count(h: &Harness, table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = h.db.pool().get().await.unwrap();
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<N>(&mut conn)
        .await
        .unwrap()
        .n
}

/// A failure page: the status, friendly text, a link back, nothing stored.
async fn assert_refused(h: &Harness, res: reqwest::Response, status: StatusCode, words: &str) {
    assert_eq!(res.status(), status);
    assert!(
        res.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = res.text().await.unwrap();
    assert!(body.contains(words), "{words:?} not in {body}");
    assert!(body.contains("href=\"http://127.0.0.1:8/\""), "{body}");
    assert_eq!(count(h, "athletes").await, 0);
    assert_eq!(count(h, "strava_tokens").await, 0);
    assert_eq!(count(h, "jobs").await, 0);
    assert_eq!(count(h, "login_tickets").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn round_trip_connects_the_athlete_and_hands_over_a_ticket() {
    let h = Harness::plain(&[]).await;
    let athlete = h
        .fake
        .add_athlete(NewAthlete {
            firstname: "Ada".into(),
            lastname: "Lovelace".into(),
            measurement_preference: Units::Imperial,
            ..NewAthlete::default()
        })
        .unwrap();
    let base = h.start_app();

    // The redirect to Strava carries everything Strava needs, and a bound state.
    let res = http().get(authorize_url(&base, None)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let to_strava = location(&res);
    assert!(
        to_strava.starts_with(&format!("{}/oauth/authorize?", h.fake.base_url())),
        "{to_strava}"
    );
    let q = query_of(&to_strava);
    assert_eq!(q["client_id"], h.fake.client_id());
    assert_eq!(q["redirect_uri"], "http://127.0.0.1:9/oauth/callback");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["approval_prompt"], "auto");
    assert_eq!(q["scope"], "read,activity:read_all,profile:read_all");
    assert_eq!(q["state"].split('.').count(), 3, "a JWT");
    let set_cookie = res.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("stravatalk_oauth_nonce="));
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    // GATEWAY_PUBLIC_URL is http://127.0.0.1 here: local development, no Secure.
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap();

    // The fake approves and sends the browser back.
    let res = http().get(&to_strava).send().await.unwrap();
    let back = location(&res);
    let res = callback(&base, back.split_once('?').unwrap().1, Some(cookie)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let to_app = location(&res);
    assert!(
        to_app.starts_with("http://127.0.0.1:8/auth/complete?ticket="),
        "{to_app}"
    );
    let removal = res.headers()[reqwest::header::SET_COOKIE].to_str().unwrap();
    assert!(removal.starts_with("stravatalk_oauth_nonce=;"), "{removal}");
    let ticket = query_of(&to_app)["ticket"].clone();

    let mut conn = h.db.pool().get().await.unwrap();
    let row = db::athletes::find(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.firstname.as_str(), row.lastname.as_str()),
        ("Ada", "Lovelace")
    );
    assert_eq!(row.measurement_preference, Units::Imperial);
    assert_eq!(row.timezone, None);
    assert!(!row.needs_reconnect);

    // Tokens are stored encrypted, and they work at Strava.
    let tokens = db::tokens::load(&mut conn, &h.settings.token_cipher, athlete, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tokens.scopes, "read,activity:read_all,profile:read_all");
    use db::schema::strava_tokens::dsl as t;
    let (access_enc, refresh_enc): (Vec<u8>, Vec<u8>) = t::strava_tokens
        .find(athlete.get())
        .select((t::access_token_enc, t::refresh_token_enc))
        .first(&mut conn)
        .await
        .unwrap();
    let contains =
        |hay: &[u8], needle: &str| hay.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!contains(&access_enc, tokens.access_token.expose()));
    assert!(!contains(&refresh_enc, tokens.refresh_token.expose()));
    let me = http()
        .get(format!("{}/athlete", h.fake.api_url()))
        .bearer_auth(tokens.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // A backfill is queued, once per athlete.
    use db::schema::jobs::dsl as j;
    let jobs: Vec<(String, serde_json::Value, Option<String>)> = j::jobs
        .select((j::kind, j::payload, j::dedupe_key))
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        jobs,
        vec![(
            "backfill".to_owned(),
            serde_json::json!({"athlete_id": athlete.get()}),
            Some(format!("backfill:{athlete}"))
        )]
    );

    // The import counts as under way from the first page talk-app draws.
    let status = db::sync::find(&mut conn, athlete).await.unwrap().unwrap();
    assert_eq!(status.state, db::sync::SyncState::Backfilling);
    assert_eq!(status.activities_synced, 0);

    // talk-app can redeem the ticket once, in the browser that started connecting.
    use db::tickets::Redeemed;
    assert_eq!(
        db::tickets::redeem(&mut conn, &ticket, Some("another-browser"))
            .await
            .unwrap(),
        Redeemed::OtherBrowser
    );
    assert_eq!(
        db::tickets::redeem(&mut conn, &ticket, Some(BROWSER_NONCE))
            .await
            .unwrap(),
        Redeemed::Athlete(athlete)
    );
    assert_eq!(
        db::tickets::redeem(&mut conn, &ticket, Some(BROWSER_NONCE))
            .await
            .unwrap(),
        Redeemed::Invalid
    );

    // Connecting again (e.g. after a reconnect prompt) keeps one athlete and one
    // queued backfill, and refreshes the tokens.
    db::athletes::mark_needs_reconnect(&mut conn, athlete)
        .await
        .unwrap();
    let flow = start_flow(&base, None).await;
    let res = callback(&base, &flow.callback_query, Some(&flow.cookie)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let row = db::athletes::find(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.needs_reconnect);
    assert_eq!(count(&h, "athletes").await, 1);
    assert_eq!(count(&h, "jobs").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_profile_scope_units_stay_default_and_other_scopes_are_refused() {
    let h = Harness::plain(&[]).await;
    let athlete = h
        .fake
        .add_athlete(NewAthlete {
            measurement_preference: Units::Imperial,
            ..NewAthlete::default()
        })
        .unwrap();
    let base = h.start_app();

    // A write scope (or anything unknown) is not something we ask for.
    let res = http()
        .get(authorize_url(&base, Some("read,activity:write")))
        .send()
        .await
        .unwrap();
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "permission").await;

    let flow = start_flow(&base, Some("activity:read")).await;
    assert_eq!(
        query_of(&format!("http://x/?{}", flow.callback_query))["scope"],
        "read,activity:read"
    );
    let res = callback(&base, &flow.callback_query, Some(&flow.cookie)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let mut conn = h.db.pool().get().await.unwrap();
    let row = db::athletes::find(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.measurement_preference, Units::Metric);
}

#[tokio::test(flavor = "multi_thread")]
async fn denial_connects_nothing() {
    let h = Harness::plain(&[]).await;
    h.fake.add_athlete(NewAthlete::default()).unwrap();
    let base = h.start_app();
    h.fake.set_authorize_mode(AuthorizeMode::Deny);
    let flow = start_flow(&base, None).await;
    assert!(flow.callback_query.contains("error=access_denied"));
    let res = callback(&base, &flow.callback_query, Some(&flow.cookie)).await;
    assert_refused(&h, res, StatusCode::FORBIDDEN, "You chose not to").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_activity_scope_is_explained_and_connects_nothing() {
    let h = Harness::plain(&[]).await;
    h.fake.add_athlete(NewAthlete::default()).unwrap();
    let base = h.start_app();
    h.fake.set_authorize_mode(AuthorizeMode::Without {
        scopes: vec!["activity:read_all".into()],
    });
    let flow = start_flow(&base, None).await;
    let res = callback(&base, &flow.callback_query, Some(&flow.cookie)).await;
    assert_refused(
        &h,
        res,
        StatusCode::FORBIDDEN,
        "permission to view data about your activities",
    )
    .await;
    // The code was not even exchanged.
    assert!(!h.fake.requests().iter().any(|r| r.path == "/oauth/token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_expired_foreign_or_cookieless_states_are_refused() {
    let h = Harness::plain(&[]).await;
    h.fake.add_athlete(NewAthlete::default()).unwrap();
    let base = h.start_app();
    let flow = start_flow(&base, None).await;
    let q = query_of(&format!("http://x/?{}", flow.callback_query));
    let with_state = |state: &str| {
        format!(
            "state={state}&code={}&scope=read,activity:read_all",
            q["code"]
        )
    };

    // No state, a forged one, one signed with another secret, an expired one.
    let res = callback(&base, &format!("code={}", q["code"]), Some(&flow.cookie)).await;
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "expired").await;
    let res = callback(&base, &with_state("not.a.jwt"), Some(&flow.cookie)).await;
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "expired").await;
    let nonce = flow.cookie.split_once('=').unwrap().1;
    let nonce_hash = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(nonce))
    };
    let sign = |secret: &str, exp: i64| {
        let claims = serde_json::json!({
            "nonce_hash": nonce_hash, "aud": "stravatalk:oauth-state",
            "login": db::tickets::binding_of(BROWSER_NONCE),
            "iat": chrono::Utc::now().timestamp() - 700, "exp": exp,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let later = chrono::Utc::now().timestamp() + 300;
    let foreign = sign("another-secret-another-secret-another", later);
    let res = callback(&base, &with_state(&foreign), Some(&flow.cookie)).await;
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "expired").await;
    let expired = sign(
        "0123456789abcdef0123456789abcdef",
        chrono::Utc::now().timestamp() - 5,
    );
    let res = callback(&base, &with_state(&expired), Some(&flow.cookie)).await;
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "expired").await;

    // The genuine state, but from another browser (no cookie, or another nonce).
    let res = callback(&base, &flow.callback_query, None).await;
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "browser where it started").await;
    let res = callback(
        &base,
        &flow.callback_query,
        Some("stravatalk_oauth_nonce=somebody-else"),
    )
    .await;
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "browser where it started").await;

    // Missing code with a good state.
    let other = start_flow(&base, None).await;
    let state = query_of(&format!("http://x/?{}", other.callback_query))["state"].clone();
    let res = callback(
        &base,
        &format!("state={state}&scope=read,activity:read_all"),
        Some(&other.cookie),
    )
    .await;
    assert_refused(&h, res, StatusCode::BAD_REQUEST, "incomplete").await;

    // The same claims signed with our secret pass: the refusals above were for the
    // signature and the expiry, nothing else.
    let genuine = sign("0123456789abcdef0123456789abcdef", later);
    let res = callback(&base, &with_state(&genuine), Some(&flow.cookie)).await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_state_works_once() {
    let h = Harness::plain(&[]).await;
    let athlete = h.fake.add_athlete(NewAthlete::default()).unwrap();
    let base = h.start_app();
    let flow = start_flow(&base, None).await;
    let first = callback(&base, &flow.callback_query, Some(&flow.cookie)).await;
    assert_eq!(first.status(), StatusCode::FOUND);

    // The same callback again (browser back button, or an attacker replaying it).
    let mut conn = h.db.pool().get().await.unwrap();
    db::athletes::erase(&mut conn, AthleteId(athlete.get()))
        .await
        .unwrap();
    diesel::sql_query("DELETE FROM jobs")
        .execute(&mut conn)
        .await
        .unwrap();
    let again = callback(&base, &flow.callback_query, Some(&flow.cookie)).await;
    assert_refused(&h, again, StatusCode::BAD_REQUEST, "used already").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_strava_failure_during_the_exchange_stores_nothing() {
    let h = Harness::plain(&[]).await;
    h.fake.add_athlete(NewAthlete::default()).unwrap();
    let base = h.start_app();
    let flow = start_flow(&base, None).await;
    h.fake.fail_next_matching(1, Some("/oauth/token"), 503);
    let res = callback(&base, &flow.callback_query, Some(&flow.cookie)).await;
    assert_refused(&h, res, StatusCode::BAD_GATEWAY, "try again").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flow_not_started_by_talk_app_is_sent_there_first() {
    let h = Harness::plain(&[]).await;
    let base = h.start_app();
    for (query, to) in [
        ("", "http://127.0.0.1:8/auth/connect"),
        ("?scope=read", "http://127.0.0.1:8/auth/connect?scope=read"),
        ("?login=too-short", "http://127.0.0.1:8/auth/connect"),
    ] {
        let res = http()
            .get(format!("{base}/oauth/authorize{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{query}");
        assert_eq!(location(&res), to, "{query}");
        // No state was started, so no nonce cookie either.
        assert!(res.headers().get(reqwest::header::SET_COOKIE).is_none());
    }
    assert_eq!(count(&h, "login_tickets").await, 0);
}
