//! IBKR Client Portal Web API over first-party OAuth 1.0a: the handshake, a self-renewing
//! session and typed calls, for one unattended account.
//!
//! Layers, bottom up:
//! - [`sign`]: percent-encoding, base strings, RSA-SHA256 / HMAC-SHA256 signatures and the
//!   `Authorization` header (pure; `ibkr-sim` verifies with the same functions).
//! - [`lst`]: the live session token arithmetic (DH challenge, `K`, the token, its check).
//! - [`keys`]: PEM keys (PKCS#1/PKCS#8), the DH prime, decrypting the access token secret.
//! - [`credentials`]: the settings turned into checked key material ([`Credentials::load`]),
//!   and the one-by-one checks `skimd doctor` runs.
//! - [`pacer`]: client-side rate limiting below IBKR's documented limits.
//! - [`session`]: [`Session`] holds the live session token: handshake over HTTP, signing every
//!   request, renewal on expiry or 401/410 (one handshake at a time, capped by
//!   `max_auth_failures`), `ssodh/init`, retries with backoff, the keeper task (tickle,
//!   re-init, competing sessions) and [`SessionEvent`]s for notifications.
//! - [`client`]: the typed calls (`accounts`, `snapshot`, `place_order`, ...) as methods on
//!   [`Session`].
//! - [`model`]: wire types tolerant of IBKR's quirks; a bad body is [`Error::Malformed`].
//! - [`error`]: one error type with classifiers (`is_auth_expired`, `is_ambiguous`, ...).

pub mod client;
pub mod credentials;
pub mod error;
pub mod keys;
pub mod lst;
pub mod model;
pub mod pacer;
pub mod session;
pub mod sign;

pub use credentials::{CredentialSource, Credentials};
pub use error::{Error, Result};
pub use model::{OrderTicket, OrderType, PlaceOrderOutcome, Side, Tif};
pub use session::{RetryPolicy, Session, SessionConfig, SessionEvent, SessionState};
