//! Applying one webhook event.
//!
//! Events are not signed, so an event is a hint, never evidence. Nothing is deleted or
//! erased on an event's word: an activity goes only when Strava answers 404 for it
//! with its owner's token, and an athlete is erased only when Strava refuses their
//! authorization (the API call and the token refresh both refused). Every Strava call
//! an athlete's events make is counted against a per-athlete cap per quarter hour
//! (`WEBHOOK_OWNER_CALLS_PER_QUARTER`), so a burst for one athlete, real or forged,
//! waits instead of spending the budget every athlete shares; and a fetch settles
//! every pending event of the same object that arrived before it began.
//!
//! Events may also come twice or out of order, so an activity event never applies its
//! own content: it refetches the activity's current state from Strava and stores that,
//! or deletes the row when Strava no longer shows it. Whatever order the events run
//! in, the last one to run leaves the row as Strava has it now.
//!
//! Two events for the same object must not interleave (a slow create could otherwise
//! write back an activity a delete just removed). The fetch happens without holding a
//! connection; the write then runs in a transaction that first records the event as
//! applied on the object's row (`db::inbox::apply`, which also serialises the object's
//! writers), and is skipped (and the fetch repeated) when another event of the object
//! was applied after our fetch began. So the last write always carries data fetched
//! after every earlier write.
//!
//! An event costs six statements: the owner's call counted (with the fetch's start on
//! the database clock), the token read, and `BEGIN`, the record, the write, `COMMIT`;
//! plus its share of a batch claim.

use super::Context;
use crate::strava::StravaError;
use crate::tokens::TokenError;
use chrono::{DateTime, DurationRound as _, Utc};
use db::activities::ActivityRow;
use db::best_efforts::BestEffortRow;
use db::inbox::{Applied, AspectType, Event, ObjectType, OwnerCall};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use domain::{ActivityId, ActivitySource, AthleteId};

/// The note on a delete event for an activity we do not hold.
const NOTHING_TO_DELETE: &str = "no such activity is stored";

/// Fetches per event before it counts as a failed attempt (each one was overtaken
/// by another event of the same activity).
const MAX_REFETCHES: usize = 5;

/// How applying an event can end short of done.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// Strava's rate limit: try again at `until`, without counting an attempt.
    #[error("rate limited until {0}")]
    RateLimited(DateTime<Utc>),
    /// The owner's events spent their Strava calls for this quarter hour: try again
    /// at `until`, without counting an attempt.
    #[error("the athlete's event budget is spent until {0}")]
    OwnerCapped(DateTime<Utc>),
    /// Nothing to do, and nothing will change that; the note says why.
    #[error("{0}")]
    Ignored(String),
    /// Worth another attempt later.
    #[error("{0}")]
    Retry(String),
}

impl From<diesel::result::Error> for Failure {
    fn from(e: diesel::result::Error) -> Self {
        Self::Retry(format!("database: {e}"))
    }
}

impl From<StravaError> for Failure {
    fn from(e: StravaError) -> Self {
        match e {
            StravaError::RateLimited { until } => Self::RateLimited(until),
            other => Self::Retry(format!("strava: {other}")),
        }
    }
}

/// Applies a claimed event and records the outcome on its row, in a span naming the
/// event.
#[tracing::instrument(
    name = "webhook_event",
    skip_all,
    fields(event = event.id, object = %event.object_type, aspect = %event.aspect_type)
)]
pub(super) async fn process(ctx: &Context, event: Event) -> anyhow::Result<()> {
    let outcome = apply(ctx, &event).await;
    let mut conn = ctx.pool.get().await?;
    match outcome {
        Ok(()) => {}
        Err(Failure::Ignored(note)) => {
            tracing::info!(event = event.id, %note, "webhook event ignored");
            db::inbox::mark_ignored(&mut conn, &event, &note).await?;
        }
        Err(Failure::RateLimited(until)) => {
            tracing::info!(event = event.id, %until, "webhook event waits for the rate limit");
            db::inbox::postpone(&mut conn, &event, until).await?;
        }
        Err(Failure::OwnerCapped(until)) => {
            tracing::info!(
                event = event.id,
                owner = event.owner_id,
                %until,
                "webhook event waits: its athlete's events spent their Strava calls"
            );
            db::inbox::postpone(&mut conn, &event, until).await?;
        }
        Err(Failure::Retry(error)) => {
            let status = db::inbox::fail(
                &mut conn,
                &event,
                &error,
                ctx.settings.retry_base,
                ctx.settings.max_attempts,
            )
            .await?;
            tracing::warn!(
                event = event.id,
                attempts = event.attempts,
                %status,
                %error,
                "webhook event failed"
            );
        }
    }
    Ok(())
}

async fn apply(ctx: &Context, event: &Event) -> Result<(), Failure> {
    let owner = AthleteId(event.owner_id);
    match event.object_type {
        ObjectType::Athlete => apply_athlete(ctx, event, owner).await,
        ObjectType::Activity => apply_activity(ctx, event, owner).await,
    }
}

/// Athlete events: `authorized: "false"` says the athlete revoked our access, and
/// Strava's terms say everything we hold for them goes. Anyone can post that event,
/// so it only makes us ask Strava: the athlete is erased when Strava refuses both
/// their access token and its refresh, and kept when Strava still accepts them.
async fn apply_athlete(ctx: &Context, event: &Event, owner: AthleteId) -> Result<(), Failure> {
    let revoked = event.updates.get("authorized").and_then(|v| v.as_str()) == Some("false");
    if !revoked {
        // Profile changes: nothing we keep depends on them between connects.
        let mut conn = ctx.pool.get().await.map_err(pool_error)?;
        return done(&mut conn, event).await;
    }
    let asked_from = spend_owner_call(ctx, event).await?;
    let strava = &ctx.strava;
    let still_authorized =
        crate::tokens::with_token(&ctx.pool, strava, &ctx.cipher, owner, |token| {
            let strava = strava.clone();
            async move { strava.athlete(&token).await.map(drop) }
        })
        .await;
    match still_authorized {
        Err(TokenError::Reconnect) => {}
        Ok(()) => {
            // The same claim repeated before we asked gets the same answer.
            let mut conn = ctx.pool.get().await.map_err(pool_error)?;
            db::inbox::settle_covered(&mut conn, event, asked_from).await?;
            return Err(Failure::Ignored(
                "deauthorization not confirmed: Strava still accepts the athlete's token".into(),
            ));
        }
        Err(TokenError::NotConnected(_)) => {
            return Err(Failure::Ignored(
                "deauthorization cannot be confirmed: no Strava tokens are stored".into(),
            ));
        }
        Err(TokenError::Strava(e)) => return Err(e.into()),
        Err(e) => return Err(Failure::Retry(format!("token: {e}"))),
    }
    let mut conn = ctx.pool.get().await.map_err(pool_error)?;
    let event = event.clone();
    conn.transaction(async |conn| {
        db::inbox::hold_object(conn, &event).await?;
        if !db::athletes::erase(conn, owner).await? {
            return Err(Failure::Ignored("unknown athlete".into()));
        }
        tracing::info!(
            athlete = owner.get(),
            "deauthorization confirmed by Strava: data erased"
        );
        done(conn, &event).await
    })
    .await
}

async fn apply_activity(ctx: &Context, event: &Event, owner: AthleteId) -> Result<(), Failure> {
    let id = ActivityId(event.object_id);
    // A delete of something we do not hold changes nothing, so no call confirms it.
    // Decided with the object held and recorded as applied, so that an event of this
    // object whose fetch began earlier sees it and fetches again rather than writing
    // back what Strava may just have deleted.
    if event.aspect_type == AspectType::Delete {
        let mut conn = ctx.pool.get().await.map_err(pool_error)?;
        if db::athletes::find(&mut conn, owner).await?.is_none() {
            return Err(Failure::Ignored("unknown athlete".into()));
        }
        let event = event.clone();
        let nothing_held = conn
            .transaction(async |conn| {
                db::inbox::hold_object(conn, &event).await?;
                if db::activities::find(conn, owner, id).await?.is_some() {
                    return Ok::<_, Failure>(false);
                }
                db::inbox::mark_done_noting(conn, &event, NOTHING_TO_DELETE).await?;
                Ok(true)
            })
            .await?;
        if nothing_held {
            return Ok(());
        }
    }
    // Fetch outside any transaction (no connection held while Strava answers), then
    // write with the event recorded as applied, unless another event of this object
    // was applied while we fetched: our copy may then be older than its, so fetch
    // again. A delete event is fetched too: only Strava's 404 removes the row.
    for _ in 0..MAX_REFETCHES {
        let fetch_started = spend_owner_call(ctx, event).await?;
        let row = match fetch(ctx, owner, id).await? {
            Some(fetched) => {
                let activity = fetched.to_activity(ActivitySource::Api);
                if activity.athlete_id != owner {
                    return Err(Failure::Ignored(
                        "activity belongs to another athlete".into(),
                    ));
                }
                // A DetailedActivity carries its best efforts; they replace the stored ones.
                let efforts: Option<Vec<BestEffortRow>> =
                    fetched.best_efforts.as_ref().map(|all| {
                        all.iter()
                            .map(|e| BestEffortRow::new(owner, id, e, ActivitySource::Api))
                            .collect()
                    });
                Some((
                    ActivityRow::new(&activity, Some(fetched.raw), Utc::now()).detailed(),
                    efforts,
                ))
            }
            // Deleted, or no longer visible to us (made private without
            // activity:read_all): either way it must not stay here.
            None => None,
        };
        let mut conn = ctx.pool.get().await.map_err(pool_error)?;
        let event = event.clone();
        let written = conn
            .transaction(async |conn| {
                let Applied::Recorded { ours } =
                    db::inbox::apply(conn, &event, fetch_started).await?
                else {
                    return Ok(false);
                };
                match &row {
                    Some((row, efforts)) => {
                        db::activities::upsert_many(conn, std::slice::from_ref(row)).await?;
                        if let Some(efforts) = efforts {
                            db::best_efforts::replace_for(conn, owner, &[id.get()], efforts)
                                .await?;
                        }
                    }
                    None => {
                        db::activities::delete(conn, owner, id).await?;
                    }
                }
                if !ours {
                    lease_lapsed(&event);
                }
                Ok::<_, Failure>(true)
            })
            .await?;
        if written {
            return Ok(());
        }
    }
    Err(Failure::Retry(
        "the activity kept changing while it was fetched".into(),
    ))
}

/// Counts one Strava call against the event owner's cap for this quarter hour and
/// returns the database clock the fetch starts from, or says when the event may try
/// again (or that nobody is there to fetch for).
async fn spend_owner_call(ctx: &Context, event: &Event) -> Result<DateTime<Utc>, Failure> {
    let now = Utc::now();
    let mut conn = ctx.pool.get().await.map_err(pool_error)?;
    let window = db::ratelimit::quarter_start(now);
    let day = now
        .duration_trunc(chrono::TimeDelta::days(1))
        .unwrap_or(now);
    let settings = &ctx.settings;
    let call = db::inbox::take_owner_call(
        &mut conn,
        event.owner_id,
        window,
        settings.owner_calls_per_quarter,
        day,
        settings.owner_calls_per_day,
    )
    .await?;
    match call {
        OwnerCall::Counted { at } => Ok(at),
        OwnerCall::UnknownAthlete => Err(Failure::Ignored("unknown athlete".into())),
        OwnerCall::QuarterSpent => Err(Failure::OwnerCapped(db::ratelimit::next_quarter(now))),
        OwnerCall::DaySpent => Err(Failure::OwnerCapped(day + chrono::TimeDelta::days(1))),
    }
}

/// The activity as Strava has it now (`None`: gone or hidden), with a token refreshed
/// once on a 401. The token is had from its own connection, never one we hold: its
/// refresh locks the token row.
async fn fetch(
    ctx: &Context,
    owner: AthleteId,
    id: ActivityId,
) -> Result<Option<crate::strava::StravaActivity>, Failure> {
    let strava = &ctx.strava;
    let fetched = crate::tokens::with_token(&ctx.pool, strava, &ctx.cipher, owner, |token| {
        let strava = strava.clone();
        async move { strava.get_activity(&token, id).await }
    })
    .await;
    match fetched {
        Ok(current) => Ok(current),
        Err(TokenError::Reconnect | TokenError::NotConnected(_)) => Err(Failure::Ignored(
            "athlete must reconnect; the next backfill catches up".into(),
        )),
        Err(TokenError::Strava(e)) => Err(e.into()),
        Err(e) => Err(Failure::Retry(format!("token: {e}"))),
    }
}

/// Marks the event done; when the lease had lapsed and another worker took the event,
/// that worker records the outcome instead (the work itself is idempotent).
async fn done(conn: &mut AsyncPgConnection, event: &Event) -> Result<(), Failure> {
    if !db::inbox::mark_done(conn, event).await? {
        lease_lapsed(event);
    }
    Ok(())
}

fn lease_lapsed(event: &Event) {
    tracing::info!(
        event = event.id,
        "webhook event lease lapsed; another worker owns it"
    );
}

fn pool_error(e: db::pool::PoolError) -> Failure {
    Failure::Retry(format!("database pool: {e}"))
}
