//! Table tests of the wire types against real-looking bodies, malformed ones included: every
//! bad body must be an `Error::Malformed` naming the endpoint, never a panic.

use std::str::FromStr as _;

use rust_decimal::Decimal;
use serde_json::json;

use super::*;
use crate::error::Error;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn snap(body: serde_json::Value) -> crate::Result<Vec<Snapshot>> {
    Snapshot::list_from_value("GET /iserver/marketdata/snapshot", &body)
}

#[test]
fn snapshot_quirks() {
    let body = json!([
        {"conid": 8644, "conidEx": "8644", "_updated": 1712345678901i64, "server_id": "q0",
         "31": "C1.23", "84": "1.225", "86": "1.235", "85": "1,300", "88": "12,000",
         "87": "1.2M", "7762": "1234567", "70": "1.30", "71": "1.20", "7295": "1.21",
         "7741": "1.19", "83": "+3.36%", "55": "PLS", "6509": "RpB", "extra": {"x": 1}},
        {"conid": "1234", "31": "H0.5", "87": "7.5K"},
        {"conid": 99, "conidEx": "99"},
        {"conid": 5, "31": 2.015, "84": "", "86": "-"}
    ]);
    let list = snap(body).unwrap();
    assert_eq!(list.len(), 4);
    let a = &list[0];
    assert_eq!(a.conid, 8644);
    assert_eq!(
        a.last,
        Some(LastPrice {
            price: d("1.23"),
            is_prior_close: true,
            halted: false
        })
    );
    assert_eq!(a.bid, Some(d("1.225")));
    assert_eq!(a.ask_size, Some(d("1300")));
    assert_eq!(a.bid_size, Some(d("12000")));
    assert_eq!(a.volume, Some(d("1234567")), "7762 wins over 87");
    assert_eq!(a.change_pct, Some(d("3.36")));
    assert_eq!(a.symbol.as_deref(), Some("PLS"));
    assert_eq!(a.updated_ms, Some(1712345678901));
    assert!(a.has_any(&["31"]));
    let b = &list[1];
    assert_eq!(b.conid, 1234);
    assert_eq!(
        b.last,
        Some(LastPrice {
            price: d("0.5"),
            is_prior_close: false,
            halted: true
        })
    );
    assert_eq!(b.volume, Some(d("7500")));
    assert!(
        !list[2].has_any(&["31", "84"]),
        "preflight answer has no fields"
    );
    assert_eq!(list[3].last.map(|l| l.price), Some(d("2.015")));
    assert_eq!(list[3].bid, None);
    assert_eq!(list[3].ask, None);
}

#[test]
fn malformed_snapshots_are_errors() {
    let cases = [
        json!("nope"),
        json!([1, 2]),
        json!([{"31": "1.0"}]),
        json!([{"conid": "abc"}]),
        json!([{"conid": 1, "31": "C1.2.3"}]),
        json!([{"conid": 1, "84": "bid"}]),
        json!([{"conid": 1, "84": [1]}]),
    ];
    for body in cases {
        match snap(body.clone()) {
            Err(Error::Malformed(m)) => assert!(m.contains("snapshot"), "{m}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    assert!(snap(json!(null)).unwrap().is_empty());
    assert!(snap(json!({})).unwrap().is_empty());
}

#[test]
fn order_replies() {
    let ep = "POST /iserver/account/DU1/orders";
    let cases = [
        (
            json!([{"order_id": "1234567", "order_status": "Submitted", "encrypt_message": "1"}]),
            OrderReply::Accepted(vec![AcceptedOrder {
                order_id: "1234567".into(),
                order_status: Some("Submitted".into()),
            }]),
        ),
        (
            json!([{"order_id": 42, "order_status": "PreSubmitted"}]),
            OrderReply::Accepted(vec![AcceptedOrder {
                order_id: "42".into(),
                order_status: Some("PreSubmitted".into()),
            }]),
        ),
        (
            json!([{"id": "07a13a5a-4a48", "message": ["You are submitting an order without market data."], "isSuppressed": false, "messageIds": ["o354"]}]),
            OrderReply::Question(Question {
                id: "07a13a5a-4a48".into(),
                message: vec!["You are submitting an order without market data.".into()],
                message_ids: vec!["o354".into()],
            }),
        ),
        (
            json!({"error": "Local order ID=c1 is already registered."}),
            OrderReply::Error("Local order ID=c1 is already registered.".into()),
        ),
        (
            json!([{"error": "price exceeds the limit"}]),
            OrderReply::Error("price exceeds the limit".into()),
        ),
        (
            json!({"id": "x", "message": null}),
            OrderReply::Question(Question {
                id: "x".into(),
                message: vec![],
                message_ids: vec![],
            }),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(OrderReply::from_value(ep, &body).unwrap(), want, "{body}");
    }
    for bad in [
        json!([]),
        json!("ok"),
        json!([{"foo": 1}]),
        json!([{"order_id": {"a": 1}}]),
        json!(7),
    ] {
        assert!(
            matches!(OrderReply::from_value(ep, &bad), Err(Error::Malformed(_))),
            "{bad}"
        );
    }
}

#[test]
fn order_ticket_prices_go_on_the_wire_exactly() {
    let ticket = OrderTicket {
        conid: 8644,
        order_type: OrderType::StopLimit,
        side: Side::Sell,
        quantity: 1500,
        tif: Tif::Gtc,
        price: Some(d("1.005")),
        aux_price: Some(d("0.0990")),
        coid: "skim-20250701-1".into(),
        outside_rth: false,
    };
    let text = crate::client::ticket_json(&ticket).unwrap();
    assert_eq!(
        text,
        r#"{"conid":8644,"orderType":"STOP_LIMIT","side":"SELL","quantity":1500,"tif":"GTC","price":1.005,"auxPrice":0.099,"cOID":"skim-20250701-1","outsideRTH":false}"#
    );
    let mkt = OrderTicket {
        order_type: OrderType::Market,
        price: None,
        aux_price: None,
        side: Side::Buy,
        tif: Tif::Day,
        ..ticket
    };
    let text = crate::client::ticket_json(&mkt).unwrap();
    assert!(
        !text.contains("price") && !text.contains("auxPrice"),
        "{text}"
    );
    assert!(text.contains(r#""orderType":"MKT""#) && text.contains(r#""side":"BUY""#));
    // Every ASX step price below $3 survives the trip exactly.
    for cents_tenths in 1..3000u32 {
        let p = Decimal::new(i64::from(cents_tenths), 3);
        let t = OrderTicket {
            price: Some(p),
            ..mkt.clone()
        };
        let v: serde_json::Value =
            serde_json::from_str(&crate::client::ticket_json(&t).unwrap()).unwrap();
        assert_eq!(v["price"].to_string(), p.normalize().to_string());
    }
}

#[test]
fn scanner_request_and_answer() {
    let req = ScannerRequest::asx(
        "HIGH_OPEN_GAP",
        vec![ScannerFilter {
            code: "priceAbove".into(),
            value: d("0.05"),
        }],
    );
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        r#"{"instrument":"STOCK.HK","type":"HIGH_OPEN_GAP","location":"STK.HK.ASX","filter":[{"code":"priceAbove","value":0.05}]}"#
    );
    let body = br##"{"contracts":[{"server_id":"0","column_name":"Gap","symbol":"PLS","conidex":"8644","con_id":8644,"available_chart_periods":"#R|1","company_name":"PILBARA MINERALS","scan_data":"12.31%","contract_description_1":"PLS","listing_exchange":"ASX","sec_type":"STK"}],"scan_data_column_name":"Gap"}"##;
    let r: ScannerResult = parse("POST /iserver/scanner/run", body).unwrap();
    assert_eq!(r.contracts[0].conid, 8644);
    assert_eq!(r.contracts[0].scan_value().unwrap(), Some(d("12.31")));
    let err = parse::<ScannerResult>(
        "POST /iserver/scanner/run",
        br#"{"contracts":[{"symbol":"X"}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Malformed(m) if m.contains("scanner/run")),
        "{err}"
    );
}

#[test]
fn secdef_pick_asx_stock() {
    let body = br#"[
        {"conid":"4815","companyHeader":"PILBARA MINERALS LTD - ASX","companyName":"PILBARA MINERALS LTD","symbol":"PLS","description":"ASX","sections":[{"secType":"STK","exchange":"ASX;CHIXAU;"},{"secType":"OPT","exchange":"ASX"}]},
        {"conid":11111,"companyHeader":"PLS CORP - NASDAQ","description":"NASDAQ","sections":[{"secType":"STK"}]},
        {"conid":222,"companyHeader":"PLS warrants - ASX","description":"ASX","sections":[{"secType":"WAR"}]}
    ]"#;
    let list: Vec<SecdefResult> = parse("GET /iserver/secdef/search", body).unwrap();
    assert_eq!(
        SecdefResult::pick_asx_stock(&list).map(|r| r.conid),
        Some(4815)
    );
    assert!(SecdefResult::pick_asx_stock(&list[1..]).is_none());
    assert!(
        parse::<Vec<SecdefResult>>("GET /iserver/secdef/search", br#"[{"companyHeader":"x"}]"#)
            .is_err()
    );
}

#[test]
fn history_status_orders_trades_portfolio() {
    let h: History = parse("h", br#"{"symbol":"PLS","data":[{"t":1719792000000,"o":1.2,"h":1.3,"l":1.15,"c":1.255,"v":1234567.0}],"points":1,"mktDataDelay":0}"#).unwrap();
    assert_eq!(h.data[0].close, d("1.255"));
    assert_eq!(h.data[0].volume, Some(d("1234567")));
    assert!(parse::<History>("h", br#"{"data":[{"t":1,"o":"x","h":1,"l":1,"c":1}]}"#).is_err());
    assert!(
        parse::<History>("h", br#"{"data":null}"#)
            .unwrap()
            .data
            .is_empty()
    );

    let t: Tickle = parse("t", br#"{"session":"abc","ssoExpires":460311,"collission":false,"userId":1,"iserver":{"authStatus":{"authenticated":true,"competing":false,"connected":true,"message":"","MAC":"x","serverInfo":{"serverName":"a"}}}}"#).unwrap();
    assert!(
        t.auth_status().authenticated && t.auth_status().connected && !t.auth_status().competing
    );
    let t: Tickle = parse("t", br#"{"session":"abc","iserver":{}}"#).unwrap();
    assert!(!t.auth_status().authenticated);

    let s: OrderStatus = parse("s", br#"{"order_id":1,"conid":8644,"order_status":"Filled","cum_fill":"1,500","average_price":"1.005","size":"0.0","total_size":"1500.0","side":"B","unknown":true}"#).unwrap();
    assert_eq!(s.cum_fill, Some(d("1500")));
    assert_eq!(s.average_price, Some(d("1.005")));
    assert_eq!(s.order_id.as_deref(), Some("1"));

    let lo: LiveOrders = parse("o", br#"{"orders":[{"acct":"DU1","conid":8644,"orderId":123,"ticker":"PLS","status":"Submitted","side":"BUY","orderType":"Limit","filledQuantity":0.0,"remainingQuantity":1500.0,"avgPrice":"","order_ref":"c1"}],"snapshot":true}"#).unwrap();
    assert_eq!(lo.by_coid("c1").map(|o| o.order_id.as_str()), Some("123"));
    assert_eq!(lo.orders[0].avg_price, None);
    assert!(
        parse::<LiveOrders>("o", br#"{"orders":null,"snapshot":false}"#)
            .unwrap()
            .orders
            .is_empty()
    );

    let tr: Vec<Trade> = parse("tr", br#"[{"execution_id":"0000e0d5.1","symbol":"PLS","side":"B","order_description":"Bot 1500","trade_time":"20250701-00:01:02","trade_time_r":1751328062000,"size":1500.0,"price":"1.005","order_ref":"c1","commission":"6.00","conid":"8644","account":"DU1"}]"#).unwrap();
    assert_eq!(tr[0].price, d("1.005"));
    assert_eq!(tr[0].conid, Some(8644));
    assert!(parse::<Vec<Trade>>("tr", br#"[{"execution_id":"1","size":1}]"#).is_err());

    let p: Vec<Position> = parse("p", br#"[{"acctId":"DU1","conid":8644,"contractDesc":"PLS","position":1500.0,"mktPrice":1.1,"mktValue":1650,"currency":"AUD","avgCost":1.005,"avgPrice":1.005,"unrealizedPnl":142.5}]"#).unwrap();
    assert_eq!(p[0].position, d("1500"));
    assert_eq!(p[0].avg_price, Some(d("1.005")));

    let sum: AccountSummary = parse("s", br#"{"accountready":{"value":"true","isNull":false},"availablefunds":{"amount":100000.5,"currency":"AUD","isNull":false},"netliquidation":{"amount":"1,000,000.25"},"oddball":7}"#).unwrap();
    assert_eq!(sum.available_funds(), Some(d("100000.5")));
    assert_eq!(sum.net_liquidation(), Some(d("1000000.25")));
    assert!(parse::<AccountSummary>("s", br#"{"availablefunds":{"amount":"lots"}}"#).is_err());

    let a: Accounts = parse(
        "a",
        br#"{"accounts":["DU123"],"selectedAccount":"DU123","isPaper":true,"aliases":{}}"#,
    )
    .unwrap();
    assert_eq!(a.accounts, vec!["DU123".to_string()]);
    assert!(a.is_paper);

    let pa: Vec<PortfolioAccount> = parse(
        "pa",
        br#"[{"id":"DU123","accountId":"DU123","currency":"AUD","type":"DEMO"}]"#,
    )
    .unwrap();
    assert_eq!(pa[0].id, "DU123");

    for garbage in [&b"not json"[..], b"", b"{\"orders\":"] {
        assert!(
            matches!(parse::<LiveOrders>("GET /x", garbage), Err(Error::Malformed(m)) if m.starts_with("GET /x"))
        );
    }
}

mod props {
    use proptest::prelude::*;

    use super::super::de::parse_decimal_text;
    use super::super::{LastPrice, OrderReply, Snapshot};

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            "[CH0-9.,KMB%+ -]{0,12}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("conid".to_owned()),
                        Just("31".to_owned()),
                        Just("84".to_owned()),
                        Just("order_id".to_owned()),
                        Just("id".to_owned()),
                        Just("error".to_owned()),
                        Just("message".to_owned()),
                        "[a-z0-9_]{1,6}",
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn text_parsers_never_panic(text in "\\PC{0,24}") {
            let _ = parse_decimal_text(&text);
            let _ = LastPrice::parse(&text);
        }

        #[test]
        fn plain_decimals_round_trip(units in -10_000_000i64..10_000_000, scale in 0u32..4) {
            let d = rust_decimal::Decimal::new(units, scale);
            prop_assert_eq!(parse_decimal_text(&d.to_string()).unwrap(), Some(d.normalize()));
        }

        #[test]
        fn json_readers_never_panic(v in json_value()) {
            let _ = Snapshot::list_from_value("GET /s", &v);
            let _ = OrderReply::from_value("POST /o", &v);
            let text = v.to_string();
            let _ = super::super::parse::<super::super::LiveOrders>("GET /o", text.as_bytes());
            let _ = super::super::parse::<Vec<super::super::Trade>>("GET /t", text.as_bytes());
        }
    }
}
