//! Domain types: valid once built.

use rstest::rstest;
use rust_decimal_macros::dec;
use strategy::{
    GapPct, OpeningRange, OrderIntent, OrderPurpose, OrderType, PositionEvent, PositionState,
    Price, Quantity, Side, Ticker,
};

use crate::support::{date, price, qty, ticker};

#[rstest]
#[case("BHP", true)]
#[case("1AE", true)]
#[case("BHPKOA", true)]
#[case("BH", false)]
#[case("BHPKOAX", false)]
#[case("bhp", false)]
#[case("BH-P", false)]
#[case(" BHP", false)]
#[case("", false)]
#[case("ÀBC", false)]
fn tickers(#[case] code: &str, #[case] valid: bool) {
    assert_eq!(Ticker::parse(code).is_ok(), valid, "{code:?}");
}

#[test]
fn prices_quantities_gaps_and_ranges_refuse_invalid_values() {
    assert!(Price::new(dec!(0)).is_err());
    assert!(Price::new(dec!(-0.01)).is_err());
    assert!(Price::new(dec!(0.0001)).is_ok());
    assert!(Quantity::new(0).is_err());
    assert!(GapPct::new(dec!(-100)).is_err());
    assert!(GapPct::new(dec!(-99.9)).is_ok());
    assert!(OpeningRange::new(price("1.00"), price("1.01")).is_err());
    assert!(OpeningRange::new(price("1.00"), price("1.00")).is_ok());
}

#[test]
fn an_order_price_off_the_step_is_refused() {
    let make = |p: &str| {
        OrderIntent::new(
            ticker("ABC"),
            1,
            Side::Buy,
            OrderType::Limit(price(p)),
            qty(10),
            OrderPurpose::Entry,
        )
    };
    assert!(make("2.005").is_err());
    assert!(make("2.01").is_ok());
    assert!(make("0.1234").is_err());
    let stop = OrderIntent::new(
        ticker("ABC"),
        1,
        Side::Sell,
        OrderType::Stop(price("43.001")),
        qty(10),
        OrderPurpose::ProtectiveStop,
    );
    assert!(stop.is_err());
    assert_eq!(OrderType::Stop(price("43.00")).ibkr_code(), "STP");
}

#[test]
fn deserialising_checks_the_same_rules() {
    assert!(serde_json::from_str::<Ticker>("\"bhp\"").is_err());
    assert!(serde_json::from_str::<Price>("\"0\"").is_err());
    assert!(serde_json::from_str::<Quantity>("0").is_err());
    assert!(serde_json::from_str::<OpeningRange>(r#"{"high":"1.00","low":"2.00"}"#).is_err());
    assert!(serde_json::from_str::<OpeningRange>(r#"{"high":"2.00","low":"1.00"}"#).is_ok());
}

#[test]
fn positions_round_trip_through_json_and_refuse_tampered_records() {
    let state = PositionState::pending(
        ticker("ABC"),
        9,
        date(2026, 11, 30),
        qty(100),
        price("43.00"),
    )
    .transition(PositionEvent::EntryFill {
        quantity: qty(100),
        price: price("45.00"),
    })
    .expect("fills");
    let json = serde_json::to_string(&state).expect("serialises");
    let back: PositionState = serde_json::from_str(&json).expect("loads");
    assert_eq!(back, state);
    // A record that sold more than it bought does not load.
    let tampered = json
        .replace("\"sold\":0", "\"sold\":150")
        .replace("\"proceeds\":\"0\"", "\"proceeds\":\"6000\"");
    assert_ne!(tampered, json);
    assert!(serde_json::from_str::<PositionState>(&tampered).is_err());
}
