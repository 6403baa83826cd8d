//! Best efforts per activity: replaced whole for an activity whenever its efforts are
//! known (a DetailedActivity fetched, a GPS file read, the demo seeded).

use crate::QueryResult;
use crate::schema::best_efforts;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{ActivityId, ActivitySource, AthleteId, BestEffort};

/// A best effort as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = best_efforts, check_for_backend(diesel::pg::Pg))]
pub struct BestEffortRow {
    pub athlete_id: i64,
    pub activity_id: i64,
    pub name: String,
    pub distance_m: f64,
    pub elapsed_time_s: i32,
    pub moving_time_s: i32,
    pub start_date: DateTime<Utc>,
    pub start_date_local: NaiveDateTime,
    pub pr_rank: Option<i32>,
    pub source: String,
}

impl BestEffortRow {
    /// A row for `effort` of one activity.
    pub fn new(
        athlete: AthleteId,
        activity: ActivityId,
        effort: &BestEffort,
        source: ActivitySource,
    ) -> Self {
        Self {
            athlete_id: athlete.get(),
            activity_id: activity.get(),
            name: effort.name.clone(),
            distance_m: effort.distance_m,
            elapsed_time_s: effort.elapsed_time_s,
            moving_time_s: effort.moving_time_s,
            start_date: effort.start_date,
            start_date_local: effort.start_date_local,
            pr_rank: effort.pr_rank,
            source: source.as_str().to_owned(),
        }
    }
}

/// Rows per INSERT: 10 columns each.
const CHUNK: usize = 2000;

/// Replaces the best efforts of each activity named in `activities` with `rows` (an
/// activity with none left has none stored), in one transaction. An activity whose
/// row is not stored (an export's copy kept behind the API's) is skipped by the
/// caller; the foreign key refuses efforts of activities not stored.
pub async fn replace_for(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    activities: &[i64],
    rows: &[BestEffortRow],
) -> QueryResult<usize> {
    use best_efforts::dsl as b;
    use diesel_async::AsyncConnection;
    if activities.is_empty() {
        return Ok(0);
    }
    conn.transaction(async |conn| {
        diesel::delete(
            b::best_efforts
                .filter(b::athlete_id.eq(athlete.get()))
                .filter(b::activity_id.eq_any(activities)),
        )
        .execute(conn)
        .await?;
        let mut written = 0;
        for chunk in rows.chunks(CHUNK) {
            written += diesel::insert_into(best_efforts::table)
                .values(chunk)
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
        }
        Ok(written)
    })
    .await
}

/// One activity's best efforts, shortest first.
pub async fn for_activity(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    activity: ActivityId,
) -> QueryResult<Vec<BestEffortRow>> {
    use best_efforts::dsl as b;
    b::best_efforts
        .filter(b::athlete_id.eq(athlete.get()))
        .filter(b::activity_id.eq(activity.get()))
        .order(b::distance_m)
        .select(BestEffortRow::as_select())
        .load(conn)
        .await
}
