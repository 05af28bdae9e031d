//! The opening range.

use chrono::{DateTime, TimeDelta, Utc};
use rstest::rstest;
use strategy::{
    Bar, StrategySettings, opening_range, opening_range_end_utc, opening_range_from_bars,
};

use crate::support::{date, price, range, sydney};

#[rstest]
#[case::summer(date(2026, 12, 3))]
#[case::winter(date(2026, 6, 10))]
fn complete_at_ten_plus_n_minutes(#[case] day: chrono::NaiveDate) {
    let s = StrategySettings::default();
    assert_eq!(opening_range_end_utc(day, &s), Some(sydney(day, 10, 5, 0)));
    let (h, l, last) = (
        Some(price("45.00")),
        Some(price("43.00")),
        Some(price("44.00")),
    );
    assert_eq!(opening_range(sydney(day, 10, 4, 59), h, l, last, &s), None);
    assert_eq!(
        opening_range(sydney(day, 10, 5, 0), h, l, last, &s),
        Some(range("45.00", "43.00"))
    );
    let s15 = StrategySettings {
        opening_range_minutes: 15,
        ..Default::default()
    };
    assert_eq!(
        opening_range(sydney(day, 10, 14, 0), h, l, last, &s15),
        None
    );
    assert!(opening_range(sydney(day, 10, 15, 0), h, l, last, &s15).is_some());
}

#[rstest]
#[case::no_last(Some("45.00"), Some("43.00"), None)]
#[case::no_high(None, Some("43.00"), Some("44.00"))]
#[case::no_low(Some("45.00"), None, Some("44.00"))]
#[case::nothing(None, None, None)]
#[case::high_below_low(Some("43.00"), Some("45.00"), Some("44.00"))]
fn no_range_without_trades(
    #[case] high: Option<&str>,
    #[case] low: Option<&str>,
    #[case] last: Option<&str>,
) {
    let s = StrategySettings::default();
    let now = sydney(date(2026, 12, 3), 10, 5, 0);
    assert_eq!(
        opening_range(now, high.map(price), low.map(price), last.map(price), &s),
        None
    );
}

fn bar(start: DateTime<Utc>, high: &str, low: &str) -> Bar {
    Bar {
        start,
        high: price(high),
        low: price(low),
        close: price(low),
    }
}

#[test]
fn from_one_minute_bars_only_those_inside_the_window_count() {
    let s = StrategySettings::default();
    let day = date(2026, 12, 3);
    let t = |m: i64| sydney(day, 10, 0, 0) + TimeDelta::minutes(m);
    let bars = vec![
        bar(t(-1), "50.00", "40.00"), // 09:59, the auction minute: outside
        bar(t(0), "44.50", "43.20"),
        bar(t(1), "45.00", "43.80"),
        bar(t(2), "44.90", "43.00"),
        bar(t(4), "44.70", "44.10"),
        bar(t(5), "46.00", "42.00"), // 10:05: after the range
    ];
    assert_eq!(
        opening_range_from_bars(t(5), &bars, &s),
        Some(range("45.00", "43.00"))
    );
    assert_eq!(
        opening_range_from_bars(t(4), &bars, &s),
        None,
        "not complete yet"
    );
    assert_eq!(
        opening_range_from_bars(t(5), &bars[..1], &s),
        None,
        "no bar in the window"
    );
    assert_eq!(opening_range_from_bars(t(5), &[], &s), None);
}
