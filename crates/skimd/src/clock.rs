//! The one seam through which skimd reads the time.
//!
//! - [`SystemClock`]: the real time.
//! - [`FixedClock`]: a time that moves only when told (`--now`, the demo's steps, tests).
//! - [`OffsetClock`]: starts at `clock.start` and runs at real speed
//!   (now = start + (real now − process start)): the daemon under `clock.start` and replays.

use std::fmt;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;

/// Where `now` comes from.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that reads what it was last set to.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        match self.0.lock() {
            Ok(mut g) => *g = at,
            Err(poisoned) => *poisoned.into_inner() = at,
        }
    }

    pub fn advance(&self, by: TimeDelta) {
        let now = self.now();
        self.set(now + by);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(g) => *g,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }
}

/// `start` plus the real time elapsed since this clock was made.
#[derive(Debug)]
pub struct OffsetClock {
    start: DateTime<Utc>,
    began: Instant,
}

impl OffsetClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            start,
            began: Instant::now(),
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = TimeDelta::from_std(self.began.elapsed()).unwrap_or(TimeDelta::zero());
        self.start + elapsed
    }
}

/// A Sydney (exchange) date and time → UTC. `None` only for a time skipped by a DST change.
pub fn exchange_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    date.and_time(time)
        .and_local_timezone(tz)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let t = DateTime::parse_from_rfc3339("2025-07-01T10:00:00+10:00")
            .unwrap()
            .with_timezone(&Utc);
        let c = FixedClock::new(t);
        assert_eq!(c.now(), t);
        c.advance(TimeDelta::seconds(30));
        assert_eq!(c.now(), t + TimeDelta::seconds(30));
    }

    #[test]
    fn offset_clock_starts_at_start() {
        let t = DateTime::parse_from_rfc3339("2025-07-01T10:00:00+10:00")
            .unwrap()
            .with_timezone(&Utc);
        let c = OffsetClock::new(t);
        let d = c.now() - t;
        assert!(d >= TimeDelta::zero() && d < TimeDelta::seconds(5));
    }

    #[test]
    fn sydney_to_utc() {
        let d = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        let t = NaiveTime::from_hms_opt(10, 0, 0).unwrap();
        let utc = exchange_to_utc(chrono_tz::Australia::Sydney, d, t).unwrap();
        assert_eq!(utc.to_rfc3339(), "2025-07-01T00:00:00+00:00");
    }
}
