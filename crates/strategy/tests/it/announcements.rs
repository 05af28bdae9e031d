//! The ASX announcements page parser, on realistic saved pages.

use chrono::NaiveTime;
use strategy::asx::parse_announcements;

use crate::support::{date, fixture, ticker};

fn at(h: u32, m: u32) -> chrono::NaiveDateTime {
    date(2026, 12, 4).and_time(NaiveTime::from_hms_opt(h, m, 0).expect("time"))
}

#[test]
fn a_full_day_parses_every_row_in_page_order() {
    let anns = parse_announcements(&fixture("todayAnns_2026-12-04.html")).expect("parses");
    let summary: Vec<(String, _, bool, &str, Option<u32>)> = anns
        .iter()
        .map(|a| {
            (
                a.ticker.to_string(),
                a.time,
                a.price_sensitive,
                a.headline.as_str(),
                a.pages,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "BHP".into(),
                at(10, 2),
                true,
                "Quarterly Activities Report",
                Some(5)
            ),
            (
                "BHP".into(),
                at(9, 41),
                false,
                "Change of Director's Interest Notice",
                Some(3)
            ),
            (
                "PLS".into(),
                at(8, 30),
                true,
                "Offtake Agreement & Capital Raising",
                Some(12)
            ),
            ("PLS".into(), at(8, 31), true, "Trading Halt", Some(1)),
            (
                "CBA".into(),
                at(12, 5),
                false,
                "Daily share buy-back notice - Appendix 3E",
                Some(2)
            ),
            (
                "1AE".into(),
                at(16, 45),
                true,
                "Drilling Results - High-Grade Gold Intercepts",
                Some(18)
            ),
        ]
    );
}

#[test]
fn links_are_kept_with_entities_decoded() {
    let anns = parse_announcements(&fixture("todayAnns_2026-12-04.html")).expect("parses");
    assert_eq!(
        anns[0].url.as_deref(),
        Some("/asx/v2/statistics/displayAnnouncement.do?display=pdf&idsId=02912345")
    );
}

#[test]
fn the_header_row_and_the_legend_image_are_not_announcements() {
    let anns = parse_announcements(&fixture("todayAnns_2026-12-04.html")).expect("parses");
    assert!(anns.iter().all(|a| a.ticker != ticker("ASX")));
    assert_eq!(anns.len(), 6);
    // Every price-sensitive flag comes from its own row's marker image.
    let sensitive: Vec<_> = anns
        .iter()
        .filter(|a| a.price_sensitive)
        .map(|a| a.ticker.to_string())
        .collect();
    assert_eq!(sensitive, ["BHP", "PLS", "PLS", "1AE"]);
}

#[test]
fn a_page_without_thead_and_with_the_old_marker_parses() {
    let anns = parse_announcements(&fixture("todayAnns_no_thead.html")).expect("parses");
    assert_eq!(anns.len(), 2);
    assert_eq!(anns[0].ticker, ticker("NXM"));
    assert_eq!(anns[0].time, at(12, 38));
    assert!(anns[0].price_sensitive);
    assert_eq!(anns[0].headline, "Triumph Gold Project Update");
    assert_eq!(anns[0].pages, Some(3));
    assert_eq!(anns[1].time, at(13, 15));
    assert!(!anns[1].price_sensitive);
    assert_eq!(anns[1].headline, "Appendix 2A");
}

#[test]
fn the_brief_sketch_parses() {
    let html = r#"<announcement_data><table><thead><tr><th>ASX Code</th><th>Date</th><th>Price sens.</th><th>Headline</th></tr></thead>
<tbody><tr><td>BHP</td><td>04/12/2026<br><span class="dates-time">10:02 am</span></td><td class="pricesens"><img src="/images/icon-price-sensitive.svg" class="pricesens" alt="asterix" title="price sensitive"></td><td><a href="/asx/v2/statistics/displayAnnouncement.do?display=pdf&idsId=02912345">Quarterly Activities Report</a><br>5 pages<br>1.2MB</td></tr></tbody></table></announcement_data>"#;
    let anns = parse_announcements(html).expect("parses");
    assert_eq!(anns.len(), 1);
    assert!(anns[0].price_sensitive);
    assert_eq!(anns[0].headline, "Quarterly Activities Report");
    assert_eq!(anns[0].pages, Some(5));
    assert_eq!(anns[0].time, at(10, 2));
}

#[test]
fn an_empty_day_is_an_empty_list() {
    let anns = parse_announcements(&fixture("todayAnns_empty.html")).expect("parses");
    assert!(anns.is_empty());
}

#[test]
fn a_no_announcements_message_row_is_an_empty_list() {
    let anns =
        parse_announcements(&fixture("todayAnns_no_announcements_message.html")).expect("parses");
    assert!(anns.is_empty());
}

#[test]
fn a_changed_layout_is_an_error_not_an_empty_list() {
    let err = parse_announcements(&fixture("todayAnns_changed_layout.html")).unwrap_err();
    assert!(err.is_page_format_changed(), "{err}");
    assert!(err.to_string().contains("format changed"), "{err}");
}

#[test]
fn renamed_columns_are_an_error_naming_what_was_found() {
    let err = parse_announcements(&fixture("todayAnns_renamed_columns.html")).unwrap_err();
    assert!(err.is_page_format_changed());
    assert!(err.to_string().contains("company | released"), "{err}");
}

#[test]
fn a_row_missing_cells_is_an_error() {
    let err = parse_announcements(&fixture("todayAnns_short_row.html")).unwrap_err();
    assert!(err.is_page_format_changed());
    assert!(err.to_string().contains("3 cells"), "{err}");
}

#[test]
fn an_empty_or_garbage_document_is_an_error() {
    for html in [
        "",
        "<html></html>",
        "not html at all",
        "<table><tr><td>BHP</td></tr></table>",
    ] {
        let err = parse_announcements(html).unwrap_err();
        assert!(err.is_page_format_changed(), "{html:?}: {err}");
    }
}

#[test]
fn an_unreadable_time_is_an_error() {
    let html = r#"<table><tr><th>ASX Code</th><th>Date</th><th>Price sens.</th><th>Headline</th></tr>
        <tr><td>BHP</td><td>yesterday</td><td></td><td><a href="/x">Report</a></td></tr></table>"#;
    let err = parse_announcements(html).unwrap_err();
    assert!(err.to_string().contains("BHP"), "{err}");
}

#[test]
fn an_invalid_code_is_an_error() {
    let html = r#"<table><tr><th>ASX Code</th><th>Date</th><th>Price sens.</th><th>Headline</th></tr>
        <tr><td>bhp group</td><td>04/12/2026 10:02 am</td><td></td><td><a href="/x">Report</a></td></tr></table>"#;
    let err = parse_announcements(html).unwrap_err();
    assert!(err.to_string().contains("not an ASX code"), "{err}");
}

#[test]
fn columns_in_another_order_are_found_by_name() {
    let html = r#"<table><thead><tr><th>Headline</th><th>Price sens.</th><th>ASX Code</th><th>Date</th></tr></thead>
        <tbody><tr><td><a href="/x">Scheme Booklet</a><br>120 pages</td><td class="pricesens"><img class="pricesens"></td><td>ORG</td><td>04/12/2026<br>2:30 pm</td></tr></tbody></table>"#;
    let anns = parse_announcements(html).expect("parses");
    assert_eq!(anns[0].ticker, ticker("ORG"));
    assert_eq!(anns[0].headline, "Scheme Booklet");
    assert_eq!(anns[0].pages, Some(120));
    assert_eq!(anns[0].time, at(14, 30));
    assert!(anns[0].price_sensitive);
}

#[test]
fn a_thead_of_td_cells_is_still_the_header() {
    let html = r#"<table><thead><tr><td>ASX Code</td><td>Date</td><td>Price sens.</td><td>Headline</td></tr></thead>
        <tbody><tr><td>WTC</td><td>04/12/2026 <span>7:20 pm</span></td><td class="pricesens">&nbsp;</td>
        <td><a href="/x">FY26 Results<br><span class="page">12 pages</span><span class="filesize">1MB</span></a></td></tr></tbody></table>"#;
    let anns = parse_announcements(html).expect("parses");
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0].headline, "FY26 Results");
    assert_eq!(anns[0].time, at(19, 20));
    assert!(!anns[0].price_sensitive);
}

#[test]
fn a_header_split_over_lines_is_recognised() {
    let anns = parse_announcements(&fixture("todayAnns_no_thead.html")).expect("parses");
    assert!(!anns.is_empty());
}
