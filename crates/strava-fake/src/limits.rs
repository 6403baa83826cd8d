//! Rate-limit accounting per application, as Strava does it: an overall and a read
//! budget, each with a 15-minute window (reset on the quarter hour) and a daily one
//! (reset at midnight UTC). Windows follow the fake's clock, so tests can jump them.

use crate::config::RateLimits;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Requests counted in the current windows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateUsage {
    /// All requests this quarter hour.
    pub overall_15min: u32,
    /// All requests today (UTC).
    pub overall_daily: u32,
    /// GET requests this quarter hour.
    pub read_15min: u32,
    /// GET requests today (UTC).
    pub read_daily: u32,
}

/// The usage counters and the limits they are checked against.
#[derive(Debug, Clone)]
pub struct RateCounter {
    /// `None`: never refuse and send no rate-limit headers.
    pub limits: Option<RateLimits>,
    quarter: i64,
    day: i64,
    usage: RateUsage,
}

/// What the gate does with one request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// False: answer 429.
    pub allowed: bool,
    /// Headers to add to the response, whatever it is.
    pub headers: Vec<(&'static str, String)>,
}

impl RateCounter {
    /// Counters at zero.
    pub fn new(limits: Option<RateLimits>) -> Self {
        Self {
            limits,
            quarter: i64::MIN,
            day: i64::MIN,
            usage: RateUsage::default(),
        }
    }

    /// Starts new windows when the clock has crossed a quarter hour or midnight.
    fn roll(&mut self, now: DateTime<Utc>) {
        let secs = now.timestamp();
        let (quarter, day) = (secs.div_euclid(900), secs.div_euclid(86_400));
        if day != self.day {
            self.usage = RateUsage::default();
        } else if quarter != self.quarter {
            self.usage.overall_15min = 0;
            self.usage.read_15min = 0;
        }
        self.quarter = quarter;
        self.day = day;
    }

    /// Counts one request. Refused requests are counted too, so usage can pass the
    /// limit, which is what a client sees from Strava when it keeps knocking.
    pub fn count(&mut self, now: DateTime<Utc>, is_read: bool) -> Decision {
        self.roll(now);
        let u = &mut self.usage;
        u.overall_15min = u.overall_15min.saturating_add(1);
        u.overall_daily = u.overall_daily.saturating_add(1);
        if is_read {
            u.read_15min = u.read_15min.saturating_add(1);
            u.read_daily = u.read_daily.saturating_add(1);
        }
        let allowed = match self.limits {
            None => true,
            Some(l) => {
                u.overall_15min <= l.overall_15min
                    && u.overall_daily <= l.overall_daily
                    && (!is_read || (u.read_15min <= l.read_15min && u.read_daily <= l.read_daily))
            }
        };
        Decision {
            allowed,
            headers: self.headers(),
        }
    }

    /// Usage now (after rolling windows the clock has left).
    pub fn usage(&mut self, now: DateTime<Utc>) -> RateUsage {
        self.roll(now);
        self.usage
    }

    /// Zero the counters, as if a new day had begun.
    pub fn reset(&mut self) {
        self.usage = RateUsage::default();
    }

    /// Strava's four headers; none when limits are off.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let Some(l) = self.limits else {
            return Vec::new();
        };
        let u = self.usage;
        vec![
            (
                "X-RateLimit-Limit",
                format!("{},{}", l.overall_15min, l.overall_daily),
            ),
            (
                "X-RateLimit-Usage",
                format!("{},{}", u.overall_15min, u.overall_daily),
            ),
            (
                "X-ReadRateLimit-Limit",
                format!("{},{}", l.read_15min, l.read_daily),
            ),
            (
                "X-ReadRateLimit-Usage",
                format!("{},{}", u.read_15min, u.read_daily),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn windows_reset_on_quarter_hour_and_midnight() {
        let limits = RateLimits {
            overall_15min: 2,
            overall_daily: 3,
            read_15min: 1,
            read_daily: 10,
        };
        let mut c = RateCounter::new(Some(limits));
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 10, 14, 0).unwrap();
        assert!(c.count(t, false).allowed);
        assert!(c.count(t, false).allowed);
        assert!(!c.count(t, false).allowed);
        // 10:15 starts a new quarter, but the day still counts 3 already.
        let t2 = Utc.with_ymd_and_hms(2026, 1, 1, 10, 15, 0).unwrap();
        let d = c.count(t2, false);
        assert!(!d.allowed);
        assert_eq!(d.headers[1].1, "1,4");
        let next_day = Utc.with_ymd_and_hms(2026, 1, 2, 0, 0, 1).unwrap();
        assert!(c.count(next_day, true).allowed);
        assert!(
            !c.count(next_day, true).allowed,
            "read limit is 1 per 15 min"
        );
    }
}
