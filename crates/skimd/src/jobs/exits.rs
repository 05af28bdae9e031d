//! 15:50 `exits`: the day-3 half exit and the SMA trail. Before any sale the broker stop is
//! cancelled and the cancel confirmed (a stop IBKR will not cancel means no sale), so a
//! position is never both stopped at the broker and sold by skim; the sale is sized on what is
//! held after that, and `manage::protect` then stops the shares that are held and not being
//! sold, while the sale works and after it fills.

use anyhow::Context as _;
use chrono::DateTime;
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
    // What the broker did since the last look: in-flight rows, statuses, fills.
    broker::reconcile_pending(ctx, false).await?;
    broker::sync_orders(ctx).await?;
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
    let mut failures = Vec::new();
    for p in held {
        let Some(last) = quote_of(snaps.iter().find(|s| s.conid == p.conid)).last else {
            actions.push(format!("{}: no price, held", p.ticker));
            continue;
        };
        let purpose = if p.state == PositionState::HalfExited {
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
                Some(sma) if last.value() < sma => OrderPurpose::TrailExit,
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
            if p.quantity / 2 == 0 {
                ctx.store
                    .mark_half_exit(p.id)
                    .await
                    .context("cannot waive the half exit")?;
                actions.push(format!("{}: 1 share, half exit waived", p.ticker));
                continue;
            }
            OrderPurpose::HalfExit
        };
        let orders = ctx.store.open_orders_for_position(p.id).await?;
        if orders
            .iter()
            .any(|o| o.side == Side::Sell && o.purpose != OrderPurpose::ProtectiveStop)
        {
            actions.push(format!("{}: a sale is already working", p.ticker));
            continue;
        }
        // Cancel the broker stop first and wait for IBKR to confirm it: never sell on top of
        // a stop that may still fire.
        let mut stopped_out = false;
        let mut refused = None;
        for s in orders
            .iter()
            .filter(|o| o.purpose == OrderPurpose::ProtectiveStop)
        {
            match broker::cancel_and_confirm(ctx, s).await {
                Ok(status) if status == "Cancelled" => {}
                Ok(_) => {
                    stopped_out = true;
                    break;
                }
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = refused {
            failures.push(format!(
                "{}: the stop could not be cancelled, not selling: {e:#}",
                p.ticker
            ));
            continue;
        }
        if stopped_out {
            actions.push(format!("{}: the stop filled first", p.ticker));
            continue;
        }
        // The stop may have filled in part before its cancel: record that, then size the sale
        // on what is held now.
        let fills = broker::sync_fills(ctx).await?;
        manage::notify_fills(ctx, &fills).await;
        let Some(now) = ctx
            .store
            .position_by_id(p.id)
            .await
            .context("cannot read the position")?
            .filter(|q| {
                q.quantity > 0 && matches!(q.state, PositionState::Open | PositionState::HalfExited)
            })
        else {
            actions.push(format!("{}: closed by the stop", p.ticker));
            continue;
        };
        let quantity = match purpose {
            OrderPurpose::HalfExit => now.quantity / 2,
            _ => now.quantity,
        };
        if quantity <= 0 {
            continue;
        }
        // The half exit is marked done by its fill (positions move only on fills): a sale
        // that never reaches IBKR, or is cancelled unfilled, is due again on the next run.
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
        let text = format!(
            "{}: {purpose} SELL {quantity} at market (last {})",
            p.ticker,
            last.value()
        );
        match &sent {
            Sent::Rejected(why) => {
                failures.push(format!("{text}: REJECTED by IBKR: {why}"));
                continue;
            }
            Sent::Accepted(_) | Sent::InFlight(_) => {}
        }
        ctx.notifier.send(format!("📤 {text}"));
        actions.push(text);
    }
    // Fills of the sales, then the stop for whatever is held and not being sold.
    let fills = broker::sync_fills(ctx).await?;
    manage::notify_fills(ctx, &fills).await;
    manage::protect(ctx).await?;
    if !failures.is_empty() {
        anyhow::bail!("{}", failures.join("; "));
    }
    Ok(JobOutcome::Done(if actions.is_empty() {
        "nothing due".into()
    } else {
        actions.join("; ")
    }))
}
