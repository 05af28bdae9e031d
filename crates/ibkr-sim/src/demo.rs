//! A small ASX market for `ibkr-sim --demo-market`: a few contracts, quotes, a scanner result,
//! daily history and announcements, so `skimd status` and a one-shot scan show something.

use rust_decimal::Decimal;

use crate::market::{Bar, Market, Quote, ScanRow, SimAnnouncement};

fn d(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

/// Loads the demo market.
pub fn load(market: &Market) {
    // (symbol, conid, name, prior close, last, volume) in cents.
    let stocks: [(&str, u64, &str, i64, i64, i64); 4] = [
        ("PLS", 40_001, "PILBARA MINERALS LTD", 250, 281, 12_400_000),
        ("BHP", 40_002, "BHP GROUP LTD", 4_512, 4_530, 5_100_000),
        ("LKE", 40_003, "LAKE RESOURCES NL", 45, 52, 3_300_000),
        (
            "CBA",
            40_004,
            "COMMONWEALTH BANK OF AUSTRALIA",
            15_020,
            15_100,
            1_900_000,
        ),
    ];
    let day_ms = 86_400_000;
    let today = chrono::Utc::now().timestamp_millis() / day_ms * day_ms;
    for (symbol, conid, name, close, last, volume) in stocks {
        market.add_contract(symbol, conid, name);
        let (close, last) = (d(close, 2), d(last, 2));
        let tick = if last < Decimal::from(2) {
            d(5, 3)
        } else {
            d(1, 2)
        };
        market.set_quote(
            conid,
            Quote {
                last: Some(last),
                bid: Some(last - tick),
                ask: Some(last + tick),
                high: Some(last + tick * Decimal::from(4)),
                low: Some(close),
                open: Some(last - tick * Decimal::from(2)),
                prior_close: Some(close),
                volume: Some(Decimal::from(volume)),
            },
        );
        let bars = (1..=30i64)
            .map(|i| {
                let c = close - tick * Decimal::from((30 - i) % 7);
                Bar {
                    t_ms: today - (31 - i) * day_ms,
                    o: c - tick,
                    h: c + tick * Decimal::from(2),
                    l: c - tick * Decimal::from(2),
                    c,
                    v: Decimal::from(volume / 2),
                }
            })
            .collect();
        market.set_history(conid, bars);
    }
    market.set_scanner_results(vec![
        ScanRow {
            conid: 40_001,
            symbol: "PLS".into(),
            company_name: "PILBARA MINERALS LTD".into(),
            gap_pct: d(1240, 2),
        },
        ScanRow {
            conid: 40_003,
            symbol: "LKE".into(),
            company_name: "LAKE RESOURCES NL".into(),
            gap_pct: d(1556, 2),
        },
        ScanRow {
            conid: 40_002,
            symbol: "BHP".into(),
            company_name: "BHP GROUP LTD".into(),
            gap_pct: d(40, 2),
        },
    ]);
    market.set_announcements(vec![
        SimAnnouncement {
            ticker: "PLS".into(),
            time: "9:58 am".into(),
            price_sensitive: true,
            headline: "Offtake agreement with major producer".into(),
            pages: 4,
        },
        SimAnnouncement {
            ticker: "LKE".into(),
            time: "9:31 am".into(),
            price_sensitive: true,
            headline: "Quarterly Activities Report".into(),
            pages: 12,
        },
        SimAnnouncement {
            ticker: "BHP".into(),
            time: "8:45 am".into(),
            price_sensitive: false,
            headline: "Change of Director's Interest Notice".into(),
            pages: 2,
        },
    ]);
}
