//! The crate's one error type.

/// Everything that can go wrong starting the simulator or handling its credentials.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("oauth: {0}")]
    OAuth(#[from] ibkr_oauth::Error),
    #[error("key material: {0}")]
    Key(String),
}

pub type Result<T, E = SimError> = std::result::Result<T, E>;
