//! `GET /chat/sync`: the import's progress as JSON, polled by app.js so the chat page
//! follows a backfill or the import of an uploaded export without reloading (and
//! without losing what is being typed). Without JavaScript the page refreshes itself
//! instead. An uploaded export counts as importing from the moment it is stored, so
//! the box is there before the gateway's worker picks it up. When an upload's import
//! is the last thing that happened, the label is its summary: imported, skipped with
//! reasons, and the chat page shows it for a day.

use crate::error::AppError;
use crate::session::Session;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use db::sync::SyncStatus;
use db::uploads::{Upload, UploadState, UploadSummary};
use serde::Serialize;

/// What the progress box shows.
#[derive(Debug, Serialize, PartialEq)]
pub struct Progress {
    /// Whether activities are still arriving.
    pub importing: bool,
    /// Activities stored so far.
    pub synced: i32,
    /// The expected total, when it is known rather than guessed.
    pub total: Option<i32>,
    /// The sentence beside the bar.
    pub label: String,
    /// When the upload whose summary `label` is ended (the chat page shows a
    /// summary for a while, app.js only when it sees the import end).
    #[serde(skip)]
    pub summary_of: Option<DateTime<Utc>>,
}

impl Progress {
    /// The progress of `status`; no status means nothing is being imported.
    pub fn of(status: Option<&SyncStatus>) -> Self {
        let Some(s) = status else {
            return Self {
                importing: false,
                synced: 0,
                total: None,
                label: String::new(),
                summary_of: None,
            };
        };
        let synced = s.activities_synced.max(0);
        let importing = s.state == db::sync::SyncState::Backfilling;
        let total = s.estimated_total.filter(|t| *t > 0).map(|t| t.max(synced));
        let label = match (importing, total) {
            (false, _) => format!("All {synced} activities imported."),
            (true, Some(t)) => format!("{synced} of about {t} activities imported"),
            (true, None) => format!("{synced} activities imported so far"),
        };
        Self {
            importing,
            synced,
            total,
            label,
            summary_of: None,
        }
    }

    /// The progress of `status`, told with `upload`: an upload not yet ended is an
    /// import under way whatever the status says (the worker marks the upload before
    /// it writes the status, and a page drawn in between must still show the box and
    /// keep refreshing), and once its import is the newest thing the status records,
    /// the label is its summary.
    pub fn with_upload(status: Option<&SyncStatus>, upload: Option<&Upload>) -> Self {
        let mut progress = Self::of(status);
        let Some(u) = upload else { return progress };
        let waiting = match u.state {
            UploadState::Queued => Some("is waiting to be imported"),
            UploadState::Importing => Some("is being imported"),
            UploadState::Done | UploadState::Failed => None,
        };
        if let Some(waiting) = waiting
            && !progress.importing
        {
            return Self {
                importing: true,
                synced: 0,
                total: None,
                label: format!("{} {waiting}", u.filename),
                summary_of: None,
            };
        }
        let ended = u.finished_at.zip(u.summary());
        if let (Some(s), Some((finished, summary))) = (status, ended)
            && !progress.importing
            && finished >= s.updated_at
        {
            progress.label = summary_text(&u.filename, &summary);
            progress.summary_of = Some(finished);
        }
        progress
    }

    /// The athlete's progress as stored: their sync status told with their newest
    /// upload (what both the chat page and `/chat/sync` show).
    pub async fn load(
        conn: &mut db::AsyncPgConnection,
        athlete: domain::AthleteId,
    ) -> db::QueryResult<Self> {
        let status = db::sync::find(conn, athlete).await?;
        let upload = db::uploads::latest(conn, athlete).await?;
        Ok(Self::with_upload(status.as_ref(), upload.as_ref()))
    }

    /// What the chat page shows at `now`: the box while an import runs, the summary
    /// of an upload's import for a day after it ended, otherwise nothing.
    pub fn on_chat_page(self, now: DateTime<Utc>) -> Option<Self> {
        let recent = self
            .summary_of
            .is_some_and(|ended| now - ended < SUMMARY_SHOWN_FOR);
        (self.importing || recent).then_some(self)
    }
}

/// How long the chat page shows an upload's summary (settings keeps it).
const SUMMARY_SHOWN_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Reasons listed in the summary line; the rest are counted.
const REASONS_SHOWN: usize = 5;

/// The sentence an athlete reads after an upload's import.
pub fn summary_text(filename: &str, s: &UploadSummary) -> String {
    if let Some(error) = &s.error {
        return format!("Nothing was imported from {filename}: {error}.");
    }
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let mut text = format!(
        "Imported {} from {filename}.",
        plural(s.imported, "activity", "activities")
    );
    if s.skipped > 0 {
        let shown: Vec<&str> = s
            .reasons
            .iter()
            .take(REASONS_SHOWN)
            .map(String::as_str)
            .collect();
        text.push_str(&format!(
            " Skipped {}: {}",
            plural(s.skipped, "row", "rows"),
            shown.join("; ")
        ));
        if s.skipped > shown.len() {
            text.push_str(&format!(" and {} more", s.skipped - shown.len()));
        }
        text.push('.');
    }
    if s.kept_from_strava > 0 {
        text.push_str(&if s.kept_from_strava == 1 {
            " 1 activity was already here from Strava and was kept as Strava gave it.".to_owned()
        } else {
            format!(
                " {} activities were already here from Strava and were kept as Strava gave them.",
                s.kept_from_strava
            )
        });
    }
    text
}

/// `GET /chat/sync`.
pub async fn status(session: Session, pool: web::Data<db::Pool>) -> Result<HttpResponse, AppError> {
    let mut conn = pool.get().await?;
    let progress = Progress::load(&mut conn, session.athlete).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(progress))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(state: UploadState) -> Upload {
        Upload {
            id: 1,
            athlete_id: 7,
            filename: "export_1.zip".into(),
            size_bytes: 10,
            state,
            summary: None,
            created_at: Utc::now(),
            finished_at: None,
        }
    }

    #[test]
    fn an_upload_not_yet_ended_is_under_way_whatever_the_status_says() {
        // The worker has marked the upload but not yet written a status (a new
        // account), or the status is an earlier import's end.
        let mut earlier = SyncStatus::starting(domain::AthleteId(7));
        earlier.state = db::sync::SyncState::Done;
        for status in [None, Some(&earlier)] {
            for (state, label) in [
                (
                    UploadState::Queued,
                    "export_1.zip is waiting to be imported",
                ),
                (UploadState::Importing, "export_1.zip is being imported"),
            ] {
                let p = Progress::with_upload(status, Some(&upload(state)));
                assert!(p.importing, "{state:?} with {status:?}");
                assert_eq!(p.label, label);
                assert!(p.on_chat_page(Utc::now()).is_some());
            }
        }
        // Once the worker's status says it is importing, its count shows.
        let running = SyncStatus::starting(domain::AthleteId(7));
        let p = Progress::with_upload(Some(&running), Some(&upload(UploadState::Importing)));
        assert_eq!(p.label, "0 activities imported so far");
    }

    #[test]
    fn a_summary_names_what_was_imported_and_why_rows_were_skipped() {
        let s = UploadSummary {
            imported: 3,
            skipped: 2,
            reasons: vec!["line 4: no Activity Date".into(), "line 6: bad".into()],
            kept_from_strava: 1,
            error: None,
        };
        assert_eq!(
            summary_text("export_1.zip", &s),
            "Imported 3 activities from export_1.zip. Skipped 2 rows: line 4: no Activity Date; \
             line 6: bad. 1 activity was already here from Strava and was kept as Strava gave it."
        );
        let failed = UploadSummary {
            error: Some("no activities.csv in the archive".into()),
            ..UploadSummary::default()
        };
        assert_eq!(
            summary_text("x.zip", &failed),
            "Nothing was imported from x.zip: no activities.csv in the archive."
        );
    }
}
