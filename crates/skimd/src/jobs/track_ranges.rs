//! 10:00 + `opening_range_minutes`: each watching candidate's opening range (day high/low at
//! completion). A candidate that has not traded has no range and is not traded.

use anyhow::Context as _;
use ibkr_oauth::model::fields;
use store::CandidateStatus;
use strategy::Price;

use super::{JobOutcome, closed_today};
use crate::context::AppContext;

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let now = ctx.now();
    let today = ctx.today();
    let Some(end) = strategy::opening_range_end_utc(today, &ctx.strategy) else {
        return Ok(JobOutcome::Skipped("no opening range today".into()));
    };
    if now < end {
        return Ok(JobOutcome::Skipped(format!(
            "too early: the opening range completes at {}",
            end.with_timezone(&ctx.tz).format("%H:%M")
        )));
    }
    let todo: Vec<store::Candidate> = ctx
        .store
        .candidates_for_day(today)
        .await
        .context("cannot read candidates")?
        .into_iter()
        .filter(|c| c.status == CandidateStatus::Watching && c.range_high.is_none())
        .collect();
    if todo.is_empty() {
        return Ok(JobOutcome::Done("no candidate waiting for a range".into()));
    }
    let conids: Vec<i64> = todo.iter().map(|c| c.conid).collect();
    let snaps = ctx
        .ibkr
        .session
        .snapshot(
            &conids,
            &[
                fields::LAST,
                fields::HIGH,
                fields::LOW,
                fields::BID,
                fields::ASK,
            ],
        )
        .await
        .context("cannot read market data for the opening ranges")?;
    let mut set = Vec::new();
    let mut missing = Vec::new();
    for c in &todo {
        let snap = snaps.iter().find(|s| s.conid == c.conid);
        let price = |d: Option<rust_decimal::Decimal>| d.and_then(|d| Price::new(d).ok());
        let last = snap
            .and_then(|s| s.last.as_ref())
            .filter(|l| !l.is_prior_close)
            .and_then(|l| Price::new(l.price).ok());
        let range = strategy::opening_range(
            now,
            price(snap.and_then(|s| s.high)),
            price(snap.and_then(|s| s.low)),
            last,
            &ctx.strategy,
        );
        match range {
            Some(r) => {
                ctx.store
                    .set_opening_range(today, &c.ticker, r.high().value(), r.low().value(), now)
                    .await
                    .with_context(|| format!("cannot store the range of {}", c.ticker))?;
                set.push(format!(
                    "{} {}–{}",
                    c.ticker,
                    r.low().value(),
                    r.high().value()
                ));
            }
            None => missing.push(c.ticker.clone()),
        }
    }
    Ok(JobOutcome::Done(format!(
        "ranges set: {}{}",
        if set.is_empty() {
            "none".to_string()
        } else {
            set.join(", ")
        },
        if missing.is_empty() {
            String::new()
        } else {
            format!("; not traded yet: {}", missing.join(", "))
        }
    )))
}
