//! The one error type of the store crate.

use std::path::PathBuf;

use rust_decimal::Decimal;

use crate::types::{CandidateStatus, OrderState, PositionState};

/// Everything that can go wrong in the store. Callers classify with the `is_*` methods
/// instead of matching on messages.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL or path was not usable (empty, in-memory, ...).
    #[error("bad database location {input:?}: {reason}")]
    BadLocation { input: String, reason: &'static str },

    /// The folder that should hold the database file could not be created.
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// SQLite could not open (or create) the database file.
    #[error("cannot open the database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },

    /// Applying the migrations failed; the database is left at its previous version.
    #[error("cannot migrate the database {}: {source}", path.display())]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// Any other SQLite error (I/O, busy past the timeout, constraint not otherwise mapped).
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),

    /// A value in the database could not be read back as its type (a corrupt row).
    #[error("corrupt value {value:?} in {column}: {reason}")]
    Corrupt {
        column: &'static str,
        value: String,
        reason: String,
    },

    /// The caller passed something the store refuses to write.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },

    /// A row with the same unique key exists (client order id, live entry for the day, ...).
    #[error("duplicate {what}: {detail}")]
    Duplicate { what: &'static str, detail: String },

    /// The row the caller named does not exist.
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },

    /// The order state machine refused a change.
    #[error("illegal order transition {from} -> {to} for order {coid}")]
    IllegalTransition {
        coid: String,
        from: OrderState,
        to: OrderState,
    },

    /// The position state machine refused a change.
    #[error("illegal position transition {from} -> {to} for position {position_id}")]
    IllegalPositionTransition {
        position_id: i64,
        from: PositionState,
        to: PositionState,
    },

    /// A candidate's status may not change this way.
    #[error("candidate {ticker} on {trading_day}: status {from} cannot become {to}")]
    IllegalCandidateStatus {
        trading_day: chrono::NaiveDate,
        ticker: String,
        from: CandidateStatus,
        to: CandidateStatus,
    },

    /// A stop may only be raised.
    #[error("stop of position {position_id} may only be raised: {current} -> {requested} refused")]
    StopLowered {
        position_id: i64,
        current: Decimal,
        requested: Decimal,
    },

    /// A fill does not fit the order or position it belongs to (overfill, oversell, closed).
    #[error("fill {exec_id} refused: {reason}")]
    FillRefused { exec_id: String, reason: String },

    /// `backup` never overwrites.
    #[error("backup target {} already exists; refusing to overwrite it", path.display())]
    BackupExists { path: PathBuf },
}

impl StoreError {
    /// The named row does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// A state machine (order, position, candidate) refused a change.
    pub fn is_illegal_transition(&self) -> bool {
        matches!(
            self,
            Self::IllegalTransition { .. }
                | Self::IllegalPositionTransition { .. }
                | Self::IllegalCandidateStatus { .. }
        )
    }

    /// A unique key already exists.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Self::Duplicate { .. })
    }

    /// SQLite stayed locked by another writer past the busy timeout: the call may be retried.
    pub fn is_busy(&self) -> bool {
        match self {
            Self::Db(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("5") | Some("6") | Some("517"))
            }
            _ => false,
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a unique-constraint violation to [`StoreError::Duplicate`], anything else to `Db`.
pub(crate) fn map_unique(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate {
            what,
            detail: db.message().to_owned(),
        },
        _ => StoreError::Db(e),
    }
}
