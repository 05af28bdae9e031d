//! Injected faults and rate-limit counting.

use std::time::{Duration, Instant};

use ibkr_sim::{Fault, SimConfig};
use serde_json::json;

use crate::helpers::{ready, ready_with};

#[tokio::test]
async fn status_fault_is_used_once() {
    let (sim, client) = ready().await;
    sim.faults().push(
        "/iserver/accounts",
        Fault::Status(503, r#"{"error":"Service Unavailable"}"#.into()),
    );
    let (status, body) = client.get("/iserver/accounts").await;
    assert_eq!(
        (status, body),
        (503, json!({"error": "Service Unavailable"}))
    );
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
    assert_eq!(sim.stats().faults_fired, 1);
}

#[tokio::test]
async fn push_n_and_longest_prefix() {
    let (sim, client) = ready().await;
    sim.faults()
        .push_n("/portfolio", Fault::Status(500, "{}".into()), 2);
    sim.faults().push(
        "/v1/api/portfolio/accounts",
        Fault::Status(410, "{}".into()),
    );
    assert_eq!(client.get("/portfolio/accounts").await.0, 410);
    assert_eq!(client.get("/portfolio/accounts").await.0, 500);
    assert_eq!(client.get("/portfolio/accounts").await.0, 500);
    assert_eq!(client.get("/portfolio/accounts").await.0, 200);
}

#[tokio::test]
async fn delay_fault_delays() {
    let (sim, client) = ready().await;
    sim.faults().push(
        "/iserver/accounts",
        Fault::Delay(Duration::from_millis(300)),
    );
    let t = Instant::now();
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn dropped_connection_gets_no_answer() {
    let (sim, client) = ready().await;
    sim.faults()
        .push("/iserver/accounts", Fault::DropConnection);
    let err = client
        .send("GET", "/iserver/accounts", None, &Default::default())
        .await;
    assert!(err.is_err(), "expected a transport error, got {err:?}");
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
}

#[tokio::test]
async fn drop_after_processing_places_the_order_silently() {
    let (sim, client) = ready().await;
    sim.market()
        .add_contract("PLS", 1001, "PILBARA MINERALS LTD");
    sim.market().set_reply_questions(vec![]);
    sim.faults().push(
        "/iserver/account/DU1234567/orders",
        Fault::DropAfterProcessing,
    );
    let ticket = json!({"orders": [{"conid": 1001, "side": "BUY", "orderType": "LMT", "price": 2.5, "quantity": 100, "cOID": "lost-1"}]});
    let err = client
        .send(
            "POST",
            "/iserver/account/DU1234567/orders",
            Some(ticket),
            &Default::default(),
        )
        .await;
    assert!(err.is_err());
    assert_eq!(
        sim.market().orders().len(),
        1,
        "the order reached the broker"
    );
    let (_, orders) = client.get("/iserver/account/orders").await;
    assert_eq!(
        orders["orders"][0]["order_ref"], "lost-1",
        "found again by cOID"
    );
}

#[tokio::test]
async fn rate_limits_are_counted_and_optionally_enforced() {
    let (sim, client) = ready().await;
    client.post("/tickle", json!({})).await;
    client.post("/tickle", json!({})).await;
    assert_eq!(sim.stats().rate_limit_violations["/tickle"], 1);
    let (status, _) = client.get("/iserver/account/orders").await;
    assert_eq!(status, 200);
    let (status, _) = client.get("/iserver/account/orders").await;
    assert_eq!(status, 200, "counted, not enforced by default");
    assert_eq!(
        sim.stats().rate_limit_violations["/iserver/account/orders"],
        1
    );

    let (sim, client) = ready_with(SimConfig {
        enforce_rate_limits: true,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(client.get("/portfolio/accounts").await.0, 200);
    assert_eq!(client.get("/portfolio/accounts").await.0, 429);
    assert_eq!(sim.stats().violations_total(), 1);
    assert_eq!(sim.stats().requests_to("GET /portfolio/accounts"), 2);
}
