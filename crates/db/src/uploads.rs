//! Export archives uploaded in talk-app, waiting for the gateway's worker to import
//! them: the upload row (who, how it went, the summary shown afterwards) and the file
//! itself in pieces of at most [`CHUNK_BYTES`], so neither service ever holds a whole
//! file in memory. The pieces are deleted when the import ends; the row and its
//! summary stay until the athlete is deleted.

use crate::QueryResult;
use crate::schema::{upload_chunks, uploads};
use crate::text_enum::text_enum;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::AthleteId;
use serde::{Deserialize, Serialize};

/// The largest piece of a file stored in one row.
pub const CHUNK_BYTES: usize = 1 << 20;

text_enum! {
    /// Where an upload is in its life (the column's CHECK lists the same four).
    pub enum UploadState {
        /// Stored, its import job queued.
        Queued = "queued",
        /// A worker is importing it.
        Importing = "importing",
        /// Imported (some rows may have been skipped: see the summary).
        Done = "done",
        /// Nothing was imported: the summary says why.
        Failed = "failed",
    }
}

/// What an import did, as the athlete is told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadSummary {
    /// Activities stored (new or updated).
    pub imported: usize,
    /// Rows that could not be read and were left out.
    pub skipped: usize,
    /// Where and why, for the first few of them.
    pub reasons: Vec<String>,
    /// Rows the athlete already had from Strava, kept as Strava gave them.
    #[serde(default)]
    pub kept_from_strava: usize,
    /// Why nothing could be imported at all, when that happened.
    pub error: Option<String>,
}

/// An upload row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = uploads, check_for_backend(diesel::pg::Pg))]
pub struct Upload {
    pub id: i64,
    pub athlete_id: i64,
    pub filename: String,
    pub size_bytes: i64,
    pub state: UploadState,
    pub summary: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Upload {
    /// The stored summary; `None` before the import ends (or for a summary of another
    /// shape, which only a hand-edited row could have).
    pub fn summary(&self) -> Option<UploadSummary> {
        serde_json::from_value(self.summary.clone()?).ok()
    }
}

/// Starts an upload for `athlete`: the row, with no bytes yet. Callers add the
/// pieces with [`append`] and [`set_size`] inside the same transaction, so a file
/// refused half-way (too large) leaves nothing behind.
pub async fn create(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
    filename: &str,
) -> QueryResult<i64> {
    use uploads::dsl as u;
    diesel::insert_into(u::uploads)
        .values((
            u::athlete_id.eq(athlete.get()),
            u::filename.eq(filename),
            u::size_bytes.eq(0_i64),
            u::state.eq(UploadState::Queued),
        ))
        .returning(u::id)
        .get_result(conn)
        .await
}

/// Stores piece number `seq` (from 0) of an upload's file.
pub async fn append(
    conn: &mut AsyncPgConnection,
    upload: i64,
    seq: i32,
    data: &[u8],
) -> QueryResult<()> {
    use upload_chunks::dsl as c;
    diesel::insert_into(c::upload_chunks)
        .values((c::upload_id.eq(upload), c::seq.eq(seq), c::data.eq(data)))
        .execute(conn)
        .await
        .map(drop)
}

/// Records the file's size once every piece is stored.
pub async fn set_size(conn: &mut AsyncPgConnection, upload: i64, size: i64) -> QueryResult<()> {
    use uploads::dsl as u;
    diesel::update(u::uploads.find(upload))
        .set(u::size_bytes.eq(size))
        .execute(conn)
        .await
        .map(drop)
}

/// Piece number `seq` of an upload's file; `None` past the last one.
pub async fn chunk(
    conn: &mut AsyncPgConnection,
    upload: i64,
    seq: i32,
) -> QueryResult<Option<Vec<u8>>> {
    use upload_chunks::dsl as c;
    c::upload_chunks
        .find((upload, seq))
        .select(c::data)
        .first(conn)
        .await
        .optional()
}

/// The athlete's oldest upload not yet imported (queued, or importing when a worker
/// died on it).
pub async fn next_pending(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
) -> QueryResult<Option<Upload>> {
    use uploads::dsl as u;
    u::uploads
        .filter(u::athlete_id.eq(athlete.get()))
        .filter(u::state.eq_any([UploadState::Queued, UploadState::Importing]))
        .order(u::id)
        .select(Upload::as_select())
        .first(conn)
        .await
        .optional()
}

/// The athlete's newest upload.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    athlete: AthleteId,
) -> QueryResult<Option<Upload>> {
    use uploads::dsl as u;
    u::uploads
        .filter(u::athlete_id.eq(athlete.get()))
        .order(u::id.desc())
        .select(Upload::as_select())
        .first(conn)
        .await
        .optional()
}

/// Marks an upload as being imported.
pub async fn start_import(conn: &mut AsyncPgConnection, upload: i64) -> QueryResult<()> {
    use uploads::dsl as u;
    diesel::update(u::uploads.find(upload))
        .set(u::state.eq(UploadState::Importing))
        .execute(conn)
        .await
        .map(drop)
}

/// Ends an upload: its state and summary are stored and its file's bytes deleted.
pub async fn finish(
    conn: &mut AsyncPgConnection,
    upload: i64,
    state: UploadState,
    summary: &UploadSummary,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    use uploads::dsl as u;
    let summary = serde_json::to_value(summary).expect("a struct of numbers and strings");
    diesel::update(u::uploads.find(upload))
        .set((
            u::state.eq(state),
            u::summary.eq(summary),
            u::finished_at.eq(at),
        ))
        .execute(conn)
        .await?;
    diesel::delete(upload_chunks::table.filter(upload_chunks::upload_id.eq(upload)))
        .execute(conn)
        .await
        .map(drop)
}

#[derive(QueryableByName)]
struct NewId {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Creates an athlete for someone who came with an export and no Strava connection.
///
/// The id is negative, from the allocator demo copies use: Strava's ids are positive,
/// so no Strava athlete ever collides with one and nothing is ever sent to Strava for
/// it. The export is not used for the id: a file anyone can edit is no proof of who
/// someone is on Strava, and signing in as the athlete an export names would hand
/// that athlete's data to whoever wrote the file.
pub async fn create_local_athlete(conn: &mut AsyncPgConnection) -> QueryResult<AthleteId> {
    let row: NewId = diesel::sql_query(
        "INSERT INTO athletes (id) VALUES (nextval('demo_copy_athlete_ids')) RETURNING id",
    )
    .get_result(conn)
    .await?;
    Ok(AthleteId(row.id))
}

/// How many accounts made from an upload exist (see [`create_local_athlete`]).
pub async fn local_athlete_count(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    use crate::schema::athletes::dsl as a;
    a::athletes
        .filter(a::id.lt(0).and(a::is_demo.eq(false)))
        .count()
        .get_result(conn)
        .await
}

/// Deletes accounts made from an upload (see [`create_local_athlete`]) that nobody
/// can reach any more: no live session and no live API token. Such an account cannot
/// be signed into again (that needs Strava), so its data would otherwise stay for
/// ever. One whose upload is still waiting or being imported is left until that
/// ends. Returns how many went.
pub async fn delete_unreachable_local_athletes(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM athletes a WHERE a.id < 0 AND NOT a.is_demo \
           AND NOT EXISTS (SELECT 1 FROM app_sessions s WHERE s.athlete_id = a.id \
                             AND s.revoked_at IS NULL AND s.expires_at > $1) \
           AND NOT EXISTS (SELECT 1 FROM api_tokens t WHERE t.athlete_id = a.id \
                             AND t.revoked_at IS NULL) \
           AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.athlete_id = a.id \
                             AND u.state IN ('queued', 'importing'))",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(now)
    .execute(conn)
    .await
}
