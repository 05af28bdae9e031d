//! Small builders shared by the tests.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rust_decimal::Decimal;
use strategy::asx::sydney_to_utc;
use strategy::{Candidate, GapPct, OpeningRange, Price, Quantity, Ticker};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

pub fn price(text: &str) -> Price {
    Price::new(text.parse::<Decimal>().expect("decimal")).expect("positive price")
}

pub fn qty(n: u64) -> Quantity {
    Quantity::new(n).expect("positive quantity")
}

pub fn ticker(code: &str) -> Ticker {
    Ticker::parse(code).expect("valid ticker")
}

/// A Sydney wall-clock instant as UTC.
pub fn sydney(d: NaiveDate, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    sydney_to_utc(d, NaiveTime::from_hms_opt(h, m, s).expect("valid time")).expect("exists")
}

pub fn range(high: &str, low: &str) -> OpeningRange {
    OpeningRange::new(price(high), price(low)).expect("valid range")
}

pub fn candidate(code: &str) -> Candidate {
    Candidate {
        conid: 4242,
        ticker: ticker(code),
        company_name: None,
        gap: GapPct::parse("5.0").expect("gap"),
        last_price: None,
        headlines: vec!["Quarterly Activities Report".into()],
    }
}

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}
