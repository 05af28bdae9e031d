//! Contract search, snapshots (first call per conid per brokerage session only subscribes) and
//! history.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::{Ctx, Reply};
use crate::format::{json_num, now_ms, price, size, volume_short};
use crate::lock;
use crate::market::Book;
use crate::server::Shared;

/// The fields a snapshot answers when the request names none.
const DEFAULT_FIELDS: &[&str] = &[
    "31", "55", "70", "71", "82", "83", "84", "85", "86", "87", "88", "6509", "7295", "7741",
    "7762",
];

/// Conid of the invented non-ASX listing that shadows each ASX contract in search results.
fn shadow_conid(conid: u64) -> u64 {
    conid + 700_000_000
}

/// `GET /iserver/secdef/search?symbol=`.
pub fn secdef_search(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let body = ctx.json()?;
    let symbol = ctx
        .query("symbol")
        .map(str::to_owned)
        .or_else(|| {
            body.get("symbol")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Reply::error(400, "Bad Request: symbol required"))?;
    let book = lock(&shared.book);
    let mut out = Vec::new();
    for c in book
        .contracts
        .values()
        .filter(|c| c.symbol.eq_ignore_ascii_case(symbol.trim()))
    {
        // A US over-the-counter listing first, so a client that takes the first hit is wrong.
        out.push(json!({
            "conid": shadow_conid(c.conid).to_string(),
            "companyHeader": format!("{} - PINK", c.company_name),
            "companyName": c.company_name,
            "symbol": c.symbol,
            "description": "PINK",
            "restricted": null,
            "sections": [{"secType": "STK", "exchange": "PINK;"}],
        }));
        out.push(json!({
            "conid": c.conid.to_string(),
            "companyHeader": format!("{} - ASX", c.company_name),
            "companyName": c.company_name,
            "symbol": c.symbol,
            "description": "ASX",
            "restricted": null,
            "sections": [
                {"secType": "STK", "exchange": "ASX;"},
                {"secType": "OPT", "months": "", "exchange": "ASX;"},
            ],
        }));
    }
    Ok(Reply::ok(Value::Array(out)))
}

fn field_value(book: &Book, conid: u64, field: &str) -> Option<String> {
    let quote = book.quotes.get(&conid);
    let q = |f: fn(&crate::market::Quote) -> Option<Decimal>| quote.and_then(f);
    let (bid_size, ask_size) = book
        .sizes
        .get(&conid)
        .copied()
        .unwrap_or((Decimal::from(1_000), Decimal::from(1_000)));
    let last_or_close = q(|q| q.last).or(q(|q| q.prior_close));
    Some(match field {
        "31" => {
            let (prefix, value) = match q(|q| q.last) {
                Some(last) => ("", last),
                None => ("C", q(|q| q.prior_close)?),
            };
            let prefix = if book.halted.contains(&conid) {
                "H"
            } else {
                prefix
            };
            format!("{prefix}{}", price(value))
        }
        "55" => book.contracts.get(&conid)?.symbol.clone(),
        "70" => price(q(|q| q.high)?),
        "71" => price(q(|q| q.low)?),
        "84" => price(q(|q| q.bid)?),
        "86" => price(q(|q| q.ask)?),
        "85" => size(ask_size),
        "88" => size(bid_size),
        "87" => volume_short(q(|q| q.volume)?),
        "7762" => q(|q| q.volume)?.trunc().to_string(),
        "7295" => price(q(|q| q.open)?),
        "7741" => price(q(|q| q.prior_close)?),
        "82" => {
            let change = last_or_close? - q(|q| q.prior_close)?;
            let sign = if change > Decimal::ZERO { "+" } else { "" };
            format!("{sign}{}", price(change))
        }
        "83" => {
            let prior = q(|q| q.prior_close).filter(|p| !p.is_zero())?;
            let pct = ((last_or_close? - prior) / prior * Decimal::from(100)).round_dp(2);
            format!("{pct:.2}")
        }
        "6509" => "R".to_owned(),
        _ => return None,
    })
}

/// `GET /iserver/marketdata/snapshot?conids=&fields=`.
pub fn snapshot(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let conids: Vec<u64> = ctx
        .query("conids")
        .ok_or_else(|| Reply::error(400, "Bad Request: conids required"))?
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| Reply::error(400, "Bad Request: conids must be numbers"))?;
    if conids.is_empty() {
        return Err(Reply::error(400, "Bad Request: conids required"));
    }
    let fields: Vec<String> = match ctx.query("fields") {
        Some(f) => f
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        None => DEFAULT_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
    };
    let newly_subscribed: Vec<bool> = {
        let mut session = lock(&shared.session);
        conids
            .iter()
            .map(|c| session.subscribed.insert(*c))
            .collect()
    };
    let book = lock(&shared.book);
    let now = now_ms();
    let rows: Vec<Value> = conids
        .iter()
        .zip(newly_subscribed)
        .map(|(&conid, first)| {
            let mut row = Map::new();
            row.insert("conid".into(), json!(conid));
            row.insert("conidEx".into(), json!(conid.to_string()));
            if !first && book.contracts.contains_key(&conid) {
                row.insert("_updated".into(), json!(now));
                row.insert("server_id".into(), json!(format!("q{conid}")));
                row.insert("6119".into(), json!(format!("q{conid}")));
                for f in &fields {
                    if let Some(v) = field_value(&book, conid, f) {
                        row.insert(f.clone(), json!(v));
                    }
                }
            }
            Value::Object(row)
        })
        .collect();
    Ok(Reply::ok(Value::Array(rows)))
}

/// How many daily bars a period like `15d`, `2w`, `3m`, `1y` spans.
fn period_days(period: &str) -> Option<usize> {
    let (n, unit) = period.split_at(period.find(|c: char| !c.is_ascii_digit())?);
    let n: usize = n.parse().ok()?;
    Some(match unit {
        "d" => n,
        "w" => n * 7,
        "m" => n * 31,
        "y" => n * 366,
        "min" | "h" => 1,
        _ => return None,
    })
}

/// `GET /iserver/marketdata/history?conid=&period=&bar=`: the scripted bars (at most 1000, the
/// last `period` of daily bars).
pub fn history(shared: &Shared, ctx: &Ctx<'_>) -> Result<Reply, Reply> {
    let conid: u64 = ctx
        .query("conid")
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| Reply::error(400, "Bad Request: conid required"))?;
    let period = ctx.query("period").unwrap_or("1w");
    let bar = ctx.query("bar").unwrap_or("1d");
    let days = period_days(period)
        .ok_or_else(|| Reply::error(400, &format!("Bad Request: invalid period {period}")))?;
    let book = lock(&shared.book);
    let contract = book
        .contracts
        .get(&conid)
        .ok_or_else(|| Reply::error(400, &format!("Bad Request: unknown conid {conid}")))?;
    let bars = book
        .history
        .get(&conid)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let keep = if bar == "1d" { days.min(1000) } else { 1000 };
    let bars = &bars[bars.len().saturating_sub(keep)..];
    let data: Vec<Value> = bars
        .iter()
        .map(|b| json!({"t": b.t_ms, "o": json_num(b.o), "h": json_num(b.h), "l": json_num(b.l), "c": json_num(b.c), "v": json_num(b.v)}))
        .collect();
    let high = bars.iter().map(|b| b.h).max();
    let low = bars.iter().map(|b| b.l).min();
    Ok(Reply::ok(json!({
        "serverId": format!("h{conid}"),
        "symbol": contract.symbol,
        "text": contract.company_name,
        "priceFactor": 1,
        "startTime": bars.first().map(|b| b.t_ms),
        "high": high.map(price),
        "low": low.map(price),
        "timePeriod": period,
        "barLength": 86400,
        "mdAvailability": "S",
        "mktDataDelay": 0,
        "outsideRth": false,
        "volumeFactor": 1,
        "priceDisplayRule": 1,
        "priceDisplayValue": "2",
        "negativeCapable": false,
        "messageVersion": 2,
        "data": data,
        "points": bars.len(),
        "travelTime": 12,
    })))
}
