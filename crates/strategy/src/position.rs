//! The position lifecycle: one exhaustive transition table.
//!
//! ```text
//!              EntryFill (partial)          ExitFill (stop/backstop, partial)
//!                 ┌────┐                        ┌────┐
//!                 ▼    │   EntryFill (complete) │    ▼      ExitFill(HalfExit) / HalfExitWaived
//!   PendingEntry ──────┴─────────────────────▶ Open ────────────────────────────────▶ HalfExited
//!        │  EntryCancelled/Rejected with fills ──▲  │ ExitFill that sells the rest            │
//!        │                                          ▼                                        │
//!        └── EntryCancelled/Rejected, no fills ──▶ Closed ◀── ExitFill that sells the rest ──┘
//! ```
//!
//! Quantities are tracked so that no sequence of events makes one negative: a fill beyond the
//! ordered quantity ([`StrategyError::OverFill`]) or a sale beyond the shares held
//! ([`StrategyError::OverSell`]) is refused, as is every event the table does not list
//! ([`StrategyError::InvalidTransition`]) and a lower stop ([`StrategyError::StopLowered`]).
//! A refused event leaves the caller holding the previous state (transition takes `self` and
//! the caller keeps a copy, or rebuilds from its record).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{LifecycleError, StrategyError};
use crate::types::{OrderPurpose, Price, Quantity, Ticker};

/// An entry order placed and not yet finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PendingEntryRecord")]
pub struct PendingEntry {
    ticker: Ticker,
    conid: i64,
    entry_date: NaiveDate,
    ordered: Quantity,
    filled: u64,
    cost: Decimal,
    stop: Price,
}

impl PendingEntry {
    /// A new entry order for `ordered` shares placed on `entry_date`, to be protected at `stop`.
    pub fn new(
        ticker: Ticker,
        conid: i64,
        entry_date: NaiveDate,
        ordered: Quantity,
        stop: Price,
    ) -> Self {
        Self {
            ticker,
            conid,
            entry_date,
            ordered,
            filled: 0,
            cost: Decimal::ZERO,
            stop,
        }
    }

    /// Rebuilds a pending entry from a record: `filled` shares bought so far for `cost` AUD
    /// in all. Refuses `filled > ordered` and a cost that does not fit the fills.
    pub fn restore(
        ticker: Ticker,
        conid: i64,
        entry_date: NaiveDate,
        ordered: Quantity,
        filled: u64,
        cost: Decimal,
        stop: Price,
    ) -> Result<Self, StrategyError> {
        if filled > ordered.get() {
            return Err(StrategyError::OverFill {
                requested: filled,
                open: ordered.get(),
            });
        }
        if (filled == 0) != cost.is_zero() || cost < Decimal::ZERO {
            return Err(StrategyError::InvalidPrice(cost));
        }
        Ok(Self {
            ticker,
            conid,
            entry_date,
            ordered,
            filled,
            cost,
            stop,
        })
    }

    /// The stock.
    pub fn ticker(&self) -> &Ticker {
        &self.ticker
    }
    /// IBKR's contract id.
    pub fn conid(&self) -> i64 {
        self.conid
    }
    /// The Sydney date of the entry.
    pub fn entry_date(&self) -> NaiveDate {
        self.entry_date
    }
    /// Shares ordered.
    pub fn ordered(&self) -> Quantity {
        self.ordered
    }
    /// Shares filled so far.
    pub fn filled(&self) -> u64 {
        self.filled
    }
    /// The protective stop.
    pub fn stop(&self) -> Price {
        self.stop
    }
    /// The average fill price so far.
    pub fn avg_price(&self) -> Option<Price> {
        average(self.cost, self.filled)
    }

    fn into_position(self) -> Result<Position, StrategyError> {
        let bought = Quantity::new(self.filled)?;
        Ok(Position {
            ticker: self.ticker,
            conid: self.conid,
            entry_date: self.entry_date,
            ordered: self.ordered,
            bought,
            cost: self.cost,
            sold: 0,
            proceeds: Decimal::ZERO,
            stop: self.stop,
        })
    }
}

/// A position holding shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PositionRecord")]
pub struct Position {
    ticker: Ticker,
    conid: i64,
    entry_date: NaiveDate,
    ordered: Quantity,
    bought: Quantity,
    cost: Decimal,
    sold: u64,
    proceeds: Decimal,
    stop: Price,
}

impl Position {
    /// Rebuilds a position from a record: `bought` shares (of `ordered`) for `cost` AUD in all,
    /// `sold` of them for `proceeds` AUD. Refuses quantities that do not add up.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        ticker: Ticker,
        conid: i64,
        entry_date: NaiveDate,
        ordered: Quantity,
        bought: Quantity,
        cost: Decimal,
        sold: u64,
        proceeds: Decimal,
        stop: Price,
    ) -> Result<Self, StrategyError> {
        if bought > ordered {
            return Err(StrategyError::OverFill {
                requested: bought.get(),
                open: ordered.get(),
            });
        }
        if sold >= bought.get() {
            return Err(StrategyError::OverSell {
                requested: sold,
                remaining: bought.get(),
            });
        }
        if cost <= Decimal::ZERO {
            return Err(StrategyError::InvalidPrice(cost));
        }
        if proceeds < Decimal::ZERO || (sold == 0) != proceeds.is_zero() {
            return Err(StrategyError::InvalidPrice(proceeds));
        }
        Ok(Self {
            ticker,
            conid,
            entry_date,
            ordered,
            bought,
            cost,
            sold,
            proceeds,
            stop,
        })
    }

    /// The stock.
    pub fn ticker(&self) -> &Ticker {
        &self.ticker
    }
    /// IBKR's contract id.
    pub fn conid(&self) -> i64 {
        self.conid
    }
    /// The Sydney date of the entry (the day-3 rule counts from it).
    pub fn entry_date(&self) -> NaiveDate {
        self.entry_date
    }
    /// Shares the entry order asked for.
    pub fn ordered(&self) -> Quantity {
        self.ordered
    }
    /// Shares bought.
    pub fn bought(&self) -> Quantity {
        self.bought
    }
    /// Shares sold so far.
    pub fn sold(&self) -> u64 {
        self.sold
    }
    /// Shares held: bought − sold, always ≥ 1 while the position is open.
    pub fn remaining(&self) -> Quantity {
        // `transition` and `restore` keep sold < bought, so this is ≥ 1; fall back to the
        // full position rather than panic if that were ever broken.
        Quantity::new(self.bought.get().saturating_sub(self.sold)).unwrap_or(self.bought)
    }
    /// The average entry price.
    pub fn avg_price(&self) -> Price {
        // cost > 0 and bought ≥ 1 by construction.
        average(self.cost, self.bought.get()).unwrap_or(self.stop)
    }
    /// Total paid for the shares bought (AUD).
    pub fn cost(&self) -> Decimal {
        self.cost
    }
    /// Total received for the shares sold (AUD).
    pub fn proceeds(&self) -> Decimal {
        self.proceeds
    }
    /// The protective stop.
    pub fn stop(&self) -> Price {
        self.stop
    }
    /// Realised profit (negative: loss) on the shares sold, at the average entry price.
    pub fn realised_pnl(&self) -> Decimal {
        self.proceeds - self.avg_price().value() * Decimal::from(self.sold)
    }
    /// Open profit (negative: loss) on the shares held, marked at `last`.
    pub fn open_pnl(&self, last: Price) -> Decimal {
        (last.value() - self.avg_price().value()) * Decimal::from(self.remaining().get())
    }
}

/// Why a position closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The entry was cancelled or rejected before any share filled.
    Abandoned,
    /// Sold by the broker's stop order or the client-side backstop.
    StoppedOut,
    /// The last shares went in a half-exit sale.
    HalfExit,
    /// Sold by the trailing SMA rule.
    TrailExit,
}

/// A finished position (or an entry that never filled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedPosition {
    /// The stock.
    pub ticker: Ticker,
    /// IBKR's contract id.
    pub conid: i64,
    /// The Sydney date of the entry.
    pub entry_date: NaiveDate,
    /// Why it closed.
    pub reason: CloseReason,
    /// Shares bought (0 when abandoned).
    pub bought: u64,
    /// Total paid (AUD).
    pub cost: Decimal,
    /// Total received (AUD).
    pub proceeds: Decimal,
}

impl ClosedPosition {
    /// Realised profit (negative: loss).
    pub fn realised_pnl(&self) -> Decimal {
        self.proceeds - self.cost
    }
}

/// Something that happened to a position, as reported by the broker or decided by skim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PositionEvent {
    /// Shares of the entry order filled (one execution; partial or final).
    EntryFill {
        /// Shares in this execution.
        quantity: Quantity,
        /// Its price.
        price: Price,
    },
    /// The entry order was cancelled (whatever filled before stays held).
    EntryCancelled,
    /// The entry order was rejected (whatever filled before stays held).
    EntryRejected,
    /// Shares were sold by an exit order.
    ExitFill {
        /// Shares in this execution.
        quantity: Quantity,
        /// Its price.
        price: Price,
        /// The order that sold them (never [`OrderPurpose::Entry`]).
        purpose: OrderPurpose,
    },
    /// The day-3 rule came due with fewer than 2 shares held (half of them is 0): move on to
    /// the trailing rule without selling.
    HalfExitWaived,
    /// The stop moved to this price (never down).
    StopRaised {
        /// The new stop.
        stop: Price,
    },
}

impl PositionEvent {
    /// The event's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::EntryFill { .. } => "EntryFill",
            Self::EntryCancelled => "EntryCancelled",
            Self::EntryRejected => "EntryRejected",
            Self::ExitFill { .. } => "ExitFill",
            Self::HalfExitWaived => "HalfExitWaived",
            Self::StopRaised { .. } => "StopRaised",
        }
    }
}

/// Where a position is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PositionState {
    /// The entry order is working; shares may be partly filled.
    PendingEntry(PendingEntry),
    /// Shares held; the day-3 half exit has not happened.
    Open(Position),
    /// Shares held after the half exit; the trailing SMA rule applies.
    HalfExited(Position),
    /// Nothing held any more.
    Closed(ClosedPosition),
}

impl PositionState {
    /// A new position waiting for its entry order to fill.
    pub fn pending(
        ticker: Ticker,
        conid: i64,
        entry_date: NaiveDate,
        ordered: Quantity,
        stop: Price,
    ) -> Self {
        Self::PendingEntry(PendingEntry::new(ticker, conid, entry_date, ordered, stop))
    }

    /// The state's name, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::PendingEntry(_) => "PendingEntry",
            Self::Open(_) => "Open",
            Self::HalfExited(_) => "HalfExited",
            Self::Closed(_) => "Closed",
        }
    }

    /// The stock.
    pub fn ticker(&self) -> &Ticker {
        match self {
            Self::PendingEntry(p) => &p.ticker,
            Self::Open(p) | Self::HalfExited(p) => &p.ticker,
            Self::Closed(c) => &c.ticker,
        }
    }

    /// The position, when shares are held after a completed (or ended) entry.
    pub fn position(&self) -> Option<&Position> {
        match self {
            Self::Open(p) | Self::HalfExited(p) => Some(p),
            _ => None,
        }
    }

    /// Shares held now (partly filled entries included).
    pub fn shares_held(&self) -> u64 {
        match self {
            Self::PendingEntry(p) => p.filled,
            Self::Open(p) | Self::HalfExited(p) => p.remaining().get(),
            Self::Closed(_) => 0,
        }
    }

    /// Whether the position is finished.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Closed(_))
    }

    /// Applies `event`. The whole lifecycle is this one match; anything it does not list is an
    /// error and the state is not changed.
    pub fn transition(self, event: PositionEvent) -> Result<PositionState, LifecycleError> {
        use PositionEvent as E;
        use PositionState as S;
        let invalid = |state: &PositionState| StrategyError::InvalidTransition {
            state: state.name(),
            event: event.name(),
        };
        match (self, event) {
            // ── entry ─────────────────────────────────────────────────────────────────
            (S::PendingEntry(mut p), E::EntryFill { quantity, price }) => {
                let open = p.ordered.get() - p.filled;
                if quantity.get() > open {
                    return Err(StrategyError::OverFill {
                        requested: quantity.get(),
                        open,
                    });
                }
                p.filled += quantity.get();
                p.cost += price.value() * Decimal::from(quantity.get());
                if p.filled == p.ordered.get() {
                    Ok(S::Open(p.into_position()?))
                } else {
                    Ok(S::PendingEntry(p))
                }
            }
            (S::PendingEntry(p), E::EntryCancelled | E::EntryRejected) => {
                if p.filled == 0 {
                    Ok(S::Closed(ClosedPosition {
                        ticker: p.ticker,
                        conid: p.conid,
                        entry_date: p.entry_date,
                        reason: CloseReason::Abandoned,
                        bought: 0,
                        cost: Decimal::ZERO,
                        proceeds: Decimal::ZERO,
                    }))
                } else {
                    Ok(S::Open(p.into_position()?))
                }
            }
            (S::PendingEntry(mut p), E::StopRaised { stop }) => {
                p.stop = raised(p.stop, stop)?;
                Ok(S::PendingEntry(p))
            }
            // A late execution of an entry order that was cancelled after a partial fill.
            (S::Open(mut p), E::EntryFill { quantity, price }) => {
                let open = p.ordered.get() - p.bought.get();
                if quantity.get() > open {
                    return Err(StrategyError::OverFill {
                        requested: quantity.get(),
                        open,
                    });
                }
                p.bought = Quantity::new(p.bought.get() + quantity.get())?;
                p.cost += price.value() * Decimal::from(quantity.get());
                Ok(S::Open(p))
            }
            // ── exits ─────────────────────────────────────────────────────────────────
            (
                S::Open(p),
                E::ExitFill {
                    quantity,
                    price,
                    purpose,
                },
            ) => sell(p, false, quantity, price, purpose),
            (
                S::HalfExited(p),
                E::ExitFill {
                    quantity,
                    price,
                    purpose,
                },
            ) => sell(p, true, quantity, price, purpose),
            (S::Open(p), E::HalfExitWaived) if p.remaining().get() < 2 => Ok(S::HalfExited(p)),
            (S::Open(mut p), E::StopRaised { stop }) => {
                p.stop = raised(p.stop, stop)?;
                Ok(S::Open(p))
            }
            (S::HalfExited(mut p), E::StopRaised { stop }) => {
                p.stop = raised(p.stop, stop)?;
                Ok(S::HalfExited(p))
            }
            // ── everything else ───────────────────────────────────────────────────────
            (
                state @ (S::PendingEntry(_) | S::Open(_) | S::HalfExited(_) | S::Closed(_)),
                E::EntryFill { .. }
                | E::EntryCancelled
                | E::EntryRejected
                | E::ExitFill { .. }
                | E::HalfExitWaived
                | E::StopRaised { .. },
            ) => Err(invalid(&state)),
        }
    }
}

/// An exit fill on a held position: only exit purposes, the trail only after the half exit,
/// never more than is held.
fn sell(
    mut p: Position,
    half_exited: bool,
    quantity: Quantity,
    price: Price,
    purpose: OrderPurpose,
) -> Result<PositionState, StrategyError> {
    let allowed = match purpose {
        OrderPurpose::Entry => false,
        OrderPurpose::TrailExit => half_exited,
        OrderPurpose::ProtectiveStop | OrderPurpose::StopBackstop | OrderPurpose::HalfExit => true,
    };
    if !allowed {
        return Err(StrategyError::InvalidTransition {
            state: if half_exited { "HalfExited" } else { "Open" },
            event: match purpose {
                OrderPurpose::Entry => "ExitFill(entry)",
                _ => "ExitFill(trail_exit)",
            },
        });
    }
    let remaining = p.remaining().get();
    if quantity.get() > remaining {
        return Err(StrategyError::OverSell {
            requested: quantity.get(),
            remaining,
        });
    }
    p.sold += quantity.get();
    p.proceeds += price.value() * Decimal::from(quantity.get());
    if p.sold == p.bought.get() {
        let reason = match purpose {
            OrderPurpose::HalfExit => CloseReason::HalfExit,
            OrderPurpose::TrailExit => CloseReason::TrailExit,
            _ => CloseReason::StoppedOut,
        };
        Ok(PositionState::Closed(ClosedPosition {
            ticker: p.ticker,
            conid: p.conid,
            entry_date: p.entry_date,
            reason,
            bought: p.bought.get(),
            cost: p.cost,
            proceeds: p.proceeds,
        }))
    } else if half_exited || purpose == OrderPurpose::HalfExit {
        Ok(PositionState::HalfExited(p))
    } else {
        Ok(PositionState::Open(p))
    }
}

/// The serialised form of a [`PendingEntry`], checked by [`PendingEntry::restore`] on load.
#[derive(Deserialize)]
struct PendingEntryRecord {
    ticker: Ticker,
    conid: i64,
    entry_date: NaiveDate,
    ordered: Quantity,
    filled: u64,
    cost: Decimal,
    stop: Price,
}

impl TryFrom<PendingEntryRecord> for PendingEntry {
    type Error = StrategyError;
    fn try_from(r: PendingEntryRecord) -> Result<Self, Self::Error> {
        Self::restore(
            r.ticker,
            r.conid,
            r.entry_date,
            r.ordered,
            r.filled,
            r.cost,
            r.stop,
        )
    }
}

/// The serialised form of a [`Position`], checked by [`Position::restore`] on load.
#[derive(Deserialize)]
struct PositionRecord {
    ticker: Ticker,
    conid: i64,
    entry_date: NaiveDate,
    ordered: Quantity,
    bought: Quantity,
    cost: Decimal,
    sold: u64,
    proceeds: Decimal,
    stop: Price,
}

impl TryFrom<PositionRecord> for Position {
    type Error = StrategyError;
    fn try_from(r: PositionRecord) -> Result<Self, Self::Error> {
        Self::restore(
            r.ticker,
            r.conid,
            r.entry_date,
            r.ordered,
            r.bought,
            r.cost,
            r.sold,
            r.proceeds,
            r.stop,
        )
    }
}

fn raised(current: Price, requested: Price) -> Result<Price, StrategyError> {
    if requested < current {
        Err(StrategyError::StopLowered {
            current: current.value(),
            requested: requested.value(),
        })
    } else {
        Ok(requested)
    }
}

fn average(total: Decimal, shares: u64) -> Option<Price> {
    if shares == 0 {
        return None;
    }
    Price::new(total / Decimal::from(shares)).ok()
}
