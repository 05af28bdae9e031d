//! The trading day's jobs, one file each.

use std::fmt;

/// Every scheduled job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    Purge,
    Scan,
    Alert,
    TrackRanges,
    Trade,
    Manage,
    Exits,
    Summary,
}

impl JobKind {
    pub const ALL: [JobKind; 8] = [
        JobKind::Purge,
        JobKind::Scan,
        JobKind::Alert,
        JobKind::TrackRanges,
        JobKind::Trade,
        JobKind::Manage,
        JobKind::Exits,
        JobKind::Summary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            JobKind::Purge => "purge",
            JobKind::Scan => "scan",
            JobKind::Alert => "alert",
            JobKind::TrackRanges => "track-ranges",
            JobKind::Trade => "trade",
            JobKind::Manage => "manage",
            JobKind::Exits => "exits",
            JobKind::Summary => "summary",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

pub mod alert;
pub mod exits;
pub mod manage;
pub mod purge;
pub mod scan;
pub mod summary;
pub mod track_ranges;
pub mod trade;

use std::collections::HashMap;
use std::time::Instant;

use crate::context::AppContext;

/// How a job run went (an `Err` is the third way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// It ran; one line saying what it did.
    Done(String),
    /// It had nothing to do (not a trading day, too early, already running...).
    Skipped(String),
}

impl JobOutcome {
    pub fn detail(&self) -> &str {
        match self {
            JobOutcome::Done(d) | JobOutcome::Skipped(d) => d,
        }
    }
}

/// One mutex per job kind: a job never overlaps itself.
#[derive(Debug)]
pub struct JobLocks(HashMap<JobKind, tokio::sync::Mutex<()>>);

impl Default for JobLocks {
    fn default() -> Self {
        Self(
            JobKind::ALL
                .iter()
                .map(|k| (*k, tokio::sync::Mutex::new(())))
                .collect(),
        )
    }
}

/// Calls the job's function.
pub async fn call(ctx: &AppContext, kind: JobKind) -> anyhow::Result<JobOutcome> {
    match kind {
        JobKind::Purge => purge::run(ctx).await,
        JobKind::Scan => scan::run(ctx).await,
        JobKind::Alert => alert::run(ctx).await,
        JobKind::TrackRanges => track_ranges::run(ctx).await,
        JobKind::Trade => trade::run(ctx).await,
        JobKind::Manage => manage::run(ctx).await,
        JobKind::Exits => exits::run(ctx).await,
        JobKind::Summary => summary::run(ctx).await,
    }
}

/// Runs a job once with its bookkeeping: skipped if the same job is still running, recorded in
/// `job_runs`, one log line with outcome and duration, errors notified. Never panics, never
/// returns an error: the next tick retries.
pub async fn run_recorded(
    ctx: &AppContext,
    locks: &JobLocks,
    kind: JobKind,
) -> Result<JobOutcome, String> {
    let Some(lock) = locks.0.get(&kind) else {
        return Err(format!("no lock for job {kind}"));
    };
    let Ok(_guard) = lock.try_lock() else {
        tracing::warn!(job = %kind, "skipped: the previous {kind} run is still running");
        return Ok(JobOutcome::Skipped("previous run still running".into()));
    };
    let started = Instant::now();
    let run_id = ctx.store.job_started(kind.name(), ctx.now()).await.ok();
    let result = call(ctx, kind).await;
    let ms = started.elapsed().as_millis();
    let (outcome, detail) = match &result {
        Ok(JobOutcome::Done(d)) => (store::JobOutcome::Ok, d.clone()),
        Ok(JobOutcome::Skipped(d)) => (store::JobOutcome::Skipped, d.clone()),
        Err(e) => (store::JobOutcome::Error, format!("{e:#}")),
    };
    if let Some(id) = run_id
        && let Err(e) = ctx
            .store
            .job_finished(id, ctx.now(), outcome, &detail)
            .await
    {
        tracing::warn!(job = %kind, "cannot record the job run: {e}");
    }
    match &result {
        Ok(_) => {
            tracing::info!(job = %kind, outcome = outcome.as_str(), duration_ms = ms as u64, "{detail}")
        }
        Err(_) => {
            tracing::error!(job = %kind, outcome = "error", duration_ms = ms as u64, "{detail}");
            ctx.notifier.send(format!("❌ {kind} failed: {detail}"));
        }
    }
    result.map_err(|e| format!("{e:#}"))
}

/// `Skipped` on days the ASX is closed.
pub fn closed_today(ctx: &AppContext) -> Option<JobOutcome> {
    let today = ctx.today();
    if ctx.calendar.is_trading_day(today) {
        None
    } else {
        Some(JobOutcome::Skipped(format!(
            "{today} is not an ASX trading day"
        )))
    }
}

impl JobLocks {
    /// Waits until no job holds its lock (every running job finished).
    pub async fn wait_idle(&self) {
        for lock in self.0.values() {
            let _ = lock.lock().await;
        }
    }
}
