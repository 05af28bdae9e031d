//! The order desk: nothing is sent that is not written down first, and every answer (or the
//! lack of one) is settled against the broker by client order id.
//!
//! - [`place`]: journal a row (pending) and send it, under the desk lock.
//! - [`reconcile_pending`]: pending rows adopted by cOID (live orders, trades) or marked failed.
//! - [`sync_orders`]: broker statuses of our working orders (cancelled, rejected).
//! - [`sync_fills`]: executions → `store.record_fill` (idempotent by execution id).
//! - [`cancel_and_confirm`]: cancel, then wait until the broker says it is cancelled.
//! - [`compare_positions`]: broker positions vs the store; a difference is reported, never
//!   overwritten.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use ibkr_oauth::model::{LiveOrder, LiveOrders};
use ibkr_oauth::{OrderTicket, Tif};
use rust_decimal::Decimal;
use store::{NewFill, NewOrder, Order, OrderPurpose, OrderState, OrderType, Side};

use crate::context::AppContext;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh client order id: `sk` + purpose letter + real-time microseconds + a counter. Real
/// time (not the trading clock) so ids stay unique across restarts and replays.
pub fn new_coid(purpose: OrderPurpose) -> String {
    let letter = match purpose {
        OrderPurpose::Entry => 'E',
        OrderPurpose::ProtectiveStop => 'S',
        OrderPurpose::HalfExit => 'H',
        OrderPurpose::TrailExit => 'T',
        OrderPurpose::StopBackstop => 'B',
        OrderPurpose::Manual => 'M',
    };
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("sk{letter}{micros:x}{n:x}")
}

/// The wire ticket of a journalled order. Protective stops are GTC (they must outlive the day
/// and protect the position while skimd is down); everything else is DAY.
pub fn ticket(order: &Order) -> anyhow::Result<OrderTicket> {
    let quantity = u64::try_from(order.quantity).context("order quantity is negative")?;
    let (order_type, price) = match order.order_type {
        OrderType::Market => (ibkr_oauth::OrderType::Market, None),
        OrderType::Limit => (ibkr_oauth::OrderType::Limit, order.limit_price),
        OrderType::Stop => (ibkr_oauth::OrderType::Stop, order.stop_price),
    };
    Ok(OrderTicket {
        conid: order.conid,
        order_type,
        side: match order.side {
            Side::Buy => ibkr_oauth::Side::Buy,
            Side::Sell => ibkr_oauth::Side::Sell,
        },
        quantity,
        tif: if order.purpose == OrderPurpose::ProtectiveStop {
            Tif::Gtc
        } else {
            Tif::Day
        },
        price,
        aux_price: None,
        coid: order.coid.clone(),
        outside_rth: false,
    })
}

/// What became of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// IBKR accepted it with this order id.
    Accepted(String),
    /// IBKR refused it: nothing reached the book.
    Rejected(String),
    /// The answer was lost: it stays pending until reconciliation settles it by cOID.
    InFlight(String),
}

/// Sends an order already journalled as pending. Call with the desk lock held.
pub async fn send(ctx: &AppContext, order: &Order) -> anyhow::Result<Sent> {
    let ticket = ticket(order)?;
    match ctx
        .ibkr
        .session
        .place_order(&ctx.ibkr.account, &ticket)
        .await
    {
        Ok(out) => {
            let status = out
                .order_status
                .clone()
                .unwrap_or_else(|| "Submitted".into());
            ctx.store
                .set_order_submitted(&order.coid, &out.order_id, &status)
                .await
                .with_context(|| format!("cannot record IBKR's answer for order {}", order.coid))?;
            tracing::info!(coid = %order.coid, ibkr_order_id = %out.order_id, ticker = %order.ticker,
                side = %order.side, qty = order.quantity, kind = %order.order_type, "order accepted");
            Ok(Sent::Accepted(out.order_id))
        }
        Err(e) if e.is_rejected() => {
            let reason = e.to_string();
            ctx.store
                .transition_order(&order.coid, OrderState::Rejected, Some(&reason))
                .await
                .with_context(|| format!("cannot record the rejection of {}", order.coid))?;
            tracing::warn!(coid = %order.coid, ticker = %order.ticker, "order rejected: {reason}");
            Ok(Sent::Rejected(reason))
        }
        Err(e) => {
            // Ambiguous, or failed before/while sending: never resent blindly. Reconciliation
            // adopts it by cOID if IBKR has it, or marks it failed if not.
            let reason = e.to_string();
            tracing::warn!(coid = %order.coid, ticker = %order.ticker,
                "order outcome unknown, left in flight for reconciliation: {reason}");
            Ok(Sent::InFlight(reason))
        }
    }
}

/// Journals `new` as pending, then sends it, under the desk lock.
pub async fn place(ctx: &AppContext, new: &NewOrder) -> anyhow::Result<(Order, Sent)> {
    let _desk = ctx.desk.lock().await;
    let order = ctx.store.insert_order(new).await.with_context(|| {
        format!(
            "cannot journal the {} order for {}",
            new.purpose, new.ticker
        )
    })?;
    let sent = send(ctx, &order).await?;
    Ok((order, sent))
}

/// The broker's view of orders (working and finished this session), by cOID and by order id.
pub struct BrokerOrders {
    by_coid: HashMap<String, LiveOrder>,
    by_id: HashMap<String, LiveOrder>,
}

impl BrokerOrders {
    pub fn from_live(live: LiveOrders) -> Self {
        let mut by_coid = HashMap::new();
        let mut by_id = HashMap::new();
        for o in live.orders {
            if let Some(r) = o.order_ref.clone() {
                by_coid.insert(r, o.clone());
            }
            by_id.insert(o.order_id.clone(), o);
        }
        Self { by_coid, by_id }
    }

    pub fn find(&self, order: &Order) -> Option<&LiveOrder> {
        self.by_coid.get(&order.coid).or_else(|| {
            order
                .ibkr_order_id
                .as_ref()
                .and_then(|id| self.by_id.get(id))
        })
    }
}

/// Settles pending rows by cOID: adopted when IBKR knows the order (live orders or trades),
/// marked failed when it does not. With `force` false, rows younger than 30 s are left for the
/// next pass (IBKR's lists can lag a fresh order). Returns (adopted, failed).
pub async fn reconcile_pending(ctx: &AppContext, force: bool) -> anyhow::Result<(u32, u32)> {
    let _desk = ctx.desk.lock().await;
    let pending = ctx
        .store
        .orders_in_state(OrderState::Pending)
        .await
        .context("cannot read pending orders")?;
    if pending.is_empty() {
        return Ok((0, 0));
    }
    let live = BrokerOrders::from_live(
        ctx.ibkr
            .session
            .live_orders()
            .await
            .context("cannot list IBKR's orders to settle pending ones")?,
    );
    let trades = ctx
        .ibkr
        .session
        .trades(2)
        .await
        .context("cannot list IBKR's trades to settle pending orders")?;
    let now = ctx.now();
    let (mut adopted, mut failed) = (0, 0);
    for order in pending {
        let known = live
            .find(&order)
            .map(|o| {
                (
                    o.order_id.clone(),
                    o.status.clone().unwrap_or_else(|| "Submitted".into()),
                )
            })
            .or_else(|| {
                trades
                    .iter()
                    .find(|t| t.order_ref.as_deref() == Some(order.coid.as_str()))
                    .map(|t| (t.order_id.clone().unwrap_or_default(), "Filled".to_string()))
            });
        match known {
            Some((order_id, status)) => {
                let id = if order_id.is_empty() {
                    "unknown"
                } else {
                    order_id.as_str()
                };
                ctx.store
                    .set_order_submitted(&order.coid, id, &status)
                    .await
                    .with_context(|| format!("cannot adopt order {}", order.coid))?;
                tracing::info!(coid = %order.coid, ibkr_order_id = id, "pending order adopted: IBKR has it");
                adopted += 1;
            }
            None if force || now - order.created_at >= TimeDelta::seconds(30) => {
                ctx.store
                    .transition_order(
                        &order.coid,
                        OrderState::Failed,
                        Some("unknown to IBKR at reconciliation"),
                    )
                    .await
                    .with_context(|| format!("cannot mark order {} failed", order.coid))?;
                tracing::warn!(coid = %order.coid, ticker = %order.ticker, "pending order unknown to IBKR: marked failed");
                failed += 1;
                if order.purpose == OrderPurpose::Entry
                    && let Some(pid) = order.position_id
                {
                    abandon_if_empty(ctx, pid, "entry order never reached IBKR").await;
                }
            }
            None => {}
        }
    }
    Ok((adopted, failed))
}

/// Closes a pending-entry position whose entry never traded (best effort, logged).
pub async fn abandon_if_empty(ctx: &AppContext, position_id: i64, reason: &str) {
    if let Ok(Some(p)) = ctx.store.position_by_id(position_id).await
        && p.state == store::PositionState::PendingEntry
        && p.quantity == 0
        && let Err(e) = ctx.store.abandon_position(position_id, reason).await
    {
        tracing::debug!(position_id, "position not abandoned yet: {e}");
    }
}

/// Applies IBKR's statuses to our working orders (cancelled / rejected / status text).
/// Fills come only from [`sync_fills`].
pub async fn sync_orders(ctx: &AppContext) -> anyhow::Result<()> {
    let open: Vec<Order> = ctx
        .store
        .open_orders()
        .await
        .context("cannot read open orders")?
        .into_iter()
        .filter(|o| o.state != OrderState::Pending)
        .collect();
    if open.is_empty() {
        return Ok(());
    }
    let live = BrokerOrders::from_live(
        ctx.ibkr
            .session
            .live_orders()
            .await
            .context("cannot list IBKR's orders")?,
    );
    for order in open {
        let Some(lo) = live.find(&order) else {
            continue;
        };
        let status = lo.status.clone().unwrap_or_default();
        let result = match status.as_str() {
            "Cancelled" => ctx
                .store
                .transition_order(
                    &order.coid,
                    OrderState::Cancelled,
                    Some("cancelled at IBKR"),
                )
                .await
                .map(drop),
            "Inactive" | "Rejected" if order.state == OrderState::Submitted => ctx
                .store
                .transition_order(&order.coid, OrderState::Rejected, Some("inactive at IBKR"))
                .await
                .map(drop),
            "" => Ok(()),
            other if order.broker_status.as_deref() != Some(other) => ctx
                .store
                .set_broker_status(&order.coid, other, Some(&lo.order_id))
                .await
                .map(drop),
            _ => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(coid = %order.coid, "cannot apply IBKR status {status}: {e}");
        }
        if status == "Cancelled"
            && order.purpose == OrderPurpose::Entry
            && let Some(pid) = order.position_id
        {
            abandon_if_empty(ctx, pid, "entry order cancelled").await;
        }
    }
    Ok(())
}

/// Records every execution of our orders (by `order_ref` = cOID). Idempotent by execution id.
/// Returns the newly recorded fills.
pub async fn sync_fills(ctx: &AppContext) -> anyhow::Result<Vec<store::RecordedFill>> {
    let trades = ctx
        .ibkr
        .session
        .trades(2)
        .await
        .context("cannot list IBKR's trades")?;
    let mut recorded = Vec::new();
    for t in trades {
        let Some(coid) = t.order_ref.clone() else {
            continue;
        };
        let Ok(Some(order)) = ctx.store.get_order_by_coid(&coid).await else {
            continue;
        };
        let filled_at = execution_time(ctx, t.trade_time_r);
        let Some(qty) = decimal_to_i64(t.size) else {
            tracing::warn!(exec_id = %t.execution_id, "execution size {} is not whole shares", t.size);
            continue;
        };
        let fill = NewFill {
            exec_id: t.execution_id.clone(),
            coid: coid.clone(),
            quantity: qty,
            price: t.price,
            commission: t.commission.unwrap_or(Decimal::ZERO).abs(),
            filled_at,
            trading_day: filled_at.with_timezone(&ctx.tz).date_naive(),
        };
        match ctx.store.record_fill(&fill).await {
            Ok(r) if r.duplicate => {}
            Ok(r) => {
                if r.late {
                    tracing::warn!(coid = %coid, exec_id = %fill.exec_id, "fill for an order already closed");
                }
                tracing::info!(coid = %coid, ticker = %order.ticker, side = %order.side, qty, price = %fill.price, purpose = %order.purpose, "fill recorded");
                recorded.push(r);
            }
            Err(e) => {
                tracing::warn!(coid = %coid, exec_id = %fill.exec_id, "fill not recorded: {e}")
            }
        }
    }
    Ok(recorded)
}

/// An execution's time in the trading clock's frame: a recent execution (within 12 h of real
/// time) is placed at the same distance before the clock's now, so replays and the demo book
/// fills to their own trading day; with the system clock this is the execution time itself.
fn execution_time(ctx: &AppContext, ms: Option<i64>) -> DateTime<Utc> {
    let now = ctx.now();
    let Some(at) = ms.and_then(DateTime::<Utc>::from_timestamp_millis) else {
        return now;
    };
    let ago = Utc::now() - at;
    if ago >= TimeDelta::zero() && ago < TimeDelta::hours(12) {
        now - ago
    } else {
        at
    }
}

fn decimal_to_i64(d: Decimal) -> Option<i64> {
    if d.fract().is_zero() {
        i64::try_from(d.abs().mantissa() / 10i128.pow(d.scale())).ok()
    } else {
        None
    }
}

/// Cancels the order at IBKR and waits (bounded) until IBKR reports it cancelled or filled.
/// Returns the final status text. A position must never be both stopped at the broker and sold
/// by skim: callers sell only after this says `Cancelled`.
pub async fn cancel_and_confirm(ctx: &AppContext, order: &Order) -> anyhow::Result<String> {
    let Some(order_id) = order.ibkr_order_id.clone() else {
        anyhow::bail!("order {} has no IBKR id yet", order.coid);
    };
    // A cancel IBKR refused outright (not a timeout or a 5xx, which may still have reached it)
    // is not waited out: the status is read once, and anything but cancelled or filled is an
    // error the caller must not sell over.
    let refused = match ctx
        .ibkr
        .session
        .cancel_order(&ctx.ibkr.account, &order_id)
        .await
    {
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(coid = %order.coid, "cancel request: {e}");
            (!e.is_transient() && !e.is_ambiguous()).then(|| e.to_string())
        }
    };
    let attempts: u32 = if refused.is_some() { 1 } else { 10 };
    for attempt in 0..attempts {
        let status = ctx
            .ibkr
            .session
            .order_status(&order_id)
            .await
            .context("cannot read the order status after cancelling")?;
        let text = status.order_status.unwrap_or_default();
        match text.as_str() {
            "Cancelled" => {
                let _ = ctx
                    .store
                    .transition_order(
                        &order.coid,
                        OrderState::Cancelled,
                        Some("cancelled by skim"),
                    )
                    .await;
                return Ok(text);
            }
            "Filled" => return Ok(text),
            _ if attempt + 1 < attempts => {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt + 1))).await
            }
            _ => {}
        }
    }
    match refused {
        Some(why) => anyhow::bail!("IBKR refused to cancel order {}: {why}", order.coid),
        None => anyhow::bail!(
            "IBKR did not confirm the cancel of order {} in time",
            order.coid
        ),
    }
}

/// Broker positions vs the store's open positions (by conid). Each difference is reported
/// once and never overwritten. Returns the number of differences.
pub async fn compare_positions(ctx: &AppContext) -> anyhow::Result<usize> {
    let broker = ctx
        .ibkr
        .session
        .positions(&ctx.ibkr.account, 0)
        .await
        .context("cannot read IBKR's positions")?;
    let mine = ctx
        .store
        .open_positions()
        .await
        .context("cannot read positions")?;
    let mut held: HashMap<i64, Decimal> = HashMap::new();
    for p in &mine {
        *held.entry(p.conid).or_default() += Decimal::from(p.quantity);
    }
    let mut theirs: HashMap<i64, (Decimal, String)> = HashMap::new();
    for p in broker {
        if !p.position.is_zero() {
            theirs.insert(
                p.conid,
                (
                    p.position,
                    p.ticker
                        .or(p.contract_desc)
                        .unwrap_or_else(|| p.conid.to_string()),
                ),
            );
        }
    }
    let mut differences = 0;
    for (conid, (qty, name)) in &theirs {
        let ours = held.get(conid).copied().unwrap_or_default();
        if ours != *qty {
            differences += 1;
            ctx.report_once(
                &format!("pos:{conid}:{qty}:{ours}"),
                &format!("position mismatch {name}: IBKR holds {qty}, skim's journal {ours} (not changed; check by hand)"),
            );
        }
    }
    for (conid, ours) in &held {
        if !ours.is_zero() && !theirs.contains_key(conid) {
            differences += 1;
            ctx.report_once(
                &format!("pos:{conid}:0:{ours}"),
                &format!("position mismatch conid {conid}: IBKR holds nothing, skim's journal {ours} (not changed; check by hand)"),
            );
        }
    }
    Ok(differences)
}

/// Startup reconciliation: pending rows settled, fills caught up, positions compared. Trading
/// is enabled only when all of it succeeded and agreed.
pub async fn startup_reconcile(ctx: &AppContext) -> anyhow::Result<()> {
    let result: anyhow::Result<(u32, u32, usize)> = async {
        let (adopted, failed) = reconcile_pending(ctx, true).await?;
        sync_orders(ctx).await?;
        sync_fills(ctx).await?;
        let diffs = compare_positions(ctx).await?;
        Ok((adopted, failed, diffs))
    }
    .await;
    match result {
        Ok((adopted, failed, 0)) => {
            ctx.store
                .set_trading_enabled(true, "startup reconciliation succeeded")
                .await
                .context("cannot enable trading")?;
            tracing::info!(
                adopted,
                failed,
                "startup reconciliation done: trading enabled"
            );
            Ok(())
        }
        Ok((_, _, diffs)) => {
            let why = format!("{diffs} position difference(s) between IBKR and the journal");
            let _ = ctx.store.set_trading_enabled(false, &why).await;
            ctx.notifier.send(format!(
                "⚠️ entries disabled: {why}; stops are still managed"
            ));
            anyhow::bail!("startup reconciliation: {why}")
        }
        Err(e) => {
            let why = format!("startup reconciliation failed: {e:#}");
            let _ = ctx.store.set_trading_enabled(false, &why).await;
            ctx.notifier.send(format!(
                "⚠️ entries disabled: {why}; stops are still managed"
            ));
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coids_are_unique_and_plain() {
        let a = new_coid(OrderPurpose::Entry);
        let b = new_coid(OrderPurpose::Entry);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(a.len() <= 32);
    }

    #[test]
    fn whole_shares_only() {
        assert_eq!(decimal_to_i64(Decimal::new(1000, 0)), Some(1000));
        assert_eq!(decimal_to_i64(Decimal::new(10000, 1)), Some(1000));
        assert_eq!(decimal_to_i64(Decimal::new(15, 1)), None);
    }
}
