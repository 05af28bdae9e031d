//! Candidates: gap ∧ price ∧ price-sensitive news today.

use chrono::{NaiveDate, NaiveTime};
use rust_decimal_macros::dec;
use strategy::{Announcement, GapPct, ScanHit, StrategySettings, select_candidates};

use crate::support::{date, price, ticker};

fn hit(code: &str, gap: &str, last: Option<&str>) -> ScanHit {
    ScanHit {
        conid: 100,
        ticker: ticker(code),
        company_name: None,
        gap: GapPct::parse(gap).expect("gap"),
        last_price: last.map(price),
    }
}

fn ann(code: &str, day: NaiveDate, sensitive: bool, headline: &str) -> Announcement {
    Announcement {
        ticker: ticker(code),
        time: day.and_time(NaiveTime::from_hms_opt(9, 30, 0).expect("time")),
        price_sensitive: sensitive,
        headline: headline.into(),
        pages: Some(2),
        url: None,
    }
}

fn codes(hits: &[ScanHit], anns: &[Announcement]) -> Vec<String> {
    select_candidates(hits, anns, date(2026, 12, 4), &StrategySettings::default())
        .iter()
        .map(|c| c.ticker.to_string())
        .collect()
}

#[test]
fn each_condition_is_needed() {
    let today = date(2026, 12, 4);
    let anns = vec![
        ann("AAA", today, true, "Maiden Resource"),
        ann("BBB", today, true, "Offtake"),
        ann("CCC", today, false, "Appendix 2A"),
        ann("DDD", date(2026, 12, 3), true, "Yesterday's news"),
        ann("EEE", today, true, "Drilling results"),
        ann("FFF", today, true, "Contract win"),
        ann("GGG", today, true, "Acquisition"),
    ];
    let hits = vec![
        hit("AAA", "3.0", Some("1.00")),  // gap exactly at the threshold: in
        hit("BBB", "2.99", Some("1.00")), // gap below: out
        hit("CCC", "10", Some("1.00")),   // only a non-price-sensitive announcement: out
        hit("DDD", "10", Some("1.00")),   // price-sensitive, but yesterday: out
        hit("EEE", "10", Some("0.195")),  // below min_price: out
        hit("FFF", "10", None),           // price unknown (the scanner filtered it): in
        hit("GGG", "10", Some("0.20")),   // exactly min_price: in
        hit("HHH", "50", Some("5.00")),   // no announcement at all: out
    ];
    assert_eq!(codes(&hits, &anns), ["AAA", "FFF", "GGG"]);
}

#[test]
fn several_announcements_per_ticker_and_duplicate_hits() {
    let today = date(2026, 12, 4);
    let anns = vec![
        ann("PLS", today, true, "Offtake Agreement"),
        ann("PLS", today, false, "Appendix 3B"),
        ann("PLS", today, true, "Trading Halt"),
    ];
    let hits = vec![hit("PLS", "8", None), hit("PLS", "8", None)];
    let c = select_candidates(&hits, &anns, today, &StrategySettings::default());
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].headlines, ["Offtake Agreement", "Trading Halt"]);
    assert_eq!(c[0].gap.value(), dec!(8));
}

#[test]
fn nothing_in_nothing_out() {
    assert!(codes(&[], &[]).is_empty());
    assert!(codes(&[hit("AAA", "9", None)], &[]).is_empty());
}
