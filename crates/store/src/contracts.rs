//! The ticker → IBKR contract id cache.

use sqlx::query;

use crate::Store;
use crate::codec::{self, RowExt};
use crate::error::{Result, StoreError};

impl Store {
    /// The cached conid of `ticker`, if any.
    pub async fn contract_conid(&self, ticker: &str) -> Result<Option<i64>> {
        query("SELECT conid FROM contracts WHERE ticker = ?")
            .bind(ticker)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.int("conid"))
            .transpose()
    }

    /// Caches (or replaces) the conid of `ticker`.
    pub async fn put_contract(&self, ticker: &str, conid: i64) -> Result<()> {
        if ticker.trim().is_empty() || conid <= 0 {
            return Err(StoreError::Invalid {
                what: "contract",
                reason: format!("ticker {ticker:?} / conid {conid}"),
            });
        }
        query(
            "INSERT INTO contracts (ticker, conid, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (ticker) DO UPDATE SET conid = excluded.conid,
                 updated_at = excluded.updated_at",
        )
        .bind(ticker)
        .bind(conid)
        .bind(codec::ts(self.now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
