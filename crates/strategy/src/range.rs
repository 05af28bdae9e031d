//! The opening range: the high and low traded from 10:00 to 10:00 + `opening_range_minutes`.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::asx::{CONTINUOUS_OPEN, sydney_date, sydney_to_utc};
use crate::settings::StrategySettings;
use crate::types::{Bar, OpeningRange, Price};

/// When the opening range of `date` (a Sydney date) is complete, in UTC.
pub fn opening_range_end_utc(
    date: NaiveDate,
    settings: &StrategySettings,
) -> Option<DateTime<Utc>> {
    let open = sydney_to_utc(date, CONTINUOUS_OPEN)?;
    Some(open + TimeDelta::minutes(i64::from(settings.opening_range_minutes)))
}

/// The opening range from the day's high and low so far, taken at `now`.
///
/// `None` before the range is complete (Sydney time < 10:00 + `opening_range_minutes`) and when
/// the stock has not traded (no last, high or low) or the data is inconsistent (high < low).
/// Call it when the range completes: later, the day's high and low include trades after the
/// range (use [`opening_range_from_bars`] for an exact range).
pub fn opening_range(
    now: DateTime<Utc>,
    day_high: Option<Price>,
    day_low: Option<Price>,
    last: Option<Price>,
    settings: &StrategySettings,
) -> Option<OpeningRange> {
    let end = opening_range_end_utc(sydney_date(now), settings)?;
    if now < end {
        return None;
    }
    last?;
    OpeningRange::new(day_high?, day_low?).ok()
}

/// The opening range from price bars (e.g. 1-minute bars): the highest high and lowest low of
/// the bars that start in [10:00, 10:00 + `opening_range_minutes`) Sydney on `now`'s date.
/// `None` before the range is complete or when no bar falls in it.
pub fn opening_range_from_bars(
    now: DateTime<Utc>,
    bars: &[Bar],
    settings: &StrategySettings,
) -> Option<OpeningRange> {
    let date = sydney_date(now);
    let start = sydney_to_utc(date, CONTINUOUS_OPEN)?;
    let end = opening_range_end_utc(date, settings)?;
    if now < end {
        return None;
    }
    let mut in_range = bars.iter().filter(|b| b.start >= start && b.start < end);
    let first = in_range.next()?;
    let (high, low) = in_range.fold((first.high, first.low), |(h, l), b| {
        (h.max(b.high), l.min(b.low))
    });
    OpeningRange::new(high, low).ok()
}
