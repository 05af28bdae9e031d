//! `/portfolio`: accounts, positions, summary. Works without `ssodh/init`, as at IBKR.

use rust_decimal::Decimal;
use serde_json::json;

use super::{Reply, check_account};
use crate::format::json_num;
use crate::lock;
use crate::server::Shared;

/// `GET /portfolio/accounts`.
pub fn accounts(shared: &Shared) -> Reply {
    let acct = &shared.config.account_id;
    Reply::ok(json!([{
        "id": acct,
        "accountId": acct,
        "accountVan": acct,
        "accountTitle": "skim simulated account",
        "displayName": acct,
        "accountAlias": null,
        "currency": "AUD",
        "type": if acct.starts_with("DU") { "DEMO" } else { "INDIVIDUAL" },
        "tradingType": "STKNOPT",
        "faclient": false,
        "covestor": false,
        "desc": acct,
    }]))
}

/// `GET /portfolio/{acct}/positions/{page}`: 100 per page; the sim never needs a second one.
pub fn positions(shared: &Shared, account: &str, page: &str) -> Result<Reply, Reply> {
    check_account(shared, account)?;
    let page: u32 = page
        .parse()
        .map_err(|_| Reply::error(400, "Bad Request: page must be a number"))?;
    if page > 0 {
        return Ok(Reply::ok(json!([])));
    }
    let book = lock(&shared.book);
    let rows: Vec<_> = book
        .positions
        .iter()
        .filter(|(_, p)| !p.qty.is_zero())
        .map(|(conid, p)| {
            let contract = book.contracts.get(conid);
            let symbol = contract.map(|c| c.symbol.clone()).unwrap_or_default();
            let mkt = book.mark_price(*conid).unwrap_or(p.avg_price);
            let value = mkt * p.qty;
            json!({
                "acctId": account,
                "conid": conid,
                "contractDesc": symbol,
                "ticker": symbol,
                "name": contract.map(|c| c.company_name.clone()).unwrap_or_default(),
                "position": json_num(p.qty),
                "mktPrice": json_num(mkt),
                "mktValue": json_num(value),
                "currency": "AUD",
                "avgCost": json_num(p.avg_price),
                "avgPrice": json_num(p.avg_price),
                "realizedPnl": json_num(p.realized_pnl),
                "unrealizedPnl": json_num((mkt - p.avg_price) * p.qty),
                "assetClass": "STK",
                "listingExchange": "ASX",
            })
        })
        .collect();
    Ok(Reply::ok(json!(rows)))
}

/// `GET /portfolio/{acct}/summary`.
pub fn summary(shared: &Shared, account: &str) -> Result<Reply, Reply> {
    check_account(shared, account)?;
    let book = lock(&shared.book);
    let stock_value: Decimal = book
        .positions
        .iter()
        .map(|(conid, p)| book.mark_price(*conid).unwrap_or(p.avg_price) * p.qty)
        .sum();
    let net = book.cash + stock_value;
    let now = crate::format::now_ms();
    let amount = |v: Decimal| json!({"amount": json_num(v.round_dp(2)), "currency": "AUD", "isNull": false, "timestamp": now, "value": null, "severity": 0});
    Ok(Reply::ok(json!({
        "availablefunds": amount(book.cash),
        "buyingpower": amount(book.cash),
        "netliquidation": amount(net),
        "totalcashvalue": amount(book.cash),
        "grosspositionvalue": amount(stock_value),
        "equitywithloanvalue": amount(net),
        "accountcode": {"amount": 0, "currency": null, "isNull": false, "timestamp": now, "value": account, "severity": 0},
        "accounttype": {"amount": 0, "currency": null, "isNull": false, "timestamp": now, "value": "INDIVIDUAL", "severity": 0},
    })))
}
