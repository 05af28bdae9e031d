//! The plain enums stored as TEXT: order side, type, purpose and state, position state,
//! candidate status and job outcome. Each has `as_str` (the exact database spelling), `FromStr`,
//! `Display` and `ALL`.

use std::fmt;
use std::str::FromStr;

/// A string that is not one of an enum's spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}")]
pub struct ParseEnumError {
    /// Which enum was being parsed.
    pub kind: &'static str,
    /// The text that did not match.
    pub value: String,
}

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseEnumError { kind: $kind, value: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Buy or sell (IBKR spelling).
    Side, "order side" {
        Buy => "BUY",
        Sell => "SELL",
    }
}

text_enum! {
    /// IBKR order type.
    OrderType, "order type" {
        /// Market.
        Market => "MKT",
        /// Limit: needs a limit price.
        Limit => "LMT",
        /// Stop: needs a stop price.
        Stop => "STP",
    }
}

text_enum! {
    /// Why an order exists.
    OrderPurpose, "order purpose" {
        /// The buy that opens a position (at most one live one per ticker per day).
        Entry => "entry",
        /// The broker-side STP that protects an open position.
        ProtectiveStop => "protective_stop",
        /// The day-3 sale of half the position.
        HalfExit => "half_exit",
        /// The sale of the rest when the price closes below the trailing SMA.
        TrailExit => "trail_exit",
        /// The client-side stop check's market sell (when the broker stop did not fire).
        StopBackstop => "stop_backstop",
        /// Placed by hand.
        Manual => "manual",
    }
}

text_enum! {
    /// Where an order is in its life. Changes only through [`crate::transition`].
    OrderState, "order state" {
        /// Written, not yet (known to be) at the broker.
        Pending => "pending",
        /// IBKR accepted it and gave it an order id.
        Submitted => "submitted",
        /// Some, not all, of the quantity has filled.
        PartiallyFilled => "partially_filled",
        /// All of the quantity has filled.
        Filled => "filled",
        /// Cancelled (the rest, if it had partly filled).
        Cancelled => "cancelled",
        /// IBKR refused it.
        Rejected => "rejected",
        /// We could not send it, or reconciliation found IBKR never knew it.
        Failed => "failed",
    }
}

impl OrderState {
    /// No further change is allowed.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Cancelled | Self::Rejected | Self::Failed
        )
    }

    /// The order may still trade (pending, submitted or partially filled).
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }
}

text_enum! {
    /// Where a position is in its life. Changes only through [`crate::position_transition`].
    PositionState, "position state" {
        /// Created with its entry order; no share bought yet.
        PendingEntry => "pending_entry",
        /// Holding shares.
        Open => "open",
        /// The day-3 half has been sold; the rest trails.
        HalfExited => "half_exited",
        /// Nothing held any more (or the entry never filled).
        Closed => "closed",
    }
}

text_enum! {
    /// What became of a candidate.
    CandidateStatus, "candidate status" {
        /// Waiting for a break of its opening-range high.
        Watching => "watching",
        /// An entry was placed.
        Entered => "entered",
        /// Not traded, with a reason.
        Skipped => "skipped",
        /// Its day ended without an entry (set by `purge`).
        Expired => "expired",
    }
}

text_enum! {
    /// How a job run ended.
    JobOutcome, "job outcome" {
        Ok => "ok",
        Error => "error",
        Skipped => "skipped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + FromStr + fmt::Display,
        T::Err: fmt::Debug,
    {
        for v in all {
            let s = v.to_string();
            assert_eq!(s.parse::<T>().unwrap(), *v);
        }
    }

    #[test]
    fn every_enum_round_trips_through_its_text() {
        round_trip(Side::ALL);
        round_trip(OrderType::ALL);
        round_trip(OrderPurpose::ALL);
        round_trip(OrderState::ALL);
        round_trip(PositionState::ALL);
        round_trip(CandidateStatus::ALL);
        round_trip(JobOutcome::ALL);
    }

    #[test]
    fn unknown_text_is_an_error_naming_the_kind() {
        let e = "HOLD".parse::<Side>().unwrap_err();
        assert_eq!(e.to_string(), "unknown order side \"HOLD\"");
        assert!("Pending".parse::<OrderState>().is_err());
    }

    #[test]
    fn database_spellings_are_the_ibkr_ones() {
        assert_eq!(Side::Buy.as_str(), "BUY");
        assert_eq!(OrderType::Stop.as_str(), "STP");
        assert_eq!(OrderState::PartiallyFilled.as_str(), "partially_filled");
    }
}

/// A state machine refused `from → to`. Returned by the pure transition functions; the
/// repository methods wrap it in a [`crate::StoreError`] naming the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal transition {from} -> {to}")]
pub struct TransitionError<S: fmt::Display + fmt::Debug> {
    pub from: S,
    pub to: S,
}
