//! The webhook inbox (`webhook_events`): every event Strava delivers is a row before
//! Strava gets its 200, so none is lost when a worker is busy or down. Workers claim
//! rows in batches with `FOR UPDATE SKIP LOCKED` under a lease, then mark them done,
//! ignored or failed; failures come back after an exponential backoff until the
//! attempts run out.
//!
//! The cost of an event does not grow with the inbox: the claim reads the partial
//! index of live events, per-object look-ups read the partial index of live events of
//! that object, and whether an object was applied since a fetch began is one row of
//! `webhook_objects` rather than the object's history. Applied events are pruned a day
//! later (never one not yet applied).

use crate::QueryResult;
use crate::schema::webhook_events;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::time::Duration;

/// Channel used with `NOTIFY` when events arrive, so idle workers wake at once.
pub const NOTIFY_CHANNEL: &str = "stravatalk_inbox";

crate::text_enum::text_enum! {
    /// The kind of object a Strava event is about.
    pub enum ObjectType {
        Activity = "activity",
        Athlete = "athlete",
    }
}

crate::text_enum::text_enum! {
    /// What happened to the object.
    pub enum AspectType {
        Create = "create",
        Update = "update",
        Delete = "delete",
    }
}

crate::text_enum::text_enum! {
    /// Where a stored event is (the column's CHECK lists the same five).
    pub enum InboxStatus {
        /// Waiting for a worker (possibly after a backoff).
        Pending = "pending",
        /// Leased by a worker.
        Processing = "processing",
        Done = "done",
        /// Deliberately not applied (e.g. an unknown athlete); `last_error` says why.
        Ignored = "ignored",
        /// Out of attempts.
        Failed = "failed",
    }
}

/// An event to store, already checked by the receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Identifies the event across Strava's retries; a second insert is ignored.
    pub dedupe_key: String,
    pub subscription_id: i64,
    pub object_type: ObjectType,
    pub object_id: i64,
    pub aspect_type: AspectType,
    pub owner_id: i64,
    pub event_time: i64,
    pub updates: serde_json::Value,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_events, check_for_backend(diesel::pg::Pg))]
pub struct Event {
    pub id: i64,
    pub dedupe_key: String,
    pub subscription_id: i64,
    pub object_type: ObjectType,
    pub object_id: i64,
    pub aspect_type: AspectType,
    pub owner_id: i64,
    pub event_time: i64,
    pub updates: serde_json::Value,
    pub status: InboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub received_at: DateTime<Utc>,
    pub processed_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Stores a batch of events in one statement, skipping any whose dedupe key is
/// already stored (or repeated within the batch) and any whose owner we hold no
/// Strava tokens for, and wakes listening workers when something new went in.
/// Returns how many rows were inserted.
///
/// Events are unsigned, so an event naming an athlete we cannot act for is noise at
/// best and a forged attempt to spend our Strava budget at worst: it is not kept.
/// One statement means one round trip and one commit (one WAL flush) for the whole
/// batch, which is what lets the receiver acknowledge thousands of events a second.
pub async fn insert_many(conn: &mut AsyncPgConnection, events: &[NewEvent]) -> QueryResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let mut keys = Vec::with_capacity(events.len());
    let mut subs = Vec::with_capacity(events.len());
    let mut object_types = Vec::with_capacity(events.len());
    let mut object_ids = Vec::with_capacity(events.len());
    let mut aspects = Vec::with_capacity(events.len());
    let mut owners = Vec::with_capacity(events.len());
    let mut times = Vec::with_capacity(events.len());
    let mut updates = Vec::with_capacity(events.len());
    for e in events {
        keys.push(e.dedupe_key.as_str());
        subs.push(e.subscription_id);
        object_types.push(e.object_type);
        object_ids.push(e.object_id);
        aspects.push(e.aspect_type);
        owners.push(e.owner_id);
        times.push(e.event_time);
        updates.push(&e.updates);
    }
    // pg_notify runs only when a row went in (the WHERE filters the one-row result).
    let rows: Vec<Inserted> = diesel::sql_query(format!(
        "WITH ins AS ( \
             INSERT INTO webhook_events \
                 (dedupe_key, subscription_id, object_type, object_id, aspect_type, \
                  owner_id, event_time, updates) \
             SELECT e.* FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], \
                                    $5::text[], $6::bigint[], $7::bigint[], $8::jsonb[]) \
                 AS e(k, s, ot, oi, a, owner, t, u) \
             WHERE EXISTS (SELECT 1 FROM strava_tokens WHERE athlete_id = e.owner) \
             ON CONFLICT (dedupe_key) DO NOTHING \
             RETURNING 1), \
         c AS (SELECT count(*) AS n FROM ins) \
         SELECT c.n, (SELECT pg_notify('{NOTIFY_CHANNEL}', '') IS NULL) AS woke \
         FROM c WHERE c.n > 0"
    ))
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<BigInt>, _>(subs)
    .bind::<Array<Text>, _>(object_types)
    .bind::<Array<BigInt>, _>(object_ids)
    .bind::<Array<Text>, _>(aspects)
    .bind::<Array<BigInt>, _>(owners)
    .bind::<Array<BigInt>, _>(times)
    .bind::<Array<Jsonb>, _>(updates)
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().map_or(0, |r| r.n as usize))
}

/// Takes up to `limit` due events (pending and due, or processing with a lapsed
/// lease), marks them processing under a lease and counts an attempt on each, in one
/// statement. Concurrent claimers never receive the same event, and a batch holds one
/// event per object: the others stay pending, so the fetch for the one taken settles
/// them instead of each fetching the same state again. They come back in the
/// order to apply them: by due time, and among events due at the same moment (those an
/// athlete's cap postponed to the same quarter hour) newest first, so a real event is
/// not kept waiting behind a forged burst that came before it.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    lease: Duration,
    limit: usize,
) -> QueryResult<Vec<Event>> {
    let mut events: Vec<Event> = diesel::sql_query(
        "UPDATE webhook_events SET status = 'processing', attempts = attempts + 1, \
                lease_until = now() + make_interval(secs => $1) \
         WHERE id IN ( \
             SELECT DISTINCT ON (object_type, object_id) id FROM ( \
                 SELECT id, object_type, object_id, next_attempt_at FROM webhook_events \
                 WHERE (status = 'pending' AND next_attempt_at <= now()) \
                    OR (status = 'processing' AND lease_until < now()) \
                 ORDER BY next_attempt_at, id DESC \
                 FOR UPDATE SKIP LOCKED \
                 LIMIT $2) AS due \
             ORDER BY object_type, object_id, next_attempt_at, id DESC) \
         RETURNING *",
    )
    .bind::<BigInt, _>(lease.as_secs().max(1) as i64)
    .bind::<BigInt, _>(limit.max(1) as i64)
    .load(conn)
    .await?;
    events.sort_by(|a, b| {
        a.next_attempt_at
            .cmp(&b.next_attempt_at)
            .then(b.id.cmp(&a.id))
    });
    Ok(events)
}

/// Ends an event we hold (same id and attempt, still processing) with `status` and an
/// optional note; returns false when the lease had lapsed and someone else took it.
async fn finish(
    conn: &mut AsyncPgConnection,
    event: &Event,
    status: InboxStatus,
    note: Option<&str>,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE webhook_events SET status = $3, last_error = $4, lease_until = NULL, \
                processed_at = clock_timestamp() \
         WHERE id = $1 AND attempts = $2 AND status = 'processing'",
    )
    .bind::<BigInt, _>(event.id)
    .bind::<Integer, _>(event.attempts)
    .bind::<Text, _>(status)
    .bind::<diesel::sql_types::Nullable<Text>, _>(note)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Marks an event applied (without applying anything: events with nothing to fetch).
pub async fn mark_done(conn: &mut AsyncPgConnection, event: &Event) -> QueryResult<bool> {
    finish(conn, event, InboxStatus::Done, None).await
}

/// Marks an event applied with a note on how (e.g. there was nothing to change).
pub async fn mark_done_noting(
    conn: &mut AsyncPgConnection,
    event: &Event,
    note: &str,
) -> QueryResult<bool> {
    finish(conn, event, InboxStatus::Done, Some(note)).await
}

/// Marks an event as deliberately not applied (e.g. unknown athlete), with why.
pub async fn mark_ignored(
    conn: &mut AsyncPgConnection,
    event: &Event,
    note: &str,
) -> QueryResult<bool> {
    finish(conn, event, InboxStatus::Ignored, Some(note)).await
}

/// Records a failed attempt: the event is pending again after
/// `base * 2^(attempts-1)` (capped at an hour), or stays `failed` with its last error
/// once it has had `max_attempts`. Returns the status it was left in.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    event: &Event,
    error: &str,
    base: Duration,
    max_attempts: i32,
) -> QueryResult<InboxStatus> {
    let status = if event.attempts >= max_attempts {
        InboxStatus::Failed
    } else {
        InboxStatus::Pending
    };
    let delay = crate::jobs::backoff(base, event.attempts);
    let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
    diesel::sql_query(
        "UPDATE webhook_events SET status = $3, last_error = $4, lease_until = NULL, \
                next_attempt_at = $5, \
                processed_at = CASE WHEN $3 = 'failed' THEN now() ELSE NULL END \
         WHERE id = $1 AND attempts = $2 AND status = 'processing'",
    )
    .bind::<BigInt, _>(event.id)
    .bind::<Integer, _>(event.attempts)
    .bind::<Text, _>(status)
    .bind::<Text, _>(error)
    .bind::<Timestamptz, _>(next)
    .execute(conn)
    .await?;
    Ok(status)
}

/// Puts an event back without counting the attempt (e.g. Strava's rate limit says
/// wait until `until`).
pub async fn postpone(
    conn: &mut AsyncPgConnection,
    event: &Event,
    until: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE webhook_events SET status = 'pending', attempts = attempts - 1, \
                lease_until = NULL, next_attempt_at = $3 \
         WHERE id = $1 AND attempts = $2 AND status = 'processing'",
    )
    .bind::<BigInt, _>(event.id)
    .bind::<Integer, _>(event.attempts)
    .bind::<Timestamptz, _>(until)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Every stored event, oldest first (tests and diagnostics).
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<Event>> {
    webhook_events::table
        .order(webhook_events::id)
        .select(Event::as_select())
        .load(conn)
        .await
}

/// Deletes done and ignored events processed before `before` (failed ones stay for
/// a person to look at), and the applied-at marks of objects no event touched since.
/// Returns how many events went.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM webhook_objects WHERE applied_at < $1")
        .bind::<Timestamptz, _>(before)
        .execute(conn)
        .await?;
    diesel::sql_query(
        "DELETE FROM webhook_events \
         WHERE status IN ('done', 'ignored') AND processed_at < $1",
    )
    .bind::<Timestamptz, _>(before)
    .execute(conn)
    .await
}

/// Whether a Strava call for an athlete's events could be counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerCall {
    /// Counted; `at` is the database's clock as it was counted, which is before the
    /// call is sent (see [`apply`]).
    Counted { at: DateTime<Utc> },
    /// No athlete has the owner's id.
    UnknownAthlete,
    /// The quarter hour's calls are spent.
    QuarterSpent,
    /// The UTC day's calls are spent.
    DaySpent,
}

/// Counts one Strava call for `owner`'s events in the quarter hour starting
/// `window_start`, unless `cap` calls were counted in it already or `daily_cap` since
/// `day_start` (UTC midnight): one athlete's events, real or forged, can spend only
/// their share of the application's day. One statement, which also says whether the
/// athlete is known and reads the clock a fetch starts from.
pub async fn take_owner_call(
    conn: &mut AsyncPgConnection,
    owner: i64,
    window_start: DateTime<Utc>,
    cap: i32,
    day_start: DateTime<Utc>,
    daily_cap: i32,
) -> QueryResult<OwnerCall> {
    #[derive(QueryableByName)]
    struct Taken {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        known: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        counted: bool,
        #[diesel(sql_type = BigInt)]
        today: i64,
        #[diesel(sql_type = Timestamptz)]
        at: DateTime<Utc>,
    }
    let taken: Taken = diesel::sql_query(
        "WITH known AS (SELECT EXISTS (SELECT 1 FROM athletes WHERE id = $1) AS k), \
              spent AS (SELECT coalesce(sum(calls), 0)::bigint AS n FROM webhook_owner_calls \
                        WHERE owner_id = $1 AND window_start >= $4), \
              ins AS (INSERT INTO webhook_owner_calls AS w (owner_id, window_start, calls) \
                      SELECT $1, $2, 1 FROM spent, known WHERE known.k AND spent.n < $5 \
                      ON CONFLICT (owner_id, window_start) DO UPDATE SET calls = w.calls + 1 \
                      WHERE w.calls < $3 \
                      RETURNING 1) \
         SELECT (SELECT k FROM known) AS known, EXISTS (SELECT 1 FROM ins) AS counted, \
                (SELECT n FROM spent) AS today, clock_timestamp() AS at",
    )
    .bind::<BigInt, _>(owner)
    .bind::<Timestamptz, _>(window_start)
    .bind::<Integer, _>(cap)
    .bind::<Timestamptz, _>(day_start)
    .bind::<Integer, _>(daily_cap)
    .get_result(conn)
    .await?;
    Ok(if !taken.known {
        OwnerCall::UnknownAthlete
    } else if taken.counted {
        OwnerCall::Counted { at: taken.at }
    } else if taken.today >= i64::from(daily_cap) {
        OwnerCall::DaySpent
    } else {
        OwnerCall::QuarterSpent
    })
}

/// What [`apply`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Another event of the object was applied since the fetch began: nothing changed;
    /// fetch again.
    Stale,
    /// The event is recorded as applied (with the pending events its fetch covers);
    /// write the fetched state in the same transaction. `ours` is false when our lease
    /// had lapsed and another worker holds the event now.
    Recorded { ours: bool },
}

/// Records, inside the transaction that writes what was fetched, that `event` is
/// applied with data fetched from `fetched_from` on, unless another event of the same
/// object was applied since then (our copy may be older than what it wrote).
///
/// The object's row in `webhook_objects` is the lock: its upsert waits for any other
/// transaction writing the object and then sees what that one committed, so the check
/// and the record are one statement and never look at the object's event history.
/// With it go the object's other pending events that arrived before `fetched_from`
/// (the state fetched from then on already reflects them, so each would only spend
/// another Strava call to learn the same thing), and the event itself is marked done.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    event: &Event,
    fetched_from: DateTime<Utc>,
) -> QueryResult<Applied> {
    #[derive(QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        applied: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ours: bool,
    }
    let outcome: Outcome = diesel::sql_query(
        "WITH mark AS ( \
             INSERT INTO webhook_objects AS o (object_type, object_id, applied_at) \
             VALUES ($2, $1, clock_timestamp()) \
             ON CONFLICT (object_type, object_id) DO UPDATE SET applied_at = excluded.applied_at \
             WHERE o.applied_at < $5 \
             RETURNING 1), \
         covered AS ( \
             UPDATE webhook_events SET status = 'done', lease_until = NULL, \
                    last_error = 'settled by event ' || $3::text, processed_at = clock_timestamp() \
             WHERE object_id = $1 AND object_type = $2 AND owner_id = $4 AND id <> $3 \
               AND status = 'pending' AND received_at < $5 AND EXISTS (SELECT 1 FROM mark) \
             RETURNING 1), \
         me AS ( \
             UPDATE webhook_events SET status = 'done', last_error = NULL, lease_until = NULL, \
                    processed_at = clock_timestamp() \
             WHERE id = $3 AND attempts = $6 AND status = 'processing' \
               AND EXISTS (SELECT 1 FROM mark) \
             RETURNING 1) \
         SELECT EXISTS (SELECT 1 FROM mark) AS applied, EXISTS (SELECT 1 FROM me) AS ours",
    )
    .bind::<BigInt, _>(event.object_id)
    .bind::<Text, _>(event.object_type)
    .bind::<BigInt, _>(event.id)
    .bind::<BigInt, _>(event.owner_id)
    .bind::<Timestamptz, _>(fetched_from)
    .bind::<Integer, _>(event.attempts)
    .get_result(conn)
    .await?;
    Ok(if outcome.applied {
        Applied::Recorded { ours: outcome.ours }
    } else {
        Applied::Stale
    })
}

/// Holds `event`'s object until the transaction ends and records it as applied now,
/// for changes made without a fetch (a delete of something we do not hold, an
/// erasure): an event of the object whose fetch began earlier then fetches again.
pub async fn hold_object(conn: &mut AsyncPgConnection, event: &Event) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO webhook_objects AS o (object_type, object_id, applied_at) \
         VALUES ($2, $1, clock_timestamp()) \
         ON CONFLICT (object_type, object_id) DO UPDATE SET applied_at = excluded.applied_at",
    )
    .bind::<BigInt, _>(event.object_id)
    .bind::<Text, _>(event.object_type)
    .execute(conn)
    .await
    .map(drop)
}

/// Marks `event`'s other pending events of the same object done, when they arrived
/// before `fetched_from`: the state fetched from then on already reflects them, so
/// each would only spend another Strava call to learn the same thing. Returns how many.
pub async fn settle_covered(
    conn: &mut AsyncPgConnection,
    event: &Event,
    fetched_from: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE webhook_events SET status = 'done', lease_until = NULL, \
                last_error = 'settled by event ' || $3::text, processed_at = clock_timestamp() \
         WHERE object_id = $1 AND object_type = $2 AND owner_id = $4 AND id <> $3 \
           AND status = 'pending' AND received_at < $5",
    )
    .bind::<BigInt, _>(event.object_id)
    .bind::<Text, _>(event.object_type)
    .bind::<BigInt, _>(event.id)
    .bind::<BigInt, _>(event.owner_id)
    .bind::<Timestamptz, _>(fetched_from)
    .execute(conn)
    .await
}

/// Forgets per-athlete call counts of windows that started before `before`.
pub async fn prune_owner_calls(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM webhook_owner_calls WHERE window_start < $1")
        .bind::<Timestamptz, _>(before)
        .execute(conn)
        .await
}
