//! Starts `ibkr-sim` with the shared test keys and builds a session against it.

use std::time::Duration;

use ibkr_oauth::pacer::PacerConfig;
use ibkr_oauth::{Credentials, RetryPolicy, Session, SessionConfig, SessionEvent};
use ibkr_sim::{Sim, SimConfig, SimHandle, TestCredentials};
use serde_json::Value;

use crate::vectors::testdata_dir;

/// The shared test keys as the sim wants them (fast: no RSA key generation).
pub fn sim_credentials() -> TestCredentials {
    let dir = testdata_dir();
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("vectors.json")).unwrap()).unwrap();
    let s = |k: &str| vectors[k].as_str().unwrap().to_owned();
    TestCredentials::from_files(
        dir.join("private_signature.pem"),
        dir.join("private_encryption.pem"),
        &s("dh_prime_hex"),
        &s("access_token_secret_base64"),
        &s("consumer_key"),
        &s("access_token"),
        &s("realm"),
    )
    .unwrap()
}

pub fn credentials_of(tc: &TestCredentials) -> Credentials {
    Credentials::from_pem(
        &tc.consumer_key,
        &tc.access_token,
        &tc.access_token_secret_b64,
        &tc.signature_key_pem,
        &tc.encryption_key_pem,
        &tc.dh_prime_hex,
        &tc.realm,
    )
    .unwrap()
}

pub async fn start_sim(config: SimConfig) -> SimHandle {
    Sim::start_with(config, sim_credentials()).await.unwrap()
}

/// Fast retries and waits, real pacing.
pub fn test_config(sim: &SimHandle) -> SessionConfig {
    SessionConfig {
        base_url: sim.base_url(),
        request_timeout: Duration::from_secs(5),
        init_settle: sim.config().init_settle + Duration::from_millis(20),
        retry: RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            rate_limit_wait: Duration::from_millis(300),
            max_rate_limit_wait: Duration::from_secs(1),
            ..RetryPolicy::default()
        },
        snapshot_retry_delay: Duration::from_millis(50),
        pacer: PacerConfig { enabled: true },
        ..SessionConfig::default()
    }
}

/// A sim and a session that has not talked to it yet.
pub async fn sim_and_session(config: SimConfig) -> (SimHandle, Session) {
    let sim = start_sim(config).await;
    let session = Session::new(credentials_of(sim.credentials()), test_config(&sim)).unwrap();
    (sim, session)
}

/// A sim and a connected session.
pub async fn connected() -> (SimHandle, Session) {
    let (sim, session) = sim_and_session(SimConfig::default()).await;
    session.authenticate().await.unwrap();
    (sim, session)
}

/// Every event received so far.
pub fn drain(rx: &mut tokio::sync::broadcast::Receiver<SessionEvent>) -> Vec<SessionEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}
