//! talk-app's configuration, read once at start-up.

use domain::Secret;
use service::telemetry::LogFormat;
use service::{ConfigError, DbSettings, Env, HttpSettings};
use std::path::Path;

/// Defaults for values with a sensible one; everything else must be given.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("BIND_ADDRESS", "0.0.0.0"),
    ("PORT", "8080"),
    ("LOG_FORMAT", "pretty"),
    ("SESSION_TTL_HOURS", "720"),
    ("QUESTIONS_PER_MINUTE", "30"),
    ("QUESTIONS_IN_FLIGHT", "2"),
    ("DEMO_MAX_COPIES", "200"),
    ("DEMO_COPIES_PER_CLIENT", "3"),
    ("UPLOAD_MAX_ACCOUNTS", "200"),
    ("UPLOAD_IDLE_SECS", "20"),
    ("UPLOAD_RATE_GRACE_SECS", "30"),
    // 200 MiB: a Strava export of years of GPS files runs to tens of megabytes.
    ("UPLOAD_MAX_BYTES", "209715200"),
];

/// Shortest accepted `SESSION_SECRET`, in bytes: HS256 wants at least its output size.
pub const MIN_SESSION_SECRET_BYTES: usize = 32;

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
    pub web: WebSettings,
    /// The optional language-model fallback; `None` when not configured.
    pub llm: Option<crate::llm::LlmSettings>,
}

/// Sessions, cookies, links to the gateway, the limits on asking and on demo copies.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Signs session cookies (HS256).
    pub session_secret: Secret<String>,
    /// How long a session lasts.
    pub session_ttl: chrono::Duration,
    /// The gateway's public base URL, for "Connect with Strava"; `None` when Strava is
    /// not configured.
    pub gateway_public_url: Option<String>,
    /// Whether cookies carry `Secure`.
    pub cookie_secure: bool,
    /// Questions per athlete per minute, however they are asked.
    pub questions_per_minute: i32,
    /// Questions per athlete being answered at the same time.
    pub questions_in_flight: i16,
    /// Demo copies that may exist at once (each is a copy of the demo's activities).
    pub demo_max_copies: i64,
    /// The largest export archive accepted for upload, in bytes.
    pub upload_max_bytes: u64,
    /// Demo copies one client address may hold at once (`DEMO_COPIES_PER_CLIENT`).
    pub demo_copies_per_client: i64,
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: crate::client::TrustedProxies,
    /// Accounts made from an upload (no Strava connection) that may exist at once;
    /// 0 turns uploads from the home page off.
    pub upload_max_accounts: i64,
    /// Longest pause in an upload's body before it is stopped (`UPLOAD_IDLE_SECS`).
    pub upload_idle: std::time::Duration,
    /// How long an upload may arrive slower than 16 KiB/s on average before it is
    /// stopped (`UPLOAD_RATE_GRACE_SECS`).
    pub upload_rate_grace: std::time::Duration,
    /// Where an upload is received before it is stored (`UPLOAD_SPOOL_DIR`, default
    /// the system's temporary directory); needs room for the uploads in flight.
    pub upload_spool_dir: std::path::PathBuf,
    /// Where athletes get help (`SUPPORT_EMAIL` or `SUPPORT_URL`), in every page's footer.
    pub support: Support,
}

/// The end-user support contact Strava's API agreement asks every app to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Email(String),
    Url(String),
}

impl Support {
    /// `SUPPORT_URL` when set, else `SUPPORT_EMAIL`, which is then required.
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        if let Some(url) = env.url("SUPPORT_URL")?.filter(|u| !u.is_empty()) {
            return Ok(Self::Url(url));
        }
        let email: String = env.required("SUPPORT_EMAIL")?;
        let email = email.trim();
        let plausible = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !plausible {
            return Err(ConfigError::Invalid {
                var: "SUPPORT_EMAIL",
                reason: "must be an email address such as help@example.com".into(),
            });
        }
        Ok(Self::Email(email.to_owned()))
    }

    /// The link's target: `mailto:` for an address.
    pub fn href(&self) -> String {
        match self {
            Self::Email(e) => format!("mailto:{e}"),
            Self::Url(u) => u.clone(),
        }
    }

    /// What the link reads.
    pub fn text(&self) -> &str {
        match self {
            Self::Email(e) | Self::Url(e) => e,
        }
    }
}

impl Settings {
    /// Reads and checks every value `serve` uses.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let db = DbSettings::from_env(env)?;
        let http = HttpSettings::from_env(env)?;
        let web = WebSettings::from_env(env, &http)?;
        Ok(Self {
            http,
            db,
            log_format: env.required("LOG_FORMAT")?,
            web,
            llm: crate::llm::LlmSettings::from_env(env)?,
        })
    }
}

impl WebSettings {
    fn from_env(env: &Env, http: &HttpSettings) -> Result<Self, ConfigError> {
        let session_secret = env.secret("SESSION_SECRET")?;
        if session_secret.expose().len() < MIN_SESSION_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                var: "SESSION_SECRET",
                reason: format!(
                    "must be at least {MIN_SESSION_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`)"
                ),
            });
        }
        let hours: i64 = env.required("SESSION_TTL_HOURS")?;
        if !(1..=24 * 365).contains(&hours) {
            return Err(ConfigError::Invalid {
                var: "SESSION_TTL_HOURS",
                reason: "must be between 1 and 8760".into(),
            });
        }
        let gateway_public_url = env.url("GATEWAY_PUBLIC_URL")?;
        let own_url = env.url("TALK_APP_URL")?;
        let cookie_secure = service::cookies::secure(
            env.optional::<bool>("COOKIE_SECURE")?,
            own_url.as_deref(),
            http.bind_address,
        );
        let per_minute: i32 = env.required("QUESTIONS_PER_MINUTE")?;
        if per_minute < 1 {
            return Err(ConfigError::Invalid {
                var: "QUESTIONS_PER_MINUTE",
                reason: "must be at least 1".into(),
            });
        }
        let in_flight: i16 = env.required("QUESTIONS_IN_FLIGHT")?;
        if !(1..=100).contains(&in_flight) {
            return Err(ConfigError::Invalid {
                var: "QUESTIONS_IN_FLIGHT",
                reason: "must be between 1 and 100".into(),
            });
        }
        let demo_max_copies: i64 = env.required("DEMO_MAX_COPIES")?;
        if demo_max_copies < 0 {
            return Err(ConfigError::Invalid {
                var: "DEMO_MAX_COPIES",
                reason: "must be 0 (no demo) or more".into(),
            });
        }
        let demo_copies_per_client: i64 = env.required("DEMO_COPIES_PER_CLIENT")?;
        if demo_copies_per_client < 1 {
            return Err(ConfigError::Invalid {
                var: "DEMO_COPIES_PER_CLIENT",
                reason: "must be at least 1".into(),
            });
        }
        let trusted_proxies = crate::client::TrustedProxies::parse(
            &env.optional::<String>("TRUSTED_PROXIES")?
                .unwrap_or_default(),
        )
        .map_err(|reason| ConfigError::Invalid {
            var: "TRUSTED_PROXIES",
            reason,
        })?;
        let upload_max_accounts: i64 = env.required("UPLOAD_MAX_ACCOUNTS")?;
        if upload_max_accounts < 0 {
            return Err(ConfigError::Invalid {
                var: "UPLOAD_MAX_ACCOUNTS",
                reason: "must be 0 (no uploads without Strava) or more".into(),
            });
        }
        let upload_idle: u64 = env.required("UPLOAD_IDLE_SECS")?;
        if upload_idle == 0 {
            return Err(ConfigError::Invalid {
                var: "UPLOAD_IDLE_SECS",
                reason: "must be at least 1".into(),
            });
        }
        let upload_rate_grace: u64 = env.required("UPLOAD_RATE_GRACE_SECS")?;
        let upload_max_bytes: u64 = env.required("UPLOAD_MAX_BYTES")?;
        if upload_max_bytes == 0 {
            return Err(ConfigError::Invalid {
                var: "UPLOAD_MAX_BYTES",
                reason: "must be at least 1".into(),
            });
        }
        let support = Support::from_env(env)?;
        Ok(Self {
            support,
            session_secret,
            session_ttl: chrono::Duration::hours(hours),
            gateway_public_url,
            cookie_secure,
            questions_per_minute: per_minute,
            questions_in_flight: in_flight,
            demo_max_copies,
            upload_max_bytes,
            upload_max_accounts,
            demo_copies_per_client,
            trusted_proxies,
            upload_idle: std::time::Duration::from_secs(upload_idle),
            upload_rate_grace: std::time::Duration::from_secs(upload_rate_grace),
            upload_spool_dir: env
                .optional::<String>("UPLOAD_SPOOL_DIR")?
                .filter(|d| !d.is_empty())
                .map_or_else(std::env::temp_dir, std::path::PathBuf::from),
        })
    }
}
