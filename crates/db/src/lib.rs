//! StravaTalk's PostgreSQL layer: the schema, embedded migrations, connections (over TLS
//! as the URL's `sslmode` asks) and their pool, one repository module per table group,
//! token encryption and the athlete-scoped, read-only query sandbox.

pub mod activities;
pub mod api_tokens;
pub mod ask_limits;
pub mod athletes;
pub mod best_efforts;
pub mod chats;
pub mod connect;
pub mod crypto;
pub mod demo;
pub mod gear;
pub mod guard;
pub mod inbox;
pub mod jobs;
pub mod migrate;
pub mod oauth_states;
pub mod pool;
pub mod questions;
pub mod ratelimit;
pub mod sandbox;
pub mod schema;
pub mod sessions;
pub mod sync;
mod text_enum;
pub mod tickets;
mod tls;
pub mod tokens;
pub mod upkeep;
pub mod uploads;

pub use connect::{ConnectOptions, SslMode, connect};
pub use diesel::result::Error as DbError;
pub use diesel_async::AsyncPgConnection;
pub use pool::{Pool, PooledConn, connect_pool, connect_pool_with_lock_timeout};

/// Result of a repository function.
pub type QueryResult<T> = Result<T, DbError>;
