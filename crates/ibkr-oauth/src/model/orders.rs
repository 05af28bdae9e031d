//! Orders: the ticket we send, IBKR's answers (accepted, a question, an error), status, live
//! orders, trades, cancel acknowledgements.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{de, ser};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OrderType {
    #[serde(rename = "MKT")]
    Market,
    #[serde(rename = "LMT")]
    Limit,
    /// Stop: the stop price goes in `price`.
    #[serde(rename = "STP")]
    Stop,
    /// Stop-limit: `price` is the limit, `aux_price` the stop.
    #[serde(rename = "STOP_LIMIT")]
    StopLimit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Side {
    #[serde(rename = "BUY")]
    Buy,
    #[serde(rename = "SELL")]
    Sell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tif {
    #[serde(rename = "DAY")]
    Day,
    #[serde(rename = "GTC")]
    Gtc,
}

/// One order as sent in `{"orders":[ticket]}`. Prices are written as exact JSON numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderTicket {
    pub conid: i64,
    #[serde(rename = "orderType")]
    pub order_type: OrderType,
    pub side: Side,
    pub quantity: u64,
    pub tif: Tif,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::decimal_number_opt"
    )]
    pub price: Option<Decimal>,
    #[serde(
        rename = "auxPrice",
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser::decimal_number_opt"
    )]
    pub aux_price: Option<Decimal>,
    /// Our client order id: unique for 24 h, how a lost answer is settled.
    #[serde(rename = "cOID")]
    pub coid: String,
    #[serde(rename = "outsideRTH")]
    pub outside_rth: bool,
}

/// An accepted order of an order answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AcceptedOrder {
    #[serde(deserialize_with = "de::string_req")]
    pub order_id: String,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub order_status: Option<String>,
}

/// A confirmation question IBKR asks before accepting an order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Question {
    /// The reply id for `POST /iserver/reply/{id}`.
    #[serde(deserialize_with = "de::string_req")]
    pub id: String,
    #[serde(default, deserialize_with = "de::vec_or_null")]
    pub message: Vec<String>,
    #[serde(rename = "messageIds", default, deserialize_with = "de::vec_or_null")]
    pub message_ids: Vec<String>,
}

/// What an order POST or a reply answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderReply {
    Accepted(Vec<AcceptedOrder>),
    Question(Question),
    Error(String),
}

impl OrderReply {
    /// Reads `[{order_id,…}]`, `[{id,message,messageIds}]`, `{error}` or `[{error}]` (and the
    /// same shapes without the array).
    pub fn from_value(endpoint: &str, v: &Value) -> Result<OrderReply> {
        let bad = |what: &str| Error::Malformed(format!("{endpoint}: {what}"));
        let items: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            Value::Object(_) => vec![v],
            _ => return Err(bad("order answer is neither an array nor an object")),
        };
        let first = items
            .first()
            .ok_or_else(|| bad("order answer is an empty array"))?;
        let obj = first
            .as_object()
            .ok_or_else(|| bad("order answer element is not an object"))?;
        if let Some(err) = obj.get("error") {
            let message = de::value_to_string(err)
                .ok()
                .flatten()
                .unwrap_or_else(|| err.to_string());
            return Ok(OrderReply::Error(message));
        }
        if obj.contains_key("order_id") {
            let accepted = items
                .into_iter()
                .map(|i| AcceptedOrder::deserialize(i).map_err(|e| bad(&e.to_string())))
                .collect::<Result<Vec<_>>>()?;
            return Ok(OrderReply::Accepted(accepted));
        }
        if obj.contains_key("id") {
            return Question::deserialize(*first)
                .map(OrderReply::Question)
                .map_err(|e| bad(&e.to_string()));
        }
        Err(bad("order answer has none of order_id, id, error"))
    }
}

/// The result of placing (or modifying) an order after the question loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrderOutcome {
    pub order_id: String,
    pub order_status: Option<String>,
    /// Every question confirmed on the way, in order.
    pub confirmed: Vec<Question>,
}

/// `GET /iserver/account/order/status/{orderId}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct OrderStatus {
    #[serde(deserialize_with = "de::string_opt")]
    pub order_id: Option<String>,
    #[serde(deserialize_with = "de::i64_opt")]
    pub conid: Option<i64>,
    /// Inactive, PendingSubmit, PreSubmitted, Submitted, Filled, PendingCancel, Cancelled, WarnState.
    #[serde(deserialize_with = "de::string_opt")]
    pub order_status: Option<String>,
    #[serde(deserialize_with = "de::decimal_opt")]
    pub cum_fill: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal_opt")]
    pub average_price: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal_opt")]
    pub size: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal_opt")]
    pub total_size: Option<Decimal>,
    #[serde(deserialize_with = "de::string_opt")]
    pub side: Option<String>,
    #[serde(deserialize_with = "de::string_opt")]
    pub order_type: Option<String>,
    #[serde(deserialize_with = "de::decimal_opt")]
    pub limit_price: Option<Decimal>,
    #[serde(deserialize_with = "de::decimal_opt")]
    pub stop_price: Option<Decimal>,
}

/// One order of `GET /iserver/account/orders`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LiveOrder {
    #[serde(rename = "orderId", deserialize_with = "de::string_req")]
    pub order_id: String,
    #[serde(default, deserialize_with = "de::i64_opt")]
    pub conid: Option<i64>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub ticker: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub side: Option<String>,
    #[serde(rename = "orderType", default, deserialize_with = "de::string_opt")]
    pub order_type: Option<String>,
    #[serde(
        rename = "filledQuantity",
        default,
        deserialize_with = "de::decimal_opt"
    )]
    pub filled_quantity: Option<Decimal>,
    #[serde(
        rename = "remainingQuantity",
        default,
        deserialize_with = "de::decimal_opt"
    )]
    pub remaining_quantity: Option<Decimal>,
    #[serde(rename = "totalSize", default, deserialize_with = "de::decimal_opt")]
    pub total_size: Option<Decimal>,
    #[serde(rename = "avgPrice", default, deserialize_with = "de::decimal_opt")]
    pub avg_price: Option<Decimal>,
    #[serde(default, deserialize_with = "de::decimal_opt")]
    pub price: Option<Decimal>,
    #[serde(rename = "auxPrice", default, deserialize_with = "de::decimal_opt")]
    pub aux_price: Option<Decimal>,
    /// Our cOID.
    #[serde(default, deserialize_with = "de::string_opt")]
    pub order_ref: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub acct: Option<String>,
}

/// `GET /iserver/account/orders`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct LiveOrders {
    #[serde(deserialize_with = "de::vec_or_null")]
    pub orders: Vec<LiveOrder>,
    /// `false` on the first call after a session starts (IBKR is still loading): ask again.
    #[serde(deserialize_with = "de::bool_lenient")]
    pub snapshot: bool,
}

impl LiveOrders {
    /// The order placed with this cOID, if IBKR knows it.
    pub fn by_coid(&self, coid: &str) -> Option<&LiveOrder> {
        self.orders
            .iter()
            .find(|o| o.order_ref.as_deref() == Some(coid))
    }
}

/// One execution of `GET /iserver/account/trades`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Trade {
    #[serde(deserialize_with = "de::string_req")]
    pub execution_id: String,
    #[serde(default, deserialize_with = "de::i64_opt")]
    pub conid: Option<i64>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub symbol: Option<String>,
    /// `B` or `S`.
    #[serde(default, deserialize_with = "de::string_opt")]
    pub side: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub size: Decimal,
    #[serde(deserialize_with = "de::decimal")]
    pub price: Decimal,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub trade_time: Option<String>,
    /// Trade time, ms since the epoch.
    #[serde(default, deserialize_with = "de::i64_opt")]
    pub trade_time_r: Option<i64>,
    /// Our cOID.
    #[serde(default, deserialize_with = "de::string_opt")]
    pub order_ref: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub order_id: Option<String>,
    #[serde(default, deserialize_with = "de::decimal_opt")]
    pub commission: Option<Decimal>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub account: Option<String>,
}

/// `DELETE /iserver/account/{acct}/order/{orderId}`: a request was submitted, not a confirmation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CancelAck {
    #[serde(deserialize_with = "de::string_opt")]
    pub msg: Option<String>,
    #[serde(deserialize_with = "de::string_opt")]
    pub order_id: Option<String>,
    #[serde(deserialize_with = "de::i64_opt")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "de::string_opt")]
    pub error: Option<String>,
}
