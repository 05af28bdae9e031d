//! Session-level answers: the handshake, tickle, auth status, accounts.

use serde::Deserialize;

use super::de;

/// `POST /oauth/live_session_token`.
#[derive(Debug, Clone, Deserialize)]
pub struct LiveSessionTokenResponse {
    /// Hex `B`, possibly of odd length.
    pub diffie_hellman_response: String,
    /// 40 hex chars: HMAC-SHA1(LST, consumer key).
    pub live_session_token_signature: String,
    /// Expiry, ms since the epoch.
    #[serde(deserialize_with = "de::i64_req")]
    pub live_session_token_expiration: i64,
}

/// The brokerage session's status (`iserver.authStatus` of a tickle, or `/iserver/auth/status`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AuthStatus {
    #[serde(deserialize_with = "de::bool_lenient")]
    pub authenticated: bool,
    #[serde(deserialize_with = "de::bool_lenient")]
    pub competing: bool,
    #[serde(deserialize_with = "de::bool_lenient")]
    pub connected: bool,
    #[serde(deserialize_with = "de::string_opt")]
    pub message: Option<String>,
    #[serde(deserialize_with = "de::string_opt")]
    pub fail: Option<String>,
}

/// `POST /tickle`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Tickle {
    #[serde(deserialize_with = "de::string_opt")]
    pub session: Option<String>,
    /// Milliseconds until the SSO session expires.
    #[serde(rename = "ssoExpires", deserialize_with = "de::i64_opt")]
    pub sso_expires: Option<i64>,
    pub iserver: Option<TickleIserver>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TickleIserver {
    #[serde(rename = "authStatus")]
    pub auth_status: Option<AuthStatus>,
}

impl Tickle {
    /// The brokerage status the tickle carried; all-false when absent (no brokerage session).
    pub fn auth_status(&self) -> AuthStatus {
        self.iserver
            .as_ref()
            .and_then(|i| i.auth_status.clone())
            .unwrap_or_default()
    }
}

/// `GET /iserver/accounts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Accounts {
    #[serde(deserialize_with = "de::vec_or_null")]
    pub accounts: Vec<String>,
    #[serde(rename = "selectedAccount", deserialize_with = "de::string_opt")]
    pub selected_account: Option<String>,
    #[serde(rename = "isPaper", deserialize_with = "de::bool_lenient")]
    pub is_paper: bool,
}
