//! The server side of IBKR's first-party OAuth 1.0a.
//!
//! Every request under `/v1/api` passes [`verify`]: a `User-Agent`, an `Authorization: OAuth …`
//! header with the right realm, consumer key and token, a timestamp in seconds within the skew
//! window, a nonce not seen within that window, and a signature over the base string built from
//! the method, the URL as the client addressed it (`http://{Host}{path}`, no query) and the
//! OAuth pairs plus the decoded query pairs. `/oauth/live_session_token` must be RSA-SHA256
//! signed (with the access token secret's hex prepended); everything else HMAC-SHA256 with a
//! live session token this sim issued, unexpired and unrevoked. Several tokens may be valid at
//! once (a daemon and a CLI each holding their own); revoking or expiring affects all.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use num_bigint::{BigUint, RandBigInt as _};
use serde_json::{Value, json};

use crate::credentials::{ServerKeys, TestCredentials};

/// A live session token this sim issued.
#[derive(Debug, Clone)]
pub(crate) struct LstEntry {
    bytes: Vec<u8>,
    expires_at_ms: i64,
    revoked: bool,
}

/// Issued tokens and recently seen nonces.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    nonces: HashMap<String, Instant>,
    tokens: Vec<LstEntry>,
}

/// How many issued tokens are remembered (older ones simply stop working).
const MAX_TOKENS: usize = 16;

impl AuthState {
    pub fn revoke_all(&mut self) {
        for t in &mut self.tokens {
            t.revoked = true;
        }
    }
    pub fn expire_all(&mut self) {
        let now = crate::format::now_ms();
        for t in &mut self.tokens {
            t.expires_at_ms = t.expires_at_ms.min(now);
        }
    }
}

/// A refused request: status and the reason that goes in `{"error": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub status: u16,
    pub reason: String,
}

fn reject(reason: impl Into<String>) -> Rejection {
    Rejection {
        status: 401,
        reason: reason.into(),
    }
}

/// What [`verify`] needs of a request.
pub(crate) struct RequestParts<'a> {
    pub method: &'a str,
    pub host: Option<&'a str>,
    /// The path as on the wire, including `/v1/api`.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub authorization: Option<&'a str>,
    pub has_user_agent: bool,
}

/// What a verified request carries.
#[derive(Debug)]
pub(crate) enum Verified {
    /// A correctly signed handshake with this DH challenge.
    Handshake { challenge: BigUint },
    /// A request signed with a live session token expiring at this time (ms).
    Signed { lst_expires_at_ms: i64 },
}

/// Splits a raw query into decoded pairs.
pub(crate) fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let Some(query) = query else {
        return Ok(Vec::new());
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = ibkr_oauth::sign::percent_decode(k).map_err(|e| e.to_string())?;
            let v = ibkr_oauth::sign::percent_decode(v).map_err(|e| e.to_string())?;
            Ok((k, v))
        })
        .collect()
}

/// Checks one request. `handshake` says whether it is `POST /oauth/live_session_token`.
pub(crate) fn verify(
    state: &mut AuthState,
    creds: &TestCredentials,
    keys: &ServerKeys,
    max_skew: Duration,
    req: &RequestParts<'_>,
    handshake: bool,
) -> Result<Verified, Rejection> {
    if !req.has_user_agent {
        return Err(Rejection {
            status: 400,
            reason: "Bad Request: a User-Agent header is required".into(),
        });
    }
    let header = req
        .authorization
        .ok_or_else(|| reject("missing Authorization header"))?;
    let parsed = ibkr_oauth::sign::parse_authorization_header(header)
        .map_err(|e| reject(format!("malformed Authorization header: {e}")))?;
    let params = &parsed.params;
    let param = |k: &str| params.get(k).map(String::as_str);

    // The consumer key first: IBKR answers an unknown (or not yet active) one exactly so.
    if param("oauth_consumer_key") != Some(creds.consumer_key.as_str()) {
        return Err(reject("invalid consumer"));
    }
    if parsed.realm.as_deref() != Some(creds.realm.as_str()) {
        return Err(reject("invalid realm"));
    }
    if param("oauth_token") != Some(creds.access_token.as_str()) {
        return Err(reject("invalid token"));
    }
    let expected_method = if handshake {
        ibkr_oauth::sign::RSA_SHA256
    } else {
        ibkr_oauth::sign::HMAC_SHA256
    };
    match param("oauth_signature_method") {
        Some(m) if m == expected_method => {}
        Some(m) => return Err(reject(format!("unsupported signature method: {m}"))),
        None => return Err(reject("missing oauth_signature_method")),
    }
    let timestamp = param("oauth_timestamp").ok_or_else(|| reject("missing oauth_timestamp"))?;
    let ts: i64 = (timestamp.len() == 10 && timestamp.bytes().all(|b| b.is_ascii_digit()))
        .then(|| timestamp.parse().ok())
        .flatten()
        .ok_or_else(|| reject("invalid timestamp: expected Unix seconds"))?;
    let now_s = chrono::Utc::now().timestamp();
    let skew = i64::try_from(max_skew.as_secs()).unwrap_or(i64::MAX);
    if (now_s - ts).abs() > skew {
        return Err(reject("invalid timestamp: outside the allowed clock skew"));
    }
    let nonce = param("oauth_nonce")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| reject("missing oauth_nonce"))?;
    let now = Instant::now();
    state
        .nonces
        .retain(|_, seen| now.duration_since(*seen) <= max_skew * 2);
    if state.nonces.contains_key(nonce) {
        return Err(reject("nonce already used"));
    }
    let signature = param("oauth_signature").ok_or_else(|| reject("missing oauth_signature"))?;
    let signature = ibkr_oauth::sign::percent_decode(signature)
        .map_err(|_| reject("malformed oauth_signature"))?;

    let host = req.host.ok_or_else(|| reject("missing Host header"))?;
    let url = format!("http://{host}{}", req.path);
    let query = query_pairs(req.query).map_err(|e| reject(format!("malformed query: {e}")))?;
    let signed_pairs = params
        .iter()
        .filter(|(k, _)| k.as_str() != "oauth_signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));

    let verified = if handshake {
        let base =
            ibkr_oauth::sign::base_string(Some(&keys.prepend_hex), req.method, &url, signed_pairs);
        if !ibkr_oauth::sign::verify_rsa_sha256_signature(&keys.signature_public, &base, &signature)
        {
            return Err(reject("invalid signature"));
        }
        let challenge = param("diffie_hellman_challenge")
            .ok_or_else(|| reject("missing diffie_hellman_challenge"))?;
        let challenge = ibkr_oauth::lst::parse_hex_number("diffie_hellman_challenge", challenge)
            .map_err(|_| reject("invalid diffie_hellman_challenge"))?;
        let one = BigUint::from(1u32);
        if challenge <= one || challenge >= &keys.prime - &one {
            return Err(reject("invalid diffie_hellman_challenge"));
        }
        Verified::Handshake { challenge }
    } else {
        let base = ibkr_oauth::sign::base_string(None, req.method, &url, signed_pairs);
        let matching = state
            .tokens
            .iter()
            .find(|t| ibkr_oauth::sign::verify_hmac_sha256_signature(&t.bytes, &base, &signature));
        match matching {
            None => return Err(reject("invalid signature")),
            Some(t) if t.revoked => return Err(reject("live session token revoked")),
            Some(t) if t.expires_at_ms <= crate::format::now_ms() => {
                return Err(reject("live session token expired"));
            }
            Some(t) => Verified::Signed {
                lst_expires_at_ms: t.expires_at_ms,
            },
        }
    };
    state.nonces.insert(nonce.to_owned(), now);
    Ok(verified)
}

/// The server's half of the handshake: picks `b`, derives the token from the client's
/// challenge, remembers it, and returns the JSON answer.
pub(crate) fn handshake(
    state: &mut AuthState,
    creds: &TestCredentials,
    keys: &ServerKeys,
    challenge: &BigUint,
    ttl: Duration,
) -> Value {
    let b = rand::thread_rng().gen_biguint(256);
    let dh_response = ibkr_oauth::lst::dh_challenge(&b, &keys.prime);
    let k = ibkr_oauth::lst::java_bytes(&challenge.modpow(&b, &keys.prime));
    let lst_b64 = ibkr_oauth::lst::live_session_token(&k, &keys.secret);
    // `live_session_token` returns standard base64 of a 20-byte HMAC; decoding it back cannot
    // fail, but fall back to the encoded bytes rather than panic.
    let lst_bytes = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&lst_b64)
            .unwrap_or_else(|_| lst_b64.clone().into_bytes())
    };
    let signature = ibkr_oauth::lst::live_session_token_signature(&lst_bytes, &creds.consumer_key);
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
    let expires_at_ms = crate::format::now_ms().saturating_add(ttl_ms);
    state.tokens.push(LstEntry {
        bytes: lst_bytes,
        expires_at_ms,
        revoked: false,
    });
    if state.tokens.len() > MAX_TOKENS {
        state.tokens.remove(0);
    }
    json!({
        "diffie_hellman_response": dh_response,
        "live_session_token_signature": signature,
        "live_session_token_expiration": expires_at_ms,
    })
}
