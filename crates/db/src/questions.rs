//! Runs a compiled question (`ask::Query`) inside the athlete-scoped,
//! read-only sandbox and returns its rows as JSON; runs SQL a language model wrote in
//! the narrower model sandbox, capped in rows and bytes by the database itself.

use crate::sandbox::{run_as_model, with_athlete_scope};
use ask::{Bind, CELL_CHARS, Query, TABLE_BYTES};
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::sql_types::{Array, BigInt, Bool, Double, Integer, Text, Timestamp};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
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
    /// The result had not the shape the wrapper of generated SQL gives it.
    #[error("generated query returned an unexpected shape")]
    Shape,
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

/// Rows a generated query may return; one more is fetched to know there were more.
pub const GENERATED_ROW_CAP: usize = 200;

/// What a generated query returned, after the database applied the caps.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedRows {
    /// The rows kept, each a JSON object in the query's column order; cells longer than
    /// [`CELL_CHARS`] are cut, and the rows together stay within [`TABLE_BYTES`].
    pub rows: Vec<serde_json::Map<String, serde_json::Value>>,
    /// Rows the query produced, counted up to `GENERATED_ROW_CAP + 1`.
    pub fetched: usize,
    /// Cells of the kept rows that were cut.
    pub cut_cells: usize,
}

impl GeneratedRows {
    /// Whether the query had rows past [`GENERATED_ROW_CAP`].
    pub fn more_than_cap(&self) -> bool {
        self.fetched > GENERATED_ROW_CAP
    }

    /// Rows within the row cap that were left out to stay within [`TABLE_BYTES`].
    pub fn dropped_for_size(&self) -> usize {
        self.fetched
            .min(GENERATED_ROW_CAP)
            .saturating_sub(self.rows.len())
    }
}

/// Wraps guard-checked SQL so the database itself bounds what comes back: at most
/// `GENERATED_ROW_CAP + 1` rows are read, every cell longer than [`CELL_CHARS`] is cut
/// (strings by characters; arrays, objects and huge numbers as their JSON text), and
/// rows are kept only while the running total of their JSON stays within
/// [`TABLE_BYTES`]. The result is one JSON text: `{"rows", "fetched", "cut_cells"}`.
///
/// Rows are cut as `jsonb`, which needs no escaping of the long values (eight times
/// faster than `json` on 120 MB of cells); `jsonb` forgets the column order, so the
/// first row alone is also read as `json` to put the columns back in order.
pub fn wrap_generated(checked_sql: &str) -> String {
    let fetch = GENERATED_ROW_CAP + 1;
    let keep = CELL_CHARS - 1;
    format!(
        "WITH fetched AS (\
            SELECT row_number() OVER w AS n, \
                   CASE WHEN row_number() OVER w = 1 \
                        THEN (SELECT array_agg(k) FROM json_object_keys(row_to_json(g)) AS k) END AS keys, \
                   c.cells, c.cut \
            FROM (SELECT * FROM ({checked_sql}) AS generated LIMIT {fetch}) AS g \
            CROSS JOIN LATERAL (\
                SELECT coalesce(jsonb_object_agg(e.key, \
                           CASE WHEN length(e.value #>> '{{}}') > {CELL_CHARS} \
                                THEN to_jsonb(left(e.value #>> '{{}}', {keep}) || '…') \
                                ELSE e.value END), '{{}}'::jsonb) AS cells, \
                       count(*) FILTER (WHERE length(e.value #>> '{{}}') > {CELL_CHARS}) AS cut \
                FROM jsonb_each(to_jsonb(g)) AS e\
            ) AS c \
            WINDOW w AS (ROWS UNBOUNDED PRECEDING)\
         ), ordered AS (\
            SELECT f.n, f.cut, o.cells, sum(octet_length(o.cells::text) + 1) OVER (ORDER BY f.n) AS running \
            FROM fetched AS f \
            CROSS JOIN LATERAL (\
                SELECT coalesce(json_object_agg(k.name, f.cells -> k.name ORDER BY k.ord), '{{}}'::json) AS cells \
                FROM unnest((SELECT keys FROM fetched WHERE n = 1)) WITH ORDINALITY AS k(name, ord)\
            ) AS o\
         ) \
         SELECT json_build_object(\
            'rows', coalesce(json_agg(cells ORDER BY n) FILTER (WHERE running <= {TABLE_BYTES}), '[]'::json), \
            'fetched', count(*), \
            'cut_cells', coalesce(sum(cut) FILTER (WHERE running <= {TABLE_BYTES}), 0)\
         )::text AS result \
         FROM ordered"
    )
}

/// Runs guard-checked, model-written SQL for `athlete` in the model sandbox (see
/// [`crate::sandbox::run_as_model`]), capped by [`wrap_generated`], cancelled after
/// `timeout`.
pub async fn run_generated(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    checked_sql: &str,
    timeout: Duration,
) -> Result<GeneratedRows, QuestionError> {
    let text = run_as_model(conn, athlete, &wrap_generated(checked_sql), timeout)
        .await?
        .ok_or(QuestionError::Shape)?;
    let mut value: serde_json::Value = serde_json::from_str(&text)?;
    let count = |v: &serde_json::Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
    let fetched = count(&value["fetched"]).ok_or(QuestionError::Shape)?;
    let cut_cells = count(&value["cut_cells"]).ok_or(QuestionError::Shape)?;
    let rows = match value["rows"].take() {
        serde_json::Value::Array(rows) => rows
            .into_iter()
            .map(|row| match row {
                serde_json::Value::Object(map) => Ok(map),
                _ => Err(QuestionError::Shape),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(QuestionError::Shape),
    };
    Ok(GeneratedRows {
        rows,
        fetched,
        cut_cells,
    })
}
