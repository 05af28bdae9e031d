//! Scanner contracts → gap hits.

use rstest::rstest;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use strategy::{GapPct, ScanContract, parse_scan};

fn contract(symbol: &str, scan_data: Option<&str>) -> ScanContract {
    ScanContract {
        conid: 8644,
        symbol: symbol.into(),
        company_name: Some("BHP GROUP LTD".into()),
        scan_data: scan_data.map(Into::into),
        listing_exchange: Some("ASX".into()),
        last_price: None,
    }
}

#[rstest]
#[case("+12.31%", dec!(12.31))]
#[case("12.31", dec!(12.31))]
#[case("12.31%", dec!(12.31))]
#[case(" 12.31 % ", dec!(12.31))]
#[case("3", dec!(3))]
#[case("-4.5%", dec!(-4.5))]
#[case("1,234.5%", dec!(1234.5))]
fn scan_values(#[case] text: &str, #[case] gap: Decimal) {
    let hits = parse_scan(&[contract("BHP", Some(text))]);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].gap.value(), gap);
    assert_eq!(hits[0].ticker.as_str(), "BHP");
    assert_eq!(hits[0].conid, 8644);
}

#[rstest]
#[case::missing("BHP", None)]
#[case::empty("BHP", Some(""))]
#[case::words("BHP", Some("n/a"))]
#[case::two_signs("BHP", Some("+-3%"))]
#[case::two_points("BHP", Some("1.2.3"))]
#[case::minus_100("BHP", Some("-100%"))]
#[case::lower_case_symbol("bhp", Some("5%"))]
#[case::too_long_symbol("BHPGROUP", Some("5%"))]
#[case::dotted_symbol("BHP.AX", Some("5%"))]
#[case::empty_symbol("", Some("5%"))]
fn unreadable_rows_are_skipped(#[case] symbol: &str, #[case] scan_data: Option<&str>) {
    assert!(parse_scan(&[contract(symbol, scan_data)]).is_empty());
}

#[test]
fn good_rows_survive_bad_neighbours_in_order() {
    let hits = parse_scan(&[
        contract("BHP", Some("+5.00%")),
        contract("???", Some("+9.00%")),
        contract("PLS", None),
        contract("1AE", Some("22.5")),
    ]);
    let codes: Vec<_> = hits.iter().map(|h| h.ticker.as_str()).collect();
    assert_eq!(codes, ["BHP", "1AE"]);
}

#[test]
fn prices_that_are_not_positive_are_dropped() {
    let mut c = contract("BHP", Some("5%"));
    c.last_price = Some(dec!(0));
    assert_eq!(parse_scan(&[c.clone()])[0].last_price, None);
    c.last_price = Some(dec!(45.10));
    assert_eq!(
        parse_scan(&[c])[0].last_price.map(|p| p.value()),
        Some(dec!(45.10))
    );
}

#[test]
fn gap_parse_is_exact() {
    assert_eq!(GapPct::parse("+0.1%").map(|g| g.value()), Ok(dec!(0.1)));
}
