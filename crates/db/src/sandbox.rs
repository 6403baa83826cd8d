//! The ways questions reach the database, each a read-only transaction with a statement
//! timeout, seeing one athlete's rows only:
//!
//! - [`with_athlete_scope`], for the built-in engine's compiled queries: switched to the
//!   `stravatalk_reader` role, with `stravatalk.athlete_id` set so that row-level
//!   security shows only that athlete's rows;
//! - [`run_as_model`], for SQL a language model wrote: run by `stravatalk_model.run` as
//!   the `stravatalk_model` role, which can read nothing but a view of the scoped
//!   athlete's activity columns, scoped by a token it cannot forge and unable to change
//!   its role (see the migration `2026-12-02-000200_model_sandbox`).

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use domain::AthleteId;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The database role questions run as (created by the first migration).
pub const READER_ROLE: &str = "stravatalk_reader";

/// The database role model-written SQL runs as (created by the model-sandbox migration).
pub const MODEL_ROLE: &str = "stravatalk_model";

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
    // Both values are numbers we format, never user text, so the settings travel as
    // one simple-protocol statement: one round trip and one statement, where bind
    // parameters would cost a prepare and an execute. `set_config('role', …, true)` is
    // `SET LOCAL ROLE`.
    let scope = format!(
        "SELECT set_config('statement_timeout', '{}', true), \
                set_config('stravatalk.athlete_id', '{}', true), \
                set_config('role', '{READER_ROLE}', true)",
        timeout.as_millis().max(1),
        athlete.get()
    );
    conn.build_transaction()
        .read_only()
        .run(async move |conn| {
            conn.batch_execute(&scope).await?;
            f(conn).await
        })
        .await
}

#[derive(QueryableByName)]
struct ModelResult {
    #[diesel(sql_type = Nullable<Text>)]
    result: Option<String>,
}

/// Runs `sql`, which must return one text column, as the model role over `athlete`'s
/// activities only, cancelled after `timeout`; returns the first row's value.
pub async fn run_as_model(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    sql: &str,
    timeout: Duration,
) -> Result<Option<String>, diesel::result::Error> {
    let timeout_ms = timeout.as_millis().max(1).to_string();
    let sql = sql.to_owned();
    let result = conn
        .build_transaction()
        .read_only()
        .run(async move |conn| {
            // work_mem bounds each sort and hash of the model's query, which spill to
            // disk past it instead of growing the backend.
            diesel::sql_query(
                "SELECT set_config('statement_timeout', $1, true), \
                        set_config('work_mem', '4MB', true), \
                        set_config('stravatalk.model_scope', stravatalk_model.scope_token($2), true)",
            )
            .bind::<Text, _>(timeout_ms)
            .bind::<BigInt, _>(athlete.get())
            .execute(conn)
            .await?;
            let row: ModelResult = diesel::sql_query("SELECT stravatalk_model.run($1) AS result")
                .bind::<Text, _>(sql)
                .get_result(conn)
                .await?;
            Ok::<_, diesel::result::Error>(row.result)
        })
        .await;
    // Session-level advisory locks outlive the transaction and the savepoint the runner
    // rolls back to; none taken by the model may stay on a pooled connection.
    let unlocked = diesel::sql_query("SELECT pg_advisory_unlock_all()")
        .execute(conn)
        .await;
    let value = result?;
    unlocked?;
    Ok(value)
}
