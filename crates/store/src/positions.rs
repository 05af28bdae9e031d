//! Positions: created with their entry order, then changed only by fills (see
//! [`Store::record_fill`]) and by the few operator-level updates here (stop, stop order,
//! half-exit flag, notes, abandoning an entry that never filled).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::sqlite::SqliteRow;
use sqlx::{SqliteConnection, query};

use crate::Store;
use crate::codec::{self, RowExt};
use crate::error::{Result, StoreError};
use crate::orders::{NewOrder, Order, insert_order_on};
use crate::types::{OrderPurpose, PositionState, Side, TransitionError};

/// The legal position state changes:
///
/// | from            | to                          |
/// |-----------------|-----------------------------|
/// | `pending_entry` | `open` (first buy fill), `closed` (entry never filled) |
/// | `open`          | `half_exited`, `closed`     |
/// | `half_exited`   | `closed`                    |
/// | `closed`        | nothing                     |
pub fn position_transition(
    from: PositionState,
    to: PositionState,
) -> Result<PositionState, TransitionError<PositionState>> {
    use PositionState::*;
    let legal = match from {
        PendingEntry => matches!(to, Open | Closed),
        Open => matches!(to, HalfExited | Closed),
        HalfExited => matches!(to, Closed),
        Closed => false,
    };
    if legal {
        Ok(to)
    } else {
        Err(TransitionError { from, to })
    }
}

/// A position as stored. Money fields are exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub id: i64,
    /// The trading day of the entry.
    pub trading_day: NaiveDate,
    pub ticker: String,
    pub conid: i64,
    pub state: PositionState,
    /// Shares still held.
    pub quantity: i64,
    /// All shares bought.
    pub original_quantity: i64,
    /// `entry_cost / original_quantity` (rounded to 8 places; P&L never uses it).
    pub avg_entry_price: Option<Decimal>,
    /// Σ buy price × quantity, exact.
    pub entry_cost: Decimal,
    /// Cost of the shares still held, exact; a sale takes its share of it, the last sale all.
    pub cost_basis: Decimal,
    /// Time of the first buy fill.
    pub entry_at: Option<DateTime<Utc>>,
    /// The protective stop; only ever raised.
    pub stop_price: Option<Decimal>,
    /// Our cOID of the broker-side STP order.
    pub stop_order_coid: Option<String>,
    /// IBKR's order id of the broker-side STP order.
    pub stop_ibkr_order_id: Option<String>,
    /// The day-3 half has been sold (or its sale has started).
    pub half_exit_done: bool,
    /// All shares sold so far.
    pub sold_quantity: i64,
    /// Σ sell price × quantity, exact.
    pub exit_proceeds: Decimal,
    /// Average sell price so far.
    pub exit_price: Option<Decimal>,
    /// When the last share was sold.
    pub exit_at: Option<DateTime<Utc>>,
    /// Trading day the last share was sold.
    pub exit_day: Option<NaiveDate>,
    /// Σ (sell proceeds − cost of the shares sold) − all commissions, exact.
    pub realised_pnl: Decimal,
    /// All commissions paid on this position's fills, both sides.
    pub commissions: Decimal,
    /// Why it closed: the purpose of the closing order, or the reason it was abandoned.
    pub close_reason: Option<String>,
    /// A free-form operator note.
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A position and the entry order that will open it, written together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub position: Position,
    pub order: Order,
}

pub(crate) fn position_from_row(r: &SqliteRow) -> Result<Position> {
    Ok(Position {
        id: r.int("id")?,
        trading_day: r.day("trading_day")?,
        ticker: r.text("ticker")?,
        conid: r.int("conid")?,
        state: r.parsed("state")?,
        quantity: r.int("quantity")?,
        original_quantity: r.int("original_quantity")?,
        avg_entry_price: r.opt_dec("avg_entry_price")?,
        entry_cost: r.dec("entry_cost")?,
        cost_basis: r.dec("cost_basis")?,
        entry_at: r.opt_ts("entry_at")?,
        stop_price: r.opt_dec("stop_price")?,
        stop_order_coid: r.opt_text("stop_order_coid")?,
        stop_ibkr_order_id: r.opt_text("stop_ibkr_order_id")?,
        half_exit_done: r.flag("half_exit_done")?,
        sold_quantity: r.int("sold_quantity")?,
        exit_proceeds: r.dec("exit_proceeds")?,
        exit_price: r.opt_dec("exit_price")?,
        exit_at: r.opt_ts("exit_at")?,
        exit_day: r.opt_day("exit_day")?,
        realised_pnl: r.dec("realised_pnl")?,
        commissions: r.dec("commissions")?,
        close_reason: r.opt_text("close_reason")?,
        notes: r.opt_text("notes")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

pub(crate) async fn position_on(conn: &mut SqliteConnection, id: i64) -> Result<Option<Position>> {
    query("SELECT * FROM positions WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(position_from_row)
        .transpose()
}

pub(crate) async fn require_position_on(conn: &mut SqliteConnection, id: i64) -> Result<Position> {
    position_on(conn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "position",
            key: id.to_string(),
        })
}

fn check_transition(p: &Position, to: PositionState) -> Result<()> {
    position_transition(p.state, to)
        .map(|_| ())
        .map_err(
            |TransitionError { from, to }| StoreError::IllegalPositionTransition {
                position_id: p.id,
                from,
                to,
            },
        )
}

/// What a fill tells a position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FillFacts {
    pub side: Side,
    pub purpose: OrderPurpose,
    pub quantity: i64,
    pub price: Decimal,
    pub commission: Decimal,
    pub filled_at: DateTime<Utc>,
    pub trading_day: NaiveDate,
}

fn overflow() -> String {
    "decimal overflow".to_owned()
}

/// Applies one fill to a position, purely: returns the new position and the fill's realised
/// P&L contribution (net of its commission). A refusal is a reason string.
///
/// BUY adds shares and cost (weighted average entry). SELL takes the sold shares' share of the
/// remaining cost basis — all of it on the last sale, so a closed position's P&L is exactly
/// proceeds − cost − commissions — and closes the position at zero shares. A sale for a
/// `half_exit` order marks the half exit done.
pub(crate) fn apply_fill(
    p: &Position,
    f: &FillFacts,
) -> std::result::Result<(Position, Decimal), String> {
    let mut n = p.clone();
    let q = Decimal::from(f.quantity);
    let value = f.price.checked_mul(q).ok_or_else(overflow)?;
    let pnl = match f.side {
        Side::Buy => {
            if p.state == PositionState::Closed {
                return Err(format!(
                    "position {} is closed; a buy cannot reopen it",
                    p.id
                ));
            }
            n.quantity += f.quantity;
            n.original_quantity += f.quantity;
            n.entry_cost = n.entry_cost.checked_add(value).ok_or_else(overflow)?;
            n.cost_basis = n.cost_basis.checked_add(value).ok_or_else(overflow)?;
            n.avg_entry_price = Some(
                n.entry_cost
                    .checked_div(Decimal::from(n.original_quantity))
                    .ok_or_else(overflow)?
                    .round_dp(8)
                    .normalize(),
            );
            n.entry_at = p.entry_at.or(Some(f.filled_at));
            if p.state == PositionState::PendingEntry {
                n.state = PositionState::Open;
            }
            -f.commission
        }
        Side::Sell => {
            if !matches!(p.state, PositionState::Open | PositionState::HalfExited) {
                return Err(format!("position {} is {}; nothing to sell", p.id, p.state));
            }
            if f.quantity > p.quantity {
                return Err(format!(
                    "selling {} shares but position {} holds {}",
                    f.quantity, p.id, p.quantity
                ));
            }
            let cost_sold = if f.quantity == p.quantity {
                p.cost_basis
            } else {
                p.cost_basis
                    .checked_mul(q)
                    .and_then(|c| c.checked_div(Decimal::from(p.quantity)))
                    .ok_or_else(overflow)?
                    .round_dp(8)
            };
            n.quantity -= f.quantity;
            n.sold_quantity += f.quantity;
            n.cost_basis = p.cost_basis.checked_sub(cost_sold).ok_or_else(overflow)?;
            n.exit_proceeds = p.exit_proceeds.checked_add(value).ok_or_else(overflow)?;
            n.exit_price = Some(
                n.exit_proceeds
                    .checked_div(Decimal::from(n.sold_quantity))
                    .ok_or_else(overflow)?
                    .round_dp(8)
                    .normalize(),
            );
            if f.purpose == OrderPurpose::HalfExit {
                n.half_exit_done = true;
                if n.quantity > 0 && p.state == PositionState::Open {
                    n.state = PositionState::HalfExited;
                }
            }
            if n.quantity == 0 {
                n.state = PositionState::Closed;
                n.exit_at = Some(f.filled_at);
                n.exit_day = Some(f.trading_day);
                n.close_reason = Some(f.purpose.as_str().to_owned());
            }
            value
                .checked_sub(cost_sold)
                .and_then(|v| v.checked_sub(f.commission))
                .ok_or_else(overflow)?
        }
    };
    if n.state != p.state {
        position_transition(p.state, n.state).map_err(|e| e.to_string())?;
    }
    n.realised_pnl = p.realised_pnl.checked_add(pnl).ok_or_else(overflow)?;
    n.commissions = p
        .commissions
        .checked_add(f.commission)
        .ok_or_else(overflow)?;
    Ok((n, pnl))
}

/// Writes every field a fill can change.
pub(crate) async fn write_fill_fields(
    conn: &mut SqliteConnection,
    p: &Position,
    now: DateTime<Utc>,
) -> Result<()> {
    query(
        "UPDATE positions SET state = ?, quantity = ?, original_quantity = ?, avg_entry_price = ?,
             entry_cost = ?, cost_basis = ?, entry_at = ?, half_exit_done = ?, sold_quantity = ?,
             exit_proceeds = ?, exit_price = ?, exit_at = ?, exit_day = ?, realised_pnl = ?,
             commissions = ?, close_reason = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(p.state.as_str())
    .bind(p.quantity)
    .bind(p.original_quantity)
    .bind(codec::opt_dec(p.avg_entry_price))
    .bind(codec::dec(p.entry_cost))
    .bind(codec::dec(p.cost_basis))
    .bind(codec::opt_ts(p.entry_at))
    .bind(p.half_exit_done)
    .bind(p.sold_quantity)
    .bind(codec::dec(p.exit_proceeds))
    .bind(codec::opt_dec(p.exit_price))
    .bind(codec::opt_ts(p.exit_at))
    .bind(p.exit_day.map(codec::day))
    .bind(codec::dec(p.realised_pnl))
    .bind(codec::dec(p.commissions))
    .bind(&p.close_reason)
    .bind(codec::ts(now))
    .bind(p.id)
    .execute(conn)
    .await?;
    Ok(())
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        what: "position",
        reason: reason.into(),
    }
}

impl Store {
    /// The decision to enter, written in ONE write transaction: unless `ticker` already has an
    /// entry that counts on `order.trading_day` (any entry not failed/rejected), creates a
    /// `pending_entry` position with `initial_stop` and journals `order` (purpose `entry`, side
    /// BUY) as `pending` for it. Returns `None` when an entry exists — two concurrent `trade`
    /// runs get exactly one `Some`.
    pub async fn create_position_for_entry(
        &self,
        order: &NewOrder,
        initial_stop: Option<Decimal>,
    ) -> Result<Option<Entry>> {
        if order.purpose != OrderPurpose::Entry || order.side != Side::Buy {
            return Err(invalid("an entry order must be a BUY with purpose entry"));
        }
        if order.position_id.is_some() {
            return Err(invalid(
                "an entry order gets its position here; position_id must be None",
            ));
        }
        if initial_stop.is_some_and(|s| s <= Decimal::ZERO) {
            return Err(invalid("the initial stop must be positive"));
        }
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let exists = query(
            "SELECT id FROM orders WHERE trading_day = ? AND ticker = ? AND purpose = 'entry'
               AND state NOT IN ('failed', 'rejected')",
        )
        .bind(codec::day(order.trading_day))
        .bind(&order.ticker)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_some() {
            return Ok(None); // dropping tx rolls back
        }
        let stamp = codec::ts(now);
        let row = query(
            "INSERT INTO positions (trading_day, ticker, conid, state, stop_price, created_at, updated_at)
             VALUES (?, ?, ?, 'pending_entry', ?, ?, ?)
             RETURNING *",
        )
        .bind(codec::day(order.trading_day))
        .bind(&order.ticker)
        .bind(order.conid)
        .bind(codec::opt_dec(initial_stop))
        .bind(&stamp)
        .bind(&stamp)
        .fetch_one(&mut *tx)
        .await?;
        let position = position_from_row(&row)?;
        let with_position = NewOrder {
            position_id: Some(position.id),
            ..order.clone()
        };
        let order = insert_order_on(&mut tx, &with_position, now).await?;
        tx.commit().await?;
        Ok(Some(Entry { position, order }))
    }

    /// The position with this id.
    pub async fn position_by_id(&self, id: i64) -> Result<Option<Position>> {
        let mut conn = self.pool.acquire().await?;
        position_on(&mut conn, id).await
    }

    /// Positions not yet closed — pending entries included, since they count toward
    /// `max_positions` — oldest first.
    pub async fn open_positions(&self) -> Result<Vec<Position>> {
        query("SELECT * FROM positions WHERE state != 'closed' ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(position_from_row)
            .collect()
    }

    /// Positions whose entry was on `day`.
    pub async fn positions_entered_on(&self, day: NaiveDate) -> Result<Vec<Position>> {
        query("SELECT * FROM positions WHERE trading_day = ? ORDER BY id")
            .bind(codec::day(day))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(position_from_row)
            .collect()
    }

    /// Positions whose last share was sold on `day` (abandoned entries are not listed).
    pub async fn positions_closed_on(&self, day: NaiveDate) -> Result<Vec<Position>> {
        query("SELECT * FROM positions WHERE state = 'closed' AND exit_day = ? ORDER BY id")
            .bind(codec::day(day))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(position_from_row)
            .collect()
    }

    /// Realised P&L booked by fills on trading day `day`, net of their commissions, exact.
    /// (A position's P&L is spread over the days its fills happened.)
    pub async fn realised_pnl_for_day(&self, day: NaiveDate) -> Result<Decimal> {
        let rows = query("SELECT realised_pnl FROM fills WHERE trading_day = ?")
            .bind(codec::day(day))
            .fetch_all(&self.pool)
            .await?;
        let mut total = Decimal::ZERO;
        for r in &rows {
            total = total
                .checked_add(r.dec("realised_pnl")?)
                .ok_or_else(|| invalid("daily P&L overflows a decimal"))?;
        }
        Ok(total)
    }

    /// Moves the stop up to `new_stop`. Refuses a lower stop ([`StoreError::StopLowered`]) and
    /// a closed position; the same stop again is a no-op.
    pub async fn raise_stop(&self, position_id: i64, new_stop: Decimal) -> Result<Position> {
        if new_stop <= Decimal::ZERO {
            return Err(invalid(format!("stop {new_stop} is not positive")));
        }
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let p = require_position_on(&mut tx, position_id).await?;
        if p.state == PositionState::Closed {
            return Err(invalid(format!("position {position_id} is closed")));
        }
        match p.stop_price {
            Some(current) if new_stop < current => {
                return Err(StoreError::StopLowered {
                    position_id,
                    current,
                    requested: new_stop,
                });
            }
            Some(current) if new_stop == current => return Ok(p),
            _ => {}
        }
        query("UPDATE positions SET stop_price = ?, updated_at = ? WHERE id = ?")
            .bind(codec::dec(new_stop))
            .bind(codec::ts(now))
            .bind(position_id)
            .execute(&mut *tx)
            .await?;
        let p = require_position_on(&mut tx, position_id).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Records which broker order is the position's protective stop (cOID, and IBKR's order id
    /// once known).
    pub async fn set_stop_order(
        &self,
        position_id: i64,
        coid: &str,
        ibkr_order_id: Option<&str>,
    ) -> Result<Position> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        require_position_on(&mut tx, position_id).await?;
        query(
            "UPDATE positions SET stop_order_coid = ?, stop_ibkr_order_id = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(coid)
        .bind(ibkr_order_id)
        .bind(codec::ts(now))
        .bind(position_id)
        .execute(&mut *tx)
        .await?;
        let p = require_position_on(&mut tx, position_id).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Marks the day-3 half exit as done (`open → half_exited`), e.g. once its sell order is
    /// placed, so it is never placed twice. Idempotent on a half-exited position; refused on
    /// a pending or closed one. (A fill of a `half_exit` order also sets it.)
    pub async fn mark_half_exit(&self, position_id: i64) -> Result<Position> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let p = require_position_on(&mut tx, position_id).await?;
        if p.state == PositionState::HalfExited && p.half_exit_done {
            return Ok(p);
        }
        let to = if p.state == PositionState::HalfExited {
            p.state
        } else {
            check_transition(&p, PositionState::HalfExited)?;
            PositionState::HalfExited
        };
        query("UPDATE positions SET state = ?, half_exit_done = 1, updated_at = ? WHERE id = ?")
            .bind(to.as_str())
            .bind(codec::ts(now))
            .bind(position_id)
            .execute(&mut *tx)
            .await?;
        let p = require_position_on(&mut tx, position_id).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Closes a `pending_entry` position whose entry never filled (cancelled, rejected or
    /// failed with nothing bought). Refused while it holds shares or has an order that may
    /// still trade.
    pub async fn abandon_position(&self, position_id: i64, reason: &str) -> Result<Position> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let p = require_position_on(&mut tx, position_id).await?;
        if p.state != PositionState::PendingEntry || p.quantity != 0 {
            return Err(StoreError::IllegalPositionTransition {
                position_id,
                from: p.state,
                to: PositionState::Closed,
            });
        }
        let live = query(
            "SELECT COUNT(*) AS n FROM orders WHERE position_id = ?
               AND state IN ('pending', 'submitted', 'partially_filled')",
        )
        .bind(position_id)
        .fetch_one(&mut *tx)
        .await?
        .int("n")?;
        if live > 0 {
            return Err(invalid(format!(
                "position {position_id} still has {live} order(s) that may trade"
            )));
        }
        check_transition(&p, PositionState::Closed)?;
        query(
            "UPDATE positions SET state = 'closed', close_reason = ?, exit_at = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(reason)
        .bind(codec::ts(now))
        .bind(codec::ts(now))
        .bind(position_id)
        .execute(&mut *tx)
        .await?;
        let p = require_position_on(&mut tx, position_id).await?;
        tx.commit().await?;
        Ok(p)
    }

    /// Sets (or clears) the operator's note on a position.
    pub async fn set_position_notes(
        &self,
        position_id: i64,
        notes: Option<&str>,
    ) -> Result<Position> {
        let now = self.now();
        let mut tx = self.begin_write().await?;
        require_position_on(&mut tx, position_id).await?;
        query("UPDATE positions SET notes = ?, updated_at = ? WHERE id = ?")
            .bind(notes)
            .bind(codec::ts(now))
            .bind(position_id)
            .execute(&mut *tx)
            .await?;
        let p = require_position_on(&mut tx, position_id).await?;
        tx.commit().await?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionState::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn pending() -> Position {
        let t = DateTime::<Utc>::from_timestamp(1_750_636_800, 0).unwrap();
        Position {
            id: 1,
            trading_day: NaiveDate::from_ymd_opt(2025, 6, 23).unwrap(),
            ticker: "ABC".into(),
            conid: 1,
            state: PendingEntry,
            quantity: 0,
            original_quantity: 0,
            avg_entry_price: None,
            entry_cost: Decimal::ZERO,
            cost_basis: Decimal::ZERO,
            entry_at: None,
            stop_price: None,
            stop_order_coid: None,
            stop_ibkr_order_id: None,
            half_exit_done: false,
            sold_quantity: 0,
            exit_proceeds: Decimal::ZERO,
            exit_price: None,
            exit_at: None,
            exit_day: None,
            realised_pnl: Decimal::ZERO,
            commissions: Decimal::ZERO,
            close_reason: None,
            notes: None,
            created_at: t,
            updated_at: t,
        }
    }

    fn fill(side: Side, purpose: OrderPurpose, q: i64, price: &str, comm: &str) -> FillFacts {
        FillFacts {
            side,
            purpose,
            quantity: q,
            price: d(price),
            commission: d(comm),
            filled_at: DateTime::<Utc>::from_timestamp(1_750_637_000, 0).unwrap(),
            trading_day: NaiveDate::from_ymd_opt(2025, 6, 23).unwrap(),
        }
    }

    #[test]
    fn position_table() {
        let legal = [
            (PendingEntry, Open),
            (PendingEntry, Closed),
            (Open, HalfExited),
            (Open, Closed),
            (HalfExited, Closed),
        ];
        for &from in PositionState::ALL {
            for &to in PositionState::ALL {
                assert_eq!(
                    position_transition(from, to).is_ok(),
                    legal.contains(&(from, to))
                );
            }
        }
    }

    #[test]
    fn three_way_cost_split_still_closes_exactly() {
        // Cost 10.00 over 3 shares: the per-share cost does not terminate, the total must.
        let p = pending();
        let (p, _) = apply_fill(
            &p,
            &fill(Side::Buy, OrderPurpose::Entry, 3, "3.3333333333333333", "0"),
        )
        .unwrap();
        let p = Position {
            cost_basis: d("10.00"),
            entry_cost: d("10.00"),
            ..p
        };
        let (p, a) =
            apply_fill(&p, &fill(Side::Sell, OrderPurpose::HalfExit, 1, "4", "0")).unwrap();
        let (p, b) =
            apply_fill(&p, &fill(Side::Sell, OrderPurpose::TrailExit, 1, "4", "0")).unwrap();
        let (p, c) =
            apply_fill(&p, &fill(Side::Sell, OrderPurpose::TrailExit, 1, "4", "0")).unwrap();
        assert_eq!(p.state, Closed);
        assert_eq!(a + b + c, d("2.00"));
        assert_eq!(p.realised_pnl, d("2.00"));
        assert_eq!(p.cost_basis, Decimal::ZERO);
    }

    #[test]
    fn refusals() {
        let p = pending();
        assert!(apply_fill(&p, &fill(Side::Sell, OrderPurpose::TrailExit, 1, "1", "0")).is_err());
        let (p, _) = apply_fill(&p, &fill(Side::Buy, OrderPurpose::Entry, 10, "1", "0")).unwrap();
        assert!(apply_fill(&p, &fill(Side::Sell, OrderPurpose::TrailExit, 11, "1", "0")).is_err());
        let (p, _) =
            apply_fill(&p, &fill(Side::Sell, OrderPurpose::TrailExit, 10, "1", "0")).unwrap();
        assert_eq!(p.state, Closed);
        assert!(apply_fill(&p, &fill(Side::Buy, OrderPurpose::Entry, 1, "1", "0")).is_err());
    }
}
