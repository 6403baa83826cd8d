//! Athletes: who is connected, their unit preference and time zone, and erasure.

use crate::QueryResult;
use crate::schema::athletes;
use chrono::{DateTime, Utc};
use diesel::deserialize::FromSql;
use diesel::pg::{Pg, PgValue};
use diesel::prelude::*;
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::{Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::{AthleteId, Units};

/// An athlete row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = athletes, check_for_backend(diesel::pg::Pg))]
pub struct AthleteRow {
    pub id: i64,
    pub firstname: String,
    pub lastname: String,
    #[diesel(deserialize_as = StoredUnits)]
    pub measurement_preference: Units,
    #[diesel(deserialize_as = StoredUnitsOverride)]
    pub units_override: Option<Units>,
    pub timezone: Option<String>,
    pub needs_reconnect: bool,
    pub is_demo: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set on a visitor's copy of the demo athlete: when upkeep deletes it.
    pub demo_expires_at: Option<DateTime<Utc>>,
}

impl AthleteRow {
    /// The units answers use: the athlete's override, else Strava's preference.
    pub fn units(&self) -> Units {
        self.units_override.unwrap_or(self.measurement_preference)
    }
}

/// `Units` as the `measurement_preference` and `units_override` columns spell them
/// (Strava's "meters" / "feet"; the columns' CHECK allows only those): the one place
/// the mapping lives, since `domain` knows nothing of the database.
#[derive(Debug, Clone, Copy, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct StoredUnits(pub Units);

impl From<StoredUnits> for Units {
    fn from(stored: StoredUnits) -> Self {
        stored.0
    }
}

impl From<Units> for StoredUnits {
    fn from(units: Units) -> Self {
        Self(units)
    }
}

impl ToSql<Text, Pg> for StoredUnits {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.0.as_strava(), &mut out.reborrow())
    }
}

impl FromSql<Text, Pg> for StoredUnits {
    fn from_sql(bytes: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Units::from_strava(&text)
            .map(Self)
            .ok_or_else(|| format!("{text:?} is not a unit preference").into())
    }
}

/// The nullable `units_override` column.
#[derive(Debug, Clone, Copy, diesel::deserialize::FromSqlRow)]
pub struct StoredUnitsOverride(Option<Units>);

impl From<StoredUnitsOverride> for Option<Units> {
    fn from(stored: StoredUnitsOverride) -> Self {
        stored.0
    }
}

impl FromSql<Nullable<Text>, Pg> for StoredUnitsOverride {
    fn from_sql(bytes: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        <StoredUnits as FromSql<Text, Pg>>::from_sql(bytes).map(|u| Self(Some(u.0)))
    }

    fn from_nullable_sql(bytes: Option<PgValue<'_>>) -> diesel::deserialize::Result<Self> {
        bytes.map_or(Ok(Self(None)), Self::from_sql)
    }
}

/// What Strava (or an import, or the demo) tells us about an athlete.
#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = athletes)]
pub struct AthleteUpsert {
    pub id: i64,
    pub firstname: String,
    pub lastname: String,
    #[diesel(serialize_as = StoredUnits)]
    pub measurement_preference: Units,
    pub timezone: Option<String>,
    pub is_demo: bool,
}

/// Creates or refreshes an athlete; a reconnect clears `needs_reconnect`.
pub async fn upsert(
    conn: &mut AsyncPgConnection,
    athlete: &AthleteUpsert,
) -> QueryResult<AthleteRow> {
    use athletes::dsl as a;
    diesel::insert_into(a::athletes)
        // `serialize_as` converts by value.
        .values(athlete.clone())
        .on_conflict(a::id)
        .do_update()
        .set((
            athlete.clone(),
            a::needs_reconnect.eq(false),
            a::updated_at.eq(diesel::dsl::now),
        ))
        .returning(AthleteRow::as_returning())
        .get_result(conn)
        .await
}

/// One athlete, if known.
pub async fn find(conn: &mut AsyncPgConnection, id: AthleteId) -> QueryResult<Option<AthleteRow>> {
    athletes::table
        .find(id.get())
        .select(AthleteRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Flags an athlete whose Strava authorisation no longer works.
pub async fn mark_needs_reconnect(conn: &mut AsyncPgConnection, id: AthleteId) -> QueryResult<()> {
    use athletes::dsl as a;
    diesel::update(a::athletes.find(id.get()))
        .set((
            a::needs_reconnect.eq(true),
            a::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Sets or clears (None) the athlete's own unit choice.
pub async fn set_units_override(
    conn: &mut AsyncPgConnection,
    id: AthleteId,
    units: Option<Units>,
) -> QueryResult<()> {
    use athletes::dsl as a;
    diesel::update(a::athletes.find(id.get()))
        .set((
            a::units_override.eq(units.map(StoredUnits)),
            a::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Sets the athlete's time zone label (Strava's "(GMT+01:00) Europe/Paris" form).
pub async fn set_timezone(
    conn: &mut AsyncPgConnection,
    id: AthleteId,
    label: &str,
) -> QueryResult<()> {
    use athletes::dsl as a;
    diesel::update(a::athletes.find(id.get()))
        .set((a::timezone.eq(label), a::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
        .await
        .map(drop)
}

/// Deletes the athlete and, through the foreign keys, everything stored for them:
/// tokens, activities, sync state, sessions, login tickets, conversations and messages.
/// Returns whether the athlete existed.
pub async fn erase(conn: &mut AsyncPgConnection, id: AthleteId) -> QueryResult<bool> {
    let n = diesel::delete(athletes::table.find(id.get()))
        .execute(conn)
        .await?;
    Ok(n > 0)
}
