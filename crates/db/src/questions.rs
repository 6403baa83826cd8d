//! Runs a question's SQL (the engine's compiled statement, with its typed parameters)
//! inside the athlete-scoped, read-only sandbox and returns its rows as JSON; runs SQL a
//! language model wrote in the narrower model sandbox, capped in rows and bytes by the
//! database itself. It knows statements and parameters, not the engine that made them.

use crate::sandbox::{run_as_model, with_athlete_scope};
use chrono::NaiveDateTime;
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

/// A typed value for one of a statement's parameters from `$2` on.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// `integer`.
    Int(i32),
    /// `bigint`.
    BigInt(i64),
    /// `double precision`.
    Float(f64),
    /// `boolean`.
    Bool(bool),
    /// `text`.
    Text(String),
    /// `text[]`.
    TextArray(Vec<String>),
    /// `timestamp` (local wall-clock time, no zone).
    Timestamp(NaiveDateTime),
}

/// Runs `sql` for `athlete` (bound as `$1`, `params` from `$2` on) in a read-only
/// transaction scoped by row-level security, cancelled after `timeout`. The statement
/// returns one row with one text column `result`, a JSON array; that array is returned.
pub async fn run(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    sql: &str,
    params: Vec<Param>,
    timeout: Duration,
) -> Result<serde_json::Value, QuestionError> {
    let sql = sql.to_owned();
    let binds = params;
    let text = with_athlete_scope(conn, athlete, timeout, move |conn| {
        Box::pin(async move {
            let mut q = diesel::sql_query(sql)
                .into_boxed::<Pg>()
                .bind::<BigInt, _>(athlete.get());
            for b in binds {
                q = match b {
                    Param::Int(v) => q.bind::<Integer, _>(v),
                    Param::BigInt(v) => q.bind::<BigInt, _>(v),
                    Param::Float(v) => q.bind::<Double, _>(v),
                    Param::Bool(v) => q.bind::<Bool, _>(v),
                    Param::Text(v) => q.bind::<Text, _>(v),
                    Param::TextArray(v) => q.bind::<Array<Text>, _>(v),
                    Param::Timestamp(v) => q.bind::<Timestamp, _>(v),
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

/// How far a generated query's rows are cut: the limits of the answer table they
/// become, which the caller (the engine's owner) knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCaps {
    /// Longest value a cell keeps, in characters; a longer one keeps its start and
    /// ends in "…".
    pub cell_chars: usize,
    /// Most bytes the rows may take as JSON; rows past the budget are left out.
    pub table_bytes: usize,
}

/// What a generated query returned, after the database applied the caps.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedRows {
    /// The rows kept, each a JSON object in the query's column order; cells are cut
    /// and rows left out as the [`RowCaps`] say.
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

    /// Rows within the row cap that were left out to stay within the byte budget.
    pub fn dropped_for_size(&self) -> usize {
        self.fetched
            .min(GENERATED_ROW_CAP)
            .saturating_sub(self.rows.len())
    }
}

/// Wraps guard-checked SQL so the database itself bounds what comes back: at most
/// `GENERATED_ROW_CAP + 1` rows are read, every cell longer than `caps.cell_chars` is
/// cut (strings by characters; arrays, objects and huge numbers as their JSON text), and
/// rows are kept only while the running total of their JSON stays within
/// `caps.table_bytes`. The result is one JSON text: `{"rows", "fetched", "cut_cells"}`.
///
/// Rows are cut as `jsonb`, which needs no escaping of the long values (eight times
/// faster than `json` on 120 MB of cells); `jsonb` forgets the column order, so the
/// first row alone is also read as `json` to put the columns back in order.
pub fn wrap_generated(checked_sql: &str, caps: RowCaps) -> String {
    let fetch = GENERATED_ROW_CAP + 1;
    let RowCaps {
        cell_chars,
        table_bytes,
    } = caps;
    let keep = cell_chars.saturating_sub(1);
    format!(
        "WITH fetched AS (\
            SELECT row_number() OVER w AS n, \
                   CASE WHEN row_number() OVER w = 1 \
                        THEN (SELECT array_agg(k) FROM json_object_keys(row_to_json(g)) AS k) END AS keys, \
                   c.cells, c.cut \
            FROM (SELECT * FROM ({checked_sql}) AS generated LIMIT {fetch}) AS g \
            CROSS JOIN LATERAL (\
                SELECT coalesce(jsonb_object_agg(e.key, \
                           CASE WHEN length(e.value #>> '{{}}') > {cell_chars} \
                                THEN to_jsonb(left(e.value #>> '{{}}', {keep}) || '…') \
                                ELSE e.value END), '{{}}'::jsonb) AS cells, \
                       count(*) FILTER (WHERE length(e.value #>> '{{}}') > {cell_chars}) AS cut \
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
            'rows', coalesce(json_agg(cells ORDER BY n) FILTER (WHERE running <= {table_bytes}), '[]'::json), \
            'fetched', count(*), \
            'cut_cells', coalesce(sum(cut) FILTER (WHERE running <= {table_bytes}), 0)\
         )::text AS result \
         FROM ordered"
    )
}

/// Runs guard-checked, model-written SQL for `athlete` in the model sandbox (see
/// [`crate::sandbox::run_as_model`]), capped by [`wrap_generated`] with `caps`,
/// cancelled after `timeout`.
pub async fn run_generated(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    checked_sql: &str,
    caps: RowCaps,
    timeout: Duration,
) -> Result<GeneratedRows, QuestionError> {
    let text = run_as_model(conn, athlete, &wrap_generated(checked_sql, caps), timeout)
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
