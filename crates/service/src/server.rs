//! Settings and steps every service's start-up shares: where to listen, which database,
//! and the `migrate` subcommand.

use crate::{ConfigError, Env};
use domain::Secret;
use std::net::{IpAddr, TcpListener};

/// Where the HTTP server listens (`BIND_ADDRESS`, `PORT`).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub bind_address: IpAddr,
    pub port: u16,
}

impl HttpSettings {
    /// Reads `BIND_ADDRESS` and `PORT`; the service supplies their defaults.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            bind_address: env.required("BIND_ADDRESS")?,
            port: env.required("PORT")?,
        })
    }

    /// Binds the listener; port 0 picks a free port (tests).
    pub fn bind(&self) -> std::io::Result<TcpListener> {
        TcpListener::bind((self.bind_address, self.port))
    }
}

/// The database (`DATABASE_URL`, `DATABASE_POOL_SIZE`). The URL may hold a password,
/// so it is kept as a secret.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: Secret<String>,
    pub pool_size: usize,
}

impl DbSettings {
    /// Reads `DATABASE_URL` (required) and `DATABASE_POOL_SIZE` (default 10).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = env.secret("DATABASE_URL")?;
        if !url.expose().starts_with("postgres://") && !url.expose().starts_with("postgresql://") {
            return Err(ConfigError::Invalid {
                var: "DATABASE_URL",
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        let pool_size: usize = env.optional("DATABASE_POOL_SIZE")?.unwrap_or(10);
        if pool_size == 0 {
            return Err(ConfigError::Invalid {
                var: "DATABASE_POOL_SIZE",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self { url, pool_size })
    }

    /// A pool on the database; connections open on first use.
    pub fn pool(&self) -> anyhow::Result<db::Pool> {
        Ok(db::connect_pool(self.url.expose(), self.pool_size)?)
    }
}

/// The `migrate` subcommand: applies pending migrations and says what it did.
pub async fn migrate(env: &Env) -> anyhow::Result<()> {
    let db = DbSettings::from_env(env)?;
    let applied = db::migrate::run_pending(db.url.expose()).await?;
    if applied.is_empty() {
        println!(
            "database schema is up to date ({} migrations)",
            db::migrate::embedded_versions().len()
        );
    } else {
        println!(
            "applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(())
}
