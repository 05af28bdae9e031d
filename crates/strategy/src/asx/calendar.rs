//! The ASX trading calendar, computed by rule for any year, plus closures and early closes
//! named in settings.
//!
//! Holidays on which the ASX is closed (national holidays as the ASX observes them):
//!
//! | holiday | date | when it falls on a weekend |
//! |---|---|---|
//! | New Year's Day | 1 January | the next Monday (2 or 3 January) |
//! | Australia Day | 26 January | the next Monday (27 or 28 January) |
//! | Good Friday | Easter Sunday − 2 (Gregorian computus) | — |
//! | Easter Monday | Easter Sunday + 1 | — |
//! | Anzac Day | 25 April | **no substitute**: the ASX stays open on the Monday (e.g. Saturday 25 April 2026 → Monday 27 April 2026 is a trading day) |
//! | King's Birthday | second Monday of June | — |
//! | Christmas Day | 25 December | Saturday → Monday 27; Sunday → Tuesday 27 (Boxing Day takes Monday 26) |
//! | Boxing Day | 26 December | Saturday → Monday 28; Sunday → Tuesday 28 (Christmas on Saturday) / Monday 26 … see [`holidays`] |
//!
//! Early closes (continuous trading ends at [`EARLY_CLOSE`], 14:10) on 24 and 31 December when
//! they are trading days, plus `extra_early_closes`. Anything else the ASX announces (a special
//! closure, Anzac Day meeting Easter Monday as in 2011, a one-off national day of mourning) goes
//! into `extra_closures` in settings.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};

/// The end of continuous trading on a normal day (16:00 Sydney).
pub const NORMAL_CLOSE: NaiveTime = match NaiveTime::from_hms_opt(16, 0, 0) {
    Some(t) => t,
    None => panic!("16:00 is a valid time"),
};

/// The end of continuous trading on an early-close day (14:10 Sydney).
pub const EARLY_CLOSE: NaiveTime = match NaiveTime::from_hms_opt(14, 10, 0) {
    Some(t) => t,
    None => panic!("14:10 is a valid time"),
};

/// One ASX holiday of a year, with its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Holiday {
    /// The day the ASX is closed (already moved off the weekend where the rule says so).
    pub date: NaiveDate,
    /// What it is ("Australia Day", "Boxing Day (observed)", …).
    pub name: &'static str,
}

/// The ASX holidays of `year` by rule, in date order (weekdays only: a holiday that falls on
/// a weekend without a substitute, like Anzac Day on a Saturday, is not listed).
pub fn holidays(year: i32) -> Vec<Holiday> {
    todo_holidays(year)
}

fn todo_holidays(_year: i32) -> Vec<Holiday> {
    Vec::new()
}

/// The early-close days of `year` by rule: 24 and 31 December when they are trading days by
/// rule.
pub fn rule_early_closes(year: i32) -> Vec<NaiveDate> {
    let _ = year;
    Vec::new()
}

/// The ASX trading calendar: weekdays that are not holidays by rule and not extra closures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    extra_closures: BTreeSet<NaiveDate>,
    extra_early_closes: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// A calendar with the closures and early closes from settings (`asx.extra_closures`,
    /// `asx.extra_early_closes`) on top of the rules.
    pub fn new(extra_closures: Vec<NaiveDate>, extra_early_closes: Vec<NaiveDate>) -> Self {
        Self {
            extra_closures: extra_closures.into_iter().collect(),
            extra_early_closes: extra_early_closes.into_iter().collect(),
        }
    }

    /// Whether the ASX trades on `date`.
    pub fn is_trading_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && !self.extra_closures.contains(&date)
            && !holidays(date.year()).iter().any(|h| h.date == date)
    }

    /// Whether `date` is a trading day that closes early (14:10).
    pub fn is_early_close(&self, date: NaiveDate) -> bool {
        self.is_trading_day(date)
            && (self.extra_early_closes.contains(&date)
                || (date.month() == 12 && (date.day() == 24 || date.day() == 31)))
    }

    /// The end of continuous trading on `date` (Sydney time): 16:00, or 14:10 on an early-close
    /// day; `None` when the ASX does not trade that day.
    pub fn close_time(&self, date: NaiveDate) -> Option<NaiveTime> {
        if !self.is_trading_day(date) {
            None
        } else if self.is_early_close(date) {
            Some(EARLY_CLOSE)
        } else {
            Some(NORMAL_CLOSE)
        }
    }

    /// The first trading day after `date` (`None` only at the end of chrono's date range).
    pub fn next_trading_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut d = date.checked_add_days(Days::new(1))?;
        while !self.is_trading_day(d) {
            d = d.checked_add_days(Days::new(1))?;
        }
        Some(d)
    }

    /// The last trading day before `date` (`None` only at the start of chrono's date range).
    pub fn prev_trading_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        let mut d = date.checked_sub_days(Days::new(1))?;
        while !self.is_trading_day(d) {
            d = d.checked_sub_days(Days::new(1))?;
        }
        Some(d)
    }

    /// The `n`-th trading day after `date` (`date` itself need not be a trading day; `n = 0`
    /// gives `date`). Entry on Monday, `n = 3` → Thursday in a week without holidays.
    pub fn add_trading_days(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut d = date;
        for _ in 0..n {
            d = self.next_trading_day(d)?;
        }
        Some(d)
    }

    /// The number of trading days `d` with `a < d ≤ b` (negative when `b < a`: minus the
    /// number with `b < d ≤ a`). For a trading day `b ≥ a`,
    /// `add_trading_days(a, trading_days_between(a, b)) == b`.
    pub fn trading_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let mut count = 0i64;
        let mut d = lo;
        while d < hi {
            match d.checked_add_days(Days::new(1)) {
                Some(next) => d = next,
                None => break,
            }
            if self.is_trading_day(d) {
                count += 1;
            }
        }
        sign * count
    }
}
