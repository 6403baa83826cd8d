//! Strava's rate-limit budget, kept in PostgreSQL so every gateway replica spends one
//! budget (Strava counts per application, not per process).
//!
//! Strava has two budgets, overall and reads, each with a 15-minute window that resets
//! on the quarter hour and a daily window that resets at midnight UTC. A row per window
//! holds the usage we know of: before sending, [`reserve`] counts the request (or says
//! how long to wait); after the response, [`observe`] raises the usage to what Strava's
//! headers report and records Strava's limits. Counting before sending keeps replicas
//! from overshooting together; taking the larger of our count and Strava's keeps the
//! figure honest when requests fail or other clients share the application.

use crate::QueryResult;
use crate::schema::strava_rate_windows;
use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

const QUARTER: &str = "quarter";
const DAY: &str = "day";

/// Figures for the four budgets: used for limits and for usage alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    /// All requests per 15 minutes.
    pub overall_15min: i32,
    /// All requests per UTC day.
    pub overall_daily: i32,
    /// Read requests per 15 minutes.
    pub read_15min: i32,
    /// Read requests per UTC day.
    pub read_daily: i32,
}

impl Budget {
    /// Strava's published defaults for a new application: 200/2,000 overall and
    /// 100/1,000 reads.
    pub const STRAVA_DEFAULT: Budget = Budget {
        overall_15min: 200,
        overall_daily: 2000,
        read_15min: 100,
        read_daily: 1000,
    };
}

/// What one response's rate-limit headers said; `[15-minute, daily]` pairs, each
/// absent when the header was missing or unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderReading {
    pub overall_usage: Option<[i32; 2]>,
    pub overall_limit: Option<[i32; 2]>,
    pub read_usage: Option<[i32; 2]>,
    pub read_limit: Option<[i32; 2]>,
}

impl HeaderReading {
    /// Whether any header was present.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The answer of [`reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The request is counted; send it.
    Granted,
    /// A budget is spent: do not send before `until` (the next quarter hour, or the
    /// next UTC midnight when a daily budget is spent).
    Exhausted { until: DateTime<Utc> },
}

/// Usage and effective limits of the windows containing one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub usage: Budget,
    pub limits: Budget,
}

/// Start of the quarter hour containing `t`.
pub fn quarter_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::minutes(15)).unwrap_or(t)
}

/// Start of the UTC day containing `t`.
fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::days(1)).unwrap_or(t)
}

/// When the 15-minute windows next reset.
pub fn next_quarter(t: DateTime<Utc>) -> DateTime<Utc> {
    quarter_start(t) + Duration::minutes(15)
}

/// When the daily windows next reset (midnight UTC).
pub fn next_midnight(t: DateTime<Utc>) -> DateTime<Utc> {
    day_start(t) + Duration::days(1)
}

#[derive(Debug, Clone, Queryable)]
struct WindowRow {
    window_kind: String,
    overall_usage: i32,
    overall_limit: Option<i32>,
    read_usage: i32,
    read_limit: Option<i32>,
}

/// The latest limits Strava told us for each window kind, for windows whose own row
/// has not seen a response yet.
async fn known_limits(conn: &mut AsyncPgConnection, fallback: Budget) -> QueryResult<Budget> {
    use strava_rate_windows::dsl as w;
    let rows: Vec<(String, Option<i32>, Option<i32>)> = w::strava_rate_windows
        .filter(
            w::overall_limit
                .is_not_null()
                .or(w::read_limit.is_not_null()),
        )
        .order((w::window_kind, w::window_start.desc()))
        .distinct_on(w::window_kind)
        .select((w::window_kind, w::overall_limit, w::read_limit))
        .load(conn)
        .await?;
    let mut limits = fallback;
    for (kind, overall, read) in rows {
        if kind == QUARTER {
            limits.overall_15min = overall.unwrap_or(limits.overall_15min);
            limits.read_15min = read.unwrap_or(limits.read_15min);
        } else {
            limits.overall_daily = overall.unwrap_or(limits.overall_daily);
            limits.read_daily = read.unwrap_or(limits.read_daily);
        }
    }
    Ok(limits)
}

/// Makes sure both window rows for `now` exist; when a new quarter begins, old rows
/// are swept (two days of history is plenty to carry the limits forward).
async fn ensure_windows(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<()> {
    use strava_rate_windows::dsl as w;
    let created = diesel::insert_into(w::strava_rate_windows)
        .values(&vec![
            (w::window_kind.eq(DAY), w::window_start.eq(day_start(now))),
            (
                w::window_kind.eq(QUARTER),
                w::window_start.eq(quarter_start(now)),
            ),
        ])
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if created > 0 {
        diesel::delete(w::strava_rate_windows.filter(w::window_start.lt(now - Duration::days(2))))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Reads (with `lock`, locks) both window rows for `now` and works out the limits in
/// force for each.
async fn windows(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    fallback: Budget,
    lock: bool,
) -> QueryResult<Snapshot> {
    use strava_rate_windows::dsl as w;
    let query = w::strava_rate_windows
        .filter(
            (w::window_kind
                .eq(DAY)
                .and(w::window_start.eq(day_start(now))))
            .or(w::window_kind
                .eq(QUARTER)
                .and(w::window_start.eq(quarter_start(now)))),
        )
        // A fixed lock order, so concurrent reservations cannot deadlock.
        .order(w::window_kind)
        .select((
            w::window_kind,
            w::overall_usage,
            w::overall_limit,
            w::read_usage,
            w::read_limit,
        ));
    let rows: Vec<WindowRow> = if lock {
        query.for_update().load(conn).await?
    } else {
        query.load(conn).await?
    };
    let mut limits = known_limits(conn, fallback).await?;
    let mut usage = Budget::default();
    for row in rows {
        if row.window_kind == QUARTER {
            usage.overall_15min = row.overall_usage;
            usage.read_15min = row.read_usage;
            limits.overall_15min = row.overall_limit.unwrap_or(limits.overall_15min);
            limits.read_15min = row.read_limit.unwrap_or(limits.read_15min);
        } else {
            usage.overall_daily = row.overall_usage;
            usage.read_daily = row.read_usage;
            limits.overall_daily = row.overall_limit.unwrap_or(limits.overall_daily);
            limits.read_daily = row.read_limit.unwrap_or(limits.read_daily);
        }
    }
    Ok(Snapshot { usage, limits })
}

/// Counts one request about to be sent at `now`, unless that would bring a budget
/// within `margin(limit)` of its limit; then says until when to hold off. Reads spend
/// both the read and the overall budgets. `fallback` stands in for limits Strava has
/// not told us yet.
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    is_read: bool,
    fallback: Budget,
    margin: fn(i32) -> i32,
) -> QueryResult<Reservation> {
    conn.transaction(async |conn| {
        ensure_windows(conn, now).await?;
        let Snapshot { usage, limits } = windows(conn, now, fallback, true).await?;
        let spent = |used: i32, limit: i32| used + 1 > limit - margin(limit);
        let daily = spent(usage.overall_daily, limits.overall_daily)
            || (is_read && spent(usage.read_daily, limits.read_daily));
        let quarter = spent(usage.overall_15min, limits.overall_15min)
            || (is_read && spent(usage.read_15min, limits.read_15min));
        if daily {
            return Ok(Reservation::Exhausted {
                until: next_midnight(now),
            });
        }
        if quarter {
            return Ok(Reservation::Exhausted {
                until: next_quarter(now),
            });
        }
        let read = i32::from(is_read);
        use strava_rate_windows::dsl as w;
        diesel::update(
            w::strava_rate_windows.filter(
                (w::window_kind
                    .eq(DAY)
                    .and(w::window_start.eq(day_start(now))))
                .or(w::window_kind
                    .eq(QUARTER)
                    .and(w::window_start.eq(quarter_start(now)))),
            ),
        )
        .set((
            w::overall_usage.eq(w::overall_usage + 1),
            w::read_usage.eq(w::read_usage + read),
            w::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
        Ok(Reservation::Granted)
    })
    .await
}

/// Records what a response to a request sent at `sent_at` said: usage only ever rises
/// within a window (responses arrive out of order), limits are replaced.
pub async fn observe(
    conn: &mut AsyncPgConnection,
    sent_at: DateTime<Utc>,
    reading: &HeaderReading,
) -> QueryResult<()> {
    if reading.is_empty() {
        return Ok(());
    }
    ensure_windows(conn, sent_at).await?;
    let pick = |pair: Option<[i32; 2]>, i: usize| pair.map(|p| p[i]);
    for (i, kind, start) in [
        (0, QUARTER, quarter_start(sent_at)),
        (1, DAY, day_start(sent_at)),
    ] {
        diesel::sql_query(
            "UPDATE strava_rate_windows SET \
                 overall_usage = GREATEST(overall_usage, COALESCE($3, 0)), \
                 overall_limit = COALESCE($4, overall_limit), \
                 read_usage = GREATEST(read_usage, COALESCE($5, 0)), \
                 read_limit = COALESCE($6, read_limit), \
                 updated_at = now() \
             WHERE window_kind = $1 AND window_start = $2",
        )
        .bind::<Text, _>(kind)
        .bind::<Timestamptz, _>(start)
        .bind::<Nullable<Integer>, _>(pick(reading.overall_usage, i))
        .bind::<Nullable<Integer>, _>(pick(reading.overall_limit, i))
        .bind::<Nullable<Integer>, _>(pick(reading.read_usage, i))
        .bind::<Nullable<Integer>, _>(pick(reading.read_limit, i))
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// After a 429 that carried no usable headers: treat the current quarter's overall
/// budget as spent, so every replica holds off until it resets.
pub async fn exhaust_quarter(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    fallback: Budget,
) -> QueryResult<()> {
    ensure_windows(conn, now).await?;
    let limits = windows(conn, now, fallback, false).await?.limits;
    diesel::sql_query(
        "UPDATE strava_rate_windows SET overall_usage = GREATEST(overall_usage, $3), \
             updated_at = now() WHERE window_kind = $1 AND window_start = $2",
    )
    .bind::<Text, _>(QUARTER)
    .bind::<Timestamptz, _>(quarter_start(now))
    .bind::<Integer, _>(limits.overall_15min)
    .execute(conn)
    .await
    .map(drop)
}

/// Usage and limits of the windows containing `now` (zero usage for windows not seen).
pub async fn snapshot(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    fallback: Budget,
) -> QueryResult<Snapshot> {
    windows(conn, now, fallback, false).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn windows_align_to_quarter_hours_and_utc_midnight() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 23, 59, 30).unwrap();
        assert_eq!(
            quarter_start(t),
            Utc.with_ymd_and_hms(2026, 3, 1, 23, 45, 0).unwrap()
        );
        assert_eq!(
            next_quarter(t),
            Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
        );
        assert_eq!(
            next_midnight(t),
            Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()
        );
        let on = Utc.with_ymd_and_hms(2026, 3, 1, 10, 15, 0).unwrap();
        assert_eq!(quarter_start(on), on);
        assert_eq!(next_quarter(on), on + Duration::minutes(15));
    }
}
