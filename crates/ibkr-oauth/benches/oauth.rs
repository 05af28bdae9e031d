//! The client side of the OAuth work, without HTTP, on the shared test keys:
//! the whole LST handshake computation and its parts, and signing one request.
//!
//! `cargo bench -p ibkr-oauth --bench oauth`; numbers go to `docs/PERFORMANCE.md`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use ibkr_oauth::Credentials;
use ibkr_oauth::keys::decrypt_access_token_secret;
use ibkr_oauth::keys::parse_private_key_pem;
use ibkr_oauth::lst;
use ibkr_oauth::model::LiveSessionTokenResponse;
use ibkr_oauth::session::{handshake_finish, handshake_request};
use ibkr_oauth::sign;
use num_bigint::BigUint;
use secrecy::ExposeSecret as _;

fn testdata() -> PathBuf {
    std::env::var("SKIM_TESTDATA_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/oauth"),
        PathBuf::from,
    )
}

fn read(name: &str) -> String {
    std::fs::read_to_string(testdata().join(name)).expect("test data")
}

struct Fixture {
    creds: Credentials,
    secret_b64: String,
    encryption_pem: String,
    a: BigUint,
    response: LiveSessionTokenResponse,
}

fn fixture() -> Fixture {
    let v: serde_json::Value = serde_json::from_str(&read("vectors.json")).expect("vectors");
    let s = |k: &str| v[k].as_str().expect("field").to_owned();
    let encryption_pem = read("private_encryption.pem");
    let creds = Credentials::from_pem(
        &s("consumer_key"),
        &s("access_token"),
        &s("access_token_secret_base64"),
        &read("private_signature.pem"),
        &encryption_pem,
        &s("dh_prime_hex"),
        &s("realm"),
    )
    .expect("credentials");
    // A fixed client exponent and the server's answer for it, computed as IBKR would.
    let p = creds.dh_prime().clone();
    let a = BigUint::from_bytes_be(&[0x5a; 32]);
    let b = BigUint::from_bytes_be(&[0xa5; 32]);
    let big_a = BigUint::from(2u32).modpow(&a, &p);
    let big_b = BigUint::from(2u32).modpow(&b, &p);
    let k = lst::java_bytes(&big_a.modpow(&b, &p));
    let token = lst::live_session_token(&k, creds.decrypted_secret().expose_secret());
    let token_bytes = base64_decode(&token);
    let response = LiveSessionTokenResponse {
        diffie_hellman_response: big_b.to_str_radix(16),
        live_session_token_signature: lst::live_session_token_signature(
            &token_bytes,
            creds.consumer_key(),
        ),
        live_session_token_expiration: 1_900_000_000_000,
    };
    Fixture {
        creds,
        secret_b64: s("access_token_secret_base64"),
        encryption_pem,
        a,
        response,
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}

const LST_URL: &str = "https://api.ibkr.com/v1/api/oauth/live_session_token";

fn bench(c: &mut Criterion) {
    let f = fixture();
    let encryption = parse_private_key_pem("encryption", &f.encryption_pem).expect("key");

    c.bench_function("handshake/client_total", |bench| {
        bench.iter(|| {
            let secret = decrypt_access_token_secret(&encryption, &f.secret_b64).expect("decrypt");
            let request = handshake_request(
                &f.creds,
                LST_URL,
                f.a.clone(),
                "n0nce0123456789a",
                "1700000000",
            );
            let key = handshake_finish(&f.creds, &request, &f.response).expect("valid");
            black_box((secret, request.authorization, key));
        })
    });
    c.bench_function("handshake/decrypt_secret", |bench| {
        bench.iter(|| decrypt_access_token_secret(&encryption, black_box(&f.secret_b64)))
    });
    c.bench_function("handshake/dh_challenge", |bench| {
        bench.iter(|| lst::dh_challenge(black_box(&f.a), f.creds.dh_prime()))
    });
    c.bench_function("handshake/rsa_sign", |bench| {
        bench.iter(|| {
            sign::rsa_sha256_signature(f.creds.signature_key().expose(), black_box("POST&x&y"))
        })
    });
    let request = handshake_request(&f.creds, LST_URL, f.a.clone(), "n", "1700000000");
    c.bench_function("handshake/k_lst_validate", |bench| {
        bench.iter(|| handshake_finish(&f.creds, &request, black_box(&f.response)).expect("valid"))
    });

    let lst_bytes = [7u8; 20];
    c.bench_function("request/sign_get_with_query", |bench| {
        bench.iter(|| {
            sign::hmac_authorization(
                f.creds.consumer_key(),
                f.creds.access_token(),
                f.creds.realm(),
                black_box(&lst_bytes),
                "GET",
                "https://api.ibkr.com/v1/api/iserver/marketdata/snapshot",
                [
                    ("conids", "8644,4036,1234"),
                    ("fields", "31,84,86,70,71,87,7295,7741"),
                ],
                "n0nce0123456789a",
                "1700000000",
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
