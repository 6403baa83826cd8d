//! Embedded migrations, applied without libpq, and the "are we current?" check
//! behind `/readyz`.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Every migration under `crates/db/migrations`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// A migration run that failed; the message never contains the database URL.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Apply(String),
}

/// Applies pending migrations and returns the versions applied (empty when current).
///
/// Diesel's harness is synchronous; it runs on a blocking thread so that callers on an
/// async runtime are not stalled.
pub async fn run_pending(database_url: &str) -> Result<Vec<String>, MigrateError> {
    let conn = crate::connect(database_url)
        .await
        .map_err(|e| MigrateError::Connect(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| MigrateError::Apply(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
    .map_err(|e| MigrateError::Apply(format!("migration task stopped: {e}")))?
}

/// The versions of all embedded migrations, oldest first.
pub fn embedded_versions() -> Vec<String> {
    let mut versions: Vec<String> = MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect())
        .unwrap_or_default();
    versions.sort();
    versions
}

/// Embedded migrations not yet applied to the connected database.
pub async fn pending(conn: &mut AsyncPgConnection) -> crate::QueryResult<Vec<String>> {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Applied {
        #[diesel(sql_type = Text)]
        version: String,
    }
    let applied: Vec<Applied> = diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
        .load(conn)
        .await?;
    let applied: std::collections::HashSet<String> =
        applied.into_iter().map(|a| a.version).collect();
    Ok(embedded_versions()
        .into_iter()
        .filter(|v| !applied.contains(v))
        .collect())
}
