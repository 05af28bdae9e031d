//! The crate's one error type, with classifiers the caller uses instead of string matching.

/// Everything that can go wrong talking to IBKR.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A response or header did not have the shape IBKR documents.
    #[error("malformed: {0}")]
    Malformed(String),
    /// A key file, the DH prime or the access token secret could not be used.
    #[error("{0}")]
    Key(String),
    /// The server's `live_session_token_signature` does not match the token we derived.
    #[error(
        "the live session token signature from IBKR does not match: the handshake is broken (wrong keys, secret or DH prime?)"
    )]
    LstSignatureMismatch,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
