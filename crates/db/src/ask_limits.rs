//! The per-athlete limits on asking questions, kept in Postgres so every talk-app
//! replica enforces the same ones and a restart resets nothing:
//!
//! - a rate: questions per fixed one-minute window (`api_rate_limits`, one upsert);
//! - a concurrency: questions being answered at once (`ask_slots`), each holding one
//!   of N numbered slots under a lease, so a replica that dies mid-answer frees its
//!   slot when the lease lapses instead of blocking the athlete for good.

use crate::QueryResult;
use crate::schema::api_rate_limits;
use chrono::{DateTime, DurationRound as _, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, SmallInt, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use std::time::Duration;
use uuid::Uuid;

/// Counts one question in the athlete's current fixed window of length `window` and
/// says whether it is within `limit`. One upsert, so concurrent replicas count once each.
pub async fn hit_rate_limit(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    now: DateTime<Utc>,
    window: chrono::Duration,
    limit: i32,
) -> QueryResult<bool> {
    use api_rate_limits::dsl as r;
    let start = now.duration_trunc(window).unwrap_or(now);
    let hits: i32 = diesel::insert_into(r::api_rate_limits)
        .values((
            r::athlete_id.eq(athlete.get()),
            r::window_start.eq(start),
            r::hits.eq(1),
        ))
        .on_conflict((r::athlete_id, r::window_start))
        .do_update()
        .set(r::hits.eq(r::hits + 1))
        .returning(r::hits)
        .get_result(conn)
        .await?;
    // Old windows are dead weight; dropping them here keeps the table tiny without a job.
    if hits == 1 {
        diesel::delete(
            r::api_rate_limits
                .filter(r::athlete_id.eq(athlete.get()))
                .filter(r::window_start.lt(start)),
        )
        .execute(conn)
        .await?;
    }
    Ok(hits <= limit)
}

/// One question's hold on one of its athlete's slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotLease {
    pub athlete: AthleteId,
    pub slot: i16,
    /// Proves the lease is still ours when releasing: a lapsed slot may have been
    /// taken over by another question since.
    pub holder: Uuid,
}

#[derive(QueryableByName)]
struct TakenSlot {
    #[diesel(sql_type = SmallInt)]
    slot: i16,
}

#[derive(QueryableByName)]
struct Live {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Takes a free slot (one of `0..limit`) for `athlete` for at most `lease`, or says
/// there is none (`None`: `limit` questions are in flight). Slots are taken and freed
/// by `now()` of the database, one clock for every replica.
pub async fn take_slot(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    limit: i16,
    lease: Duration,
) -> QueryResult<Option<SlotLease>> {
    let holder = Uuid::new_v4();
    // Two questions racing for the same free slot: the loser's row conflicts with the
    // winner's live lease, so it gets nothing back although another slot may be free.
    // Trying again (at most `limit` times) settles that; it can never over-admit.
    for _ in 0..limit.max(1) {
        let taken: Option<TakenSlot> = diesel::sql_query(
            "INSERT INTO ask_slots AS s (athlete_id, slot, holder, expires_at) \
             SELECT $1, n::smallint, $2, now() + make_interval(secs => $3) \
             FROM generate_series(0, $4 - 1) AS n \
             WHERE NOT EXISTS (SELECT 1 FROM ask_slots x \
                               WHERE x.athlete_id = $1 AND x.slot = n AND x.expires_at > now()) \
             ORDER BY n LIMIT 1 \
             ON CONFLICT (athlete_id, slot) DO UPDATE \
                 SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE s.expires_at <= now() \
             RETURNING slot",
        )
        .bind::<BigInt, _>(athlete.get())
        .bind::<SqlUuid, _>(holder)
        .bind::<diesel::sql_types::Double, _>(lease.as_secs_f64())
        .bind::<Integer, _>(i32::from(limit))
        .get_result(conn)
        .await
        .optional()?;
        if let Some(t) = taken {
            return Ok(Some(SlotLease {
                athlete,
                slot: t.slot,
                holder,
            }));
        }
        if in_flight(conn, athlete).await? >= i64::from(limit) {
            return Ok(None);
        }
    }
    Ok(None)
}

/// How many of the athlete's slots are held by live leases.
pub async fn in_flight(conn: &mut AsyncPgConnection, athlete: AthleteId) -> QueryResult<i64> {
    let live: Live = diesel::sql_query(
        "SELECT count(*) AS n FROM ask_slots WHERE athlete_id = $1 AND expires_at > now()",
    )
    .bind::<BigInt, _>(athlete.get())
    .get_result(conn)
    .await?;
    Ok(live.n)
}

/// Frees the slot if this lease still holds it; returns whether it did.
pub async fn release_slot(conn: &mut AsyncPgConnection, lease: &SlotLease) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "DELETE FROM ask_slots WHERE athlete_id = $1 AND slot = $2 AND holder = $3",
    )
    .bind::<BigInt, _>(lease.athlete.get())
    .bind::<SmallInt, _>(lease.slot)
    .bind::<SqlUuid, _>(lease.holder)
    .execute(conn)
    .await?;
    Ok(n > 0)
}
