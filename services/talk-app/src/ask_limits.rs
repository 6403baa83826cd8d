//! The one gate every way of asking goes through (`POST /api/ask`, the chat form, its
//! example and clarify buttons): per athlete, at most `QUESTIONS_PER_MINUTE`
//! questions a minute and `QUESTIONS_IN_FLIGHT` being answered at once.
//!
//! Both counts live in Postgres (`db::ask_limits`), so every replica obeys them and a
//! restart forgets nothing. The gate takes a pooled connection only for its one
//! statement and gives it back before the question is answered; the slot it takes is
//! freed when the answer is stored (a client that leaves early does not cancel the
//! handler, so this still happens), in the background if the permit is dropped
//! unreleased (a panic), or, if the process dies, as soon as its database sessions end
//! (the lease bounds it otherwise).

use crate::error::AppError;
use chrono::{DateTime, DurationRound as _, Utc};
use db::ask_limits::{self, Admission as Decided, SlotLease};
use domain::AthleteId;
use std::time::Duration;

/// The rate limit's window.
const WINDOW: chrono::Duration = chrono::Duration::minutes(1);
/// Seconds a busy athlete is told to wait: answers usually take well under this.
pub const BUSY_RETRY_SECS: u64 = 5;
/// How much longer than the slowest answer (the model's timeout) a slot's lease lasts
/// before another question may take it over: room for the queries around the model
/// call and for waiting on the pool.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

/// The configured limits.
#[derive(Debug, Clone, Copy)]
pub struct AskLimits {
    /// Questions per athlete per minute.
    pub per_minute: i32,
    /// Questions per athlete being answered at once.
    pub in_flight: i16,
    /// How long a slot is held at most, should its release never come.
    pub lease: Duration,
}

impl AskLimits {
    /// The limits from the settings; the lease outlasts the model's timeout.
    pub fn new(settings: &crate::Settings) -> Self {
        let model = settings.llm.as_ref().map_or(Duration::ZERO, |l| l.timeout);
        Self {
            per_minute: settings.web.questions_per_minute,
            in_flight: settings.web.questions_in_flight,
            lease: model + crate::ask::QUERY_TIMEOUT * 2 + LEASE_MARGIN,
        }
    }
}

/// What the gate decided.
pub enum Admission {
    /// Ask; release the permit when the answer is stored.
    Granted(Permit),
    /// The minute's budget is spent; it renews in `retry_after` seconds.
    TooMany { retry_after: u64 },
    /// `in_flight` questions are being answered already.
    Busy { retry_after: u64 },
}

/// How long admission may take, waiting for a connection included, before the
/// question is answered 503 with Retry-After: a locked or frozen table must not hold
/// askers (and their connections) for as long as it lasts.
const ADMIT_TIMEOUT: Duration = Duration::from_millis(1500);

/// How long any statement of talk-app's waits for a lock (its pool's `lock_timeout`),
/// so the backend behind an abandoned admission gives up soon after the asker did.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// Counts one question against `athlete`'s budget and takes one of their slots.
pub async fn admit(
    pool: &db::Pool,
    limits: &AskLimits,
    athlete: AthleteId,
    now: DateTime<Utc>,
) -> Result<Admission, AppError> {
    tokio::time::timeout(ADMIT_TIMEOUT, admit_now(pool, limits, athlete, now))
        .await
        .unwrap_or(Err(AppError::Unavailable))
}

async fn admit_now(
    pool: &db::Pool,
    limits: &AskLimits,
    athlete: AthleteId,
    now: DateTime<Utc>,
) -> Result<Admission, AppError> {
    let mut conn = pool.get().await?;
    let counted = ask_limits::Limits {
        window: WINDOW,
        per_window: limits.per_minute,
        in_flight: limits.in_flight,
        lease: limits.lease,
    };
    Ok(
        match ask_limits::admit(&mut conn, athlete, now, &counted).await? {
            Decided::Granted(lease) => Admission::Granted(Permit {
                pool: pool.clone(),
                lease: Some(lease),
            }),
            Decided::TooMany => {
                let reset = now.duration_trunc(WINDOW).unwrap_or(now) + WINDOW;
                let wait = (reset - now).num_seconds().max(1);
                Admission::TooMany {
                    retry_after: wait.unsigned_abs(),
                }
            }
            Decided::Busy => Admission::Busy {
                retry_after: BUSY_RETRY_SECS,
            },
        },
    )
}

/// A held slot. [`Permit::release`] frees it; dropping it unreleased (a panic while
/// answering) frees it in the background.
pub struct Permit {
    pool: db::Pool,
    lease: Option<SlotLease>,
}

impl Permit {
    /// Frees the slot now; a failure only leaves it to lapse with its lease.
    pub async fn release(mut self) {
        if let Some(lease) = self.lease.take() {
            release(&self.pool, lease).await;
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            let pool = self.pool.clone();
            // Handlers run on actix's runtime (a local task set); outside a runtime the
            // lease simply lapses.
            if tokio::runtime::Handle::try_current().is_ok() {
                actix_web::rt::spawn(async move { release(&pool, lease).await });
            }
        }
    }
}

async fn release(pool: &db::Pool, lease: SlotLease) {
    let outcome = match pool.get().await {
        Ok(mut conn) => ask_limits::release_slot(&mut conn, &lease)
            .await
            .map(drop)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = outcome {
        tracing::warn!(athlete = lease.athlete.get(), error = %e, "could not free a question slot; it lapses with its lease");
    }
}
