//! `ibkr-sim`: a simulated IBKR Client Portal Web API server speaking first-party OAuth 1.0a.
//!
//! Tests and `skimd demo` run it on loopback. It is strict on purpose: every request is checked
//! the way IBKR checks it (RSA-SHA256 live session token handshake, HMAC-SHA256 with the live
//! session token on every later request, query pairs signed, nonces single-use, timestamps in
//! seconds within the skew window, a `User-Agent` required), so a client that passes here has
//! its signing right.
//!
//! How the parts fit:
//! - [`config`]: [`SimConfig`], the knobs (consumer key, token lifetime, rate-limit enforcement…).
//! - [`credentials`]: [`TestCredentials`], a full credential set (keys, encrypted access token
//!   secret, DH prime) generated fresh or loaded from files, writable as the `.env` skimd reads.
//! - `auth`: the server side of OAuth: header checks, nonce memory, the handshake, and the
//!   live session tokens it has issued.
//! - [`market`]: [`Market`], the scriptable exchange (contracts, quotes, scanner, history,
//!   announcements) and the order book that fills orders as quotes move.
//! - [`orders`]: order tickets, their validation (ASX price steps) and the order state machine.
//! - [`faults`]: [`Faults`], one-shot injected failures (status codes, delays, dropped
//!   connections) and session events (revoked token, competing session, lost bridge).
//! - [`stats`]: [`SimStats`], counters tests assert on, and the documented rate limits.
//! - [`server`]: [`Sim`] / [`SimHandle`]: the hyper server, routing, and the handlers in `api`.
//! - [`demo`]: a few ASX contracts and quotes for `ibkr-sim --demo-market`.
//! - [`format`]: IBKR's string formats for prices, sizes and volumes.

pub(crate) mod api;
pub(crate) mod auth;
pub mod config;
pub mod credentials;
pub mod demo;
pub mod error;
pub mod faults;
pub mod format;
pub mod market;
pub mod orders;
pub mod server;
pub mod stats;

pub use config::SimConfig;
pub use credentials::TestCredentials;
pub use error::{Result, SimError};
pub use faults::{Fault, Faults};
pub use market::{Bar, Contract, Execution, FillMode, Market, Quote, ScanRow, SimAnnouncement};
pub use orders::{OrderStatus, OrderType, Side, SimOrder};
pub use server::{Sim, SimHandle};
pub use stats::SimStats;

/// Locks a mutex, recovering the data if a previous holder panicked: every critical section
/// here leaves the state consistent at each step, so the data is still good.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
