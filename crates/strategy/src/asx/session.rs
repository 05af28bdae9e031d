//! ASX session times. The exchange runs on Australia/Sydney time (AEST UTC+10, AEDT UTC+11 in
//! summer); every function here takes and returns UTC instants at its edges and does the
//! conversion, so a 10:00 open is 23:00 UTC the day before in December and 00:00 UTC in June.
//!
//! The day (Sydney): pre-open 07:00–10:00 · one opening auction just before 10:00 · continuous
//! trading 10:00 to the close ([`Calendar::close_time`]: 16:00, 14:10 on early-close days) ·
//! closing auction about 10 minutes after the close · post-close until 21.5 minutes after the
//! close (16:21:30), trading only at the auction price.
//!
//! Since 23 June 2025 ([`CONTINUOUS_OPEN_SINCE`]) every equity opens at 10:00. Before that
//! the open was staggered by first letter until about 10:09; these functions do not model
//! that older open.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::Calendar;

/// The exchange's timezone.
pub const SYDNEY: Tz = chrono_tz::Australia::Sydney;

/// Start of the pre-open session (07:00 Sydney).
pub const PRE_OPEN: NaiveTime = match NaiveTime::from_hms_opt(7, 0, 0) {
    Some(t) => t,
    None => panic!("07:00 is a valid time"),
};

/// Start of continuous trading (10:00 Sydney) for every equity.
pub const CONTINUOUS_OPEN: NaiveTime = match NaiveTime::from_hms_opt(10, 0, 0) {
    Some(t) => t,
    None => panic!("10:00 is a valid time"),
};

/// The day from which every ASX equity opens together at 10:00 after one opening auction.
pub const CONTINUOUS_OPEN_SINCE: NaiveDate = match NaiveDate::from_ymd_opt(2025, 6, 23) {
    Some(d) => d,
    None => panic!("2025-06-23 is a valid date"),
};

/// The closing auction runs about this long after the close of continuous trading (16:10).
pub const CLOSING_AUCTION_AFTER_CLOSE: TimeDelta = TimeDelta::minutes(10);

/// The post-close session ends this long after the close of continuous trading (16:21:30).
pub const POST_CLOSE_AFTER_CLOSE: TimeDelta = TimeDelta::seconds(21 * 60 + 30);

/// Where the market stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionPhase {
    /// Not a trading day, or before the pre-open, or after the post-close.
    Closed,
    /// 07:00 to 10:00: orders queue for the opening auction; nothing trades.
    PreOpen,
    /// 10:00 to the close: continuous trading.
    Continuous,
    /// From the close to the closing auction (~16:10): orders queue; nothing trades.
    ClosingAuction,
    /// After the closing auction to 16:21:30: trades only at the auction price.
    PostClose,
}

/// `now` as a Sydney date and time.
pub fn sydney(now: DateTime<Utc>) -> DateTime<Tz> {
    now.with_timezone(&SYDNEY)
}

/// The Sydney calendar date at `now`.
pub fn sydney_date(now: DateTime<Utc>) -> NaiveDate {
    sydney(now).date_naive()
}

/// The Sydney wall-clock time at `now`.
pub fn sydney_time(now: DateTime<Utc>) -> NaiveTime {
    sydney(now).time()
}

/// The UTC instant of a Sydney wall-clock time. `None` for a time skipped by the start of
/// daylight saving (02:00–03:00 on the first Sunday of October); the earlier instant for a
/// time repeated at its end. Trading hours are never affected.
pub fn sydney_to_utc(date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    date.and_time(time)
        .and_local_timezone(SYDNEY)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

impl Calendar {
    /// The start of continuous trading (10:00 Sydney) on `date`, in UTC; `None` when the ASX
    /// does not trade that day.
    pub fn market_open_utc(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        if self.is_trading_day(date) {
            sydney_to_utc(date, CONTINUOUS_OPEN)
        } else {
            None
        }
    }

    /// The end of continuous trading on `date` (16:00 or 14:10 Sydney), in UTC; `None` when the
    /// ASX does not trade that day.
    pub fn market_close_utc(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        sydney_to_utc(date, self.close_time(date)?)
    }

    /// The phase of the ASX session at `now`.
    pub fn session_phase(&self, now: DateTime<Utc>) -> SessionPhase {
        let date = sydney_date(now);
        let time = sydney_time(now);
        let Some(close) = self.close_time(date) else {
            return SessionPhase::Closed;
        };
        let auction = close + CLOSING_AUCTION_AFTER_CLOSE;
        let post_close_end = close + POST_CLOSE_AFTER_CLOSE;
        if time < PRE_OPEN {
            SessionPhase::Closed
        } else if time < CONTINUOUS_OPEN {
            SessionPhase::PreOpen
        } else if time < close {
            SessionPhase::Continuous
        } else if time < auction {
            SessionPhase::ClosingAuction
        } else if time < post_close_end {
            SessionPhase::PostClose
        } else {
            SessionPhase::Closed
        }
    }

    /// Whether continuous trading is on at `now` (a trading day, 10:00 ≤ Sydney time < close).
    pub fn is_continuous_trading(&self, now: DateTime<Utc>) -> bool {
        self.session_phase(now) == SessionPhase::Continuous
    }
}
