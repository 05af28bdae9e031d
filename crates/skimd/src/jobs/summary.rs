//! 16:15 `summary`: the day's trades and P&L, notified.

use anyhow::Context as _;
use rust_decimal::Decimal;

use super::{JobOutcome, closed_today};
use crate::context::AppContext;

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let today = ctx.today();
    let entered = ctx
        .store
        .positions_entered_on(today)
        .await
        .context("cannot read positions")?;
    let closed = ctx
        .store
        .positions_closed_on(today)
        .await
        .context("cannot read positions")?;
    let open = ctx
        .store
        .open_positions()
        .await
        .context("cannot read positions")?;
    let pnl = ctx
        .store
        .realised_pnl_for_day(today)
        .await
        .context("cannot read P&L")?;
    let mut text = format!(
        "📊 {today}: {} entr{}, {} closed, {} open; realised P&L {} AUD",
        entered.iter().filter(|p| p.original_quantity > 0).count(),
        if entered.len() == 1 { "y" } else { "ies" },
        closed.len(),
        open.len(),
        pnl.round_dp(2)
    );
    for p in &closed {
        text.push_str(&format!(
            "\n• {} closed ({}): {} shares, in {} out {}, P&L {}",
            p.ticker,
            p.close_reason.clone().unwrap_or_default(),
            p.original_quantity,
            p.avg_entry_price
                .map(|d| d.round_dp(3).normalize().to_string())
                .unwrap_or_default(),
            p.exit_price
                .map(|d| d.round_dp(3).normalize().to_string())
                .unwrap_or_default(),
            p.realised_pnl.round_dp(2)
        ));
    }
    for p in &open {
        text.push_str(&format!(
            "\n• {} open: {} shares at {}, stop {}",
            p.ticker,
            p.quantity,
            p.avg_entry_price
                .map(|d| d.round_dp(3).normalize().to_string())
                .unwrap_or_default(),
            p.stop_price.unwrap_or(Decimal::ZERO).normalize()
        ));
    }
    ctx.notifier.send(text);
    Ok(JobOutcome::Done(format!(
        "summary sent: realised P&L {} AUD",
        pnl.round_dp(2)
    )))
}
