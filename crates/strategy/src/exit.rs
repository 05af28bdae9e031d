//! The exit rules: the protective stop, the day-3 half exit, and the SMA trail.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::asx::Calendar;
use crate::position::{Position, PositionState};
use crate::settings::StrategySettings;
use crate::types::{OrderIntent, OrderPurpose, OrderType, Price, Quantity, Side};

/// What to do with a held position now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ExitAction {
    /// Nothing.
    Hold,
    /// Place this sale.
    Sell(OrderIntent),
    /// The day-3 rule is due but fewer than 2 shares are held (half is 0): record
    /// [`crate::PositionEvent::HalfExitWaived`] so the trailing rule takes over.
    WaiveHalfExit,
}

/// The simple moving average of the last `n` closes (`closes` oldest first). `None` when there
/// are fewer than `n` closes or `n` is 0.
pub fn sma(closes: &[Price], n: usize) -> Option<Decimal> {
    if n == 0 || closes.len() < n {
        return None;
    }
    let sum: Decimal = closes[closes.len() - n..].iter().map(|p| p.value()).sum();
    Some(sum / Decimal::from(n))
}

/// The stop after today's low: with `trail_stop_to_low_of_day`, the low of the day rounded down
/// to the step when that is higher; otherwise, or when it is lower, the current stop. Never
/// lower than `current`.
pub fn raise_stop(current: Price, low_of_day: Price, settings: &StrategySettings) -> Price {
    if !settings.trail_stop_to_low_of_day {
        return current;
    }
    match low_of_day.round_down_to_step() {
        Some(low) if low > current => low,
        _ => current,
    }
}

/// The STP sell order that protects the shares held, at the position's stop. `None` when no
/// share is held. After a partial sale, the daemon replaces the broker's stop with this one.
pub fn protective_stop_order(state: &PositionState) -> Option<OrderIntent> {
    let (ticker, conid, stop) = match state {
        PositionState::PendingEntry(p) => (p.ticker(), p.conid(), p.stop()),
        PositionState::Open(p) | PositionState::HalfExited(p) => (p.ticker(), p.conid(), p.stop()),
        PositionState::Closed(_) => return None,
    };
    let quantity = Quantity::new(state.shares_held()).ok()?;
    let stop = stop.round_down_to_step()?;
    OrderIntent::new(
        ticker.clone(),
        conid,
        Side::Sell,
        OrderType::Stop(stop),
        quantity,
        OrderPurpose::ProtectiveStop,
    )
    .ok()
}

/// The client-side stop check: when `last` ≤ the stop, sell every share held at the market.
pub fn stop_exit(state: &PositionState, last: Price) -> Option<OrderIntent> {
    let p = state.position()?;
    if last > p.stop() {
        return None;
    }
    sell_market(p, p.remaining(), OrderPurpose::StopBackstop)
}

/// The day the half exit is due: `half_exit_after_days` ASX trading days after the entry day
/// (entry Monday → Thursday in a week without holidays).
pub fn half_exit_date(
    entry_date: NaiveDate,
    calendar: &Calendar,
    settings: &StrategySettings,
) -> Option<NaiveDate> {
    calendar.add_trading_days(entry_date, settings.half_exit_after_days)
}

/// The day-3 rule, once: on or after [`half_exit_date`], sell half the shares held (rounded
/// down) at the market. Only in [`PositionState::Open`]; after the half exit it never fires
/// again.
pub fn half_exit(
    state: &PositionState,
    today: NaiveDate,
    calendar: &Calendar,
    settings: &StrategySettings,
) -> ExitAction {
    let PositionState::Open(p) = state else {
        return ExitAction::Hold;
    };
    match half_exit_date(p.entry_date(), calendar, settings) {
        Some(due) if today >= due => {}
        _ => return ExitAction::Hold,
    }
    match Quantity::new(p.remaining().get() / 2) {
        Ok(half) => {
            sell_market(p, half, OrderPurpose::HalfExit).map_or(ExitAction::Hold, ExitAction::Sell)
        }
        Err(_) => ExitAction::WaiveHalfExit,
    }
}

/// The trail, after the half exit: when `last` (standing in for today's close) is below
/// `sma`, sell every share held at the market. `None` without an SMA.
pub fn trail_exit(state: &PositionState, last: Price, sma: Option<Decimal>) -> Option<OrderIntent> {
    let PositionState::HalfExited(p) = state else {
        return None;
    };
    if last.value() < sma? {
        sell_market(p, p.remaining(), OrderPurpose::TrailExit)
    } else {
        None
    }
}

/// All exit rules for one position, in priority order: the stop, then the trail (after the
/// half exit), then the day-3 half exit. `daily_closes` are oldest first; the SMA is taken over
/// the last `trail_sma_days` of them.
pub fn exit_decision(
    state: &PositionState,
    today: NaiveDate,
    last: Price,
    daily_closes: &[Price],
    calendar: &Calendar,
    settings: &StrategySettings,
) -> ExitAction {
    if let Some(order) = stop_exit(state, last) {
        return ExitAction::Sell(order);
    }
    let n = usize::try_from(settings.trail_sma_days).unwrap_or(usize::MAX);
    if let Some(order) = trail_exit(state, last, sma(daily_closes, n)) {
        return ExitAction::Sell(order);
    }
    half_exit(state, today, calendar, settings)
}

fn sell_market(p: &Position, quantity: Quantity, purpose: OrderPurpose) -> Option<OrderIntent> {
    OrderIntent::new(
        p.ticker().clone(),
        p.conid(),
        Side::Sell,
        OrderType::Market,
        quantity,
        purpose,
    )
    .ok()
}
