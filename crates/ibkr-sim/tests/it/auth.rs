//! Strictness: every malformed or mis-signed request is refused as IBKR refuses it.

use std::time::Duration;

use ibkr_sim::{Sim, SimConfig, TestCredentials};
use serde_json::Value;

use crate::helpers::{Client, Tweak, now_s, ready, ready_with, start};

async fn handshake_refused(tweak: Tweak) -> (u16, Value) {
    let sim = start(SimConfig::default()).await;
    let mut client = Client::new(&sim);
    let err = client.handshake_with(&tweak).await.unwrap_err();
    assert_eq!(sim.stats().handshakes, 0);
    err
}

async fn request_refused(tweak: Tweak) -> (u16, Value) {
    let (_sim, client) = ready().await;
    client
        .send("GET", "/iserver/accounts", None, &tweak)
        .await
        .unwrap()
}

#[tokio::test]
async fn correct_handshake_gives_a_validated_token() {
    let sim = start(SimConfig::default()).await;
    let mut client = Client::new(&sim);
    let body = client.handshake().await.unwrap();
    let expiry = body["live_session_token_expiration"].as_i64().unwrap();
    let now_ms = chrono::Utc::now().timestamp_millis();
    assert!(expiry > now_ms + 23 * 3600 * 1000, "24 h token expected");
    assert_eq!(
        body["live_session_token_signature"].as_str().unwrap().len(),
        40
    );
    assert_eq!(sim.stats().handshakes, 1);
    let (status, accounts) = client.get("/portfolio/accounts").await;
    assert_eq!(status, 200, "{accounts}");
    assert_eq!(accounts[0]["accountId"], "DU1234567");
}

#[tokio::test]
async fn wrong_rsa_signature_is_refused() {
    let (status, body) = handshake_refused(Tweak {
        wrong_key: true,
        ..Tweak::default()
    })
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid signature"))
    );
}

#[tokio::test]
async fn handshake_must_be_rsa_signed() {
    let (status, body) = handshake_refused(Tweak {
        signature_method: Some(Some("HMAC-SHA256".into())),
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"].as_str().unwrap().contains("signature method"),
        "{body}"
    );
}

#[tokio::test]
async fn wrong_consumer_key_is_invalid_consumer() {
    let (status, body) = handshake_refused(Tweak {
        consumer_key: Some("NOTACTIVE".into()),
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 401);
    assert_eq!(body, serde_json::json!({"error": "invalid consumer"}));
    let (status, body) = request_refused(Tweak {
        consumer_key: Some("NOTACTIVE".into()),
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 401);
    assert_eq!(body, serde_json::json!({"error": "invalid consumer"}));
}

#[tokio::test]
async fn wrong_token_and_realm_are_refused() {
    let (status, body) = handshake_refused(Tweak {
        token: Some("feedbeef".into()),
        ..Tweak::default()
    })
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid token"))
    );
    let (status, body) = handshake_refused(Tweak {
        realm: Some("test_realm".into()),
        ..Tweak::default()
    })
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid realm"))
    );
    let (status, body) = request_refused(Tweak {
        realm: Some("test_realm".into()),
        ..Tweak::default()
    })
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid realm"))
    );
}

#[tokio::test]
async fn wrong_hmac_is_refused() {
    let (status, body) = request_refused(Tweak {
        wrong_key: true,
        ..Tweak::default()
    })
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid signature"))
    );
}

#[tokio::test]
async fn query_pairs_must_be_signed() {
    let (sim, client) = ready().await;
    sim.market()
        .add_contract("PLS", 1001, "PILBARA MINERALS LTD");
    let ok = client
        .send(
            "GET",
            "/iserver/marketdata/snapshot?conids=1001&fields=31",
            None,
            &Tweak::default(),
        )
        .await
        .unwrap();
    assert_eq!(ok.0, 200, "{}", ok.1);
    let bad = Tweak {
        unsigned_query: true,
        ..Tweak::default()
    };
    let (status, body) = client
        .send(
            "GET",
            "/iserver/marketdata/snapshot?conids=1001&fields=31",
            None,
            &bad,
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid signature"))
    );
    // Percent-encoded on the wire or not, the decoded pairs are what is signed.
    let ok = client
        .get("/iserver/marketdata/snapshot?conids=1001%2C1002&fields=31")
        .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
}

#[tokio::test]
async fn reused_nonce_is_refused() {
    let (sim, client) = ready().await;
    let tweak = Tweak {
        nonce: Some("samenonce1234567".into()),
        ..Tweak::default()
    };
    let (status, _) = client
        .send("GET", "/iserver/accounts", None, &tweak)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, body) = client
        .send("GET", "/iserver/accounts", None, &tweak)
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("nonce already used"))
    );
    assert_eq!(sim.stats().rejected_auth["nonce already used"], 1);
}

#[tokio::test]
async fn stale_and_millisecond_timestamps_are_refused() {
    let old = (now_s().parse::<i64>().unwrap() - 400).to_string();
    let (status, body) = request_refused(Tweak {
        timestamp: Some(old),
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"].as_str().unwrap().contains("timestamp"),
        "{body}"
    );
    let future = (now_s().parse::<i64>().unwrap() + 400).to_string();
    let (status, _) = request_refused(Tweak {
        timestamp: Some(future),
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 401);
    let ms = format!("{}000", now_s());
    let (status, body) = handshake_refused(Tweak {
        timestamp: Some(ms),
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"].as_str().unwrap().contains("timestamp"),
        "{body}"
    );
}

#[tokio::test]
async fn signature_method_is_required_and_checked() {
    let (status, body) = request_refused(Tweak {
        signature_method: Some(None),
        ..Tweak::default()
    })
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("missing oauth_signature_method"))
    );
    let (status, body) = request_refused(Tweak {
        signature_method: Some(Some("HMAC-SHA1".into())),
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"].as_str().unwrap().contains("unsupported"),
        "{body}"
    );
}

#[tokio::test]
async fn user_agent_is_required() {
    let (status, body) = request_refused(Tweak {
        no_user_agent: true,
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("User-Agent"),
        "{body}"
    );
    let (status, _) = handshake_refused(Tweak {
        no_user_agent: true,
        ..Tweak::default()
    })
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn missing_authorization_is_refused() {
    let sim = start(SimConfig::default()).await;
    let resp = reqwest::Client::new()
        .get(format!("{}/iserver/accounts", sim.base_url()))
        .header("User-Agent", "x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn expired_token_is_refused_until_a_new_handshake() {
    let config = SimConfig {
        lst_ttl: Duration::from_secs(1),
        ..SimConfig::default()
    };
    let (_sim, mut client) = ready_with(config).await;
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = client.get("/iserver/accounts").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("live session token expired"))
    );
    client.handshake().await.unwrap();
    assert_eq!(client.get("/iserver/accounts").await.0, 200);
}

#[tokio::test]
async fn expire_now_and_revoke_invalidate_the_token() {
    let (sim, mut client) = ready().await;
    sim.faults().expire_token_now();
    let (status, body) = client.get("/portfolio/accounts").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("live session token expired"))
    );
    client.handshake().await.unwrap();
    assert_eq!(client.get("/portfolio/accounts").await.0, 200);
    sim.faults().revoke_token();
    let (status, body) = client.get("/portfolio/accounts").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("live session token revoked"))
    );
    client.handshake().await.unwrap();
    assert_eq!(client.get("/portfolio/accounts").await.0, 200);
}

#[tokio::test]
async fn logout_ends_the_session_and_the_token() {
    let (sim, client) = ready().await;
    let (status, _) = client.post("/logout", serde_json::json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(client.get("/portfolio/accounts").await.0, 401);
    assert_eq!(sim.stats().logouts, 1);
}

#[tokio::test]
async fn generated_credentials_work_end_to_end() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    assert_eq!(sim.credentials().consumer_key, "SKIMSIM01");
    assert!(
        !format!("{:?}", sim.credentials()).contains(&sim.credentials().access_token_secret_b64)
    );
    let mut client = Client::new(&sim);
    client.handshake().await.unwrap();
    assert_eq!(client.get("/portfolio/accounts").await.0, 200);

    let dir = tempfile::tempdir().unwrap();
    let env = sim.credentials().write_to_dir(dir.path()).unwrap();
    let text = std::fs::read_to_string(&env).unwrap();
    for key in [
        "OAUTH_CONSUMER_KEY=SKIMSIM01",
        "OAUTH_ACCESS_TOKEN=",
        "OAUTH_ACCESS_TOKEN_SECRET=",
        "OAUTH_SIGNATURE_PATH=",
        "OAUTH_ENCRYPTION_PATH=",
        "OAUTH_DH_PRIME=ffff",
        "OAUTH_REALM=limited_poa",
        "PAPER_TRADING=true",
    ] {
        assert!(text.contains(key), "{key} missing");
    }
    // The written files load back into the same credential set.
    let again = TestCredentials::from_files(
        dir.path().join("private_signature.pem"),
        dir.path().join("private_encryption.pem"),
        dir.path().join("dhparam.hex").to_str().unwrap(),
        &sim.credentials().access_token_secret_b64,
        "SKIMSIM01",
        &sim.credentials().access_token,
        "limited_poa",
    )
    .unwrap();
    assert_eq!(again.signature_key_pem, sim.credentials().signature_key_pem);
    sim.shutdown().await;
}
