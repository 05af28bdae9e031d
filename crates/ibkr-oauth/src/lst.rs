//! The live session token (LST) handshake arithmetic: the Diffie-Hellman challenge, the shared
//! secret `K` with Java's `BigInteger.toByteArray()` leading-zero rule, the token itself and its
//! signature check. Pure functions; [`crate::session`] drives the HTTP exchange.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use sha1::Sha1;

use crate::error::{Error, Result};

type HmacSha1 = Hmac<Sha1>;

/// The DH generator IBKR uses, always 2.
pub const DH_GENERATOR: u32 = 2;

/// Parses hex (odd length and a leading `00` allowed, no `0x`) into a number.
pub fn parse_hex_number(what: &str, hex: &str) -> Result<BigUint> {
    let hex = hex.trim();
    let hex = hex.strip_prefix("0x").unwrap_or(hex);
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Malformed(format!("{what} is not a hex number")));
    }
    BigUint::parse_bytes(hex.as_bytes(), 16)
        .ok_or_else(|| Error::Malformed(format!("{what} is not a hex number")))
}

/// `A = 2^a mod p` as lowercase hex without `0x`: the `diffie_hellman_challenge`.
pub fn dh_challenge(random_a: &BigUint, prime: &BigUint) -> String {
    BigUint::from(DH_GENERATOR)
        .modpow(random_a, prime)
        .to_str_radix(16)
}

/// A number as Java's `BigInteger.toByteArray()` writes it: big-endian, minimal, with a `0x00`
/// prepended when the top bit of the first byte is set (so it reads as positive).
pub fn java_bytes(n: &BigUint) -> Vec<u8> {
    let mut bytes = n.to_bytes_be();
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    bytes
}

/// `K = B^a mod p` as [`java_bytes`], from the server's `diffie_hellman_response` hex.
pub fn shared_secret(
    dh_response_hex: &str,
    random_a: &BigUint,
    prime: &BigUint,
) -> Result<Vec<u8>> {
    let b = parse_hex_number("diffie_hellman_response", dh_response_hex)?;
    if b <= BigUint::from(1u32) || &b >= prime {
        return Err(Error::Malformed(
            "diffie_hellman_response is out of range".into(),
        ));
    }
    Ok(java_bytes(&b.modpow(random_a, prime)))
}

/// LST = base64(HMAC-SHA1(key = K bytes, msg = the decrypted access token secret bytes)).
pub fn live_session_token(k_bytes: &[u8], access_token_secret: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha1::new_from_slice(k_bytes).unwrap_or_else(|_| unreachable!());
    mac.update(access_token_secret);
    B64.encode(mac.finalize().into_bytes())
}

/// Lowercase hex HMAC-SHA1(key = LST bytes, msg = consumer key): the
/// `live_session_token_signature` the server sends and the client checks.
pub fn live_session_token_signature(lst_bytes: &[u8], consumer_key: &str) -> String {
    let mut mac = HmacSha1::new_from_slice(lst_bytes).unwrap_or_else(|_| unreachable!());
    mac.update(consumer_key.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the server's `live_session_token_signature` in constant time. A mismatch means the
/// two sides derived different tokens: a hard error, never retried silently.
pub fn verify_live_session_token(
    lst_bytes: &[u8],
    consumer_key: &str,
    signature_hex: &str,
) -> Result<()> {
    let expected = hex::decode(signature_hex.trim())
        .map_err(|_| Error::Malformed("live_session_token_signature is not hex".into()))?;
    let mut mac = HmacSha1::new_from_slice(lst_bytes).unwrap_or_else(|_| unreachable!());
    mac.update(consumer_key.as_bytes());
    mac.verify_slice(&expected)
        .map_err(|_| Error::LstSignatureMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_bytes_adds_a_zero_only_when_the_top_bit_is_set() {
        assert_eq!(java_bytes(&BigUint::from(0x7fu32)), vec![0x7f]);
        assert_eq!(java_bytes(&BigUint::from(0x80u32)), vec![0x00, 0x80]);
        assert_eq!(java_bytes(&BigUint::from(0x0180u32)), vec![0x01, 0x80]);
    }

    #[test]
    fn hex_parsing_accepts_odd_length_and_leading_zeros() {
        assert_eq!(
            parse_hex_number("x", "00ff").unwrap(),
            BigUint::from(255u32)
        );
        assert_eq!(
            parse_hex_number("x", "abc").unwrap(),
            BigUint::from(0xabcu32)
        );
        assert!(parse_hex_number("x", "").is_err());
        assert!(parse_hex_number("x", "12g4").is_err());
    }

    #[test]
    fn out_of_range_dh_response_is_refused() {
        let p = BigUint::from(23u32);
        assert!(shared_secret("1", &BigUint::from(5u32), &p).is_err());
        assert!(shared_secret("17", &BigUint::from(5u32), &p).is_err()); // 0x17 = 23 = p
        assert!(shared_secret("5", &BigUint::from(5u32), &p).is_ok());
    }
}
