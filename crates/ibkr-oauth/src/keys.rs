//! Key material: RSA private keys in PKCS#1 or PKCS#8 PEM, the Diffie-Hellman prime as hex or a
//! `dhparam.pem`, and decrypting the access token secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use num_bigint::BigUint;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};

use crate::error::{Error, Result};
use crate::lst::parse_hex_number;

/// Parses an RSA private key from PEM, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8
/// (`BEGIN PRIVATE KEY`, what OpenSSL 3 writes). The error never echoes key material.
pub fn parse_private_key_pem(what: &str, pem: &str) -> Result<RsaPrivateKey> {
    let pem = pem.trim();
    let parsed = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| e.to_string())
    } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| e.to_string())
    } else if pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        Err("it is encrypted with a passphrase; export it without one (openssl rsa -in KEY -out KEY.pem)".into())
    } else {
        Err(
            "it is not a PEM private key (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)"
                .into(),
        )
    };
    parsed.map_err(|reason| Error::Key(format!("{what}: {reason}")))
}

/// Decrypts the access token secret (base64 of RSA PKCS#1 v1.5 ciphertext) with the
/// *encryption* key. The raw bytes are the HMAC message of the LST; their lowercase hex is the
/// "prepend" of the handshake's base string.
pub fn decrypt_access_token_secret(
    encryption_key: &RsaPrivateKey,
    secret_b64: &str,
) -> Result<Vec<u8>> {
    let ciphertext = B64
        .decode(secret_b64.trim())
        .map_err(|_| Error::Key("access token secret: not base64".into()))?;
    encryption_key.decrypt(Pkcs1v15Encrypt, &ciphertext).map_err(|_| {
        Error::Key(
            "access token secret: the encryption key does not decrypt it (wrong key file, or a secret from another consumer key)"
                .into(),
        )
    })
}

/// The DH prime from either hex (a leading `00` allowed) or the text of a `dhparam.pem`
/// (`BEGIN DH PARAMETERS`, DER `SEQUENCE { INTEGER p, INTEGER g }`).
pub fn parse_dh_prime(text: &str) -> Result<BigUint> {
    let text = text.trim();
    if text.starts_with("-----BEGIN DH PARAMETERS-----") {
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::trim)
            .collect();
        let der = B64
            .decode(body)
            .map_err(|_| Error::Key("dhparam.pem: the body is not base64".into()))?;
        dh_prime_from_der(&der)
    } else {
        parse_hex_number("DH prime", text)
            .map_err(|_| Error::Key("DH prime: neither hex nor a dhparam.pem".into()))
    }
}

/// Reads `p` out of DER `SEQUENCE { INTEGER p, INTEGER g [, ...] }`.
fn dh_prime_from_der(der: &[u8]) -> Result<BigUint> {
    let bad = || {
        Error::Key(
            "dhparam.pem: not DH parameters (expected SEQUENCE { INTEGER p, INTEGER g })".into(),
        )
    };
    let (tag, seq, _) = der_element(der).ok_or_else(bad)?;
    if tag != 0x30 {
        return Err(bad());
    }
    let (tag, p, _) = der_element(seq).ok_or_else(bad)?;
    if tag != 0x02 || p.is_empty() {
        return Err(bad());
    }
    Ok(BigUint::from_bytes_be(p))
}

/// One DER element: (tag, contents, rest). Definite lengths only, as DER requires.
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_keys_and_primes_are_clear_errors() {
        let err = parse_private_key_pem("signature key", "hello")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("signature key") && err.contains("not a PEM private key"),
            "{err}"
        );
        assert!(
            parse_dh_prime("-----BEGIN DH PARAMETERS-----\nAAAA\n-----END DH PARAMETERS-----")
                .is_err()
        );
        assert!(parse_dh_prime("not hex").is_err());
        assert_eq!(parse_dh_prime("00ff").unwrap(), BigUint::from(255u32));
    }
}
