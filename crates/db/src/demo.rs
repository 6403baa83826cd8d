//! Loads the demo athlete: the profile and generated activities from `domain::demo`.

use crate::QueryResult;
use crate::activities::{self, ActivityRow};
use crate::athletes::{self, AthleteUpsert};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::demo;

/// Years of history the demo athlete gets, so "2024 vs 2023" has an answer.
pub const DEMO_YEARS: u32 = 3;

/// Replaces the demo athlete's activities with a fresh set ending today (in the demo
/// athlete's time zone). Idempotent; returns how many activities were loaded.
pub async fn seed(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    let profile = demo::demo_athlete();
    let tz = domain::dates::parse_strava_timezone(&profile.timezone).unwrap_or(chrono_tz::UTC);
    let today = domain::dates::today(now, tz);
    let rows: Vec<ActivityRow> = demo::demo_activities(today, DEMO_YEARS)
        .iter()
        .map(|a| ActivityRow::new(a, None, now))
        .collect();
    let athlete = AthleteUpsert {
        id: profile.id.get(),
        firstname: profile.firstname,
        lastname: profile.lastname,
        measurement_preference: profile.measurement_preference.as_strava().to_owned(),
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
        activities::upsert_many(conn, &rows).await
    })
    .await
}
