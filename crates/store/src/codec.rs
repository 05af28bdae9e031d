//! Conversions between Rust values and their TEXT/INTEGER columns.
//!
//! Decimals go to and from their exact string form (`Decimal::to_string` /
//! `Decimal::from_str`), never through `f64`. Timestamps are fixed-width UTC strings so that
//! text order is time order; trading days are `YYYY-MM-DD`.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::error::{Result, StoreError};

/// `2025-06-23T00:00:01.000000000Z`: nanoseconds, always nine digits.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn dec(d: Decimal) -> String {
    d.to_string()
}

pub(crate) fn opt_dec(d: Option<Decimal>) -> Option<String> {
    d.map(dec)
}

fn corrupt(column: &'static str, value: &str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        column,
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

pub(crate) fn parse_dec(column: &'static str, s: &str) -> Result<Decimal> {
    Decimal::from_str(s).map_err(|e| corrupt(column, s, e))
}

pub(crate) fn parse_ts(column: &'static str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(column, s, e))
}

pub(crate) fn parse_day(column: &'static str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| corrupt(column, s, e))
}

/// Typed getters on a row that turn a bad value into [`StoreError::Corrupt`] naming the column.
pub(crate) trait RowExt {
    fn int(&self, col: &'static str) -> Result<i64>;
    fn opt_int(&self, col: &'static str) -> Result<Option<i64>>;
    fn text(&self, col: &'static str) -> Result<String>;
    fn opt_text(&self, col: &'static str) -> Result<Option<String>>;
    fn flag(&self, col: &'static str) -> Result<bool>;
    fn dec(&self, col: &'static str) -> Result<Decimal>;
    fn opt_dec(&self, col: &'static str) -> Result<Option<Decimal>>;
    fn ts(&self, col: &'static str) -> Result<DateTime<Utc>>;
    fn opt_ts(&self, col: &'static str) -> Result<Option<DateTime<Utc>>>;
    fn day(&self, col: &'static str) -> Result<NaiveDate>;
    fn opt_day(&self, col: &'static str) -> Result<Option<NaiveDate>>;
    fn parsed<T>(&self, col: &'static str) -> Result<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display;
    fn opt_parsed<T>(&self, col: &'static str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: std::fmt::Display;
}

impl RowExt for SqliteRow {
    fn int(&self, col: &'static str) -> Result<i64> {
        Ok(self.try_get::<i64, _>(col)?)
    }
    fn opt_int(&self, col: &'static str) -> Result<Option<i64>> {
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
    fn text(&self, col: &'static str) -> Result<String> {
        Ok(self.try_get::<String, _>(col)?)
    }
    fn opt_text(&self, col: &'static str) -> Result<Option<String>> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }
    fn flag(&self, col: &'static str) -> Result<bool> {
        match self.int(col)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(corrupt(col, &other.to_string(), "expected 0 or 1")),
        }
    }
    fn dec(&self, col: &'static str) -> Result<Decimal> {
        parse_dec(col, &self.text(col)?)
    }
    fn opt_dec(&self, col: &'static str) -> Result<Option<Decimal>> {
        self.opt_text(col)?.map(|s| parse_dec(col, &s)).transpose()
    }
    fn ts(&self, col: &'static str) -> Result<DateTime<Utc>> {
        parse_ts(col, &self.text(col)?)
    }
    fn opt_ts(&self, col: &'static str) -> Result<Option<DateTime<Utc>>> {
        self.opt_text(col)?.map(|s| parse_ts(col, &s)).transpose()
    }
    fn day(&self, col: &'static str) -> Result<NaiveDate> {
        parse_day(col, &self.text(col)?)
    }
    fn opt_day(&self, col: &'static str) -> Result<Option<NaiveDate>> {
        self.opt_text(col)?.map(|s| parse_day(col, &s)).transpose()
    }
    fn parsed<T>(&self, col: &'static str) -> Result<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let s = self.text(col)?;
        s.parse::<T>().map_err(|e| corrupt(col, &s, e))
    }
    fn opt_parsed<T>(&self, col: &'static str) -> Result<Option<T>>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match self.opt_text(col)? {
            None => Ok(None),
            Some(s) => s.parse::<T>().map(Some).map_err(|e| corrupt(col, &s, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_are_fixed_width_and_round_trip() {
        let a = Utc.with_ymd_and_hms(2025, 6, 23, 0, 0, 1).single().unwrap();
        let b = a + chrono::Duration::nanoseconds(1_500);
        assert_eq!(ts(a), "2025-06-23T00:00:01.000000000Z");
        assert_eq!(ts(a).len(), ts(b).len());
        assert!(ts(a) < ts(b));
        assert_eq!(parse_ts("t", &ts(b)).unwrap(), b);
    }

    #[test]
    fn decimals_round_trip_exactly() {
        for s in ["0", "1.005", "-12.340", "0.0001", "123456789.123456789"] {
            let d = parse_dec("d", s).unwrap();
            assert_eq!(dec(d), s);
        }
        assert!(parse_dec("d", "1e3x").is_err());
    }

    #[test]
    fn days_round_trip() {
        let d = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
        assert_eq!(day(d), "2025-01-02");
        assert_eq!(parse_day("day", "2025-01-02").unwrap(), d);
        assert!(parse_day("day", "2025-13-02").is_err());
    }
}
