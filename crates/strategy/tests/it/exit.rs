//! Exits: the stop, the day-3 half exit, the SMA trail, and the stop that never moves down.

use chrono::NaiveDate;
use rstest::rstest;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strategy::{
    Calendar, ExitAction, OrderPurpose, OrderType, PositionEvent, PositionState, Price, Side,
    StrategySettings, exit_decision, half_exit, half_exit_date, protective_stop_order, raise_stop,
    sma, stop_exit, trail_exit,
};

use crate::support::{date, price, qty, ticker};

/// Entry Monday 30 November 2026: 100 shares at 45.00, stop 43.00.
fn open_100() -> PositionState {
    PositionState::pending(
        ticker("ABC"),
        4242,
        date(2026, 11, 30),
        qty(100),
        price("43.00"),
    )
    .transition(PositionEvent::EntryFill {
        quantity: qty(100),
        price: price("45.00"),
    })
    .expect("fills")
}

/// The same position after selling 50 on day 3.
fn half_exited_50() -> PositionState {
    open_100()
        .transition(PositionEvent::ExitFill {
            quantity: qty(50),
            price: price("48.00"),
            purpose: OrderPurpose::HalfExit,
        })
        .expect("half exit")
}

fn sell(action: ExitAction) -> (u64, OrderPurpose, OrderType, Side) {
    match action {
        ExitAction::Sell(o) => (o.quantity().get(), o.purpose(), o.order_type(), o.side()),
        other => panic!("expected a sale, got {other:?}"),
    }
}

#[rstest]
#[case::below("42.50", Some(100))]
#[case::at("43.00", Some(100))]
#[case::above("44.00", None)]
fn stop_check(#[case] last: &str, #[case] sells: Option<u64>) {
    let order = stop_exit(&open_100(), price(last));
    assert_eq!(order.as_ref().map(|o| o.quantity().get()), sells);
    if let Some(o) = order {
        assert_eq!(o.purpose(), OrderPurpose::StopBackstop);
        assert_eq!(o.order_type(), OrderType::Market);
        assert_eq!(o.side(), Side::Sell);
    }
}

#[test]
fn the_stop_sells_what_remains_after_the_half_exit() {
    let order = stop_exit(&half_exited_50(), price("42.50")).expect("sells");
    assert_eq!(order.quantity(), qty(50));
}

#[rstest]
#[case::day_2(date(2026, 12, 2), None)]
#[case::day_3(date(2026, 12, 3), Some(50))]
#[case::day_4_if_day_3_was_missed(date(2026, 12, 4), Some(50))]
fn half_exit_on_day_three(#[case] today: NaiveDate, #[case] sells: Option<u64>) {
    let s = StrategySettings::default();
    let action = half_exit(&open_100(), today, &Calendar::default(), &s);
    match sells {
        Some(n) => assert_eq!(
            sell(action),
            (n, OrderPurpose::HalfExit, OrderType::Market, Side::Sell)
        ),
        None => assert_eq!(action, ExitAction::Hold),
    }
}

#[test]
fn after_the_half_exit_it_never_fires_again() {
    let s = StrategySettings::default();
    for today in [date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 31)] {
        assert_eq!(
            half_exit(&half_exited_50(), today, &Calendar::default(), &s),
            ExitAction::Hold
        );
    }
}

#[rstest]
#[case::monday_to_thursday(date(2026, 11, 30), date(2026, 12, 3))]
#[case::over_christmas(date(2026, 12, 23), date(2026, 12, 30))]
#[case::over_easter(date(2026, 4, 1), date(2026, 4, 8))]
#[case::friday_to_wednesday(date(2026, 12, 4), date(2026, 12, 9))]
fn the_half_exit_day_counts_trading_days(#[case] entry: NaiveDate, #[case] due: NaiveDate) {
    let s = StrategySettings::default();
    assert_eq!(half_exit_date(entry, &Calendar::default(), &s), Some(due));
}

#[test]
fn half_of_an_odd_position_rounds_down() {
    let s = StrategySettings::default();
    let state = PositionState::pending(
        ticker("ABC"),
        1,
        date(2026, 11, 30),
        qty(101),
        price("43.00"),
    )
    .transition(PositionEvent::EntryFill {
        quantity: qty(101),
        price: price("45.00"),
    })
    .expect("fills");
    assert_eq!(
        sell(half_exit(
            &state,
            date(2026, 12, 3),
            &Calendar::default(),
            &s
        ))
        .0,
        50
    );
}

#[test]
fn one_share_waives_the_half_exit() {
    let s = StrategySettings::default();
    let state =
        PositionState::pending(ticker("ABC"), 1, date(2026, 11, 30), qty(1), price("43.00"))
            .transition(PositionEvent::EntryFill {
                quantity: qty(1),
                price: price("45.00"),
            })
            .expect("fills");
    assert_eq!(
        half_exit(&state, date(2026, 12, 3), &Calendar::default(), &s),
        ExitAction::WaiveHalfExit
    );
    let waived = state
        .transition(PositionEvent::HalfExitWaived)
        .expect("waived");
    assert!(matches!(waived, PositionState::HalfExited(_)));
}

#[rstest]
#[case::below("45.00", Some(50))]
#[case::above("47.00", None)]
#[case::at("46.00", None)]
fn trail_below_the_sma(#[case] last: &str, #[case] sells: Option<u64>) {
    let order = trail_exit(&half_exited_50(), price(last), Some(dec!(46.00)));
    assert_eq!(order.as_ref().map(|o| o.quantity().get()), sells);
    if let Some(o) = order {
        assert_eq!(o.purpose(), OrderPurpose::TrailExit);
    }
}

#[test]
fn no_trail_before_the_half_exit_or_without_an_sma() {
    assert_eq!(
        trail_exit(&open_100(), price("45.00"), Some(dec!(46.00))),
        None
    );
    assert_eq!(trail_exit(&half_exited_50(), price("45.00"), None), None);
}

fn closes(values: &[&str]) -> Vec<Price> {
    values.iter().copied().map(price).collect()
}

#[rstest]
#[case::ten(&["41", "42", "43", "44", "45", "46", "47", "48", "49", "50"], 10, Some(dec!(45.5)))]
#[case::last_n_only(&["1000", "41", "42", "43", "44", "45", "46", "47", "48", "49", "50"], 10, Some(dec!(45.5)))]
#[case::too_few(&["41", "42"], 10, None)]
#[case::zero(&["41"], 0, None)]
#[case::repeating(&["1", "1", "2"], 3, Some(dec!(4) / dec!(3)))]
fn simple_moving_average(
    #[case] values: &[&str],
    #[case] n: usize,
    #[case] expected: Option<Decimal>,
) {
    assert_eq!(sma(&closes(values), n), expected);
}

#[rstest]
#[case::lower_low_keeps_the_stop("43.00", "42.00", true, "43.00")]
#[case::higher_low_raises_it("43.00", "44.00", true, "44.00")]
#[case::off_step_low_rounds_down("43.00", "44.005", true, "44.00")]
#[case::setting_off_keeps_the_stop("43.00", "44.00", false, "43.00")]
fn the_stop_never_moves_down(
    #[case] current: &str,
    #[case] low: &str,
    #[case] trail: bool,
    #[case] stop: &str,
) {
    let s = StrategySettings {
        trail_stop_to_low_of_day: trail,
        ..Default::default()
    };
    assert_eq!(raise_stop(price(current), price(low), &s), price(stop));
}

#[test]
fn exit_decision_priorities() {
    let s = StrategySettings::default();
    let cal = Calendar::default();
    let flat = closes(&["46"; 10]);
    // Day 3 with the price through the stop: the stop sells everything.
    let (n, purpose, ..) = sell(exit_decision(
        &open_100(),
        date(2026, 12, 3),
        price("42.00"),
        &flat,
        &cal,
        &s,
    ));
    assert_eq!((n, purpose), (100, OrderPurpose::StopBackstop));
    // Day 3 above the stop, below the SMA: not half-exited yet, so the half exit.
    let (n, purpose, ..) = sell(exit_decision(
        &open_100(),
        date(2026, 12, 3),
        price("45.00"),
        &flat,
        &cal,
        &s,
    ));
    assert_eq!((n, purpose), (50, OrderPurpose::HalfExit));
    // After the half exit, below the SMA: the trail.
    let (n, purpose, ..) = sell(exit_decision(
        &half_exited_50(),
        date(2026, 12, 4),
        price("45.00"),
        &flat,
        &cal,
        &s,
    ));
    assert_eq!((n, purpose), (50, OrderPurpose::TrailExit));
    // After the half exit, above the SMA: hold.
    assert_eq!(
        exit_decision(
            &half_exited_50(),
            date(2026, 12, 4),
            price("47.00"),
            &flat,
            &cal,
            &s
        ),
        ExitAction::Hold
    );
    // Day 2, above the stop: hold.
    assert_eq!(
        exit_decision(
            &open_100(),
            date(2026, 12, 2),
            price("45.00"),
            &flat,
            &cal,
            &s
        ),
        ExitAction::Hold
    );
}

#[test]
fn protective_stop_orders_cover_the_shares_held() {
    let stp = protective_stop_order(&open_100()).expect("order");
    assert_eq!(stp.order_type(), OrderType::Stop(price("43.00")));
    assert_eq!(
        (stp.side(), stp.quantity().get(), stp.purpose()),
        (Side::Sell, 100, OrderPurpose::ProtectiveStop)
    );
    assert_eq!(
        protective_stop_order(&half_exited_50()).map(|o| o.quantity().get()),
        Some(50)
    );
    let partial = PositionState::pending(
        ticker("ABC"),
        1,
        date(2026, 11, 30),
        qty(100),
        price("43.00"),
    )
    .transition(PositionEvent::EntryFill {
        quantity: qty(30),
        price: price("45.00"),
    })
    .expect("fills");
    assert_eq!(
        protective_stop_order(&partial).map(|o| o.quantity().get()),
        Some(30)
    );
    let unfilled = PositionState::pending(
        ticker("ABC"),
        1,
        date(2026, 11, 30),
        qty(100),
        price("43.00"),
    );
    assert_eq!(protective_stop_order(&unfilled), None);
}
