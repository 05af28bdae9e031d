//! Orders: questions, fills, cancel, modify, trades and positions.

use ibkr_sim::{FillMode, OrderStatus, Quote};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{Value, json};

use crate::helpers::{Client, ready};

const ACCT: &str = "DU1234567";
const PLS: u64 = 1001;

fn q(last: Decimal, bid: Decimal, ask: Decimal) -> Quote {
    Quote {
        last: Some(last),
        bid: Some(bid),
        ask: Some(ask),
        prior_close: Some(dec!(2.50)),
        ..Quote::default()
    }
}

async fn setup() -> (ibkr_sim::SimHandle, Client) {
    let (sim, client) = ready().await;
    sim.market()
        .add_contract("PLS", PLS, "PILBARA MINERALS LTD");
    sim.market()
        .set_quote(PLS, q(dec!(2.80), dec!(2.79), dec!(2.81)));
    (sim, client)
}

async fn status_of(client: &Client, id: &str) -> Value {
    let (status, body) = client
        .get(&format!("/iserver/account/order/status/{id}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn reply_questions_loop_then_order_is_accepted() {
    let (sim, client) = setup().await;
    sim.market().set_reply_questions(vec![
        ("o163".into(), "price limit?".into()),
        ("o354".into(), "no market data?".into()),
    ]);
    let ticket = json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.70, "quantity": 100, "tif": "DAY", "cOID": "c-1"});
    let (status, body) = client
        .post(
            &format!("/iserver/account/{ACCT}/orders"),
            json!({"orders": [ticket]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["messageIds"], json!(["o163"]));
    assert_eq!(body[0]["isSuppressed"], false);
    assert!(
        sim.market().orders().is_empty(),
        "not placed before confirmation"
    );
    let (_, body) = client
        .post(
            &format!("/iserver/reply/{}", body[0]["id"].as_str().unwrap()),
            json!({"confirmed": true}),
        )
        .await;
    assert_eq!(body[0]["messageIds"], json!(["o354"]));
    let (_, body) = client
        .post(
            &format!("/iserver/reply/{}", body[0]["id"].as_str().unwrap()),
            json!({"confirmed": true}),
        )
        .await;
    let order_id = body[0]["order_id"].as_str().unwrap();
    assert_eq!(body[0]["order_status"], "Submitted");
    assert_eq!(sim.stats().orders_placed, 1);
    let status = status_of(&client, order_id).await;
    assert_eq!(status["order_status"], "Submitted");
    assert_eq!(status["order_ref"], "c-1");
    // A reply id is good once.
    let (status, _) = client
        .post("/iserver/reply/nope", json!({"confirmed": true}))
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn declined_question_places_nothing_and_suppressed_ones_are_skipped() {
    let (sim, client) = setup().await;
    let ticket = json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.70, "quantity": 100, "cOID": "c-2"});
    let (_, body) = client
        .post(
            &format!("/iserver/account/{ACCT}/orders"),
            json!({"orders": [ticket]}),
        )
        .await;
    let (_, body) = client
        .post(
            &format!("/iserver/reply/{}", body[0]["id"].as_str().unwrap()),
            json!({"confirmed": false}),
        )
        .await;
    assert_eq!(body["error"], "Order not confirmed");
    assert!(sim.market().orders().is_empty());
    let (status, _) = client
        .post(
            "/iserver/questions/suppress",
            json!({"messageIds": ["o163"]}),
        )
        .await;
    assert_eq!(status, 200);
    let ticket = json!([{"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.70, "quantity": 100, "cOID": "c-3"}]);
    let (_, body) = client
        .post(&format!("/iserver/account/{ACCT}/orders"), ticket)
        .await;
    assert!(
        body[0]["order_id"].is_string(),
        "bare array accepted, no question: {body}"
    );
}

#[tokio::test]
async fn duplicate_coid_and_bad_tickets_are_refused() {
    let (_sim, client) = setup().await;
    let ticket = json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.70, "quantity": 100, "cOID": "dup-1"});
    client.place_confirmed(ACCT, ticket.clone()).await;
    let (status, body) = client
        .post(
            &format!("/iserver/account/{ACCT}/orders"),
            json!({"orders": [ticket]}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "Local order ID=dup-1 is already registered.");
    for (bad, why) in [
        (
            json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.705, "quantity": 100}),
            "minimum price variation",
        ),
        (
            json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.70, "quantity": 0}),
            "quantity",
        ),
        (
            json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.70, "quantity": 10.5}),
            "quantity",
        ),
        (
            json!({"conid": PLS, "side": "HOLD", "orderType": "LMT", "price": 2.70, "quantity": 10}),
            "side",
        ),
        (
            json!({"conid": PLS, "side": "BUY", "orderType": "TRAIL", "price": 2.70, "quantity": 10}),
            "order type",
        ),
        (
            json!({"conid": 999, "side": "BUY", "orderType": "MKT", "quantity": 10}),
            "999",
        ),
    ] {
        let (status, body) = client
            .post(
                &format!("/iserver/account/{ACCT}/orders"),
                json!({"orders": [bad]}),
            )
            .await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains(why),
            "{body} should mention {why}"
        );
    }
    let (status, _) = client
        .post(
            "/iserver/account/DU9999999/orders",
            json!({"orders": [{"conid": PLS}]}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn limit_buy_fills_when_the_ask_comes_down() {
    let (sim, client) = setup().await;
    let id = client.place_confirmed(ACCT, json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.75, "quantity": 1000, "cOID": "lmt-1"})).await;
    assert_eq!(status_of(&client, &id).await["order_status"], "Submitted");
    sim.market()
        .set_quote(PLS, q(dec!(2.74), dec!(2.73), dec!(2.74)));
    let status = status_of(&client, &id).await;
    assert_eq!(status["order_status"], "Filled");
    assert_eq!(status["average_price"], "2.74");
    assert_eq!(status["cum_fill"], "1000.0");
    assert_eq!(
        sim.market().positions(),
        vec![(PLS, dec!(1000), dec!(2.74))]
    );
    let (_, trades) = client.get("/iserver/account/trades?days=1").await;
    assert_eq!(trades[0]["side"], "B");
    assert_eq!(trades[0]["price"], "2.74");
    assert_eq!(trades[0]["size"], json!(1000));
    assert_eq!(trades[0]["order_ref"], "lmt-1");
    assert_eq!(trades[0]["commission"], "5.00");
    assert!(trades[0]["trade_time_r"].as_i64().is_some());
    let (_, positions) = client.get(&format!("/portfolio/{ACCT}/positions/0")).await;
    assert_eq!(positions[0]["conid"], PLS);
    assert_eq!(positions[0]["position"], json!(1000));
    assert_eq!(positions[0]["currency"], "AUD");
    let (_, summary) = client.get(&format!("/portfolio/{ACCT}/summary")).await;
    assert_eq!(
        summary["availablefunds"]["amount"].as_f64(),
        Some(100_000.0 - 2740.0 - 5.0)
    );
    assert_eq!(
        summary["netliquidation"]["amount"].as_f64(),
        Some(100_000.0 - 5.0)
    );
}

#[tokio::test]
async fn market_order_fills_at_once_at_the_ask() {
    let (sim, client) = setup().await;
    let id = client.place_confirmed(ACCT, json!({"conid": PLS, "side": "BUY", "orderType": "MKT", "quantity": 200, "cOID": "mkt-1"})).await;
    let status = status_of(&client, &id).await;
    assert_eq!(
        (
            status["order_status"].as_str(),
            status["average_price"].as_str()
        ),
        (Some("Filled"), Some("2.81"))
    );
    assert_eq!(sim.market().executions().len(), 1);
}

#[tokio::test]
async fn stop_rests_until_last_trades_through_then_fills_at_last() {
    let (sim, client) = setup().await;
    client.place_confirmed(ACCT, json!({"conid": PLS, "side": "BUY", "orderType": "MKT", "quantity": 500, "cOID": "e-1"})).await;
    let stop = client.place_confirmed(ACCT, json!({"conid": PLS, "side": "SELL", "orderType": "STP", "price": 2.60, "quantity": 500, "tif": "GTC", "cOID": "s-1"})).await;
    assert_eq!(
        status_of(&client, &stop).await["order_status"],
        "PreSubmitted"
    );
    sim.market()
        .set_quote(PLS, q(dec!(2.61), dec!(2.55), dec!(2.62)));
    assert_eq!(
        status_of(&client, &stop).await["order_status"],
        "PreSubmitted",
        "bid below the stop does not trigger"
    );
    sim.market()
        .set_quote(PLS, q(dec!(2.58), dec!(2.57), dec!(2.59)));
    let status = status_of(&client, &stop).await;
    assert_eq!(
        (
            status["order_status"].as_str(),
            status["average_price"].as_str()
        ),
        (Some("Filled"), Some("2.58"))
    );
    assert!(sim.market().positions().is_empty());
    assert_eq!(sim.stats().short_positions_seen, 0);
}

#[tokio::test]
async fn partial_fill_then_the_rest_on_the_next_update() {
    let (sim, client) = setup().await;
    sim.market().set_fill_mode(FillMode::Partial {
        first_fill_qty: 300,
    });
    let id = client.place_confirmed(ACCT, json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.81, "quantity": 1000, "cOID": "p-1"})).await;
    let status = status_of(&client, &id).await;
    assert_eq!(
        (
            status["order_status"].as_str(),
            status["cum_fill"].as_str(),
            status["size"].as_str()
        ),
        (Some("Submitted"), Some("300.0"), Some("700.0"))
    );
    let (_, orders) = client.get("/iserver/account/orders").await;
    assert_eq!(orders["orders"][0]["filledQuantity"], json!(300));
    assert_eq!(orders["orders"][0]["remainingQuantity"], json!(700));
    sim.market()
        .set_quote(PLS, q(dec!(2.80), dec!(2.79), dec!(2.80)));
    let status = status_of(&client, &id).await;
    assert_eq!(status["order_status"], "Filled");
    assert_eq!(status["cum_fill"], "1000.0");
    assert_eq!(status["average_price"], "2.803");
    assert_eq!(sim.market().executions().len(), 2);
}

#[tokio::test]
async fn cancel_and_modify() {
    let (sim, client) = setup().await;
    let id = client.place_confirmed(ACCT, json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.50, "quantity": 100, "cOID": "m-1"})).await;
    let (status, body) = client.send("POST", &format!("/iserver/account/{ACCT}/order/{id}"), Some(json!({"conid": PLS, "side": "BUY", "orderType": "LMT", "price": 2.60, "quantity": 200})), &Default::default()).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let order = &sim.market().orders()[0];
    assert_eq!((order.price, order.quantity), (Some(dec!(2.60)), dec!(200)));
    let (status, body) = client
        .delete(&format!("/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["msg"], "Request was submitted");
    assert_eq!(status_of(&client, &id).await["order_status"], "Cancelled");
    assert_eq!(sim.market().orders()[0].status, OrderStatus::Cancelled);
    let (status, _) = client
        .delete(&format!("/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert_eq!(status, 400, "a cancelled order cannot be cancelled again");
    sim.market()
        .set_quote(PLS, q(dec!(2.40), dec!(2.39), dec!(2.40)));
    assert!(
        sim.market().executions().is_empty(),
        "a cancelled order never fills"
    );
    let (_, orders) = client
        .get("/iserver/account/orders?filters=Cancelled")
        .await;
    assert_eq!(orders["orders"][0]["order_ref"], "m-1");
    assert_eq!(orders["orders"][0]["status"], "Cancelled");
}

#[tokio::test]
async fn selling_more_than_held_is_counted_as_short() {
    let (sim, client) = setup().await;
    client.place_confirmed(ACCT, json!({"conid": PLS, "side": "SELL", "orderType": "MKT", "quantity": 10, "cOID": "short-1"})).await;
    assert_eq!(sim.stats().short_positions_seen, 1);
    assert_eq!(sim.market().positions(), vec![(PLS, dec!(-10), dec!(2.79))]);
}

#[tokio::test]
async fn stop_limit_triggers_on_aux_then_works_as_a_limit() {
    let (sim, client) = setup().await;
    let id = client.place_confirmed(ACCT, json!({"conid": PLS, "side": "BUY", "orderType": "STOP_LIMIT", "price": 2.90, "auxPrice": 2.85, "quantity": 100, "cOID": "sl-1"})).await;
    assert_eq!(
        status_of(&client, &id).await["order_status"],
        "PreSubmitted"
    );
    // Triggered by last 2.86, but the ask 2.95 is above the limit: it works, unfilled.
    sim.market()
        .set_quote(PLS, q(dec!(2.86), dec!(2.85), dec!(2.95)));
    assert_eq!(status_of(&client, &id).await["order_status"], "Submitted");
    sim.market()
        .set_quote(PLS, q(dec!(2.88), dec!(2.87), dec!(2.89)));
    let status = status_of(&client, &id).await;
    assert_eq!(
        (
            status["order_status"].as_str(),
            status["average_price"].as_str()
        ),
        (Some("Filled"), Some("2.89"))
    );
}

#[tokio::test]
async fn nothing_fills_while_halted() {
    let (sim, client) = setup().await;
    sim.market().set_halted(PLS, true);
    let id = client.place_confirmed(ACCT, json!({"conid": PLS, "side": "BUY", "orderType": "MKT", "quantity": 100, "cOID": "h-1"})).await;
    sim.market()
        .set_quote(PLS, q(dec!(2.80), dec!(2.79), dec!(2.81)));
    assert_eq!(status_of(&client, &id).await["order_status"], "Submitted");
    sim.market().set_halted(PLS, false);
    assert_eq!(
        status_of(&client, &id).await["order_status"],
        "Filled",
        "fills when trading resumes"
    );
}
