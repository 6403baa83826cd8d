//! The import job: an export archive uploaded in talk-app, stored in `uploads` in
//! pieces, imported by the worker with the CLI's importer; progress as a backfill's,
//! then a summary, and the file's bytes gone either way.
//!
//! `tests/data/export_upload.zip` is in Strava's layout and holds three rows of the
//! real English export used by `import_zip.rs` (github.com/Bergolito/strava-atividades,
//! an athlete in Recife), verbatim: a run with its GPX file (one point in Recife), a
//! run abroad with its TCX file (one point in Lisbon), and a workout whose GPS file
//! is not in the archive. talk-app's upload test sends the same file.

use crate::sync_support::{Harness, wait_until};
use db::jobs::{JobKind, JobState, NewJob};
use db::uploads::UploadState;
use diesel_async::RunQueryDsl;
use domain::{ActivityId, AthleteId};
use std::time::Duration;

const EXPORT: &[u8] = include_bytes!("../data/export_upload.zip");

/// Stores `file` for `athlete` as talk-app does (pieces of `piece` bytes) and queues
/// the import job; returns the upload's and the job's ids.
pub(crate) async fn upload(
    h: &Harness,
    athlete: AthleteId,
    file: &[u8],
    piece: usize,
) -> (i64, i64) {
    let mut conn = h.db.pool().get().await.unwrap();
    let id = db::uploads::create(&mut conn, athlete, "export_31337.zip")
        .await
        .unwrap();
    for (seq, part) in file.chunks(piece).enumerate() {
        db::uploads::append(&mut conn, id, seq as i32, part)
            .await
            .unwrap();
    }
    db::uploads::set_size(&mut conn, id, file.len() as i64)
        .await
        .unwrap();
    let job = db::jobs::enqueue(&mut conn, &NewJob::for_athlete(JobKind::Import, athlete))
        .await
        .unwrap()
        .expect("queued");
    (id, job)
}

async fn job_state(h: &Harness, id: i64) -> JobState {
    let mut conn = h.db.pool().get().await.unwrap();
    db::jobs::find(&mut conn, id).await.unwrap().unwrap().state
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn pieces_left(h: &Harness, upload: i64) -> i64 {
    let mut conn = h.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM upload_chunks WHERE upload_id = {upload}"
    ))
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uploaded_export_is_imported_with_a_summary_and_its_bytes_deleted() {
    let h = Harness::plain(&[]).await;
    // Someone without a Strava connection, as talk-app's home page makes them.
    let athlete = {
        let mut conn = h.db.pool().get().await.unwrap();
        db::uploads::create_local_athlete(&mut conn).await.unwrap()
    };
    assert!(athlete.get() < 0, "a local athlete: {athlete:?}");
    let (id, job) = upload(&h, athlete, EXPORT, 700).await;
    assert!(pieces_left(&h, id).await > 1, "stored in several pieces");
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            job_state(&h, job).await == JobState::Done
        })
        .await,
        "the import job ends: {:?}",
        job_state(&h, job).await
    );
    workers.abort();

    let mut conn = h.db.pool().get().await.unwrap();
    let stored = db::uploads::latest(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, id);
    assert_eq!(stored.state, UploadState::Done);
    let summary = stored.summary().expect("a summary");
    assert_eq!(
        (summary.imported, summary.skipped, summary.kept_from_strava),
        (2, 1, 0),
        "{summary:?}"
    );
    assert!(summary.error.is_none(), "{summary:?}");
    // The workout's GPS file is not in the archive and the athlete has no zone yet.
    assert_eq!(summary.reasons.len(), 1, "{summary:?}");
    assert!(
        summary.reasons[0].starts_with("line 4: ") && summary.reasons[0].contains("time zone"),
        "{summary:?}"
    );
    assert_eq!(pieces_left(&h, id).await, 0, "the file's bytes are deleted");

    // The rows, in the zones their GPS files were recorded in (hand-computed:
    // Recife is UTC-3; Lisbon is UTC+1 in July).
    for (activity, start) in [
        (3763864420, "2020-07-14 19:36:55"),
        (3787367551, "2020-07-11 23:10:58"),
    ] {
        let a = db::activities::find(&mut conn, athlete, ActivityId(activity))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("activity {activity} stored"));
        assert_eq!(a.start_date_local.to_string(), start, "activity {activity}");
    }
    assert_eq!(
        db::activities::count_for(&mut conn, athlete).await.unwrap(),
        2
    );
    // The progress bar's row ends as a finished backfill's does, at the same moment
    // as the upload (talk-app then shows the summary).
    let status = db::sync::find(&mut conn, athlete).await.unwrap().unwrap();
    assert_eq!(status.state, db::sync::SyncState::Done);
    assert_eq!(
        (status.activities_synced, status.estimated_total),
        (2, Some(2))
    );
    assert_eq!(Some(status.updated_at), stored.finished_at);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_that_is_not_an_export_ends_failed_with_nothing_imported() {
    let h = Harness::plain(&[]).await;
    let athlete = h.connect("Ada").await;
    // A real ZIP, but not Strava's export: no activities.csv.
    let mut file = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut file));
        zip.start_file("notes.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, b"hello").unwrap();
        zip.finish().unwrap();
    }
    let (id, job) = upload(&h, athlete, &file, 1 << 20).await;
    let workers = h.start_workers();
    assert!(
        wait_until(Duration::from_secs(60), || async {
            job_state(&h, job).await == JobState::Done
        })
        .await
    );
    workers.abort();
    let mut conn = h.db.pool().get().await.unwrap();
    let stored = db::uploads::latest(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, UploadState::Failed);
    let summary = stored.summary().unwrap();
    assert_eq!(summary.imported, 0);
    let error = summary.error.unwrap();
    assert!(error.contains("no activities.csv"), "{error}");
    assert!(
        !error.contains("stravatalk-upload"),
        "no temporary path: {error}"
    );
    assert_eq!(pieces_left(&h, id).await, 0, "the file's bytes are deleted");
    assert_eq!(
        db::activities::count_for(&mut conn, athlete).await.unwrap(),
        0
    );
}
