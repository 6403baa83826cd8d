//! Personal API tokens for `POST /api/ask`.
//!
//! A token is shown to its owner once; only its SHA-256 is stored. (The per-athlete
//! question limits that also apply to token calls live in `ask_limits`.)

use crate::QueryResult;
use crate::schema::api_tokens;
use crate::tickets::{hash, random_secret};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use uuid::Uuid;

/// Prefix of every personal token, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "stk_";

/// A token's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::pg::Pg))]
pub struct ApiTokenRow {
    pub id: Uuid,
    pub athlete_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Creates a token named `name` and returns its row and plaintext (show it once).
pub async fn create(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    name: &str,
) -> QueryResult<(ApiTokenRow, String)> {
    use api_tokens::dsl as t;
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    let row = diesel::insert_into(t::api_tokens)
        .values((
            t::id.eq(Uuid::new_v4()),
            t::athlete_id.eq(athlete.get()),
            t::name.eq(name),
            t::token_hash.eq(hash(&token)),
        ))
        .returning(ApiTokenRow::as_returning())
        .get_result(conn)
        .await?;
    Ok((row, token))
}

/// How often a token's use is recorded at most: `last_used_at` is for its owner to
/// see, and writing it on every call made every question of a token update one row.
const USE_RECORDED_EVERY: &str = "1 minute";

/// The live (unrevoked) token `token` is, with the athlete it belongs to; records its
/// use when the last record is a minute old. Tokens of the demo template and of demo
/// copies past their expiry do not authenticate (upkeep may not have deleted the copy
/// yet). One statement.
pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<ApiTokenRow>> {
    use diesel::sql_types::{Bytea, Timestamptz};
    // Lookup is by hash; equality on a digest leaks nothing useful about the secret.
    diesel::sql_query(format!(
        "WITH t AS ( \
             SELECT id, athlete_id, name, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL \
               AND athlete_id NOT IN (SELECT id FROM athletes WHERE is_demo \
                                      AND (demo_expires_at IS NULL OR demo_expires_at <= $2))), \
         used AS ( \
             UPDATE api_tokens u SET last_used_at = $2 FROM t \
             WHERE u.id = t.id \
               AND (t.last_used_at IS NULL OR t.last_used_at <= $2 - interval '{USE_RECORDED_EVERY}') \
             RETURNING u.id) \
         SELECT t.id, t.athlete_id, t.name, t.created_at, \
                CASE WHEN EXISTS (SELECT 1 FROM used) THEN $2 ELSE t.last_used_at END AS last_used_at, \
                t.revoked_at \
         FROM t"
    ))
    .bind::<Bytea, _>(hash(token))
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()
}

/// The athlete's tokens, newest first, revoked ones included.
pub async fn list(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
) -> QueryResult<Vec<ApiTokenRow>> {
    use api_tokens::dsl as t;
    t::api_tokens
        .filter(t::athlete_id.eq(athlete.get()))
        .order(t::created_at.desc())
        .select(ApiTokenRow::as_select())
        .load(conn)
        .await
}

/// Revokes one of the athlete's tokens (one revoked already stays as it was); returns
/// whether the athlete has a token of that id. Scoped to the athlete so one athlete
/// cannot revoke another's token by id, nor learn that it exists.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    id: Uuid,
) -> QueryResult<bool> {
    use api_tokens::dsl as t;
    let n = diesel::update(
        t::api_tokens
            .filter(t::id.eq(id))
            .filter(t::athlete_id.eq(athlete.get())),
    )
    .set(t::revoked_at.eq(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
    >("coalesce(revoked_at, now())")))
    .execute(conn)
    .await?;
    Ok(n > 0)
}
