//! What the webhook, worker, backfill and import tests share: a gateway on port 0
//! against a database of its own and a fake Strava, connected athletes, workers.

use chrono::{TimeDelta, Utc};
use db::tokens::StravaTokens;
use domain::{AthleteId, Secret};
use service::Env;
use std::future::Future;
use std::time::{Duration, Instant};
use strava_fake::{FakeConfig, FakeStrava, NewAthlete};
use strava_gateway::Settings;
use strava_gateway::worker::{Context, Workers};
use testkit::TestDb;

/// 32 bytes 0..31, base64.
pub const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
/// The verify token the gateway expects in the handshake.
pub const VERIFY: &str = "verify-me-please";
/// The id a fresh fake gives its first push subscription; the gateway is pinned to
/// it, so events posted by tests and those the fake pushes once subscribed both pass.
pub const SUBSCRIPTION: i64 = 120_001;

/// A database, a fake Strava and the settings that join them.
pub struct Harness {
    pub db: TestDb,
    pub fake: FakeStrava,
    pub settings: Settings,
}

impl Harness {
    /// A fresh database and a fake with `config`; `extra` variables override the
    /// defaults (e.g. `WORKER_COUNT`).
    pub async fn new(config: FakeConfig, extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let fake = FakeStrava::start(config).await.expect("fake Strava starts");
        let settings = settings(&db, &fake, extra);
        Self { db, fake, settings }
    }

    /// A fake without rate limits, and our governor off (its fallback budget would
    /// otherwise hold back the 101st read of a quarter hour).
    pub async fn plain(extra: &[(&str, &str)]) -> Self {
        let config = FakeConfig {
            rate_limits: None,
            ..FakeConfig::default()
        };
        let mut vars = vec![("STRAVA_RATE_LIMITS", "false")];
        vars.extend_from_slice(extra);
        Self::new(config, &vars).await
    }

    /// Starts the HTTP app; returns its base URL.
    pub fn start_app(&self) -> String {
        let app = strava_gateway::startup::build(&self.settings, self.db.pool().clone())
            .expect("app builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        base
    }

    /// Starts workers per the settings.
    pub fn start_workers(&self) -> Workers {
        Workers::spawn(self.context())
    }

    /// What workers need, from the settings.
    pub fn context(&self) -> Context {
        let pool = self.db.pool().clone();
        Context {
            strava: strava_gateway::strava::StravaClient::new(&self.settings.strava, pool.clone()),
            pool,
            cipher: self.settings.token_cipher.clone(),
            settings: self.settings.worker.clone(),
        }
    }

    /// Subscribes the fake's webhooks to `base/webhook` (the fake does the handshake).
    pub async fn subscribe(&self, base: &str) -> i64 {
        let res = reqwest::Client::new()
            .post(format!("{}/push_subscriptions", self.fake.api_url()))
            .form(&[
                ("client_id", self.fake.client_id()),
                ("client_secret", self.fake.client_secret()),
                ("callback_url", &format!("{base}/webhook")),
                ("verify_token", VERIFY),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            201,
            "subscription: {}",
            res.text().await.unwrap()
        );
        self.fake.subscription().expect("subscribed").id
    }

    /// Adds an athlete to the fake and connects them: athlete row plus tokens the
    /// fake issued, as the OAuth callback would store them.
    pub async fn connect(&self, firstname: &str) -> AthleteId {
        let athlete = self
            .fake
            .add_athlete(NewAthlete {
                firstname: firstname.into(),
                ..NewAthlete::default()
            })
            .unwrap();
        self.store_athlete(athlete, firstname).await;
        athlete
    }

    /// Stores an athlete row and fresh tokens for an athlete the fake knows.
    pub async fn store_athlete(&self, athlete: AthleteId, firstname: &str) {
        let pair = self
            .fake
            .issue_tokens(athlete, "read,activity:read_all")
            .unwrap();
        let mut conn = self.db.pool().get().await.unwrap();
        db::athletes::upsert(
            &mut conn,
            &db::athletes::AthleteUpsert {
                id: athlete.get(),
                firstname: firstname.into(),
                lastname: "Test".into(),
                measurement_preference: domain::Units::Metric,
                timezone: None,
                is_demo: false,
            },
        )
        .await
        .unwrap();
        let tokens = StravaTokens {
            access_token: Secret::new(pair.access_token),
            refresh_token: Secret::new(pair.refresh_token),
            expires_at: chrono::DateTime::from_timestamp(pair.expires_at, 0)
                .unwrap_or_else(|| Utc::now() + TimeDelta::hours(6)),
            scopes: "read,activity:read_all".into(),
        };
        db::tokens::save(&mut conn, &self.settings.token_cipher, athlete, &tokens)
            .await
            .unwrap();
    }

    /// The athlete's stored activities as (id, name), by id.
    pub async fn stored(&self, athlete: AthleteId) -> Vec<(i64, String)> {
        use db::schema::activities::dsl as a;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        let mut conn = self.db.pool().get().await.unwrap();
        a::activities
            .filter(a::athlete_id.eq(athlete.get()))
            .order(a::id)
            .select((a::id, a::name))
            .load(&mut conn)
            .await
            .unwrap()
    }

    /// The fake's activities of the athlete as (id, name), by id.
    pub fn on_strava(&self, athlete: AthleteId) -> Vec<(i64, String)> {
        let mut v: Vec<(i64, String)> = self
            .fake
            .activities(athlete)
            .into_iter()
            .map(|a| (a.id.get(), a.name))
            .collect();
        v.sort();
        v
    }

    /// Rows per inbox status.
    pub async fn inbox(&self) -> Vec<db::inbox::Event> {
        let mut conn = self.db.pool().get().await.unwrap();
        db::inbox::all(&mut conn).await.unwrap()
    }

    /// Runs a SQL statement (test set-up and inspection).
    pub async fn exec(&self, sql: &str) {
        use diesel_async::RunQueryDsl;
        let mut conn = self.db.pool().get().await.unwrap();
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
}

/// Settings for a gateway on port 0 that talks to `fake`.
pub fn settings(db: &TestDb, fake: &FakeStrava, extra: &[(&str, &str)]) -> Settings {
    let oauth = format!("{}/oauth", fake.base_url());
    let api = fake.api_url();
    let mut vars: Vec<(&str, &str)> = vec![
        ("DATABASE_URL", db.url()),
        ("PORT", "0"),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("TOKEN_ENCRYPTION_KEY", KEY),
        ("STRAVA_CLIENT_ID", fake.client_id()),
        ("STRAVA_CLIENT_SECRET", fake.client_secret()),
        ("STRAVA_OAUTH_BASE_URL", &oauth),
        ("STRAVA_API_BASE_URL", &api),
        ("STRAVA_WEBHOOK_VERIFY_TOKEN", VERIFY),
        ("GATEWAY_PUBLIC_URL", "http://127.0.0.1:9"),
        ("TALK_APP_URL", "http://127.0.0.1:8"),
        ("OAUTH_STATE_SECRET", "0123456789abcdef0123456789abcdef"),
        ("WORKER_POLL_INTERVAL_MS", "200"),
        ("STRAVA_SUBSCRIPTION_ID", "120001"),
        // Storms in tests are one athlete's; the cap has tests of its own.
        ("WEBHOOK_OWNER_CALLS_PER_QUARTER", "100000"),
        ("WEBHOOK_OWNER_CALLS_PER_DAY", "100000"),
        ("WORKER_RETRY_BASE_SECS", "1"),
        // Tests drive upkeep themselves.
        ("UPKEEP_INTERVAL_SECS", "0"),
    ];
    // An empty value in `extra` removes the variable.
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        if !v.is_empty() {
            vars.push((k, v));
        }
    }
    let env = Env::from_pairs(None, strava_gateway::settings::DEFAULTS, &vars).unwrap();
    Settings::from_env(&env).unwrap()
}

/// Polls `check` every 50 ms until it holds or `timeout` passes; says which.
pub async fn wait_until<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An event body as Strava posts it.
pub fn event(
    object_type: &str,
    object_id: i64,
    aspect: &str,
    owner: i64,
    subscription: i64,
    time: i64,
    updates: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "object_type": object_type, "object_id": object_id, "aspect_type": aspect,
        "owner_id": owner, "subscription_id": subscription, "event_time": time,
        "updates": updates,
    })
}
