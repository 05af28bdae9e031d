//! Job runs: one row per run of a scheduled or one-shot job, for `status` and the logs.

use chrono::{DateTime, Utc};
use sqlx::query;
use sqlx::sqlite::SqliteRow;

use crate::Store;
use crate::codec::{self, RowExt};
use crate::error::{Result, StoreError};
use crate::types::JobOutcome;

/// Longest detail kept, in characters.
pub const MAX_DETAIL_CHARS: usize = 500;

/// A job run. `finished_at` and `outcome` are empty while it runs (or if the daemon died).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<JobOutcome>,
    /// One line: what it did, or why it failed.
    pub detail: Option<String>,
}

fn job_from_row(r: &SqliteRow) -> Result<JobRun> {
    Ok(JobRun {
        id: r.int("id")?,
        job: r.text("job")?,
        started_at: r.ts("started_at")?,
        finished_at: r.opt_ts("finished_at")?,
        outcome: r.opt_parsed("outcome")?,
        detail: r.opt_text("detail")?,
    })
}

/// Collapses whitespace (newlines included) to single spaces and cuts to
/// [`MAX_DETAIL_CHARS`] characters.
pub fn one_line(detail: &str) -> String {
    let joined = detail.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MAX_DETAIL_CHARS {
        joined
    } else {
        let mut cut: String = joined.chars().take(MAX_DETAIL_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

impl Store {
    /// Records that `job` started at `started_at`; returns the run's id for [`Store::job_finished`].
    pub async fn job_started(&self, job: &str, started_at: DateTime<Utc>) -> Result<i64> {
        if job.trim().is_empty() {
            return Err(StoreError::Invalid {
                what: "job run",
                reason: "empty job name".into(),
            });
        }
        let row = query("INSERT INTO job_runs (job, started_at) VALUES (?, ?) RETURNING id")
            .bind(job)
            .bind(codec::ts(started_at))
            .fetch_one(&self.pool)
            .await?;
        row.int("id")
    }

    /// Records how run `run_id` ended, with a one-line detail (see [`one_line`]).
    pub async fn job_finished(
        &self,
        run_id: i64,
        finished_at: DateTime<Utc>,
        outcome: JobOutcome,
        detail: &str,
    ) -> Result<JobRun> {
        let row = query(
            "UPDATE job_runs SET finished_at = ?, outcome = ?, detail = ? WHERE id = ?
             RETURNING *",
        )
        .bind(codec::ts(finished_at))
        .bind(outcome.as_str())
        .bind(one_line(detail))
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "job run",
            key: run_id.to_string(),
        })?;
        job_from_row(&row)
    }

    /// The latest run of each job, by job name.
    pub async fn last_job_runs(&self) -> Result<Vec<JobRun>> {
        query(
            "SELECT * FROM job_runs WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job)
             ORDER BY job",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(job_from_row)
        .collect()
    }

    /// The latest run of one job.
    pub async fn last_job_run(&self, job: &str) -> Result<Option<JobRun>> {
        query("SELECT * FROM job_runs WHERE job = ? ORDER BY id DESC LIMIT 1")
            .bind(job)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(job_from_row)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_is_one_bounded_line() {
        assert_eq!(one_line("  scanned 3\n  kept 1\t"), "scanned 3 kept 1");
        let long = "x".repeat(MAX_DETAIL_CHARS * 2);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), MAX_DETAIL_CHARS);
        assert!(cut.ends_with('…'));
    }
}
