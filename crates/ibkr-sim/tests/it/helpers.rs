//! A tiny test-side IBKR client: the real handshake and signed requests, with knobs to break
//! each part of the signature on purpose.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ibkr_oauth::{keys, lst, sign};
use ibkr_sim::{Sim, SimConfig, SimHandle, TestCredentials};
use num_bigint::{BigUint, RandBigInt as _};
use rsa::RsaPrivateKey;
use serde_json::Value;

pub const TESTDATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/oauth"
);

/// The shared test keys (fast: no RSA key generation).
pub fn test_credentials() -> TestCredentials {
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{TESTDATA}/vectors.json")).unwrap())
            .unwrap();
    TestCredentials::from_files(
        format!("{TESTDATA}/private_signature.pem"),
        format!("{TESTDATA}/private_encryption.pem"),
        &format!("{TESTDATA}/dhparam.pem"),
        vectors["access_token_secret_base64"].as_str().unwrap(),
        vectors["consumer_key"].as_str().unwrap(),
        vectors["access_token"].as_str().unwrap(),
        vectors["realm"].as_str().unwrap(),
    )
    .unwrap()
}

pub async fn start(config: SimConfig) -> SimHandle {
    Sim::start_with(config, test_credentials()).await.unwrap()
}

/// A sim with the shared keys, and a client that has done the handshake and `ssodh/init`.
pub async fn ready() -> (SimHandle, Client) {
    ready_with(SimConfig::default()).await
}

pub async fn ready_with(config: SimConfig) -> (SimHandle, Client) {
    let sim = start(config).await;
    let mut client = Client::new(&sim);
    client.handshake().await.unwrap();
    let (status, body) = client
        .post(
            "/iserver/auth/ssodh/init",
            serde_json::json!({"publish": true, "compete": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    (sim, client)
}

/// Ways to break a request.
#[derive(Debug, Clone, Default)]
pub struct Tweak {
    pub consumer_key: Option<String>,
    pub token: Option<String>,
    pub realm: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    /// `Some(None)`: leave `oauth_signature_method` out.
    pub signature_method: Option<Option<String>>,
    pub no_user_agent: bool,
    /// Sign with a different key (RSA) / token (HMAC).
    pub wrong_key: bool,
    /// Sign only the oauth pairs, not the query pairs.
    pub unsigned_query: bool,
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub creds: TestCredentials,
    signature_key: RsaPrivateKey,
    secret: Vec<u8>,
    prime: BigUint,
    pub lst: Option<Vec<u8>>,
    counter: AtomicU64,
}

pub fn now_s() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string()
}

impl Client {
    pub fn new(sim: &SimHandle) -> Self {
        let creds = sim.credentials().clone();
        let signature_key = keys::parse_private_key_pem("sig", &creds.signature_key_pem).unwrap();
        let encryption_key = keys::parse_private_key_pem("enc", &creds.encryption_key_pem).unwrap();
        let secret =
            keys::decrypt_access_token_secret(&encryption_key, &creds.access_token_secret_b64)
                .unwrap();
        let prime = keys::parse_dh_prime(&creds.dh_prime_hex).unwrap();
        Self {
            http: reqwest::Client::new(),
            base: sim.base_url(),
            creds,
            signature_key,
            secret,
            prime,
            lst: None,
            counter: AtomicU64::new(0),
        }
    }

    pub fn nonce(&self) -> String {
        format!(
            "n{:08x}{:07}",
            rand::random::<u32>(),
            self.counter.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn params(&self, method: &str, tweak: &Tweak) -> std::collections::BTreeMap<String, String> {
        let mut params = sign::oauth_params(
            tweak
                .consumer_key
                .as_deref()
                .unwrap_or(&self.creds.consumer_key),
            tweak.token.as_deref().unwrap_or(&self.creds.access_token),
            &tweak.nonce.clone().unwrap_or_else(|| self.nonce()),
            &tweak.timestamp.clone().unwrap_or_else(now_s),
            method,
        );
        match &tweak.signature_method {
            Some(Some(m)) => {
                params.insert("oauth_signature_method".into(), m.clone());
            }
            Some(None) => {
                params.remove("oauth_signature_method");
            }
            None => {}
        }
        params
    }

    /// The handshake; on success stores the LST (after checking its signature).
    pub async fn handshake_with(&mut self, tweak: &Tweak) -> Result<Value, (u16, Value)> {
        let a = rand::thread_rng().gen_biguint(256);
        let challenge = lst::dh_challenge(&a, &self.prime);
        let mut params = self.params(sign::RSA_SHA256, tweak);
        params.insert("diffie_hellman_challenge".into(), challenge);
        let url = format!("{}/oauth/live_session_token", self.base);
        let prepend = hex::encode(&self.secret);
        let base = sign::base_string(
            Some(&prepend),
            "POST",
            &url,
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let key = if tweak.wrong_key {
            keys::parse_private_key_pem("enc", &self.creds.encryption_key_pem).unwrap()
        } else {
            self.signature_key.clone()
        };
        let signature = sign::rsa_sha256_signature(&key, &base);
        let header = sign::authorization_header(
            tweak.realm.as_deref().unwrap_or(&self.creds.realm),
            &params,
            &signature,
        );
        let mut req = self.http.post(&url).header("Authorization", header);
        if !tweak.no_user_agent {
            req = req.header("User-Agent", "ibkr-sim-tests/1");
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return Err((status, body));
        }
        let k = lst::shared_secret(
            body["diffie_hellman_response"].as_str().unwrap(),
            &a,
            &self.prime,
        )
        .unwrap();
        let token = lst::live_session_token(&k, &self.secret);
        let bytes = B64.decode(token).unwrap();
        lst::verify_live_session_token(
            &bytes,
            &self.creds.consumer_key,
            body["live_session_token_signature"].as_str().unwrap(),
        )
        .expect("the sim's LST signature must validate");
        self.lst = Some(bytes);
        Ok(body)
    }

    pub async fn handshake(&mut self) -> Result<Value, (u16, Value)> {
        self.handshake_with(&Tweak::default()).await
    }

    /// A signed request. `path` may carry a query (`/x?a=1,2`); its pairs are signed.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        tweak: &Tweak,
    ) -> Result<(u16, Value), reqwest::Error> {
        let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
        let url = format!("{}{path_only}", self.base);
        let query_pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (
                    sign::percent_decode(k).unwrap(),
                    sign::percent_decode(v).unwrap(),
                )
            })
            .collect();
        let params = self.params(sign::HMAC_SHA256, tweak);
        let mut pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if !tweak.unsigned_query {
            pairs.extend(query_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let base = sign::base_string(None, method, &url, pairs);
        let lst = self.lst.clone().expect("handshake first");
        let key = if tweak.wrong_key {
            b"not the token".to_vec()
        } else {
            lst
        };
        let signature = sign::hmac_sha256_signature(&key, &base);
        let header = sign::authorization_header(
            tweak.realm.as_deref().unwrap_or(&self.creds.realm),
            &params,
            &signature,
        );
        let full = if query.is_empty() {
            url
        } else {
            format!("{url}?{query}")
        };
        let mut req = self
            .http
            .request(method.parse().unwrap(), &full)
            .header("Authorization", header);
        if !tweak.no_user_agent {
            req = req.header("User-Agent", "ibkr-sim-tests/1");
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, &Tweak::default())
            .await
            .unwrap()
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(body), &Tweak::default())
            .await
            .unwrap()
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, None, &Tweak::default())
            .await
            .unwrap()
    }

    /// Places an order and confirms every question; returns the order id.
    pub async fn place_confirmed(&self, account: &str, ticket: Value) -> String {
        let (status, mut body) = self
            .post(
                &format!("/iserver/account/{account}/orders"),
                serde_json::json!({"orders": [ticket]}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        for _ in 0..10 {
            if let Some(id) = body[0]["order_id"].as_str() {
                return id.to_owned();
            }
            let reply_id = body[0]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"))
                .to_owned();
            let (status, next) = self
                .post(
                    &format!("/iserver/reply/{reply_id}"),
                    serde_json::json!({"confirmed": true}),
                )
                .await;
            assert_eq!(status, 200, "{next}");
            body = next;
        }
        panic!("too many questions");
    }
}
