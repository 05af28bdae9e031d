//! Every 30 s in hours: reconcile orders, fills and positions with the broker; keep every
//! position protected by exactly one stop at the broker for the shares held (re-placed when
//! missing, cancelled and replaced when the quantity or price changes: cancel first, confirm,
//! then replace); the client-side stop check as a backstop.

use std::collections::HashMap;

use anyhow::Context as _;
use rust_decimal::Decimal;
use store::{NewOrder, OrderPurpose, OrderState, OrderType, PositionState, Side};
use strategy::Price;

use super::trade::{QUOTE_FIELDS, quote_of};
use super::{JobOutcome, closed_today};
use crate::broker::{self, Sent};
use crate::context::AppContext;

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let (adopted, failed) = broker::reconcile_pending(ctx, false).await?;
    broker::sync_orders(ctx).await?;
    let fills = broker::sync_fills(ctx).await?;
    notify_fills(ctx, &fills).await;
    raise_stops(ctx).await?;
    let stops = protect(ctx).await?;
    let backstops = backstop(ctx).await?;
    let diffs = broker::compare_positions(ctx).await?;
    if diffs == 0 {
        enable_entries_if_reconciled(ctx).await?;
    }
    let open = ctx
        .store
        .open_positions()
        .await
        .context("cannot read positions")?;
    Ok(JobOutcome::Done(format!(
        "{} open position(s); {} fill(s), {adopted} adopted, {failed} failed, {stops} stop(s) placed, {backstops} backstop sale(s), {diffs} difference(s)",
        open.iter().filter(|p| p.quantity > 0).count(),
        fills.len()
    )))
}

/// A startup reconciliation that could not complete (IBKR's nightly maintenance, a network
/// fault) or found a difference leaves entries disabled; a later `manage` that settled every
/// order and found the positions agreeing enables them, and says so.
async fn enable_entries_if_reconciled(ctx: &AppContext) -> anyhow::Result<()> {
    let flags = ctx
        .store
        .flags()
        .await
        .context("cannot read the switches")?;
    if flags.trading_enabled {
        return Ok(());
    }
    ctx.store
        .set_trading_enabled(true, "reconciliation succeeded")
        .await
        .context("cannot enable trading")?;
    let was = flags.trading_reason.unwrap_or_default();
    tracing::info!(was = %was, "reconciliation succeeded: entries enabled");
    ctx.notifier.send(format!(
        "✅ entries enabled: orders, fills and positions agree with IBKR (were disabled: {was})"
    ));
    Ok(())
}

/// One notification per new fill, with prices and, when a position closes, its P&L.
pub async fn notify_fills(ctx: &AppContext, fills: &[store::RecordedFill]) {
    for r in fills {
        let o = &r.order;
        let f = &r.fill;
        let text = match (o.purpose, &r.position) {
            (OrderPurpose::Entry, Some(p)) => format!(
                "✅ bought {} {} @ {} (now {} held, stop {})",
                o.ticker,
                f.quantity,
                f.price.normalize(),
                p.quantity,
                p.stop_price
                    .map(|s| s.normalize().to_string())
                    .unwrap_or_else(|| "-".into())
            ),
            (purpose, Some(p)) if p.state == PositionState::Closed => format!(
                "{} {} closed by {}: sold {} @ {}, P&L {} AUD",
                if p.realised_pnl < Decimal::ZERO {
                    "🔴"
                } else {
                    "💰"
                },
                o.ticker,
                purpose,
                f.quantity,
                f.price.normalize(),
                p.realised_pnl.round_dp(2)
            ),
            (purpose, Some(p)) => format!(
                "↘️ {} {}: sold {} @ {} ({} left)",
                o.ticker,
                purpose,
                f.quantity,
                f.price.normalize(),
                p.quantity
            ),
            (purpose, None) => format!(
                "fill {} {} {} @ {}",
                o.ticker,
                purpose,
                f.quantity,
                f.price.normalize()
            ),
        };
        ctx.notifier.send(text);
    }
}

/// With `trail_stop_to_low_of_day`, raises each stop to the day's low (never lowers it).
async fn raise_stops(ctx: &AppContext) -> anyhow::Result<()> {
    if !ctx.strategy.trail_stop_to_low_of_day {
        return Ok(());
    }
    let open: Vec<store::Position> = ctx
        .store
        .open_positions()
        .await?
        .into_iter()
        .filter(|p| p.quantity > 0 && p.stop_price.is_some())
        .collect();
    if open.is_empty() {
        return Ok(());
    }
    let conids: Vec<i64> = open.iter().map(|p| p.conid).collect();
    let snaps = ctx.ibkr.session.snapshot(&conids, QUOTE_FIELDS).await?;
    for p in &open {
        let low = snaps
            .iter()
            .find(|s| s.conid == p.conid)
            .and_then(|s| s.low);
        let (Some(low), Some(stop)) = (
            low.and_then(|l| Price::new(l).ok()),
            p.stop_price.and_then(|s| Price::new(s).ok()),
        ) else {
            continue;
        };
        let raised = strategy::raise_stop(stop, low, &ctx.strategy);
        if raised > stop {
            ctx.store.raise_stop(p.id, raised.value()).await?;
            ctx.notifier.send(format!(
                "⤴️ {} stop raised {} → {}",
                p.ticker,
                stop.value(),
                raised.value()
            ));
        }
    }
    Ok(())
}

/// Keeps one broker stop per held position, at the position's stop, for the shares held that
/// no working sale of skim's will sell: the STP and the sales together never exceed what is
/// held, so a position is never both stopped at the broker and sold by skim, and the unsold
/// shares stay protected while a sale works (or fills in parts). A stop with the wrong
/// quantity or price, or one too many, is cancelled, the cancel confirmed and what it filled
/// recorded, before a new one is sized and placed. No stop is placed over a price already
/// through it (the backstop sells then). Returns how many stops were placed.
pub async fn protect(ctx: &AppContext) -> anyhow::Result<u32> {
    if !ctx.strategy.broker_stop {
        return Ok(0);
    }
    let mut placed = 0;
    for p in ctx
        .store
        .open_positions()
        .await
        .context("cannot read positions")?
    {
        if p.quantity > 0
            && matches!(p.state, PositionState::Open | PositionState::HalfExited)
            && protect_one(ctx, p.id).await?
        {
            placed += 1;
        }
    }
    Ok(placed)
}

/// What a position's broker stop should be now.
struct Cover {
    position: store::Position,
    stop: Price,
    /// Shares held minus what working sales (not stops) will still sell.
    shares: i64,
    /// The position's stops that may still trade.
    stops: Vec<store::Order>,
}

async fn cover_of(ctx: &AppContext, position_id: i64) -> anyhow::Result<Option<Cover>> {
    let Some(p) = ctx
        .store
        .position_by_id(position_id)
        .await
        .context("cannot read the position")?
    else {
        return Ok(None);
    };
    if p.quantity <= 0 || !matches!(p.state, PositionState::Open | PositionState::HalfExited) {
        return Ok(None);
    }
    let Some(stop) = p
        .stop_price
        .and_then(|s| Price::new(s).ok())
        .and_then(|s| s.round_down_to_step())
    else {
        return Ok(None);
    };
    let orders = ctx
        .store
        .open_orders_for_position(p.id)
        .await
        .context("cannot read orders")?;
    if orders
        .iter()
        .any(|o| o.purpose == OrderPurpose::Entry && o.state == OrderState::Pending)
    {
        return Ok(None); // the entry is still being settled
    }
    let selling: i64 = orders
        .iter()
        .filter(|o| o.side == Side::Sell && o.purpose != OrderPurpose::ProtectiveStop)
        .map(|o| o.remaining_quantity().max(0))
        .sum();
    Ok(Some(Cover {
        shares: p.quantity - selling,
        stop,
        stops: orders
            .into_iter()
            .filter(|o| o.purpose == OrderPurpose::ProtectiveStop)
            .collect(),
        position: p,
    }))
}

/// Brings one position's broker stop in line with [`cover_of`]; true when a stop was placed.
async fn protect_one(ctx: &AppContext, position_id: i64) -> anyhow::Result<bool> {
    for _round in 0..3 {
        let Some(c) = cover_of(ctx, position_id).await? else {
            return Ok(false);
        };
        if c.stops.iter().any(|s| s.state == OrderState::Pending) {
            return Ok(false); // in flight: reconciliation settles it
        }
        let keep = (c.shares > 0)
            .then(|| {
                c.stops.iter().position(|s| {
                    s.remaining_quantity() == c.shares && s.stop_price == Some(c.stop.value())
                })
            })
            .flatten();
        let wrong: Vec<&store::Order> = c
            .stops
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != keep)
            .map(|(_, s)| s)
            .collect();
        if wrong.is_empty() {
            if keep.is_some() || c.shares <= 0 {
                return Ok(false);
            }
            return place_stop(ctx, &c).await;
        }
        // Cancel first, confirm, and only then size the replacement.
        for s in wrong {
            match broker::cancel_and_confirm(ctx, s).await {
                Ok(status) if status == "Cancelled" => {}
                Ok(_) => return Ok(false), // it filled: the fills settle the position first
                Err(e) => {
                    tracing::warn!(ticker = %c.position.ticker, "stop not replaced this round: {e:#}");
                    return Ok(false);
                }
            }
        }
        // A stop may have filled in part before its cancel: record that before re-sizing.
        let fills = broker::sync_fills(ctx).await?;
        notify_fills(ctx, &fills).await;
    }
    Ok(false)
}

async fn place_stop(ctx: &AppContext, c: &Cover) -> anyhow::Result<bool> {
    let p = &c.position;
    // A stop below the market it is placed in is a market sale by another name: leave a price
    // already through the stop to the backstop, which sells it as such.
    if let Ok(snaps) = ctx.ibkr.session.snapshot(&[p.conid], QUOTE_FIELDS).await
        && let Some(last) = quote_of(snaps.first()).last
        && last.value() <= c.stop.value()
    {
        tracing::warn!(ticker = %p.ticker, last = %last.value(), stop = %c.stop.value(),
            "no broker stop placed: the price is already through it");
        return Ok(false);
    }
    let new = NewOrder {
        coid: broker::new_coid(OrderPurpose::ProtectiveStop),
        trading_day: ctx.today(),
        ticker: p.ticker.clone(),
        conid: p.conid,
        side: Side::Sell,
        order_type: OrderType::Stop,
        quantity: c.shares,
        limit_price: None,
        stop_price: Some(c.stop.value()),
        purpose: OrderPurpose::ProtectiveStop,
        position_id: Some(p.id),
    };
    let (order, sent) = broker::place(ctx, &new).await?;
    let id = match &sent {
        Sent::Accepted(id) => Some(id.as_str()),
        _ => None,
    };
    ctx.store
        .set_stop_order(p.id, &order.coid, id)
        .await
        .context("cannot record the stop order on the position")?;
    match sent {
        Sent::Accepted(_) => {
            ctx.notifier.send(format!(
                "🛡️ {} stop at the broker: SELL {} STP {}",
                p.ticker,
                c.shares,
                c.stop.value()
            ));
            Ok(true)
        }
        Sent::Rejected(why) => {
            ctx.notifier.send(format!(
                "⚠️ {} stop REJECTED by IBKR: {why}; the client-side backstop watches it",
                p.ticker
            ));
            Ok(false)
        }
        Sent::InFlight(_) => Ok(false),
    }
}

/// The client-side stop: sell at the market when last ≤ stop and no stop is working at the
/// broker (and no sale already is).
async fn backstop(ctx: &AppContext) -> anyhow::Result<u32> {
    let held: Vec<store::Position> = ctx
        .store
        .open_positions()
        .await?
        .into_iter()
        .filter(|p| p.quantity > 0 && p.stop_price.is_some())
        .collect();
    if held.is_empty() {
        return Ok(0);
    }
    let conids: Vec<i64> = held.iter().map(|p| p.conid).collect();
    let snaps = ctx.ibkr.session.snapshot(&conids, QUOTE_FIELDS).await?;
    let by_conid: HashMap<i64, &ibkr_oauth::model::Snapshot> =
        snaps.iter().map(|s| (s.conid, s)).collect();
    let mut sold = 0;
    for p in held {
        let Some(last) = quote_of(by_conid.get(&p.conid).copied()).last else {
            continue;
        };
        let Some(stop) = p.stop_price else { continue };
        if last.value() > stop {
            continue;
        }
        let orders = ctx.store.open_orders_for_position(p.id).await?;
        let stop_working = orders.iter().any(|o| {
            o.purpose == OrderPurpose::ProtectiveStop
                && matches!(
                    o.state,
                    OrderState::Submitted | OrderState::PartiallyFilled | OrderState::Pending
                )
        });
        let selling = orders
            .iter()
            .any(|o| o.side == Side::Sell && o.purpose != OrderPurpose::ProtectiveStop);
        if stop_working || selling {
            continue;
        }
        let new = NewOrder {
            coid: broker::new_coid(OrderPurpose::StopBackstop),
            trading_day: ctx.today(),
            ticker: p.ticker.clone(),
            conid: p.conid,
            side: Side::Sell,
            order_type: OrderType::Market,
            quantity: p.quantity,
            limit_price: None,
            stop_price: None,
            purpose: OrderPurpose::StopBackstop,
            position_id: Some(p.id),
        };
        let (_, sent) = broker::place(ctx, &new).await?;
        ctx.notifier.send(format!(
            "🧯 {} backstop: last {} ≤ stop {} and no stop at the broker: SELL {} at market ({sent:?})",
            p.ticker,
            last.value(),
            stop,
            p.quantity
        ));
        sold += 1;
    }
    Ok(sold)
}
