//! The entry rule: buy the break of the opening-range high.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::asx::{self, Calendar, sydney_time};
use crate::candidates::Candidate;
use crate::settings::{EntryOrderType, StrategySettings};
use crate::types::{
    OpeningRange, OrderIntent, OrderPurpose, OrderType, Price, Quantity, Quote, Side,
};

/// What the book looks like when an entry is considered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookState {
    /// Positions open now (including entries waiting for fills).
    pub open_positions: u32,
    /// Today's realised loss plus open loss in AUD, as a positive number (a net profit is ≤ 0).
    pub realised_plus_open_loss: Decimal,
    /// This stock was already entered today.
    pub entered_today: bool,
    /// This stock was stopped out today (no re-entry).
    pub stopped_out_today: bool,
    /// Trading is paused (`skimd pause`) or not yet enabled by reconciliation.
    pub paused: bool,
}

/// Why an entry is not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Trading is paused.
    Paused,
    /// The stock was stopped out today.
    StoppedOutToday,
    /// The stock was already entered today.
    AlreadyEntered,
    /// Today's loss reached `max_daily_loss`.
    DailyLossLimit,
    /// `max_positions` are open.
    MaxPositions,
    /// Not in continuous trading (closed day, before 10:00, after the close).
    MarketNotOpen,
    /// At or after `entry_cutoff`.
    AfterCutoff,
    /// No last price.
    NoPrice,
    /// The last price is below `min_price`.
    BelowMinPrice,
    /// The last price has not cleared the opening-range high plus the buffer.
    NoBreakout,
    /// One share costs more than `max_position_value`.
    TooExpensive,
    /// The stop would round to nothing or not sit below the entry price.
    InvalidStop,
}

/// The entry decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum EntryDecision {
    /// Place this buy; once filled, protect it with a stop at `stop`.
    Buy {
        /// The entry order.
        order: OrderIntent,
        /// The protective stop (on the step, below the entry).
        stop: Price,
    },
    /// Do not enter, and why.
    Skip(SkipReason),
}

/// Shares to buy at `price`: `min(floor(max_position_value / price), max_shares)`; `None` when
/// that is 0 (one share costs more than `max_position_value`: no trade).
pub fn position_size(price: Price, settings: &StrategySettings) -> Option<Quantity> {
    let by_value = (settings.max_position_value / price.value()).floor();
    let by_value = u64::try_from(by_value).unwrap_or(u64::MAX);
    Quantity::new(by_value.min(settings.max_shares)).ok()
}

/// The marketable limit for a buy: the ask (or the last when there is no ask; the higher of
/// the two when both are known, so the limit is never below the last) plus
/// `limit_slippage_pct`, rounded up to the step. `None` without an ask or a last.
pub fn entry_limit_price(quote: &Quote, settings: &StrategySettings) -> Option<Price> {
    let base = match (quote.ask, quote.last) {
        (Some(a), Some(l)) => a.max(l),
        (Some(a), None) => a,
        (None, Some(l)) => l,
        (None, None) => return None,
    };
    let factor = Decimal::ONE + settings.limit_slippage_pct / Decimal::ONE_HUNDRED;
    let raw = Price::new(base.value() * factor).ok()?;
    Some(raw.round_up_to_step())
}

/// The protective stop for a new position: the opening-range low rounded down to the step.
pub fn initial_stop(range: &OpeningRange) -> Option<Price> {
    range.low().round_down_to_step()
}

/// The breakout level: the opening-range high plus `breakout_buffer` price steps. A last price
/// strictly above it is a breakout.
pub fn breakout_level(range: &OpeningRange, settings: &StrategySettings) -> Decimal {
    if settings.breakout_buffer == 0 {
        range.high().value()
    } else {
        asx::add_steps(range.high().value(), settings.breakout_buffer)
    }
}

/// Decides whether to buy `candidate` at `now`.
///
/// Checks in order: paused, stopped out today, entered today, daily loss, position count,
/// continuous trading, entry cutoff, a last price, `min_price`, the breakout (last > ORH +
/// buffer), the size, the stop. The order is sized at its own limit price (or, for a market
/// order, at the same marketable estimate), so its value stays within `max_position_value`.
pub fn entry_decision(
    now: DateTime<Utc>,
    calendar: &Calendar,
    candidate: &Candidate,
    range: &OpeningRange,
    quote: &Quote,
    book: &BookState,
    settings: &StrategySettings,
) -> EntryDecision {
    use SkipReason::*;
    let skip = EntryDecision::Skip;
    if book.paused {
        return skip(Paused);
    }
    if book.stopped_out_today {
        return skip(StoppedOutToday);
    }
    if book.entered_today {
        return skip(AlreadyEntered);
    }
    if book.realised_plus_open_loss >= settings.max_daily_loss {
        return skip(DailyLossLimit);
    }
    if book.open_positions >= settings.max_positions {
        return skip(MaxPositions);
    }
    if !calendar.is_continuous_trading(now) {
        return skip(MarketNotOpen);
    }
    if sydney_time(now) >= settings.entry_cutoff {
        return skip(AfterCutoff);
    }
    let Some(last) = quote.last else {
        return skip(NoPrice);
    };
    if last.value() < settings.min_price {
        return skip(BelowMinPrice);
    }
    if last.value() <= breakout_level(range, settings) {
        return skip(NoBreakout);
    }
    let Some(reference) = entry_limit_price(quote, settings) else {
        return skip(NoPrice);
    };
    let Some(quantity) = position_size(reference, settings) else {
        return skip(TooExpensive);
    };
    let Some(stop) = initial_stop(range) else {
        return skip(InvalidStop);
    };
    if stop >= last {
        return skip(InvalidStop);
    }
    let order_type = match settings.order_type {
        EntryOrderType::Limit => OrderType::Limit(reference),
        EntryOrderType::Market => OrderType::Market,
    };
    match OrderIntent::new(
        candidate.ticker.clone(),
        candidate.conid,
        Side::Buy,
        order_type,
        quantity,
        OrderPurpose::Entry,
    ) {
        Ok(order) => EntryDecision::Buy { order, stop },
        // The limit was rounded up to the step just above, so this cannot happen; skip rather
        // than trade on an invalid price if it ever did.
        Err(_) => skip(NoPrice),
    }
}
