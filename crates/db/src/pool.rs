//! The connection pool every service uses (diesel-async over deadpool, no libpq).

use crate::connect::{ConnectOptions, UrlError};
use diesel_async::pooled_connection::deadpool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Duration;

/// A connection idle longer than this is checked (`SELECT 1`) before it is handed out;
/// one used more recently is handed out as it is. A check on every checkout was a third
/// of a webhook event's statements; a connection that broke in use is dropped by the
/// pool anyway, so only one left idle (a server restart, an idle timeout on the way)
/// needs the check.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(30);

/// A pool of asynchronous PostgreSQL connections.
pub type Pool = deadpool::Pool<AsyncPgConnection>;
/// A connection borrowed from the pool; derefs to `AsyncPgConnection`.
pub type PooledConn = deadpool::Object<AsyncPgConnection>;
/// Why a connection could not be had.
pub type PoolError = deadpool::PoolError;

/// Why no pool could be built.
#[derive(Debug, thiserror::Error)]
pub enum PoolSetupError {
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error("cannot build the connection pool: {0}")]
    Build(#[from] deadpool::BuildError),
}

/// Builds a pool of at most `max_size` connections. The URL is read (and its TLS set
/// up) now, so a bad `sslmode` fails here; connections open lazily, so a database that
/// is down does not: the first query fails instead.
pub fn connect_pool(database_url: &str, max_size: usize) -> Result<Pool, PoolSetupError> {
    pool_of(
        database_url,
        ConnectOptions::from_url(database_url)?,
        max_size,
    )
}

/// As [`connect_pool`], with every statement on the pool's connections waiting at
/// most `lock_timeout` for a lock: a table someone holds locked then costs a quick
/// error, not a connection held for as long as the lock lasts.
pub fn connect_pool_with_lock_timeout(
    database_url: &str,
    max_size: usize,
    lock_timeout: std::time::Duration,
) -> Result<Pool, PoolSetupError> {
    let options = ConnectOptions::from_url(database_url)?.with_lock_timeout(lock_timeout);
    pool_of(database_url, options, max_size)
}

fn pool_of(
    database_url: &str,
    options: ConnectOptions,
    max_size: usize,
) -> Result<Pool, PoolSetupError> {
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_url| {
        let options = options.clone();
        Box::pin(async move { options.connect().await })
    });
    let manager =
        AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(database_url, config);
    Ok(deadpool::Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(::deadpool::Runtime::Tokio1)
        .pre_recycle(deadpool::Hook::<AsyncPgConnection>::async_fn(
            |conn, metrics| {
                Box::pin(async move {
                    if metrics.last_used() < CHECK_AFTER_IDLE {
                        return Ok(());
                    }
                    diesel::sql_query("SELECT 1")
                        .execute(conn)
                        .await
                        .map(drop)
                        .map_err(|e| deadpool::HookError::Message(e.to_string().into()))
                })
            },
        ))
        .build()?)
}
