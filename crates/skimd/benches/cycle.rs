//! Broker calls per job cycle, measured against an in-process `ibkr-sim`.
//!
//! `cargo bench -p skimd --bench cycle` (release profile). Not a criterion benchmark: each
//! cycle is run once on purpose (a cycle changes the book), and what matters is how many HTTP
//! requests it sends per route (`SimStats::requests`), with its wall time beside it.
//!
//! The day is built with the real jobs: 20 gap stocks with price-sensitive announcements →
//! `scan` (20 candidates) → `track-ranges` (20 complete opening ranges). Then:
//! - `trade`, none breaking out (the first run after track-ranges, then a steady-state run);
//! - `trade`, 5 breaking out (5 entries, their fills, 5 broker stops);
//! - `manage` with 5 open positions (twice: the first also applies the new orders' statuses);
//! - a stretch of the 30 s schedule (trade at :00/:30, manage at :15/:45), per-tick calls,
//!   then exits and summary: the whole day on one session, handshakes counted by the sim;
//! - at the end, what one more connect costs (what the per-run Python bot paid every job).
//!
//! Measured cycles start ≥ 5.2 s after the previous broker call to `/iserver/account/trades`
//! or `/iserver/account/orders`, as on the real schedule (trade and manage are 15 s apart), so
//! the client's pacing (1 call per 5 s on those routes) does not show up as cycle time. The
//! schedule stretch does not wait: its wall time includes that pacing.
//!
//! `SKIM_BENCH_TICKS` (default 6) sets how many trade+manage pairs the schedule stretch runs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ibkr_sim::{ScanRow, SimAnnouncement, SimStats};
use rust_decimal::Decimal;
use skimd::context::AppContext;
use skimd::demo::{World, quote};
use skimd::jobs::{self, JobKind, JobLocks, JobOutcome};
use skimd::notify::Notifier;
use store::CandidateStatus;

const STOCKS: u64 = 20;
const BREAKOUTS: u64 = 5;
const FIRST_CONID: u64 = 2_001;
/// The client paces `/iserver/account/{orders,trades}` to one call per 5 s.
const PACING_GAP: Duration = Duration::from_millis(5_200);

/// One stock: its conid, ticker and prior close in cents.
struct Stock {
    conid: u64,
    ticker: String,
    close_cents: i64,
}

fn stocks() -> Vec<Stock> {
    (0..STOCKS)
        .map(|i| {
            // GPA, GPB, … : three upper-case letters, as ASX codes are.
            let letter = char::from(b'A' + u8::try_from(i).unwrap_or(0));
            Stock {
                conid: FIRST_CONID + i,
                ticker: format!("GP{letter}"),
                close_cents: 200 + 10 * i64::try_from(i).unwrap_or(0),
            }
        })
        .collect()
}

fn cents(c: i64) -> String {
    Decimal::new(c, 2).to_string()
}

impl Stock {
    /// (last, high, low) in cents above the prior close → a quote.
    fn quote(&self, last: i64, high: i64, low: i64) -> ibkr_sim::Quote {
        let c = self.close_cents;
        quote(
            &cents(c + last),
            &cents(c + high),
            &cents(c + low),
            &cents(c),
        )
    }
}

/// Loads 20 gappers (5 % to 14.5 %), each with a price-sensitive announcement.
fn load_market(world: &World, stocks: &[Stock]) {
    let m = world.sim.market();
    m.set_commission(Decimal::from(6));
    let mut rows = Vec::new();
    let mut anns = Vec::new();
    for (i, s) in stocks.iter().enumerate() {
        let name = format!("{} GAP HOLDINGS LTD", s.ticker);
        m.add_contract(&s.ticker, s.conid, &name);
        m.set_quote(s.conid, s.quote(12, 14, 10));
        rows.push(ScanRow {
            conid: s.conid,
            symbol: s.ticker.clone(),
            company_name: name,
            gap_pct: Decimal::new(50 + 5 * i64::try_from(i).unwrap_or(0), 1),
        });
        anns.push(SimAnnouncement {
            ticker: s.ticker.clone(),
            time: format!("{}:{:02} am", 8 + i / 10, (i % 10) * 5),
            price_sensitive: true,
            headline: format!("{} wins a material contract", s.ticker),
            pages: 2,
        });
    }
    m.set_scanner_results(rows);
    m.set_announcements(anns);
}

/// What one measured step cost.
struct Cost {
    label: String,
    requests: BTreeMap<String, u64>,
    handshakes: u64,
    violations: u64,
    wall: Duration,
    outcome: String,
}

impl Cost {
    fn total(&self) -> u64 {
        self.requests.values().sum()
    }
}

fn diff(before: &SimStats, after: &SimStats) -> BTreeMap<String, u64> {
    after
        .requests
        .iter()
        .filter_map(|(route, n)| {
            let d = n - before.requests_to(route);
            (d > 0).then(|| (route.clone(), d))
        })
        .collect()
}

struct Bench {
    world: World,
    ctx: AppContext,
    locks: JobLocks,
    costs: Vec<Cost>,
}

impl Bench {
    /// Runs jobs as the scheduler would (`run_recorded`) and records what they cost.
    async fn measure(&mut self, label: &str, kinds: &[JobKind]) -> anyhow::Result<&Cost> {
        let before = self.world.sim.stats();
        let started = Instant::now();
        let mut outcomes = Vec::new();
        for kind in kinds {
            match jobs::run_recorded(&self.ctx, &self.locks, *kind).await {
                Ok(JobOutcome::Done(d)) => outcomes.push(format!("{kind}: {d}")),
                Ok(JobOutcome::Skipped(d)) => outcomes.push(format!("{kind}: skipped ({d})")),
                Err(e) => bail!("{kind} failed: {e}"),
            }
        }
        let wall = started.elapsed();
        let after = self.world.sim.stats();
        self.costs.push(Cost {
            label: label.to_string(),
            requests: diff(&before, &after),
            handshakes: after.handshakes - before.handshakes,
            violations: after.violations_total() - before.violations_total(),
            wall,
            outcome: outcomes.join(" | "),
        });
        let cost = self.costs.last().context("just pushed")?;
        println!(
            "{label}: {} request(s), {:.1} ms — {}",
            cost.total(),
            wall.as_secs_f64() * 1e3,
            cost.outcome
        );
        Ok(cost)
    }

    async fn candidates_with_ranges(&self) -> anyhow::Result<usize> {
        Ok(self
            .ctx
            .store
            .candidates_for_day(self.world.day)
            .await?
            .iter()
            .filter(|c| c.status == CandidateStatus::Watching && c.range_high.is_some())
            .count())
    }
}

fn print_table(title: &str, costs: &[&Cost]) {
    let mut routes: Vec<&String> = costs.iter().flat_map(|c| c.requests.keys()).collect();
    routes.sort();
    routes.dedup();
    println!("\n### {title}\n");
    let head: Vec<&str> = costs.iter().map(|c| c.label.as_str()).collect();
    println!("| route | {} |", head.join(" | "));
    println!("|---|{}", "---:|".repeat(costs.len()));
    for r in routes {
        let cells: Vec<String> = costs
            .iter()
            .map(|c| c.requests.get(r).copied().unwrap_or(0).to_string())
            .collect();
        println!("| `{r}` | {} |", cells.join(" | "));
    }
    let totals: Vec<String> = costs.iter().map(|c| format!("**{}**", c.total())).collect();
    println!("| **total requests** | {} |", totals.join(" | "));
    let hs: Vec<String> = costs.iter().map(|c| c.handshakes.to_string()).collect();
    println!("| handshakes | {} |", hs.join(" | "));
    let v: Vec<String> = costs.iter().map(|c| c.violations.to_string()).collect();
    println!("| rate-limit violations | {} |", v.join(" | "));
    let w: Vec<String> = costs
        .iter()
        .map(|c| format!("{:.1} ms", c.wall.as_secs_f64() * 1e3))
        .collect();
    println!("| wall time | {} |", w.join(" | "));
}

async fn run() -> anyhow::Result<()> {
    skimd::telemetry::init_for_tests();
    let ticks: u32 = std::env::var("SKIM_BENCH_TICKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
        .clamp(1, 700);
    let world = World::start().await?;
    let stocks = stocks();
    load_market(&world, &stocks);

    let before_connect = world.sim.stats();
    let started = Instant::now();
    let ctx = world.context(Notifier::disabled()).await?;
    skimd::broker::startup_reconcile(&ctx).await?;
    let startup_wall = started.elapsed();
    let after_connect = world.sim.stats();
    let startup = Cost {
        label: "daemon start (connect + reconcile)".into(),
        requests: diff(&before_connect, &after_connect),
        handshakes: after_connect.handshakes - before_connect.handshakes,
        violations: after_connect.violations_total() - before_connect.violations_total(),
        wall: startup_wall,
        outcome: String::new(),
    };
    let mut b = Bench {
        world,
        ctx,
        locks: JobLocks::default(),
        costs: vec![startup],
    };

    // The morning, through the real jobs.
    b.world.set_time(9, 55, 0);
    b.measure("purge", &[JobKind::Purge]).await?;
    b.world.set_time(10, 0, 30);
    b.measure("scan", &[JobKind::Scan]).await?;
    b.world.set_time(10, 2, 0);
    b.measure("alert", &[JobKind::Alert]).await?;
    b.world.set_time(10, 5, 0);
    for s in &stocks {
        // Opening range: close + 8c … close + 20c; last inside it.
        b.world.sim.market().set_quote(s.conid, s.quote(15, 20, 8));
    }
    b.measure("track-ranges", &[JobKind::TrackRanges]).await?;
    let ready = b.candidates_with_ranges().await?;
    if ready != stocks.len() {
        bail!(
            "expected {} candidates with complete ranges, got {ready}",
            stocks.len()
        );
    }

    // (a) nobody breaks out.
    tokio::time::sleep(PACING_GAP).await;
    b.world.set_time(10, 5, 30);
    b.measure("trade, 0 breakouts (1st)", &[JobKind::Trade])
        .await?;
    b.world.set_time(10, 6, 0);
    b.measure("trade, 0 breakouts", &[JobKind::Trade]).await?;

    // (b) five break out (last and high 5c above the range high).
    for s in stocks.iter().take(usize::try_from(BREAKOUTS)?) {
        b.world.sim.market().set_quote(s.conid, s.quote(25, 25, 8));
    }
    tokio::time::sleep(PACING_GAP).await;
    b.world.set_time(10, 6, 30);
    let c = b.measure("trade, 5 breakouts", &[JobKind::Trade]).await?;
    if !c.outcome.contains("entries placed") {
        bail!("the breakout cycle placed nothing: {}", c.outcome);
    }
    let held = b.ctx.store.open_positions().await?.len();
    let stops = b
        .world
        .sim
        .market()
        .orders()
        .iter()
        .filter(|o| o.stop_price().is_some())
        .count();
    println!("after the breakout cycle: {held} open position(s), {stops} stop order(s) at the sim");

    // Manage with 5 open positions.
    tokio::time::sleep(PACING_GAP).await;
    b.world.set_time(10, 6, 45);
    b.measure("manage, 5 open (1st)", &[JobKind::Manage])
        .await?;
    tokio::time::sleep(PACING_GAP).await;
    b.world.set_time(10, 7, 15);
    b.measure("manage, 5 open", &[JobKind::Manage]).await?;
    tokio::time::sleep(PACING_GAP).await;
    b.world.set_time(10, 7, 30);
    b.measure("trade, 0 breakouts, 5 held", &[JobKind::Trade])
        .await?;

    // A stretch of the schedule, not waiting out the pacing.
    let stretch_from = b.costs.len();
    let stretch_started = Instant::now();
    for i in 0..ticks {
        // From 10:08:00, every 30 s (at most 700 ticks: before 15:59).
        let secs = 10 * 3600 + 8 * 60 + i * 30;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        b.world.set_time(h, m, s);
        b.measure(&format!("{h}:{m:02}:{s:02} trade"), &[JobKind::Trade])
            .await?;
        b.world.set_time(h, m, s + 15);
        b.measure(
            &format!("{h}:{m:02}:{:02} manage", s + 15),
            &[JobKind::Manage],
        )
        .await?;
    }
    let stretch_wall = stretch_started.elapsed();
    let stretch: Vec<&Cost> = b.costs[stretch_from..].iter().collect();
    let per = |suffix: &str| -> (BTreeMap<String, u64>, u64) {
        let mut sum = BTreeMap::new();
        let mut n = 0;
        for c in stretch.iter().filter(|c| c.label.ends_with(suffix)) {
            n += 1;
            for (r, k) in &c.requests {
                *sum.entry(r.clone()).or_insert(0) += k;
            }
        }
        (sum, n)
    };
    let (trade_sum, trade_n) = per("trade");
    let (manage_sum, manage_n) = per("manage");
    let stretch_requests: u64 = stretch.iter().map(|c| c.total()).sum();
    let stretch_handshakes: u64 = stretch.iter().map(|c| c.handshakes).sum();

    b.world.set_time(15, 50, 0);
    b.measure("exits", &[JobKind::Exits]).await?;
    b.world.set_time(16, 15, 0);
    b.measure("summary", &[JobKind::Summary]).await?;
    let day = b.world.sim.stats();

    // What the per-run bot paid on every job: one more connect on the same sim.
    let before = b.world.sim.stats();
    let started = Instant::now();
    let extra = b.world.context(Notifier::disabled()).await?;
    let connect_wall = started.elapsed();
    let after = b.world.sim.stats();
    let connect = Cost {
        label: "one more connect".into(),
        requests: diff(&before, &after),
        handshakes: after.handshakes - before.handshakes,
        violations: after.violations_total() - before.violations_total(),
        wall: connect_wall,
        outcome: String::new(),
    };
    let _ = extra.ibkr.session.logout().await;
    let _ = b.ctx.ibkr.session.logout().await;

    // The tables.
    let find = |label: &str| b.costs.iter().find(|c| c.label == label);
    let cycles: Vec<&Cost> = [
        "trade, 0 breakouts (1st)",
        "trade, 0 breakouts",
        "trade, 5 breakouts",
        "manage, 5 open (1st)",
        "manage, 5 open",
        "trade, 0 breakouts, 5 held",
    ]
    .iter()
    .filter_map(|l| find(l))
    .collect();
    print_table("Cycles, 20 candidates with complete ranges", &cycles);
    let daily: Vec<&Cost> = [
        "daemon start (connect + reconcile)",
        "purge",
        "scan",
        "alert",
        "track-ranges",
        "exits",
        "summary",
    ]
    .iter()
    .filter_map(|l| find(l))
    .chain(std::iter::once(&connect))
    .collect();
    print_table("Once-a-day steps (and one more connect)", &daily);

    println!(
        "\n### Schedule stretch: {ticks} trade + {ticks} manage ticks (5 held, 15 watching)\n"
    );
    println!("| route | per trade tick | per manage tick |");
    println!("|---|---:|---:|");
    let mut routes: Vec<&String> = trade_sum.keys().chain(manage_sum.keys()).collect();
    routes.sort();
    routes.dedup();
    let avg = |m: &BTreeMap<String, u64>, r: &str, n: u64| {
        format!(
            "{:.2}",
            m.get(r).copied().unwrap_or(0) as f64 / n.max(1) as f64
        )
    };
    for r in routes {
        println!(
            "| `{r}` | {} | {} |",
            avg(&trade_sum, r, trade_n),
            avg(&manage_sum, r, manage_n)
        );
    }
    let per_trade = trade_sum.values().sum::<u64>() as f64 / trade_n.max(1) as f64;
    let per_manage = manage_sum.values().sum::<u64>() as f64 / manage_n.max(1) as f64;
    println!("| **total** | **{per_trade:.2}** | **{per_manage:.2}** |");
    println!(
        "\nstretch: {stretch_requests} requests, {stretch_handshakes} handshake(s), {:.1} s wall (includes the client's 1-per-5 s pacing of /iserver/account/{{orders,trades}})",
        stretch_wall.as_secs_f64()
    );
    // A full day on the default schedule: trade */30 10:00–15:59 (720 ticks, 651 of them
    // between 10:05 and the 15:30 cutoff do work), manage 15/30 10:00–16:59 (840 ticks).
    let (trade_ticks, manage_ticks) = (651.0, 840.0);
    println!(
        "extrapolated day: {trade_ticks} trade ticks × {per_trade:.2} + {manage_ticks} manage ticks × {per_manage:.2} ≈ {:.0} requests",
        trade_ticks * per_trade + manage_ticks * per_manage
    );
    println!(
        "\nwhole simulated day on one session: {} handshake(s), {} ssodh/init, {} tickle(s), {} logout(s), {} rate-limit violation(s), {} refused, {} request(s) in all; orders placed {}",
        day.handshakes,
        day.ssodh_inits,
        day.tickles,
        day.logouts,
        day.violations_total(),
        day.rejected_total(),
        day.requests.values().sum::<u64>(),
        day.orders_placed
    );
    println!(
        "one more connect (what every job run of the per-run bot paid first): {} request(s), {} handshake(s), {:.1} ms (init_settle_ms = 0 here; the default is 1000 ms)",
        connect.total(),
        connect.handshakes,
        connect.wall.as_secs_f64() * 1e3
    );
    if day.handshakes != 1 {
        bail!(
            "expected one handshake for the whole day, the sim counted {}",
            day.handshakes
        );
    }
    b.world.sim.shutdown().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes `--bench`; nothing to parse.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run())
}
