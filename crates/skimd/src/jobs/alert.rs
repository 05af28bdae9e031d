//! 10:02 `alert`: notify today's candidates.

use anyhow::Context as _;

use super::{JobOutcome, closed_today};
use crate::context::AppContext;

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let today = ctx.today();
    let list = ctx
        .store
        .candidates_for_day(today)
        .await
        .context("cannot read candidates")?;
    if list.is_empty() {
        ctx.notifier
            .send(format!("🔎 {today}: no candidates today"));
        return Ok(JobOutcome::Done("no candidates to alert".into()));
    }
    let mut text = format!(
        "🔎 {today}: {} candidate(s) gapped up on price-sensitive news",
        list.len()
    );
    for c in &list {
        text.push_str(&format!(
            "\n• {} +{}% {}",
            c.ticker,
            c.gap_pct.round_dp(2).normalize(),
            c.headline.clone().unwrap_or_default()
        ));
    }
    ctx.notifier.send(text);
    Ok(JobOutcome::Done(format!(
        "{} candidate(s) alerted",
        list.len()
    )))
}
