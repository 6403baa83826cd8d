//! Sync status per athlete: what talk-app's progress bar shows while a backfill runs.

use crate::QueryResult;
use crate::schema::sync_status;
use crate::text_enum::text_enum;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;

text_enum! {
    /// Where an athlete's sync stands (the column's CHECK lists the same four).
    pub enum SyncState {
        Idle = "idle",
        /// A backfill is paging through the history: talk-app shows its progress.
        Backfilling = "backfilling",
        Done = "done",
        /// The backfill gave up; `last_error` says why.
        Error = "error",
    }
}

/// An athlete's sync state.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
// `save` writes the whole row: a `None` must clear the column (a fixed error, a total
// no longer known), not keep what was there.
#[diesel(table_name = sync_status, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct SyncStatus {
    pub athlete_id: i64,
    pub state: SyncState,
    pub pages_fetched: i32,
    pub activities_synced: i32,
    pub estimated_total: Option<i32>,
    pub next_page: i32,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl SyncStatus {
    /// A fresh status for an athlete whose backfill is about to start.
    pub fn starting(athlete: AthleteId) -> Self {
        Self {
            athlete_id: athlete.get(),
            state: SyncState::Backfilling,
            pages_fetched: 0,
            activities_synced: 0,
            estimated_total: None,
            next_page: 1,
            last_synced_at: None,
            last_error: None,
            updated_at: Utc::now(),
        }
    }
}

/// Writes the whole status row.
pub async fn save(conn: &mut AsyncPgConnection, status: &SyncStatus) -> QueryResult<()> {
    use sync_status::dsl as s;
    diesel::insert_into(s::sync_status)
        .values(status)
        .on_conflict(s::athlete_id)
        .do_update()
        .set(status)
        .execute(conn)
        .await
        .map(drop)
}

/// The athlete's status, if a sync ever started.
pub async fn find(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
) -> QueryResult<Option<SyncStatus>> {
    sync_status::table
        .find(athlete.get())
        .select(SyncStatus::as_select())
        .first(conn)
        .await
        .optional()
}
