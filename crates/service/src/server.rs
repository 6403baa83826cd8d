//! Settings and steps every service's start-up shares: where to listen, which database,
//! the HTTP server around each service's own routes, and the `migrate` subcommand.

use crate::{ConfigError, Env};
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, web};
use domain::Secret;
use std::net::{IpAddr, TcpListener};

/// Seconds a stopping server gives in-flight requests to finish.
const SHUTDOWN_GRACE_SECS: u64 = 10;

/// A bound, not yet running service.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds the listener and prepares the server. `app` builds what is the service's
    /// own (app data, its own middleware, routes); every service gets the same around
    /// it: the pool as app data, `/healthz` and `/readyz`, request ids, tracing and the
    /// access log. Port 0 picks a free port (tests).
    pub fn build<F, T, B>(http: &HttpSettings, pool: db::Pool, app: F) -> anyhow::Result<Self>
    where
        F: Fn() -> App<T> + Send + Clone + 'static,
        T: ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
                InitError = (),
            > + 'static,
        B: MessageBody + 'static,
    {
        let listener = http.bind()?;
        let port = listener.local_addr()?.port();
        let pool = web::Data::new(pool);
        let server = HttpServer::new(move || {
            app()
                .app_data(pool.clone())
                .configure(crate::health::configure)
                .wrap(crate::access_log::access_log())
                .wrap(actix_web::middleware::from_fn(
                    crate::access_log::echo_request_id,
                ))
                .wrap(crate::access_log::request_tracing())
        })
        .shutdown_timeout(SHUTDOWN_GRACE_SECS)
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

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
        // Read once here so that a bad sslmode or root file stops start-up by name.
        db::ConnectOptions::from_url(url.expose()).map_err(|e| ConfigError::Invalid {
            var: "DATABASE_URL",
            reason: e.to_string(),
        })?;
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

    /// A pool whose statements wait at most `lock_timeout` for a lock.
    pub fn pool_with_lock_timeout(
        &self,
        lock_timeout: std::time::Duration,
    ) -> anyhow::Result<db::Pool> {
        Ok(db::connect_pool_with_lock_timeout(
            self.url.expose(),
            self.pool_size,
            lock_timeout,
        )?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn db_settings(url: &str) -> Result<DbSettings, ConfigError> {
        DbSettings::from_env(&Env::from_pairs(None, &[], &[("DATABASE_URL", url)]).unwrap())
    }

    #[test]
    fn a_bad_sslmode_stops_start_up_naming_database_url_without_its_password() {
        let err = db_settings("postgres://app:hunter2@db.example.com/app?sslmode=verify")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("DATABASE_URL is invalid: sslmode \"verify\" is not supported"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        let err =
            db_settings("postgres://app:hunter2@h/app?sslmode=verify-ca&sslrootcert=/no/ca.pem")
                .unwrap_err()
                .to_string();
        assert!(
            err.starts_with("DATABASE_URL is invalid: sslrootcert /no/ca.pem"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
        assert!(db_settings("postgres://app:hunter2@h/app?sslmode=require").is_ok());
    }
}
