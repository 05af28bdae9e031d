//! The position lifecycle's transition table.

use rstest::rstest;
use rust_decimal_macros::dec;
use strategy::{CloseReason, OrderPurpose, PositionEvent, PositionState, StrategyError};

use crate::support::{date, price, qty, ticker};

fn pending(ordered: u64) -> PositionState {
    PositionState::pending(
        ticker("ABC"),
        7,
        date(2026, 11, 30),
        qty(ordered),
        price("43.00"),
    )
}

fn fill(n: u64, at: &str) -> PositionEvent {
    PositionEvent::EntryFill {
        quantity: qty(n),
        price: price(at),
    }
}

fn exit(n: u64, at: &str, purpose: OrderPurpose) -> PositionEvent {
    PositionEvent::ExitFill {
        quantity: qty(n),
        price: price(at),
        purpose,
    }
}

fn run(events: &[PositionEvent]) -> Result<PositionState, StrategyError> {
    events
        .iter()
        .try_fold(pending(100), |s, e| s.transition(*e))
}

#[test]
fn partial_fills_then_complete() {
    let s = pending(100).transition(fill(40, "45.00")).expect("partial");
    assert_eq!(s.name(), "PendingEntry");
    assert_eq!(s.shares_held(), 40);
    let s = s.transition(fill(60, "45.10")).expect("complete");
    let PositionState::Open(p) = &s else {
        panic!("{s:?}")
    };
    assert_eq!(p.bought(), qty(100));
    assert_eq!(p.remaining(), qty(100));
    // (40 × 45.00 + 60 × 45.10) / 100 = 45.06
    assert_eq!(p.avg_price(), price("45.06"));
    assert_eq!(p.open_pnl(price("46.06")), dec!(100));
}

#[test]
fn a_full_life_and_its_pnl() {
    let s = run(&[
        fill(100, "45.00"),
        exit(50, "48.00", OrderPurpose::HalfExit),
        exit(50, "46.00", OrderPurpose::TrailExit),
    ])
    .expect("lives");
    let PositionState::Closed(c) = &s else {
        panic!("{s:?}")
    };
    assert_eq!(c.reason, CloseReason::TrailExit);
    assert_eq!(c.realised_pnl(), dec!(200)); // 50 × 3 + 50 × 1
}

#[rstest]
#[case::cancelled_unfilled(&[PositionEvent::EntryCancelled], "Closed", Some(CloseReason::Abandoned))]
#[case::rejected_unfilled(&[PositionEvent::EntryRejected], "Closed", Some(CloseReason::Abandoned))]
#[case::cancelled_after_partial(&[fill(30, "45.00"), PositionEvent::EntryCancelled], "Open", None)]
#[case::late_fill_after_cancel(&[fill(30, "45.00"), PositionEvent::EntryCancelled, fill(20, "45.00")], "Open", None)]
#[case::stopped_out(&[fill(100, "45.00"), exit(100, "42.90", OrderPurpose::ProtectiveStop)], "Closed", Some(CloseReason::StoppedOut))]
#[case::stop_partly_filled(&[fill(100, "45.00"), exit(60, "42.90", OrderPurpose::ProtectiveStop)], "Open", None)]
#[case::backstop_after_half(&[fill(100, "45.00"), exit(50, "48.00", OrderPurpose::HalfExit), exit(50, "42.00", OrderPurpose::StopBackstop)], "Closed", Some(CloseReason::StoppedOut))]
#[case::half_exit_partly_filled(&[fill(100, "45.00"), exit(20, "48.00", OrderPurpose::HalfExit), exit(30, "48.00", OrderPurpose::HalfExit)], "HalfExited", None)]
#[case::stop_raised(&[fill(100, "45.00"), PositionEvent::StopRaised { stop: price("44.00") }], "Open", None)]
#[case::stop_kept(&[PositionEvent::StopRaised { stop: price("43.00") }], "PendingEntry", None)]
fn allowed(
    #[case] events: &[PositionEvent],
    #[case] state: &str,
    #[case] reason: Option<CloseReason>,
) {
    let s = run(events).expect("allowed");
    assert_eq!(s.name(), state);
    if let PositionState::Closed(c) = &s {
        assert_eq!(Some(c.reason), reason);
    }
}

#[rstest]
#[case::over_fill(&[fill(101, "45.00")], "fill of 101 shares exceeds the 100")]
#[case::over_sell(&[fill(100, "45.00"), exit(101, "44.00", OrderPurpose::ProtectiveStop)], "selling 101 shares but only 100 remain")]
#[case::over_sell_after_half(&[fill(100, "45.00"), exit(50, "48.00", OrderPurpose::HalfExit), exit(51, "44.00", OrderPurpose::TrailExit)], "only 50 remain")]
#[case::exit_before_fill(&[exit(10, "44.00", OrderPurpose::ProtectiveStop)], "ExitFill is not allowed in state PendingEntry")]
#[case::trail_before_half(&[fill(100, "45.00"), exit(50, "44.00", OrderPurpose::TrailExit)], "not allowed in state Open")]
#[case::entry_purpose_on_exit(&[fill(100, "45.00"), exit(50, "44.00", OrderPurpose::Entry)], "not allowed")]
#[case::anything_after_close(&[PositionEvent::EntryCancelled, fill(10, "45.00")], "not allowed in state Closed")]
#[case::cancel_twice(&[fill(100, "45.00"), PositionEvent::EntryCancelled], "EntryCancelled is not allowed in state Open")]
#[case::waive_with_shares(&[fill(100, "45.00"), PositionEvent::HalfExitWaived], "HalfExitWaived is not allowed")]
#[case::late_fill_after_half(&[fill(50, "45.00"), PositionEvent::EntryCancelled, exit(25, "48.00", OrderPurpose::HalfExit), fill(10, "45.00")], "EntryFill is not allowed in state HalfExited")]
#[case::stop_lowered(&[fill(100, "45.00"), PositionEvent::StopRaised { stop: price("42.00") }], "never moves down")]
fn refused(#[case] events: &[PositionEvent], #[case] message: &str) {
    let err = run(events).expect_err("refused");
    assert!(err.is_lifecycle(), "{err}");
    assert!(err.to_string().contains(message), "{err}");
}
