use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use store::{NewFill, NewOrder, OrderPurpose, OrderType, Side, Store};
use tempfile::TempDir;

/// A fresh database file in its own temp folder (deleted on drop).
pub struct TestDb {
    pub dir: TempDir,
    pub store: Store,
}

impl TestDb {
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("skim.db")
    }

    pub async fn reopen(&self) -> Store {
        Store::open(self.path().to_str().unwrap()).await.unwrap()
    }
}

pub async fn fresh() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("skim.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    TestDb { dir, store }
}

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, n).unwrap()
}

/// A UTC instant on 23 June 2025.
pub fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 23, h, m, s).single().unwrap()
}

pub fn order(coid: &str, ticker: &str, side: Side, purpose: OrderPurpose, qty: i64) -> NewOrder {
    NewOrder {
        coid: coid.into(),
        trading_day: day(23),
        ticker: ticker.into(),
        conid: 1000 + ticker.len() as i64,
        side,
        order_type: OrderType::Market,
        quantity: qty,
        limit_price: None,
        stop_price: None,
        purpose,
        position_id: None,
    }
}

pub fn entry(coid: &str, ticker: &str, qty: i64, limit: &str) -> NewOrder {
    NewOrder {
        order_type: OrderType::Limit,
        limit_price: Some(d(limit)),
        ..order(coid, ticker, Side::Buy, OrderPurpose::Entry, qty)
    }
}

pub fn exit(coid: &str, ticker: &str, qty: i64, purpose: OrderPurpose, position: i64) -> NewOrder {
    NewOrder {
        position_id: Some(position),
        ..order(coid, ticker, Side::Sell, purpose, qty)
    }
}

pub fn fill(exec: &str, coid: &str, qty: i64, price: &str, commission: &str) -> NewFill {
    NewFill {
        exec_id: exec.into(),
        coid: coid.into(),
        quantity: qty,
        price: d(price),
        commission: d(commission),
        filled_at: at(0, 10, 0),
        trading_day: day(23),
    }
}
