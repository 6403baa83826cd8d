//! talk-app's configuration, read once at start-up.

use service::telemetry::LogFormat;
use service::{ConfigError, DbSettings, Env, HttpSettings};
use std::path::Path;

/// Defaults for values with a sensible one; everything else must be given.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("BIND_ADDRESS", "0.0.0.0"),
    ("PORT", "8080"),
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
}

impl Settings {
    /// Reads and checks every value `serve` uses.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpSettings::from_env(env)?,
            db: DbSettings::from_env(env)?,
            log_format: env.required("LOG_FORMAT")?,
        })
    }
}
