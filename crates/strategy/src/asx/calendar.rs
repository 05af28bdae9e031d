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
//! | Christmas Day, Boxing Day | 25, 26 December | 25 on Friday → 25 and Monday 28 · on Saturday → Monday 27 and Tuesday 28 · on Sunday → Monday 26 and Tuesday 27 |
//!
//! Early closes (continuous trading ends at [`EARLY_CLOSE`], 14:10) on the last trading day
//! before Christmas Day and the last trading day of the year — 24 and 31 December whenever
//! those are trading days — plus `extra_early_closes`. Anything else the ASX announces (a special
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

/// The ASX holidays of `year` by rule, in date order. Only weekdays are listed: a holiday that
/// falls on a weekend without a substitute (Anzac Day on a Saturday or Sunday) is not.
pub fn holidays(year: i32) -> Vec<Holiday> {
    let Some(jan1) = NaiveDate::from_ymd_opt(year, 1, 1) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(9);
    let mut push = |date: Option<NaiveDate>, name: &'static str| {
        if let Some(date) = date {
            out.push(Holiday { date, name });
        }
    };
    let ymd = |m: u32, d: u32| NaiveDate::from_ymd_opt(year, m, d);

    // New Year's Day, moved to Monday from a weekend.
    if is_weekend(jan1) {
        push(next_monday(jan1), "New Year's Day (observed)");
    } else {
        push(Some(jan1), "New Year's Day");
    }
    // Australia Day, moved to Monday from a weekend.
    if let Some(d) = ymd(1, 26) {
        if is_weekend(d) {
            push(next_monday(d), "Australia Day (observed)");
        } else {
            push(Some(d), "Australia Day");
        }
    }
    // Easter.
    if let Some(easter) = easter_sunday(year) {
        push(easter.checked_sub_days(Days::new(2)), "Good Friday");
        push(easter.checked_add_days(Days::new(1)), "Easter Monday");
    }
    // Anzac Day: the ASX gives no substitute day when it falls on a weekend.
    if let Some(d) = ymd(4, 25)
        && !is_weekend(d)
    {
        push(Some(d), "Anzac Day");
    }
    // King's Birthday: the second Monday of June.
    push(
        NaiveDate::from_weekday_of_month_opt(year, 6, Weekday::Mon, 2),
        "King's Birthday",
    );
    // Christmas and Boxing Day, each moved to the next free weekday from a weekend.
    if let Some(christmas) = ymd(12, 25) {
        match christmas.weekday() {
            Weekday::Fri => {
                push(Some(christmas), "Christmas Day");
                push(ymd(12, 28), "Boxing Day (observed)");
            }
            Weekday::Sat => {
                push(ymd(12, 27), "Christmas Day (observed)");
                push(ymd(12, 28), "Boxing Day (observed)");
            }
            Weekday::Sun => {
                push(ymd(12, 26), "Boxing Day");
                push(ymd(12, 27), "Christmas Day (observed)");
            }
            _ => {
                push(Some(christmas), "Christmas Day");
                push(ymd(12, 26), "Boxing Day");
            }
        }
    }
    out.sort();
    out
}

/// Whether `date` is an ASX holiday by rule (extra closures from settings not included).
pub fn is_rule_holiday(date: NaiveDate) -> bool {
    holidays(date.year()).iter().any(|h| h.date == date)
}

/// Easter Sunday of `year` (anonymous Gregorian computus); `None` outside chrono's range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The Monday after a Saturday or Sunday (other days are returned unchanged).
fn next_monday(date: NaiveDate) -> Option<NaiveDate> {
    let days = match date.weekday() {
        Weekday::Sat => 2,
        Weekday::Sun => 1,
        _ => return Some(date),
    };
    date.checked_add_days(Days::new(days))
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
        !is_weekend(date) && !self.extra_closures.contains(&date) && !is_rule_holiday(date)
    }

    /// Whether `date` is a trading day that closes early (14:10): the last trading day before
    /// Christmas Day and the last trading day of the year (24 and 31 December when those are
    /// trading days, as in 2025 and 2026; Friday 23 and 30 December in 2022), plus
    /// `extra_early_closes`.
    pub fn is_early_close(&self, date: NaiveDate) -> bool {
        if !self.is_trading_day(date) {
            return false;
        }
        if self.extra_early_closes.contains(&date) {
            return true;
        }
        if date.month() != 12 || date.day() < 18 {
            return false;
        }
        match self.next_trading_day(date) {
            // The next trading day is past Christmas Day, or in the next year.
            Some(next) => {
                (date.day() < 25 && (next.year() > date.year() || next.day() > 25))
                    || next.year() > date.year()
            }
            None => false,
        }
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
