//! Personal API tokens for `POST /api/ask`.
//!
//! A token is shown to its owner once; only its SHA-256 is stored. (The per-athlete
//! question limits that also apply to token calls live in `ask_limits`.)

use crate::QueryResult;
use crate::schema::{api_tokens, athletes};
use crate::tickets::{hash, random_secret};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use uuid::Uuid;

/// Prefix of every personal token, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "stk_";

/// A token's metadata (never its secret).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
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

/// The live (unrevoked) token `token` is, with the athlete it belongs to; records its
/// use. Tokens of the
/// demo template and of demo copies past their expiry do not authenticate (upkeep may
/// not have deleted the copy yet).
pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<ApiTokenRow>> {
    use api_tokens::dsl as t;
    use athletes::dsl as a;
    let closed_demos = a::athletes
        .filter(a::is_demo)
        .filter(a::demo_expires_at.is_null().or(a::demo_expires_at.le(now)))
        .select(a::id);
    // Lookup is by hash; equality on a digest leaks nothing useful about the secret.
    diesel::update(
        t::api_tokens
            .filter(t::token_hash.eq(hash(token)))
            .filter(t::revoked_at.is_null())
            .filter(diesel::dsl::not(t::athlete_id.eq_any(closed_demos))),
    )
    .set(t::last_used_at.eq(now))
    .returning(ApiTokenRow::as_returning())
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
