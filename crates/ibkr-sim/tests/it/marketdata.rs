//! Contract search, snapshots, history, scanner and the ASX announcements page.

use ibkr_sim::{Bar, Quote, ScanRow, SimAnnouncement};
use rust_decimal_macros::dec;
use serde_json::json;

use crate::helpers::ready;

fn quote() -> Quote {
    Quote {
        last: Some(dec!(2.81)),
        bid: Some(dec!(2.80)),
        ask: Some(dec!(2.82)),
        high: Some(dec!(2.9)),
        low: Some(dec!(2.5)),
        open: Some(dec!(2.75)),
        prior_close: Some(dec!(2.50)),
        volume: Some(dec!(1234567)),
    }
}

#[tokio::test]
async fn search_lists_other_venues_and_the_asx_one() {
    let (sim, client) = ready().await;
    sim.market()
        .add_contract("PLS", 1001, "PILBARA MINERALS LTD");
    let (status, body) = client.get("/iserver/secdef/search?symbol=PLS").await;
    assert_eq!(status, 200, "{body}");
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let asx: Vec<_> = list
        .iter()
        .filter(|c| {
            c["description"] == "ASX"
                && c["sections"].as_array().unwrap().iter().any(|s| {
                    s["secType"] == "STK" && s["exchange"].as_str().unwrap().contains("ASX")
                })
        })
        .collect();
    assert_eq!(asx.len(), 1);
    assert_eq!(asx[0]["conid"], "1001");
    assert_eq!(asx[0]["companyHeader"], "PILBARA MINERALS LTD - ASX");
    assert_ne!(list[0]["conid"], "1001", "the non-ASX listing comes first");
    assert_eq!(
        client.get("/iserver/secdef/search?symbol=NOPE").await.1,
        json!([])
    );
}

#[tokio::test]
async fn first_snapshot_only_subscribes_then_fields_are_strings() {
    let (sim, client) = ready().await;
    let market = sim.market();
    market.add_contract("PLS", 1001, "PILBARA MINERALS LTD");
    market.add_contract("LKE", 1002, "LAKE RESOURCES NL");
    market.set_quote(1001, quote());
    market.set_sizes(1001, dec!(1300), dec!(25000));
    market.set_quote(
        1002,
        Quote {
            last: None,
            prior_close: Some(dec!(0.45)),
            ..Quote::default()
        },
    );
    let path = "/iserver/marketdata/snapshot?conids=1001,1002&fields=31,55,70,71,84,85,86,87,88,7762,7295,7741,83,6509";
    let (status, first) = client.get(path).await;
    assert_eq!(status, 200);
    assert_eq!(
        first,
        json!([{"conid": 1001, "conidEx": "1001"}, {"conid": 1002, "conidEx": "1002"}])
    );
    let (_, rows) = client.get(path).await;
    let pls = &rows[0];
    assert_eq!(pls["31"], "2.81");
    assert_eq!(pls["55"], "PLS");
    assert_eq!(pls["70"], "2.90");
    assert_eq!(pls["84"], "2.80");
    assert_eq!(pls["86"], "2.82");
    assert_eq!(pls["88"], "1,300");
    assert_eq!(pls["85"], "25,000");
    assert_eq!(pls["87"], "1.23M");
    assert_eq!(pls["7762"], "1234567");
    assert_eq!(pls["7295"], "2.75");
    assert_eq!(pls["7741"], "2.50");
    assert_eq!(pls["83"], "12.40");
    assert_eq!(pls["6509"], "R");
    assert_eq!(rows[1]["31"], "C0.45", "no trade today: prior close with C");
    market.set_halted(1001, true);
    let (_, rows) = client.get(path).await;
    assert_eq!(rows[0]["31"], "H2.81");
    // A new brokerage session subscribes again.
    client
        .post(
            "/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": true}),
        )
        .await;
    let (_, rows) = client.get(path).await;
    assert!(rows[0].get("31").is_none());
}

#[tokio::test]
async fn history_returns_the_last_bars_of_the_period() {
    let (sim, client) = ready().await;
    sim.market()
        .add_contract("PLS", 1001, "PILBARA MINERALS LTD");
    let bars: Vec<Bar> = (0..20)
        .map(|i| Bar {
            t_ms: 1_700_000_000_000 + i * 86_400_000,
            o: dec!(1.0),
            h: dec!(1.2),
            l: dec!(0.9),
            c: dec!(1.1),
            v: dec!(1000),
        })
        .collect();
    sim.market().set_history(1001, bars);
    let (status, body) = client
        .get("/iserver/marketdata/history?conid=1001&period=15d&bar=1d")
        .await;
    assert_eq!(status, 200, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 15);
    assert_eq!(data[14]["t"], 1_700_000_000_000i64 + 19 * 86_400_000);
    assert_eq!(data[0]["c"], json!(1.1));
    assert_eq!(body["symbol"], "PLS");
}

#[tokio::test]
async fn scanner_runs_on_asx_and_renders_gaps() {
    let (sim, client) = ready().await;
    sim.market().set_scanner_results(vec![
        ScanRow {
            conid: 1001,
            symbol: "PLS".into(),
            company_name: "PILBARA MINERALS LTD".into(),
            gap_pct: dec!(12.31),
        },
        ScanRow {
            conid: 1002,
            symbol: "LKE".into(),
            company_name: "LAKE RESOURCES NL".into(),
            gap_pct: dec!(4.5),
        },
    ]);
    sim.market().set_quote(
        1002,
        Quote {
            last: Some(dec!(0.03)),
            volume: Some(dec!(10)),
            ..Quote::default()
        },
    );
    let (status, params) = client.get("/iserver/scanner/params").await;
    assert_eq!(status, 200);
    assert!(
        params["scan_type_list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["code"] == "HIGH_OPEN_GAP")
    );
    let request = json!({"instrument": "STOCK.HK", "type": "HIGH_OPEN_GAP", "location": "STK.HK.ASX", "filter": [{"code": "priceAbove", "value": 0.05}]});
    let (status, body) = client.post("/iserver/scanner/run", request).await;
    assert_eq!(status, 200, "{body}");
    let contracts = body["contracts"].as_array().unwrap();
    assert_eq!(contracts.len(), 1, "LKE is below priceAbove");
    assert_eq!(contracts[0]["con_id"], 1001);
    assert_eq!(contracts[0]["scan_data"], "+12.31%");
    assert_eq!(contracts[0]["listing_exchange"], "ASX");
}

#[tokio::test]
async fn announcements_page_marks_price_sensitive_rows() {
    let (sim, _client) = ready().await;
    sim.market().set_announcements(vec![
        SimAnnouncement {
            ticker: "PLS".into(),
            time: "10:02 am".into(),
            price_sensitive: true,
            headline: "Offtake & supply deal".into(),
            pages: 3,
        },
        SimAnnouncement {
            ticker: "BHP".into(),
            time: "9:15 am".into(),
            price_sensitive: false,
            headline: "Director interest".into(),
            pages: 1,
        },
    ]);
    let resp = reqwest::get(sim.announcements_url()).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("<th>ASX Code</th><th>Date</th><th>Price sens.</th><th>Headline</th>"));
    assert_eq!(html.matches("class=\"pricesens\" src").count(), 1);
    let pls_row = html.split("<tr>").find(|r| r.contains("PLS")).unwrap();
    assert!(pls_row.contains("<img class=\"pricesens\""));
    assert!(pls_row.contains("10:02 am"));
    assert!(pls_row.contains(">Offtake &amp; supply deal</a>"));
    assert!(pls_row.contains("3 pages"));
    let bhp_row = html.split("<tr>").find(|r| r.contains("BHP")).unwrap();
    assert!(!bhp_row.contains("<img"));
}
