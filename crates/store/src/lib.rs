//! `store`: the SQLite journal of everything skim decides and does.
//!
//! One SQLite file (`data/skim.db` by default) holds skim's state. An order is written before
//! it is sent, positions change only through fills, and a migration only ever adds.
//!
//! # Map
//!
//! - [`db`]: [`Store::open`] (URL or path → WAL, `synchronous=FULL`, foreign keys, 5 s busy
//!   timeout, a pool of 4, migrations from `migrations/`), [`Store::backup`] (`VACUUM INTO`).
//! - [`types`]: the enums stored as text ([`OrderState`], [`Side`], [`OrderPurpose`], ...).
//! - [`orders`]: the journal and its state machine: the pure [`transition`] table and the
//!   repository methods that apply it inside a write transaction.
//! - [`fills`]: [`Store::record_fill`], the one transaction that stores an execution (once),
//!   updates its order and its position, and books exact P&L.
//! - [`positions`]: [`Store::create_position_for_entry`] (the "one entry per ticker per day"
//!   guarantee), stops that only go up, half exit, daily P&L.
//! - [`candidates`]: the scan's finds per day, opening ranges, `purge` and retention.
//! - [`jobs`], [`flags`], [`contracts`]: job runs, pause / trading-enabled switches, the
//!   ticker → conid cache.
//! - `codec` (private): Decimal ⇄ TEXT (never through `f64`), fixed-width UTC timestamps,
//!   `YYYY-MM-DD` trading days.
//!
//! All SQL lives in this crate and uses runtime queries (no database at compile time). A
//! write that reads first runs in `BEGIN IMMEDIATE`, so concurrent writers are serialised
//! rather than racing. Bookkeeping timestamps come from the store's [`Clock`]; times that
//! matter to trading are always passed in.

mod codec;

pub mod candidates;
pub mod contracts;
pub mod db;
pub mod error;
pub mod fills;
pub mod flags;
pub mod jobs;
pub mod orders;
pub mod positions;
pub mod types;

pub use candidates::{Candidate, NewCandidate, candidate_status_change_allowed};
pub use db::{BUSY_TIMEOUT, Clock, ConnectionSettings, MIGRATOR, POOL_SIZE, Store, database_path};
pub use error::{Result, StoreError};
pub use fills::{Fill, NewFill, RecordedFill};
pub use flags::Flags;
pub use jobs::{JobRun, one_line};
pub use orders::{NewOrder, Order, transition};
pub use positions::{Entry, Position, position_transition};
pub use types::{
    CandidateStatus, JobOutcome, OrderPurpose, OrderState, OrderType, ParseEnumError,
    PositionState, Side, TransitionError,
};
