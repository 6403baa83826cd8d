//! The connection pool every service uses (diesel-async over deadpool, no libpq).

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool;

/// A pool of asynchronous PostgreSQL connections.
pub type Pool = deadpool::Pool<AsyncPgConnection>;
/// A connection borrowed from the pool; derefs to `AsyncPgConnection`.
pub type PooledConn = deadpool::Object<AsyncPgConnection>;
/// Why a connection could not be had.
pub type PoolError = deadpool::PoolError;

/// Builds a pool of at most `max_size` connections. Connections open lazily, so this
/// does not fail when the database is down; the first query will.
pub fn connect_pool(database_url: &str, max_size: usize) -> Result<Pool, deadpool::BuildError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(database_url);
    deadpool::Pool::builder(manager)
        .max_size(max_size)
        .wait_timeout(Some(std::time::Duration::from_secs(10)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(::deadpool::Runtime::Tokio1)
        .build()
}
