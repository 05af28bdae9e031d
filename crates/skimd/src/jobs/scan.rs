//! 10:00:30 `scan`: IBKR's HIGH_OPEN_GAP scanner on the ASX and today's ASX announcements; a
//! candidate is a stock in both (gap ≥ threshold, price-sensitive news today). Stored, with
//! the conids cached.

use anyhow::Context as _;
use ibkr_oauth::model::{ScannerFilter, ScannerRequest};
use rust_decimal::Decimal;
use store::NewCandidate;

use super::{JobOutcome, closed_today};
use crate::context::AppContext;

pub async fn run(ctx: &AppContext) -> anyhow::Result<JobOutcome> {
    if let Some(skip) = closed_today(ctx) {
        return Ok(skip);
    }
    let now = ctx.now();
    let today = ctx.today();
    let s = &ctx.strategy;
    let request = ScannerRequest::asx(
        "HIGH_OPEN_GAP",
        vec![
            ScannerFilter {
                code: "priceAbove".into(),
                value: s.min_price,
            },
            ScannerFilter {
                code: "volumeAbove".into(),
                value: Decimal::from(s.min_volume),
            },
        ],
    );
    let result = ctx
        .ibkr
        .session
        .scanner_run(&request)
        .await
        .context("the IBKR scanner failed")?;
    let contracts: Vec<strategy::ScanContract> = result
        .contracts
        .iter()
        .map(|c| strategy::ScanContract {
            conid: c.conid,
            symbol: c.symbol.clone().unwrap_or_default(),
            company_name: c.company_name.clone(),
            scan_data: c.scan_data.clone(),
            listing_exchange: c.listing_exchange.clone(),
            last_price: None,
        })
        .collect();
    let hits = strategy::parse_scan(&contracts);

    let page = ctx
        .http
        .get(&ctx.settings.asx.announcements_url)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| anyhow::anyhow!("{}", e.without_url()))
        .context("cannot fetch the ASX announcements page")?
        .text()
        .await
        .context("cannot read the ASX announcements page")?;
    let announcements = strategy::asx::parse_announcements(&page)
        .context("the ASX announcements page could not be read (its format may have changed); not trading on an empty list")?;
    let sensitive = announcements.iter().filter(|a| a.price_sensitive).count();

    let chosen = strategy::select_candidates(&hits, &announcements, today, s);
    for c in &chosen {
        let first = announcements
            .iter()
            .find(|a| a.price_sensitive && a.ticker == c.ticker && a.time.date() == today);
        let announced_at = first
            .and_then(|a| a.time.and_local_timezone(ctx.tz).earliest())
            .map(|t| t.with_timezone(&chrono::Utc));
        ctx.store
            .upsert_candidate(&NewCandidate {
                trading_day: today,
                ticker: c.ticker.as_str().to_string(),
                conid: c.conid,
                gap_pct: c.gap.value(),
                headline: c.headlines.first().cloned(),
                announced_at,
                price_sensitive: true,
                scanned_at: now,
                last_price: c.last_price.map(|p| p.value()),
                prev_close: None,
            })
            .await
            .with_context(|| format!("cannot store candidate {}", c.ticker.as_str()))?;
        if let Err(e) = ctx.store.put_contract(c.ticker.as_str(), c.conid).await {
            tracing::warn!(ticker = c.ticker.as_str(), "cannot cache the conid: {e}");
        }
    }
    let names: Vec<&str> = chosen.iter().map(|c| c.ticker.as_str()).collect();
    let detail = format!(
        "{} gap(s) from the scanner, {} price-sensitive announcement(s), {} candidate(s){}{}",
        hits.len(),
        sensitive,
        chosen.len(),
        if names.is_empty() { "" } else { ": " },
        names.join(", ")
    );
    ctx.notifier.send(format!("🔭 scan {today}: {detail}"));
    Ok(JobOutcome::Done(detail))
}
