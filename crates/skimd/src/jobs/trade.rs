//! Every 30 s until `entry_cutoff`: buy candidates whose last price breaks above their
//! opening-range high, then protect every filled entry with a stop at the broker.
//!
//! One snapshot call for all conids; the decision is the strategy's; the order row (and its
//! position) is written with a fresh cOID before it is sent. Two concurrent runs place one
//! order: the desk lock serialises write+send, and the store refuses a second entry for the
//! same ticker and day.

use std::collections::HashMap;

use anyhow::Context as _;
use ibkr_oauth::model::{Snapshot, fields};
use rust_decimal::Decimal;
use store::{CandidateStatus, NewOrder, OrderPurpose, PositionState};
use strategy::{BookState, EntryDecision, GapPct, OpeningRange, Price, Quote, SkipReason, Ticker};

use super::{JobOutcome, closed_today, manage};
use crate::broker::{self, Sent};
use crate::context::AppContext;

/// A snapshot's quote; a previous close (`C`) or halted (`H`) last is no last at all.
pub fn quote_of(snap: Option<&Snapshot>) -> Quote {
    let price = |d: Option<Decimal>| d.and_then(|d| Price::new(d).ok());
    let last = snap
        .and_then(|s| s.last.as_ref())
        .filter(|l| !l.is_prior_close && !l.halted)
        .and_then(|l| Price::new(l.price).ok());
    Quote {
        last,
        bid: price(snap.and_then(|s| s.bid)),
        ask: price(snap.and_then(|s| s.ask)),
    }
}

pub const QUOTE_FIELDS: &[&str] = &[
    fields::LAST,
    fields::BID,
    fields::ASK,
    fields::HIGH,
    fields::LOW,
];

/// Who pauses entries when the daily loss limit is reached (`flags.paused_by`).
pub const LOSS_LIMIT: &str = "loss-limit";

/// A loss-limit pause from an earlier trading day is lifted: the limit is per day. A pause by
/// the operator is never lifted here.
async fn lift_stale_loss_limit(
    ctx: &AppContext,
    flags: store::Flags,
) -> anyhow::Result<store::Flags> {
    let paused_on = flags
        .paused_at
        .map(|t| t.with_timezone(&ctx.tz).date_naive());
    if flags.paused
        && flags.paused_by.as_deref() == Some(LOSS_LIMIT)
        && paused_on < Some(ctx.today())
    {
        tracing::info!("a new trading day: the daily loss limit pause is lifted");
        ctx.notifier
            .send("▶️ new trading day: the daily loss limit pause is lifted");
        return ctx
            .store
            .set_paused(false, LOSS_LIMIT, None)
            .await
            .context("cannot lift the loss-limit pause");
    }
    Ok(flags)
}

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let now = ctx.now();
    let today = ctx.today();
    let flags = lift_stale_loss_limit(
        ctx,
        ctx.store
            .flags()
            .await
            .context("cannot read the pause/trading switches")?,
    )
    .await?;
    let watching: Vec<store::Candidate> = ctx
        .store
        .candidates_for_day(today)
        .await
        .context("cannot read candidates")?
        .into_iter()
        .filter(|c| {
            c.status == CandidateStatus::Watching && c.range_high.is_some() && c.range_low.is_some()
        })
        .collect();
    let open = ctx
        .store
        .open_positions()
        .await
        .context("cannot read positions")?;

    let mut placed = Vec::new();
    let mut notes = Vec::new();
    if !watching.is_empty() {
        let mut conids: Vec<i64> = watching.iter().map(|c| c.conid).collect();
        conids.extend(open.iter().map(|p| p.conid));
        let snaps = ctx
            .ibkr
            .session
            .snapshot(&conids, QUOTE_FIELDS)
            .await
            .context("cannot read market data")?;
        let by_conid: HashMap<i64, &Snapshot> = snaps.iter().map(|s| (s.conid, s)).collect();

        // Realised P&L today plus the open P&L of what is held: a loss is a positive number.
        let realised = ctx
            .store
            .realised_pnl_for_day(today)
            .await
            .context("cannot read P&L")?;
        let open_pnl: Decimal = open
            .iter()
            .filter(|p| p.quantity > 0)
            .filter_map(|p| {
                let last = quote_of(by_conid.get(&p.conid).copied()).last?;
                Some(last.value() * Decimal::from(p.quantity) - p.cost_basis)
            })
            .sum();
        let closed_today = ctx
            .store
            .positions_closed_on(today)
            .await
            .context("cannot read positions")?;
        let mut book = BookState {
            open_positions: u32::try_from(
                open.iter()
                    .filter(|p| p.state != PositionState::Closed)
                    .count(),
            )
            .unwrap_or(u32::MAX),
            realised_plus_open_loss: (-(realised + open_pnl)).max(Decimal::ZERO),
            entered_today: false,
            stopped_out_today: false,
            paused: flags.paused || !flags.trading_enabled,
        };
        // The daily loss limit holds for the rest of the day once reached, even if prices
        // recover: it is latched as a pause that the next trading day lifts.
        if !flags.paused && book.realised_plus_open_loss >= ctx.strategy.max_daily_loss {
            let why = format!(
                "daily loss {} AUD reached max_daily_loss {} AUD on {today}: no new entries until the next trading day",
                book.realised_plus_open_loss.round_dp(2),
                ctx.strategy.max_daily_loss
            );
            ctx.store
                .set_paused(true, LOSS_LIMIT, Some(&why))
                .await
                .context("cannot record the loss-limit pause")?;
            tracing::warn!("{why}");
            ctx.notifier.send(format!("🛑 {why}"));
            book.paused = true;
            notes.push("daily loss limit reached".to_string());
        }
        if !flags.trading_enabled {
            notes.push(format!(
                "entries disabled ({})",
                flags
                    .trading_reason
                    .clone()
                    .unwrap_or_else(|| "startup reconciliation has not succeeded".into())
            ));
        } else if flags.paused {
            notes.push("paused".to_string());
        }

        for c in &watching {
            let (Some(high), Some(low)) = (c.range_high, c.range_low) else {
                continue;
            };
            let (Ok(ticker), Ok(gap), Ok(h), Ok(l)) = (
                Ticker::parse(&c.ticker),
                GapPct::new(c.gap_pct),
                Price::new(high),
                Price::new(low),
            ) else {
                tracing::warn!(ticker = %c.ticker, "candidate data out of range; skipped");
                continue;
            };
            let Ok(range) = OpeningRange::new(h, l) else {
                continue;
            };
            let candidate = strategy::Candidate {
                conid: c.conid,
                ticker,
                company_name: None,
                gap,
                last_price: None,
                headlines: c.headline.clone().into_iter().collect(),
            };
            book.entered_today = ctx
                .store
                .entry_order_for(today, &c.ticker)
                .await
                .context("cannot read entry orders")?
                .is_some();
            book.stopped_out_today = closed_today.iter().any(|p| {
                p.ticker == c.ticker
                    && matches!(
                        p.close_reason.as_deref(),
                        Some("protective_stop" | "stop_backstop")
                    )
            });
            let quote = quote_of(by_conid.get(&c.conid).copied());
            let decision = strategy::entry_decision(
                now,
                &ctx.calendar,
                &candidate,
                &range,
                &quote,
                &book,
                &ctx.strategy,
            );
            match decision {
                EntryDecision::Buy { order, stop } => {
                    let limit = order.limit_price().map(|p| p.value());
                    let new = NewOrder {
                        coid: broker::new_coid(OrderPurpose::Entry),
                        trading_day: today,
                        ticker: c.ticker.clone(),
                        conid: c.conid,
                        side: store::Side::Buy,
                        order_type: if limit.is_some() {
                            store::OrderType::Limit
                        } else {
                            store::OrderType::Market
                        },
                        quantity: i64::try_from(order.quantity().get()).unwrap_or(i64::MAX),
                        limit_price: limit,
                        stop_price: None,
                        purpose: OrderPurpose::Entry,
                        position_id: None,
                    };
                    // Written first (with its position, unique per ticker and day), then sent.
                    let desk = ctx.desk.lock().await;
                    let Some(entry) = ctx
                        .store
                        .create_position_for_entry(&new, Some(stop.value()))
                        .await
                        .context("cannot journal the entry")?
                    else {
                        drop(desk);
                        tracing::info!(ticker = %c.ticker, "entry already journalled today; not placing another");
                        continue;
                    };
                    let sent = broker::send(ctx, &entry.order).await;
                    drop(desk);
                    let sent = sent?;
                    if let Err(e) = ctx
                        .store
                        .set_candidate_status(today, &c.ticker, CandidateStatus::Entered, None)
                        .await
                    {
                        tracing::warn!(ticker = %c.ticker, "cannot mark the candidate entered: {e}");
                    }
                    let what = format!(
                        "{} {} × {} @ {} (range {}–{}, last {}, stop {})",
                        c.ticker,
                        new.side,
                        new.quantity,
                        limit
                            .map(|l| l.to_string())
                            .unwrap_or_else(|| "market".into()),
                        low,
                        high,
                        quote
                            .last
                            .map(|p| p.value().to_string())
                            .unwrap_or_default(),
                        stop.value()
                    );
                    match &sent {
                        Sent::Accepted(id) => ctx
                            .notifier
                            .send(format!("🟢 entry placed: {what} (IBKR order {id})")),
                        Sent::Rejected(why) => ctx
                            .notifier
                            .send(format!("⛔ entry rejected: {what}: {why}")),
                        Sent::InFlight(why) => ctx.notifier.send(format!(
                            "⏳ entry answer lost, settling by cOID: {what}: {why}"
                        )),
                    }
                    if !matches!(sent, Sent::Rejected(_)) {
                        book.open_positions = book.open_positions.saturating_add(1);
                        placed.push(c.ticker.clone());
                    }
                }
                EntryDecision::Skip(reason) => {
                    let terminal = matches!(
                        reason,
                        SkipReason::TooExpensive
                            | SkipReason::InvalidStop
                            | SkipReason::BelowMinPrice
                    );
                    if terminal {
                        let why = format!("{reason:?}");
                        let _ = ctx
                            .store
                            .set_candidate_status(
                                today,
                                &c.ticker,
                                CandidateStatus::Skipped,
                                Some(&why),
                            )
                            .await;
                    }
                    tracing::debug!(ticker = %c.ticker, ?reason, "no entry");
                }
            }
        }
    }

    // Entries that filled get their protective stop now (and on every manage). Only a working
    // entry needs it: resting stops and exits are manage's, so holding positions costs no
    // `/iserver/account/trades` call (paced at 1 per 5 s) on every trade tick.
    let entry_working = ctx
        .store
        .open_orders()
        .await
        .context("cannot read orders")?
        .iter()
        .any(|o| o.purpose == OrderPurpose::Entry);
    if !placed.is_empty() || entry_working {
        let fills = broker::sync_fills(ctx).await?;
        manage::notify_fills(ctx, &fills).await;
        manage::protect(ctx).await?;
    }
    let mut detail = if placed.is_empty() {
        format!("{} candidate(s) watched, no entry", watching.len())
    } else {
        format!("entries placed: {}", placed.join(", "))
    };
    if !notes.is_empty() {
        detail.push_str(&format!(" ({})", notes.join("; ")));
    }
    Ok(JobOutcome::Done(detail))
}
