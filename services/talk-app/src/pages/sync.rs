//! `GET /chat/sync`: the import's progress as JSON, polled by app.js so the chat page
//! follows a backfill without reloading (and without losing what is being typed).
//! Without JavaScript the page refreshes itself instead.

use crate::error::AppError;
use crate::session::Session;
use actix_web::{HttpResponse, web};
use db::sync::SyncStatus;
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
        }
    }
}

/// `GET /chat/sync`.
pub async fn status(session: Session, pool: web::Data<db::Pool>) -> Result<HttpResponse, AppError> {
    let mut conn = pool.get().await?;
    let status = db::sync::find(&mut conn, session.athlete).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(Progress::of(status.as_ref())))
}
