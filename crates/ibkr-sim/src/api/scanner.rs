//! The market scanner: a realistic subset of `/iserver/scanner/params` and `scanner/run`
//! answering the scripted rows, filtered by price and volume when a quote is known.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Ctx, Reply};
use crate::lock;
use crate::server::Shared;

/// `GET /iserver/scanner/params`.
pub fn params() -> Reply {
    Reply::ok(json!({
        "scan_type_list": [
            {"display_name": "Top Close-to-Open % Gainers", "code": "HIGH_OPEN_GAP", "instruments": ["STK", "STOCK.HK", "STOCK.EU"]},
            {"display_name": "Top Close-to-Open % Losers", "code": "LOW_OPEN_GAP", "instruments": ["STK", "STOCK.HK", "STOCK.EU"]},
            {"display_name": "Top % Gainers", "code": "TOP_PERC_GAIN", "instruments": ["STK", "STOCK.HK", "STOCK.EU"]},
            {"display_name": "Most Active", "code": "MOST_ACTIVE", "instruments": ["STK", "STOCK.HK", "STOCK.EU"]},
        ],
        "instrument_list": [
            {"display_name": "US Stocks", "type": "STK", "filters": ["priceAbove", "priceBelow", "volumeAbove"]},
            {"display_name": "Asia-Pacific Stocks", "type": "STOCK.HK", "filters": ["priceAbove", "priceBelow", "volumeAbove", "marketCapAbove1e6"]},
        ],
        "filter_list": [
            {"group": "priceAbove", "display_name": "Price Above", "code": "priceAbove", "type": "non-range"},
            {"group": "priceBelow", "display_name": "Price Below", "code": "priceBelow", "type": "non-range"},
            {"group": "volumeAbove", "display_name": "Volume Above", "code": "volumeAbove", "type": "non-range"},
            {"group": "marketCapAbove1e6", "display_name": "Market Cap Above (1e6)", "code": "marketCapAbove1e6", "type": "non-range"},
        ],
        "location_tree": [
            {"display_name": "Asia-Pacific Stocks", "type": "STOCK.HK", "locations": [
                {"display_name": "Australia", "type": "STK.HK.ASX", "locations": []},
                {"display_name": "Hong Kong", "type": "STK.HK.SEHK", "locations": []},
            ]},
        ],
    }))
}

fn filter_value(filter: &Value) -> Option<Decimal> {
    match filter.get("value")? {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `POST /iserver/scanner/run` `{instrument, type, location, filter[]}`.
pub fn run(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let body = ctx.json()?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
    if field("instrument").is_empty() || field("type").is_empty() || field("location").is_empty() {
        return Err(Reply::error(
            400,
            "Bad Request: instrument, type and location are required",
        ));
    }
    let asx = field("instrument") == "STOCK.HK" && field("location") == "STK.HK.ASX";
    let mut filters = Vec::new();
    if let Some(list) = body.get("filter").and_then(Value::as_array) {
        for f in list {
            let code = f.get("code").and_then(Value::as_str).unwrap_or("");
            let value = filter_value(f).ok_or_else(|| {
                Reply::error(
                    400,
                    &format!("Bad Request: filter {code} needs a numeric value"),
                )
            })?;
            if !matches!(
                code,
                "priceAbove" | "priceBelow" | "volumeAbove" | "marketCapAbove1e6"
            ) {
                return Err(Reply::error(
                    400,
                    &format!("Bad Request: unknown filter {code}"),
                ));
            }
            filters.push((code.to_owned(), value));
        }
    }
    let book = lock(&shared.book);
    let rows = if asx && field("type") == "HIGH_OPEN_GAP" {
        book.scanner.as_slice()
    } else {
        &[]
    };
    let contracts: Vec<Value> = rows
        .iter()
        .filter(|row| {
            let quote = book.quotes.get(&row.conid);
            let px = quote.and_then(|q| q.last.or(q.prior_close));
            let vol = quote.and_then(|q| q.volume);
            filters.iter().all(|(code, v)| match code.as_str() {
                "priceAbove" => px.is_none_or(|p| p >= *v),
                "priceBelow" => px.is_none_or(|p| p <= *v),
                "volumeAbove" => vol.is_none_or(|x| x >= *v),
                _ => true,
            })
        })
        .take(50)
        .map(|row| {
            let sign = if row.gap_pct >= Decimal::ZERO {
                "+"
            } else {
                ""
            };
            json!({
                "server_id": "0",
                "symbol": row.symbol,
                "conidex": row.conid.to_string(),
                "con_id": row.conid,
                "available_chart_periods": "#R|1",
                "company_name": row.company_name,
                "scan_data": format!("{sign}{:.2}%", row.gap_pct.round_dp(2)),
                "contract_description_1": row.symbol,
                "listing_exchange": "ASX",
                "sec_type": "STK",
            })
        })
        .collect();
    Ok(Reply::ok(
        json!({"contracts": contracts, "scan_data_column_name": "Gap"}),
    ))
}
