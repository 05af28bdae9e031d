//! The ASX price step.

use rstest::rstest;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strategy::asx::{add_steps, is_on_step, price_step, round_down_to_step, round_up_to_step};

#[rstest]
#[case(dec!(0.001), dec!(0.001))]
#[case(dec!(0.099), dec!(0.001))]
#[case(dec!(0.0999), dec!(0.001))]
#[case(dec!(0.10), dec!(0.005))]
#[case(dec!(1.00), dec!(0.005))]
#[case(dec!(1.999), dec!(0.005))]
#[case(dec!(2.00), dec!(0.01))]
#[case(dec!(45.67), dec!(0.01))]
fn step_by_band(#[case] price: Decimal, #[case] step: Decimal) {
    assert_eq!(price_step(price), step);
}

#[rstest]
#[case(dec!(0.0421), dec!(0.043), dec!(0.042))]
#[case(dec!(0.042), dec!(0.042), dec!(0.042))]
#[case(dec!(0.1234), dec!(0.125), dec!(0.120))]
#[case(dec!(0.0995), dec!(0.100), dec!(0.099))]
#[case(dec!(1.996), dec!(2.00), dec!(1.995))]
#[case(dec!(2.001), dec!(2.01), dec!(2.00))]
#[case(dec!(43.005), dec!(43.01), dec!(43.00))]
#[case(dec!(50.50), dec!(50.50), dec!(50.50))]
fn rounding(#[case] raw: Decimal, #[case] up: Decimal, #[case] down: Decimal) {
    assert_eq!(round_up_to_step(raw), up);
    assert_eq!(round_down_to_step(raw), down);
    assert!(is_on_step(round_up_to_step(raw)));
    assert!(is_on_step(round_down_to_step(raw)));
}

#[rstest]
#[case(dec!(0.001), true)]
#[case(dec!(0.0015), false)]
#[case(dec!(0.105), true)]
#[case(dec!(0.107), false)]
#[case(dec!(2.005), false)]
#[case(dec!(2.01), true)]
#[case(dec!(0), false)]
#[case(dec!(-1), false)]
fn on_step(#[case] price: Decimal, #[case] on: bool) {
    assert_eq!(is_on_step(price), on);
}

#[rstest]
#[case(dec!(1.99), 0, dec!(1.99))]
#[case(dec!(1.99), 1, dec!(1.995))]
#[case(dec!(1.99), 2, dec!(2.00))]
#[case(dec!(1.99), 3, dec!(2.01))]
#[case(dec!(45.00), 2, dec!(45.02))]
fn adding_steps_crosses_bands(#[case] from: Decimal, #[case] n: u32, #[case] to: Decimal) {
    assert_eq!(add_steps(from, n), to);
}
