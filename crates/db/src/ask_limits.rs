//! The per-athlete limits on asking questions, kept in Postgres so every talk-app
//! replica enforces the same ones and a restart resets nothing:
//!
//! - a rate: questions per fixed one-minute window (`api_rate_limits`);
//! - a concurrency: questions being answered at once (`ask_slots`), each holding one
//!   of N numbered slots.
//!
//! [`admit`] counts a question and takes a slot in one statement. A slot's row stays
//! once made: taking and freeing it update the row, so asking never multiplies rows.
//! A slot is held while its lease runs *and* the database session that took it lives:
//! a talk-app killed mid-answer ends its sessions, and that frees its slots at once;
//! the lease bounds what a process that lives on but never frees a slot can hold.

use crate::QueryResult;
use chrono::{DateTime, DurationRound as _, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    BigInt, Double, Integer, Nullable, SmallInt, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use std::time::Duration;
use uuid::Uuid;

/// Whether the slot row named `{row}` is held: its lease runs and the session that
/// took it is still connected (slots taken before sessions were recorded: the lease).
/// A session of another database role shows no `backend_start`: its pid alone then.
fn held(row: &str) -> String {
    format!(
        "({row}.expires_at > now() AND ({row}.holder_pid IS NULL OR EXISTS ( \
             SELECT 1 FROM pg_stat_activity a \
             WHERE a.pid = {row}.holder_pid \
               AND (a.backend_start IS NULL OR a.backend_start = {row}.holder_since))))"
    )
}

/// The parameters of [`take_cte`]: athlete, slot count, holder, lease in seconds.
struct TakeParams(&'static str, &'static str, &'static str, &'static str);

/// The CTE `taken`: the lowest free slot of the athlete's first `count`, taken by
/// `holder` for `lease` seconds in this session's name, when `gate` holds.
fn take_cte(gate: &str, TakeParams(athlete, count, holder, lease): TakeParams) -> String {
    let free = held("x");
    let busy = held("s");
    format!(
        "taken AS ( \
             INSERT INTO ask_slots AS s (athlete_id, slot, holder, expires_at, holder_pid, holder_since) \
             SELECT {athlete}, n::smallint, {holder}, now() + make_interval(secs => {lease}), \
                    pg_backend_pid(), \
                    (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()) \
             FROM generate_series(0, {count} - 1) AS n \
             WHERE {gate} AND NOT EXISTS (SELECT 1 FROM ask_slots x \
                                          WHERE x.athlete_id = {athlete} AND x.slot = n AND {free}) \
             ORDER BY n LIMIT 1 \
             ON CONFLICT (athlete_id, slot) DO UPDATE \
                 SET holder = excluded.holder, expires_at = excluded.expires_at, \
                     holder_pid = excluded.holder_pid, holder_since = excluded.holder_since \
                 WHERE NOT {busy} \
             RETURNING slot)"
    )
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

/// The limits [`admit`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Length of the rate's fixed window.
    pub window: chrono::Duration,
    /// Questions per window.
    pub per_window: i32,
    /// Questions being answered at once.
    pub in_flight: i16,
    /// How long a slot is held at most.
    pub lease: Duration,
}

/// What [`admit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Counted, and this slot is the question's until released.
    Granted(SlotLease),
    /// The window's questions are spent (this one was counted too).
    TooMany,
    /// `in_flight` questions are being answered already.
    Busy,
}

#[derive(QueryableByName)]
struct Admitted {
    #[diesel(sql_type = Integer)]
    hits: i32,
    #[diesel(sql_type = Nullable<SmallInt>)]
    slot: Option<i16>,
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

/// Counts one question in `athlete`'s window containing `now` and, when it is within
/// the rate, takes a free slot: one statement, so one round trip, and concurrent
/// replicas count once each. Windows before the current one are dropped as it goes,
/// which keeps the table at one row per athlete.
pub async fn admit(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    now: DateTime<Utc>,
    limits: &Limits,
) -> QueryResult<Admission> {
    let start = now.duration_trunc(limits.window).unwrap_or(now);
    let holder = Uuid::new_v4();
    let admitted: Admitted = diesel::sql_query(format!(
        "WITH old AS (DELETE FROM api_rate_limits WHERE athlete_id = $1 AND window_start < $2), \
              hit AS (INSERT INTO api_rate_limits AS r (athlete_id, window_start, hits) \
                      VALUES ($1, $2, 1) \
                      ON CONFLICT (athlete_id, window_start) DO UPDATE SET hits = r.hits + 1 \
                      RETURNING hits), \
              {} \
         SELECT (SELECT hits FROM hit) AS hits, (SELECT slot FROM taken) AS slot",
        take_cte(
            "(SELECT hits FROM hit) <= $3",
            TakeParams("$1", "$4", "$5", "$6")
        )
    ))
    .bind::<BigInt, _>(athlete.get())
    .bind::<Timestamptz, _>(start)
    .bind::<Integer, _>(limits.per_window)
    .bind::<Integer, _>(i32::from(limits.in_flight))
    .bind::<SqlUuid, _>(holder)
    .bind::<Double, _>(limits.lease.as_secs_f64())
    .get_result(conn)
    .await?;
    if admitted.hits > limits.per_window {
        return Ok(Admission::TooMany);
    }
    let lease = |slot| SlotLease {
        athlete,
        slot,
        holder,
    };
    if let Some(slot) = admitted.slot {
        return Ok(Admission::Granted(lease(slot)));
    }
    if in_flight(conn, athlete).await? >= i64::from(limits.in_flight) {
        return Ok(Admission::Busy);
    }
    // Another question took the free slot we picked at the same moment: look again.
    Ok(
        match take_slot(conn, athlete, limits.in_flight, limits.lease).await? {
            Some(lease) => Admission::Granted(lease),
            None => Admission::Busy,
        },
    )
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
        let taken: Option<TakenSlot> = diesel::sql_query(format!(
            "WITH {} SELECT slot FROM taken",
            take_cte("true", TakeParams("$1", "$2", "$3", "$4"))
        ))
        .bind::<BigInt, _>(athlete.get())
        .bind::<Integer, _>(i32::from(limit))
        .bind::<SqlUuid, _>(holder)
        .bind::<Double, _>(lease.as_secs_f64())
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

/// How many of the athlete's slots are held.
pub async fn in_flight(conn: &mut AsyncPgConnection, athlete: AthleteId) -> QueryResult<i64> {
    let live: Live = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM ask_slots x WHERE x.athlete_id = $1 AND {}",
        held("x")
    ))
    .bind::<BigInt, _>(athlete.get())
    .get_result(conn)
    .await?;
    Ok(live.n)
}

/// Frees the slot if this lease still holds it; returns whether it did. The row stays
/// for the athlete's next question.
pub async fn release_slot(conn: &mut AsyncPgConnection, lease: &SlotLease) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE ask_slots SET expires_at = '-infinity', holder_pid = NULL, holder_since = NULL \
         WHERE athlete_id = $1 AND slot = $2 AND holder = $3 AND expires_at > '-infinity'",
    )
    .bind::<BigInt, _>(lease.athlete.get())
    .bind::<SmallInt, _>(lease.slot)
    .bind::<SqlUuid, _>(lease.holder)
    .execute(conn)
    .await?;
    Ok(n > 0)
}
