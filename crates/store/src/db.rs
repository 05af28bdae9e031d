//! Opening the database: where the file is, how SQLite is set up, migrations, backup.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::error::{Result, StoreError};

/// The migrations in `crates/store/migrations/`, embedded at compile time and applied by
/// [`Store::open`]. They only ever add, so a database migrated by a newer skimd still works
/// with an older one: `ignore_missing` lets a rolled-back binary open a database that has
/// migrations it does not know (a deploy rollback must not be locked out of its own data).
pub static MIGRATOR: Migrator = Migrator {
    ignore_missing: true,
    ..sqlx::migrate!()
};

/// How long a connection waits for another writer before giving up with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in the pool. SQLite has one writer at a time; a few readers are plenty.
pub const POOL_SIZE: u32 = 4;

/// Where the store reads "now" for its bookkeeping timestamps (`created_at`, `updated_at`,
/// `recorded_at`). Times that mean something to trading (fill time, scan time, job start) are
/// always passed in by the caller.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The journal: a small pool of connections to one SQLite file. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    path: PathBuf,
    clock: Clock,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// The SQLite settings a connection actually runs with, read back from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// `wal` in production.
    pub journal_mode: String,
    /// 2 = FULL.
    pub synchronous: i64,
    /// Foreign keys enforced.
    pub foreign_keys: bool,
    /// Milliseconds.
    pub busy_timeout_ms: i64,
}

/// Turns `sqlite://data/skim.db`, `sqlite:data/skim.db`, `sqlite:///abs/skim.db` or a plain
/// path into the file path. A `?query` after a `sqlite:` URL is ignored (the store sets its own
/// options). In-memory databases are refused: the journal must survive a restart.
pub fn database_path(location: &str) -> Result<PathBuf> {
    let input = location.trim();
    let bad = |reason| StoreError::BadLocation {
        input: location.to_owned(),
        reason,
    };
    let rest = if let Some(rest) = input.strip_prefix("sqlite://") {
        rest.split('?').next().unwrap_or(rest)
    } else if let Some(rest) = input.strip_prefix("sqlite:") {
        rest.split('?').next().unwrap_or(rest)
    } else {
        input
    };
    if rest.is_empty() {
        return Err(bad("no file path given"));
    }
    if rest == ":memory:" || rest.starts_with("file::memory:") || rest.contains("mode=memory") {
        return Err(bad(
            "an in-memory database would lose the journal; give a file path",
        ));
    }
    Ok(PathBuf::from(rest))
}

impl Store {
    /// Opens (creating if missing) the database at `location` — a `sqlite:` URL or a plain
    /// path — and applies any pending migration.
    ///
    /// The folder is created if missing. Every connection runs with WAL journaling,
    /// `synchronous=FULL` (a committed journal row survives power loss), foreign keys on and a
    /// 5 s busy timeout; the pool holds [`POOL_SIZE`] connections.
    pub async fn open(location: &str) -> Result<Store> {
        let path = database_path(location)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        if let Err(source) = MIGRATOR.run(&pool).await {
            pool.close().await;
            return Err(StoreError::Migrate { path, source });
        }
        tracing::debug!(path = %path.display(), "database open and migrated");
        Ok(Store {
            pool,
            path,
            clock: Arc::new(Utc::now),
        })
    }

    /// Replaces the bookkeeping clock (tests, `--now`, the demo's `clock.start`).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection after the ones in use are returned. Committed rows are on disk.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`), so a
    /// read-then-write inside it cannot be invalidated by a concurrent writer: two callers are
    /// serialised, the second waiting up to the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The settings the connections run with, as SQLite reports them (for `doctor` and tests).
    pub async fn connection_settings(&self) -> Result<ConnectionSettings> {
        let mut conn = self.pool.acquire().await?;
        let journal_mode: String = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let synchronous: i64 = sqlx::query("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let foreign_keys: i64 = sqlx::query("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        let busy_timeout_ms: i64 = sqlx::query("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await?
            .try_get(0)?;
        Ok(ConnectionSettings {
            journal_mode,
            synchronous,
            foreign_keys: foreign_keys == 1,
            busy_timeout_ms,
        })
    }

    /// The newest migration applied (for `status` and `doctor`).
    pub async fn schema_version(&self) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations WHERE success = 1",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("v")?)
    }

    /// Writes a consistent copy of the whole database to `to` with `VACUUM INTO`, while the
    /// daemon keeps running (readers and writers are not stopped). Refuses to overwrite an
    /// existing file; creates the target's folder if missing.
    pub async fn backup(&self, to: &Path) -> Result<()> {
        if to.symlink_metadata().is_ok() {
            return Err(StoreError::BackupExists {
                path: to.to_path_buf(),
            });
        }
        let target = to.to_str().ok_or_else(|| StoreError::Invalid {
            what: "backup path",
            reason: format!("{} is not valid UTF-8", to.display()),
        })?;
        if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await?;
        tracing::info!(to = %to.display(), "database backed up");
        Ok(())
    }
}
