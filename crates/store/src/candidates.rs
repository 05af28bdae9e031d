//! Candidates: what the scan found each trading day, and what became of it. Kept for history:
//! `purge` only marks old ones expired; deleting is a separate, explicit retention call.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::query;
use sqlx::sqlite::SqliteRow;

use crate::Store;
use crate::codec::{self, RowExt};
use crate::error::{Result, StoreError};
use crate::types::CandidateStatus;

/// What the scan knows about a candidate. Upserting it again the same day refreshes these
/// fields and keeps the range and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCandidate {
    pub trading_day: NaiveDate,
    pub ticker: String,
    pub conid: i64,
    /// Gap up from the previous close, in percent (e.g. `12.5`).
    pub gap_pct: Decimal,
    /// The announcement's headline.
    pub headline: Option<String>,
    /// When the announcement was released.
    pub announced_at: Option<DateTime<Utc>>,
    /// ASX marked the announcement price-sensitive.
    pub price_sensitive: bool,
    /// When the scan saw it.
    pub scanned_at: DateTime<Utc>,
    pub last_price: Option<Decimal>,
    pub prev_close: Option<Decimal>,
}

/// A stored candidate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    pub id: i64,
    pub trading_day: NaiveDate,
    pub ticker: String,
    pub conid: i64,
    pub gap_pct: Decimal,
    pub headline: Option<String>,
    pub announced_at: Option<DateTime<Utc>>,
    pub price_sensitive: bool,
    pub scanned_at: DateTime<Utc>,
    pub last_price: Option<Decimal>,
    pub prev_close: Option<Decimal>,
    /// Opening-range high; none until measured (a stock without a trade has no range).
    pub range_high: Option<Decimal>,
    pub range_low: Option<Decimal>,
    pub range_measured_at: Option<DateTime<Utc>>,
    pub status: CandidateStatus,
    /// Why it was skipped or expired.
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn candidate_from_row(r: &SqliteRow) -> Result<Candidate> {
    Ok(Candidate {
        id: r.int("id")?,
        trading_day: r.day("trading_day")?,
        ticker: r.text("ticker")?,
        conid: r.int("conid")?,
        gap_pct: r.dec("gap_pct")?,
        headline: r.opt_text("headline")?,
        announced_at: r.opt_ts("announced_at")?,
        price_sensitive: r.flag("price_sensitive")?,
        scanned_at: r.ts("scanned_at")?,
        last_price: r.opt_dec("last_price")?,
        prev_close: r.opt_dec("prev_close")?,
        range_high: r.opt_dec("range_high")?,
        range_low: r.opt_dec("range_low")?,
        range_measured_at: r.opt_ts("range_measured_at")?,
        status: r.parsed("status")?,
        status_reason: r.opt_text("status_reason")?,
        created_at: r.ts("created_at")?,
        updated_at: r.ts("updated_at")?,
    })
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        what: "candidate",
        reason: reason.into(),
    }
}

/// The legal candidate status changes: `watching` → anything; `skipped` → `watching` (e.g.
/// after `resume`), `entered` or `expired`; `entered` and `expired` are final. Setting the same
/// status again is allowed (it refreshes the reason).
pub fn candidate_status_change_allowed(from: CandidateStatus, to: CandidateStatus) -> bool {
    use CandidateStatus::*;
    from == to
        || match from {
            Watching => true,
            Skipped => matches!(to, Watching | Entered | Expired),
            Entered | Expired => false,
        }
}

impl Store {
    /// Inserts the candidate, or refreshes the scan fields of the same (day, ticker) row,
    /// keeping its opening range and status.
    pub async fn upsert_candidate(&self, c: &NewCandidate) -> Result<Candidate> {
        if c.ticker.trim().is_empty() {
            return Err(invalid("empty ticker"));
        }
        let now = codec::ts(self.now());
        let row = query(
            "INSERT INTO candidates (trading_day, ticker, conid, gap_pct, headline, announced_at,
                 price_sensitive, scanned_at, last_price, prev_close, status, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'watching', ?, ?)
             ON CONFLICT (trading_day, ticker) DO UPDATE SET
                 conid = excluded.conid, gap_pct = excluded.gap_pct, headline = excluded.headline,
                 announced_at = excluded.announced_at, price_sensitive = excluded.price_sensitive,
                 scanned_at = excluded.scanned_at, last_price = excluded.last_price,
                 prev_close = excluded.prev_close, updated_at = excluded.updated_at
             RETURNING *",
        )
        .bind(codec::day(c.trading_day))
        .bind(&c.ticker)
        .bind(c.conid)
        .bind(codec::dec(c.gap_pct))
        .bind(&c.headline)
        .bind(codec::opt_ts(c.announced_at))
        .bind(c.price_sensitive)
        .bind(codec::ts(c.scanned_at))
        .bind(codec::opt_dec(c.last_price))
        .bind(codec::opt_dec(c.prev_close))
        .bind(&now)
        .bind(&now)
        .fetch_one(&self.pool)
        .await?;
        candidate_from_row(&row)
    }

    /// The candidate for `ticker` on `day`.
    pub async fn candidate(&self, day: NaiveDate, ticker: &str) -> Result<Option<Candidate>> {
        query("SELECT * FROM candidates WHERE trading_day = ? AND ticker = ?")
            .bind(codec::day(day))
            .bind(ticker)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(candidate_from_row)
            .transpose()
    }

    /// All candidates of a day, by ticker.
    pub async fn candidates_for_day(&self, day: NaiveDate) -> Result<Vec<Candidate>> {
        query("SELECT * FROM candidates WHERE trading_day = ? ORDER BY ticker")
            .bind(codec::day(day))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(candidate_from_row)
            .collect()
    }

    /// Records the opening range (high ≥ low > 0) and when it was measured.
    pub async fn set_opening_range(
        &self,
        day: NaiveDate,
        ticker: &str,
        high: Decimal,
        low: Decimal,
        measured_at: DateTime<Utc>,
    ) -> Result<Candidate> {
        if low <= Decimal::ZERO || high < low {
            return Err(invalid(format!(
                "opening range high {high} / low {low}: need high >= low > 0"
            )));
        }
        let row = query(
            "UPDATE candidates SET range_high = ?, range_low = ?, range_measured_at = ?,
                 updated_at = ?
             WHERE trading_day = ? AND ticker = ?
             RETURNING *",
        )
        .bind(codec::dec(high))
        .bind(codec::dec(low))
        .bind(codec::ts(measured_at))
        .bind(codec::ts(self.now()))
        .bind(codec::day(day))
        .bind(ticker)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found(day, ticker))?;
        candidate_from_row(&row)
    }

    /// Changes a candidate's status (see [`candidate_status_change_allowed`]). `skipped` needs
    /// a reason.
    pub async fn set_candidate_status(
        &self,
        day: NaiveDate,
        ticker: &str,
        status: CandidateStatus,
        reason: Option<&str>,
    ) -> Result<Candidate> {
        if status == CandidateStatus::Skipped && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(invalid("a skipped candidate needs a reason"));
        }
        let now = self.now();
        let mut tx = self.begin_write().await?;
        let current = query("SELECT * FROM candidates WHERE trading_day = ? AND ticker = ?")
            .bind(codec::day(day))
            .bind(ticker)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found(day, ticker))?;
        let current = candidate_from_row(&current)?;
        if !candidate_status_change_allowed(current.status, status) {
            return Err(StoreError::IllegalCandidateStatus {
                trading_day: day,
                ticker: ticker.to_owned(),
                from: current.status,
                to: status,
            });
        }
        let row = query(
            "UPDATE candidates SET status = ?, status_reason = ?, updated_at = ?
             WHERE id = ? RETURNING *",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(codec::ts(now))
        .bind(current.id)
        .fetch_one(&mut *tx)
        .await?;
        let updated = candidate_from_row(&row)?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Starts a new trading day: every candidate of an earlier day still `watching` becomes
    /// `expired`. Nothing is deleted. Returns how many were expired.
    pub async fn purge(&self, today: NaiveDate) -> Result<u64> {
        let done = query(
            "UPDATE candidates SET status = 'expired',
                 status_reason = 'day ended without an entry', updated_at = ?
             WHERE trading_day < ? AND status = 'watching'",
        )
        .bind(codec::ts(self.now()))
        .bind(codec::day(today))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Retention: deletes candidates whose trading day is more than `days` days before
    /// `today`. `days = 0` keeps everything (returns 0). Orders and positions are never
    /// deleted. Returns how many rows went.
    pub async fn delete_candidates_older_than(&self, today: NaiveDate, days: u32) -> Result<u64> {
        if days == 0 {
            return Ok(0);
        }
        let cutoff = today
            .checked_sub_signed(Duration::days(i64::from(days)))
            .ok_or_else(|| invalid(format!("{days} days before {today} is out of range")))?;
        let done = query("DELETE FROM candidates WHERE trading_day < ?")
            .bind(codec::day(cutoff))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn not_found(day: NaiveDate, ticker: &str) -> StoreError {
    StoreError::NotFound {
        what: "candidate",
        key: format!("{ticker} on {day}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CandidateStatus::*;

    #[test]
    fn final_statuses_stay_final() {
        for &to in CandidateStatus::ALL {
            assert!(candidate_status_change_allowed(Watching, to));
            assert_eq!(candidate_status_change_allowed(Entered, to), to == Entered);
            assert_eq!(candidate_status_change_allowed(Expired, to), to == Expired);
        }
        assert!(candidate_status_change_allowed(Skipped, Watching));
    }
}
