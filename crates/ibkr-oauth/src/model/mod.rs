//! Wire types of the IBKR Web API, tolerant of its quirks (numbers as strings or numbers,
//! `"1,300"`, `"1.2M"`, `C`/`H` price prefixes, missing and extra fields).
//!
//! Every body is read through [`parse`], so a response of the wrong shape becomes
//! [`Error::Malformed`] naming the endpoint: never a panic.

pub mod de;
mod market;
mod orders;
mod portfolio;
mod status;

pub use market::{
    Bar, History, LastPrice, ScannerContract, ScannerFilter, ScannerParams, ScannerRequest,
    ScannerResult, SecdefResult, SecdefSection, Snapshot, fields,
};
pub use orders::{
    AcceptedOrder, CancelAck, LiveOrder, LiveOrders, OrderReply, OrderStatus, OrderTicket,
    OrderType, PlaceOrderOutcome, Question, Side, Tif, Trade,
};
pub use portfolio::{AccountSummary, PortfolioAccount, Position, SummaryValue};
pub use status::{Accounts, AuthStatus, LiveSessionTokenResponse, Tickle};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Reads a JSON body as `T`; any failure is `Malformed` with the endpoint and serde's reason
/// (which names the field and position, never the request's credentials).
pub fn parse<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::Malformed(format!("{endpoint}: {e}")))
}

/// Reads a JSON body as a `serde_json::Value` (for the shapes read by hand).
pub fn parse_value(endpoint: &str, body: &[u8]) -> Result<serde_json::Value> {
    parse(endpoint, body)
}

/// Serializers that write a `Decimal` as an exact JSON number (not a string, not via `f64`).
pub(crate) mod ser {
    use rust_decimal::Decimal;
    use serde::{Serialize as _, Serializer};
    use serde_json::value::RawValue;

    pub fn decimal_number<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        // `Decimal`'s Display is plain notation (`-0.005`, `12`), which is valid JSON number text.
        let raw =
            RawValue::from_string(d.normalize().to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }

    pub fn decimal_number_opt<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => decimal_number(d, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests;
