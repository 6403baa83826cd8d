//! The details job: what a listing's SummaryActivity lacks (best efforts, calories,
//! the device) comes only with each activity's DetailedActivity, one read each; and the
//! athlete's gear names come from `/athlete` and, for gear it no longer lists (retired),
//! `/gear/{id}`.
//!
//! New and updated activities arrive detailed through webhook events; this job is for
//! the history a backfill listed. It fetches newest first (recent activities are the
//! ones asked about), records each one's details as it goes (`details_fetched_at`), so
//! it resumes where it stopped, and spends at most [`READ_SHARE_PERCENT`] of the
//! application's read budget in each 15-minute and daily window: while reads (everyone's,
//! webhooks and backfills included) are past that share it postpones itself to the next
//! window, leaving the rest for webhook events, which never wait behind it.

use super::Context;
use super::jobs::End;
use crate::strava::StravaError;
use crate::tokens::TokenError;
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use db::activities::ActivityRow;
use db::best_efforts::BestEffortRow;
use db::gear::GearRow;
use db::jobs::{Job, JobKind, NewJob};
use diesel_async::AsyncConnection;
use domain::{ActivityId, ActivitySource, AthleteId, GearKind};
use std::collections::HashSet;
use tokio::sync::watch;

/// The share of each read window (15 minutes, day) the details job may see used.
pub const READ_SHARE_PERCENT: i32 = 30;

/// The details job for an athlete (at most one queued or running per athlete).
pub fn details_job(athlete: AthleteId) -> NewJob {
    NewJob::for_athlete(JobKind::Details, athlete)
}

/// What one call gave.
enum Call<T> {
    Got(T),
    RateLimited(DateTime<Utc>),
    Reconnect,
}

/// Runs the job until every activity has its details, the share is spent, or the
/// worker stops.
pub(super) async fn run(
    ctx: &Context,
    job: &Job,
    athlete: AthleteId,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<End> {
    let mut gear_listed = false;
    let mut gear_tried: HashSet<String> = HashSet::new();
    let mut fetched = 0u32;
    loop {
        if *stop.borrow() {
            return Ok(End::Released);
        }
        if let Some(until) = share_spent(ctx).await? {
            return Ok(End::Postponed(until));
        }
        let mut conn = ctx.pool.get().await?;
        if db::athletes::find(&mut conn, athlete).await?.is_none() {
            // Erased since the job was queued.
            return Ok(End::Done);
        }
        let step = if !gear_listed {
            gear_listed = true;
            drop(conn);
            list_gear(ctx, athlete).await?
        } else if let Some(id) = db::gear::unknown_ids(&mut conn, athlete, 100)
            .await?
            .into_iter()
            .find(|id| !gear_tried.contains(id))
        {
            drop(conn);
            gear_tried.insert(id.clone());
            look_up_gear(ctx, athlete, &id).await?
        } else if let Some(id) = db::activities::next_without_details(&mut conn, athlete).await? {
            drop(conn);
            fetched += 1;
            fetch_details(ctx, athlete, id).await?
        } else {
            tracing::info!(athlete = athlete.get(), fetched, "details done");
            return Ok(End::Done);
        };
        match step {
            Call::Got(()) => {}
            Call::RateLimited(until) => return Ok(End::Postponed(until)),
            Call::Reconnect => return Ok(End::Done),
        }
        let mut conn = ctx.pool.get().await?;
        let progress = serde_json::json!({ "details_fetched": fetched });
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

/// When reads in the current 15-minute or daily window have reached the job's share:
/// the window's end.
async fn share_spent(ctx: &Context) -> anyhow::Result<Option<DateTime<Utc>>> {
    let governor = ctx.strava.governor();
    if !governor.enabled() {
        return Ok(None);
    }
    let snapshot = governor
        .snapshot()
        .await
        .context("reading the rate-limit budget")?;
    let share = |limit: i32| limit * READ_SHARE_PERCENT / 100;
    let now = governor.now();
    if snapshot.usage.read_daily >= share(snapshot.limits.read_daily) {
        return Ok(Some(db::ratelimit::next_midnight(now)));
    }
    if snapshot.usage.read_15min >= share(snapshot.limits.read_15min) {
        return Ok(Some(db::ratelimit::next_quarter(now)));
    }
    Ok(None)
}

/// One Strava call with the athlete's token, refreshed once on a 401.
async fn call<T, F, Fut>(ctx: &Context, athlete: AthleteId, f: F) -> anyhow::Result<Call<T>>
where
    F: Fn(crate::strava::StravaClient, domain::Secret<String>) -> Fut,
    Fut: std::future::Future<Output = Result<T, StravaError>>,
{
    let strava = &ctx.strava;
    let answer = crate::tokens::with_token(&ctx.pool, strava, &ctx.cipher, athlete, |token| {
        f(strava.clone(), token)
    })
    .await;
    match answer {
        Ok(v) => Ok(Call::Got(v)),
        Err(TokenError::Strava(StravaError::RateLimited { until })) => Ok(Call::RateLimited(until)),
        Err(TokenError::Reconnect | TokenError::NotConnected(_)) => Ok(Call::Reconnect),
        Err(e) => Err(anyhow::Error::new(e)),
    }
}

/// The athlete's bikes and shoes as `/athlete` lists them.
async fn list_gear(ctx: &Context, athlete: AthleteId) -> anyhow::Result<Call<()>> {
    let profile = match call(ctx, athlete, |strava, token| async move {
        strava.athlete(&token).await
    })
    .await
    .context("reading the athlete's gear")?
    {
        Call::Got(p) => p,
        Call::RateLimited(until) => return Ok(Call::RateLimited(until)),
        Call::Reconnect => return Ok(Call::Reconnect),
    };
    let now = Utc::now();
    let mut rows = Vec::new();
    for (kind, list) in [
        (GearKind::Bike, profile.bikes.unwrap_or_default()),
        (GearKind::Shoes, profile.shoes.unwrap_or_default()),
    ] {
        for raw in &list {
            match crate::convert::gear_from_strava(raw, Some(kind)) {
                Ok(g) => rows.push(GearRow::new(athlete, &g, ActivitySource::Api, now)),
                Err(e) => tracing::warn!(athlete = athlete.get(), error = %e, "gear skipped"),
            }
        }
    }
    let mut conn = ctx.pool.get().await?;
    db::gear::upsert_many(&mut conn, &rows).await?;
    Ok(Call::Got(()))
}

/// Gear an activity names that `/athlete` no longer lists (retired).
async fn look_up_gear(ctx: &Context, athlete: AthleteId, id: &str) -> anyhow::Result<Call<()>> {
    let raw = match call(ctx, athlete, |strava, token| {
        let id = id.to_owned();
        async move { strava.gear(&token, &id).await }
    })
    .await
    .with_context(|| format!("reading gear {id}"))?
    {
        Call::Got(raw) => raw,
        Call::RateLimited(until) => return Ok(Call::RateLimited(until)),
        Call::Reconnect => return Ok(Call::Reconnect),
    };
    let Some(raw) = raw else {
        return Ok(Call::Got(()));
    };
    match crate::convert::gear_from_strava(&raw, None) {
        Ok(g) if g.id == id => {
            let mut conn = ctx.pool.get().await?;
            db::gear::upsert_many(
                &mut conn,
                &[GearRow::new(athlete, &g, ActivitySource::Api, Utc::now())],
            )
            .await?;
        }
        Ok(_) => tracing::warn!(
            athlete = athlete.get(),
            gear = id,
            "gear answered another id"
        ),
        Err(e) => tracing::warn!(athlete = athlete.get(), gear = id, error = %e, "gear skipped"),
    }
    Ok(Call::Got(()))
}

/// One activity's DetailedActivity, stored with its best efforts; Strava's 404
/// removes it, as for a webhook event.
async fn fetch_details(
    ctx: &Context,
    athlete: AthleteId,
    id: ActivityId,
) -> anyhow::Result<Call<()>> {
    let detailed = match call(ctx, athlete, |strava, token| async move {
        strava.get_activity(&token, id).await
    })
    .await
    {
        Ok(Call::Got(d)) => d,
        Ok(Call::RateLimited(until)) => return Ok(Call::RateLimited(until)),
        Ok(Call::Reconnect) => return Ok(Call::Reconnect),
        // An activity that does not read is recorded as fetched (its summary stays),
        // so one bad object never stops the job.
        Err(e) if is_decode(&e) => {
            tracing::warn!(athlete = athlete.get(), activity = id.get(), error = %format!("{e:#}"), "details skipped");
            let mut conn = ctx.pool.get().await?;
            db::activities::mark_details_fetched(&mut conn, athlete, id, Utc::now()).await?;
            return Ok(Call::Got(()));
        }
        Err(e) => return Err(e.context(format!("reading activity {}", id.get()))),
    };
    let mut conn = ctx.pool.get().await?;
    let Some(detailed) = detailed else {
        db::activities::delete(&mut conn, athlete, id).await?;
        return Ok(Call::Got(()));
    };
    let activity = detailed.to_activity(ActivitySource::Api);
    if activity.athlete_id != athlete || activity.id != id {
        db::activities::mark_details_fetched(&mut conn, athlete, id, Utc::now()).await?;
        return Ok(Call::Got(()));
    }
    let row = ActivityRow::new(&activity, Some(detailed.raw.clone()), Utc::now()).detailed();
    let efforts: Vec<BestEffortRow> = detailed
        .best_efforts
        .iter()
        .flatten()
        .map(|e| BestEffortRow::new(athlete, id, e, ActivitySource::Api))
        .collect();
    conn.transaction(async |conn| {
        db::activities::upsert_many(conn, std::slice::from_ref(&row)).await?;
        db::best_efforts::replace_for(conn, athlete, &[id.get()], &efforts).await
    })
    .await
    .with_context(|| format!("storing activity {}'s details", id.get()))?;
    Ok(Call::Got(()))
}

fn is_decode(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<TokenError>(),
        Some(TokenError::Strava(StravaError::Decode(_)))
    )
}
