//! The crate's one error type.

use rust_decimal::Decimal;

/// Every way a strategy function can refuse its input.
///
/// Constructors of the domain types return it when a value is invalid, the announcements parser
/// when the ASX page no longer looks like the page it knows, and the position lifecycle when an
/// event does not fit the state. Classify with the `is_*` methods rather than matching strings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    /// Not an ASX code (3 to 6 upper-case letters or digits).
    #[error("invalid ticker {0:?}: an ASX code is 3 to 6 upper-case letters or digits")]
    InvalidTicker(String),
    /// A price that is zero or negative.
    #[error("invalid price {0}: a price must be greater than zero")]
    InvalidPrice(Decimal),
    /// A price that an order would carry but that is not on the ASX price step.
    #[error("price {0} is not on the ASX price step")]
    PriceOffStep(Decimal),
    /// A quantity of zero shares.
    #[error("invalid quantity {0}: a quantity is a whole number of shares greater than zero")]
    InvalidQuantity(u64),
    /// A gap that cannot be a percentage change of a price.
    #[error("invalid gap {0}: a gap is a percentage above -100")]
    InvalidGap(String),
    /// An opening range whose high is below its low.
    #[error("invalid opening range: high {high} is below low {low}")]
    InvalidOpeningRange {
        /// The offered high.
        high: Decimal,
        /// The offered low.
        low: Decimal,
    },
    /// A strategy setting out of its allowed range.
    #[error("invalid setting strategy.{name}: {reason}")]
    InvalidSetting {
        /// The setting's key in `[strategy]`.
        name: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// The ASX announcements page no longer has the layout the parser knows.
    #[error("the ASX announcements page format changed: {0}")]
    PageFormatChanged(String),
    /// An event that the position's current state does not allow.
    #[error("position lifecycle: event {event} is not allowed in state {state}")]
    InvalidTransition {
        /// The state's name.
        state: &'static str,
        /// The event's name.
        event: &'static str,
    },
    /// A sale of more shares than the position holds.
    #[error("position lifecycle: selling {requested} shares but only {remaining} remain")]
    OverSell {
        /// Shares in the sale.
        requested: u64,
        /// Shares the position holds.
        remaining: u64,
    },
    /// An entry fill beyond the ordered quantity.
    #[error("position lifecycle: a fill of {requested} shares exceeds the {open} still to fill")]
    OverFill {
        /// Shares in the fill.
        requested: u64,
        /// Shares of the order not yet filled.
        open: u64,
    },
    /// An attempt to move a stop down.
    #[error("position lifecycle: the stop never moves down ({current} to {requested} refused)")]
    StopLowered {
        /// The stop now.
        current: Decimal,
        /// The lower stop asked for.
        requested: Decimal,
    },
}

impl StrategyError {
    /// The ASX announcements page changed layout: the parser needs repair, and today's
    /// candidates cannot be known (do not trade on an empty list).
    pub fn is_page_format_changed(&self) -> bool {
        matches!(self, Self::PageFormatChanged(_))
    }

    /// An event refused by the position lifecycle: the record and the broker disagree, or the
    /// caller has a bug; report it, never overwrite the state.
    pub fn is_lifecycle(&self) -> bool {
        matches!(
            self,
            Self::InvalidTransition { .. }
                | Self::OverSell { .. }
                | Self::OverFill { .. }
                | Self::StopLowered { .. }
        )
    }

    /// A value or setting that failed validation.
    pub fn is_invalid_input(&self) -> bool {
        !self.is_page_format_changed() && !self.is_lifecycle()
    }
}

/// The announcements parser's error: [`StrategyError::PageFormatChanged`].
pub type ParseError = StrategyError;

/// The position lifecycle's error: see [`StrategyError::is_lifecycle`].
pub type LifecycleError = StrategyError;
