//! The job queue: typed work claimed with `FOR UPDATE SKIP LOCKED`, so any number of
//! workers in any number of processes share it without taking the same job twice.
//! A claim is a lease: a job whose worker died becomes claimable again once it lapses.

use crate::QueryResult;
use crate::schema::jobs;
use crate::text_enum::text_enum;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Channel used with `NOTIFY` when a job is queued, so idle workers wake at once.
pub const NOTIFY_CHANNEL: &str = "stravatalk_jobs";

text_enum! {
    /// What a job does. Every kind works for one athlete (`AthletePayload`).
    pub enum JobKind {
        /// Pages the athlete's whole history after connect.
        Backfill = "backfill",
        /// Re-lists recent activities and drops rows Strava no longer lists.
        Reconcile = "reconcile",
        /// Like reconcile over the whole history (retention).
        Refresh = "refresh",
        /// Imports the athlete's oldest pending export upload (`uploads`).
        Import = "import",
        /// Fetches what listings lack (DetailedActivity, gear names), within a share
        /// of the read budget.
        Details = "details",
    }
}

text_enum! {
    /// Where a job is in its life (the column's CHECK lists the same four).
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

/// The payload of every job kind: the athlete it works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AthletePayload {
    pub athlete_id: i64,
}

/// A job row.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = jobs, check_for_backend(diesel::pg::Pg))]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub payload: serde_json::Value,
    pub dedupe_key: Option<String>,
    pub state: JobState,
    pub run_after: DateTime<Utc>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub progress: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A job to queue.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = jobs)]
pub struct NewJob {
    pub kind: JobKind,
    pub payload: serde_json::Value,
    /// At most one queued or running job exists per key.
    pub dedupe_key: Option<String>,
    pub run_after: DateTime<Utc>,
    pub max_attempts: i32,
}

impl NewJob {
    /// The one way to make a job: `kind` for `athlete`, runnable now, retried up to 10
    /// times, at most one queued or running per kind and athlete.
    pub fn for_athlete(kind: JobKind, athlete: AthleteId) -> Self {
        let payload = AthletePayload {
            athlete_id: athlete.get(),
        };
        Self {
            kind,
            payload: serde_json::to_value(payload).expect("a struct of integers serialises"),
            dedupe_key: Some(format!("{kind}:{}", athlete.get())),
            run_after: Utc::now(),
            max_attempts: 10,
        }
    }
}

impl Job {
    /// The athlete the job works for; an error names a payload of the wrong shape.
    pub fn athlete(&self) -> Result<AthleteId, String> {
        let payload: AthletePayload = serde_json::from_value(self.payload.clone())
            .map_err(|e| format!("job {} has a bad payload: {e}", self.id))?;
        Ok(AthleteId(payload.athlete_id))
    }
}

/// Queues a job and wakes workers; returns its id, or `None` when a job with the same
/// dedupe key is already queued or running.
pub async fn enqueue(conn: &mut AsyncPgConnection, job: &NewJob) -> QueryResult<Option<i64>> {
    use jobs::dsl as j;
    let id = diesel::insert_into(j::jobs)
        .values(job)
        .on_conflict_do_nothing()
        .returning(j::id)
        .get_result::<i64>(conn)
        .await
        .optional()?;
    if id.is_some() {
        diesel::sql_query(format!("NOTIFY {NOTIFY_CHANNEL}"))
            .execute(conn)
            .await?;
    }
    Ok(id)
}

/// Takes the next due job (queued and due, or running with a lapsed lease), marks it
/// running and counts the attempt. Concurrent claimers never receive the same job.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    kinds: &[JobKind],
    lease: Duration,
) -> QueryResult<Option<Job>> {
    diesel::sql_query(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
                lease_until = now() + make_interval(secs => $2), updated_at = now() \
         WHERE id = ( \
             SELECT id FROM jobs \
             WHERE kind = ANY($1) \
               AND ((state = 'queued' AND run_after <= now()) \
                    OR (state = 'running' AND lease_until < now())) \
             ORDER BY run_after, id \
             FOR UPDATE SKIP LOCKED \
             LIMIT 1) \
         RETURNING *",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(kinds)
    .bind::<BigInt, _>(lease.as_secs() as i64)
    .get_result::<Job>(conn)
    .await
    .optional()
}

/// Extends a running job's lease and records its progress; returns false when the job
/// is no longer ours (the lease lapsed and another worker took it).
pub async fn heartbeat(
    conn: &mut AsyncPgConnection,
    id: i64,
    attempt: i32,
    lease: Duration,
    progress: &serde_json::Value,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE jobs SET lease_until = now() + make_interval(secs => $3), progress = $4, updated_at = now() \
         WHERE id = $1 AND attempts = $2 AND state = 'running'",
    )
    .bind::<BigInt, _>(id)
    .bind::<diesel::sql_types::Integer, _>(attempt)
    .bind::<BigInt, _>(lease.as_secs() as i64)
    .bind::<diesel::sql_types::Jsonb, _>(progress)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Marks a job done.
pub async fn complete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<()> {
    use jobs::dsl as j;
    diesel::update(j::jobs.find(id))
        .set((
            j::state.eq(JobState::Done),
            j::lease_until.eq(None::<DateTime<Utc>>),
            j::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Records a failure: the job is queued again after an exponential backoff
/// (`base * 2^(attempts-1)`, capped at an hour), or stays failed once it has used
/// all its attempts.
pub async fn fail(
    conn: &mut AsyncPgConnection,
    job: &Job,
    error: &str,
    base: Duration,
) -> QueryResult<()> {
    use jobs::dsl as j;
    let exhausted = job.attempts >= job.max_attempts;
    let delay = backoff(base, job.attempts);
    let run_after =
        Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
    diesel::update(j::jobs.find(job.id))
        .set((
            j::state.eq(if exhausted {
                JobState::Failed
            } else {
                JobState::Queued
            }),
            j::run_after.eq(run_after),
            j::lease_until.eq(None::<DateTime<Utc>>),
            j::last_error.eq(error),
            j::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Puts a running job back in the queue without counting a failure (e.g. it must wait
/// for the rate limit); the attempt it used is given back.
pub async fn postpone(
    conn: &mut AsyncPgConnection,
    id: i64,
    until: DateTime<Utc>,
) -> QueryResult<()> {
    use jobs::dsl as j;
    diesel::update(j::jobs.find(id))
        .set((
            j::state.eq(JobState::Queued),
            j::run_after.eq(until),
            j::attempts.eq(j::attempts - 1),
            j::lease_until.eq(None::<DateTime<Utc>>),
            j::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// The delay before retry number `attempts`: `base * 2^(attempts-1)`, at most an hour.
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exp = attempts.saturating_sub(1).clamp(0, 20) as u32;
    base.saturating_mul(1u32 << exp)
        .min(Duration::from_secs(3600))
}

/// Deletes jobs that finished (done or failed) before `before`; queued and running
/// jobs stay whatever their age.
pub async fn prune_finished(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
) -> QueryResult<usize> {
    use jobs::dsl as j;
    diesel::delete(
        j::jobs
            .filter(j::state.eq_any([JobState::Done, JobState::Failed]))
            .filter(j::updated_at.lt(before)),
    )
    .execute(conn)
    .await
}

/// One job by id.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Job>> {
    jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .await
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1), Duration::from_secs(5));
        assert_eq!(backoff(base, 2), Duration::from_secs(10));
        assert_eq!(backoff(base, 4), Duration::from_secs(40));
        assert_eq!(backoff(base, 30), Duration::from_secs(3600));
        assert_eq!(backoff(base, 0), Duration::from_secs(5));
    }
}
