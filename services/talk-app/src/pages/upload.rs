//! `POST /upload`: Strava's export archive (`export_NNNN.zip`), from the settings page
//! or, for someone without a Strava connection, from the home page.
//!
//! The file is received to disk first (`UPLOAD_SPOOL_DIR`), at a pace the sender must
//! keep, with no database connection held; then it is stored in PostgreSQL
//! (`db::uploads`, in pieces, so memory does not grow with it) and an import job is
//! queued in one short transaction. The gateway's worker imports it and the chat page
//! shows its progress as for a backfill. A file over `UPLOAD_MAX_BYTES`, one that is
//! not a ZIP archive, one that arrives too slowly, an upload while an import is under
//! way, or one more account than `UPLOAD_MAX_ACCOUNTS` allows is refused with a page
//! that says so: nothing is stored, no athlete created.
//!
//! From the home page the visitor becomes a new local athlete (a negative id, see
//! `db::uploads::create_local_athlete`) signed in like after connecting; the export's
//! own athlete id is not trusted for that, since anyone can write any id in a file.
//! The form's time zone, sent before the file, becomes the athlete's: activities
//! without a GPS file in the export are read in it. A zone that is not one is
//! refused like a bad file.

use crate::app::{Layout, document, html};
use crate::error::{AppError, see_other};
use crate::session::{SessionKeys, Visitor};
use crate::settings::WebSettings;
use actix_multipart::{Field, Multipart};
use actix_web::cookie::Cookie;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use db::jobs::{JobKind, NewJob};
use db::uploads::CHUNK_BYTES;
use diesel_async::AsyncConnection;
use diesel_async::TransactionManager;
use domain::AthleteId;
use futures_util::TryStreamExt;
use leptos::prelude::*;
use uuid::Uuid;

/// The form field holding the file.
pub const FIELD: &str = "export";

/// The optional form field before it: the zone for activities without a GPS file.
const ZONE_FIELD: &str = "timezone";

/// Longest zone field read; IANA names are far shorter.
const ZONE_FIELD_BYTES: usize = 100;

/// What every ZIP archive with at least one file starts with (a local file header).
const ZIP_SIGNATURE: &[u8] = b"PK\x03\x04";

/// Room for the multipart framing around the file when judging `Content-Length`.
const FRAMING_BYTES: u64 = 64 * 1024;

/// Longest file name kept, in characters (it is only shown back to the athlete).
const FILENAME_CHARS: usize = 120;

/// Uploads received at once by this process, at most a quarter of the pool's size:
/// each is received to disk first, at a pace it must keep ([`Pace`]), then stored in
/// one short transaction (so a refused file leaves nothing), so slow senders can
/// neither starve the chat of connections nor hold a slot for long.
pub struct UploadSlots(tokio::sync::Semaphore);

impl UploadSlots {
    pub fn for_pool(pool: &db::Pool) -> Self {
        Self(tokio::sync::Semaphore::new(
            (pool.status().max_size / 4).max(1),
        ))
    }
}

/// Seconds a sender is told to wait when every upload slot is taken.
const CROWDED_RETRY_SECS: u32 = 60;

/// Seconds a sender is told to wait when the server keeps all the uploaded accounts
/// it may: upkeep deletes unreachable ones every hour.
const FULL_RETRY_SECS: u32 = 3600;

/// Why an upload was refused; nothing was stored.
#[derive(Debug)]
enum Refusal {
    TooLarge(u64),
    NoFile,
    NotZip,
    UnknownZone,
    Demo,
    Busy,
    /// Every upload slot of this process is taken.
    Crowded,
    /// As many accounts made from uploads exist as the server keeps.
    Full,
    /// The request's body could not be read as a form.
    Unreadable,
    /// The body stalled, or arrived slower than any real connection sends.
    TooSlow,
    Failed(AppError),
}

impl From<db::DbError> for Refusal {
    fn from(e: db::DbError) -> Self {
        Self::Failed(e.into())
    }
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

impl Refusal {
    /// The page saying why; someone signed in gets the navigation and links back to
    /// settings (where the settings upload form is) and the chat.
    fn response(self, signed_in: bool) -> Result<HttpResponse, AppError> {
        let retry_after = match self {
            Self::Crowded => Some(CROWDED_RETRY_SECS),
            Self::Full => Some(FULL_RETRY_SECS),
            _ => None,
        };
        let (status, text) = match self {
            Self::Failed(e) => return Err(e),
            Self::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "That file is larger than {}, the most this server accepts. Nothing was stored.",
                    size_text(limit)
                ),
            ),
            Self::NoFile => (
                StatusCode::BAD_REQUEST,
                "Choose your Strava export file (export_NNNN.zip) first. Nothing was stored."
                    .into(),
            ),
            Self::NotZip => (
                StatusCode::BAD_REQUEST,
                "That file is not a ZIP archive. Upload the export_NNNN.zip that Strava sent you, \
                 as it came (not unpacked). Nothing was stored."
                    .into(),
            ),
            Self::UnknownZone => (
                StatusCode::BAD_REQUEST,
                "That is not a time zone StravaTalk knows. Choose one from the list, e.g. \
                 Europe/Paris. Nothing was stored."
                    .into(),
            ),
            Self::Demo => (
                StatusCode::BAD_REQUEST,
                "The demo account cannot import files. Sign out and upload your export from the \
                 home page."
                    .into(),
            ),
            Self::Busy => (
                StatusCode::CONFLICT,
                "An import is already under way for your account. Wait until it has finished, \
                 then upload again. Nothing was stored."
                    .into(),
            ),
            Self::Crowded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Several exports are being uploaded right now. Please send yours again in a \
                 minute. Nothing was stored."
                    .into(),
            ),
            Self::Full => (
                StatusCode::SERVICE_UNAVAILABLE,
                "StravaTalk holds as many uploaded exports as it can right now. Please try again \
                 later, or connect with Strava instead. Nothing was stored."
                    .into(),
            ),
            Self::TooSlow => (
                StatusCode::REQUEST_TIMEOUT,
                "The upload arrived too slowly and was stopped. Please send it again on a \
                 steadier connection. Nothing was stored."
                    .into(),
            ),
            Self::Unreadable => (
                StatusCode::BAD_REQUEST,
                "The upload could not be read. Please choose the file and send the form again. \
                 Nothing was stored."
                    .into(),
            ),
        };
        let body = document("Upload refused", None, move || {
            let back = if signed_in {
                view! {
                    <p class="chips">
                        <a class="button" href="/settings">"Back to settings"</a>
                        <a class="button" href="/chat">"Go to your chat"</a>
                    </p>
                }
                .into_any()
            } else {
                view! { <p><a class="button" href="/">"Back to the home page"</a></p> }.into_any()
            };
            view! {
                <Layout signed_in=signed_in>
                    <section class="message">
                        <h1>"Upload refused"</h1>
                        <p role="alert">{text}</p>
                        {back}
                    </section>
                </Layout>
            }
        });
        let mut res = html(status, body);
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        Ok(res)
    }
}

/// A byte count in the largest whole unit that reads naturally.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// `POST /upload`.
pub async fn upload(
    req: HttpRequest,
    payload: web::Payload,
    visitor: Visitor,
    pool: web::Data<db::Pool>,
    keys: web::Data<SessionKeys>,
    web: web::Data<WebSettings>,
    slots: web::Data<UploadSlots>,
) -> Result<HttpResponse, AppError> {
    let signed_in = matches!(visitor, Visitor::SignedIn(_));
    // Taken before a byte of the body is read, held until the upload is stored.
    let Ok(_slot) = slots.0.try_acquire() else {
        return Refusal::Crowded.response(signed_in);
    };
    match receive(&req, payload, visitor, &pool, &keys, &web).await {
        Ok(cookie) => {
            let mut res = see_other("/chat");
            if let Some(cookie) = cookie {
                res.add_cookie(&cookie)
                    .map_err(|_| AppError::Internal("cookie"))?;
            }
            Ok(res)
        }
        Err(refusal) => refusal.response(signed_in),
    }
}

/// Checks, stores and queues the upload; returns the session cookie of a new local
/// athlete (none for someone signed in).
async fn receive(
    req: &HttpRequest,
    payload: web::Payload,
    visitor: Visitor,
    pool: &db::Pool,
    keys: &SessionKeys,
    web: &WebSettings,
) -> Result<Option<Cookie<'static>>, Refusal> {
    let limit = web.upload_max_bytes;
    // Refused before a byte of the body is read, when the sender says its size.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(FRAMING_BYTES)) {
        return Err(Refusal::TooLarge(limit));
    }
    let athlete = match visitor {
        Visitor::SignedIn(session) => Some(session.athlete),
        Visitor::Anonymous => None,
        Visitor::Stale => return Err(AppError::SessionEnded.into()),
    };
    {
        // What can be refused before the body is read; the connection goes back to
        // the pool before the first byte of the file is awaited.
        let mut conn = pool.get().await.map_err(AppError::from)?;
        admit(&mut conn, athlete, web).await?;
    }
    let pace = Pace::new(web.upload_idle, web.upload_rate_grace);
    let mut form = Multipart::new(req.headers(), payload);
    let mut zone = None;
    let (mut field, filename) = loop {
        match pace.within(0, form.try_next()).await? {
            Ok(Some(field)) if field.name() == Some(ZONE_FIELD) => {
                zone = read_zone(field, &pace).await?;
            }
            Ok(Some(field)) if field.name() == Some(FIELD) => {
                let name = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(|n| n.chars().take(FILENAME_CHARS).collect::<String>())
                    .filter(|n| !n.trim().is_empty());
                break (field, name.unwrap_or_else(|| "export.zip".into()));
            }
            Ok(Some(_)) => continue,
            Ok(None) => return Err(Refusal::NoFile),
            Err(_) => return Err(Refusal::Unreadable),
        }
    };
    let file = spool(&mut field, &pace, limit, &web.upload_spool_dir).await?;
    // The whole file is here: only now a connection, for one short transaction.
    let mut conn = pool.get().await.map_err(AppError::from)?;
    let conn: &mut db::AsyncPgConnection = &mut conn;
    type Tm = <db::AsyncPgConnection as AsyncConnection>::TransactionManager;
    Tm::begin_transaction(conn).await?;
    let stored = store(conn, athlete, zone, &filename, &file, keys).await;
    match stored {
        Ok(cookie) => {
            Tm::commit_transaction(conn).await?;
            Ok(cookie)
        }
        Err(refusal) => {
            Tm::rollback_transaction(conn).await?;
            Err(refusal)
        }
    }
}

/// Refuses an upload that cannot be taken whatever its file: too many accounts made
/// from uploads already, the demo, or an import under way.
async fn admit(
    conn: &mut db::AsyncPgConnection,
    athlete: Option<AthleteId>,
    web: &WebSettings,
) -> Result<(), Refusal> {
    let Some(athlete) = athlete else {
        // Each such account may hold a large import for as long as its session
        // lives; like the demo's copies, their number is bounded.
        if db::uploads::local_athlete_count(conn).await? >= web.upload_max_accounts {
            return Err(Refusal::Full);
        }
        return Ok(());
    };
    let row = db::athletes::find(conn, athlete)
        .await?
        .ok_or(AppError::SessionEnded)?;
    if row.is_demo {
        return Err(Refusal::Demo);
    }
    // A backfill or import writes the same progress row; one at a time.
    if db::sync::find(conn, athlete)
        .await?
        .is_some_and(|s| s.state == db::sync::SyncState::Backfilling)
    {
        return Err(Refusal::Busy);
    }
    Ok(())
}

/// The least a body must average once its grace has passed: a phone on a poor line
/// sends far more, a sender holding a slot open sends far less.
const MIN_BYTES_PER_SEC: u64 = 16 * 1024;

/// How fast the body must arrive: no pause longer than `idle`, and after `grace`
/// at least [`MIN_BYTES_PER_SEC`] on average. A sender dribbling bytes would
/// otherwise hold an upload slot for as long as it liked.
struct Pace {
    started: std::time::Instant,
    idle: std::time::Duration,
    grace: std::time::Duration,
}

impl Pace {
    fn new(idle: std::time::Duration, grace: std::time::Duration) -> Self {
        Self {
            started: std::time::Instant::now(),
            idle,
            grace,
        }
    }

    /// Awaits the next piece of the body, `received` bytes having arrived so far.
    async fn within<T>(
        &self,
        received: u64,
        next: impl std::future::Future<Output = T>,
    ) -> Result<T, Refusal> {
        let elapsed = self.started.elapsed();
        if elapsed > self.grace && received < MIN_BYTES_PER_SEC.saturating_mul(elapsed.as_secs()) {
            return Err(Refusal::TooSlow);
        }
        tokio::time::timeout(self.idle, next)
            .await
            .map_err(|_| Refusal::TooSlow)
    }
}

/// The file as received, on disk until it is stored; deleted when dropped.
struct Spooled {
    path: std::path::PathBuf,
    size: u64,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Receives the file field to a file of its own on disk, checking that it is a ZIP
/// archive from its first bytes and that it stays within `limit`.
async fn spool(
    field: &mut Field,
    pace: &Pace,
    limit: u64,
    dir: &std::path::Path,
) -> Result<Spooled, Refusal> {
    use std::io::Write;
    let failed = |_| Refusal::Failed(AppError::Internal("cannot keep the upload on disk"));
    let mut spooled = Spooled {
        path: dir.join(format!("stravatalk-receive-{}.zip", Uuid::new_v4())),
        size: 0,
    };
    let mut file = std::fs::File::create_new(&spooled.path).map_err(failed)?;
    let mut head = Vec::with_capacity(ZIP_SIGNATURE.len());
    loop {
        let bytes = match pace.within(spooled.size, field.try_next()).await? {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(_) => return Err(Refusal::Unreadable),
        };
        // The first bytes decide whether it is a ZIP at all.
        if head.len() < ZIP_SIGNATURE.len() {
            let take = (ZIP_SIGNATURE.len() - head.len()).min(bytes.len());
            head.extend_from_slice(&bytes[..take]);
            if !ZIP_SIGNATURE.starts_with(&head) {
                return Err(Refusal::NotZip);
            }
        }
        spooled.size += bytes.len() as u64;
        if spooled.size > limit {
            return Err(Refusal::TooLarge(limit));
        }
        file.write_all(&bytes).map_err(failed)?;
    }
    if spooled.size == 0 {
        return Err(Refusal::NoFile);
    }
    if head.len() < ZIP_SIGNATURE.len() {
        return Err(Refusal::NotZip);
    }
    file.flush().map_err(failed)?;
    Ok(spooled)
}

/// The zone field's value: `None` when left empty, refused when not a zone.
async fn read_zone(mut field: Field, pace: &Pace) -> Result<Option<chrono_tz::Tz>, Refusal> {
    let mut value = Vec::new();
    while let Some(bytes) = pace
        .within(value.len() as u64, field.try_next())
        .await?
        .map_err(|_| Refusal::Unreadable)?
    {
        value.extend_from_slice(&bytes);
        if value.len() > ZONE_FIELD_BYTES {
            return Err(Refusal::UnknownZone);
        }
    }
    let text = std::str::from_utf8(&value).map_err(|_| Refusal::UnknownZone)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    domain::dates::parse_strava_timezone(text)
        .map(Some)
        .map_err(|_| Refusal::UnknownZone)
}

/// Inside the transaction: the athlete (made when new) and the zone they chose, the
/// upload's pieces read back from disk, the job.
async fn store(
    conn: &mut db::AsyncPgConnection,
    athlete: Option<AthleteId>,
    zone: Option<chrono_tz::Tz>,
    filename: &str,
    file: &Spooled,
    keys: &SessionKeys,
) -> Result<Option<Cookie<'static>>, Refusal> {
    use std::io::Read;
    let (athlete, cookie) = match athlete {
        Some(a) => (a, None),
        None => {
            let a = db::uploads::create_local_athlete(conn).await?;
            let cookie = crate::session::start(conn, keys, a, None).await?;
            (a, Some(cookie))
        }
    };
    if let Some(zone) = zone {
        db::athletes::set_timezone(conn, athlete, zone.name()).await?;
    }
    let failed = |_| Refusal::Failed(AppError::Internal("cannot read the upload back"));
    let upload = db::uploads::create(conn, athlete, filename).await?;
    let mut reader = std::fs::File::open(&file.path).map_err(failed)?;
    let mut piece = vec![0; CHUNK_BYTES];
    let mut seq = 0;
    loop {
        let mut filled = 0;
        while filled < piece.len() {
            match reader.read(&mut piece[filled..]).map_err(failed)? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        db::uploads::append(conn, upload, seq, &piece[..filled]).await?;
        seq += 1;
    }
    db::uploads::set_size(conn, upload, i64::try_from(file.size).unwrap_or(i64::MAX)).await?;
    if db::jobs::enqueue(conn, &NewJob::for_athlete(JobKind::Import, athlete))
        .await?
        .is_none()
    {
        return Err(Refusal::Busy);
    }
    tracing::info!(
        athlete = athlete.get(),
        upload,
        bytes = file.size,
        "export uploaded"
    );
    Ok(cookie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_whole_units() {
        assert_eq!(size_text(200 * 1024 * 1024), "200 MB");
        assert_eq!(size_text(4096), "4 KB");
        assert_eq!(size_text(1000), "1000 bytes");
    }
}
