//! The daemon's switches: paused (by whom, when, why) and trading enabled (set after the
//! startup reconciliation). One row, created by the first migration.

use chrono::{DateTime, Utc};
use sqlx::Row as _;
use sqlx::query;
use sqlx::sqlite::SqliteRow;

use crate::Store;
use crate::codec::{self, RowExt};
use crate::error::{Result, StoreError};

/// The switches as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Flags {
    /// No new entries while paused (stops are still managed).
    pub paused: bool,
    /// Who paused (user, `cli`, `loss-limit`, ...); cleared on resume.
    pub paused_by: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
    pub paused_reason: Option<String>,
    /// New entries allowed: false until the startup reconciliation succeeded.
    pub trading_enabled: bool,
    pub trading_changed_at: Option<DateTime<Utc>>,
    /// Why trading was last enabled or disabled.
    pub trading_reason: Option<String>,
    /// Consecutive refused IBKR handshakes (reset by a successful one). Kept across restarts so
    /// the daemon's handshake cap holds through a restart loop.
    pub auth_failures: u32,
}

fn flags_from_row(r: &SqliteRow) -> Result<Flags> {
    Ok(Flags {
        paused: r.flag("paused")?,
        paused_by: r.opt_text("paused_by")?,
        paused_at: r.opt_ts("paused_at")?,
        paused_reason: r.opt_text("paused_reason")?,
        trading_enabled: r.flag("trading_enabled")?,
        trading_changed_at: r.opt_ts("trading_changed_at")?,
        trading_reason: r.opt_text("trading_reason")?,
        auth_failures: u32::try_from(r.try_get::<i64, _>("auth_failures")?).unwrap_or(u32::MAX),
    })
}

fn missing() -> StoreError {
    StoreError::NotFound {
        what: "flags row",
        key: "1".into(),
    }
}

impl Store {
    /// The current switches.
    pub async fn flags(&self) -> Result<Flags> {
        let row = query("SELECT * FROM flags WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(missing)?;
        flags_from_row(&row)
    }

    /// Pauses (recording who and why) or resumes (clearing them).
    pub async fn set_paused(&self, paused: bool, by: &str, reason: Option<&str>) -> Result<Flags> {
        let now = codec::ts(self.now());
        let q = if paused {
            query(
                "UPDATE flags SET paused = 1, paused_by = ?, paused_at = ?, paused_reason = ?
                 WHERE id = 1 RETURNING *",
            )
            .bind(by)
            .bind(now)
            .bind(reason)
        } else {
            query(
                "UPDATE flags SET paused = 0, paused_by = NULL, paused_at = NULL,
                     paused_reason = NULL
                 WHERE id = 1 RETURNING *",
            )
        };
        let row = q.fetch_optional(&self.pool).await?.ok_or_else(missing)?;
        let flags = flags_from_row(&row)?;
        tracing::info!(paused, by, reason, "pause flag set");
        Ok(flags)
    }

    /// Enables or disables new entries, with the reason (e.g. the reconciliation's outcome).
    pub async fn set_trading_enabled(&self, enabled: bool, reason: &str) -> Result<Flags> {
        let row = query(
            "UPDATE flags SET trading_enabled = ?, trading_changed_at = ?, trading_reason = ?
             WHERE id = 1 RETURNING *",
        )
        .bind(enabled)
        .bind(codec::ts(self.now()))
        .bind(reason)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(missing)?;
        flags_from_row(&row)
    }

    /// Records the count of consecutive refused handshakes (0 after a successful one).
    pub async fn set_auth_failures(&self, failures: u32) -> Result<Flags> {
        let row = query("UPDATE flags SET auth_failures = ? WHERE id = 1 RETURNING *")
            .bind(i64::from(failures))
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(missing)?;
        flags_from_row(&row)
    }
}
