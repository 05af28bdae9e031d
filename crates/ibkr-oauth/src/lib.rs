//! IBKR Client Portal Web API over first-party OAuth 1.0a.
//!
//! - [`sign`]: percent-encoding, base strings, RSA-SHA256 / HMAC-SHA256 signatures and the
//!   `Authorization` header (pure; `ibkr-sim` verifies with the same functions).
//! - [`lst`]: the live session token arithmetic (DH challenge, `K`, the token, its check).
//! - [`keys`]: PEM keys (PKCS#1/PKCS#8), the DH prime, decrypting the access token secret.
//! - [`error`]: one error type with classifiers.

pub mod error;
pub mod keys;
pub mod lst;
pub mod sign;

pub use error::{Error, Result};
