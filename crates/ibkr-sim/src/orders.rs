//! Orders: the ticket a client sends, its validation (as IBKR refuses bad tickets), the order
//! the sim keeps, and the one state machine that moves it.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;

/// BUY or SELL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
    /// The one-letter form of trades and order status (`B` / `S`).
    pub fn letter(self) -> &'static str {
        match self {
            Side::Buy => "B",
            Side::Sell => "S",
        }
    }
}

/// The order types skim uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderType {
    Market,
    Limit,
    Stop,
    StopLimit,
}

impl OrderType {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "MKT" => Some(Self::Market),
            "LMT" => Some(Self::Limit),
            "STP" => Some(Self::Stop),
            "STOP_LIMIT" => Some(Self::StopLimit),
            _ => None,
        }
    }
    /// The ticket form (`LMT`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Market => "MKT",
            Self::Limit => "LMT",
            Self::Stop => "STP",
            Self::StopLimit => "STOP_LIMIT",
        }
    }
    /// `orderType` in `/iserver/account/orders` (`Limit`).
    pub fn display(self) -> &'static str {
        match self {
            Self::Market => "Market",
            Self::Limit => "Limit",
            Self::Stop => "Stop",
            Self::StopLimit => "Stop Limit",
        }
    }
    /// `origOrderType` / `order_type` (`LIMIT`).
    pub fn upper(self) -> &'static str {
        match self {
            Self::Market => "MARKET",
            Self::Limit => "LIMIT",
            Self::Stop => "STOP",
            Self::StopLimit => "STOP_LIMIT",
        }
    }
}

/// IBKR order statuses the sim uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Working, held by IBKR (stops before they trigger).
    PreSubmitted,
    /// Working at the exchange.
    Submitted,
    Filled,
    Cancelled,
    /// Rejected.
    Inactive,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreSubmitted => "PreSubmitted",
            Self::Submitted => "Submitted",
            Self::Filled => "Filled",
            Self::Cancelled => "Cancelled",
            Self::Inactive => "Inactive",
        }
    }
    pub fn is_working(self) -> bool {
        matches!(self, Self::PreSubmitted | Self::Submitted)
    }
}

/// What happens to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEvent {
    /// A stop order's trigger price was reached.
    Triggered,
    /// An execution that leaves some quantity open.
    PartialFill,
    /// An execution that completes the order.
    FinalFill,
    Cancel,
    /// A modification (price / quantity) accepted.
    Modified,
}

/// The order state machine: every status change goes through here; anything else is an error.
pub fn transition(state: OrderStatus, event: OrderEvent) -> Result<OrderStatus, String> {
    use OrderEvent as E;
    use OrderStatus as S;
    match (state, event) {
        (S::PreSubmitted | S::Submitted, E::Triggered) => Ok(S::Submitted),
        (S::PreSubmitted | S::Submitted, E::PartialFill) => Ok(S::Submitted),
        (S::PreSubmitted | S::Submitted, E::FinalFill) => Ok(S::Filled),
        (S::PreSubmitted | S::Submitted, E::Cancel) => Ok(S::Cancelled),
        (s @ (S::PreSubmitted | S::Submitted), E::Modified) => Ok(s),
        (s, e) => Err(format!("order in state {} cannot take {e:?}", s.as_str())),
    }
}

/// An order as the sim holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOrder {
    pub order_id: u64,
    /// The client order id (`cOID`), echoed as `order_ref`.
    pub coid: Option<String>,
    pub conid: u64,
    pub symbol: String,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: Decimal,
    /// Limit price (LMT, STOP_LIMIT) or stop price (STP).
    pub price: Option<Decimal>,
    /// Stop price of a STOP_LIMIT.
    pub aux_price: Option<Decimal>,
    pub tif: String,
    pub outside_rth: bool,
    pub status: OrderStatus,
    pub filled: Decimal,
    pub avg_price: Option<Decimal>,
    /// A stop (STP / STOP_LIMIT) whose trigger was reached.
    pub triggered: bool,
    pub created_ms: i64,
    pub last_execution_ms: Option<i64>,
}

impl SimOrder {
    pub fn remaining(&self) -> Decimal {
        self.quantity - self.filled
    }
    /// The stop trigger: `price` for STP, `auxPrice` for STOP_LIMIT.
    pub fn stop_price(&self) -> Option<Decimal> {
        match self.order_type {
            OrderType::Stop => self.price,
            OrderType::StopLimit => self.aux_price,
            _ => None,
        }
    }
    /// Applies an event through [`transition`].
    pub fn apply(&mut self, event: OrderEvent) -> Result<(), String> {
        self.status = transition(self.status, event)?;
        Ok(())
    }
}

/// A validated ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub conid: u64,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: Decimal,
    pub price: Option<Decimal>,
    pub aux_price: Option<Decimal>,
    pub tif: String,
    pub coid: Option<String>,
    pub outside_rth: bool,
}

/// The ASX price step at a price: 0.1c below 10c, 0.5c below $2, 1c from $2.
pub fn asx_tick(price: Decimal) -> Decimal {
    if price < Decimal::new(10, 2) {
        Decimal::new(1, 3)
    } else if price < Decimal::from(2) {
        Decimal::new(5, 3)
    } else {
        Decimal::new(1, 2)
    }
}

/// Whether a price is positive and on the ASX step.
pub fn on_asx_tick(price: Decimal) -> bool {
    price > Decimal::ZERO && (price % asx_tick(price)).is_zero()
}

fn decimal_field(ticket: &Value, key: &str) -> Result<Option<Decimal>, String> {
    match ticket.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .map(Some)
            .map_err(|_| format!("{key} is not a number")),
        Some(Value::String(s)) => Decimal::from_str(s.trim())
            .map(Some)
            .map_err(|_| format!("{key} is not a number")),
        Some(_) => Err(format!("{key} is not a number")),
    }
}

/// Parses and validates one ticket the way IBKR refuses bad ones. `known_conid` says whether a
/// contract exists. Error strings are what goes in `{"error": …}`.
pub fn parse_ticket(ticket: &Value, known_conid: impl Fn(u64) -> bool) -> Result<Ticket, String> {
    if !ticket.is_object() {
        return Err("Order ticket must be a JSON object".into());
    }
    let conid = match ticket.get("conid") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or("Contract identifier (conid) is missing or invalid")?;
    if !known_conid(conid) {
        return Err(format!("Contract ID {conid} is not valid"));
    }
    let side = match ticket.get("side").and_then(Value::as_str) {
        Some("BUY") => Side::Buy,
        Some("SELL") => Side::Sell,
        other => return Err(format!("Invalid side: {}", other.unwrap_or("missing"))),
    };
    let order_type = ticket
        .get("orderType")
        .and_then(Value::as_str)
        .and_then(OrderType::parse)
        .ok_or_else(|| {
            format!(
                "Invalid order type: {}",
                ticket
                    .get("orderType")
                    .map(Value::to_string)
                    .unwrap_or_else(|| "missing".into())
            )
        })?;
    let quantity = decimal_field(ticket, "quantity")?.ok_or("Order quantity is missing")?;
    if quantity <= Decimal::ZERO || !quantity.fract().is_zero() {
        return Err(format!(
            "Invalid order quantity {quantity}: must be a positive whole number"
        ));
    }
    let price = decimal_field(ticket, "price")?;
    let aux_price = decimal_field(ticket, "auxPrice")?;
    match order_type {
        OrderType::Market => {}
        OrderType::Limit | OrderType::Stop => {
            let p = price
                .ok_or_else(|| format!("price is required for {} orders", order_type.code()))?;
            check_tick(p)?;
        }
        OrderType::StopLimit => {
            let p = price.ok_or("price (the limit) is required for STOP_LIMIT orders")?;
            let a = aux_price.ok_or("auxPrice (the stop) is required for STOP_LIMIT orders")?;
            check_tick(p)?;
            check_tick(a)?;
        }
    }
    let tif = match ticket.get("tif").and_then(Value::as_str) {
        None => "DAY".to_owned(),
        Some(t @ ("DAY" | "GTC" | "IOC" | "OPG")) => t.to_owned(),
        Some(other) => return Err(format!("Invalid time in force: {other}")),
    };
    let coid = match ticket.get("cOID") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(_) => return Err("cOID must be a non-empty string".into()),
    };
    let outside_rth = ticket
        .get("outsideRTH")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Ok(Ticket {
        conid,
        side,
        order_type,
        quantity,
        price: if order_type == OrderType::Market {
            None
        } else {
            price
        },
        aux_price: if order_type == OrderType::StopLimit {
            aux_price
        } else {
            None
        },
        tif,
        coid,
        outside_rth,
    })
}

fn check_tick(p: Decimal) -> Result<(), String> {
    if on_asx_tick(p) {
        Ok(())
    } else {
        Err(format!(
            "The price {p} does not conform to the minimum price variation for this contract ({}).",
            asx_tick(p.abs())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn asx_steps() {
        assert!(on_asx_tick(Decimal::new(95, 3))); // 0.095
        assert!(!on_asx_tick(Decimal::new(1005, 4))); // 0.1005
        assert!(on_asx_tick(Decimal::new(105, 3))); // 0.105
        assert!(!on_asx_tick(Decimal::new(107, 3))); // 0.107
        assert!(on_asx_tick(Decimal::new(1995, 3))); // 1.995
        assert!(!on_asx_tick(Decimal::new(2005, 3))); // 2.005
        assert!(on_asx_tick(Decimal::new(201, 2))); // 2.01
        assert!(!on_asx_tick(Decimal::ZERO));
    }

    #[test]
    fn tickets_are_validated() {
        let ok = json!({"conid": 1, "side": "BUY", "orderType": "LMT", "quantity": 100, "price": 1.255, "tif": "DAY", "cOID": "x"});
        let t = parse_ticket(&ok, |c| c == 1).unwrap();
        assert_eq!(t.price, Some(Decimal::new(1255, 3)));
        let bad_tick =
            json!({"conid": 1, "side": "BUY", "orderType": "LMT", "quantity": 100, "price": 1.257});
        assert!(
            parse_ticket(&bad_tick, |_| true)
                .unwrap_err()
                .contains("minimum price variation")
        );
        let frac = json!({"conid": 1, "side": "BUY", "orderType": "MKT", "quantity": 1.5});
        assert!(parse_ticket(&frac, |_| true).is_err());
        let side = json!({"conid": 1, "side": "buy", "orderType": "MKT", "quantity": 1});
        assert!(parse_ticket(&side, |_| true).is_err());
        let unknown = json!({"conid": 2, "side": "BUY", "orderType": "MKT", "quantity": 1});
        assert!(parse_ticket(&unknown, |c| c == 1).is_err());
        let stp = json!({"conid": 1, "side": "SELL", "orderType": "STP", "quantity": 1});
        assert!(parse_ticket(&stp, |_| true).is_err());
    }

    #[test]
    fn finished_orders_do_not_move() {
        assert!(transition(OrderStatus::Filled, OrderEvent::Cancel).is_err());
        assert!(transition(OrderStatus::Cancelled, OrderEvent::FinalFill).is_err());
        assert_eq!(
            transition(OrderStatus::PreSubmitted, OrderEvent::Triggered),
            Ok(OrderStatus::Submitted)
        );
    }
}
