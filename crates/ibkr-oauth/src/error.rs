//! The crate's one error type, with classifiers the caller uses instead of string matching.
//!
//! Messages never carry secrets: no token, key, signature or `Authorization` header is ever
//! formatted into an error. Response bodies are quoted only as a short snippet (IBKR's bodies
//! carry no credentials).

use std::time::Duration;

/// Everything that can go wrong talking to IBKR.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request did not get an HTTP answer (connect, TLS, reset, timeout).
    #[error("{endpoint}: network error: {source}")]
    Http {
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    /// An HTTP status this crate has no better name for.
    #[error("{endpoint}: HTTP {status}: {body}")]
    Status {
        status: u16,
        endpoint: String,
        /// The first few hundred characters of the body.
        body: String,
    },
    /// 401 or 410: the live session token is no longer accepted. The session renews it once and
    /// retries; this surfaces only when that did not help.
    #[error(
        "{endpoint}: the live session token was refused (HTTP {status}); renewing it did not help"
    )]
    AuthExpired { status: u16, endpoint: String },
    /// 400 `no bridge`: the brokerage session (`/iserver`) is not open.
    #[error(
        "{endpoint}: no brokerage session (400 no bridge): ssodh/init has not run or IBKR dropped it"
    )]
    NoBridge { endpoint: String },
    /// 401 `invalid consumer` on the handshake.
    #[error(
        "IBKR answered `invalid consumer`: the consumer key is not active yet (IBKR takes from a day to two weeks after registration) or is mistyped"
    )]
    InvalidConsumer,
    /// 401 `No access secret` on the handshake.
    #[error(
        "IBKR has no access secret for this access token: regenerate the access token (and its secret) in the IBKR self-service portal"
    )]
    NoAccessSecret,
    /// 429: over IBKR's rate limit. Retrying fast lands the IP in a 10 minute penalty box.
    #[error("{endpoint}: rate limited by IBKR (429){}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        endpoint: String,
        retry_after: Option<Duration>,
    },
    /// IBKR refused the order (definitive: nothing was placed or changed).
    #[error("order rejected: {message}")]
    OrderRejected { message: String },
    /// An order request got no definite answer (timeout, 5xx, dropped connection): it may or may
    /// not have reached the book. Never retry blindly; settle it by cOID from the live orders.
    #[error("order outcome unknown ({}): {reason}; settle it by cOID from live orders", coid.as_deref().unwrap_or("no cOID"))]
    OrderAmbiguous {
        coid: Option<String>,
        reason: String,
    },
    /// A response or header did not have the shape IBKR documents.
    #[error("malformed: {0}")]
    Malformed(String),
    /// A key file, the DH prime or the access token secret could not be used.
    #[error("{0}")]
    Key(String),
    /// A setting is unusable (empty consumer key, bad base URL, ...).
    #[error("{0}")]
    Config(String),
    /// The server's `live_session_token_signature` does not match the token we derived.
    #[error(
        "the live session token signature from IBKR does not match: the handshake is broken (wrong keys, secret or DH prime?)"
    )]
    LstSignatureMismatch,
    /// `max_auth_failures` handshakes in a row failed; no more are attempted until
    /// `Session::reset_auth_failures`, so a crash loop cannot get the IBKR account locked.
    #[error(
        "{failures} live session token handshakes in a row failed: not trying again until the failures are reset (fix the credentials, then restart)"
    )]
    AuthLockedOut { failures: u32 },
    /// Another session (TWS, mobile, another client) holds the brokerage session.
    #[error("another IBKR session competes for this username's brokerage session")]
    Competing,
}

impl Error {
    /// 401/410 on a signed call: the token must be renewed (the session does it once itself).
    pub fn is_auth_expired(&self) -> bool {
        matches!(self, Error::AuthExpired { .. })
    }

    /// An order request whose outcome is unknown: reconcile by cOID, never resend blindly.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, Error::OrderAmbiguous { .. })
    }

    /// A definitive refusal of an order: nothing reached the book.
    pub fn is_rejected(&self) -> bool {
        matches!(self, Error::OrderRejected { .. })
    }

    /// 429 from IBKR.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RateLimited { .. })
    }

    /// Worth trying again later with no change on our side: network trouble, 5xx, 429, the
    /// brokerage session being down (nightly maintenance) or taken by a competing login.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Http { .. }
            | Error::RateLimited { .. }
            | Error::NoBridge { .. }
            | Error::Competing => true,
            Error::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The credentials themselves are wrong or not active: a human must act.
    pub fn needs_operator(&self) -> bool {
        matches!(
            self,
            Error::InvalidConsumer
                | Error::NoAccessSecret
                | Error::Key(_)
                | Error::Config(_)
                | Error::LstSignatureMismatch
                | Error::AuthLockedOut { .. }
        )
    }

    /// Classifies a non-2xx answer. `body` is the raw response text.
    pub(crate) fn from_status(
        status: u16,
        endpoint: &str,
        body: &str,
        retry_after: Option<Duration>,
    ) -> Error {
        let lower = body.to_ascii_lowercase();
        match status {
            401 if lower.contains("invalid consumer") => Error::InvalidConsumer,
            401 if lower.contains("no access secret") || lower.contains("access secret") => {
                Error::NoAccessSecret
            }
            401 | 410 => Error::AuthExpired {
                status,
                endpoint: endpoint.to_owned(),
            },
            400 if lower.contains("no bridge") => Error::NoBridge {
                endpoint: endpoint.to_owned(),
            },
            429 => Error::RateLimited {
                endpoint: endpoint.to_owned(),
                retry_after,
            },
            _ => Error::Status {
                status,
                endpoint: endpoint.to_owned(),
                body: snippet(body),
            },
        }
    }
}

/// At most 300 characters of a body, on a char boundary, one line.
pub(crate) fn snippet(body: &str) -> String {
    const MAX: usize = 300;
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX + 1)
        .collect();
    if one_line.chars().count() > MAX {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, body: &str) -> Error {
        Error::from_status(status, "/x", body, None)
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(
            classify(401, r#"{"error":"invalid consumer"}"#),
            Error::InvalidConsumer
        ));
        assert!(matches!(
            classify(
                401,
                r#"{"error":"LST failed... No access secret key found"}"#
            ),
            Error::NoAccessSecret
        ));
        assert!(classify(401, "").is_auth_expired());
        assert!(classify(410, "Gone").is_auth_expired());
        assert!(matches!(
            classify(400, r#"{"error":"Bad Request: no bridge"}"#),
            Error::NoBridge { .. }
        ));
        assert!(classify(400, r#"{"error":"Bad Request: no bridge"}"#).is_transient());
        assert!(classify(429, "").is_rate_limited());
        assert!(classify(429, "").is_transient());
        assert!(classify(503, "busy").is_transient());
        assert!(classify(500, r#"{"error":"x"}"#).is_transient());
        assert!(!classify(400, r#"{"error":"bad conid"}"#).is_transient());
        assert!(!classify(404, "").is_auth_expired());
    }

    #[test]
    fn order_classifiers() {
        let amb = Error::OrderAmbiguous {
            coid: Some("c1".into()),
            reason: "timeout".into(),
        };
        assert!(amb.is_ambiguous() && !amb.is_rejected() && !amb.is_transient());
        assert!(amb.to_string().contains("c1"));
        let rej = Error::OrderRejected {
            message: "no".into(),
        };
        assert!(rej.is_rejected() && !rej.is_ambiguous());
        assert!(Error::InvalidConsumer.to_string().contains("two weeks"));
        assert!(Error::NoAccessSecret.to_string().contains("regenerate"));
        assert!(Error::AuthLockedOut { failures: 3 }.needs_operator());
    }

    #[test]
    fn snippets_are_short_and_single_line() {
        let long = "a\n".repeat(500);
        let s = snippet(&long);
        assert!(!s.contains('\n'));
        assert!(s.chars().count() <= 301);
        assert_eq!(snippet("é"), "é");
    }
}
