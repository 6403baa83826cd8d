//! The import job: an export archive uploaded in talk-app (`uploads`), imported by the
//! same code as `strava-gateway import` (`crate::import`).
//!
//! The file's pieces are copied from the database to a file on disk one at a time, so
//! memory does not grow with the upload; the import then reads the file as the CLI
//! does. Someone uploading cannot pass flags: bad rows are skipped and listed in the
//! summary (as with `--skip-bad-rows`), since refusing a whole export over a few odd
//! rows would leave the athlete with nothing and no way to fix Strava's file; the
//! athlete's stored zone applies to activities without a GPS file (a CSV inside the
//! archive has no other). While the import runs, `sync_status` moves as in a backfill,
//! so talk-app shows the same progress bar; at the end the upload gets its summary and
//! its bytes are deleted, whether the import succeeded or not.

use super::Context;
use crate::import::{self, ImportArgs, ImportError, Report};
use anyhow::Context as _;
use chrono::{SubsecRound, Utc};
use db::jobs::Job;
use db::sync::{SyncState, SyncStatus};
use db::uploads::{Upload, UploadState, UploadSummary};
use domain::AthleteId;
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// Imports the athlete's oldest pending upload. Returns an error only for what a
/// retry may fix (the database); a file that cannot be imported ends the upload with
/// its reason in the summary.
pub(super) async fn run(ctx: &Context, job: &Job, athlete: AthleteId) -> anyhow::Result<()> {
    let mut conn = ctx.pool.get().await?;
    let Some(upload) = db::uploads::next_pending(&mut conn, athlete).await? else {
        // Erased since, or imported by an earlier attempt that lost its lease.
        return Ok(());
    };
    db::uploads::start_import(&mut conn, upload.id).await?;
    let mut status = SyncStatus::starting(athlete);
    db::sync::save(&mut conn, &status).await?;
    drop(conn);

    let path = std::env::temp_dir().join(format!("stravatalk-upload-{}.zip", upload.id));
    let copied = copy_to_disk(ctx, &upload, &path).await;
    let limit = ctx.settings.import_time_limit;
    let outcome = match copied {
        Ok(()) => tokio::time::timeout(limit, import_file(ctx, job, athlete, &path))
            .await
            .unwrap_or_else(|_| {
                // Its transaction is dropped unfinished: nothing of it is stored.
                Err(Failure::File(format!(
                    "the import took longer than {} s, far longer than any Strava export \
                     needs",
                    limit.as_secs()
                )))
            }),
        Err(e) => Err(e),
    };
    // The copy on disk goes whatever happened; the pieces in the database go below
    // once the outcome is stored (or when the job runs out of attempts).
    let _ = std::fs::remove_file(&path);
    let report = match outcome {
        Ok(report) => Ok(report),
        Err(Failure::Retry(e)) => return Err(e),
        Err(Failure::File(reason)) => Err(reason),
    };
    let (state, summary) = summarise(report);
    let now = Utc::now().trunc_subsecs(6);
    let mut conn = ctx.pool.get().await?;
    db::uploads::finish(&mut conn, upload.id, state, &summary, now).await?;
    status.state = SyncState::Done;
    status.activities_synced = i32::try_from(summary.imported).unwrap_or(i32::MAX);
    status.estimated_total = Some(status.activities_synced);
    status.last_error = summary.error.clone();
    // The same instant as the upload's end: talk-app shows the upload's summary while
    // this is the newest word on the athlete's sync.
    status.updated_at = now;
    db::sync::save(&mut conn, &status).await?;
    tracing::info!(
        upload = upload.id,
        athlete = athlete.get(),
        imported = summary.imported,
        skipped = summary.skipped,
        state = %state,
        "upload imported"
    );
    Ok(())
}

/// Ends an upload whose job ran out of attempts: nothing imported, bytes deleted.
pub(super) async fn give_up(ctx: &Context, athlete: AthleteId, error: &str) -> anyhow::Result<()> {
    let mut conn = ctx.pool.get().await?;
    let Some(upload) = db::uploads::next_pending(&mut conn, athlete).await? else {
        return Ok(());
    };
    let summary = UploadSummary {
        error: Some(format!("the import failed: {error}")),
        ..UploadSummary::default()
    };
    let now = Utc::now().trunc_subsecs(6);
    db::uploads::finish(&mut conn, upload.id, UploadState::Failed, &summary, now).await?;
    let mut status = SyncStatus::starting(athlete);
    status.state = SyncState::Error;
    status.last_error = summary.error;
    status.updated_at = now;
    db::sync::save(&mut conn, &status).await?;
    Ok(())
}

/// Why an import did not finish.
enum Failure {
    /// The database or the disk: try again later.
    Retry(anyhow::Error),
    /// The file itself: trying again changes nothing.
    File(String),
}

/// Writes the upload's pieces, in order, to `path`.
async fn copy_to_disk(ctx: &Context, upload: &Upload, path: &Path) -> Result<(), Failure> {
    let retry = Failure::Retry;
    let mut conn = ctx.pool.get().await.map_err(|e| retry(e.into()))?;
    // A copy left by an attempt that died is replaced, never appended to.
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
        .map_err(retry)?;
    let mut seq = 0;
    while let Some(piece) = db::uploads::chunk(&mut conn, upload.id, seq)
        .await
        .map_err(|e| retry(e.into()))?
    {
        file.write_all(&piece)
            .with_context(|| format!("writing {}", path.display()))
            .map_err(retry)?;
        seq += 1;
    }
    if seq == 0 {
        return Err(Failure::File("the upload holds no file".into()));
    }
    file.flush()
        .with_context(|| format!("writing {}", path.display()))
        .map_err(retry)
}

/// Runs the importer on the file, moving `sync_status` and the job's lease along as
/// batches are stored.
async fn import_file(
    ctx: &Context,
    job: &Job,
    athlete: AthleteId,
    path: &Path,
) -> Result<Report, Failure> {
    let args = ImportArgs {
        athlete,
        athlete_json: None,
        file: PathBuf::from(path),
        timezone: None,
        skip_bad_rows: true,
        max_activities: Some(ctx.settings.upload_max_activities),
    };
    let (progress, stored) = watch::channel(0usize);
    let reporter = tokio::spawn(report_progress(
        ctx.pool.clone(),
        job.clone(),
        ctx.settings.lease,
        athlete,
        stored,
    ));
    let result = import::run_observed(&ctx.pool, &args, Some(&progress)).await;
    // Dropping the sender ends the reporter once it has written the last figure.
    drop(progress);
    let _ = reporter.await;
    match result {
        Ok(report) => Ok(report),
        Err(e @ (ImportError::Db(_) | ImportError::Pool(_))) => Err(Failure::Retry(e.into())),
        // The reader names the temporary file; the athlete knows it as their upload.
        Err(ImportError::Format { reason, .. }) => Err(Failure::File(reason)),
        Err(e) => Err(Failure::File(e.to_string())),
    }
}

/// Writes each new count of stored rows to `sync_status` and extends the job's lease,
/// on a connection of its own: the import's transaction is not visible until it ends.
async fn report_progress(
    pool: db::Pool,
    job: Job,
    lease: std::time::Duration,
    athlete: AthleteId,
    mut stored: watch::Receiver<usize>,
) {
    while stored.changed().await.is_ok() {
        let n = *stored.borrow_and_update();
        let Ok(mut conn) = pool.get().await else {
            continue;
        };
        let mut status = SyncStatus::starting(athlete);
        status.activities_synced = i32::try_from(n).unwrap_or(i32::MAX);
        let progress = serde_json::json!({ "activities_imported": n });
        let saved = db::sync::save(&mut conn, &status).await;
        let leased = db::jobs::heartbeat(&mut conn, job.id, job.attempts, lease, &progress).await;
        if let Err(e) = saved.and(leased.map(drop)) {
            // The import goes on; only the bar lags.
            tracing::warn!(job = job.id, error = %e, "cannot record import progress");
        }
    }
}

/// The summary the athlete sees, and the upload's end state.
fn summarise(outcome: Result<Report, String>) -> (UploadState, UploadSummary) {
    match outcome {
        Ok(report) => {
            let summary = UploadSummary {
                imported: report.written,
                skipped: report.bad_count,
                reasons: report
                    .bad
                    .iter()
                    .map(|b| format!("{}: {}", b.place, b.reason))
                    .collect(),
                kept_from_strava: report.kept,
                error: None,
            };
            (UploadState::Done, summary)
        }
        Err(reason) => (
            UploadState::Failed,
            UploadSummary {
                error: Some(reason),
                ..UploadSummary::default()
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{BadRow, Place};

    #[test]
    fn a_summary_lists_skipped_rows_with_their_place() {
        let report = Report {
            read: 3,
            written: 3,
            bad: vec![BadRow {
                place: Place::Line(4),
                reason: "\"Activity Date\" is not a date".into(),
            }],
            bad_count: 1,
            bad_skipped: true,
            ..Report::default()
        };
        let (state, summary) = summarise(Ok(report));
        assert_eq!(state, UploadState::Done);
        assert_eq!(summary.imported, 3);
        assert_eq!(summary.skipped, 1);
        assert_eq!(summary.reasons, ["line 4: \"Activity Date\" is not a date"]);
        let (state, summary) = summarise(Err("no activities.csv".into()));
        assert_eq!(state, UploadState::Failed);
        assert_eq!(summary.error.as_deref(), Some("no activities.csv"));
    }
}
