//! The gateway's configuration, read once at start-up.

use db::crypto::TokenCipher;
use domain::Secret;
use service::telemetry::LogFormat;
use service::{ConfigError, DbSettings, Env, HttpSettings};
use std::path::Path;
use std::time::Duration;

/// Defaults for values with a sensible one; everything else must be given.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("BIND_ADDRESS", "0.0.0.0"),
    ("PORT", "8081"),
    ("LOG_FORMAT", "pretty"),
];

/// Loads the configuration sources for this service.
pub fn load_env(file: Option<&Path>) -> Result<Env, ConfigError> {
    Env::load(file, DEFAULTS)
}

/// What `serve` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    pub db: DbSettings,
    pub log_format: LogFormat,
    /// Seals Strava tokens at rest (`TOKEN_ENCRYPTION_KEY`).
    pub token_cipher: TokenCipher,
    /// Background workers: events, backfill, reconciliation, retention.
    pub worker: WorkerSettings,
    /// How to reach Strava, as this application (`STRAVA_*`).
    pub strava: StravaSettings,
    /// The OAuth connect flow (`GATEWAY_PUBLIC_URL`, `TALK_APP_URL`, `OAUTH_STATE_SECRET`).
    pub oauth: OAuthSettings,
    /// The token Strava's subscription handshake must echo (`STRAVA_WEBHOOK_VERIFY_TOKEN`).
    pub webhook_verify_token: Secret<String>,
}

impl Settings {
    /// Reads and checks every value `serve` uses.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let token_cipher = token_cipher(env)?;
        Ok(Self {
            http: HttpSettings::from_env(env)?,
            db: DbSettings::from_env(env)?,
            log_format: env.required("LOG_FORMAT")?,
            token_cipher,
            worker: WorkerSettings::from_env(env)?,
            strava: StravaSettings::from_env(env)?,
            oauth: OAuthSettings::from_env(env)?,
            webhook_verify_token: env.secret("STRAVA_WEBHOOK_VERIFY_TOKEN")?,
        })
    }
}

/// The key that seals Strava tokens at rest (`TOKEN_ENCRYPTION_KEY`).
pub fn token_cipher(env: &Env) -> Result<TokenCipher, ConfigError> {
    let key = env.secret("TOKEN_ENCRYPTION_KEY")?;
    TokenCipher::from_base64(&key).map_err(|e| ConfigError::Invalid {
        var: "TOKEN_ENCRYPTION_KEY",
        reason: e.to_string(),
    })
}

/// Strava's production OAuth endpoints (authorize, token, deauthorize live under it).
pub const STRAVA_OAUTH_BASE_URL: &str = "https://www.strava.com/oauth";
/// Strava's production API.
pub const STRAVA_API_BASE_URL: &str = "https://www.strava.com/api/v3";

/// How the gateway talks to Strava as one application: read by `serve`,
/// `subscription` and `disconnect`.
#[derive(Debug, Clone)]
pub struct StravaSettings {
    /// The application's id (`STRAVA_CLIENT_ID`).
    pub client_id: String,
    /// The application's secret (`STRAVA_CLIENT_SECRET`).
    pub client_secret: Secret<String>,
    /// `STRAVA_OAUTH_BASE_URL` (default [`STRAVA_OAUTH_BASE_URL`]), no trailing slash.
    pub oauth_base_url: String,
    /// Where browsers are sent to approve (`STRAVA_AUTHORIZE_BASE_URL`, default the OAuth
    /// base URL). Differs only when the gateway reaches the OAuth server by another
    /// name than browsers do, as with the fake Strava under docker compose.
    pub authorize_base_url: String,
    /// `STRAVA_API_BASE_URL` (default [`STRAVA_API_BASE_URL`]), no trailing slash.
    pub api_base_url: String,
    /// Obey the shared rate-limit budget (`STRAVA_RATE_LIMITS`, default `true`);
    /// `false` is for benchmarks against the fake only.
    pub rate_limits: bool,
    /// When a budget is spent and it resets within this long, wait instead of
    /// answering `RateLimited` (`STRAVA_RATE_LIMIT_MAX_WAIT_SECS`, default 5).
    pub rate_limit_max_wait: Duration,
    /// Our push subscription's id (`STRAVA_SUBSCRIPTION_ID`, optional): pins the id
    /// webhook events must carry. Unset, `serve` learns it from Strava and accepts no
    /// event until it knows it.
    pub subscription_id: Option<i64>,
}

impl StravaSettings {
    /// Reads the `STRAVA_*` variables the API client needs.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let client_id: String = env.required("STRAVA_CLIENT_ID")?;
        if !client_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(ConfigError::Invalid {
                var: "STRAVA_CLIENT_ID",
                reason: "must be the numeric client id from Strava's API settings page".into(),
            });
        }
        let oauth_base_url = base_url(env, "STRAVA_OAUTH_BASE_URL", Some(STRAVA_OAUTH_BASE_URL))?;
        Ok(Self {
            client_id,
            client_secret: env.secret("STRAVA_CLIENT_SECRET")?,
            authorize_base_url: base_url(env, "STRAVA_AUTHORIZE_BASE_URL", Some(&oauth_base_url))?,
            oauth_base_url,
            api_base_url: base_url(env, "STRAVA_API_BASE_URL", Some(STRAVA_API_BASE_URL))?,
            rate_limits: env.optional("STRAVA_RATE_LIMITS")?.unwrap_or(true),
            rate_limit_max_wait: Duration::from_secs(
                env.optional("STRAVA_RATE_LIMIT_MAX_WAIT_SECS")?
                    .unwrap_or(5),
            ),
            subscription_id: env.optional("STRAVA_SUBSCRIPTION_ID")?,
        })
    }
}

/// The browser side of connecting Strava: read by `serve`.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Where browsers and Strava reach this gateway (`GATEWAY_PUBLIC_URL`); the
    /// OAuth `redirect_uri` and the webhook callback are built from it.
    pub gateway_public_url: String,
    /// talk-app's public URL (`TALK_APP_URL`); `/auth/complete` lives there.
    pub talk_app_url: String,
    /// Signs the OAuth `state` (`OAUTH_STATE_SECRET`, at least 32 characters).
    pub state_secret: Secret<String>,
}

impl OAuthSettings {
    /// Reads `GATEWAY_PUBLIC_URL`, `TALK_APP_URL` and `OAUTH_STATE_SECRET`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let state_secret = env.secret("OAUTH_STATE_SECRET")?;
        if state_secret.expose().len() < 32 {
            return Err(ConfigError::Invalid {
                var: "OAUTH_STATE_SECRET",
                reason: "must be at least 32 characters (e.g. `openssl rand -base64 32`)".into(),
            });
        }
        Ok(Self {
            gateway_public_url: public_url(env)?,
            talk_app_url: base_url(env, "TALK_APP_URL", None)?,
            state_secret,
        })
    }
}

/// `GATEWAY_PUBLIC_URL`, checked and without a trailing slash.
pub fn public_url(env: &Env) -> Result<String, ConfigError> {
    base_url(env, "GATEWAY_PUBLIC_URL", None)
}

/// `var` as a base URL, else `default`; required when there is no default.
fn base_url(env: &Env, var: &'static str, default: Option<&str>) -> Result<String, ConfigError> {
    env.url(var)?
        .or_else(|| default.map(str::to_owned))
        .ok_or(ConfigError::Missing { var })
}

/// How the background workers run (`WORKER_*`, `WEBHOOK_MAX_ATTEMPTS`,
/// `WEBHOOK_OWNER_CALLS_PER_QUARTER`, `RECONCILE_*`, `RETENTION_MAX_AGE_DAYS`,
/// `UPKEEP_INTERVAL_SECS`); every value has a default.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerSettings {
    /// Workers per process for Strava's work: webhook events, backfill,
    /// reconciliation, retention (`WORKER_COUNT`, default 2; 0 runs no worker of
    /// either lane).
    pub count: usize,
    /// Workers per process that import uploaded exports, and nothing else
    /// (`IMPORT_WORKER_COUNT`, default 1): uploads come from anyone, so they have a
    /// lane of their own and Strava's work never waits behind them.
    pub import_count: usize,
    /// Longest one upload's import may run before it fails for good
    /// (`IMPORT_TIME_LIMIT_SECS`, default 600).
    pub import_time_limit: Duration,
    /// Most activities an account may hold after importing an upload
    /// (`UPLOAD_MAX_ACTIVITIES`, default 100000: Strava's busiest athletes have tens
    /// of thousands).
    pub upload_max_activities: usize,
    /// Longest idle wait before looking for work when no notification came
    /// (`WORKER_POLL_INTERVAL_MS`, default 2000).
    pub poll_interval: Duration,
    /// How long a claimed event or job is ours before another worker may take it
    /// (`WORKER_LEASE_SECS`, default 120); long jobs renew it as they go.
    pub lease: Duration,
    /// First retry delay, doubled per attempt (`WORKER_RETRY_BASE_SECS`, default 5).
    pub retry_base: Duration,
    /// Attempts before a webhook event stays failed (`WEBHOOK_MAX_ATTEMPTS`, default 8).
    pub max_attempts: i32,
    /// Days of activities reconciliation re-lists (`RECONCILE_DAYS`, default 30).
    pub reconcile_days: i64,
    /// How often each athlete is reconciled (`RECONCILE_EVERY_HOURS`, default 24).
    pub reconcile_every: Duration,
    /// API rows must be refreshed within this age (`RETENTION_MAX_AGE_DAYS`, default 7).
    pub retention_max_age: Duration,
    /// How often the upkeep sweep (reconcile and retention scheduling) runs
    /// (`UPKEEP_INTERVAL_SECS`, default 3600; 0 turns it off).
    pub upkeep_interval: Duration,
    /// Strava calls the events of one athlete may spend per quarter hour
    /// (`WEBHOOK_OWNER_CALLS_PER_QUARTER`, default 15); later events wait for the next
    /// quarter, so one athlete's burst, real or forged, cannot spend the budget every
    /// other athlete shares.
    pub owner_calls_per_quarter: i32,
    /// Strava calls the events of one athlete may spend per UTC day
    /// (`WEBHOOK_OWNER_CALLS_PER_DAY`, default 100: a tenth of Strava's default daily
    /// read limit, far above any real athlete's day of events).
    pub owner_calls_per_day: i32,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            count: 2,
            import_count: 1,
            import_time_limit: Duration::from_secs(600),
            upload_max_activities: 100_000,
            poll_interval: Duration::from_millis(2000),
            lease: Duration::from_secs(120),
            retry_base: Duration::from_secs(5),
            max_attempts: 8,
            reconcile_days: 30,
            reconcile_every: Duration::from_secs(24 * 3600),
            retention_max_age: Duration::from_secs(7 * 24 * 3600),
            upkeep_interval: Duration::from_secs(3600),
            owner_calls_per_quarter: 15,
            owner_calls_per_day: 100,
        }
    }
}

impl WorkerSettings {
    /// Reads the worker variables, falling back to the defaults.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let positive = |var: &'static str, v: u64| {
            if v == 0 {
                Err(ConfigError::Invalid {
                    var,
                    reason: "must be at least 1".into(),
                })
            } else {
                Ok(v)
            }
        };
        let secs = |var: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            Ok(env
                .optional::<u64>(var)?
                .map(|v| positive(var, v).map(Duration::from_secs))
                .transpose()?
                .unwrap_or(default))
        };
        let max_attempts: i32 = env
            .optional("WEBHOOK_MAX_ATTEMPTS")?
            .unwrap_or(d.max_attempts);
        if max_attempts < 1 {
            return Err(ConfigError::Invalid {
                var: "WEBHOOK_MAX_ATTEMPTS",
                reason: "must be at least 1".into(),
            });
        }
        let reconcile_days = env
            .optional::<u64>("RECONCILE_DAYS")?
            .map(|v| positive("RECONCILE_DAYS", v))
            .transpose()?
            .map_or(d.reconcile_days, |v| v as i64);
        let retention_days = env
            .optional::<u64>("RETENTION_MAX_AGE_DAYS")?
            .map(|v| positive("RETENTION_MAX_AGE_DAYS", v))
            .transpose()?;
        let reconcile_hours = env
            .optional::<u64>("RECONCILE_EVERY_HOURS")?
            .map(|v| positive("RECONCILE_EVERY_HOURS", v))
            .transpose()?;
        Ok(Self {
            count: env.optional("WORKER_COUNT")?.unwrap_or(d.count),
            import_count: env
                .optional("IMPORT_WORKER_COUNT")?
                .unwrap_or(d.import_count),
            import_time_limit: secs("IMPORT_TIME_LIMIT_SECS", d.import_time_limit)?,
            upload_max_activities: env
                .optional::<u64>("UPLOAD_MAX_ACTIVITIES")?
                .map(|v| positive("UPLOAD_MAX_ACTIVITIES", v))
                .transpose()?
                .map_or(d.upload_max_activities, |v| {
                    usize::try_from(v).unwrap_or(usize::MAX)
                }),
            poll_interval: env
                .optional::<u64>("WORKER_POLL_INTERVAL_MS")?
                .map(|v| positive("WORKER_POLL_INTERVAL_MS", v).map(Duration::from_millis))
                .transpose()?
                .unwrap_or(d.poll_interval),
            lease: secs("WORKER_LEASE_SECS", d.lease)?,
            retry_base: secs("WORKER_RETRY_BASE_SECS", d.retry_base)?,
            max_attempts,
            reconcile_days,
            reconcile_every: reconcile_hours
                .map_or(d.reconcile_every, |h| Duration::from_secs(h * 3600)),
            retention_max_age: retention_days.map_or(d.retention_max_age, |days| {
                Duration::from_secs(days * 86_400)
            }),
            upkeep_interval: env
                .optional::<u64>("UPKEEP_INTERVAL_SECS")?
                .map_or(d.upkeep_interval, Duration::from_secs),
            owner_calls_per_quarter: env
                .optional::<u64>("WEBHOOK_OWNER_CALLS_PER_QUARTER")?
                .map(|v| positive("WEBHOOK_OWNER_CALLS_PER_QUARTER", v))
                .transpose()?
                .map_or(d.owner_calls_per_quarter, |v| v.min(i32::MAX as u64) as i32),
            owner_calls_per_day: env
                .optional::<u64>("WEBHOOK_OWNER_CALLS_PER_DAY")?
                .map(|v| positive("WEBHOOK_OWNER_CALLS_PER_DAY", v))
                .transpose()?
                .map_or(d.owner_calls_per_day, |v| v.min(i32::MAX as u64) as i32),
        })
    }
}
