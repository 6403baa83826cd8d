//! Integration tests: a started fake, driven over real HTTP with reqwest.

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use strava_fake::{
    ActivityUpdate, AthleteId, AuthorizeMode, DeliveryOutcome, FakeConfig, FakeStrava, NewActivity,
    NewAthlete, RateLimits, Units, WebhookConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

async fn fake() -> FakeStrava {
    FakeStrava::start(FakeConfig {
        webhook: WebhookConfig {
            attempts: 3,
            timeout: Duration::from_millis(500),
            retry_delay: Duration::from_millis(20),
        },
        ..FakeConfig::default()
    })
    .await
    .expect("fake starts")
}

fn query_map(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    reqwest::Url::parse(&format!("http://x/?{q}"))
        .expect("url")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn authorize(fake: &FakeStrava, scope: &str, state: &str) -> HashMap<String, String> {
    let res = http()
        .get(format!("{}/oauth/authorize", fake.base_url()))
        .query(&[
            ("client_id", fake.client_id()),
            ("redirect_uri", "http://app.test/callback?x=1"),
            ("response_type", "code"),
            ("approval_prompt", "auto"),
            ("scope", scope),
            ("state", state),
        ])
        .send()
        .await
        .expect("authorize");
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with("http://app.test/callback?x=1&"),
        "{location}"
    );
    query_map(location)
}

async fn token(fake: &FakeStrava, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut all = vec![
        ("client_id", fake.client_id()),
        ("client_secret", fake.client_secret()),
    ];
    all.extend_from_slice(form);
    let res = http()
        .post(format!("{}/oauth/token", fake.base_url()))
        .form(&all)
        .send()
        .await
        .expect("token");
    (res.status(), res.json().await.expect("json"))
}

async fn get(fake: &FakeStrava, path: &str, token: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", fake.api_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
}

#[tokio::test(flavor = "multi_thread")]
async fn oauth_code_exchange_with_single_use_code() {
    let fake = fake().await;
    let athlete = fake
        .add_athlete(NewAthlete {
            firstname: "Ada".into(),
            measurement_preference: Units::Imperial,
            ..NewAthlete::default()
        })
        .unwrap();

    let q = authorize(&fake, "read,activity:read_all,profile:read_all", "st8").await;
    assert_eq!(q["state"], "st8");
    assert_eq!(q["scope"], "read,activity:read_all,profile:read_all");
    let code = q["code"].clone();

    let (status, body) = token(
        &fake,
        &[("code", &code), ("grant_type", "authorization_code")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 21600);
    assert_eq!(body["athlete"]["id"], athlete.get());
    assert_eq!(body["athlete"]["firstname"], "Ada");
    assert_eq!(body["athlete"]["resource_state"], 2);
    assert!(body["athlete"].get("measurement_preference").is_none());
    let now = fake.now().timestamp();
    assert!((body["expires_at"].as_i64().unwrap() - (now + 21600)).abs() <= 2);
    let access = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(access.len(), 40);

    // The code works once.
    let (status, body) = token(
        &fake,
        &[("code", &code), ("grant_type", "authorization_code")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Bad Request");
    assert_eq!(body["errors"][0]["resource"], "AuthorizationCode");
    assert_eq!(body["errors"][0]["code"], "invalid");

    // profile:read_all shows the unit preference.
    let me: Value = get(&fake, "/athlete", &access).await.json().await.unwrap();
    assert_eq!(me["resource_state"], 3);
    assert_eq!(me["measurement_preference"], "feet");

    // Wrong secret.
    let res = http()
        .post(format!("{}/oauth/token", fake.base_url()))
        .json(
            &json!({"client_id": fake.client_id(), "client_secret": "nope",
                      "code": "x", "grant_type": "authorization_code"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The athlete unticks activity:read_all; without profile:read_all no units.
    fake.set_authorize_mode(AuthorizeMode::Without {
        scopes: vec!["activity:read_all".into(), "profile:read_all".into()],
    });
    let q = authorize(&fake, "read,activity:read_all,profile:read_all", "s2").await;
    assert_eq!(q["scope"], "read");
    let (_, body) = token(
        &fake,
        &[("code", &q["code"]), ("grant_type", "authorization_code")],
    )
    .await;
    let limited = body["access_token"].as_str().unwrap().to_string();
    let me: Value = get(&fake, "/athlete", &limited).await.json().await.unwrap();
    assert!(me.get("measurement_preference").is_none());
    let res = get(&fake, "/athlete/activities", &limited).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "activity:read_permission");

    // Denial.
    fake.set_authorize_mode(AuthorizeMode::Deny);
    let q = authorize(&fake, "read", "s3").await;
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "s3");
    assert!(!q.contains_key("code"));

    // Unknown scope and client.
    let res = http()
        .get(format!(
            "{}/oauth/authorize?client_id=999&redirect_uri=http://a/&response_type=code",
            fake.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_rotation_expiry_and_deauthorization() {
    let fake = fake().await;
    let athlete = fake.add_athlete(NewAthlete::default()).unwrap();
    let first = fake.issue_tokens(athlete, "read,activity:read").unwrap();

    // With more than an hour left, a refresh hands back the same tokens and expiry.
    let (status, body) = token(
        &fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first.refresh_token),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["access_token"], first.access_token.as_str());
    assert_eq!(body["refresh_token"], first.refresh_token.as_str());
    assert_eq!(body["expires_at"], first.expires_at);
    fake.advance_clock(Duration::from_secs(5 * 3600 - 1))
        .unwrap();
    let (_, body) = token(
        &fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first.refresh_token),
        ],
    )
    .await;
    assert_eq!(body["access_token"], first.access_token.as_str());
    // An hour or less left: new tokens.
    fake.advance_clock(Duration::from_secs(1)).unwrap();

    let (status, body) = token(
        &fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first.refresh_token),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("athlete").is_none());
    assert_eq!(body["token_type"], "Bearer");
    let second_refresh = body["refresh_token"].as_str().unwrap().to_string();
    let second_access = body["access_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, first.refresh_token);
    assert_ne!(second_access, first.access_token);
    assert_eq!(body["expires_in"], 6 * 3600);

    // The old refresh token is dead at once.
    let (status, body) = token(
        &fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &first.refresh_token),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"message": "Bad Request", "errors": [
            {"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}]})
    );
    // The new one works (and rotates again).
    let (status, _) = token(
        &fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &second_refresh),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Access tokens expire after 6 hours of fake time.
    assert_eq!(
        get(&fake, "/athlete", &second_access).await.status(),
        StatusCode::OK
    );
    fake.advance_clock(Duration::from_secs(6 * 3600 + 1))
        .unwrap();
    let res = get(&fake, "/athlete", &second_access).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"message": "Authorization Error", "errors": [
            {"resource": "Athlete", "field": "access_token", "code": "invalid"}]})
    );

    // expire_access_tokens without moving the clock; then deauthorize revokes all.
    let fresh = fake.issue_tokens(athlete, "read").unwrap();
    fake.expire_access_tokens(Some(athlete));
    assert_eq!(
        get(&fake, "/athlete", &fresh.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let live = fake.issue_tokens(athlete, "read").unwrap();
    let res = http()
        .post(format!("{}/oauth/deauthorize", fake.base_url()))
        .form(&[("access_token", &live.access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        get(&fake, "/athlete", &live.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = token(
        &fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &live.refresh_token),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn page(fake: &FakeStrava, token: &str, query: &str) -> Vec<Value> {
    let res = get(fake, &format!("/athlete/activities?{query}"), token).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_filters_clamp_and_short_pages() {
    let fake = fake().await;
    fake.set_rate_limits(None);
    let athlete = fake.add_athlete(NewAthlete::default()).unwrap();
    let other = fake.add_athlete(NewAthlete::default()).unwrap();
    let generated = fake.generate_activities(athlete, 450).unwrap();
    assert_eq!(generated.len(), 450);
    fake.generate_activities(other, 10).unwrap();
    let t = fake
        .issue_tokens(athlete, "read,activity:read_all")
        .unwrap()
        .access_token;

    // Default page size 30, newest first.
    let first = page(&fake, &t, "").await;
    assert_eq!(first.len(), 30);
    let dates: Vec<&str> = first
        .iter()
        .map(|a| a["start_date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(first[0]["start_date"].as_str().unwrap().ends_with('Z'));
    assert!(
        first[0]["start_date_local"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    // per_page over 200 is clamped.
    let p1 = page(&fake, &t, "per_page=500&page=1").await;
    assert_eq!(p1.len(), 200);
    let p3 = page(&fake, &t, "per_page=200&page=3").await;
    assert_eq!(p3.len(), 50);
    assert!(page(&fake, &t, "per_page=200&page=4").await.is_empty());

    // before/after are epoch-second filters on start_date (exclusive).
    let all = fake.activities(athlete);
    let mid = &all[200];
    let cut = mid.start_date.timestamp();
    let before = page(&fake, &t, &format!("before={cut}&per_page=200")).await;
    assert_eq!(before.len(), 200);
    assert!(
        before
            .iter()
            .all(|a| a["id"].as_i64().unwrap() != mid.id.get())
    );
    let after = page(&fake, &t, &format!("after={cut}&per_page=200")).await;
    assert_eq!(after.len(), 200);
    let after2 = page(&fake, &t, &format!("after={cut}&per_page=200&page=2")).await;
    assert_eq!(after.len() + after2.len(), all.len() - 201);

    // Short pages: at most 37 per page; reading to the empty page still sees all.
    fake.set_short_pages(Some(37));
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        pages += 1;
        let items = page(&fake, &t, &format!("per_page=200&page={pages}")).await;
        if items.is_empty() {
            break;
        }
        assert!(items.len() <= 37);
        seen.extend(ids(&items));
    }
    assert_eq!(seen.len(), 450);
    assert_eq!(pages, 450 / 37 + 2);
    fake.set_short_pages(None);

    // Bad numbers are a 400 in Strava's shape.
    let res = get(&fake, "/athlete/activities?page=abc", &t).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["message"], "Bad Request");

    // Detail: own activity is a DetailedActivity; others' are 404.
    let one: Value = get(&fake, &format!("/activities/{}", generated[0]), &t)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["resource_state"], 3);
    assert!(one.get("calories").is_some() && one.get("description").is_some());
    let theirs = fake.activities(other)[0].id;
    let res = get(&fake, &format!("/activities/{theirs}"), &t).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Record Not Found"
    );

    // Private activities need activity:read_all.
    fake.update_activity(
        generated[449],
        ActivityUpdate {
            private: Some(true),
            ..ActivityUpdate::default()
        },
    )
    .unwrap();
    let read_only = fake
        .issue_tokens(athlete, "read,activity:read")
        .unwrap()
        .access_token;
    let newest = page(&fake, &read_only, "per_page=1").await;
    assert_ne!(newest[0]["id"], generated[449].get());
    let res = get(
        &fake,
        &format!("/activities/{}", generated[449]),
        &read_only,
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let newest = page(&fake, &t, "per_page=1").await;
    assert_eq!(newest[0]["id"], generated[449].get());
    assert_eq!(newest[0]["visibility"], "only_me");
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_with_after_pages_forward_oldest_first() {
    let fake = fake().await;
    fake.set_rate_limits(None);
    let athlete = fake.add_athlete(NewAthlete::default()).unwrap();
    fake.generate_activities(athlete, 60).unwrap();
    let t = fake
        .issue_tokens(athlete, "read,activity:read_all")
        .unwrap()
        .access_token;
    let all = fake.activities(athlete);
    let cut = all[9].start_date.timestamp();
    let oldest_after: Vec<i64> = all[10..].iter().map(|a| a.id.get()).collect();

    // Only `after`: oldest first, and page 2 carries on forward in time.
    let p1 = page(&fake, &t, &format!("after={cut}&per_page=20")).await;
    let p2 = page(&fake, &t, &format!("after={cut}&per_page=20&page=2")).await;
    assert_eq!(ids(&p1), oldest_after[..20]);
    assert_eq!(ids(&p2), oldest_after[20..40]);

    // `before` with `after`, or neither: newest first.
    let top = all[50].start_date.timestamp();
    let both = page(&fake, &t, &format!("after={cut}&before={top}&per_page=5")).await;
    let newest_below: Vec<i64> = all[45..50].iter().rev().map(|a| a.id.get()).collect();
    assert_eq!(ids(&both), newest_below);
    let plain = page(&fake, &t, "per_page=1").await;
    assert_eq!(ids(&plain), [all[59].id.get()]);

    // The switch restores newest first for `after` too.
    fake.set_ascending_with_after(false);
    let desc = page(&fake, &t, &format!("after={cut}&per_page=1")).await;
    assert_eq!(ids(&desc), [all[59].id.get()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn absent_values_are_left_out_and_recorded_activities_carry_temperature() {
    let fake = fake().await;
    let athlete = fake.add_athlete(NewAthlete::default()).unwrap();
    let manual = fake
        .upload_activity(
            athlete,
            NewActivity {
                manual: true,
                ..NewActivity::default()
            },
        )
        .unwrap();
    let recorded = fake
        .upload_activity(
            athlete,
            NewActivity {
                average_heartrate: Some(150.0),
                ..NewActivity::default()
            },
        )
        .unwrap();
    let t = fake
        .issue_tokens(athlete, "read,activity:read")
        .unwrap()
        .access_token;
    let listed = page(&fake, &t, "").await;
    let by_id = |id: i64| listed.iter().find(|a| a["id"] == id).unwrap().clone();
    let detail = |id: i64| {
        let fake = &fake;
        let t = t.clone();
        async move {
            get(fake, &format!("/activities/{id}"), &t)
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    for m in [by_id(manual.get()), detail(manual.get()).await] {
        for key in [
            "external_id",
            "upload_id_str",
            "suffer_score",
            "average_temp",
        ] {
            assert!(m.get(key).is_none(), "{key} should be absent: {m}");
        }
        assert_eq!(m["manual"], true);
    }
    let summary = by_id(recorded.get());
    let full = detail(recorded.get()).await;
    for r in [&summary, &full] {
        assert!(r["external_id"].is_string(), "{r}");
        assert!(r["upload_id_str"].is_string(), "{r}");
        assert!(r["suffer_score"].is_number(), "{r}");
        assert!(r["average_temp"].is_i64(), "{r}");
    }
    assert_eq!(summary["average_temp"], full["average_temp"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_answer_429_with_usage_headers() {
    let fake = fake().await;
    let athlete = fake.add_athlete(NewAthlete::default()).unwrap();
    // Freeze mid-window so the test cannot straddle a quarter hour.
    let start = chrono::DateTime::parse_from_rfc3339("2026-03-02T10:05:00Z")
        .unwrap()
        .to_utc();
    fake.set_now(Some(start)).unwrap();
    let t = fake.issue_tokens(athlete, "read").unwrap().access_token;
    fake.set_rate_limits(Some(RateLimits {
        overall_15min: 10,
        overall_daily: 100,
        read_15min: 3,
        read_daily: 100,
    }));

    for n in 1..=3 {
        let res = get(&fake, "/athlete", &t).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "x-ratelimit-limit"), "10,100");
        assert_eq!(header(&res, "x-ratelimit-usage"), format!("{n},{n}"));
        assert_eq!(header(&res, "x-readratelimit-limit"), "3,100");
        assert_eq!(header(&res, "x-readratelimit-usage"), format!("{n},{n}"));
    }
    let res = get(&fake, "/athlete", &t).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&res, "x-readratelimit-usage"), "4,4");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"message": "Rate Limit Exceeded", "errors": [
            {"resource": "Application", "field": "rate limit", "code": "exceeded"}]})
    );
    // Non-GET requests count only against the overall limit.
    let res = http()
        .post(format!("{}/push_subscriptions", fake.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&res, "x-ratelimit-usage"), "5,5");
    assert_eq!(header(&res, "x-readratelimit-usage"), "4,4");

    // The next quarter hour opens a new 15-minute window; the day keeps counting.
    fake.advance_clock(Duration::from_secs(10 * 60)).unwrap();
    let res = get(&fake, "/athlete", &t).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-ratelimit-usage"), "1,6");

    // A reset call zeroes usage without waiting.
    fake.reset_rate_usage();
    assert_eq!(fake.rate_usage().overall_daily, 0);

    // Turned off: no limits, no headers.
    fake.set_rate_limits(None);
    for _ in 0..5 {
        let res = get(&fake, "/athlete", &t).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get("x-ratelimit-usage").is_none());
    }
}

/// What the test callback answers.
#[derive(Default)]
struct Script {
    /// Echo a different challenge on GET.
    wrong_challenge: bool,
    /// Statuses for the next POSTs (200 once empty).
    post_statuses: VecDeque<u16>,
    /// Wait before answering POSTs.
    post_delay: Duration,
}

#[derive(Clone, Debug)]
struct Hit {
    method: String,
    target: String,
    body: String,
}

/// A tiny HTTP/1.1 responder on a tokio TcpListener, standing in for the gateway.
struct Callback {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<Script>>,
}

impl Callback {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(Script::default()));
        let (h, s) = (hits.clone(), script.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(answer(sock, h.clone(), s.clone()));
            }
        });
        Self { url, hits, script }
    }

    fn posts(&self) -> Vec<Value> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.method == "POST")
            .map(|h| serde_json::from_str(&h.body).unwrap())
            .collect()
    }
}

async fn answer(
    mut sock: tokio::net::TcpStream,
    hits: Arc<Mutex<Vec<Hit>>>,
    script: Arc<Mutex<Script>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = sock.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut first = head.lines().next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
    hits.lock().unwrap().push(Hit {
        method: method.clone(),
        target: target.clone(),
        body,
    });
    let (status, reply, delay) = {
        let mut s = script.lock().unwrap();
        if method == "GET" {
            let q = query_map(&target);
            let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
            let echoed = if s.wrong_challenge {
                "not-it".to_string()
            } else {
                challenge
            };
            (
                200,
                json!({"hub.challenge": echoed}).to_string(),
                Duration::ZERO,
            )
        } else {
            let status = s.post_statuses.pop_front().unwrap_or(200);
            (status, "{}".to_string(), s.post_delay)
        }
    };
    tokio::time::sleep(delay).await;
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = sock.write_all(response.as_bytes()).await;
}

async fn subscribe(fake: &FakeStrava, callback: &str, verify: &str) -> (StatusCode, Value) {
    let res = http()
        .post(format!("{}/push_subscriptions", fake.api_url()))
        .form(&[
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
            ("callback_url", callback),
            ("verify_token", verify),
        ])
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn push_subscription_handshake_view_delete() {
    let fake = fake().await;
    let cb = Callback::start().await;

    cb.script.lock().unwrap().wrong_challenge = true;
    let (status, body) = subscribe(&fake, &cb.url, "tok3n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["resource"], "PushSubscription");
    assert!(fake.subscription().is_none());
    let handshake = cb.hits.lock().unwrap()[0].clone();
    assert_eq!(handshake.method, "GET");
    let q = query_map(&handshake.target);
    assert_eq!(q["hub.mode"], "subscribe");
    assert_eq!(q["hub.verify_token"], "tok3n");
    assert!(!q["hub.challenge"].is_empty());

    // Nobody listening: also refused.
    let (status, _) = subscribe(&fake, "http://127.0.0.1:9/none", "t").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    cb.script.lock().unwrap().wrong_challenge = false;
    let (status, body) = subscribe(&fake, &cb.url, "tok3n").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    assert_eq!(fake.subscription().unwrap().id, id);
    // Creating answers with the whole subscription, the same object viewing lists.
    assert_eq!(body["callback_url"], cb.url.as_str());
    assert_eq!(body["application_id"], 1234);
    assert_eq!(body["resource_state"], 2);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    let created = body;

    let (status, body) = subscribe(&fake, &cb.url, "tok3n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["code"], "already exists");

    let list: Value = http()
        .get(format!("{}/push_subscriptions", fake.api_url()))
        .query(&[
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0], created);
    assert_eq!(list[0]["callback_url"], cb.url.as_str());
    assert_eq!(list[0]["resource_state"], 2);
    assert_eq!(list[0]["application_id"], 1234);
    assert!(list[0]["created_at"].as_str().unwrap().ends_with('Z'));

    let wrong = http()
        .get(format!("{}/push_subscriptions", fake.api_url()))
        .query(&[("client_id", fake.client_id()), ("client_secret", "bad")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let res = http()
        .delete(format!("{}/push_subscriptions/{id}", fake.api_url()))
        .query(&[
            ("client_id", fake.client_id()),
            ("client_secret", fake.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(fake.subscription().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_push_webhooks_with_retries() {
    let fake = fake().await;
    let cb = Callback::start().await;
    let athlete = fake.add_athlete(NewAthlete::default()).unwrap();

    // Without a subscription nothing is sent.
    let early = fake
        .upload_activity(athlete, NewActivity::default())
        .unwrap();
    let d = fake.wait_for_deliveries(1, Duration::from_secs(2)).await;
    assert_eq!(d[0].outcome, DeliveryOutcome::NoSubscription);

    let (status, body) = subscribe(&fake, &cb.url, "v").await;
    assert!(status.is_success());
    let sub = body["id"].as_i64().unwrap();

    // Two failures, then success: three attempts.
    cb.script.lock().unwrap().post_statuses = VecDeque::from([500, 503]);
    let id = fake
        .upload_activity(
            athlete,
            NewActivity {
                name: Some("Lunch Run".into()),
                ..NewActivity::default()
            },
        )
        .unwrap();
    let d = fake.wait_for_deliveries(2, Duration::from_secs(5)).await;
    assert_eq!(d[1].outcome, DeliveryOutcome::Delivered);
    let statuses: Vec<_> = d[1].attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![Some(500), Some(503), Some(200)]);
    let posts = cb.posts();
    assert_eq!(posts.len(), 3);
    let event = &posts[2];
    let keys: HashSet<&str> = event
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        HashSet::from([
            "aspect_type",
            "event_time",
            "object_id",
            "object_type",
            "owner_id",
            "subscription_id",
            "updates"
        ])
    );
    assert_eq!(event["aspect_type"], "create");
    assert_eq!(event["object_type"], "activity");
    assert_eq!(event["object_id"], id.get());
    assert_eq!(event["owner_id"], athlete.get());
    assert_eq!(event["subscription_id"], sub);
    assert_eq!(event["updates"], json!({}));
    assert!((event["event_time"].as_i64().unwrap() - fake.now().timestamp()).abs() < 5);

    // Updates carry Strava's keys and string values.
    fake.update_activity(
        id,
        ActivityUpdate {
            name: Some("New name".into()),
            sport_type: Some("TrailRun".into()),
            private: Some(true),
            ..ActivityUpdate::default()
        },
    )
    .unwrap();
    fake.delete_activity(early).unwrap();
    fake.deauthorize_athlete(athlete).unwrap();
    let d = fake.wait_for_deliveries(5, Duration::from_secs(5)).await;
    assert!(d.iter().all(|x| x.outcome != DeliveryOutcome::Pending));
    let update = &d[2].event;
    assert_eq!(update.aspect_type, "update");
    assert_eq!(update.updates["title"], "New name");
    // A sport change names the new sport_type, and type its legacy equivalent.
    assert_eq!(update.updates["sport_type"], "TrailRun");
    assert_eq!(update.updates["type"], "Run");
    assert_eq!(update.updates["private"], "true");
    assert_eq!(d[3].event.aspect_type, "delete");
    assert_eq!(d[3].event.object_id, early.get());
    let deauth = &d[4].event;
    assert_eq!(
        (deauth.object_type.as_str(), deauth.aspect_type.as_str()),
        ("athlete", "update")
    );
    assert_eq!(deauth.object_id, athlete.get());
    assert_eq!(deauth.updates["authorized"], "false");

    // A callback that never answers 200 gets exactly three attempts, then the
    // event is given up; a slow one counts as failed too.
    cb.script.lock().unwrap().post_statuses = VecDeque::from([500, 500, 500]);
    fake.upload_activity(athlete, NewActivity::default())
        .unwrap();
    let d = fake.wait_for_deliveries(6, Duration::from_secs(5)).await;
    assert_eq!(d[5].outcome, DeliveryOutcome::Failed);
    assert_eq!(d[5].attempts.len(), 3);

    fake.set_webhook(WebhookConfig {
        attempts: 2,
        timeout: Duration::from_millis(100),
        retry_delay: Duration::from_millis(10),
    });
    cb.script.lock().unwrap().post_delay = Duration::from_millis(400);
    fake.upload_activity(athlete, NewActivity::default())
        .unwrap();
    let d = fake.wait_for_deliveries(7, Duration::from_secs(5)).await;
    assert_eq!(d[6].outcome, DeliveryOutcome::Failed);
    assert_eq!(d[6].attempts.len(), 2);
    assert!(
        d[6].attempts
            .iter()
            .all(|a| a.status.is_none() && a.error.is_some())
    );
}

/// Runs on a current-thread runtime on purpose: the fake must not need more.
#[tokio::test]
async fn fault_injection_errors_and_delays() {
    let fake = fake().await;
    let athlete = fake.add_athlete(NewAthlete::default()).unwrap();
    let t = fake.issue_tokens(athlete, "read").unwrap().access_token;
    let before = fake.request_count();

    fake.fail_next_matching(2, Some("/api/v3/athlete"), 500);
    for _ in 0..2 {
        let res = get(&fake, "/athlete", &t).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert_eq!(get(&fake, "/athlete", &t).await.status(), StatusCode::OK);

    // A prefix that does not match leaves requests alone.
    fake.fail_next_matching(1, Some("/oauth"), 503);
    assert_eq!(get(&fake, "/athlete", &t).await.status(), StatusCode::OK);
    fake.clear_faults();

    fake.fail_next(1);
    assert_eq!(
        get(&fake, "/athlete", &t).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );

    fake.delay_next(1, Duration::from_millis(300), None);
    let started = Instant::now();
    assert_eq!(get(&fake, "/athlete", &t).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(get(&fake, "/athlete", &t).await.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(300));

    assert_eq!(fake.request_count() - before, 7);
    let log = fake.requests();
    assert_eq!(log.last().unwrap().path, "/api/v3/athlete");
    assert_eq!(log[log.len() - 3].status, 500);
}

#[tokio::test(flavor = "multi_thread")]
async fn control_api_over_http() {
    let fake = fake().await;
    let base = format!("{}/_fake", fake.base_url());
    let c = http();
    let a: Value = c
        .post(format!("{base}/athletes"))
        .json(
            &json!({"id": 77, "firstname": "Kim", "measurement_preference": "feet",
                      "timezone": "(GMT-05:00) America/New_York"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["id"], 77);
    let g: Value = c
        .post(format!("{base}/athletes/77/generate"))
        .json(&json!({"count": 25}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(g["count"], 25);
    // Home activities moved to the athlete's zone.
    let acts = fake.activities(AthleteId(77));
    assert!(
        acts.iter()
            .any(|x| x.timezone.as_deref() == Some("(GMT-05:00) America/New_York"))
    );
    let pair: Value = c
        .post(format!("{base}/athletes/77/tokens"))
        .json(&json!({"scope": "read,activity:read_all"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = pair["access_token"].as_str().unwrap();
    let res = c
        .put(format!("{base}/short_pages"))
        .json(&json!({"max": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(page(&fake, t, "per_page=200").await.len(), 10);
    let res = c
        .post(format!("{base}/faults"))
        .json(&json!({"kind": "fail", "count": 1, "status": 502}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&fake, "/athlete", t).await.status(),
        StatusCode::BAD_GATEWAY
    );
    let res = c
        .post(format!("{base}/athletes"))
        .json(&json!({"id": 77}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = c
        .post(format!("{base}/athletes"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let state: Value = c
        .get(format!("{base}/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["activity_count"], 25);
    let seeded: Value = c
        .post(format!("{base}/seed"))
        .json(
            &json!({"athletes": [{"id": 88, "firstname": "Seed", "generate": 5,
            "activities": [{"id": 5, "name": "Saved Run", "sport_type": "TrailRun",
                "start_date": "2024-05-01T16:00:00Z", "start_date_local": "2024-05-01T18:00:00Z",
                "distance": 5012.3, "moving_time": 1510}]}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seeded["athletes"], json!([88]));
    let seeded_acts = fake.activities(AthleteId(88));
    assert_eq!(seeded_acts.len(), 6);
    // Generated history goes back from before the oldest activity already there.
    assert_eq!(seeded_acts[5].name, "Saved Run");
    let t88 = fake
        .issue_tokens(AthleteId(88), "activity:read")
        .unwrap()
        .access_token;
    let one: Value = get(&fake, "/activities/5", &t88)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["type"], "Run");
    assert_eq!(one["sport_type"], "TrailRun");
    assert_eq!(one["start_date_local"], "2024-05-01T18:00:00Z");
    assert_eq!(one["utc_offset"], 7200.0);
    let res = c
        .put(format!("{base}/clock"))
        .json(&json!({"advance_secs": 7 * 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        get(&fake, "/athlete", t).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A clock pushed out of range is refused, not a panic.
    let res = c
        .put(format!("{base}/clock"))
        .json(&json!({"advance_secs": i64::MAX / 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    fake.stop().await;
}
