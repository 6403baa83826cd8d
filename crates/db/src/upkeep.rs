//! Queries the sync worker uses to keep stored activities faithful to Strava over
//! time: reconciliation (drop rows Strava no longer lists), retention (find rows due
//! for a refresh, drop rows past the limit) and the athlete's fallback time zone.

use crate::QueryResult;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Sets the athlete's time zone label when they have none yet; returns whether it
/// changed anything.
pub async fn set_timezone_if_missing(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    timezone: &str,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE athletes SET timezone = $2, updated_at = now() \
         WHERE id = $1 AND (timezone IS NULL OR timezone = '')",
    )
    .bind::<BigInt, _>(athlete.get())
    .bind::<Text, _>(timezone)
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// Deletes the athlete's API-sourced activities that started at or after `since`
/// (all of them when `None`), are not in `keep`, and were last fetched before
/// `fetched_before`. The last condition spares rows a webhook wrote while the
/// reconciliation was listing. Returns the ids deleted.
pub async fn delete_unlisted(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    since: Option<DateTime<Utc>>,
    keep: &[i64],
    fetched_before: DateTime<Utc>,
) -> QueryResult<Vec<i64>> {
    let rows: Vec<Id> = diesel::sql_query(
        "DELETE FROM activities \
         WHERE athlete_id = $1 AND source = 'api' \
           AND ($2::timestamptz IS NULL OR start_date >= $2) \
           AND NOT (id = ANY($3)) AND fetched_at < $4 \
         RETURNING id",
    )
    .bind::<BigInt, _>(athlete.get())
    .bind::<Nullable<Timestamptz>, _>(since)
    .bind::<Array<BigInt>, _>(keep)
    .bind::<Timestamptz, _>(fetched_before)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Connected athletes (tokens stored, no reconnect pending, backfill finished) for
/// whom no job of `kind` with key `{kind}:{id}` was created within `every`.
pub async fn athletes_due_for(
    conn: &mut AsyncPgConnection,
    kind: crate::jobs::JobKind,
    every: std::time::Duration,
) -> QueryResult<Vec<AthleteId>> {
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT a.id FROM athletes a \
         JOIN strava_tokens t ON t.athlete_id = a.id \
         JOIN sync_status s ON s.athlete_id = a.id AND s.state = 'done' \
         WHERE NOT a.needs_reconnect \
           AND NOT EXISTS ( \
               SELECT 1 FROM jobs j \
               WHERE j.dedupe_key = $1 || ':' || a.id \
                 AND j.created_at > now() - make_interval(secs => $2)) \
         ORDER BY a.id",
    )
    .bind::<Text, _>(kind.as_str())
    .bind::<BigInt, _>(every.as_secs() as i64)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| AthleteId(r.id)).collect())
}

/// Athletes with API-sourced rows last fetched before `before`.
pub async fn athletes_with_rows_fetched_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<Vec<AthleteId>> {
    let rows: Vec<Id> = diesel::sql_query(
        "SELECT DISTINCT athlete_id AS id FROM activities \
         WHERE source = 'api' AND fetched_at < $1 ORDER BY 1",
    )
    .bind::<Timestamptz, _>(before)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| AthleteId(r.id)).collect())
}

/// Deletes API-sourced rows last fetched before `before`: data that could not be
/// refreshed in time must not outlive the retention limit. Returns how many went.
pub async fn delete_fetched_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM activities WHERE source = 'api' AND fetched_at < $1")
        .bind::<Timestamptz, _>(before)
        .execute(conn)
        .await
}
