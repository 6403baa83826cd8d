//! The rate-limit governor: one Strava budget for the whole application, kept in
//! PostgreSQL (see `db::ratelimit`) so every replica and worker obeys it.
//!
//! Before an API request it reserves a slot; when the 15-minute or daily budget (reads
//! or overall) is spent it waits for the reset if that is close, and otherwise answers
//! `RateLimited { until }` so a job can postpone itself instead of failing. After the
//! response it records Strava's usage headers.

use super::StravaError;
use chrono::{DateTime, Utc};
use db::ratelimit::{self, Budget, HeaderReading, Reservation};
use reqwest::header::HeaderMap;
use std::sync::Arc;
use std::time::Duration;

/// Where "now" comes from; tests fix it so windows do not roll over mid-test.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Requests held back below each limit: 2% of it, at least one. Strava's counters and
/// ours can differ by a request or two in flight, and other tools may share the
/// application (the subscription CLI, a developer's curl), so the budget is never run
/// to the last request.
pub fn safety_margin(limit: i32) -> i32 {
    (limit / 50).max(1)
}

/// The shared budget, as one client sees it.
#[derive(Clone)]
pub struct Governor {
    /// `None`: no shared budget to keep (a one-off CLI call without a database).
    pool: Option<db::Pool>,
    enabled: bool,
    max_wait: Duration,
    fallback: Budget,
    clock: Clock,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor")
            .field("enabled", &self.enabled)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl Governor {
    /// A governor on `pool`; `enabled = false` lets every request through (benchmarks).
    pub fn new(pool: db::Pool, enabled: bool, max_wait: Duration) -> Self {
        Self {
            pool: Some(pool),
            enabled,
            max_wait,
            fallback: Budget::STRAVA_DEFAULT,
            clock: Arc::new(Utc::now),
        }
    }

    /// A governor that keeps no budget: for the few calls of a CLI command run without
    /// a database. Strava's 429s are still honoured.
    pub fn unbudgeted() -> Self {
        Self {
            pool: None,
            enabled: false,
            max_wait: Duration::ZERO,
            fallback: Budget::STRAVA_DEFAULT,
            clock: Arc::new(Utc::now),
        }
    }

    /// Uses another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Assumes these limits until Strava's headers say otherwise.
    pub fn with_fallback(mut self, limits: Budget) -> Self {
        self.fallback = limits;
        self
    }

    /// Whether limits are obeyed at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The current time by this governor's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Reserves one request; returns the instant it counts against. Waits for a reset
    /// that is at most `max_wait` away, else answers `RateLimited`.
    pub async fn admit(&self, is_read: bool) -> Result<DateTime<Utc>, StravaError> {
        // Two rounds: one wait for a close reset, then a fresh look at the budget.
        for _ in 0..2 {
            let now = self.now();
            let Some(pool) = self.pool.as_ref().filter(|_| self.enabled) else {
                return Ok(now);
            };
            let reservation = match pool.get().await {
                Ok(mut conn) => {
                    ratelimit::reserve(&mut conn, now, is_read, self.fallback, safety_margin).await
                }
                Err(e) => {
                    // Failing open is safe: Strava still answers 429, which we obey.
                    tracing::warn!(error = %e, "rate-limit budget unavailable; sending anyway");
                    return Ok(now);
                }
            };
            match reservation {
                Ok(Reservation::Granted) => return Ok(now),
                Ok(Reservation::Exhausted { until }) => {
                    let wait = (until - now).to_std().unwrap_or_default();
                    if wait > self.max_wait {
                        return Err(StravaError::RateLimited { until });
                    }
                    tracing::info!(
                        wait_ms = wait.as_millis() as u64,
                        "waiting for Strava's rate-limit window"
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rate-limit budget unavailable; sending anyway");
                    return Ok(now);
                }
            }
        }
        let now = self.now();
        Err(StravaError::RateLimited {
            until: ratelimit::next_quarter(now),
        })
    }

    /// Records a response's rate-limit headers. On a 429 returns when to try again:
    /// the next UTC midnight when a daily budget is spent, else the next quarter hour.
    pub async fn observe(
        &self,
        sent_at: DateTime<Utc>,
        headers: &HeaderMap,
        too_many: bool,
    ) -> Option<DateTime<Utc>> {
        let reading = read_headers(headers);
        if let Some(pool) = self.pool.as_ref().filter(|_| self.enabled) {
            match pool.get().await {
                Ok(mut conn) => {
                    let stored = if too_many && reading.overall_usage.is_none() {
                        ratelimit::exhaust_quarter(&mut conn, sent_at, self.fallback).await
                    } else {
                        ratelimit::observe(&mut conn, sent_at, &reading).await
                    };
                    if let Err(e) = stored {
                        tracing::warn!(error = %e, "could not record Strava's rate-limit usage");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not record Strava's rate-limit usage"),
            }
        }
        too_many.then(|| {
            let now = self.now().max(sent_at);
            if daily_spent(&reading) {
                ratelimit::next_midnight(now)
            } else {
                ratelimit::next_quarter(now)
            }
        })
    }

    /// Usage and limits of the current windows, as stored.
    pub async fn snapshot(&self) -> Result<ratelimit::Snapshot, StravaError> {
        let pool = self.pool.as_ref().ok_or_else(|| {
            StravaError::Transport("no database for the rate-limit budget".into())
        })?;
        let mut conn = pool
            .get()
            .await
            .map_err(|e| StravaError::Transport(format!("database: {e}")))?;
        ratelimit::snapshot(&mut conn, self.now(), self.fallback)
            .await
            .map_err(|e| StravaError::Transport(format!("database: {e}")))
    }
}

fn daily_spent(r: &HeaderReading) -> bool {
    let over = |usage: Option<[i32; 2]>, limit: Option<[i32; 2]>| match (usage, limit) {
        (Some(u), Some(l)) => u[1] >= l[1],
        _ => false,
    };
    over(r.overall_usage, r.overall_limit) || over(r.read_usage, r.read_limit)
}

/// Parses Strava's `X-RateLimit-*` and `X-ReadRateLimit-*` headers ("15min,daily").
pub fn read_headers(headers: &HeaderMap) -> HeaderReading {
    let pair = |name: &str| -> Option<[i32; 2]> {
        let text = headers.get(name)?.to_str().ok()?;
        let (a, b) = text.split_once(',')?;
        Some([a.trim().parse().ok()?, b.trim().parse().ok()?])
    };
    HeaderReading {
        overall_usage: pair("x-ratelimit-usage"),
        overall_limit: pair("x-ratelimit-limit"),
        read_usage: pair("x-readratelimit-usage"),
        read_limit: pair("x-readratelimit-limit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reads_strava_headers_and_ignores_garbage() {
        let mut h = HeaderMap::new();
        h.insert("X-RateLimit-Limit", HeaderValue::from_static("200,2000"));
        h.insert("X-RateLimit-Usage", HeaderValue::from_static("12, 345"));
        h.insert("X-ReadRateLimit-Usage", HeaderValue::from_static("lots"));
        let r = read_headers(&h);
        assert_eq!(r.overall_limit, Some([200, 2000]));
        assert_eq!(r.overall_usage, Some([12, 345]));
        assert_eq!(r.read_usage, None);
        assert_eq!(r.read_limit, None);
    }

    #[test]
    fn margins_are_small_but_never_zero() {
        assert_eq!(safety_margin(100), 2);
        assert_eq!(safety_margin(200), 4);
        assert_eq!(safety_margin(2000), 40);
        assert_eq!(safety_margin(5), 1);
    }
}
