//! The order journal and its state machine.
//!
//! Every order is written `pending` before it is sent ([`Store::insert_order`]), and every
//! state change — from the daemon ([`Store::set_order_submitted`], [`Store::transition_order`])
//! or from a fill ([`Store::record_fill`]) — goes through [`transition`] inside a write
//! transaction.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{SqliteConnection, query};

use crate::Store;
use crate::codec::{self, RowExt};
use crate::error::{Result, StoreError, map_unique};
use crate::types::{OrderPurpose, OrderState, OrderType, Side, TransitionError};

/// The legal order state changes. Anything not listed is refused.
///
/// | from               | to                                                                   |
/// |--------------------|----------------------------------------------------------------------|
/// | `pending`          | `submitted`, `partially_filled`, `filled`, `cancelled`, `rejected`, `failed` |
/// | `submitted`        | `partially_filled`, `filled`, `cancelled`, `rejected`                |
/// | `partially_filled` | `partially_filled` (another part), `filled`, `cancelled` (the rest)  |
/// | `filled`, `cancelled`, `rejected`, `failed` | nothing: they are terminal                  |
///
/// `pending → partially_filled/filled` exists because a fill is proof that IBKR had the order
/// (reconciliation can meet the fill before it adopts the order). `pending → cancelled` is an
/// order withdrawn before it was sent. A fill seen after an order is terminal (a cancel that
/// raced a fill) is still recorded by `record_fill`, but does not change the state.
pub fn transition(
    from: OrderState,
    to: OrderState,
) -> Result<OrderState, TransitionError<OrderState>> {
    use OrderState::*;
    let legal = match from {
        Pending => matches!(
            to,
            Submitted | PartiallyFilled | Filled | Cancelled | Rejected | Failed
        ),
        Submitted => matches!(to, PartiallyFilled | Filled | Cancelled | Rejected),
        PartiallyFilled => matches!(to, PartiallyFilled | Filled | Cancelled),
        Filled | Cancelled | Rejected | Failed => false,
    };
    if legal {
        Ok(to)
    } else {
        Err(TransitionError { from, to })
    }
}

/// An order about to be journalled (always as `pending`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Our client order id (cOID), unique forever; IBKR echoes it back as `order_ref`.
    pub coid: String,
    /// The ASX trading day the decision was made on.
    pub trading_day: NaiveDate,
    pub ticker: String,
    pub conid: i64,
    pub side: Side,
    pub order_type: OrderType,
    /// Whole shares, > 0.
    pub quantity: i64,
    /// Required for `LMT`, absent otherwise.
    pub limit_price: Option<Decimal>,
    /// Required for `STP`, absent otherwise.
    pub stop_price: Option<Decimal>,
    pub purpose: OrderPurpose,
    /// The position the order opens, protects or reduces (none for a manual order).
    pub position_id: Option<i64>,
}

/// A journalled order as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Order {
    pub id: i64,
    pub coid: String,
    pub trading_day: NaiveDate,
    pub ticker: String,
    pub conid: i64,
    pub side: Side,
    pub order_type: OrderType,
    pub quantity: i64,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub purpose: OrderPurpose,
    pub state: OrderState,
    /// IBKR's order id, once it answered.
    pub ibkr_order_id: Option<String>,
    /// Sum of the recorded fills.
    pub filled_quantity: i64,
    /// Quantity-weighted average of the recorded fills.
    pub avg_fill_price: Option<Decimal>,
    /// The last order status text IBKR gave (e.g. `PreSubmitted`), for humans.
    pub broker_status: Option<String>,
    /// Why the last state change happened (reject reason, "unknown to IBKR", ...).
    pub detail: Option<String>,
    pub position_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Order {
    /// Shares still to fill.
    pub fn remaining_quantity(&self) -> i64 {
        self.quantity - self.filled_quantity
    }
}

pub(crate) fn order_from_row(r: &SqliteRow) -> Result<Order> {
    Ok(Order {
        id: r.int("id")?,
        coid: r.text("coid")?,
        trading_day: r.day("trading_day")?,
        ticker: r.text("ticker")?,
        conid: r.int("conid")?,
        side: r.parsed("side")?,
        order_type: r.parsed("order_type")?,
        quantity: r.int("quantity")?,
        limit_price: r.opt_dec("limit_price")?,
        stop_price: r.opt_dec("stop_price")?,
        purpose: r.parsed("purpose")?,
        state: r.parsed("state")?,
        ibkr_order_id: r.opt_text("ibkr_order_id")?,
        filled_quantity: r.int("filled_quantity")?,
        avg_fill_price: r.opt_dec("avg_fill_price")?,
        broker_status: r.opt_text("broker_status")?,
        detail: r.opt_text("detail")?,
        position_id: r.opt_int("position_id")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        what: "order",
        reason: reason.into(),
    }
}

fn validate(o: &NewOrder) -> Result<()> {
    if o.coid.trim().is_empty() {
        return Err(invalid("empty client order id"));
    }
    if o.ticker.trim().is_empty() {
        return Err(invalid("empty ticker"));
    }
    if o.quantity <= 0 {
        return Err(invalid(format!("quantity {} is not positive", o.quantity)));
    }
    let positive = |p: Option<Decimal>| p.is_some_and(|p| p > Decimal::ZERO);
    match o.order_type {
        OrderType::Market if o.limit_price.is_some() || o.stop_price.is_some() => {
            Err(invalid("a MKT order has no limit or stop price"))
        }
        OrderType::Limit if !positive(o.limit_price) || o.stop_price.is_some() => Err(invalid(
            "a LMT order needs a positive limit price and no stop price",
        )),
        OrderType::Stop if !positive(o.stop_price) || o.limit_price.is_some() => Err(invalid(
            "a STP order needs a positive stop price and no limit price",
        )),
        _ => Ok(()),
    }
}

/// Inserts a validated order as `pending` on `conn` (inside the caller's transaction or not).
pub(crate) async fn insert_order_on(
    conn: &mut SqliteConnection,
    o: &NewOrder,
    now: DateTime<Utc>,
) -> Result<Order> {
    validate(o)?;
    let now = codec::ts(now);
    let row = query(
        "INSERT INTO orders (coid, trading_day, ticker, conid, side, order_type, quantity,
             limit_price, stop_price, purpose, state, position_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
         RETURNING *",
    )
    .bind(&o.coid)
    .bind(codec::day(o.trading_day))
    .bind(&o.ticker)
    .bind(o.conid)
    .bind(o.side.as_str())
    .bind(o.order_type.as_str())
    .bind(o.quantity)
    .bind(codec::opt_dec(o.limit_price))
    .bind(codec::opt_dec(o.stop_price))
    .bind(o.purpose.as_str())
    .bind(o.position_id)
    .bind(&now)
    .bind(&now)
    .fetch_one(conn)
    .await
    .map_err(|e| map_unique(e, "order"))?;
    order_from_row(&row)
}

pub(crate) async fn order_by_coid_on(
    conn: &mut SqliteConnection,
    coid: &str,
) -> Result<Option<Order>> {
    query("SELECT * FROM orders WHERE coid = ?")
        .bind(coid)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(order_from_row)
        .transpose()
}

pub(crate) async fn require_order_on(conn: &mut SqliteConnection, coid: &str) -> Result<Order> {
    order_by_coid_on(conn, coid)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "order",
            key: coid.to_owned(),
        })
}

/// The one place an order's state is written: checks [`transition`], then updates the row
/// (guarded by its current state). Callers hold a write transaction.
pub(crate) async fn apply_transition(
    conn: &mut SqliteConnection,
    order: &Order,
    to: OrderState,
    detail: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    transition(order.state, to).map_err(|TransitionError { from, to }| {
        StoreError::IllegalTransition {
            coid: order.coid.clone(),
            from,
            to,
        }
    })?;
    let done = query(
        "UPDATE orders SET state = ?, detail = COALESCE(?, detail), updated_at = ?
         WHERE id = ? AND state = ?",
    )
    .bind(to.as_str())
    .bind(detail)
    .bind(codec::ts(now))
    .bind(order.id)
    .bind(order.state.as_str())
    .execute(conn)
    .await?;
    if done.rows_affected() != 1 {
        // Cannot happen inside BEGIN IMMEDIATE; refuse rather than overwrite if it does.
        return Err(StoreError::IllegalTransition {
            coid: order.coid.clone(),
            from: order.state,
            to,
        });
    }
    Ok(())
}

impl Store {
    /// Journals an order as `pending` and returns the stored row. A duplicate cOID, or a second
    /// live entry for the same ticker and day, is [`StoreError::Duplicate`]. Each call is its
    /// own transaction, durable (`synchronous=FULL`) before it returns.
    pub async fn insert_order(&self, order: &NewOrder) -> Result<Order> {
        let mut conn = self.pool.acquire().await?;
        insert_order_on(&mut conn, order, self.now()).await
    }

    /// The order with this client order id.
    pub async fn get_order_by_coid(&self, coid: &str) -> Result<Option<Order>> {
        let mut conn = self.pool.acquire().await?;
        order_by_coid_on(&mut conn, coid).await
    }

    /// The order with this row id.
    pub async fn order_by_id(&self, id: i64) -> Result<Option<Order>> {
        query("SELECT * FROM orders WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(order_from_row)
            .transpose()
    }

    /// Every order in `state`, oldest first.
    pub async fn orders_in_state(&self, state: OrderState) -> Result<Vec<Order>> {
        query("SELECT * FROM orders WHERE state = ? ORDER BY id")
            .bind(state.as_str())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(order_from_row)
            .collect()
    }

    /// Orders that may still trade (pending, submitted, partially filled), oldest first:
    /// what reconciliation walks.
    pub async fn open_orders(&self) -> Result<Vec<Order>> {
        query(
            "SELECT * FROM orders WHERE state IN ('pending', 'submitted', 'partially_filled')
             ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(order_from_row)
        .collect()
    }

    /// A position's orders that may still trade (its entry, its stop, an exit in flight).
    pub async fn open_orders_for_position(&self, position_id: i64) -> Result<Vec<Order>> {
        query(
            "SELECT * FROM orders WHERE position_id = ?
               AND state IN ('pending', 'submitted', 'partially_filled')
             ORDER BY id",
        )
        .bind(position_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(order_from_row)
        .collect()
    }

    /// Every order of a trading day, oldest first (the `orders` table of the CLI).
    pub async fn orders_for_day(&self, day: NaiveDate) -> Result<Vec<Order>> {
        query("SELECT * FROM orders WHERE trading_day = ? ORDER BY id")
            .bind(codec::day(day))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(order_from_row)
            .collect()
    }

    /// The entry order that counts for `ticker` on `day` (any state but failed/rejected).
    pub async fn entry_order_for(&self, day: NaiveDate, ticker: &str) -> Result<Option<Order>> {
        query(
            "SELECT * FROM orders WHERE trading_day = ? AND ticker = ? AND purpose = 'entry'
               AND state NOT IN ('failed', 'rejected')",
        )
        .bind(codec::day(day))
        .bind(ticker)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(order_from_row)
        .transpose()
    }

    /// IBKR accepted the order: `pending → submitted`, recording its order id and status text.
    pub async fn set_order_submitted(
        &self,
        coid: &str,
        ibkr_order_id: &str,
        status_text: &str,
    ) -> Result<Order> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let order = require_order_on(&mut tx, coid).await?;
        apply_transition(&mut tx, &order, OrderState::Submitted, None, now).await?;
        query("UPDATE orders SET ibkr_order_id = ?, broker_status = ? WHERE id = ?")
            .bind(ibkr_order_id)
            .bind(status_text)
            .bind(order.id)
            .execute(&mut *tx)
            .await?;
        let order = require_order_on(&mut tx, coid).await?;
        tx.commit().await?;
        Ok(order)
    }

    /// Records IBKR's latest status text (and its order id if we did not have it) without a
    /// state change.
    pub async fn set_broker_status(
        &self,
        coid: &str,
        status_text: &str,
        ibkr_order_id: Option<&str>,
    ) -> Result<Order> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let order = require_order_on(&mut tx, coid).await?;
        query(
            "UPDATE orders SET broker_status = ?, ibkr_order_id = COALESCE(ibkr_order_id, ?),
                 updated_at = ?
             WHERE id = ?",
        )
        .bind(status_text)
        .bind(ibkr_order_id)
        .bind(codec::ts(now))
        .bind(order.id)
        .execute(&mut *tx)
        .await?;
        let order = require_order_on(&mut tx, coid).await?;
        tx.commit().await?;
        Ok(order)
    }

    /// Moves an order to `to` (cancelled, rejected, failed, ...) with an optional reason,
    /// refusing anything [`transition`] refuses. `partially_filled` and `filled` are reached
    /// only through [`Store::record_fill`], so the filled quantity always matches the fills.
    pub async fn transition_order(
        &self,
        coid: &str,
        to: OrderState,
        detail: Option<&str>,
    ) -> Result<Order> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let order = require_order_on(&mut tx, coid).await?;
        if matches!(to, OrderState::PartiallyFilled | OrderState::Filled) {
            // Check the table first, so an illegal change is reported as such.
            transition(order.state, to).map_err(|TransitionError { from, to }| {
                StoreError::IllegalTransition {
                    coid: order.coid.clone(),
                    from,
                    to,
                }
            })?;
            return Err(invalid(format!(
                "order {coid} becomes {to} only by recording its fills"
            )));
        }
        apply_transition(&mut tx, &order, to, detail, now).await?;
        let order = require_order_on(&mut tx, coid).await?;
        tx.commit().await?;
        Ok(order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderState::*;

    #[test]
    fn legal_table_is_exactly_as_documented() {
        let legal = [
            (Pending, Submitted),
            (Pending, PartiallyFilled),
            (Pending, Filled),
            (Pending, Cancelled),
            (Pending, Rejected),
            (Pending, Failed),
            (Submitted, PartiallyFilled),
            (Submitted, Filled),
            (Submitted, Cancelled),
            (Submitted, Rejected),
            (PartiallyFilled, PartiallyFilled),
            (PartiallyFilled, Filled),
            (PartiallyFilled, Cancelled),
        ];
        for &from in OrderState::ALL {
            for &to in OrderState::ALL {
                let expected = legal.contains(&(from, to));
                assert_eq!(
                    transition(from, to).is_ok(),
                    expected,
                    "{from} -> {to} should be {}",
                    if expected { "legal" } else { "illegal" }
                );
            }
        }
    }

    #[test]
    fn terminal_states_go_nowhere() {
        for &from in OrderState::ALL.iter().filter(|s| s.is_terminal()) {
            for &to in OrderState::ALL {
                assert_eq!(transition(from, to), Err(TransitionError { from, to }));
            }
        }
    }
}
