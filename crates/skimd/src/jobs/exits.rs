//! 15:50 `exits`: the day-3 half exit and the SMA trail. Before any sale the broker stop is
//! cancelled and the cancel confirmed, so a position is never both stopped at the broker and
//! sold by skim; `manage` re-places the stop for what is left once the sale has filled.

use anyhow::Context as _;
use chrono::DateTime;
use rust_decimal::Decimal;
use store::{NewOrder, OrderPurpose, OrderType, PositionState, Side};
use strategy::Price;

use super::trade::{QUOTE_FIELDS, quote_of};
use super::{JobOutcome, closed_today, manage};
use crate::broker::{self, Sent};
use crate::context::AppContext;

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let today = ctx.today();
    let fills = broker::sync_fills(ctx).await?;
    manage::notify_fills(ctx, &fills).await;
    let held: Vec<store::Position> = ctx
        .store
        .open_positions()
        .await
        .context("cannot read positions")?
        .into_iter()
        .filter(|p| {
            p.quantity > 0 && matches!(p.state, PositionState::Open | PositionState::HalfExited)
        })
        .collect();
    if held.is_empty() {
        return Ok(JobOutcome::Done("no open positions".into()));
    }
    let conids: Vec<i64> = held.iter().map(|p| p.conid).collect();
    let snaps = ctx
        .ibkr
        .session
        .snapshot(&conids, QUOTE_FIELDS)
        .await
        .context("cannot read market data")?;
    let n = usize::try_from(ctx.strategy.trail_sma_days).unwrap_or(10);
    let mut actions = Vec::new();
    for p in held {
        let Some(last) = quote_of(snaps.iter().find(|s| s.conid == p.conid)).last else {
            actions.push(format!("{}: no price, held", p.ticker));
            continue;
        };
        let (quantity, purpose) = if p.state == PositionState::HalfExited {
            // The trail: the last price stands in for today's close.
            let history = ctx
                .ibkr
                .session
                .history(p.conid, "30d", "1d")
                .await
                .with_context(|| format!("cannot read the daily history of {}", p.ticker))?;
            let mut closes: Vec<Price> = history
                .data
                .iter()
                .filter(|b| {
                    DateTime::from_timestamp_millis(b.t)
                        .map(|t| t.with_timezone(&ctx.tz).date_naive() < today)
                        .unwrap_or(false)
                })
                .filter_map(|b| Price::new(b.close).ok())
                .collect();
            closes.push(last);
            match strategy::sma(&closes, n) {
                Some(sma) if last.value() < sma => (p.quantity, OrderPurpose::TrailExit),
                Some(sma) => {
                    actions.push(format!(
                        "{}: {} ≥ SMA{n} {}, held",
                        p.ticker,
                        last.value(),
                        sma.round_dp(3)
                    ));
                    continue;
                }
                None => {
                    actions.push(format!("{}: fewer than {n} closes, held", p.ticker));
                    continue;
                }
            }
        } else {
            let due = strategy::half_exit_date(p.trading_day, &ctx.calendar, &ctx.strategy);
            if p.half_exit_done || due.is_none_or(|d| today < d) {
                continue;
            }
            let half = p.quantity / 2;
            if half == 0 {
                ctx.store
                    .mark_half_exit(p.id)
                    .await
                    .context("cannot waive the half exit")?;
                actions.push(format!("{}: 1 share, half exit waived", p.ticker));
                continue;
            }
            (half, OrderPurpose::HalfExit)
        };
        // Cancel the broker stop first and wait for IBKR to confirm it.
        let orders = ctx.store.open_orders_for_position(p.id).await?;
        if orders
            .iter()
            .any(|o| o.side == Side::Sell && o.purpose != OrderPurpose::ProtectiveStop)
        {
            actions.push(format!("{}: a sale is already working", p.ticker));
            continue;
        }
        let mut stopped_out = false;
        for s in orders
            .iter()
            .filter(|o| o.purpose == OrderPurpose::ProtectiveStop)
        {
            match broker::cancel_and_confirm(ctx, s).await {
                Ok(status) if status == "Cancelled" => {}
                Ok(_) => stopped_out = true,
                Err(e) => anyhow::bail!(
                    "{}: the stop could not be cancelled, not selling: {e:#}",
                    p.ticker
                ),
            }
        }
        if stopped_out {
            actions.push(format!("{}: the stop filled first", p.ticker));
            continue;
        }
        let new = NewOrder {
            coid: broker::new_coid(purpose),
            trading_day: today,
            ticker: p.ticker.clone(),
            conid: p.conid,
            side: Side::Sell,
            order_type: OrderType::Market,
            quantity,
            limit_price: None,
            stop_price: None,
            purpose,
            position_id: Some(p.id),
        };
        let (_, sent) = broker::place(ctx, &new).await?;
        if purpose == OrderPurpose::HalfExit && !matches!(sent, Sent::Rejected(_)) {
            ctx.store
                .mark_half_exit(p.id)
                .await
                .context("cannot mark the half exit")?;
        }
        let text = format!(
            "{}: {purpose} SELL {quantity} at market (last {})",
            p.ticker,
            last.value()
        );
        ctx.notifier.send(format!("📤 {text}"));
        actions.push(text);
    }
    let fills = broker::sync_fills(ctx).await?;
    manage::notify_fills(ctx, &fills).await;
    manage::protect(ctx).await?;
    let _ = Decimal::ZERO;
    Ok(JobOutcome::Done(if actions.is_empty() {
        "nothing due".into()
    } else {
        actions.join("; ")
    }))
}
