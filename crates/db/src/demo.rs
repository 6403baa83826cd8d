//! The demo athlete: the template loaded from the `demo` crate (profile and generated
//! activities), and the short-lived copies of it that each demo visitor gets, so no
//! visitor sees, changes or erases another's.

use crate::QueryResult;
use crate::activities::{self, ActivityRow};
use crate::athletes::{self, AthleteUpsert};
use crate::best_efforts::{self, BestEffortRow};
use crate::gear::{self, GearRow};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Double, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::{ActivitySource, AthleteId};

/// Years of history the demo athlete gets, so "2024 vs 2023" has an answer.
pub const DEMO_YEARS: u32 = 3;

/// Replaces the demo athlete's activities with a fresh set ending today (in the demo
/// athlete's time zone). Idempotent; returns how many activities were loaded.
pub async fn seed(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let profile = demo::demo_athlete();
    let tz = domain::dates::parse_strava_timezone(&profile.timezone).unwrap_or(chrono_tz::UTC);
    let today = domain::dates::today(now, tz);
    let activities = demo::demo_activities(today, DEMO_YEARS);
    let rows: Vec<ActivityRow> = activities
        .iter()
        .map(|a| ActivityRow::new(a, None, now))
        .collect();
    let gear: Vec<GearRow> = demo::demo_gear()
        .iter()
        .map(|g| GearRow::new(profile.id, g, ActivitySource::Demo, now))
        .collect();
    let efforts: Vec<BestEffortRow> = activities
        .iter()
        .flat_map(|a| {
            demo::demo_best_efforts(a)
                .into_iter()
                .map(|e| BestEffortRow::new(a.athlete_id, a.id, &e, ActivitySource::Demo))
        })
        .collect();
    let ids: Vec<i64> = activities.iter().map(|a| a.id.get()).collect();
    let athlete = AthleteUpsert {
        id: profile.id.get(),
        firstname: profile.firstname,
        lastname: profile.lastname,
        measurement_preference: profile.measurement_preference,
        timezone: Some(profile.timezone),
        is_demo: true,
    };
    conn.transaction(async |conn| {
        athletes::upsert(conn, &athlete).await?;
        {
            use crate::schema::activities::dsl as a;
            diesel::delete(
                a::activities.filter(a::athlete_id.eq(athlete.id).and(a::source.eq("demo"))),
            )
            .execute(conn)
            .await?;
        }
        let written = activities::upsert_many(conn, &rows).await?;
        gear::upsert_many(conn, &gear).await?;
        best_efforts::replace_for(conn, profile.id, &ids, &efforts).await?;
        Ok(written)
    })
    .await
}

/// Every `activities` column a demo copy carries over from the template: all but `id`
/// and `athlete_id`, from the fields' home. A test compares copies with the template
/// column by column.
fn copied_activity_columns() -> String {
    domain::fields::ACTIVITY_COLUMNS
        .iter()
        .filter(|c| !matches!(c.name, "id" | "athlete_id"))
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Expired copies deleted per statement, so no one transaction grows large.
const EXPIRED_BATCH: i64 = 50;

/// What [`create_copy`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyOutcome {
    /// A fresh copy, deleted by upkeep after `expires_at`.
    Created {
        athlete: AthleteId,
        expires_at: DateTime<Utc>,
    },
    /// The demo athlete has not been loaded (`seed-demo`).
    NoTemplate,
    /// `max_copies` copies exist already (live, or expired and awaiting upkeep).
    Full,
}

#[derive(diesel::QueryableByName)]
struct NewCopy {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamptz)]
    demo_expires_at: DateTime<Utc>,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Who asks for a demo copy, and how many copies one client may hold.
#[derive(Debug, Clone)]
pub struct DemoClient {
    /// A keyed hash of the client's address ([`client_key`]).
    pub key: Vec<u8>,
    /// Copies one client may hold at once; a new one replaces its oldest.
    pub max_copies: i64,
}

/// The key a client's copies are remembered by: a hash of `secret` and the address,
/// so the address itself is never stored and cannot be recovered by trying them all.
pub fn client_key(secret: &[u8], address: std::net::IpAddr) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(secret);
    hash.update(b"\0demo-client\0");
    hash.update(address.to_string().as_bytes());
    hash.finalize().to_vec()
}

/// How long a copy must go unused before a full demo recycles it for a newcomer.
const IDLE_BEFORE_RECYCLED: f64 = 15.0 * 60.0;

/// Makes a visitor's own copy of the demo athlete (profile and activities, copied
/// inside Postgres), living for `ttl`. A client holding `client.max_copies` copies
/// already gives up its oldest; when `max_copies` copies exist, the one unused the
/// longest (at least [`IDLE_BEFORE_RECYCLED`]) makes room, and only when every copy is
/// in use is the demo full. Copies get negative athlete and activity ids, which Strava
/// never uses.
///
/// The cap is checked without a lock: copies made at the same moment may pass it by
/// as many as are being made (at most the pools' connections). A lock would make it
/// exact, but every visitor waiting on it would hold a pooled connection, and a burst
/// of "Try the demo" could then starve the pool.
pub async fn create_copy(
    conn: &mut AsyncPgConnection,
    ttl: chrono::Duration,
    max_copies: i64,
    client: &DemoClient,
) -> QueryResult<CopyOutcome> {
    let template = demo::DEMO_ATHLETE_ID.get();
    conn.transaction(async |conn| {
        // The client's own oldest copies first: one client never holds more than its
        // share, however often it asks.
        diesel::sql_query(
            "DELETE FROM athletes WHERE id IN ( \
                 SELECT id FROM athletes WHERE demo_client = $1 \
                 ORDER BY demo_expires_at DESC OFFSET greatest($2 - 1, 0))",
        )
        .bind::<Bytea, _>(&client.key)
        .bind::<BigInt, _>(client.max_copies)
        .execute(conn)
        .await?;
        let existing: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM athletes WHERE demo_expires_at IS NOT NULL",
        )
        .get_result(conn)
        .await?;
        if existing.n >= max_copies {
            // The copy unused the longest, by its sessions' last request (or its
            // making, when it has none), makes room if it is idle.
            let recycled = diesel::sql_query(
                "DELETE FROM athletes WHERE id = ( \
                     SELECT a.id FROM athletes a \
                     LEFT JOIN app_sessions s ON s.athlete_id = a.id \
                     WHERE a.demo_expires_at IS NOT NULL \
                     GROUP BY a.id \
                     HAVING coalesce(max(s.last_seen_at), min(a.created_at)) \
                            < now() - make_interval(secs => $1) \
                     ORDER BY coalesce(max(s.last_seen_at), min(a.created_at)) \
                     LIMIT 1)",
            )
            .bind::<Double, _>(IDLE_BEFORE_RECYCLED)
            .execute(conn)
            .await?;
            if recycled == 0 {
                return Ok(CopyOutcome::Full);
            }
        }
        let copy: Option<NewCopy> = diesel::sql_query(
            "INSERT INTO athletes (id, firstname, lastname, measurement_preference, \
                                   units_override, timezone, is_demo, demo_expires_at, \
                                   demo_client) \
             SELECT nextval('demo_copy_athlete_ids'), firstname, lastname, \
                    measurement_preference, units_override, timezone, TRUE, \
                    now() + make_interval(secs => $2), $3 \
             FROM athletes WHERE id = $1 AND is_demo AND demo_expires_at IS NULL \
             RETURNING id, demo_expires_at",
        )
        .bind::<BigInt, _>(template)
        .bind::<Double, _>(ttl.as_seconds_f64())
        .bind::<Bytea, _>(&client.key)
        .get_result(conn)
        .await
        .optional()?;
        let Some(copy) = copy else {
            return Ok(CopyOutcome::NoTemplate);
        };
        // A copy's activity ids are the template's negated: Strava never uses them, and
        // keyed per owner they need not differ between copies, so best efforts follow.
        let columns = copied_activity_columns();
        diesel::sql_query(format!(
            "INSERT INTO activities (id, athlete_id, {columns}) \
             SELECT -id, $2, {columns} FROM activities WHERE athlete_id = $1"
        ))
        .bind::<BigInt, _>(template)
        .bind::<BigInt, _>(copy.id)
        .execute(conn)
        .await?;
        diesel::sql_query(
            "INSERT INTO gear (athlete_id, id, name, kind, is_primary, retired, distance_m, \
                               source, fetched_at) \
             SELECT $2, id, name, kind, is_primary, retired, distance_m, source, fetched_at \
             FROM gear WHERE athlete_id = $1",
        )
        .bind::<BigInt, _>(template)
        .bind::<BigInt, _>(copy.id)
        .execute(conn)
        .await?;
        diesel::sql_query(
            "INSERT INTO best_efforts (athlete_id, activity_id, name, distance_m, \
                                       elapsed_time_s, moving_time_s, start_date, \
                                       start_date_local, pr_rank, source) \
             SELECT $2, -activity_id, name, distance_m, elapsed_time_s, moving_time_s, \
                    start_date, start_date_local, pr_rank, source \
             FROM best_efforts WHERE athlete_id = $1",
        )
        .bind::<BigInt, _>(template)
        .bind::<BigInt, _>(copy.id)
        .execute(conn)
        .await?;
        Ok(CopyOutcome::Created {
            athlete: AthleteId(copy.id),
            expires_at: copy.demo_expires_at,
        })
    })
    .await
}

/// Deletes demo copies that expired at or before `now`, with everything hanging off
/// them; returns how many copies went.
pub async fn delete_expired_copies(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let n = diesel::sql_query(
            "DELETE FROM athletes WHERE id IN ( \
                 SELECT id FROM athletes WHERE demo_expires_at <= $1 \
                 ORDER BY demo_expires_at LIMIT $2)",
        )
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(EXPIRED_BATCH)
        .execute(conn)
        .await?;
        total += n;
        if (n as i64) < EXPIRED_BATCH {
            return Ok(total);
        }
    }
}
