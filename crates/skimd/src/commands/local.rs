//! Commands that need only the database (or the running daemon's health endpoint):
//! `positions`, `candidates`, `orders`, `pause`, `resume`, `backup`, `healthcheck`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use store::Store;

use crate::configuration::Settings;

pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::open(&settings.database.url).await.with_context(|| {
        format!(
            "cannot open the database {} (database.url)",
            settings.database.url
        )
    })
}

fn dec(d: Option<Decimal>) -> String {
    d.map(|d| d.normalize().to_string())
        .unwrap_or_else(|| "-".into())
}

fn local_time(t: Option<DateTime<Utc>>, tz: Tz) -> String {
    t.map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

/// A plain text table with left-aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{:<w$}", c, w = widths.get(i).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(headers.iter().map(|h| h.to_string()).collect());
    out.push('\n');
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect()));
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.clone()));
    }
    out
}

pub fn position_json(p: &store::Position) -> Value {
    json!({
        "id": p.id, "ticker": p.ticker, "conid": p.conid, "state": p.state.as_str(),
        "trading_day": p.trading_day.to_string(), "quantity": p.quantity,
        "original_quantity": p.original_quantity,
        "avg_entry_price": p.avg_entry_price.map(|d| d.to_string()),
        "stop_price": p.stop_price.map(|d| d.to_string()),
        "stop_ibkr_order_id": p.stop_ibkr_order_id,
        "half_exit_done": p.half_exit_done, "realised_pnl": p.realised_pnl.to_string(),
        "entry_at": p.entry_at.map(|t| t.to_rfc3339()),
    })
}

pub async fn positions(settings: &Settings, json_out: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let list = store
        .open_positions()
        .await
        .context("cannot read positions")?;
    if json_out {
        println!("{}", Value::Array(list.iter().map(position_json).collect()));
    } else if list.is_empty() {
        println!("no open positions");
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|p| {
                vec![
                    p.ticker.clone(),
                    p.state.to_string(),
                    p.quantity.to_string(),
                    dec(p.avg_entry_price),
                    dec(p.stop_price),
                    if p.stop_ibkr_order_id.is_some() {
                        "at broker".into()
                    } else {
                        "-".into()
                    },
                    p.trading_day.to_string(),
                    if p.half_exit_done {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    p.realised_pnl.normalize().to_string(),
                ]
            })
            .collect();
        println!(
            "{}",
            table(
                &[
                    "TICKER",
                    "STATE",
                    "QTY",
                    "ENTRY",
                    "STOP",
                    "STOP ORDER",
                    "ENTERED",
                    "HALF SOLD",
                    "REALISED"
                ],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn candidates(
    settings: &Settings,
    now: DateTime<Utc>,
    json_out: bool,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let tz = settings.timezone()?;
    let day = now.with_timezone(&tz).date_naive();
    let list = store
        .candidates_for_day(day)
        .await
        .context("cannot read candidates")?;
    if json_out {
        let v: Vec<Value> = list
            .iter()
            .map(|c| {
                json!({
                    "ticker": c.ticker, "conid": c.conid, "trading_day": c.trading_day.to_string(),
                    "gap_pct": c.gap_pct.to_string(), "headline": c.headline,
                    "price_sensitive": c.price_sensitive,
                    "range_high": c.range_high.map(|d| d.to_string()),
                    "range_low": c.range_low.map(|d| d.to_string()),
                    "status": c.status.as_str(), "status_reason": c.status_reason,
                })
            })
            .collect();
        println!("{}", Value::Array(v));
    } else if list.is_empty() {
        println!("no candidates for {day}");
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|c| {
                vec![
                    c.ticker.clone(),
                    format!("{}%", c.gap_pct.normalize()),
                    dec(c.range_high),
                    dec(c.range_low),
                    c.status.to_string(),
                    c.headline
                        .clone()
                        .unwrap_or_default()
                        .chars()
                        .take(60)
                        .collect(),
                ]
            })
            .collect();
        println!("candidates for {day}");
        println!(
            "{}",
            table(
                &[
                    "TICKER",
                    "GAP",
                    "RANGE HIGH",
                    "RANGE LOW",
                    "STATUS",
                    "HEADLINE"
                ],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn order_json(o: &store::Order) -> Value {
    json!({
        "coid": o.coid, "ibkr_order_id": o.ibkr_order_id, "trading_day": o.trading_day.to_string(),
        "ticker": o.ticker, "conid": o.conid, "side": o.side.as_str(), "type": o.order_type.as_str(),
        "quantity": o.quantity, "limit_price": o.limit_price.map(|d| d.to_string()),
        "stop_price": o.stop_price.map(|d| d.to_string()), "purpose": o.purpose.as_str(),
        "state": o.state.as_str(), "filled_quantity": o.filled_quantity,
        "avg_fill_price": o.avg_fill_price.map(|d| d.to_string()), "broker_status": o.broker_status,
        "detail": o.detail, "created_at": o.created_at.to_rfc3339(),
    })
}

pub async fn orders(
    settings: &Settings,
    now: DateTime<Utc>,
    json_out: bool,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let tz = settings.timezone()?;
    let day = now.with_timezone(&tz).date_naive();
    let mut list = store
        .orders_for_day(day)
        .await
        .context("cannot read orders")?;
    for o in store.open_orders().await.context("cannot read orders")? {
        if !list.iter().any(|x| x.id == o.id) {
            list.push(o);
        }
    }
    if json_out {
        println!("{}", Value::Array(list.iter().map(order_json).collect()));
    } else if list.is_empty() {
        println!("no orders today ({day}) and none open");
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|o| {
                vec![
                    local_time(Some(o.created_at), tz),
                    o.ticker.clone(),
                    o.side.to_string(),
                    o.order_type.to_string(),
                    o.quantity.to_string(),
                    dec(o.limit_price.or(o.stop_price)),
                    o.purpose.to_string(),
                    o.state.to_string(),
                    format!("{}@{}", o.filled_quantity, dec(o.avg_fill_price)),
                    o.ibkr_order_id.clone().unwrap_or_else(|| "-".into()),
                    o.coid.clone(),
                ]
            })
            .collect();
        println!(
            "{}",
            table(
                &[
                    "CREATED", "TICKER", "SIDE", "TYPE", "QTY", "PRICE", "PURPOSE", "STATE",
                    "FILLED", "IBKR ID", "COID"
                ],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn pause(settings: &Settings, paused: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let flags = store
        .set_paused(paused, "cli", None)
        .await
        .context("cannot change the pause switch")?;
    if flags.paused {
        println!("paused: no new entries; open positions and their stops are still managed");
    } else {
        println!(
            "resumed: new entries allowed{}",
            if flags.trading_enabled {
                ""
            } else {
                " (but trading is disabled until the daemon's startup reconciliation succeeds)"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn backup(settings: &Settings, to: &Path) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    store
        .backup(to)
        .await
        .with_context(|| format!("cannot back up the database to {}", to.display()))?;
    println!("backed up {} to {}", store.path().display(), to.display());
    Ok(ExitCode::SUCCESS)
}

/// Exit 0 when the daemon's `/healthz` answers 200.
pub async fn healthcheck(settings: &Settings) -> anyhow::Result<ExitCode> {
    if !settings.health.enabled {
        anyhow::bail!("health.enabled is false: the daemon serves no /healthz");
    }
    let url = format!("http://127.0.0.1:{}/healthz", settings.health.port);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .context("cannot build an HTTP client")?;
    let res = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("no daemon answering at {url}"))?;
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    println!("{body}");
    if status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("skimd: unhealthy ({status})");
        Ok(ExitCode::FAILURE)
    }
}
