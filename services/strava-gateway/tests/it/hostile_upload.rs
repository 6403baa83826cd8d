//! Uploads written to harm, sent through the worker as talk-app stores them: each
//! archive is made here, and each test failed before the defence it checks.
//!
//! - Ids: an upload holding a Strava athlete's activity ids keeps its own copies;
//!   the athlete's backfill still stores every one of theirs.
//! - Size: a row past the record limit fails the upload once, with a reason, and is
//!   never retried; a name longer than Strava allows or holding a NUL is a bad row.
//! - Count: a file past the account's activity cap is refused whole.
//! - Lanes: Strava's work goes on while imports are stuck.

use crate::backfill::job;
use crate::sync_support::{Harness, wait_until};
use db::jobs::JobState;
use db::uploads::{UploadState, UploadSummary};
use diesel_async::RunQueryDsl;
use domain::AthleteId;
use std::io::Write;
use std::time::Duration;
use strava_gateway::worker::backfill_job;

/// The export header's columns the rows below fill.
const HEADER: &str = "Activity ID,Activity Date,Activity Name,Activity Type,Elapsed Time,Distance";

/// One export row: a run of 5 km on 1 July 2020 at 06:00 UTC.
fn row(id: i64, name: &str) -> String {
    format!("{id},\"Jul 1, 2020, 6:00:00 AM\",\"{name}\",Run,1800,5.0\n")
}

/// An export archive holding `csv` as its activities.csv, deflated.
fn archive(csv: &[u8]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("activities.csv", options).unwrap();
    zip.write_all(csv).unwrap();
    zip.finish().unwrap().into_inner()
}

/// A new account made from an upload, in a zone so rows without GPS files count.
async fn local_athlete(h: &Harness) -> AthleteId {
    let mut conn = h.db.pool().get().await.unwrap();
    let athlete = db::uploads::create_local_athlete(&mut conn).await.unwrap();
    db::athletes::set_timezone(&mut conn, athlete, "(GMT+00:00) UTC")
        .await
        .unwrap();
    athlete
}

/// Stores `file` for `athlete` as talk-app does and queues its import job.
async fn upload(h: &Harness, athlete: AthleteId, file: &[u8]) -> i64 {
    crate::upload::upload(h, athlete, file, db::uploads::CHUNK_BYTES)
        .await
        .1
}

async fn until_done(h: &Harness, id: i64) -> db::jobs::Job {
    assert!(
        wait_until(Duration::from_secs(60), || async {
            job(h, id).await.state == JobState::Done
        })
        .await,
        "job {id} ends: {:?}",
        job(h, id).await
    );
    job(h, id).await
}

/// The athlete's upload once its import ended.
async fn ended(h: &Harness, athlete: AthleteId) -> (UploadState, UploadSummary) {
    let mut conn = h.db.pool().get().await.unwrap();
    let u = db::uploads::latest(&mut conn, athlete)
        .await
        .unwrap()
        .unwrap();
    (u.state, u.summary().expect("a summary"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_of_a_strava_athletes_ids_never_keeps_them_from_their_data() {
    let h = Harness::plain(&[]).await;
    let owner = h.connect("Owner").await;
    h.fake.generate_activities(owner, 50).unwrap();
    let theirs = h.on_strava(owner);
    // Someone else uploads those ids first, as if they were theirs.
    let squatter = local_athlete(&h).await;
    let mut csv = format!("{HEADER}\n");
    for (id, _) in &theirs {
        csv.push_str(&row(*id, "claimed"));
    }
    let import = upload(&h, squatter, &archive(csv.as_bytes())).await;
    let workers = h.start_workers();
    until_done(&h, import).await;
    let (state, summary) = ended(&h, squatter).await;
    assert_eq!(state, UploadState::Done, "{summary:?}");
    // Nothing in the summary tells the uploader that the ids exist elsewhere.
    assert_eq!((summary.imported, summary.kept_from_strava), (50, 0));

    // The owner connects: every activity of theirs is stored, as Strava has it.
    let backfill = {
        let mut conn = h.db.pool().get().await.unwrap();
        db::jobs::enqueue(&mut conn, &backfill_job(owner))
            .await
            .unwrap()
            .expect("queued")
    };
    until_done(&h, backfill).await;
    workers.abort();
    assert_eq!(h.stored(owner).await, theirs);
    // The uploader keeps their own copies, which touch nobody else's.
    let copies = h.stored(squatter).await;
    assert_eq!(copies.len(), 50);
    assert!(copies.iter().all(|(_, name)| name == "claimed"));

    // The owner uploading their own export gets one copy of each activity, the one
    // Strava's API gave.
    let own = upload(&h, owner, &archive(csv.as_bytes())).await;
    let workers = h.start_workers();
    until_done(&h, own).await;
    workers.abort();
    let (_, summary) = ended(&h, owner).await;
    assert_eq!(
        (summary.imported, summary.kept_from_strava),
        (0, 50),
        "{summary:?}"
    );
    assert_eq!(h.stored(owner).await, theirs);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_row_fails_the_upload_once_and_odd_names_are_bad_rows() {
    let h = Harness::plain(&[]).await;
    let athlete = local_athlete(&h).await;
    // A name of 8 MiB: past any row of Strava's export, and deflated to kilobytes.
    let mut csv = format!("{HEADER}\n{}", row(1, "fine"));
    csv.push_str(&row(2, &"n".repeat(8 << 20)));
    csv.push_str(&row(3, "after"));
    let file = archive(csv.as_bytes());
    assert!(file.len() < 64 << 10, "{} bytes", file.len());
    let id = upload(&h, athlete, &file).await;
    let workers = h.start_workers();
    let done = until_done(&h, id).await;
    // Bad input is a final answer: one attempt, not ten.
    assert_eq!(done.attempts, 1);
    let (state, summary) = ended(&h, athlete).await;
    assert_eq!(state, UploadState::Failed);
    let error = summary.error.unwrap_or_default();
    assert!(
        error.contains("line 3") && error.contains("longer than 1 MiB"),
        "{error}"
    );
    assert!(h.stored(athlete).await.is_empty(), "all or nothing");

    // Within the row limit: a name longer than Strava allows, and one holding a NUL
    // (which PostgreSQL's text refuses), are bad rows; the others are stored.
    let mut csv = format!("{HEADER}\n{}", row(1, "fine"));
    csv.push_str(&row(2, &"n".repeat(5000)));
    csv.push_str(&row(3, "nul\0here"));
    csv.push_str(&row(4, "after"));
    let id = upload(&h, athlete, &archive(csv.as_bytes())).await;
    let done = until_done(&h, id).await;
    workers.abort();
    assert_eq!(done.attempts, 1);
    let (state, summary) = ended(&h, athlete).await;
    assert_eq!(state, UploadState::Done, "{summary:?}");
    assert_eq!((summary.imported, summary.skipped), (2, 2), "{summary:?}");
    assert!(
        summary.reasons[0].starts_with("line 3: ")
            && summary.reasons[0].contains("5000 characters"),
        "{summary:?}"
    );
    assert!(summary.reasons[1].contains("NUL"), "{summary:?}");
    let names: Vec<String> = h.stored(athlete).await.into_iter().map(|r| r.1).collect();
    assert_eq!(names, ["fine", "after"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_past_the_accounts_activity_cap_is_refused_whole() {
    let h = Harness::plain(&[("UPLOAD_MAX_ACTIVITIES", "3")]).await;
    let athlete = local_athlete(&h).await;
    let mut csv = format!("{HEADER}\n");
    for id in 1..=3 {
        csv.push_str(&row(id, "run"));
    }
    let id = upload(&h, athlete, &archive(csv.as_bytes())).await;
    let workers = h.start_workers();
    until_done(&h, id).await;
    assert_eq!(ended(&h, athlete).await.0, UploadState::Done);
    // The same three again fit (they are updated, not added); a fourth does not.
    csv.push_str(&row(4, "run"));
    let id = upload(&h, athlete, &archive(csv.as_bytes())).await;
    let done = until_done(&h, id).await;
    workers.abort();
    assert_eq!(done.attempts, 1);
    let (state, summary) = ended(&h, athlete).await;
    assert_eq!(state, UploadState::Failed);
    assert!(
        summary.error.as_deref().unwrap_or_default().contains("(3)"),
        "{summary:?}"
    );
    assert_eq!(
        h.stored(athlete).await.len(),
        3,
        "nothing of the refused file"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn strava_work_goes_on_while_imports_are_stuck() {
    // One worker for Strava's work, one for imports (the default).
    let h = Harness::plain(&[("WORKER_COUNT", "1")]).await;
    let csv = format!("{HEADER}\n{}", row(1, "run"));
    let (first, second) = (local_athlete(&h).await, local_athlete(&h).await);
    let imports = [
        upload(&h, first, &archive(csv.as_bytes())).await,
        upload(&h, second, &archive(csv.as_bytes())).await,
    ];
    // Both uploaders' rows are locked, so their imports cannot store anything until
    // the lock goes: as stuck as an import can be.
    let mut lock = h.db.pool().get().await.unwrap();
    diesel::sql_query("BEGIN").execute(&mut lock).await.unwrap();
    diesel::sql_query(format!(
        "SELECT id FROM athletes WHERE id IN ({}, {}) FOR UPDATE",
        first.get(),
        second.get()
    ))
    .execute(&mut lock)
    .await
    .unwrap();

    let athlete = h.connect("Strava").await;
    h.fake.generate_activities(athlete, 30).unwrap();
    let backfill = {
        let mut conn = h.db.pool().get().await.unwrap();
        db::jobs::enqueue(&mut conn, &backfill_job(athlete))
            .await
            .unwrap()
            .expect("queued")
    };
    let workers = h.start_workers();
    until_done(&h, backfill).await;
    assert_eq!(h.stored(athlete).await, h.on_strava(athlete));
    for id in imports {
        assert_ne!(job(&h, id).await.state, JobState::Done, "still stuck");
    }

    diesel::sql_query("ROLLBACK")
        .execute(&mut lock)
        .await
        .unwrap();
    for id in imports {
        until_done(&h, id).await;
    }
    workers.abort();
    assert_eq!(h.stored(first).await.len(), 1);
    assert_eq!(h.stored(second).await.len(), 1);
}
