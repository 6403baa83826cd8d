//! talk-app sessions: one row per signed-in browser. The cookie carries only the row's
//! id (inside a signed JWT); the row decides whether it is still valid, so logout,
//! erasure and deauthorization take effect at once on every replica.

use crate::QueryResult;
use crate::schema::app_sessions;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use uuid::Uuid;

/// A session row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = app_sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    pub id: Uuid,
    pub athlete_id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: DateTime<Utc>,
}

impl SessionRow {
    /// The athlete this session signs in.
    pub fn athlete(&self) -> AthleteId {
        AthleteId(self.athlete_id)
    }
}

/// Starts a session for `athlete` that expires at `expires_at`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    expires_at: DateTime<Utc>,
) -> QueryResult<SessionRow> {
    use app_sessions::dsl as s;
    diesel::insert_into(s::app_sessions)
        .values((
            s::id.eq(Uuid::new_v4()),
            s::athlete_id.eq(athlete.get()),
            s::expires_at.eq(expires_at),
        ))
        .returning(SessionRow::as_returning())
        .get_result(conn)
        .await
}

/// The session with this id when it is neither revoked nor expired at `now`.
pub async fn find_valid(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<SessionRow>> {
    use app_sessions::dsl as s;
    s::app_sessions
        .find(id)
        .filter(s::revoked_at.is_null())
        .filter(s::expires_at.gt(now))
        .select(SessionRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Records activity on a session; skipped when it was seen within the last minute, so
/// a busy page does not write on every request.
pub async fn touch(conn: &mut AsyncPgConnection, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    use app_sessions::dsl as s;
    diesel::update(
        s::app_sessions
            .find(id)
            .filter(s::last_seen_at.lt(now - chrono::Duration::minutes(1))),
    )
    .set(s::last_seen_at.eq(now))
    .execute(conn)
    .await
    .map(drop)
}

/// Revokes one session (logout). Returns whether a live session was revoked.
pub async fn revoke(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<bool> {
    use app_sessions::dsl as s;
    let n = diesel::update(s::app_sessions.find(id).filter(s::revoked_at.is_null()))
        .set(s::revoked_at.eq(Utc::now()))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Revokes every live session of an athlete; returns how many.
pub async fn revoke_all(conn: &mut AsyncPgConnection, athlete: AthleteId) -> QueryResult<usize> {
    use app_sessions::dsl as s;
    diesel::update(
        s::app_sessions
            .filter(s::athlete_id.eq(athlete.get()))
            .filter(s::revoked_at.is_null()),
    )
    .set(s::revoked_at.eq(Utc::now()))
    .execute(conn)
    .await
}

/// Deletes sessions that expired or were revoked more than a week before `now`.
pub async fn purge_stale(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<usize> {
    use app_sessions::dsl as s;
    let cutoff = now - chrono::Duration::days(7);
    diesel::delete(s::app_sessions.filter(s::expires_at.lt(cutoff).or(s::revoked_at.lt(cutoff))))
        .execute(conn)
        .await
}
