//! The sync jobs: backfill after connect, periodic reconciliation of recent
//! activities, and the full refresh that retention asks for; plus the upkeep sweep
//! that queues the latter two. Import jobs (an uploaded export) run in `import`.
//!
//! Every job pages through `/athlete/activities` and upserts what it sees, so running
//! one twice does no harm. Strava's rate limit postpones a job until the window
//! reopens (it waits, it does not fail); other errors retry with backoff.

use super::Context;
use crate::strava::{Listed, StravaError};
use crate::tokens::TokenError;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use db::activities::ActivityRow;
use db::jobs::{Job, JobKind, NewJob};
use db::sync::{SyncState, SyncStatus};
use diesel_async::AsyncConnection;
use domain::{ActivitySource, AthleteId};
use tokio::sync::watch;

/// Strava's largest page.
const PER_PAGE: u32 = 200;

/// The backfill job for an athlete (at most one queued or running per athlete).
pub fn backfill_job(athlete: AthleteId) -> NewJob {
    NewJob::for_athlete(JobKind::Backfill, athlete)
}

/// How a job run ended, short of an error.
pub(super) enum End {
    /// Finished (or nothing left to do).
    Done,
    /// Must wait for Strava's rate limit.
    Postponed(DateTime<Utc>),
    /// Stopping: hand the job back for someone to resume now.
    Released,
    /// Our lease lapsed and another worker has the job.
    Lost,
}

/// Runs a claimed job and records the outcome on its row, in a span naming the job so
/// every line it logs can be tied to it.
#[tracing::instrument(name = "job", skip_all, fields(job = job.id, kind = %job.kind, attempt = job.attempts))]
pub(super) async fn process(
    ctx: &Context,
    job: Job,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let result = match job.kind {
        JobKind::Backfill => backfill(ctx, &job, stop).await,
        JobKind::Reconcile => reconcile(ctx, &job, stop, false).await,
        JobKind::Refresh => reconcile(ctx, &job, stop, true).await,
        JobKind::Details => match athlete_of(&job) {
            Ok(athlete) => super::details::run(ctx, &job, athlete, stop).await,
            Err(e) => Err(e),
        },
        JobKind::Import => match athlete_of(&job) {
            Ok(athlete) => super::import::run(ctx, &job, athlete)
                .await
                .map(|()| End::Done),
            Err(e) => Err(e),
        },
    };
    let mut conn = ctx.pool.get().await?;
    match result {
        Ok(End::Done) => db::jobs::complete(&mut conn, job.id).await?,
        Ok(End::Postponed(until)) => {
            tracing::info!(job = job.id, kind = %job.kind, %until, "job waits for Strava's rate limit");
            db::jobs::postpone(&mut conn, job.id, until).await?;
        }
        Ok(End::Released) => db::jobs::postpone(&mut conn, job.id, Utc::now()).await?,
        Ok(End::Lost) => {
            tracing::info!(job = job.id, "job lease lapsed; another worker owns it");
        }
        Err(e) => {
            let error = format!("{e:#}");
            tracing::warn!(job = job.id, kind = %job.kind, attempts = job.attempts, %error, "job failed");
            db::jobs::fail(&mut conn, &job, &error, ctx.settings.retry_base).await?;
            if job.kind == JobKind::Backfill && job.attempts >= job.max_attempts {
                // Out of attempts: talk-app's progress bar must stop saying "syncing".
                if let Ok(athlete) = athlete_of(&job)
                    && let Some(mut status) = db::sync::find(&mut conn, athlete).await?
                {
                    status.state = SyncState::Error;
                    status.last_error = Some(error.clone());
                    status.updated_at = Utc::now();
                    db::sync::save(&mut conn, &status).await?;
                }
            }
            if job.kind == JobKind::Import
                && job.attempts >= job.max_attempts
                && let Ok(athlete) = athlete_of(&job)
            {
                // Out of attempts: the upload ends failed and its bytes go.
                super::import::give_up(ctx, athlete, &error).await?;
            }
        }
    }
    Ok(())
}

fn athlete_of(job: &Job) -> anyhow::Result<AthleteId> {
    job.athlete().map_err(anyhow::Error::msg)
}

/// What listing one page gave.
enum Listing {
    Page(Vec<Listed>),
    /// Strava's rate limit: wait until then.
    RateLimited(DateTime<Utc>),
    /// No usable authorization: the athlete must reconnect.
    Reconnect,
}

/// One page of `/athlete/activities` (newest first; from `after`, oldest first), with the token
/// refreshed once on a 401.
async fn list(
    ctx: &Context,
    athlete: AthleteId,
    page: u32,
    after: Option<i64>,
) -> anyhow::Result<Listing> {
    let strava = &ctx.strava;
    let listed = crate::tokens::with_token(&ctx.pool, strava, &ctx.cipher, athlete, |token| {
        let strava = strava.clone();
        async move {
            strava
                .list_activities(&token, page, PER_PAGE, None, after)
                .await
        }
    })
    .await;
    match listed {
        Ok(items) => Ok(Listing::Page(items)),
        Err(TokenError::Strava(StravaError::RateLimited { until })) => {
            Ok(Listing::RateLimited(until))
        }
        Err(TokenError::Reconnect | TokenError::NotConnected(_)) => Ok(Listing::Reconnect),
        Err(e) => Err(anyhow::Error::new(e).context(format!("listing page {page}"))),
    }
}

/// Converts one listed page to rows; items that do not convert or belong to someone
/// else are skipped (and said so once per page).
fn rows_of(items: &[Listed], athlete: AthleteId, now: DateTime<Utc>) -> Vec<ActivityRow> {
    let mut rows = Vec::with_capacity(items.len());
    let mut skipped = Vec::new();
    for item in items {
        match &item.activity {
            Ok(listed) => {
                let a = listed.to_activity(ActivitySource::Api);
                if a.athlete_id == athlete {
                    rows.push(ActivityRow::new(&a, Some(listed.raw.clone()), now));
                } else {
                    skipped.push(format!("{}: another athlete's", a.id.get()));
                }
            }
            Err(e) => skipped.push(e.clone()),
        }
    }
    if !skipped.is_empty() {
        tracing::warn!(athlete = athlete.get(), skipped = ?skipped, "activities skipped");
    }
    rows
}

/// Backfill: page newest to oldest with `per_page=200` from `sync_status.next_page`
/// until a page comes back empty (a short page is not the end: Strava may return fewer
/// than asked). Each page's rows and the advanced cursor are written in one
/// transaction, so a crash resumes at the first page not stored.
async fn backfill(ctx: &Context, job: &Job, stop: &watch::Receiver<bool>) -> anyhow::Result<End> {
    let athlete = athlete_of(job)?;
    let mut conn = ctx.pool.get().await?;
    let Some(profile) = db::athletes::find(&mut conn, athlete).await? else {
        // Erased (deauthorized) since the job was queued.
        return Ok(End::Done);
    };
    let mut status = match db::sync::find(&mut conn, athlete).await? {
        Some(s) if s.state == SyncState::Backfilling => s,
        // A new connect (or a reconnect after an earlier backfill) starts over.
        _ => SyncStatus::starting(athlete),
    };
    status.last_error = None;
    status.updated_at = Utc::now();
    db::sync::save(&mut conn, &status).await?;
    let mut timezone_known = profile.timezone.as_deref().is_some_and(|t| !t.is_empty());
    loop {
        if *stop.borrow() {
            return Ok(End::Released);
        }
        let page = u32::try_from(status.next_page).unwrap_or(1);
        let items = match list(ctx, athlete, page, None).await {
            Ok(Listing::Page(items)) => items,
            Ok(Listing::RateLimited(until)) => {
                status.last_error = Some("waiting for Strava's rate limit".into());
                status.updated_at = Utc::now();
                db::sync::save(&mut conn, &status).await?;
                return Ok(End::Postponed(until));
            }
            Ok(Listing::Reconnect) => {
                status.state = SyncState::Error;
                status.last_error = Some("the athlete must reconnect to Strava".into());
                status.updated_at = Utc::now();
                db::sync::save(&mut conn, &status).await?;
                return Ok(End::Done);
            }
            Err(e) => {
                status.last_error = Some(format!("{e:#}"));
                status.updated_at = Utc::now();
                db::sync::save(&mut conn, &status).await?;
                return Err(e);
            }
        };
        let now = Utc::now();
        if items.is_empty() {
            status.state = SyncState::Done;
            status.estimated_total = Some(status.activities_synced);
            status.last_synced_at = Some(now);
            status.last_error = None;
            status.updated_at = now;
            db::sync::save(&mut conn, &status).await?;
            tracing::info!(
                athlete = athlete.get(),
                activities = status.activities_synced,
                pages = status.pages_fetched,
                "backfill done"
            );
            // The listing gave summaries: best efforts, calories and gear names follow.
            db::jobs::enqueue(&mut conn, &super::details::details_job(athlete)).await?;
            return Ok(End::Done);
        }
        let rows = rows_of(&items, athlete, now);
        let stored = i32::try_from(rows.len()).unwrap_or(i32::MAX);
        let mut next = status.clone();
        next.pages_fetched += 1;
        next.activities_synced = next.activities_synced.saturating_add(stored);
        next.next_page += 1;
        // Until the empty page the total is unknown: talk-app says "N imported so far"
        // rather than show a guessed percentage.
        next.estimated_total = None;
        next.last_error = None;
        next.updated_at = now;
        conn.transaction(async |conn| {
            db::activities::upsert_many(conn, &rows).await?;
            db::sync::save(conn, &next).await
        })
        .await
        .with_context(|| format!("storing page {page}"))?;
        status = next;
        if !timezone_known {
            // Pages come newest first: the first zone seen is the most recent one.
            if let Some(tz) = rows.iter().find_map(|r| r.timezone.as_deref()) {
                db::upkeep::set_timezone_if_missing(&mut conn, athlete, tz).await?;
                timezone_known = true;
            }
        }
        let progress = serde_json::json!({
            "next_page": status.next_page,
            "activities_synced": status.activities_synced,
        });
        if !db::jobs::heartbeat(
            &mut conn,
            job.id,
            job.attempts,
            ctx.settings.lease,
            &progress,
        )
        .await?
        {
            return Ok(End::Lost);
        }
    }
}

/// Reconcile (`full == false`: the last `RECONCILE_DAYS`) or refresh (`full`: the
/// whole history): list what Strava has now, upsert it (which also renews
/// `fetched_at`), then delete our API rows in the window that Strava did not list.
/// Rows written after the listing began are kept: a webhook may just have added them.
async fn reconcile(
    ctx: &Context,
    job: &Job,
    stop: &watch::Receiver<bool>,
    full: bool,
) -> anyhow::Result<End> {
    let athlete = athlete_of(job)?;
    let mut conn = ctx.pool.get().await?;
    if db::athletes::find(&mut conn, athlete).await?.is_none() {
        return Ok(End::Done);
    }
    let started = Utc::now();
    let since = (!full).then(|| started - chrono::Duration::days(ctx.settings.reconcile_days));
    let after = since.map(|t| t.timestamp());
    let mut seen: Vec<i64> = Vec::new();
    let mut page = 1u32;
    loop {
        if *stop.borrow() {
            return Ok(End::Released);
        }
        let items = match list(ctx, athlete, page, after).await? {
            Listing::Page(items) => items,
            Listing::RateLimited(until) => return Ok(End::Postponed(until)),
            // Nothing can be checked; retention removes what ages out unrefreshed.
            Listing::Reconnect => return Ok(End::Done),
        };
        if items.is_empty() {
            break;
        }
        // Ids of items we could not convert count as seen: they exist on Strava.
        seen.extend(items.iter().filter_map(|i| i.id));
        let rows = rows_of(&items, athlete, Utc::now());
        db::activities::upsert_many(&mut conn, &rows).await?;
        if !db::jobs::heartbeat(
            &mut conn,
            job.id,
            job.attempts,
            ctx.settings.lease,
            &serde_json::json!({ "page": page, "seen": seen.len() }),
        )
        .await?
        {
            return Ok(End::Lost);
        }
        page += 1;
    }
    let deleted = db::upkeep::delete_unlisted(&mut conn, athlete, since, &seen, started).await?;
    tracing::info!(
        athlete = athlete.get(),
        full,
        listed = seen.len(),
        deleted = deleted.len(),
        "reconciled"
    );
    Ok(End::Done)
}

/// How long an applied or ignored event stays in the inbox.
const APPLIED_EVENTS_KEPT: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// The upkeep sweep: queue a reconcile for each connected athlete not reconciled
/// within `RECONCILE_EVERY_HOURS`; queue a refresh for athletes with API rows nearing
/// `RETENTION_MAX_AGE_DAYS`; delete API rows that passed it unrefreshed (e.g. the
/// athlete must reconnect), since Strava's terms do not let them stay; prune
/// inbox events applied a day ago, finished jobs of that age, stale sessions and login
/// tickets; and delete talk-app's demo copies past their day and the accounts made
/// from an upload that nobody can sign into any more.
pub(super) async fn upkeep(ctx: &Context) -> anyhow::Result<()> {
    let mut conn = ctx.pool.get().await?;
    let s = &ctx.settings;
    for athlete in
        db::upkeep::athletes_due_for(&mut conn, JobKind::Reconcile, s.reconcile_every).await?
    {
        db::jobs::enqueue(&mut conn, &NewJob::for_athlete(JobKind::Reconcile, athlete)).await?;
    }
    let max_age = chrono::Duration::from_std(s.retention_max_age)?;
    // Refresh a day ahead of the limit (half of it for limits under two days), so a
    // refresh delayed by rate limits still lands in time.
    let margin = chrono::Duration::days(1).min(max_age / 2);
    let now = Utc::now();
    for athlete in
        db::upkeep::athletes_with_rows_fetched_before(&mut conn, now - max_age + margin).await?
    {
        db::jobs::enqueue(&mut conn, &NewJob::for_athlete(JobKind::Refresh, athlete)).await?;
    }
    // Applied events go after a day: long past the fetches they could overtake and the
    // retries of the same delivery; the inbox then holds a day of history at most.
    db::inbox::prune(&mut conn, now - APPLIED_EVENTS_KEPT).await?;
    db::inbox::prune_owner_calls(&mut conn, now - chrono::Duration::days(1)).await?;
    // Finished jobs likewise, but never sooner than a reconcile period: the sweep above
    // reads recent reconcile jobs to know whom it already queued.
    let reconcile_every = chrono::Duration::from_std(s.reconcile_every)?;
    db::jobs::prune_finished(&mut conn, now - max_age.max(reconcile_every)).await?;
    // talk-app's spent sign-in state: stale sessions and used or expired tickets.
    db::sessions::purge_stale(&mut conn, now).await?;
    db::tickets::purge_stale(&mut conn).await?;
    let expired = db::upkeep::delete_fetched_before(&mut conn, now - max_age).await?;
    if expired > 0 {
        tracing::warn!(
            rows = expired,
            "deleted API activities past the retention limit"
        );
    }
    let demos = db::demo::delete_expired_copies(&mut conn, now).await?;
    if demos > 0 {
        tracing::info!(copies = demos, "deleted expired demo copies");
    }
    let locals = db::uploads::delete_unreachable_local_athletes(&mut conn, now).await?;
    if locals > 0 {
        tracing::info!(
            accounts = locals,
            "deleted upload accounts nobody can sign into"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backfill_jobs_are_one_per_athlete() {
        let job = backfill_job(AthleteId(42));
        assert_eq!(job.kind, JobKind::Backfill);
        assert_eq!(job.dedupe_key.as_deref(), Some("backfill:42"));
        assert_eq!(job.payload["athlete_id"], 42);
    }
}
