//! The `[strategy]` settings.

use chrono::NaiveTime;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::StrategyError;

/// The default `entry_cutoff`, 15:30.
pub const DEFAULT_ENTRY_CUTOFF: NaiveTime = match NaiveTime::from_hms_opt(15, 30, 0) {
    Some(t) => t,
    None => panic!("15:30 is a valid time"),
};

/// How the entry order is placed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryOrderType {
    /// A marketable limit: the ask (or last) plus `limit_slippage_pct`, rounded up to the step.
    #[default]
    Limit,
    /// A market order.
    Market,
}

/// The trading rules' settings (`[strategy]` in `config/default.toml`); `Default` gives the
/// documented defaults. Unknown keys are refused when deserialising; call
/// [`StrategySettings::validate`] after loading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategySettings {
    /// Minimum opening gap, in percent, for a stock to be a candidate.
    #[serde(deserialize_with = "deserialize_decimal")]
    pub gap_threshold_pct: Decimal,
    /// Minimum share price (AUD) for candidates and entries.
    #[serde(deserialize_with = "deserialize_decimal")]
    pub min_price: Decimal,
    /// Minimum volume for the scanner filter (applied at IBKR by the daemon).
    pub min_volume: u64,
    /// Minutes after 10:00 that make up the opening range.
    pub opening_range_minutes: u32,
    /// Extra price steps above the opening-range high that a price must clear.
    pub breakout_buffer: u32,
    /// No new entries at or after this Sydney time.
    #[serde(
        serialize_with = "serialize_hhmm",
        deserialize_with = "deserialize_hhmm"
    )]
    pub entry_cutoff: NaiveTime,
    /// Most positions open at once.
    pub max_positions: u32,
    /// Most AUD in one position.
    #[serde(deserialize_with = "deserialize_decimal")]
    pub max_position_value: Decimal,
    /// Most shares in one position.
    pub max_shares: u64,
    /// No new entries once today's realised + open loss (AUD) reaches this.
    #[serde(deserialize_with = "deserialize_decimal")]
    pub max_daily_loss: Decimal,
    /// Marketable limit or market entry.
    pub order_type: EntryOrderType,
    /// Slippage allowed above the ask for a limit entry, in percent.
    #[serde(deserialize_with = "deserialize_decimal")]
    pub limit_slippage_pct: Decimal,
    /// Keep the protective stop at the broker as a STP order (the daemon acts on it; the
    /// client-side stop check runs either way).
    pub broker_stop: bool,
    /// Raise the stop with the low of the day (it never moves down).
    pub trail_stop_to_low_of_day: bool,
    /// Sell half this many ASX trading days after the entry day.
    pub half_exit_after_days: u32,
    /// After the half exit, sell the rest below this simple moving average of daily closes.
    pub trail_sma_days: u32,
}

impl Default for StrategySettings {
    fn default() -> Self {
        Self {
            gap_threshold_pct: Decimal::new(30, 1),
            min_price: Decimal::new(20, 2),
            min_volume: 50_000,
            opening_range_minutes: 5,
            breakout_buffer: 0,
            entry_cutoff: DEFAULT_ENTRY_CUTOFF,
            max_positions: 5,
            max_position_value: Decimal::from(5000),
            max_shares: 1000,
            max_daily_loss: Decimal::from(500),
            order_type: EntryOrderType::Limit,
            limit_slippage_pct: Decimal::new(10, 1),
            broker_stop: true,
            trail_stop_to_low_of_day: false,
            half_exit_after_days: 3,
            trail_sma_days: 10,
        }
    }
}

impl StrategySettings {
    /// Checks every setting's range; the error names the setting and what is allowed.
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |name: &'static str, reason: &str| {
            Err(StrategyError::InvalidSetting {
                name,
                reason: reason.to_owned(),
            })
        };
        if self.gap_threshold_pct <= Decimal::ZERO {
            return bad("gap_threshold_pct", "must be greater than 0");
        }
        if self.min_price <= Decimal::ZERO {
            return bad("min_price", "must be greater than 0");
        }
        if self.opening_range_minutes == 0 || self.opening_range_minutes > 300 {
            return bad("opening_range_minutes", "must be 1 to 300");
        }
        if self.breakout_buffer > 100 {
            return bad("breakout_buffer", "must be 0 to 100 price steps");
        }
        if self.max_positions == 0 {
            return bad("max_positions", "must be at least 1");
        }
        if self.max_position_value <= Decimal::ZERO {
            return bad("max_position_value", "must be greater than 0");
        }
        if self.max_shares == 0 {
            return bad("max_shares", "must be at least 1");
        }
        if self.max_daily_loss <= Decimal::ZERO {
            return bad("max_daily_loss", "must be greater than 0");
        }
        if self.limit_slippage_pct < Decimal::ZERO || self.limit_slippage_pct > Decimal::from(20) {
            return bad("limit_slippage_pct", "must be 0 to 20 percent");
        }
        if self.half_exit_after_days == 0 {
            return bad("half_exit_after_days", "must be at least 1");
        }
        if self.trail_sma_days == 0 {
            return bad("trail_sma_days", "must be at least 1");
        }
        Ok(())
    }
}

/// A decimal setting from a string (`"0.20"`) or a number (`0.20` in TOML). A number arrives
/// as the format's float; its shortest decimal form (`0.2`) is what the file said, so it is
/// parsed from that text rather than converted bit by bit.
fn deserialize_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a decimal number or a string holding one")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            v.trim()
                .parse::<Decimal>()
                .map_err(|_| E::custom(format!("{v:?} is not a decimal number")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            if !v.is_finite() {
                return Err(E::custom("not a finite number"));
            }
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
    }
    d.deserialize_any(Visitor)
}

fn serialize_hhmm<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.format("%H:%M").to_string())
}

fn deserialize_hhmm<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
    let text = String::deserialize(d)?;
    NaiveTime::parse_from_str(&text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(&text, "%H:%M:%S"))
        .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a time like \"15:30\"")))
}
