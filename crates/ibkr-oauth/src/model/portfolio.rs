//! `/portfolio`: accounts, positions, the account summary.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::de;

/// One element of `GET /portfolio/accounts`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PortfolioAccount {
    #[serde(deserialize_with = "de::string_req")]
    pub id: String,
    #[serde(rename = "accountId", default, deserialize_with = "de::string_opt")]
    pub account_id: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub currency: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "de::string_opt")]
    pub account_type: Option<String>,
}

/// One element of `GET /portfolio/{acct}/positions/{page}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Position {
    #[serde(deserialize_with = "de::i64_req")]
    pub conid: i64,
    #[serde(rename = "contractDesc", default, deserialize_with = "de::string_opt")]
    pub contract_desc: Option<String>,
    #[serde(deserialize_with = "de::decimal")]
    pub position: Decimal,
    #[serde(rename = "avgPrice", default, deserialize_with = "de::decimal_opt")]
    pub avg_price: Option<Decimal>,
    /// IBKR sends both; `avgCost` includes commissions.
    #[serde(rename = "avgCost", default, deserialize_with = "de::decimal_opt")]
    pub avg_cost: Option<Decimal>,
    #[serde(rename = "mktPrice", default, deserialize_with = "de::decimal_opt")]
    pub mkt_price: Option<Decimal>,
    #[serde(
        rename = "unrealizedPnl",
        default,
        deserialize_with = "de::decimal_opt"
    )]
    pub unrealized_pnl: Option<Decimal>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "de::string_opt")]
    pub ticker: Option<String>,
}

/// One value of the account summary.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SummaryValue {
    #[serde(deserialize_with = "de::decimal_opt")]
    pub amount: Option<Decimal>,
    #[serde(deserialize_with = "de::string_opt")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "de::string_opt")]
    pub value: Option<String>,
    #[serde(rename = "isNull", deserialize_with = "de::bool_lenient")]
    pub is_null: bool,
}

/// `GET /portfolio/{acct}/summary`: `{availablefunds:{amount,…}, netliquidation:{…}, …}`.
/// Keys whose value is not an object (IBKR adds such now and then) are skipped; an object of
/// the wrong shape is an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(try_from = "BTreeMap<String, serde_json::Value>")]
pub struct AccountSummary {
    pub values: BTreeMap<String, SummaryValue>,
}

impl TryFrom<BTreeMap<String, serde_json::Value>> for AccountSummary {
    type Error = String;

    fn try_from(raw: BTreeMap<String, serde_json::Value>) -> Result<Self, String> {
        let mut values = BTreeMap::new();
        for (key, value) in raw {
            if value.is_object() {
                let v = SummaryValue::deserialize(value).map_err(|e| format!("{key}: {e}"))?;
                values.insert(key, v);
            }
        }
        Ok(Self { values })
    }
}

impl AccountSummary {
    pub fn amount(&self, key: &str) -> Option<Decimal> {
        self.values.get(key).and_then(|v| v.amount)
    }

    pub fn available_funds(&self) -> Option<Decimal> {
        self.amount("availablefunds")
    }

    pub fn net_liquidation(&self) -> Option<Decimal> {
        self.amount("netliquidation")
    }
}
