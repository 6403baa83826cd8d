//! The one way questions reach the database: a read-only transaction, switched to the
//! `stravatalk_reader` role, with `stravatalk.athlete_id` set so that row-level security
//! shows only that athlete's rows, and a statement timeout. Whatever SQL runs inside,
//! hand-written or generated, sees nobody else's data and can change nothing.

use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The database role questions run as (created by the first migration).
pub const READER_ROLE: &str = "stravatalk_reader";

/// The future a scoped closure returns: `|conn| Box::pin(async move { ... })`.
pub type ScopedFuture<'r, T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'r>>;

/// Runs `f` inside a read-only transaction scoped to `athlete`, cancelling any
/// statement that runs longer than `timeout`.
pub async fn with_athlete_scope<T, E, F>(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    timeout: Duration,
    f: F,
) -> Result<T, E>
where
    F: for<'r> FnOnce(&'r mut AsyncPgConnection) -> ScopedFuture<'r, T, E> + Send,
    T: Send,
    E: From<diesel::result::Error> + Send,
{
    let timeout_ms = timeout.as_millis().max(1).to_string();
    let athlete = athlete.get().to_string();
    conn.build_transaction()
        .read_only()
        .run(async move |conn| {
            diesel::sql_query(
                "SELECT set_config('statement_timeout', $1, true), \
                        set_config('stravatalk.athlete_id', $2, true)",
            )
            .bind::<Text, _>(timeout_ms)
            .bind::<Text, _>(athlete)
            .execute(conn)
            .await?;
            diesel::sql_query(format!("SET LOCAL ROLE {READER_ROLE}"))
                .execute(conn)
                .await?;
            f(conn).await
        })
        .await
}
