//! Candidates: gap-ups with price-sensitive news today.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::asx::Announcement;
use crate::scan::ScanHit;
use crate::settings::StrategySettings;
use crate::types::{GapPct, Price, Ticker};

/// A stock to watch today: it gapped up at least `gap_threshold_pct` and has a price-sensitive
/// announcement today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// IBKR's contract id.
    pub conid: i64,
    /// The ASX code.
    pub ticker: Ticker,
    /// The company name, when the scanner gave one.
    pub company_name: Option<String>,
    /// The opening gap.
    pub gap: GapPct,
    /// The last price at the scan, when known.
    pub last_price: Option<Price>,
    /// Headlines of today's price-sensitive announcements, in page order.
    pub headlines: Vec<String>,
}

/// The candidates of `today` (a Sydney date): hits with gap ≥ `gap_threshold_pct`, price ≥
/// `min_price` (when the hit carries a price; otherwise the scanner's `priceAbove` filter
/// stands and [`crate::entry_decision`] checks the price again), and at least one
/// price-sensitive announcement dated `today` for the same ticker. In scanner order, one per
/// ticker.
pub fn select_candidates(
    hits: &[ScanHit],
    announcements: &[Announcement],
    today: NaiveDate,
    settings: &StrategySettings,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for hit in hits {
        if hit.gap.value() < settings.gap_threshold_pct {
            continue;
        }
        if hit
            .last_price
            .is_some_and(|p| p.value() < settings.min_price)
        {
            continue;
        }
        if out.iter().any(|c| c.ticker == hit.ticker) {
            continue;
        }
        let headlines: Vec<String> = announcements
            .iter()
            .filter(|a| a.price_sensitive && a.ticker == hit.ticker && a.time.date() == today)
            .map(|a| a.headline.clone())
            .collect();
        if headlines.is_empty() {
            continue;
        }
        out.push(Candidate {
            conid: hit.conid,
            ticker: hit.ticker.clone(),
            company_name: hit.company_name.clone(),
            gap: hit.gap,
            last_price: hit.last_price,
            headlines,
        });
    }
    out
}
