//! IBKR scanner results (`HIGH_OPEN_GAP` on ASX) → gap hits.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::types::{GapPct, Price, Ticker};

/// One contract from the scanner, as the daemon maps it from IBKR's wire type
/// (`{con_id, symbol, company_name, scan_data, listing_exchange}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanContract {
    /// IBKR's contract id.
    pub conid: i64,
    /// The symbol (an ASX code for ASX stocks).
    pub symbol: String,
    /// The company name, when given.
    pub company_name: Option<String>,
    /// The scan value: the gap in percent as text (`"+12.31%"`, `"12.31"`, `"12.31%"`).
    pub scan_data: Option<String>,
    /// The listing exchange, when given (informational; not filtered on).
    pub listing_exchange: Option<String>,
    /// A last price, when the daemon has one (e.g. from a snapshot); the scanner itself
    /// filters on `priceAbove`.
    pub last_price: Option<Decimal>,
}

/// A stock that gapped, from the scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanHit {
    /// IBKR's contract id.
    pub conid: i64,
    /// The ASX code.
    pub ticker: Ticker,
    /// The company name, when given.
    pub company_name: Option<String>,
    /// The opening gap.
    pub gap: GapPct,
    /// The last price, when known.
    pub last_price: Option<Price>,
}

/// Turns scanner contracts into hits, in the scanner's order. A contract whose symbol is not
/// an ASX code or whose scan value is missing or unreadable is skipped (never a panic); a
/// price that is zero or negative is dropped (unknown), not trusted.
pub fn parse_scan(contracts: &[ScanContract]) -> Vec<ScanHit> {
    contracts
        .iter()
        .filter_map(|c| {
            let ticker = Ticker::parse(c.symbol.trim()).ok()?;
            let gap = GapPct::parse(c.scan_data.as_deref()?).ok()?;
            Some(ScanHit {
                conid: c.conid,
                ticker,
                company_name: c.company_name.clone(),
                gap,
                last_price: c.last_price.and_then(|p| Price::new(p).ok()),
            })
        })
        .collect()
}
