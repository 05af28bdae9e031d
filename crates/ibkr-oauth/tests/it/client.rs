//! Typed calls against `ibkr-sim` over real HTTP: signed GETs with queries, signed POSTs,
//! snapshots with their preflight, the order question loop, retries, and order ambiguity.

use std::str::FromStr as _;
use std::time::{Duration, Instant};

use ibkr_oauth::model::{ScannerFilter, ScannerRequest, fields};
use ibkr_oauth::{Error, OrderTicket, OrderType, Side, Tif};
use ibkr_sim::{Fault, Quote, ScanRow, SimConfig};
use rust_decimal::Decimal;

use crate::helpers::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

const PLS: u64 = 8644;
const BHP: u64 = 4036;

fn market(sim: &ibkr_sim::SimHandle) {
    let m = sim.market();
    m.add_contract("PLS", PLS, "PILBARA MINERALS LTD");
    m.add_contract("BHP", BHP, "BHP GROUP LTD");
    m.set_quote(
        PLS,
        Quote {
            last: Some(d("1.23")),
            bid: Some(d("1.225")),
            ask: Some(d("1.235")),
            high: Some(d("1.30")),
            low: Some(d("1.20")),
            open: Some(d("1.21")),
            prior_close: Some(d("1.19")),
            volume: Some(d("1234567")),
        },
    );
    m.set_quote(
        BHP,
        Quote {
            last: None,
            prior_close: Some(d("45.10")),
            ..Quote::default()
        },
    );
}

fn limit_buy(coid: &str, price: &str) -> OrderTicket {
    OrderTicket {
        conid: PLS as i64,
        order_type: OrderType::Limit,
        side: Side::Buy,
        quantity: 1000,
        tif: Tif::Day,
        price: Some(d(price)),
        aux_price: None,
        coid: coid.into(),
        outside_rth: false,
    }
}

#[tokio::test]
async fn signed_get_with_query_finds_the_asx_listing() {
    let (sim, session) = connected().await;
    market(&sim);
    let found = session.asx_stock("PLS").await.unwrap().expect("PLS on ASX");
    assert_eq!(found.conid, PLS as i64);
    assert_eq!(sim.stats().rejected_total(), 0);
    let none = session.secdef_search("ZZZZ").await.unwrap();
    assert!(SecdefPick::none(&none));
}

struct SecdefPick;
impl SecdefPick {
    fn none(list: &[ibkr_oauth::model::SecdefResult]) -> bool {
        ibkr_oauth::model::SecdefResult::pick_asx_stock(list).is_none()
    }
}

#[tokio::test]
async fn snapshot_asks_again_after_the_preflight() {
    let (sim, session) = connected().await;
    market(&sim);
    let snaps = session
        .snapshot(&[PLS as i64, BHP as i64, PLS as i64], fields::DEFAULT)
        .await
        .unwrap();
    assert_eq!(snaps.len(), 2);
    let pls = &snaps[0];
    assert_eq!(pls.conid, PLS as i64);
    let last = pls.last.unwrap();
    assert_eq!(last.price, d("1.23"));
    assert!(!last.is_prior_close && !last.halted);
    assert_eq!(pls.bid, Some(d("1.225")));
    assert_eq!(pls.volume, Some(d("1234567")));
    let bhp = &snaps[1];
    let last = bhp.last.unwrap();
    assert!(last.is_prior_close, "{bhp:?}");
    assert_eq!(last.price, d("45.10"));
    let stats = sim.stats();
    assert_eq!(
        stats.requests_to("GET /iserver/marketdata/snapshot"),
        2,
        "{stats:?}"
    );
    assert_eq!(
        stats.requests_to("GET /iserver/accounts"),
        1,
        "accounts primed first"
    );
    assert_eq!(stats.rejected_total(), 0);
    // Subscribed now: one request.
    session
        .snapshot(&[PLS as i64], &[fields::LAST])
        .await
        .unwrap();
    assert_eq!(
        sim.stats().requests_to("GET /iserver/marketdata/snapshot"),
        3
    );
}

#[tokio::test]
async fn signed_post_scanner_and_history() {
    let (sim, session) = connected().await;
    market(&sim);
    sim.market().set_scanner_results(vec![ScanRow {
        conid: PLS,
        symbol: "PLS".into(),
        company_name: "PILBARA MINERALS LTD".into(),
        gap_pct: d("12.31"),
    }]);
    let request = ScannerRequest::asx(
        "HIGH_OPEN_GAP",
        vec![ScannerFilter {
            code: "priceAbove".into(),
            value: d("0.05"),
        }],
    );
    let result = session.scanner_run(&request).await.unwrap();
    assert_eq!(result.contracts.len(), 1);
    assert_eq!(result.contracts[0].conid, PLS as i64);
    assert_eq!(result.contracts[0].scan_value().unwrap(), Some(d("12.31")));
    let params = session.scanner_params().await.unwrap();
    let again = session.scanner_params().await.unwrap();
    assert_eq!(params, again);
    assert_eq!(
        sim.stats().requests_to("GET /iserver/scanner/params"),
        1,
        "cached"
    );
    sim.market().set_history(
        PLS,
        vec![ibkr_sim::Bar {
            t_ms: 1_751_328_000_000,
            o: d("1.2"),
            h: d("1.3"),
            l: d("1.15"),
            c: d("1.255"),
            v: d("1000"),
        }],
    );
    let history = session.history(PLS as i64, "15d", "1d").await.unwrap();
    assert_eq!(history.data.len(), 1);
    assert_eq!(history.data[0].close, d("1.255"));
    assert_eq!(sim.stats().rejected_total(), 0);
}

#[tokio::test]
async fn place_order_answers_every_question() {
    let (sim, session) = connected().await;
    market(&sim);
    sim.market().set_reply_questions(vec![
        ("o163".into(), "The price is more than 3% away".into()),
        ("o354".into(), "No market data".into()),
    ]);
    let account = sim.config().account_id.clone();
    let outcome = session
        .place_order(&account, &limit_buy("coid-q-1", "1.005"))
        .await
        .unwrap();
    assert_eq!(outcome.confirmed.len(), 2);
    assert_eq!(outcome.confirmed[0].message_ids, vec!["o163".to_string()]);
    assert_eq!(sim.stats().orders_placed, 1);
    let orders = sim.market().orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].price, Some(d("1.005")), "price exact on the wire");

    let status = session.order_status(&outcome.order_id).await.unwrap();
    assert!(status.order_status.is_some(), "{status:?}");
    let live = session.live_orders().await.unwrap();
    assert_eq!(
        live.by_coid("coid-q-1").map(|o| o.order_id.clone()),
        Some(outcome.order_id.clone())
    );
    // Modify (same questions), then cancel.
    sim.market().set_reply_questions(vec![]);
    let modified = session
        .modify_order(&account, &outcome.order_id, &limit_buy("coid-q-1", "1.01"))
        .await
        .unwrap();
    assert_eq!(modified.order_id, outcome.order_id);
    let ack = session
        .cancel_order(&account, &outcome.order_id)
        .await
        .unwrap();
    assert!(ack.msg.is_some(), "{ack:?}");
    assert_eq!(sim.stats().rejected_total(), 0);
}

#[tokio::test]
async fn duplicate_coid_is_rejected_not_ambiguous() {
    let (sim, session) = connected().await;
    market(&sim);
    sim.market().set_reply_questions(vec![]);
    let account = sim.config().account_id.clone();
    session
        .place_order(&account, &limit_buy("dup-1", "1.0"))
        .await
        .unwrap();
    let err = session
        .place_order(&account, &limit_buy("dup-1", "1.0"))
        .await
        .unwrap_err();
    assert!(err.is_rejected(), "{err}");
    assert_eq!(sim.stats().orders_placed, 1);
}

#[tokio::test]
async fn dropped_order_post_is_ambiguous_and_never_resent() {
    let (sim, session) = connected().await;
    market(&sim);
    sim.market().set_reply_questions(vec![]);
    let account = sim.config().account_id.clone();
    sim.faults().push(
        &format!("/iserver/account/{account}/orders"),
        Fault::DropAfterProcessing,
    );
    let err = session
        .place_order(&account, &limit_buy("amb-1", "1.0"))
        .await
        .unwrap_err();
    match &err {
        Error::OrderAmbiguous { coid, .. } => assert_eq!(coid.as_deref(), Some("amb-1")),
        other => panic!("{other}"),
    }
    assert!(err.is_ambiguous());
    let stats = sim.stats();
    assert_eq!(
        stats.orders_placed, 1,
        "exactly one order reached the broker"
    );
    assert_eq!(
        stats.requests_to("POST /iserver/account/{accountId}/orders"),
        1,
        "not retried: {stats:?}"
    );
    // Settled by cOID.
    let live = session.live_orders().await.unwrap();
    assert!(live.by_coid("amb-1").is_some(), "{live:?}");
}

#[tokio::test]
async fn order_post_5xx_is_ambiguous() {
    let (sim, session) = connected().await;
    market(&sim);
    let account = sim.config().account_id.clone();
    sim.faults().push(
        &format!("/iserver/account/{account}/orders"),
        Fault::Status(503, "Service Unavailable".into()),
    );
    let err = session
        .place_order(&account, &limit_buy("amb-2", "1.0"))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err}");
    assert_eq!(
        sim.stats()
            .requests_to("POST /iserver/account/{accountId}/orders"),
        1
    );
}

#[tokio::test]
async fn read_503_then_success_is_retried() {
    let (sim, session) = connected().await;
    sim.faults()
        .push_n("/iserver/accounts", Fault::Status(503, "busy".into()), 2);
    session.accounts().await.unwrap();
    assert_eq!(sim.stats().requests_to("GET /iserver/accounts"), 3);
    // A dropped connection on a read is retried too.
    sim.faults()
        .push("/iserver/accounts", Fault::DropConnection);
    session.accounts().await.unwrap();
    assert_eq!(sim.stats().requests_to("GET /iserver/accounts"), 5);
}

#[tokio::test]
async fn reads_give_up_after_max_attempts() {
    let (sim, session) = connected().await;
    sim.faults().push_n(
        "/iserver/accounts",
        Fault::Status(500, r#"{"error":"x"}"#.into()),
        10,
    );
    let err = session.accounts().await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(sim.stats().requests_to("GET /iserver/accounts"), 4);
}

#[tokio::test]
async fn rate_limited_read_backs_off_then_succeeds() {
    let (sim, session) = connected().await;
    market(&sim);
    sim.faults().push(
        "/iserver/secdef/search",
        Fault::Status(429, "Too many requests".into()),
    );
    let start = Instant::now();
    session.secdef_search("PLS").await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(sim.stats().requests_to("GET /iserver/secdef/search"), 2);
    // Twice in a row: surfaces as RateLimited after one wait.
    sim.faults().push_n(
        "/iserver/secdef/search",
        Fault::Status(429, "Too many requests".into()),
        2,
    );
    let err = session.secdef_search("PLS").await.unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
}

#[tokio::test]
async fn portfolio_calls() {
    let (sim, session) = connected().await;
    let account = sim.config().account_id.clone();
    let accounts = session.portfolio_accounts().await.unwrap();
    assert!(accounts.iter().any(|a| a.id == account), "{accounts:?}");
    let positions = session.positions(&account, 0).await.unwrap();
    assert!(positions.is_empty(), "{positions:?}");
    let summary = session.account_summary(&account).await.unwrap();
    assert!(summary.available_funds().is_some(), "{summary:?}");
    let trades = session.trades(1).await.unwrap();
    assert!(trades.is_empty());
    let tickle = session.tickle().await.unwrap();
    assert!(tickle.auth_status().authenticated);
    assert!(matches!(
        session.positions("../x", 0).await,
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn rate_limits_are_respected_under_enforcement() {
    let config = SimConfig {
        enforce_rate_limits: true,
        ..SimConfig::default()
    };
    let (sim, session) = sim_and_session(config).await;
    session.authenticate().await.unwrap();
    market(&sim);
    for _ in 0..12 {
        session
            .snapshot(&[PLS as i64], &[fields::LAST])
            .await
            .unwrap();
    }
    for _ in 0..3 {
        session.tickle().await.unwrap();
    }
    assert_eq!(sim.stats().violations_total(), 0, "{:?}", sim.stats());
}

#[tokio::test]
async fn the_same_ticket_fired_twice_concurrently_places_one_order() {
    let (sim, session) = connected().await;
    market(&sim);
    let account = sim.config().account_id.clone();
    let fire = |coid: &'static str| {
        let (s, a) = (session.clone(), account.clone());
        tokio::spawn(async move { s.place_order(&a, &limit_buy(coid, "1.0")).await })
    };
    let (one, two) = (fire("twice-1"), fire("twice-1"));
    let results = [one.await.unwrap(), two.await.unwrap()];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .any(|r| r.as_ref().is_err_and(Error::is_rejected))
    );
    assert_eq!(sim.stats().orders_placed, 1);
    // Distinct tickets both go through, one after the other.
    let (a, b) = (fire("seq-1"), fire("seq-2"));
    a.await.unwrap().unwrap();
    b.await.unwrap().unwrap();
    assert_eq!(sim.stats().orders_placed, 3);
}
