//! An athlete's gear by name: upserted whole from Strava's athlete (and `/gear/{id}`),
//! from an export's gear names, or for the demo athlete.

use crate::QueryResult;
use crate::schema::gear;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{ActivitySource, AthleteId, Gear, GearKind};

/// A gear row as stored.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = gear, check_for_backend(diesel::pg::Pg))]
pub struct GearRow {
    pub athlete_id: i64,
    pub id: String,
    pub name: String,
    pub kind: Option<String>,
    pub is_primary: bool,
    pub retired: bool,
    pub distance_m: Option<f64>,
    pub source: String,
    pub fetched_at: DateTime<Utc>,
}

impl GearRow {
    /// A row for `gear` of `athlete`, from `source`, fetched at `at`.
    pub fn new(athlete: AthleteId, g: &Gear, source: ActivitySource, at: DateTime<Utc>) -> Self {
        Self {
            athlete_id: athlete.get(),
            id: g.id.clone(),
            name: g.name.clone(),
            kind: g.kind.map(|k| k.as_str().to_owned()),
            is_primary: g.primary,
            retired: g.retired,
            distance_m: g.distance_m,
            source: source.as_str().to_owned(),
            fetched_at: at,
        }
    }

    /// The gear in domain terms.
    pub fn to_gear(&self) -> Gear {
        Gear {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind.as_deref().and_then(GearKind::parse),
            primary: self.is_primary,
            retired: self.retired,
            distance_m: self.distance_m,
        }
    }
}

/// Inserts or replaces gear rows. As with activities, a row from an export never
/// replaces one Strava's API gave; and an export, which knows no kind, keeps a kind
/// already known.
pub async fn upsert_many(conn: &mut AsyncPgConnection, rows: &[GearRow]) -> QueryResult<usize> {
    use diesel::query_dsl::methods::FilterDsl as _;
    use gear::dsl as g;
    if rows.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(gear::table)
        .values(rows)
        .on_conflict((g::athlete_id, g::id))
        .do_update()
        .set((
            g::name.eq(excluded(g::name)),
            g::kind.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
            >("coalesce(excluded.kind, gear.kind)")),
            g::is_primary.eq(excluded(g::is_primary)),
            g::retired.eq(excluded(g::retired)),
            g::distance_m.eq(excluded(g::distance_m)),
            g::source.eq(excluded(g::source)),
            g::fetched_at.eq(excluded(g::fetched_at)),
        ))
        .filter(
            g::source
                .ne(ActivitySource::Api.as_str())
                .or(excluded(g::source).eq(ActivitySource::Api.as_str())),
        )
        .execute(conn)
        .await
}

/// The athlete's gear, by name.
pub async fn list(conn: &mut AsyncPgConnection, athlete: AthleteId) -> QueryResult<Vec<GearRow>> {
    use gear::dsl as g;
    g::gear
        .filter(g::athlete_id.eq(athlete.get()))
        .order(g::name)
        .select(GearRow::as_select())
        .load(conn)
        .await
}

/// Gear ids the athlete's activities name that are not stored yet (retired gear
/// Strava no longer lists on the athlete), at most `limit`.
pub async fn unknown_ids(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    limit: i64,
) -> QueryResult<Vec<String>> {
    use crate::schema::activities::dsl as a;
    use gear::dsl as g;
    a::activities
        .filter(a::athlete_id.eq(athlete.get()))
        .filter(a::gear_id.is_not_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            g::gear.filter(
                g::athlete_id
                    .eq(a::athlete_id)
                    .and(g::id.nullable().eq(a::gear_id)),
            ),
        )))
        .select(a::gear_id.assume_not_null())
        .distinct()
        .limit(limit)
        .load(conn)
        .await
}
