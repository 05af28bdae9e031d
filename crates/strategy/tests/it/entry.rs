//! The ORH breakout entry: sizing, prices and every reason to skip.

use chrono::{DateTime, Utc};
use rstest::rstest;
use rust_decimal_macros::dec;
use strategy::{
    BookState, Calendar, EntryDecision, EntryOrderType, OrderPurpose, OrderType, Quote, Side,
    SkipReason, StrategySettings, entry_decision, entry_limit_price, position_size,
};

use crate::support::{candidate, date, price, qty, range, sydney};

/// Thursday 3 December 2026, 10:30 Sydney (AEDT).
fn morning() -> DateTime<Utc> {
    sydney(date(2026, 12, 3), 10, 30, 0)
}

fn quote(last: Option<&str>, ask: Option<&str>) -> Quote {
    Quote {
        last: last.map(price),
        bid: None,
        ask: ask.map(price),
    }
}

fn decide(
    now: DateTime<Utc>,
    quote: &Quote,
    book: &BookState,
    settings: &StrategySettings,
) -> EntryDecision {
    entry_decision(
        now,
        &Calendar::default(),
        &candidate("ABC"),
        &range("45.00", "43.00"),
        quote,
        book,
        settings,
    )
}

#[rstest]
#[case("50.00", Some(100))]
#[case("10.00", Some(500))]
#[case("100.00", Some(50))]
#[case("0.50", Some(1000))]
#[case("10000.00", None)]
#[case("5000.00", Some(1))]
#[case("5000.01", None)]
#[case("4.999", Some(1000))]
#[case("7.00", Some(714))]
fn size(#[case] at: &str, #[case] shares: Option<u64>) {
    let s = StrategySettings::default();
    assert_eq!(position_size(price(at), &s).map(|q| q.get()), shares);
}

#[test]
fn a_breakout_buys_at_a_marketable_limit_with_the_range_low_as_stop() {
    let s = StrategySettings::default();
    let d = decide(
        morning(),
        &quote(Some("45.50"), Some("45.55")),
        &BookState::default(),
        &s,
    );
    let EntryDecision::Buy { order, stop } = d else {
        panic!("expected a buy, got {d:?}");
    };
    // 45.55 × 1.01 = 46.0055 → up to the 1c step: 46.01; floor(5000 / 46.01) = 108.
    assert_eq!(order.order_type(), OrderType::Limit(price("46.01")));
    assert_eq!(order.quantity(), qty(108));
    assert_eq!(order.side(), Side::Buy);
    assert_eq!(order.purpose(), OrderPurpose::Entry);
    assert_eq!(order.ticker().as_str(), "ABC");
    assert_eq!(order.conid(), 4242);
    assert_eq!(stop, price("43.00"));
}

#[rstest]
#[case::ask_only(None, Some("45.55"), "46.01")]
#[case::last_only(Some("45.50"), None, "45.96")]
#[case::ask_below_last(Some("45.50"), Some("45.20"), "45.96")]
fn the_limit_base_is_the_ask_or_the_last(
    #[case] last: Option<&str>,
    #[case] ask: Option<&str>,
    #[case] limit: &str,
) {
    let s = StrategySettings::default();
    assert_eq!(entry_limit_price(&quote(last, ask), &s), Some(price(limit)));
}

#[test]
fn limits_round_up_to_the_half_cent_step_below_two_dollars() {
    let s = StrategySettings::default();
    // 0.452 × 1.01 = 0.45652 → 0.460 (0.5c step).
    assert_eq!(
        entry_limit_price(&quote(Some("0.45"), Some("0.452")), &s),
        Some(price("0.460"))
    );
}

#[test]
fn a_market_entry_is_sized_at_the_marketable_estimate() {
    let s = StrategySettings {
        order_type: EntryOrderType::Market,
        ..Default::default()
    };
    let d = decide(
        morning(),
        &quote(Some("45.50"), Some("45.55")),
        &BookState::default(),
        &s,
    );
    let EntryDecision::Buy { order, .. } = d else {
        panic!("{d:?}")
    };
    assert_eq!(order.order_type(), OrderType::Market);
    assert_eq!(order.quantity(), qty(108));
}

#[test]
fn the_stop_is_the_range_low_rounded_down() {
    let s = StrategySettings::default();
    let d = entry_decision(
        morning(),
        &Calendar::default(),
        &candidate("ABC"),
        &range("1.2370", "1.1234"),
        &quote(Some("1.245"), Some("1.25")),
        &BookState::default(),
        &s,
    );
    let EntryDecision::Buy { stop, order } = d else {
        panic!("{d:?}")
    };
    assert_eq!(stop, price("1.120"));
    // 1.25 × 1.01 = 1.2625 → 1.265; floor(5000 / 1.265) = 3952 → capped at 1000.
    assert_eq!(order.limit_price(), Some(price("1.265")));
    assert_eq!(order.quantity(), qty(1000));
}

fn book() -> BookState {
    BookState::default()
}

#[rstest]
#[case::at_the_high(morning(), "45.00", book(), SkipReason::NoBreakout)]
#[case::below_the_high(morning(), "44.90", book(), SkipReason::NoBreakout)]
#[case::paused(morning(), "45.50", BookState { paused: true, ..book() }, SkipReason::Paused)]
#[case::stopped_out(morning(), "45.50", BookState { stopped_out_today: true, ..book() }, SkipReason::StoppedOutToday)]
#[case::entered(morning(), "45.50", BookState { entered_today: true, ..book() }, SkipReason::AlreadyEntered)]
#[case::loss_limit(morning(), "45.50", BookState { realised_plus_open_loss: dec!(500), ..book() }, SkipReason::DailyLossLimit)]
#[case::max_positions(morning(), "45.50", BookState { open_positions: 5, ..book() }, SkipReason::MaxPositions)]
#[case::at_cutoff(
    sydney(date(2026, 12, 3), 15, 30, 0),
    "45.50",
    book(),
    SkipReason::AfterCutoff
)]
#[case::before_open(
    sydney(date(2026, 12, 3), 9, 59, 59),
    "45.50",
    book(),
    SkipReason::MarketNotOpen
)]
#[case::saturday(
    sydney(date(2026, 12, 5), 10, 30, 0),
    "45.50",
    book(),
    SkipReason::MarketNotOpen
)]
#[case::christmas(
    sydney(date(2026, 12, 25), 10, 30, 0),
    "45.50",
    book(),
    SkipReason::MarketNotOpen
)]
#[case::early_close(
    sydney(date(2026, 12, 24), 14, 30, 0),
    "45.50",
    book(),
    SkipReason::MarketNotOpen
)]
fn skips(
    #[case] now: DateTime<Utc>,
    #[case] last: &str,
    #[case] book: BookState,
    #[case] reason: SkipReason,
) {
    let s = StrategySettings::default();
    assert_eq!(
        decide(now, &quote(Some(last), None), &book, &s),
        EntryDecision::Skip(reason)
    );
}

#[rstest]
#[case::just_before_cutoff(sydney(date(2026, 12, 3), 15, 29, 59), book())]
#[case::loss_just_under(morning(), BookState { realised_plus_open_loss: dec!(499.99), ..book() })]
#[case::four_open(morning(), BookState { open_positions: 4, ..book() })]
#[case::a_profit_today(morning(), BookState { realised_plus_open_loss: dec!(-800), ..book() })]
#[case::early_close_morning(sydney(date(2026, 12, 24), 11, 0, 0), book())]
fn buys_at_the_edges(#[case] now: DateTime<Utc>, #[case] book: BookState) {
    let s = StrategySettings::default();
    assert!(matches!(
        decide(now, &quote(Some("45.01"), None), &book, &s),
        EntryDecision::Buy { .. }
    ));
}

#[test]
fn no_last_price_no_trade() {
    let s = StrategySettings::default();
    assert_eq!(
        decide(morning(), &quote(None, Some("45.50")), &book(), &s),
        EntryDecision::Skip(SkipReason::NoPrice)
    );
}

#[rstest]
#[case("45.02", false)]
#[case("45.03", true)]
fn the_breakout_buffer_counts_price_steps(#[case] last: &str, #[case] buys: bool) {
    let s = StrategySettings {
        breakout_buffer: 2,
        ..Default::default()
    };
    let d = decide(morning(), &quote(Some(last), None), &book(), &s);
    assert_eq!(matches!(d, EntryDecision::Buy { .. }), buys, "{d:?}");
}

#[test]
fn below_min_price_no_trade() {
    let s = StrategySettings::default();
    let d = entry_decision(
        morning(),
        &Calendar::default(),
        &candidate("ABC"),
        &range("0.150", "0.120"),
        &quote(Some("0.155"), None),
        &book(),
        &s,
    );
    assert_eq!(d, EntryDecision::Skip(SkipReason::BelowMinPrice));
}

#[test]
fn a_share_dearer_than_max_position_value_is_no_trade() {
    let s = StrategySettings::default();
    let d = entry_decision(
        morning(),
        &Calendar::default(),
        &candidate("ABC"),
        &range("6000.00", "5900.00"),
        &quote(Some("6000.50"), None),
        &book(),
        &s,
    );
    assert_eq!(d, EntryDecision::Skip(SkipReason::TooExpensive));
}
