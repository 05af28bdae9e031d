//! Every field of every case in `../shared/testdata/oauth/vectors.json`, byte for byte.
//! These vectors come from an independent implementation: if one byte differs, we are wrong.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ibkr_oauth::keys::{decrypt_access_token_secret, parse_dh_prime, parse_private_key_pem};
use ibkr_oauth::lst::{self, parse_hex_number};
use ibkr_oauth::sign::{self, HMAC_SHA256, RSA_SHA256};
use rsa::RsaPrivateKey;
use serde_json::Value;

/// `shared/testdata/oauth`, beside the repository (as in CI), or `SKIM_TESTDATA_DIR`.
pub fn testdata_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("SKIM_TESTDATA_DIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/oauth")
}

fn read(name: &str) -> String {
    let path = testdata_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn vectors() -> Value {
    serde_json::from_str(&read("vectors.json")).expect("vectors.json parses")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {key} missing"))
}

fn key(name: &str) -> RsaPrivateKey {
    parse_private_key_pem(name, &read(name)).expect("test key parses")
}

#[test]
fn pkcs1_and_pkcs8_files_hold_the_same_keys() {
    let v = vectors();
    for (pkcs1, pkcs8) in [
        ("signature", "signature_pkcs8"),
        ("encryption", "encryption_pkcs8"),
    ] {
        assert_eq!(
            key(s(&v["keys"], pkcs1)),
            key(s(&v["keys"], pkcs8)),
            "{pkcs1}"
        );
    }
}

#[test]
fn prime_from_dhparam_pem_equals_the_hex_prime() {
    let v = vectors();
    let from_pem = parse_dh_prime(&read(s(&v["keys"], "dhparam"))).unwrap();
    let from_hex = parse_dh_prime(s(&v, "dh_prime_hex")).unwrap();
    assert_eq!(from_pem, from_hex);
    assert_eq!(from_hex.bits(), 2048);
    assert_eq!(
        parse_dh_prime(&format!("00{}", s(&v, "dh_prime_hex"))).unwrap(),
        from_hex
    );
    assert_eq!(
        v["dh_generator"].as_u64(),
        Some(u64::from(lst::DH_GENERATOR))
    );
}

#[test]
fn the_access_token_secret_decrypts_to_the_prepend() {
    let v = vectors();
    for enc in ["encryption", "encryption_pkcs8"] {
        let secret = decrypt_access_token_secret(
            &key(s(&v["keys"], enc)),
            s(&v, "access_token_secret_base64"),
        )
        .unwrap();
        assert_eq!(hex::encode(&secret), s(&v, "prepend_hex"), "{enc}");
    }
}

#[test]
fn every_case_matches_byte_for_byte() {
    let v = vectors();
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4, "the vectors file has four cases");
    let consumer = s(&v, "consumer_key");
    let token = s(&v, "access_token");
    let realm = s(&v, "realm");
    let prime = parse_dh_prime(s(&v, "dh_prime_hex")).unwrap();
    let signature_key = key(s(&v["keys"], "signature"));
    let secret = decrypt_access_token_secret(
        &key(s(&v["keys"], "encryption")),
        s(&v, "access_token_secret_base64"),
    )
    .unwrap();
    let prepend = hex::encode(&secret);
    let mut leading_zero_cases = 0;

    for (i, case) in cases.iter().enumerate() {
        // The handshake request.
        let req = &case["lst_request"];
        let a = parse_hex_number("dh_random", s(req, "dh_random_hex")).unwrap();
        let challenge = lst::dh_challenge(&a, &prime);
        assert_eq!(
            challenge,
            s(req, "diffie_hellman_challenge"),
            "case {i} challenge"
        );
        let mut params = sign::oauth_params(
            consumer,
            token,
            s(req, "oauth_nonce"),
            s(req, "oauth_timestamp"),
            RSA_SHA256,
        );
        params.insert("diffie_hellman_challenge".into(), challenge);
        let base = sign::base_string(
            Some(&prepend),
            "POST",
            s(req, "url"),
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        assert_eq!(base, s(req, "base_string"), "case {i} lst base string");
        let signature = sign::rsa_sha256_signature(&signature_key, &base);
        assert_eq!(
            sign::percent_encode(&signature),
            s(req, "oauth_signature_percent_encoded"),
            "case {i} rsa signature"
        );
        assert!(sign::verify_rsa_sha256_signature(
            &signature_key.to_public_key(),
            &base,
            &signature
        ));
        assert_eq!(
            sign::authorization_header(realm, &params, &signature),
            s(req, "authorization_header"),
            "case {i} lst header"
        );

        // The response and the token.
        let resp = &case["lst_response"];
        let k = lst::shared_secret(s(resp, "diffie_hellman_response"), &a, &prime).unwrap();
        let has_zero = k[0] == 0;
        assert_eq!(
            has_zero,
            case["k_has_leading_zero_byte"].as_bool().unwrap(),
            "case {i} leading zero"
        );
        leading_zero_cases += usize::from(has_zero);
        let lst_b64 = lst::live_session_token(&k, &secret);
        assert_eq!(
            lst_b64,
            s(case, "live_session_token_base64"),
            "case {i} LST"
        );
        let lst_bytes = B64.decode(&lst_b64).unwrap();
        assert_eq!(
            lst::live_session_token_signature(&lst_bytes, consumer),
            s(resp, "live_session_token_signature"),
            "case {i} LST signature"
        );
        lst::verify_live_session_token(
            &lst_bytes,
            consumer,
            s(resp, "live_session_token_signature"),
        )
        .unwrap();
        assert!(
            lst::verify_live_session_token(
                &lst_bytes,
                "OTHERCONS",
                s(resp, "live_session_token_signature")
            )
            .is_err()
        );

        // A signed request without a query.
        let sr = &case["signed_request"];
        let params = sign::oauth_params(
            consumer,
            token,
            s(sr, "oauth_nonce"),
            s(sr, "oauth_timestamp"),
            HMAC_SHA256,
        );
        let base = sign::base_string(
            None,
            s(sr, "method"),
            s(sr, "url"),
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        assert_eq!(base, s(sr, "base_string"), "case {i} request base string");
        let signature = sign::hmac_sha256_signature(&lst_bytes, &base);
        assert_eq!(
            sign::percent_encode(&signature),
            s(sr, "oauth_signature_percent_encoded"),
            "case {i} hmac"
        );
        assert!(sign::verify_hmac_sha256_signature(
            &lst_bytes, &base, &signature
        ));
        assert_eq!(
            sign::authorization_header(realm, &params, &signature),
            s(sr, "authorization_header"),
            "case {i} header"
        );

        // A signed request with query pairs, IBKR's guide form.
        let sq = &case["signed_request_with_query"];
        let query: BTreeMap<&str, &str> = sq["query"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let params = sign::oauth_params(
            consumer,
            token,
            s(sq, "oauth_nonce"),
            s(sq, "oauth_timestamp"),
            HMAC_SHA256,
        );
        let all = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(query.iter().map(|(k, v)| (*k, *v)));
        let base = sign::base_string(None, s(sq, "method"), s(sq, "url"), all);
        assert_eq!(base, s(sq, "base_string"), "case {i} query base string");
        let signature = sign::hmac_sha256_signature(&lst_bytes, &base);
        assert_eq!(
            sign::percent_encode(&signature),
            s(sq, "oauth_signature_percent_encoded"),
            "case {i} query hmac"
        );
    }
    assert!(
        leading_zero_cases >= 1,
        "at least one case exercises the leading-zero rule"
    );
}
