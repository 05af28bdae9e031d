//! `skimd demo`: a whole scripted trading day against an in-process `ibkr-sim`, with throwaway
//! keys and a temporary database. The real jobs run at simulated times (the clock is fixed per
//! step) while the script moves prices. [`World`] is also what the integration tests use.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveTime, Utc};
use ibkr_sim::{Quote, ScanRow, Sim, SimAnnouncement, SimConfig, SimHandle};
use rust_decimal::Decimal;

use crate::clock::{Clock, FixedClock, exchange_to_utc};
use crate::configuration::{LoadOptions, Settings};
use crate::context::AppContext;
use crate::jobs::{self, JobKind, JobLocks, JobOutcome};
use crate::notify::Notifier;

/// The demo's stocks.
pub const PLS: u64 = 1001;
pub const DRO: u64 = 1002;
pub const WDS: u64 = 1003;
pub const BHP: u64 = 1004;
pub const XYZ: u64 = 1005;

/// A simulator, a temporary directory with keys and a database, and the settings that point
/// at them.
pub struct World {
    pub sim: SimHandle,
    pub dir: tempfile::TempDir,
    pub env: HashMap<String, String>,
    pub day: NaiveDate,
    pub clock: Arc<FixedClock>,
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

/// A quote with the day's high and low.
pub fn quote(last: &str, high: &str, low: &str, prior_close: &str) -> Quote {
    let l = d(last);
    let step = if l < Decimal::from(2) {
        d("0.005")
    } else {
        d("0.01")
    };
    Quote {
        last: Some(l),
        bid: Some(l - step),
        ask: Some(l + step),
        high: Some(d(high)),
        low: Some(d(low)),
        open: Some(d(low)),
        prior_close: Some(d(prior_close)),
        volume: Some(d("250000")),
    }
}

impl World {
    /// Starts the simulator with fresh keys and writes them to a temporary directory.
    pub async fn start() -> anyhow::Result<World> {
        let sim = Sim::start(SimConfig::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the simulator: {e}"))?;
        let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
        let keys = dir.path().join("oauth_keys");
        sim.credentials()
            .write_to_dir(&keys)
            .map_err(|e| anyhow::anyhow!("cannot write the demo keys: {e}"))?;
        let creds = sim.credentials();
        let mut env: HashMap<String, String> = creds
            .env_lines(
                &keys.join("private_signature.pem"),
                &keys.join("private_encryption.pem"),
            )
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let db = dir.path().join("skim.db");
        for (k, v) in [
            ("SKIM_IBKR__BASE_URL", sim.base_url()),
            ("SKIM_ASX__ANNOUNCEMENTS_URL", sim.announcements_url()),
            ("SKIM_IBKR__INIT_SETTLE_MS", "0".into()),
            // The simulator's 429s carry no penalty box: wait a second, not IBKR's minute.
            ("SKIM_IBKR__RATE_LIMIT_WAIT_SECS", "1".into()),
            ("SKIM_HEALTH__PORT", "0".into()),
            ("DATABASE_URL", format!("sqlite://{}", db.display())),
        ] {
            env.insert(k.to_string(), v);
        }
        // The demo day: the next full ASX trading day from today in Sydney (or today).
        let calendar = strategy::asx::Calendar::new(vec![], vec![]);
        let mut day = Utc::now()
            .with_timezone(&chrono_tz::Australia::Sydney)
            .date_naive();
        // A full trading day: the script runs to 16:15, past an early close's 14:10.
        while !calendar.is_trading_day(day) || calendar.is_early_close(day) {
            day = day.succ_opt().context("no next day")?;
        }
        let clock = Arc::new(FixedClock::new(Utc::now()));
        let world = World {
            sim,
            dir,
            env,
            day,
            clock,
        };
        world.set_time(9, 50, 0);
        Ok(world)
    }

    pub fn settings(&self) -> anyhow::Result<Settings> {
        Ok(Settings::load(&LoadOptions {
            config_file: None,
            read_cwd_defaults: false,
            env: self.env.clone(),
        })?)
    }

    /// Connects a context (one handshake) on the world's fixed clock.
    pub async fn context(&self, notifier: Notifier) -> anyhow::Result<AppContext> {
        let clock: Arc<dyn Clock> = self.clock.clone();
        AppContext::connect(self.settings()?, clock, notifier).await
    }

    /// Sets the trading clock to `hh:mm:ss` Sydney on the demo day.
    pub fn set_time(&self, h: u32, m: u32, s: u32) {
        let t = NaiveTime::from_hms_opt(h, m, s).unwrap_or_default();
        if let Some(at) = exchange_to_utc(chrono_tz::Australia::Sydney, self.day, t) {
            self.clock.set(at);
        }
        // The simulated exchange publishes the simulated day's announcements.
        self.sim.market().set_announcements_date(Some(self.day));
    }

    /// The morning's market: five gappers, three with price-sensitive news.
    pub fn load_market(&self) {
        let m = self.sim.market();
        m.add_contract("PLS", PLS, "PILBARA MINERALS LTD");
        m.add_contract("DRO", DRO, "DRONESHIELD LTD");
        m.add_contract("WDS", WDS, "WOODSIDE ENERGY GROUP LTD");
        m.add_contract("BHP", BHP, "BHP GROUP LTD");
        m.add_contract("XYZ", XYZ, "XYZ RESOURCES LTD");
        m.set_commission(d("6"));
        m.set_quote(PLS, quote("2.40", "2.42", "2.36", "2.15"));
        m.set_quote(DRO, quote("1.150", "1.160", "1.120", "1.060"));
        m.set_quote(WDS, quote("29.80", "29.90", "29.60", "28.30"));
        m.set_quote(BHP, quote("45.00", "45.20", "44.80", "42.40"));
        m.set_quote(XYZ, quote("0.800", "0.805", "0.795", "0.790"));
        let row = |conid, symbol: &str, name: &str, gap: &str| ScanRow {
            conid,
            symbol: symbol.into(),
            company_name: name.into(),
            gap_pct: d(gap),
        };
        m.set_scanner_results(vec![
            row(PLS, "PLS", "PILBARA MINERALS LTD", "11.63"),
            row(DRO, "DRO", "DRONESHIELD LTD", "8.49"),
            row(BHP, "BHP", "BHP GROUP LTD", "6.13"),
            row(WDS, "WDS", "WOODSIDE ENERGY GROUP LTD", "5.30"),
            row(XYZ, "XYZ", "XYZ RESOURCES LTD", "1.27"),
        ]);
        let ann = |ticker: &str, time: &str, ps: bool, headline: &str| SimAnnouncement {
            ticker: ticker.into(),
            time: time.into(),
            price_sensitive: ps,
            headline: headline.into(),
            pages: 3,
        };
        m.set_announcements(vec![
            ann(
                "PLS",
                "8:31 am",
                true,
                "Offtake agreement with major battery maker",
            ),
            ann("DRO", "8:45 am", true, "$61m European defence contract"),
            ann("WDS", "9:02 am", true, "Quarterly production report"),
            ann(
                "BHP",
                "9:10 am",
                false,
                "Change of director's interest notice",
            ),
            ann("XYZ", "9:15 am", true, "Drilling results"),
        ]);
    }
}

/// A step of the scripted day: a time, a market change, the jobs to run.
struct Step {
    at: (u32, u32, u32),
    say: &'static str,
    market: fn(&SimHandle),
    jobs: &'static [JobKind],
}

fn no_change(_: &SimHandle) {}

/// Runs the whole demo: prints as it goes and a table at the end.
pub async fn run() -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    println!(
        "skim demo: a simulated ASX trading day against ibkr-sim (throwaway keys, temporary database)\n"
    );
    let world = World::start().await?;
    world.load_market();
    let ctx = world.context(Notifier::echoing()).await?;
    println!(
        "connected to the simulator as {} ({}), trading day {}\n",
        ctx.ibkr.account,
        ctx.mode(),
        world.day
    );
    crate::broker::startup_reconcile(&ctx).await?;
    let locks = JobLocks::default();
    let steps = [
        Step {
            at: (9, 55, 0),
            say: "pre-open: a new trading day",
            market: no_change,
            jobs: &[JobKind::Purge],
        },
        Step {
            at: (10, 0, 30),
            say: "the open: scan for gaps with price-sensitive news",
            market: no_change,
            jobs: &[JobKind::Scan],
        },
        Step {
            at: (10, 2, 0),
            say: "alert the candidates",
            market: no_change,
            jobs: &[JobKind::Alert],
        },
        Step {
            at: (10, 5, 0),
            say: "opening range complete: PLS 2.30–2.50, DRO 1.100–1.200, WDS 29.50–30.00",
            market: |s| {
                let m = s.market();
                m.set_quote(PLS, quote("2.45", "2.50", "2.30", "2.15"));
                m.set_quote(DRO, quote("1.180", "1.200", "1.100", "1.060"));
                m.set_quote(WDS, quote("29.70", "30.00", "29.50", "28.30"));
            },
            jobs: &[JobKind::TrackRanges],
        },
        Step {
            at: (10, 10, 0),
            say: "PLS breaks its opening-range high (last 2.55 > 2.50)",
            market: |s| {
                s.market()
                    .set_quote(PLS, quote("2.55", "2.55", "2.30", "2.15"))
            },
            jobs: &[JobKind::Trade, JobKind::Manage],
        },
        Step {
            at: (10, 20, 0),
            say: "DRO breaks out (last 1.230 > 1.200); WDS stays inside its range",
            market: |s| {
                s.market()
                    .set_quote(DRO, quote("1.230", "1.230", "1.100", "1.060"));
                s.market()
                    .set_quote(WDS, quote("29.90", "30.00", "29.50", "28.30"));
            },
            jobs: &[JobKind::Trade, JobKind::Manage],
        },
        Step {
            at: (11, 30, 0),
            say: "PLS reverses through its stop at 2.30: the broker's STP sells it",
            market: |s| {
                s.market()
                    .set_quote(PLS, quote("2.25", "2.55", "2.25", "2.15"))
            },
            jobs: &[JobKind::Manage, JobKind::Trade],
        },
        Step {
            at: (14, 0, 0),
            say: "DRO trends up; WDS never breaks out",
            market: |s| {
                s.market()
                    .set_quote(DRO, quote("1.300", "1.310", "1.100", "1.060"))
            },
            jobs: &[JobKind::Trade, JobKind::Manage],
        },
        Step {
            at: (15, 50, 0),
            say: "end-of-day exits (DRO is on day 1: held)",
            market: no_change,
            jobs: &[JobKind::Exits],
        },
        Step {
            at: (16, 15, 0),
            say: "the day's summary",
            market: no_change,
            jobs: &[JobKind::Summary],
        },
    ];
    for step in &steps {
        world.set_time(step.at.0, step.at.1, step.at.2);
        println!(
            "── {:02}:{:02}:{:02}  {}",
            step.at.0, step.at.1, step.at.2, step.say
        );
        (step.market)(&world.sim);
        for kind in step.jobs {
            match jobs::run_recorded(&ctx, &locks, *kind).await {
                Ok(JobOutcome::Done(d)) => println!("   {kind}: {d}"),
                Ok(JobOutcome::Skipped(d)) => println!("   {kind}: skipped ({d})"),
                Err(e) => println!("   {kind}: ERROR {e}"),
            }
        }
    }

    // The table.
    println!("\n── the day in the journal");
    let mut rows = Vec::new();
    let mut positions = ctx.store.positions_entered_on(world.day).await?;
    positions.sort_by(|a, b| a.ticker.cmp(&b.ticker));
    for p in &positions {
        rows.push(vec![
            p.ticker.clone(),
            p.original_quantity.to_string(),
            p.avg_entry_price
                .map(|x| x.round_dp(3).normalize().to_string())
                .unwrap_or_default(),
            p.stop_price
                .map(|x| x.normalize().to_string())
                .unwrap_or_default(),
            p.exit_price
                .map(|x| x.round_dp(3).normalize().to_string())
                .unwrap_or_else(|| "-".into()),
            p.close_reason
                .clone()
                .unwrap_or_else(|| p.state.to_string()),
            p.realised_pnl.round_dp(2).to_string(),
        ]);
    }
    println!(
        "{}",
        crate::commands::local::table(
            &[
                "TICKER",
                "QTY",
                "ENTRY",
                "STOP",
                "EXIT",
                "OUTCOME",
                "REALISED P&L"
            ],
            &rows
        )
    );
    let pnl = ctx.store.realised_pnl_for_day(world.day).await?;
    let stats = world.sim.stats();
    println!(
        "\nrealised P&L {} AUD · orders at the broker {} · handshakes {} · rate-limit violations {} · short positions {} · {:.1} s",
        pnl.round_dp(2),
        stats.orders_placed,
        stats.handshakes,
        stats.violations_total(),
        stats.short_positions_seen,
        started.elapsed().as_secs_f64()
    );
    let _ = ctx.ibkr.session.logout().await;
    world.sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
