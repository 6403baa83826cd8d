//! Counting the statements a piece of work sends, for the benchmarks: PostgreSQL's
//! `pg_stat_statements` counts every statement a server runs (`BEGIN` and `COMMIT`
//! included), per database. It needs `shared_preload_libraries = 'pg_stat_statements'`
//! on the server (`cargo xtask bench` starts its own cluster so); where the server
//! lacks it, [`StatementCounter::new`] says so and the benchmarks print "n/a".

use diesel::sql_types::{BigInt, Double, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Marks the counter's own queries, which it leaves out of the counts.
const OWN: &str = "/* statement-counter */";

/// Counts the statements run on one database since the last [`StatementCounter::reset`].
pub struct StatementCounter {
    conn: AsyncPgConnection,
}

/// One statement's calls and time since the reset.
#[derive(Debug, Clone)]
pub struct StatementCalls {
    pub calls: i64,
    /// Total execution time in milliseconds.
    pub exec_ms: f64,
    /// The statement's normalised text, shortened.
    pub query: String,
}

#[derive(diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    calls: i64,
    #[diesel(sql_type = Double)]
    exec_ms: f64,
    #[diesel(sql_type = Text)]
    query: String,
}

impl StatementCounter {
    /// A counter on the database `conn` is connected to; `Err` says why statements
    /// cannot be counted there.
    pub async fn new(mut conn: AsyncPgConnection) -> Result<Self, String> {
        diesel::sql_query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&mut conn)
            .await
            .map_err(|e| format!("no pg_stat_statements: {e}"))?;
        let mut counter = Self { conn };
        counter
            .reset()
            .await
            .map_err(|e| format!("pg_stat_statements is not loaded ({e}); start the server with shared_preload_libraries = 'pg_stat_statements'"))?;
        Ok(counter)
    }

    /// Forgets what was counted so far (on every database of the server).
    pub async fn reset(&mut self) -> Result<(), String> {
        diesel::sql_query(format!("{OWN} SELECT pg_stat_statements_reset()"))
            .execute(&mut self.conn)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Every statement run on this database since the reset, most called first.
    pub async fn calls(&mut self) -> Result<Vec<StatementCalls>, String> {
        let rows: Vec<Row> = diesel::sql_query(format!(
            "{OWN} SELECT calls, total_exec_time AS exec_ms, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS query \
             FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND query NOT LIKE '%statement-counter%' AND query NOT LIKE '%bench-own%' \
             ORDER BY calls DESC, query"
        ))
        .load(&mut self.conn)
        .await
        .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|r| StatementCalls {
                calls: r.calls,
                exec_ms: r.exec_ms,
                query: r.query,
            })
            .collect())
    }

    /// Statements run and their execution time (ms) since the reset.
    pub async fn total(&mut self) -> Result<(i64, f64), String> {
        let calls = self.calls().await?;
        Ok((
            calls.iter().map(|c| c.calls).sum(),
            calls.iter().map(|c| c.exec_ms).sum(),
        ))
    }
}
