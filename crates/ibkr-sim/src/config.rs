//! [`SimConfig`]: what the simulated IBKR looks like and how strict it is.

use std::time::Duration;

/// Settings of one simulator instance. [`Default`] gives a paper account with a 24 h token.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Consumer key used when [`crate::Sim::start`] generates credentials (9 upper-case chars
    /// like IBKR's). With [`crate::Sim::start_with`] the credentials' own key is used.
    pub consumer_key: String,
    /// Access token used when credentials are generated.
    pub access_token: String,
    /// Realm used when credentials are generated (`limited_poa` for first-party OAuth).
    pub realm: String,
    /// The one brokerage account (paper accounts start with `DU`).
    pub account_id: String,
    /// Lifetime of a live session token; tests use short ones to exercise renewal.
    pub lst_ttl: Duration,
    /// How far `oauth_timestamp` may be from the sim's clock; nonces are remembered this long.
    pub max_clock_skew: Duration,
    /// Answer 429 when a documented rate limit is exceeded (otherwise only count violations).
    pub enforce_rate_limits: bool,
    /// Time after `ssodh/init` before `/iserver` works ("no bridge" until then).
    pub init_settle: Duration,
    /// The brokerage session drops ("no bridge") after this long without any request, as
    /// IBKR's does after about 5 minutes without a tickle. `None`: never.
    pub session_idle_timeout: Option<Duration>,
    /// Cash the account starts with (AUD).
    pub starting_cash: rust_decimal::Decimal,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            consumer_key: "SKIMSIM01".to_owned(),
            access_token: "a1b2c3d4e5f6a7b8c9d0e1f2".to_owned(),
            realm: "limited_poa".to_owned(),
            account_id: "DU1234567".to_owned(),
            lst_ttl: Duration::from_secs(24 * 3600),
            max_clock_skew: Duration::from_secs(300),
            enforce_rate_limits: false,
            init_settle: Duration::ZERO,
            session_idle_timeout: Some(Duration::from_secs(300)),
            starting_cash: rust_decimal::Decimal::from(100_000),
        }
    }
}
