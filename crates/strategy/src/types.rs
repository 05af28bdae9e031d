//! Domain types. Each one is valid once constructed (private fields, `new`/`parse` returning
//! `Result`), so the rules never re-check them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::asx;
use crate::error::StrategyError;

/// An ASX code: 3 to 6 upper-case ASCII letters or digits (`BHP`, `1AE`, `BHPKOA`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Ticker(String);

impl Ticker {
    /// Parses an ASX code exactly as written (no trimming, no case folding).
    pub fn parse(code: &str) -> Result<Self, StrategyError> {
        let ok = (3..=6).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(code.to_owned()))
        } else {
            Err(StrategyError::InvalidTicker(code.to_owned()))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Ticker {
    type Err = StrategyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<Ticker> for String {
    fn from(t: Ticker) -> Self {
        t.0
    }
}

impl<'de> Deserialize<'de> for Ticker {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A price in AUD, greater than zero. Not necessarily on the price step (market data and
/// average fill prices need not be); prices that go into orders are made with
/// [`Price::round_up_to_step`] / [`Price::round_down_to_step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "Decimal")]
pub struct Price(Decimal);

impl Price {
    /// A price from a decimal; zero or negative is refused.
    pub fn new(value: Decimal) -> Result<Self, StrategyError> {
        if value > Decimal::ZERO {
            Ok(Self(value))
        } else {
            Err(StrategyError::InvalidPrice(value))
        }
    }

    /// The price as a decimal.
    pub fn value(self) -> Decimal {
        self.0
    }

    /// The ASX price step that applies at this price.
    pub fn step(self) -> Decimal {
        asx::price_step(self.0)
    }

    /// Whether the price is a whole number of steps (valid in an order).
    pub fn is_on_step(self) -> bool {
        asx::is_on_step(self.0)
    }

    /// The nearest price on the step at or above this one (for buy limits). Always > 0.
    pub fn round_up_to_step(self) -> Price {
        // Rounding a positive number up never gives zero or less.
        Price(asx::round_up_to_step(self.0))
    }

    /// The nearest price on the step at or below this one (for sell stops); `None` when that
    /// would be zero (a price below the smallest step, 0.001).
    pub fn round_down_to_step(self) -> Option<Price> {
        Price::new(asx::round_down_to_step(self.0)).ok()
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<Price> for Decimal {
    fn from(p: Price) -> Self {
        p.0
    }
}

impl TryFrom<Decimal> for Price {
    type Error = StrategyError;
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        Self::new(d)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = <Decimal as Deserialize>::deserialize(d)?;
        Self::new(v).map_err(serde::de::Error::custom)
    }
}

/// A whole number of shares, greater than zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u64")]
pub struct Quantity(u64);

impl Quantity {
    /// A quantity; zero is refused.
    pub fn new(shares: u64) -> Result<Self, StrategyError> {
        if shares > 0 {
            Ok(Self(shares))
        } else {
            Err(StrategyError::InvalidQuantity(shares))
        }
    }

    /// The number of shares.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<Quantity> for u64 {
    fn from(q: Quantity) -> Self {
        q.0
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(d)?;
        Self::new(v).map_err(serde::de::Error::custom)
    }
}

/// An opening gap in percent (`12.31` = the open is 12.31 % above the previous close).
/// Above -100 (a price cannot fall below zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "Decimal")]
pub struct GapPct(Decimal);

impl GapPct {
    /// A gap from a decimal percentage; -100 or below is refused.
    pub fn new(pct: Decimal) -> Result<Self, StrategyError> {
        if pct > -Decimal::ONE_HUNDRED {
            Ok(Self(pct))
        } else {
            Err(StrategyError::InvalidGap(pct.to_string()))
        }
    }

    /// Parses the scanner's text: `"+12.31%"`, `"12.31"`, `"12.31%"`, `"-4.5 %"`, `"1,234.5%"`.
    /// Surrounding whitespace, one leading sign, a trailing `%` and thousands separators are
    /// accepted; anything else is refused.
    pub fn parse(text: &str) -> Result<Self, StrategyError> {
        let err = || StrategyError::InvalidGap(text.to_owned());
        let t = text.trim();
        let t = t.strip_suffix('%').map(str::trim_end).unwrap_or(t);
        let (negative, digits) = match t.as_bytes().first() {
            Some(b'+') => (false, &t[1..]),
            Some(b'-') => (true, &t[1..]),
            _ => (false, t),
        };
        let digits: String = digits.chars().filter(|c| *c != ',').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(err());
        }
        let value = Decimal::from_str(&digits).map_err(|_| err())?;
        let value = if negative { -value } else { value };
        Self::new(value).map_err(|_| err())
    }

    /// The gap in percent.
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl fmt::Display for GapPct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl From<GapPct> for Decimal {
    fn from(g: GapPct) -> Self {
        g.0
    }
}

impl<'de> Deserialize<'de> for GapPct {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = <Decimal as Deserialize>::deserialize(d)?;
        Self::new(v).map_err(serde::de::Error::custom)
    }
}

/// The high and low traded in the opening range (10:00 to 10:00 + `opening_range_minutes`).
/// Invariant: high ≥ low > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct OpeningRange {
    high: Price,
    low: Price,
}

impl OpeningRange {
    /// A range; a high below the low is refused.
    pub fn new(high: Price, low: Price) -> Result<Self, StrategyError> {
        if high >= low {
            Ok(Self { high, low })
        } else {
            Err(StrategyError::InvalidOpeningRange {
                high: high.value(),
                low: low.value(),
            })
        }
    }

    /// The opening-range high (ORH): the breakout level.
    pub fn high(self) -> Price {
        self.high
    }

    /// The opening-range low: the protective stop.
    pub fn low(self) -> Price {
        self.low
    }
}

impl<'de> Deserialize<'de> for OpeningRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            high: Price,
            low: Price,
        }
        let raw = Raw::deserialize(d)?;
        Self::new(raw.high, raw.low).map_err(serde::de::Error::custom)
    }
}

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    /// Buy (IBKR `BUY`).
    Buy,
    /// Sell (IBKR `SELL`).
    Sell,
}

/// The kind of order, with the price it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "price", rename_all = "snake_case")]
pub enum OrderType {
    /// At the market (IBKR `MKT`).
    Market,
    /// A limit order at this price (IBKR `LMT`, `price`).
    Limit(Price),
    /// A stop order triggered at this price (IBKR `STP`, `price`).
    Stop(Price),
}

impl OrderType {
    /// The limit price, for a limit order.
    pub fn limit_price(self) -> Option<Price> {
        match self {
            Self::Limit(p) => Some(p),
            _ => None,
        }
    }

    /// The stop (trigger) price, for a stop order.
    pub fn stop_price(self) -> Option<Price> {
        match self {
            Self::Stop(p) => Some(p),
            _ => None,
        }
    }

    /// The price the order carries, if any.
    pub fn price(self) -> Option<Price> {
        match self {
            Self::Market => None,
            Self::Limit(p) | Self::Stop(p) => Some(p),
        }
    }

    /// IBKR's name for the order type (`MKT`, `LMT`, `STP`).
    pub fn ibkr_code(self) -> &'static str {
        match self {
            Self::Market => "MKT",
            Self::Limit(_) => "LMT",
            Self::Stop(_) => "STP",
        }
    }
}

/// Why an order exists: the daemon stores it with the order and routes fills by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderPurpose {
    /// The buy that opens a position.
    Entry,
    /// The STP order kept at the broker at the protective stop.
    ProtectiveStop,
    /// The day-3 sale of half the shares.
    HalfExit,
    /// The sale of the rest when the price falls below the SMA.
    TrailExit,
    /// A client-side sale of everything when the last price is at or below the stop (the
    /// broker's STP should have done it; this is the backstop).
    StopBackstop,
}

impl OrderPurpose {
    /// The name used in records (`entry`, `protective_stop`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::ProtectiveStop => "protective_stop",
            Self::HalfExit => "half_exit",
            Self::TrailExit => "trail_exit",
            Self::StopBackstop => "stop_backstop",
        }
    }
}

/// An order the strategy wants placed. The daemon records it, gives it a client order id and
/// sends it; the strategy never sends anything. Every price in it is on the ASX price step.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct OrderIntent {
    ticker: Ticker,
    conid: i64,
    side: Side,
    order_type: OrderType,
    quantity: Quantity,
    purpose: OrderPurpose,
}

impl OrderIntent {
    /// An order; a price off the ASX step is refused.
    pub fn new(
        ticker: Ticker,
        conid: i64,
        side: Side,
        order_type: OrderType,
        quantity: Quantity,
        purpose: OrderPurpose,
    ) -> Result<Self, StrategyError> {
        if let Some(p) = order_type.price()
            && !p.is_on_step()
        {
            return Err(StrategyError::PriceOffStep(p.value()));
        }
        Ok(Self {
            ticker,
            conid,
            side,
            order_type,
            quantity,
            purpose,
        })
    }

    /// The stock.
    pub fn ticker(&self) -> &Ticker {
        &self.ticker
    }
    /// IBKR's contract id of the stock.
    pub fn conid(&self) -> i64 {
        self.conid
    }
    /// Buy or sell.
    pub fn side(&self) -> Side {
        self.side
    }
    /// Market, limit or stop, with its price.
    pub fn order_type(&self) -> OrderType {
        self.order_type
    }
    /// Shares.
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
    /// Why the order exists.
    pub fn purpose(&self) -> OrderPurpose {
        self.purpose
    }
    /// The limit price, for a limit order.
    pub fn limit_price(&self) -> Option<Price> {
        self.order_type.limit_price()
    }
    /// The stop price, for a stop order.
    pub fn stop_price(&self) -> Option<Price> {
        self.order_type.stop_price()
    }
}

/// A market-data snapshot of one stock. Any field may be missing (no trade yet, no quote).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Last traded price.
    pub last: Option<Price>,
    /// Best bid.
    pub bid: Option<Price>,
    /// Best ask.
    pub ask: Option<Price>,
}

/// One price bar (for example a 1-minute bar from the broker's history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// When the bar starts.
    pub start: DateTime<Utc>,
    /// Highest trade in the bar.
    pub high: Price,
    /// Lowest trade in the bar.
    pub low: Price,
    /// Last trade in the bar.
    pub close: Price,
}
