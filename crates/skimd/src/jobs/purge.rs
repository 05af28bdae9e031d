//! 09:55 `purge`: start a new trading day: expire earlier days' unused candidates (kept for
//! history), and delete very old ones if `candidate_retention_days` says so.

use anyhow::Context as _;

use super::{JobOutcome, closed_today};
use crate::context::AppContext;

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let today = ctx.today();
    let expired = ctx
        .store
        .purge(today)
        .await
        .context("cannot expire old candidates")?;
    let days = ctx.settings.database.candidate_retention_days;
    let deleted = if days > 0 {
        ctx.store
            .delete_candidates_older_than(today, days)
            .await
            .context("cannot delete old candidates")?
    } else {
        0
    };
    Ok(JobOutcome::Done(format!(
        "new trading day {today}: {expired} candidate(s) expired, {deleted} deleted"
    )))
}
