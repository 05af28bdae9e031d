//! The brokerage session: no bridge before `ssodh/init`, tickle, status, competing sessions.

use std::time::Duration;

use ibkr_sim::SimConfig;
use serde_json::json;

use crate::helpers::{Client, ready, start};

#[tokio::test]
async fn iserver_needs_init_but_portfolio_does_not() {
    let sim = start(SimConfig::default()).await;
    let mut client = Client::new(&sim);
    client.handshake().await.unwrap();
    let (status, body) = client.get("/iserver/accounts").await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "Bad Request: no bridge"}))
    );
    assert_eq!(client.get("/portfolio/accounts").await.0, 200);
    assert_eq!(client.get("/portfolio/DU1234567/positions/0").await.0, 200);
    let (status, body) = client
        .post(
            "/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["authenticated"].as_bool(),
            body["competing"].as_bool(),
            body["connected"].as_bool()
        ),
        (Some(true), Some(false), Some(true))
    );
    let (status, body) = client.get("/iserver/accounts").await;
    assert_eq!(status, 200);
    assert_eq!(body["accounts"], json!(["DU1234567"]));
    assert_eq!(body["selectedAccount"], "DU1234567");
    assert_eq!(body["isPaper"], true);
    assert_eq!(sim.stats().ssodh_inits, 1);
}

#[tokio::test]
async fn init_settles_before_the_bridge_works() {
    let sim = start(SimConfig {
        init_settle: Duration::from_millis(300),
        ..SimConfig::default()
    })
    .await;
    let mut client = Client::new(&sim);
    client.handshake().await.unwrap();
    client
        .post(
            "/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": true}),
        )
        .await;
    assert_eq!(client.get("/iserver/accounts").await.0, 400);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
}

#[tokio::test]
async fn tickle_reports_the_session() {
    let (sim, client) = ready().await;
    let (status, body) = client.post("/tickle", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["iserver"]["authStatus"]["authenticated"], true);
    assert_eq!(body["iserver"]["authStatus"]["competing"], false);
    assert_eq!(body["session"].as_str().unwrap().len(), 32);
    assert!(body["ssoExpires"].as_i64().unwrap() > 0);
    assert_eq!(sim.stats().tickles, 1);
}

#[tokio::test]
async fn competing_session_until_reinit_with_compete() {
    let (sim, client) = ready().await;
    sim.faults().set_competing(true);
    let (_, body) = client.post("/tickle", json!({})).await;
    assert_eq!(body["iserver"]["authStatus"]["competing"], true);
    assert_eq!(body["iserver"]["authStatus"]["authenticated"], false);
    let (_, body) = client.post("/iserver/auth/status", json!({})).await;
    assert_eq!(body["competing"], true);
    assert_eq!(client.get("/iserver/accounts").await.0, 400);
    let (_, body) = client
        .post(
            "/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": false}),
        )
        .await;
    assert_eq!(body["competing"], true);
    let (_, body) = client
        .post(
            "/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": true}),
        )
        .await;
    assert_eq!(body["competing"], false);
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
}

#[tokio::test]
async fn dropped_bridge_needs_a_new_init() {
    let (sim, client) = ready().await;
    sim.faults().drop_bridge();
    let (status, body) = client.get("/iserver/accounts").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("Bad Request: no bridge"))
    );
    let (_, body) = client.post("/iserver/auth/status", json!({})).await;
    assert_eq!(body["authenticated"], false);
    client
        .post(
            "/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": true}),
        )
        .await;
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
}

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let (_sim, client) = ready().await;
    let (status, body) = client.get("/iserver/nothing/here").await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn idle_session_times_out_unless_tickled() {
    let config = SimConfig {
        session_idle_timeout: Some(Duration::from_millis(400)),
        ..SimConfig::default()
    };
    let (_sim, client) = crate::helpers::ready_with(config).await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(client.post("/tickle", json!({})).await.0, 200);
    }
    assert_eq!(
        client.get("/iserver/accounts").await.0,
        200,
        "tickles keep it alive"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = client.get("/iserver/accounts").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("Bad Request: no bridge"))
    );
    let (_, body) = client.post("/tickle", json!({})).await;
    assert_eq!(body["iserver"]["authStatus"]["authenticated"], false);
}
