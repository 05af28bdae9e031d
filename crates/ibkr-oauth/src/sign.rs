//! Base strings, signatures and the `Authorization` header, exactly as IBKR computes them.
//!
//! Every function here is pure: the same inputs give the same bytes, which is what lets
//! `../shared/testdata/oauth/vectors.json` pin them and lets `ibkr-sim` verify requests with
//! the very same code.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;

use crate::error::{Error, Result};

/// Signature method of the live session token request.
pub const RSA_SHA256: &str = "RSA-SHA256";
/// Signature method of every request after the handshake.
pub const HMAC_SHA256: &str = "HMAC-SHA256";

/// Form-style percent-encoding: everything but `A-Z a-z 0-9 - . _ ~` escaped as `%XX`
/// (upper-case hex), a space as `+` (Python's `quote_plus`, which IBKR's samples use).
pub fn percent_encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 3);
    for &byte in input.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[usize::from(byte >> 4)] as char);
                out.push(HEX[usize::from(byte & 0x0f)] as char);
            }
        }
    }
    out
}

/// Reverses [`percent_encode`] (and plain RFC 3986 encoding): `%XX` → byte, `+` → space.
/// A malformed escape is an error rather than being passed through.
pub fn percent_decode(input: &str) -> Result<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| Error::Malformed(format!("bad percent escape in {input:?}")))?;
                out.push(hex);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| Error::Malformed(format!("percent-decoded {input:?} is not UTF-8")))
}

/// The OAuth parameters every signed request carries (sorted by key, as a `BTreeMap` keeps them).
/// The live session token request adds `diffie_hellman_challenge`; `realm` and `oauth_signature`
/// are never part of the signed parameters.
pub fn oauth_params(
    consumer_key: &str,
    access_token: &str,
    nonce: &str,
    timestamp: &str,
    signature_method: &str,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("oauth_consumer_key".to_owned(), consumer_key.to_owned()),
        ("oauth_nonce".to_owned(), nonce.to_owned()),
        (
            "oauth_signature_method".to_owned(),
            signature_method.to_owned(),
        ),
        ("oauth_timestamp".to_owned(), timestamp.to_owned()),
        ("oauth_token".to_owned(), access_token.to_owned()),
    ])
}

/// The signature base string, IBKR's way:
/// `prepend + METHOD + "&" + enc(url) + "&" + enc(P)`, where `P` is every parameter (OAuth pairs
/// and the query's pairs, decoded) sorted by key then value, written raw as `k=v`, joined with
/// `&`, and percent-encoded once as a whole. `url` must not carry its query string.
pub fn base_string<'a>(
    prepend: Option<&str>,
    method: &str,
    url: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().collect();
    pairs.sort_unstable();
    let joined = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}{}&{}&{}",
        prepend.unwrap_or(""),
        method.to_ascii_uppercase(),
        percent_encode(url),
        percent_encode(&joined)
    )
}

/// `Authorization: OAuth realm="…", k="v", …` with the OAuth parameters sorted and the
/// signature (already base64) percent-encoded.
pub fn authorization_header(
    realm: &str,
    params: &BTreeMap<String, String>,
    signature_b64: &str,
) -> String {
    let mut all: BTreeMap<&str, String> = params
        .iter()
        .filter(|(k, _)| k.starts_with("oauth_") || k.as_str() == "diffie_hellman_challenge")
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    all.insert("oauth_signature", percent_encode(signature_b64));
    let mut header = format!("OAuth realm=\"{realm}\"");
    for (k, v) in all {
        header.push_str(&format!(", {k}=\"{v}\""));
    }
    header
}

/// A parsed `Authorization: OAuth …` header, as a server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub realm: Option<String>,
    /// Every `k="v"` pair except `realm`, values unquoted but still as sent (the signature stays
    /// percent-encoded; decode it with [`percent_decode`]).
    pub params: BTreeMap<String, String>,
}

/// Parses `OAuth realm="x", k="v", …` leniently about spacing and order, strictly about shape.
pub fn parse_authorization_header(header: &str) -> Result<AuthorizationHeader> {
    let rest = header.trim().strip_prefix("OAuth ").ok_or_else(|| {
        Error::Malformed("Authorization header does not start with `OAuth `".into())
    })?;
    let mut realm = None;
    let mut params = BTreeMap::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| Error::Malformed(format!("Authorization pair without `=`: {part:?}")))?;
        let value = value
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| Error::Malformed(format!("Authorization value not quoted: {part:?}")))?;
        let key = key.trim();
        if key == "realm" {
            realm = Some(value.to_owned());
        } else if params.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(Error::Malformed(format!(
                "Authorization parameter {key} given twice"
            )));
        }
    }
    Ok(AuthorizationHeader { realm, params })
}

type HmacSha256 = Hmac<Sha256>;

/// base64(HMAC-SHA256(key = LST bytes, msg = base string)): the signature of every request
/// after the handshake.
pub fn hmac_sha256_signature(lst_bytes: &[u8], base_string: &str) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(lst_bytes).unwrap_or_else(|_| unreachable!());
    mac.update(base_string.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// Constant-time check of an HMAC-SHA256 request signature (base64, already percent-decoded).
pub fn verify_hmac_sha256_signature(
    lst_bytes: &[u8],
    base_string: &str,
    signature_b64: &str,
) -> bool {
    let Ok(expected) = B64.decode(signature_b64) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(lst_bytes) else {
        return false;
    };
    mac.update(base_string.as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// base64(RSASSA-PKCS1-v1_5-SHA256(base string)) with the *signature* key: the signature of the
/// live session token request.
pub fn rsa_sha256_signature(signature_key: &RsaPrivateKey, base_string: &str) -> String {
    let signer = SigningKey::<Sha256>::new(signature_key.clone());
    B64.encode(signer.sign(base_string.as_bytes()).to_bytes())
}

/// Verifies an RSA-SHA256 signature (base64, already percent-decoded) with the public half of
/// the signature key.
pub fn verify_rsa_sha256_signature(
    public_key: &RsaPublicKey,
    base_string: &str,
    signature_b64: &str,
) -> bool {
    let Ok(raw) = B64.decode(signature_b64) else {
        return false;
    };
    let Ok(signature) = Signature::try_from(raw.as_slice()) else {
        return false;
    };
    VerifyingKey::<Sha256>::new(public_key.clone())
        .verify(base_string.as_bytes(), &signature)
        .is_ok()
}

/// The `Authorization` header of one request signed with the live session token
/// (HMAC-SHA256): the OAuth pairs plus `query` (decoded pairs, exactly what goes on the wire
/// after encoding) over `METHOD & url & params`. `url` is without its query string.
#[allow(clippy::too_many_arguments)]
pub fn hmac_authorization<'a>(
    consumer_key: &str,
    access_token: &str,
    realm: &str,
    lst_bytes: &[u8],
    method: &str,
    url: &str,
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    nonce: &str,
    timestamp: &str,
) -> String {
    let params = oauth_params(consumer_key, access_token, nonce, timestamp, HMAC_SHA256);
    let query: Vec<(&'a str, &'a str)> = query.into_iter().collect();
    // `Vec` is covariant: the query pairs shorten to the borrow of `params`.
    let mut pairs: Vec<(&str, &str)> = query;
    pairs.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let base = base_string(None, method, url, pairs);
    let signature = hmac_sha256_signature(lst_bytes, &base);
    authorization_header(realm, &params, &signature)
}

/// A query string whose decoded pairs are exactly `pairs`: each key and value
/// [`percent_encode`]d, joined with `&`. Sign the pairs, send this.
pub fn encode_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encode_is_form_style() {
        assert_eq!(percent_encode("a b+c/d=e,f~g"), "a+b%2Bc%2Fd%3De%2Cf~g");
        assert_eq!(
            percent_decode("a+b%2Bc%2Fd%3De%2Cf~g").unwrap(),
            "a b+c/d=e,f~g"
        );
        assert!(percent_decode("%4").is_err());
        assert!(percent_decode("%zz").is_err());
    }

    #[test]
    fn header_round_trips_through_the_parser() {
        let params = oauth_params("CK", "tok", "n1", "1700000000", HMAC_SHA256);
        let header = authorization_header("limited_poa", &params, "ab+/=");
        let parsed = parse_authorization_header(&header).unwrap();
        assert_eq!(parsed.realm.as_deref(), Some("limited_poa"));
        assert_eq!(parsed.params["oauth_signature"], "ab%2B%2F%3D");
        assert_eq!(parsed.params["oauth_token"], "tok");
        assert!(parse_authorization_header("Basic abc").is_err());
        assert!(parse_authorization_header("OAuth a=b").is_err());
        assert!(parse_authorization_header("OAuth a=\"b\", a=\"c\"").is_err());
    }

    #[test]
    fn query_encoding_decodes_to_what_is_signed() {
        let q = encode_query([("conids", "1,2"), ("fields", "31,84"), ("symbol", "A B")]);
        assert_eq!(q, "conids=1%2C2&fields=31%2C84&symbol=A+B");
        for pair in q.split('&') {
            let (_, v) = pair.split_once('=').unwrap();
            assert!(!percent_decode(v).unwrap().contains('%'));
        }
    }

    #[test]
    fn base_string_sorts_pairs_and_encodes_once() {
        let s = base_string(None, "get", "https://h/p", [("b", "1,2"), ("a", "x y")]);
        assert_eq!(s, "GET&https%3A%2F%2Fh%2Fp&a%3Dx+y%26b%3D1%2C2");
    }
}
