//! Activities: bulk upsert, delete, and reads used by sync and retention.

use crate::QueryResult;
use crate::schema::activities;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{Activity, ActivityId, ActivitySource, AthleteId, SportType};

/// Rows per INSERT statement: 38 bound columns each stays well under PostgreSQL's
/// 65,535 parameters, and larger statements stop paying off.
pub const UPSERT_CHUNK: usize = 500;

/// An activity row as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = activities, check_for_backend(diesel::pg::Pg))]
pub struct ActivityRow {
    pub id: i64,
    pub athlete_id: i64,
    pub name: String,
    pub sport_type: String,
    pub start_date: DateTime<Utc>,
    pub start_date_local: NaiveDateTime,
    pub timezone: Option<String>,
    pub distance_m: f64,
    pub moving_time_s: i32,
    pub elapsed_time_s: i32,
    pub total_elevation_gain_m: f64,
    pub elev_high_m: Option<f64>,
    pub elev_low_m: Option<f64>,
    pub average_speed_mps: f64,
    pub max_speed_mps: f64,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub average_cadence: Option<f64>,
    pub average_watts: Option<f64>,
    pub weighted_average_watts: Option<i32>,
    pub max_watts: Option<i32>,
    pub kilojoules: Option<f64>,
    pub calories: Option<f64>,
    pub device_watts: bool,
    pub kudos_count: i32,
    pub comment_count: i32,
    pub achievement_count: i32,
    pub pr_count: i32,
    pub commute: bool,
    pub trainer: bool,
    pub manual: bool,
    pub private: bool,
    pub flagged: bool,
    pub workout_type: Option<i32>,
    pub gear_id: Option<String>,
    pub source: String,
    pub raw: Option<serde_json::Value>,
    pub fetched_at: DateTime<Utc>,
    pub device_name: Option<String>,
    /// When this row's DetailedActivity was stored (see [`ActivityRow::detailed`]).
    pub details_fetched_at: Option<DateTime<Utc>>,
}

impl ActivityRow {
    /// A row for `activity`, fetched now, with Strava's original JSON when there is one.
    pub fn new(
        activity: &Activity,
        raw: Option<serde_json::Value>,
        fetched_at: DateTime<Utc>,
    ) -> Self {
        let a = activity;
        Self {
            id: a.id.get(),
            athlete_id: a.athlete_id.get(),
            name: a.name.clone(),
            sport_type: a.sport_type.as_str().to_owned(),
            start_date: a.start_date,
            start_date_local: a.start_date_local,
            timezone: a.timezone.clone(),
            distance_m: a.distance_m,
            moving_time_s: a.moving_time_s,
            elapsed_time_s: a.elapsed_time_s,
            total_elevation_gain_m: a.total_elevation_gain_m,
            elev_high_m: a.elev_high_m,
            elev_low_m: a.elev_low_m,
            average_speed_mps: a.average_speed_mps,
            max_speed_mps: a.max_speed_mps,
            average_heartrate: a.average_heartrate,
            max_heartrate: a.max_heartrate,
            average_cadence: a.average_cadence,
            average_watts: a.average_watts,
            weighted_average_watts: a.weighted_average_watts,
            max_watts: a.max_watts,
            kilojoules: a.kilojoules,
            calories: a.calories,
            device_watts: a.device_watts,
            kudos_count: a.kudos_count,
            comment_count: a.comment_count,
            achievement_count: a.achievement_count,
            pr_count: a.pr_count,
            commute: a.commute,
            trainer: a.trainer,
            manual: a.manual,
            private: a.private,
            flagged: a.flagged,
            workout_type: a.workout_type,
            gear_id: a.gear_id.clone(),
            source: a.source.as_str().to_owned(),
            raw,
            fetched_at,
            device_name: a.device_name.clone(),
            details_fetched_at: None,
        }
    }

    /// Marks the row as made from a DetailedActivity: the details job need not fetch it.
    pub fn detailed(mut self) -> Self {
        self.details_fetched_at = Some(self.fetched_at);
        self
    }
}

impl TryFrom<ActivityRow> for Activity {
    type Error = String;
    fn try_from(r: ActivityRow) -> Result<Self, Self::Error> {
        Ok(Activity {
            id: ActivityId(r.id),
            athlete_id: AthleteId(r.athlete_id),
            name: r.name,
            sport_type: SportType::new(r.sport_type),
            start_date: r.start_date,
            start_date_local: r.start_date_local,
            timezone: r.timezone,
            distance_m: r.distance_m,
            moving_time_s: r.moving_time_s,
            elapsed_time_s: r.elapsed_time_s,
            total_elevation_gain_m: r.total_elevation_gain_m,
            elev_high_m: r.elev_high_m,
            elev_low_m: r.elev_low_m,
            average_speed_mps: r.average_speed_mps,
            max_speed_mps: r.max_speed_mps,
            average_heartrate: r.average_heartrate,
            max_heartrate: r.max_heartrate,
            average_cadence: r.average_cadence,
            average_watts: r.average_watts,
            weighted_average_watts: r.weighted_average_watts,
            max_watts: r.max_watts,
            kilojoules: r.kilojoules,
            calories: r.calories,
            device_watts: r.device_watts,
            kudos_count: r.kudos_count,
            comment_count: r.comment_count,
            achievement_count: r.achievement_count,
            pr_count: r.pr_count,
            commute: r.commute,
            trainer: r.trainer,
            manual: r.manual,
            private: r.private,
            flagged: r.flagged,
            workout_type: r.workout_type,
            gear_id: r.gear_id,
            device_name: r.device_name,
            source: r.source.parse()?,
        })
    }
}

/// Inserts or replaces activities, `UPSERT_CHUNK` rows per statement, in one
/// transaction. Rows are keyed by owner and id, so one athlete's rows never touch
/// another's; a row from an export never replaces one Strava's API gave (the API's
/// is the fuller and newer copy of the same activity). Returns the number of rows
/// written.
pub async fn upsert_many(conn: &mut AsyncPgConnection, rows: &[ActivityRow]) -> QueryResult<usize> {
    use diesel_async::AsyncConnection;
    if rows.is_empty() {
        return Ok(0);
    }
    // One statement is atomic by itself: no transaction (or savepoint) around it.
    if rows.len() <= UPSERT_CHUNK {
        return upsert_chunk(conn, rows).await;
    }
    conn.transaction(async |conn| {
        let mut written = 0;
        for chunk in rows.chunks(UPSERT_CHUNK) {
            written += upsert_chunk(conn, chunk).await?;
        }
        Ok(written)
    })
    .await
}

async fn upsert_chunk(conn: &mut AsyncPgConnection, chunk: &[ActivityRow]) -> QueryResult<usize> {
    upsert_statement(chunk).execute(conn).await
}

diesel::define_sql_function! {
    /// A listing's SummaryActivity lacks the detail-only fields: keep what is stored.
    #[sql_name = "coalesce"]
    fn coalesce_f64(a: diesel::sql_types::Nullable<diesel::sql_types::Double>, b: diesel::sql_types::Nullable<diesel::sql_types::Double>) -> diesel::sql_types::Nullable<diesel::sql_types::Double>;
}
diesel::define_sql_function! {
    #[sql_name = "coalesce"]
    fn coalesce_text(a: diesel::sql_types::Nullable<diesel::sql_types::Text>, b: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}
diesel::define_sql_function! {
    #[sql_name = "coalesce"]
    fn coalesce_time(a: diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>, b: diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>) -> diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>;
}

/// The bulk upsert: every column but the keys is replaced (a test holds the list to
/// `domain::fields::ACTIVITY_COLUMNS`).
fn upsert_statement(
    chunk: &[ActivityRow],
) -> impl diesel_async::methods::ExecuteDsl<AsyncPgConnection>
+ diesel::query_builder::QueryFragment<diesel::pg::Pg>
+ '_ {
    use activities::dsl as a;
    // `filter` here is the ON CONFLICT ... WHERE clause, which QueryDsl does not bring in.
    use diesel::query_dsl::methods::FilterDsl as _;
    diesel::insert_into(activities::table)
        .values(chunk)
        .on_conflict((a::athlete_id, a::id))
        .do_update()
        .set((
            a::name.eq(excluded(a::name)),
            a::sport_type.eq(excluded(a::sport_type)),
            a::start_date.eq(excluded(a::start_date)),
            a::start_date_local.eq(excluded(a::start_date_local)),
            a::timezone.eq(excluded(a::timezone)),
            a::distance_m.eq(excluded(a::distance_m)),
            a::moving_time_s.eq(excluded(a::moving_time_s)),
            a::elapsed_time_s.eq(excluded(a::elapsed_time_s)),
            a::total_elevation_gain_m.eq(excluded(a::total_elevation_gain_m)),
            a::elev_high_m.eq(excluded(a::elev_high_m)),
            a::elev_low_m.eq(excluded(a::elev_low_m)),
            a::average_speed_mps.eq(excluded(a::average_speed_mps)),
            a::max_speed_mps.eq(excluded(a::max_speed_mps)),
            a::average_heartrate.eq(excluded(a::average_heartrate)),
            a::max_heartrate.eq(excluded(a::max_heartrate)),
            a::average_cadence.eq(excluded(a::average_cadence)),
            a::average_watts.eq(excluded(a::average_watts)),
            a::weighted_average_watts.eq(excluded(a::weighted_average_watts)),
            a::max_watts.eq(excluded(a::max_watts)),
            a::kilojoules.eq(excluded(a::kilojoules)),
            a::calories.eq(coalesce_f64(excluded(a::calories), a::calories)),
            a::device_watts.eq(excluded(a::device_watts)),
            a::kudos_count.eq(excluded(a::kudos_count)),
            a::comment_count.eq(excluded(a::comment_count)),
            a::achievement_count.eq(excluded(a::achievement_count)),
            a::pr_count.eq(excluded(a::pr_count)),
            a::commute.eq(excluded(a::commute)),
            a::trainer.eq(excluded(a::trainer)),
            a::manual.eq(excluded(a::manual)),
            a::private.eq(excluded(a::private)),
            a::flagged.eq(excluded(a::flagged)),
            a::workout_type.eq(excluded(a::workout_type)),
            a::gear_id.eq(excluded(a::gear_id)),
            a::source.eq(excluded(a::source)),
            a::raw.eq(excluded(a::raw)),
            a::fetched_at.eq(excluded(a::fetched_at)),
            a::device_name.eq(coalesce_text(excluded(a::device_name), a::device_name)),
            a::details_fetched_at.eq(coalesce_time(
                excluded(a::details_fetched_at),
                a::details_fetched_at,
            )),
        ))
        .filter(
            a::source
                .ne(ActivitySource::Api.as_str())
                .or(excluded(a::source).eq(ActivitySource::Api.as_str())),
        )
}

/// Which of the athlete's `ids` are stored with `fetched_at` exactly `at`. An import
/// stamps every row it writes with its own start instant, so inside its transaction
/// this finds the ids it has already written: a file that lists an activity twice.
pub async fn ids_fetched_at(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    ids: &[i64],
    at: DateTime<Utc>,
) -> QueryResult<Vec<i64>> {
    use activities::dsl as a;
    a::activities
        .filter(a::athlete_id.eq(athlete.get()))
        .filter(a::id.eq_any(ids).and(a::fetched_at.eq(at)))
        .select(a::id)
        .load(conn)
        .await
}

/// Removes one activity of one athlete; returns whether a row went.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    id: ActivityId,
) -> QueryResult<bool> {
    use activities::dsl as a;
    let n = diesel::delete(
        a::activities.filter(a::id.eq(id.get()).and(a::athlete_id.eq(athlete.get()))),
    )
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// How many activities an athlete has.
pub async fn count_for(conn: &mut AsyncPgConnection, athlete: AthleteId) -> QueryResult<i64> {
    use activities::dsl as a;
    a::activities
        .filter(a::athlete_id.eq(athlete.get()))
        .count()
        .get_result(conn)
        .await
}

/// One activity of one athlete.
pub async fn find(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    id: ActivityId,
) -> QueryResult<Option<ActivityRow>> {
    use activities::dsl as a;
    a::activities
        .filter(a::id.eq(id.get()).and(a::athlete_id.eq(athlete.get())))
        .select(ActivityRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The time zone label of the athlete's most recent activity, for when they set none.
pub async fn latest_timezone(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
) -> QueryResult<Option<String>> {
    use activities::dsl as a;
    let tz: Option<Option<String>> = a::activities
        .filter(
            a::athlete_id
                .eq(athlete.get())
                .and(a::timezone.is_not_null()),
        )
        .order(a::start_date.desc())
        .select(a::timezone)
        .first(conn)
        .await
        .optional()?;
    Ok(tz.flatten())
}

/// The athlete's most recent activity from Strava's API whose DetailedActivity has not
/// been stored: the details job's next.
pub async fn next_without_details(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
) -> QueryResult<Option<ActivityId>> {
    use activities::dsl as a;
    a::activities
        .filter(a::athlete_id.eq(athlete.get()))
        .filter(a::source.eq(ActivitySource::Api.as_str()))
        .filter(a::details_fetched_at.is_null())
        .order((a::start_date.desc(), a::id.desc()))
        .select(a::id)
        .first::<i64>(conn)
        .await
        .optional()
        .map(|id| id.map(ActivityId))
}

/// Records that an activity's details were asked for, when they could not be stored
/// (an object that does not read), so the details job moves on.
pub async fn mark_details_fetched(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    id: ActivityId,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    use activities::dsl as a;
    diesel::update(a::activities.filter(a::athlete_id.eq(athlete.get()).and(a::id.eq(id.get()))))
        .set(a::details_fetched_at.eq(at))
        .execute(conn)
        .await
        .map(drop)
}

/// An activity as the athlete's own export gives it: the stored fields without
/// Strava's original JSON, which is large and repeats them.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = activities, check_for_backend(diesel::pg::Pg))]
pub struct ExportRow {
    pub id: i64,
    pub name: String,
    pub sport_type: String,
    pub start_date: DateTime<Utc>,
    pub start_date_local: NaiveDateTime,
    pub timezone: Option<String>,
    pub distance_m: f64,
    pub moving_time_s: i32,
    pub elapsed_time_s: i32,
    pub total_elevation_gain_m: f64,
    pub average_speed_mps: f64,
    pub max_speed_mps: f64,
    pub average_heartrate: Option<f64>,
    pub max_heartrate: Option<f64>,
    pub average_cadence: Option<f64>,
    pub average_watts: Option<f64>,
    pub calories: Option<f64>,
    pub commute: bool,
    pub trainer: bool,
    pub manual: bool,
    pub private: bool,
    pub gear_id: Option<String>,
    pub source: String,
}

/// Every activity of one athlete, oldest first, for their export.
pub async fn for_export(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
) -> QueryResult<Vec<ExportRow>> {
    use activities::dsl as a;
    a::activities
        .filter(a::athlete_id.eq(athlete.get()))
        .order((a::start_date.asc(), a::id.asc()))
        .select(ExportRow::as_select())
        .load(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upsert_replaces_every_column_of_the_home_but_the_keys() {
        let activity =
            demo::demo_activities(chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(), 1)
                .into_iter()
                .next()
                .unwrap();
        let rows = [ActivityRow::new(&activity, None, Utc::now())];
        let sql = diesel::debug_query::<diesel::pg::Pg, _>(&upsert_statement(&rows)).to_string();
        let set = sql.split(" DO UPDATE SET ").nth(1).expect(&sql);
        for column in domain::fields::ACTIVITY_COLUMNS {
            let replaced = set.contains(&format!("\"{0}\" = excluded.\"{0}\"", column.name));
            let kept = set.contains(&format!(
                "\"{0}\" = coalesce(excluded.\"{0}\", \"activities\".\"{0}\")",
                column.name
            ));
            let key = matches!(column.name, "id" | "athlete_id");
            assert_eq!(
                replaced,
                !key && !column.detail_only,
                "{}: {set}",
                column.name
            );
            assert_eq!(kept, column.detail_only, "{}: {set}", column.name);
        }
    }
}
