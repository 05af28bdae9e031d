//! Market data: contract search, snapshots, history, the scanner.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{de, ser};
use crate::error::{Error, Result};

/// Snapshot field codes skim uses.
pub mod fields {
    /// Last price, `C` prefix = prior close, `H` = halted.
    pub const LAST: &str = "31";
    pub const SYMBOL: &str = "55";
    pub const HIGH: &str = "70";
    pub const LOW: &str = "71";
    pub const CHANGE_PCT: &str = "83";
    pub const BID: &str = "84";
    pub const ASK_SIZE: &str = "85";
    pub const ASK: &str = "86";
    /// Volume with `K`/`M` suffixes.
    pub const VOLUME: &str = "87";
    pub const BID_SIZE: &str = "88";
    pub const AVAILABILITY: &str = "6509";
    pub const OPEN: &str = "7295";
    pub const PRIOR_CLOSE: &str = "7741";
    /// Volume at full precision.
    pub const VOLUME_LONG: &str = "7762";
    /// Everything skim reads.
    pub const DEFAULT: &[&str] = &[
        LAST,
        SYMBOL,
        HIGH,
        LOW,
        CHANGE_PCT,
        BID,
        ASK_SIZE,
        ASK,
        VOLUME,
        BID_SIZE,
        AVAILABILITY,
        OPEN,
        PRIOR_CLOSE,
        VOLUME_LONG,
    ];
}

/// Field 31: the price and what its prefix said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastPrice {
    pub price: Decimal,
    /// `C` prefix: no trade today, this is the previous close.
    pub is_prior_close: bool,
    /// `H` prefix: trading in the instrument is halted.
    pub halted: bool,
}

impl LastPrice {
    /// Parses `"1.23"`, `"C1.23"`, `"H1.23"` (both prefixes may appear); `Ok(None)` when empty.
    pub fn parse(text: &str) -> Result<Option<LastPrice>, String> {
        let mut rest = text.trim();
        let (mut is_prior_close, mut halted) = (false, false);
        loop {
            if let Some(r) = rest.strip_prefix('C') {
                is_prior_close = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix('H') {
                halted = true;
                rest = r;
            } else {
                break;
            }
        }
        Ok(de::parse_decimal_text(rest)?.map(|price| LastPrice {
            price,
            is_prior_close,
            halted,
        }))
    }
}

/// One conid of `GET /iserver/marketdata/snapshot`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub conid: i64,
    pub last: Option<LastPrice>,
    pub bid: Option<Decimal>,
    pub ask: Option<Decimal>,
    pub high: Option<Decimal>,
    pub low: Option<Decimal>,
    pub open: Option<Decimal>,
    pub prior_close: Option<Decimal>,
    pub change_pct: Option<Decimal>,
    pub bid_size: Option<Decimal>,
    pub ask_size: Option<Decimal>,
    /// Field 7762 when sent, else field 87 with its suffix expanded.
    pub volume: Option<Decimal>,
    pub symbol: Option<String>,
    /// Field 6509: `R` real-time, `D` delayed, `Z` frozen, ...
    pub availability: Option<String>,
    /// `_updated`, ms since the epoch.
    pub updated_ms: Option<i64>,
    /// Every numbered field as sent (text), including ones not decoded above.
    pub fields: BTreeMap<String, String>,
}

impl Snapshot {
    /// Reads one element of the snapshot array.
    pub fn from_value(endpoint: &str, v: &Value) -> Result<Snapshot> {
        let bad = |what: String| Error::Malformed(format!("{endpoint}: {what}"));
        let obj = v
            .as_object()
            .ok_or_else(|| bad("snapshot element is not an object".into()))?;
        let conid = obj
            .get("conid")
            .map(de::value_to_i64)
            .transpose()
            .map_err(|e| bad(format!("conid: {e}")))?
            .flatten()
            .ok_or_else(|| bad("snapshot element without conid".into()))?;
        let mut snap = Snapshot {
            conid,
            ..Snapshot::default()
        };
        for (key, value) in obj {
            if key == "_updated" {
                snap.updated_ms = de::value_to_i64(value).ok().flatten();
                continue;
            }
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let text = de::value_to_string(value)
                .map_err(|e| bad(format!("conid {conid} field {key}: {e}")))?
                .unwrap_or_default();
            snap.fields.insert(key.clone(), text);
        }
        let num = |code: &str| -> Result<Option<Decimal>> {
            snap.fields
                .get(code)
                .map(|t| de::parse_decimal_text(t))
                .transpose()
                .map(Option::flatten)
                .map_err(|e| bad(format!("conid {conid} field {code}: {e}")))
        };
        let last = snap
            .fields
            .get(fields::LAST)
            .map(|t| LastPrice::parse(t))
            .transpose()
            .map_err(|e| bad(format!("conid {conid} field 31: {e}")))?
            .flatten();
        let decoded = Snapshot {
            last,
            bid: num(fields::BID)?,
            ask: num(fields::ASK)?,
            high: num(fields::HIGH)?,
            low: num(fields::LOW)?,
            open: num(fields::OPEN)?,
            prior_close: num(fields::PRIOR_CLOSE)?,
            change_pct: num(fields::CHANGE_PCT)?,
            bid_size: num(fields::BID_SIZE)?,
            ask_size: num(fields::ASK_SIZE)?,
            volume: match num(fields::VOLUME_LONG)? {
                Some(v) => Some(v),
                None => num(fields::VOLUME)?,
            },
            symbol: snap.fields.get(fields::SYMBOL).cloned(),
            availability: snap.fields.get(fields::AVAILABILITY).cloned(),
            ..snap.clone()
        };
        Ok(decoded)
    }

    /// Reads the whole snapshot answer (an array; `null`/`{}` read as empty).
    pub fn list_from_value(endpoint: &str, v: &Value) -> Result<Vec<Snapshot>> {
        match v {
            Value::Array(items) => items
                .iter()
                .map(|i| Snapshot::from_value(endpoint, i))
                .collect(),
            Value::Null => Ok(Vec::new()),
            Value::Object(o) if o.is_empty() => Ok(Vec::new()),
            _ => Err(Error::Malformed(format!(
                "{endpoint}: snapshot answer is not an array"
            ))),
        }
    }

    /// `true` once any of `wanted` fields came back (the preflight answer has none).
    pub fn has_any(&self, wanted: &[&str]) -> bool {
        wanted.iter().any(|f| self.fields.contains_key(*f))
    }
}

/// A venue of a secdef search result.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SecdefSection {
    #[serde(rename = "secType", deserialize_with = "de::string_opt")]
    pub sec_type: Option<String>,
    /// One exchange or several separated by `;`.
    #[serde(deserialize_with = "de::string_opt")]
    pub exchange: Option<String>,
}

/// One element of `GET /iserver/secdef/search`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SecdefResult {
    #[serde(deserialize_with = "de::i64_req")]
    pub conid: i64,
    #[serde(rename = "companyHeader", default, deserialize_with = "de::string_opt")]
    pub company_header: Option<String>,
    #[serde(rename = "companyName", default, deserialize_with = "de::string_opt")]
    pub company_name: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub symbol: Option<String>,
    /// Primary exchange, e.g. `ASX`.
    #[serde(default, deserialize_with = "de::string_opt")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "de::vec_or_null")]
    pub sections: Vec<SecdefSection>,
}

impl SecdefResult {
    /// Lists a stock (`STK`) and names ASX as its primary exchange or one of its venues.
    pub fn is_asx_stock(&self) -> bool {
        let has_stk = self
            .sections
            .iter()
            .any(|s| s.sec_type.as_deref() == Some("STK"));
        let on_asx = |s: &str| {
            s.split([';', ',', ' '])
                .any(|x| x.eq_ignore_ascii_case("ASX"))
        };
        let asx = self.description.as_deref().is_some_and(on_asx)
            || self
                .company_header
                .as_deref()
                .is_some_and(|h| h.trim_end().ends_with("- ASX") || h.ends_with("(ASX)"))
            || self.sections.iter().any(|s| {
                s.sec_type.as_deref() == Some("STK") && s.exchange.as_deref().is_some_and(on_asx)
            });
        has_stk && asx
    }

    /// Picks the ASX-listed stock out of a search answer. A primary listing on ASX (description
    /// `ASX`) wins over a result that merely trades there.
    pub fn pick_asx_stock(results: &[SecdefResult]) -> Option<&SecdefResult> {
        results
            .iter()
            .filter(|r| r.is_asx_stock())
            .max_by_key(|r| r.description.as_deref().is_some_and(|d| d.trim() == "ASX"))
    }
}

/// One bar of `GET /iserver/marketdata/history`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Bar {
    /// Bar start, ms since the epoch.
    #[serde(deserialize_with = "de::i64_req")]
    pub t: i64,
    #[serde(rename = "o", deserialize_with = "de::decimal")]
    pub open: Decimal,
    #[serde(rename = "h", deserialize_with = "de::decimal")]
    pub high: Decimal,
    #[serde(rename = "l", deserialize_with = "de::decimal")]
    pub low: Decimal,
    #[serde(rename = "c", deserialize_with = "de::decimal")]
    pub close: Decimal,
    #[serde(rename = "v", default, deserialize_with = "de::decimal_opt")]
    pub volume: Option<Decimal>,
}

/// `GET /iserver/marketdata/history`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct History {
    #[serde(deserialize_with = "de::string_opt")]
    pub symbol: Option<String>,
    #[serde(deserialize_with = "de::vec_or_null")]
    pub data: Vec<Bar>,
}

/// A scanner filter: `{"code":"priceAbove","value":0.05}` (value an exact JSON number).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScannerFilter {
    pub code: String,
    #[serde(serialize_with = "ser::decimal_number")]
    pub value: Decimal,
}

/// `POST /iserver/scanner/run` body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScannerRequest {
    /// `STOCK.HK` for ASX.
    pub instrument: String,
    /// e.g. `HIGH_OPEN_GAP`.
    #[serde(rename = "type")]
    pub scan_type: String,
    /// `STK.HK.ASX` for ASX.
    pub location: String,
    pub filter: Vec<ScannerFilter>,
}

impl ScannerRequest {
    /// A scan of ASX stocks.
    pub fn asx(scan_type: &str, filter: Vec<ScannerFilter>) -> Self {
        Self {
            instrument: "STOCK.HK".into(),
            scan_type: scan_type.into(),
            location: "STK.HK.ASX".into(),
            filter,
        }
    }
}

/// One contract of a scanner answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ScannerContract {
    #[serde(alias = "con_id", alias = "conid", deserialize_with = "de::i64_req")]
    pub conid: i64,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub symbol: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub company_name: Option<String>,
    /// The scan's value as text, e.g. `"12.31%"`; see [`ScannerContract::scan_value`].
    #[serde(default, deserialize_with = "de::string_opt")]
    pub scan_data: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub listing_exchange: Option<String>,
}

impl ScannerContract {
    /// `scan_data` as a number (`"12.31%"` → 12.31).
    pub fn scan_value(&self) -> Result<Option<Decimal>, String> {
        self.scan_data
            .as_deref()
            .map(de::parse_decimal_text)
            .transpose()
            .map(Option::flatten)
    }
}

/// `POST /iserver/scanner/run` answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ScannerResult {
    #[serde(deserialize_with = "de::vec_or_null")]
    pub contracts: Vec<ScannerContract>,
    #[serde(deserialize_with = "de::string_opt")]
    pub scan_data_column_name: Option<String>,
}

/// `GET /iserver/scanner/params`: large and loosely specified, kept as JSON with helpers.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannerParams(pub Value);

impl ScannerParams {
    /// The filter codes (`filter_list[].code`) the scanner accepts.
    pub fn filter_codes(&self) -> Vec<String> {
        self.list_field("filter_list", "code")
    }

    /// The scan types (`scan_type_list[].code`).
    pub fn scan_types(&self) -> Vec<String> {
        self.list_field("scan_type_list", "code")
    }

    fn list_field(&self, list: &str, field: &str) -> Vec<String> {
        self.0
            .get(list)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.get(field).and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}
