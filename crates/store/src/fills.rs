//! Fills: the only way shares enter or leave a position.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{SqliteConnection, query};

use crate::Store;
use crate::codec::{self, RowExt};
use crate::error::{Result, StoreError, map_unique};
use crate::orders::{Order, apply_transition, order_from_row, require_order_on};
use crate::positions::{FillFacts, Position, apply_fill, position_on, write_fill_fields};
use crate::types::OrderState;

/// An execution reported by IBKR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFill {
    /// IBKR's execution id: the same execution seen twice is stored once.
    pub exec_id: String,
    /// Our client order id of the order that filled (IBKR's `order_ref`).
    pub coid: String,
    /// Whole shares, > 0.
    pub quantity: i64,
    /// Execution price, > 0.
    pub price: Decimal,
    /// Commission paid for this execution, ≥ 0.
    pub commission: Decimal,
    /// When it executed.
    pub filled_at: DateTime<Utc>,
    /// The ASX trading day it executed on (the daily P&L is booked to it).
    pub trading_day: NaiveDate,
}

/// A stored fill.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fill {
    pub id: i64,
    pub exec_id: String,
    /// Row id of the order.
    pub order_id: i64,
    pub quantity: i64,
    pub price: Decimal,
    pub commission: Decimal,
    /// This fill's realised P&L, net of its commission (a buy: minus its commission; a fill of
    /// an order without a position: minus its commission).
    pub realised_pnl: Decimal,
    pub filled_at: DateTime<Utc>,
    pub trading_day: NaiveDate,
    /// When the store wrote it.
    pub recorded_at: DateTime<Utc>,
}

/// What [`Store::record_fill`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RecordedFill {
    /// The execution id was already stored: nothing was written, `fill` is the stored one.
    pub duplicate: bool,
    /// The order was already terminal (e.g. a cancel that raced this fill): the fill was
    /// recorded and the quantities updated, but the order's state was left as it was.
    /// Worth a warning.
    pub late: bool,
    pub fill: Fill,
    /// The order after the fill.
    pub order: Order,
    /// The position after the fill (none for an order without a position).
    pub position: Option<Position>,
}

fn fill_from_row(r: &SqliteRow) -> Result<Fill> {
    Ok(Fill {
        id: r.int("id")?,
        exec_id: r.text("exec_id")?,
        order_id: r.int("order_id")?,
        quantity: r.int("quantity")?,
        price: r.dec("price")?,
        commission: r.dec("commission")?,
        realised_pnl: r.dec("realised_pnl")?,
        filled_at: r.ts("filled_at")?,
        trading_day: r.day("trading_day")?,
        recorded_at: r.ts("recorded_at")?,
    })
}

async fn fill_by_exec_on(conn: &mut SqliteConnection, exec_id: &str) -> Result<Option<Fill>> {
    query("SELECT * FROM fills WHERE exec_id = ?")
        .bind(exec_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(fill_from_row)
        .transpose()
}

async fn order_by_id_on(conn: &mut SqliteConnection, id: i64) -> Result<Order> {
    let row = query("SELECT * FROM orders WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "order",
            key: format!("#{id}"),
        })?;
    order_from_row(&row)
}

impl Store {
    /// Records an execution in ONE write transaction:
    ///
    /// 1. a fill whose execution id is already stored changes nothing and comes back with
    ///    `duplicate: true`;
    /// 2. the fill row is inserted with its realised P&L;
    /// 3. the order's filled quantity and average fill price are updated and its state moves
    ///    to `partially_filled` or `filled` through [`crate::transition`] (left alone if the
    ///    order was already terminal: `late: true`);
    /// 4. the order's position, if any, is updated: a BUY opens it or adds to it (weighted
    ///    average entry); a SELL reduces it, books (price − average cost) × quantity, and
    ///    closes it at zero shares with its exit price and time. Commissions of both sides are
    ///    subtracted from the realised P&L. All of it in exact decimals.
    ///
    /// A fill that would overfill the order, oversell the position or buy into a closed one is
    /// refused ([`StoreError::FillRefused`]) and nothing is written.
    pub async fn record_fill(&self, fill: &NewFill) -> Result<RecordedFill> {
        let refuse = |reason: String| StoreError::FillRefused {
            exec_id: fill.exec_id.clone(),
            reason,
        };
        if fill.exec_id.trim().is_empty() {
            return Err(refuse("empty execution id".into()));
        }
        if fill.quantity <= 0 {
            return Err(refuse(format!(
                "quantity {} is not positive",
                fill.quantity
            )));
        }
        if fill.price <= Decimal::ZERO {
            return Err(refuse(format!("price {} is not positive", fill.price)));
        }
        if fill.commission < Decimal::ZERO {
            return Err(refuse(format!(
                "commission {} is negative",
                fill.commission
            )));
        }
        let now = self.now();
        let mut tx = self.begin_write().await?;

        if let Some(existing) = fill_by_exec_on(&mut tx, &fill.exec_id).await? {
            let order = order_by_id_on(&mut tx, existing.order_id).await?;
            let position = match order.position_id {
                Some(id) => position_on(&mut tx, id).await?,
                None => None,
            };
            tx.rollback().await?;
            return Ok(RecordedFill {
                duplicate: true,
                late: false,
                fill: existing,
                order,
                position,
            });
        }

        let order = require_order_on(&mut tx, &fill.coid).await?;
        let filled = order.filled_quantity + fill.quantity;
        if filled > order.quantity {
            return Err(refuse(format!(
                "order {} is for {} shares and has {} filled; {} more would overfill it",
                order.coid, order.quantity, order.filled_quantity, fill.quantity
            )));
        }

        // Average fill price from the exact fill values, not from the rounded stored average.
        let overflow = || refuse("decimal overflow computing the average fill price".into());
        let mut value = fill
            .price
            .checked_mul(Decimal::from(fill.quantity))
            .ok_or_else(overflow)?;
        for r in query("SELECT quantity, price FROM fills WHERE order_id = ?")
            .bind(order.id)
            .fetch_all(&mut *tx)
            .await?
        {
            value = r
                .dec("price")?
                .checked_mul(Decimal::from(r.int("quantity")?))
                .and_then(|v| v.checked_add(value))
                .ok_or_else(overflow)?;
        }
        let avg = value
            .checked_div(Decimal::from(filled))
            .ok_or_else(overflow)?
            .round_dp(8)
            .normalize();

        let late = order.state.is_terminal();
        if !late {
            let to = if filled == order.quantity {
                OrderState::Filled
            } else {
                OrderState::PartiallyFilled
            };
            apply_transition(&mut tx, &order, to, None, now).await?;
        }
        query("UPDATE orders SET filled_quantity = ?, avg_fill_price = ?, updated_at = ? WHERE id = ?")
            .bind(filled)
            .bind(codec::dec(avg))
            .bind(codec::ts(now))
            .bind(order.id)
            .execute(&mut *tx)
            .await?;

        let (position, pnl) = match order.position_id {
            None => (None, -fill.commission),
            Some(pid) => {
                let p = position_on(&mut tx, pid)
                    .await?
                    .ok_or_else(|| StoreError::NotFound {
                        what: "position",
                        key: pid.to_string(),
                    })?;
                let facts = FillFacts {
                    side: order.side,
                    purpose: order.purpose,
                    quantity: fill.quantity,
                    price: fill.price,
                    commission: fill.commission,
                    filled_at: fill.filled_at,
                    trading_day: fill.trading_day,
                };
                let (p, pnl) = apply_fill(&p, &facts).map_err(refuse)?;
                write_fill_fields(&mut tx, &p, now).await?;
                (Some(pid), pnl)
            }
        };

        let row = query(
            "INSERT INTO fills (exec_id, order_id, quantity, price, commission, realised_pnl,
                 filled_at, trading_day, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING *",
        )
        .bind(&fill.exec_id)
        .bind(order.id)
        .bind(fill.quantity)
        .bind(codec::dec(fill.price))
        .bind(codec::dec(fill.commission))
        .bind(codec::dec(pnl))
        .bind(codec::ts(fill.filled_at))
        .bind(codec::day(fill.trading_day))
        .bind(codec::ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_unique(e, "fill"))?;
        let stored = fill_from_row(&row)?;
        let order = order_by_id_on(&mut tx, order.id).await?;
        let position = match position {
            Some(pid) => position_on(&mut tx, pid).await?,
            None => None,
        };
        tx.commit().await?;
        if late {
            tracing::warn!(exec_id = %fill.exec_id, coid = %order.coid, state = %order.state,
                "fill recorded for an order already {}", order.state);
        }
        Ok(RecordedFill {
            duplicate: false,
            late,
            fill: stored,
            order,
            position,
        })
    }

    /// Every fill of an order (by its cOID), in execution order.
    pub async fn fills_for_order(&self, coid: &str) -> Result<Vec<Fill>> {
        query(
            "SELECT f.* FROM fills f JOIN orders o ON o.id = f.order_id
             WHERE o.coid = ? ORDER BY f.filled_at, f.id",
        )
        .bind(coid)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(fill_from_row)
        .collect()
    }
}
