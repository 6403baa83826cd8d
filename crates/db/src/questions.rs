//! Runs a compiled question (`domain::ask::Query`) inside the athlete-scoped,
//! read-only sandbox and returns its rows as JSON.

use crate::sandbox::with_athlete_scope;
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Text, Timestamp};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use domain::ask::{Bind, Query};
use std::time::Duration;

/// Why a question's query gave no rows.
#[derive(Debug, thiserror::Error)]
pub enum QuestionError {
    /// The database refused or cancelled the query (a timeout among others).
    #[error("question query failed")]
    Database(#[from] diesel::result::Error),
    /// The result was not the JSON the compiler promises.
    #[error("question query returned malformed JSON")]
    Json(#[from] serde_json::Error),
}

impl QuestionError {
    /// Whether the statement timeout cancelled the query.
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Database(diesel::result::Error::DatabaseError(_, info)) => {
                info.message().contains("statement timeout")
            }
            _ => false,
        }
    }
}

/// The one text column every compiled query returns.
#[derive(QueryableByName)]
struct JsonRows {
    #[diesel(sql_type = Text)]
    result: String,
}

/// Runs `query` for `athlete` (bound as `$1`) in a read-only transaction scoped by
/// row-level security, cancelled after `timeout`; returns the JSON array of rows.
pub async fn run(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    query: &Query,
    timeout: Duration,
) -> Result<serde_json::Value, QuestionError> {
    let sql = query.sql.clone();
    let binds = query.binds.clone();
    let text = with_athlete_scope(conn, athlete, timeout, move |conn| {
        Box::pin(async move {
            let mut q = diesel::sql_query(sql)
                .into_boxed::<Pg>()
                .bind::<BigInt, _>(athlete.get());
            for b in binds {
                q = match b {
                    Bind::Int(v) => q.bind::<Integer, _>(v),
                    Bind::BigInt(v) => q.bind::<BigInt, _>(v),
                    Bind::Float(v) => q.bind::<Double, _>(v),
                    Bind::Bool(v) => q.bind::<Bool, _>(v),
                    Bind::Text(v) => q.bind::<Text, _>(v),
                    Bind::TextArray(v) => q.bind::<Array<Text>, _>(v),
                    Bind::Timestamp(v) => q.bind::<Timestamp, _>(v),
                };
            }
            let rows: JsonRows = q.get_result(conn).await?;
            Ok::<_, diesel::result::Error>(rows.result)
        })
    })
    .await?;
    Ok(serde_json::from_str(&text)?)
}
