//! Sydney session times and daylight saving.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use rstest::rstest;
use strategy::Calendar;
use strategy::asx::{SessionPhase, sydney_date, sydney_time};

use crate::support::{date, sydney};

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid UTC time")
}

#[test]
fn the_ten_o_clock_open_follows_daylight_saving() {
    let cal = Calendar::default();
    // December (AEDT, UTC+11): 10:00 Sydney is 23:00 UTC the day before.
    assert_eq!(
        cal.market_open_utc(date(2026, 12, 3)),
        Some(utc(2026, 12, 2, 23, 0, 0))
    );
    // June (AEST, UTC+10): 10:00 Sydney is 00:00 UTC the same day.
    assert_eq!(
        cal.market_open_utc(date(2026, 6, 10)),
        Some(utc(2026, 6, 10, 0, 0, 0))
    );
    // Closed days have no open.
    assert_eq!(cal.market_open_utc(date(2026, 12, 25)), None);
    assert_eq!(cal.market_open_utc(date(2026, 12, 5)), None);
}

#[test]
fn closes_in_utc() {
    let cal = Calendar::default();
    assert_eq!(
        cal.market_close_utc(date(2026, 12, 3)),
        Some(utc(2026, 12, 3, 5, 0, 0))
    );
    assert_eq!(
        cal.market_close_utc(date(2026, 12, 24)),
        Some(utc(2026, 12, 24, 3, 10, 0))
    );
    assert_eq!(
        cal.market_close_utc(date(2026, 6, 10)),
        Some(utc(2026, 6, 10, 6, 0, 0))
    );
}

#[test]
fn utc_instants_map_to_the_sydney_date() {
    // 23:30 UTC on 2 December is 10:30 on 3 December in Sydney.
    let now = utc(2026, 12, 2, 23, 30, 0);
    assert_eq!(sydney_date(now), date(2026, 12, 3));
    assert_eq!(
        sydney_time(now),
        NaiveTime::from_hms_opt(10, 30, 0).expect("time")
    );
}

#[rstest]
#[case::before_pre_open(6, 59, 59, SessionPhase::Closed)]
#[case::pre_open(7, 0, 0, SessionPhase::PreOpen)]
#[case::last_second_before_open(9, 59, 59, SessionPhase::PreOpen)]
#[case::open(10, 0, 0, SessionPhase::Continuous)]
#[case::afternoon(15, 59, 59, SessionPhase::Continuous)]
#[case::close(16, 0, 0, SessionPhase::ClosingAuction)]
#[case::auction(16, 10, 0, SessionPhase::PostClose)]
#[case::post_close(16, 21, 29, SessionPhase::PostClose)]
#[case::after(16, 21, 30, SessionPhase::Closed)]
fn phases_of_a_normal_day(
    #[case] h: u32,
    #[case] m: u32,
    #[case] s: u32,
    #[case] phase: SessionPhase,
) {
    let cal = Calendar::default();
    for day in [date(2026, 12, 3), date(2026, 6, 10)] {
        let now = sydney(day, h, m, s);
        assert_eq!(cal.session_phase(now), phase, "{day} {h}:{m}:{s}");
        assert_eq!(
            cal.is_continuous_trading(now),
            phase == SessionPhase::Continuous
        );
    }
}

#[test]
fn early_close_days_stop_continuous_trading_at_14_10() {
    let cal = Calendar::default();
    let eve = date(2026, 12, 24);
    assert!(cal.is_continuous_trading(sydney(eve, 14, 9, 59)));
    assert_eq!(
        cal.session_phase(sydney(eve, 14, 10, 0)),
        SessionPhase::ClosingAuction
    );
    assert_eq!(
        cal.session_phase(sydney(eve, 15, 0, 0)),
        SessionPhase::Closed
    );
}

#[test]
fn holidays_and_weekends_are_closed_all_day() {
    let cal = Calendar::default();
    for day in [date(2026, 12, 25), date(2026, 12, 26), date(2026, 4, 3)] {
        assert_eq!(
            cal.session_phase(sydney(day, 11, 0, 0)),
            SessionPhase::Closed
        );
    }
}
