//! The ASX calendar against the ASX's published holiday lists for 2025 and 2026.

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use rstest::rstest;
use strategy::Calendar;
use strategy::asx::{EARLY_CLOSE, NORMAL_CLOSE, easter_sunday, holidays};

use crate::support::date;

fn weekday_closures(cal: &Calendar, year: i32) -> Vec<NaiveDate> {
    let mut d = date(year, 1, 1);
    let mut out = Vec::new();
    while d.year() == year {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !cal.is_trading_day(d) {
            out.push(d);
        }
        d = d.succ_opt().expect("next day");
    }
    out
}

fn early_closes(cal: &Calendar, year: i32) -> Vec<NaiveDate> {
    let mut d = date(year, 1, 1);
    let mut out = Vec::new();
    while d.year() == year {
        if cal.close_time(d) == Some(EARLY_CLOSE) {
            out.push(d);
        }
        d = d.succ_opt().expect("next day");
    }
    out
}

#[test]
fn asx_2025_closures_are_exactly_the_published_list() {
    let cal = Calendar::default();
    assert_eq!(
        weekday_closures(&cal, 2025),
        [
            date(2025, 1, 1),   // New Year's Day
            date(2025, 1, 27),  // Australia Day (Sunday 26th) observed
            date(2025, 4, 18),  // Good Friday
            date(2025, 4, 21),  // Easter Monday
            date(2025, 4, 25),  // Anzac Day
            date(2025, 6, 9),   // King's Birthday
            date(2025, 12, 25), // Christmas Day
            date(2025, 12, 26), // Boxing Day
        ]
    );
    assert_eq!(
        early_closes(&cal, 2025),
        [date(2025, 12, 24), date(2025, 12, 31)]
    );
}

#[test]
fn asx_2026_closures_are_exactly_the_published_list() {
    let cal = Calendar::default();
    assert_eq!(
        weekday_closures(&cal, 2026),
        [
            date(2026, 1, 1),   // New Year's Day
            date(2026, 1, 26),  // Australia Day
            date(2026, 4, 3),   // Good Friday
            date(2026, 4, 6),   // Easter Monday
            date(2026, 6, 8),   // King's Birthday
            date(2026, 12, 25), // Christmas Day
            date(2026, 12, 28), // Boxing Day (Saturday 26th) observed
        ]
    );
    assert_eq!(
        early_closes(&cal, 2026),
        [date(2026, 12, 24), date(2026, 12, 31)]
    );
}

#[test]
fn anzac_day_on_a_saturday_gives_no_monday_holiday() {
    let cal = Calendar::default();
    assert_eq!(date(2026, 4, 25).weekday(), Weekday::Sat);
    assert!(!cal.is_trading_day(date(2026, 4, 25)));
    assert!(cal.is_trading_day(date(2026, 4, 27)));
    assert_eq!(cal.close_time(date(2026, 4, 27)), Some(NORMAL_CLOSE));
    assert!(!holidays(2026).iter().any(|h| h.name.starts_with("Anzac")));
}

#[rstest]
#[case::christmas_saturday_2021(2021, &[(12, 27), (12, 28)])]
#[case::christmas_sunday_2022(2022, &[(12, 26), (12, 27)])]
#[case::christmas_friday_2026(2026, &[(12, 25), (12, 28)])]
#[case::christmas_monday_2023(2023, &[(12, 25), (12, 26)])]
#[case::christmas_thursday_2025(2025, &[(12, 25), (12, 26)])]
fn christmas_and_boxing_day_substitutes(#[case] year: i32, #[case] closed: &[(u32, u32)]) {
    let cal = Calendar::default();
    let december: Vec<(u32, u32)> = weekday_closures(&cal, year)
        .into_iter()
        .filter(|d| d.month() == 12)
        .map(|d| (d.month(), d.day()))
        .collect();
    assert_eq!(december, closed);
}

#[rstest]
#[case::new_year_saturday_2022(2022, 1, 3)]
#[case::new_year_sunday_2023(2023, 1, 2)]
#[case::australia_day_saturday_2030(2030, 1, 28)]
#[case::australia_day_sunday_2025(2025, 1, 27)]
fn january_holidays_move_to_monday(#[case] year: i32, #[case] month: u32, #[case] day: u32) {
    let cal = Calendar::default();
    let d = date(year, month, day);
    assert_eq!(d.weekday(), Weekday::Mon);
    assert!(!cal.is_trading_day(d));
}

#[rstest]
#[case(2024, 3, 31)]
#[case(2025, 4, 20)]
#[case(2026, 4, 5)]
#[case(2027, 3, 28)]
#[case(2038, 4, 25)]
#[case(2285, 3, 22)]
fn easter_by_computus(#[case] year: i32, #[case] month: u32, #[case] day: u32) {
    assert_eq!(easter_sunday(year), Some(date(year, month, day)));
}

#[test]
fn kings_birthday_is_the_second_monday_of_june() {
    let cal = Calendar::default();
    for year in 2024..2040 {
        let second_monday =
            NaiveDate::from_weekday_of_month_opt(year, 6, Weekday::Mon, 2).expect("second Monday");
        assert!(!cal.is_trading_day(second_monday), "{second_monday}");
        let june_closures = weekday_closures(&cal, year)
            .into_iter()
            .filter(|d| d.month() == 6)
            .count();
        assert_eq!(june_closures, 1, "{year}");
    }
}

#[test]
fn christmas_eve_on_a_weekend_moves_the_early_close_to_the_last_business_day() {
    // 2022: Christmas Eve is a Saturday; the ASX closed early on Friday 23 and 30 December.
    let cal = Calendar::default();
    assert_eq!(
        early_closes(&cal, 2022),
        [date(2022, 12, 23), date(2022, 12, 30)]
    );
}

#[test]
fn extra_closures_and_early_closes_from_settings() {
    // A one-off closure (like 22 September 2022) and an announced early close.
    let cal = Calendar::new(vec![date(2022, 9, 22)], vec![date(2026, 3, 13)]);
    assert!(!cal.is_trading_day(date(2022, 9, 22)));
    assert_eq!(cal.close_time(date(2022, 9, 22)), None);
    assert_eq!(cal.close_time(date(2026, 3, 13)), Some(EARLY_CLOSE));
    // An early close on a day that is closed anyway stays closed.
    let cal = Calendar::new(vec![], vec![date(2026, 12, 25), date(2026, 3, 14)]);
    assert_eq!(cal.close_time(date(2026, 12, 25)), None);
    assert_eq!(cal.close_time(date(2026, 3, 14)), None);
}

#[rstest]
#[case::weekday(date(2026, 12, 3), Some(NORMAL_CLOSE))]
#[case::saturday(date(2026, 12, 5), None)]
#[case::christmas_eve(date(2026, 12, 24), Some(EARLY_CLOSE))]
#[case::new_years_eve(date(2025, 12, 31), Some(EARLY_CLOSE))]
#[case::new_years_day(date(2026, 1, 1), None)]
fn close_times(#[case] day: NaiveDate, #[case] close: Option<NaiveTime>) {
    assert_eq!(Calendar::default().close_time(day), close);
}

#[rstest]
#[case::weekday(date(2026, 12, 3), date(2026, 12, 4))]
#[case::friday_to_monday(date(2026, 12, 4), date(2026, 12, 7))]
#[case::over_christmas_2026(date(2026, 12, 24), date(2026, 12, 29))]
#[case::over_easter_2026(date(2026, 4, 2), date(2026, 4, 7))]
#[case::from_a_saturday(date(2026, 4, 25), date(2026, 4, 27))]
#[case::over_new_year_2025(date(2025, 12, 31), date(2026, 1, 2))]
fn next_trading_day(#[case] from: NaiveDate, #[case] next: NaiveDate) {
    let cal = Calendar::default();
    assert_eq!(cal.next_trading_day(from), Some(next));
    assert_eq!(
        cal.prev_trading_day(next),
        Some(if cal.is_trading_day(from) {
            from
        } else {
            date(2026, 4, 24)
        })
    );
}

#[rstest]
#[case::monday_plus_3_is_thursday(date(2026, 11, 30), 3, date(2026, 12, 3))]
#[case::thursday_plus_3_is_tuesday(date(2026, 12, 3), 3, date(2026, 12, 8))]
#[case::over_easter(date(2026, 4, 1), 3, date(2026, 4, 8))]
#[case::over_christmas(date(2026, 12, 23), 3, date(2026, 12, 30))]
#[case::over_kings_birthday(date(2026, 6, 4), 3, date(2026, 6, 10))]
#[case::zero(date(2026, 6, 4), 0, date(2026, 6, 4))]
fn add_trading_days(#[case] from: NaiveDate, #[case] n: u32, #[case] to: NaiveDate) {
    let cal = Calendar::default();
    assert_eq!(cal.add_trading_days(from, n), Some(to));
    assert_eq!(cal.trading_days_between(from, to), i64::from(n));
    assert_eq!(cal.trading_days_between(to, from), -i64::from(n));
}

#[test]
fn trading_days_in_2026() {
    // 365 days − 104 weekend days − 7 weekday holidays.
    let cal = Calendar::default();
    assert_eq!(
        cal.trading_days_between(date(2025, 12, 31), date(2026, 12, 31)),
        254
    );
}
