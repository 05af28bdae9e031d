//! The exit side end to end, across simulated days: the day-3 half exit (stop cancelled and
//! confirmed before the sale, the rest re-protected), the SMA trail, the broker stop firing
//! between runs, the client-side backstop, stop raises, the daily loss limit and
//! `max_positions`, and a half exit that fills in parts.
//!
//! Every test watches the simulated book while the jobs run: at no sampled moment may the
//! working STP quantity plus the working sells exceed what is held (never short, never both
//! stopped at the broker and sold by skim).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};
use ibkr_oauth::pacer::PacerConfig;
use ibkr_oauth::{Session, SessionConfig};
use ibkr_sim::{Bar, Execution, FillMode, OrderStatus, OrderType, SimAnnouncement, SimOrder};
use rust_decimal::Decimal;
use skimd::clock::{Clock, exchange_to_utc};
use skimd::context::{AppContext, Ibkr};
use skimd::demo::{BHP, DRO, PLS, World, quote};
use skimd::jobs::{JobKind, JobLocks};
use skimd::notify::Notifier;
use store::{CandidateStatus, OrderPurpose, OrderState, PositionState, Store};

use crate::helpers::TestApp;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn day(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

// A week without a holiday: Monday 4 August 2025 → Thursday 7 August is day 3.
const MON: (i32, u32, u32) = (2025, 8, 4);

fn week(offset: u64) -> NaiveDate {
    day(MON.0, MON.1, MON.2)
        .checked_add_days(chrono::Days::new(offset))
        .unwrap()
}

/// Like `spawn_app`, with extra settings, on `on`, and a session without the client-side pacer
/// (the sim does not enforce IBKR's rate limits by default; pacing would cost 5 s per order
/// or trade list and make these multi-day tests take minutes) and short snapshot retries.
async fn fast_app(env: &[(&str, &str)], on: NaiveDate) -> TestApp {
    skimd::telemetry::init_for_tests();
    let mut world = World::start().await.expect("sim starts");
    world.load_market();
    for (k, v) in env {
        world.env.insert((*k).to_string(), (*v).to_string());
    }
    world.day = on;
    world.set_time(9, 50, 0);
    let settings = world.settings().expect("settings");
    let credentials = skimd::context::load_credentials(&settings).expect("credentials");
    let config = SessionConfig {
        pacer: PacerConfig { enabled: false },
        snapshot_retry_delay: Duration::from_millis(20),
        ..skimd::context::session_config(&settings)
    };
    let session = Session::new(credentials, config).expect("session");
    session.authenticate().await.expect("handshake");
    let accounts = session.accounts().await.expect("accounts");
    let ibkr = Ibkr {
        account: accounts.accounts.first().cloned().expect("an account"),
        is_paper: accounts.is_paper,
        session,
    };
    let store = Store::open(&settings.database.url).await.expect("store");
    let clock: Arc<dyn Clock> = world.clock.clone();
    let ctx = AppContext::new(settings, store, ibkr, clock, Notifier::disabled()).expect("ctx");
    skimd::broker::startup_reconcile(&ctx)
        .await
        .expect("startup reconciliation");
    TestApp {
        world,
        ctx: Arc::new(ctx),
        locks: JobLocks::default(),
    }
}

/// Moves the trading clock to `hh:mm` Sydney on `on`.
fn at(app: &mut TestApp, on: NaiveDate, h: u32, m: u32) {
    app.world.day = on;
    app.world.set_time(h, m, 0);
}

/// Watches the sim's book while jobs run: for `conid`, working STP + working sells ≤ held,
/// and held ≥ 0, at every sample. Each sample is one consistent copy of the order list.
struct Watch {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(u64, Vec<String>)>,
}

fn book_violation(orders: &[SimOrder], conid: u64) -> Option<String> {
    let mine = || orders.iter().filter(|o| o.conid == conid);
    let held: Decimal = mine()
        .map(|o| match o.side {
            ibkr_sim::Side::Buy => o.filled,
            ibkr_sim::Side::Sell => -o.filled,
        })
        .sum();
    let working_sells =
        || mine().filter(|o| o.side == ibkr_sim::Side::Sell && o.status.is_working());
    let stops: Decimal = working_sells()
        .filter(|o| o.order_type == OrderType::Stop)
        .map(SimOrder::remaining)
        .sum();
    let sells: Decimal = working_sells()
        .filter(|o| o.order_type != OrderType::Stop)
        .map(SimOrder::remaining)
        .sum();
    (held < Decimal::ZERO || stops + sells > held)
        .then(|| format!("held {held}, working STP {stops}, working sells {sells}"))
}

impl Watch {
    fn start(app: &TestApp, conid: u64) -> Watch {
        let market = app.world.sim.market();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let (mut samples, mut bad) = (0u64, Vec::new());
            loop {
                let done = flag.load(Ordering::SeqCst);
                if let Some(v) = book_violation(&market.orders(), conid) {
                    bad.push(v);
                }
                samples += 1;
                if done {
                    return (samples, bad);
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        });
        Watch { stop, task }
    }

    async fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        let (samples, bad) = self.task.await.unwrap();
        assert!(samples > 10, "the watch sampled the book ({samples})");
        assert!(bad.is_empty(), "over-committed book seen: {bad:?}");
    }
}

fn is_buy(o: &SimOrder) -> bool {
    o.side == ibkr_sim::Side::Buy
}

fn sim_orders(app: &TestApp, conid: u64) -> Vec<SimOrder> {
    app.world
        .sim
        .market()
        .orders()
        .into_iter()
        .filter(|o| o.conid == conid)
        .collect()
}

fn sim_stops(app: &TestApp, conid: u64) -> Vec<SimOrder> {
    sim_orders(app, conid)
        .into_iter()
        .filter(|o| o.order_type == OrderType::Stop)
        .collect()
}

/// Sells at the sim that are not stops (skim's own sales).
fn sim_sales(app: &TestApp, conid: u64) -> Vec<SimOrder> {
    sim_orders(app, conid)
        .into_iter()
        .filter(|o| !is_buy(o) && o.order_type != OrderType::Stop)
        .collect()
}

fn working_stops(app: &TestApp, conid: u64) -> Vec<SimOrder> {
    sim_stops(app, conid)
        .into_iter()
        .filter(|o| o.status.is_working())
        .collect()
}

fn sim_held(app: &TestApp, conid: u64) -> Decimal {
    app.world
        .sim
        .market()
        .positions()
        .into_iter()
        .filter(|(c, _, _)| *c == conid)
        .map(|(_, q, _)| q)
        .sum()
}

fn executions(app: &TestApp, conid: u64) -> Vec<Execution> {
    app.world
        .sim
        .market()
        .executions()
        .into_iter()
        .filter(|e| e.conid == conid)
        .collect()
}

/// Sells − buys − commissions from the broker's own executions.
fn broker_pnl(execs: &[Execution]) -> Decimal {
    execs
        .iter()
        .map(|e| {
            let value = e.price * e.size;
            let signed = if e.side == ibkr_sim::Side::Sell {
                value
            } else {
                -value
            };
            signed - e.commission
        })
        .sum()
}

async fn position(app: &TestApp, ticker: &str, entered: NaiveDate) -> store::Position {
    app.ctx
        .store
        .positions_entered_on(entered)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.ticker == ticker)
        .unwrap_or_else(|| panic!("a {ticker} position entered on {entered}"))
}

/// Every journalled order of a position, over the given days.
async fn store_orders(app: &TestApp, position_id: i64, days: &[NaiveDate]) -> Vec<store::Order> {
    let mut out = Vec::new();
    for d in days {
        out.extend(
            app.ctx
                .store
                .orders_for_day(*d)
                .await
                .unwrap()
                .into_iter()
                .filter(|o| o.position_id == Some(position_id)),
        );
    }
    out.sort_by_key(|o| o.id);
    out
}

fn store_stops(orders: &[store::Order]) -> Vec<&store::Order> {
    orders
        .iter()
        .filter(|o| o.purpose == OrderPurpose::ProtectiveStop)
        .collect()
}

/// Daily bars, one per ASX trading day before `before`, closing at `close`.
fn closes_before(app: &TestApp, before: NaiveDate, n: usize, close: &str) -> Vec<Bar> {
    let mut days = Vec::new();
    let mut dd = before;
    while days.len() < n {
        dd = app.ctx.calendar.prev_trading_day(dd).unwrap();
        days.push(dd);
    }
    days.reverse();
    days.into_iter()
        .map(|dd| Bar {
            t_ms: exchange_to_utc(
                chrono_tz::Australia::Sydney,
                dd,
                NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            )
            .unwrap()
            .timestamp_millis(),
            o: d(close),
            h: d(close),
            l: d(close),
            c: d(close),
            v: d("100000"),
        })
        .collect()
}

/// Monday: BHP (price-sensitive news today) opens 44.80–45.20 and breaks out at 45.30; skim
/// buys 109 @ 45.31 and rests a STP 44.80 for all of it at the broker.
async fn enter_bhp(app: &mut TestApp, on: NaiveDate) -> store::Position {
    at(app, on, 9, 50);
    let ann = |ticker: &str, headline: &str| SimAnnouncement {
        ticker: ticker.into(),
        time: "8:40 am".into(),
        price_sensitive: true,
        headline: headline.into(),
        pages: 2,
    };
    app.world.sim.market().set_announcements(vec![
        ann("PLS", "Offtake agreement"),
        ann("DRO", "Defence contract"),
        ann("BHP", "Record iron ore shipments"),
    ]);
    app.morning().await;
    assert_eq!(
        app.ctx
            .store
            .candidate(on, "BHP")
            .await
            .unwrap()
            .expect("BHP is a candidate")
            .range_high,
        Some(d("45.20"))
    );
    app.world.set_time(10, 10, 0);
    app.world
        .sim
        .market()
        .set_quote(BHP, quote("45.30", "45.30", "44.80", "42.40"));
    app.job(JobKind::Trade).await;
    app.job(JobKind::Manage).await;
    let p = position(app, "BHP", on).await;
    assert_eq!(p.state, PositionState::Open);
    assert_eq!(p.quantity, 109);
    assert_eq!(p.avg_entry_price, Some(d("45.31")));
    assert_eq!(p.stop_price, Some(d("44.80")));
    let stops = working_stops(app, BHP);
    assert_eq!(stops.len(), 1, "one STP at the broker: {stops:?}");
    assert_eq!(stops[0].quantity, d("109"));
    assert_eq!(stops[0].stop_price(), Some(d("44.80")));
    assert_eq!(sim_held(app, BHP), d("109"));
    p
}

/// Runs `exits` at 15:50 on `on` with BHP at `last`.
async fn exits_at(app: &mut TestApp, on: NaiveDate, last: &str) {
    at(app, on, 15, 50);
    app.world
        .sim
        .market()
        .set_quote(BHP, quote(last, last, "44.90", "45.50"));
    app.job(JobKind::Exits).await;
}

/// The day-3 half exit, checked on the sim and in the store: the old STP cancelled, 54 of 109
/// sold at the market, a new STP 44.80 for the 55 left; placed in that order.
async fn assert_half_exited(app: &TestApp, entered: NaiveDate, days: &[NaiveDate]) {
    let orders = sim_orders(app, BHP);
    assert_eq!(orders.len(), 4, "buy, STP, half sale, new STP: {orders:#?}");
    assert!(is_buy(&orders[0]) && orders[0].status == OrderStatus::Filled);
    assert_eq!(orders[1].order_type, OrderType::Stop);
    assert_eq!(
        orders[1].status,
        OrderStatus::Cancelled,
        "old STP cancelled"
    );
    assert!(orders[1].filled.is_zero());
    assert_eq!(orders[2].order_type, OrderType::Market);
    assert_eq!(orders[2].quantity, d("54"), "half of 109, rounded down");
    assert_eq!(orders[2].status, OrderStatus::Filled);
    assert_eq!(orders[3].order_type, OrderType::Stop);
    assert_eq!(orders[3].quantity, d("55"));
    assert_eq!(orders[3].stop_price(), Some(d("44.80")));
    assert!(orders[3].status.is_working());
    assert_eq!(sim_held(app, BHP), d("55"));

    let p = position(app, "BHP", entered).await;
    assert_eq!(p.state, PositionState::HalfExited);
    assert!(p.half_exit_done);
    assert_eq!(p.quantity, 55);
    assert_eq!(p.sold_quantity, 54);
    assert_eq!(p.stop_price, Some(d("44.80")));
    let journal = store_orders(app, p.id, days).await;
    let half: Vec<_> = journal
        .iter()
        .filter(|o| o.purpose == OrderPurpose::HalfExit)
        .collect();
    assert_eq!(half.len(), 1);
    assert_eq!(half[0].state, OrderState::Filled);
    assert_eq!(half[0].filled_quantity, 54);
    let stops = store_stops(&journal);
    assert_eq!(stops.len(), 2);
    assert_eq!(stops[0].state, OrderState::Cancelled);
    assert_eq!(stops[1].state, OrderState::Submitted);
    assert_eq!(stops[1].quantity, 55);
    assert_eq!(p.stop_order_coid.as_deref(), Some(stops[1].coid.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_three_half_exit_cancels_the_stop_first_sells_half_and_re_protects_the_rest() {
    let mut app = fast_app(&[], week(0)).await;
    let watch = Watch::start(&app, BHP);
    let p = enter_bhp(&mut app, week(0)).await;
    assert_eq!(
        strategy::half_exit_date(p.trading_day, &app.ctx.calendar, &app.ctx.strategy),
        Some(week(3))
    );

    // Tuesday and Wednesday: not due; nothing is cancelled, sold or placed.
    for dd in [week(1), week(2)] {
        exits_at(&mut app, dd, "46.50").await;
        assert_eq!(sim_orders(&app, BHP).len(), 2, "{dd}: nothing happens");
        assert_eq!(working_stops(&app, BHP).len(), 1);
        assert_eq!(
            position(&app, "BHP", week(0)).await.state,
            PositionState::Open
        );
    }

    // Thursday 15:50: three trading days after Monday.
    exits_at(&mut app, week(3), "46.50").await;
    assert_half_exited(&app, week(0), &[week(0), week(3)]).await;

    // A second exits run (and a manage) on Thursday does nothing more.
    app.job(JobKind::Exits).await;
    app.job(JobKind::Manage).await;
    assert_eq!(sim_orders(&app, BHP).len(), 4, "nothing more on Thursday");
    assert_half_exited(&app, week(0), &[week(0), week(3)]).await;

    watch.finish().await;
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holiday_between_pushes_the_half_exit_a_day() {
    // Anzac Day, Thursday 25 April 2024: entry Monday 22 → day 3 is Friday 26.
    let (mon, wed, thu, fri) = (
        day(2024, 4, 22),
        day(2024, 4, 24),
        day(2024, 4, 25),
        day(2024, 4, 26),
    );
    let mut app = fast_app(&[], mon).await;
    let watch = Watch::start(&app, BHP);
    enter_bhp(&mut app, mon).await;
    exits_at(&mut app, wed, "46.50").await;
    assert_eq!(sim_orders(&app, BHP).len(), 2, "Wednesday: nothing");
    at(&mut app, thu, 15, 50);
    let outcome = app.job(JobKind::Exits).await;
    assert!(
        matches!(outcome, skimd::jobs::JobOutcome::Skipped(_)),
        "the ASX is closed on Anzac Day: {outcome:?}"
    );
    assert_eq!(
        sim_orders(&app, BHP).len(),
        2,
        "Thursday (holiday): nothing"
    );
    exits_at(&mut app, fri, "46.50").await;
    assert_half_exited(&app, mon, &[mon, fri]).await;
    app.job(JobKind::Exits).await;
    assert_eq!(sim_orders(&app, BHP).len(), 4, "nothing more on Friday");
    watch.finish().await;
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_that_cannot_be_cancelled_is_never_sold_over() {
    let mut app = fast_app(&[], week(0)).await;
    let watch = Watch::start(&app, BHP);
    enter_bhp(&mut app, week(0)).await;
    at(&mut app, week(3), 15, 50);
    app.world
        .sim
        .market()
        .set_quote(BHP, quote("46.50", "46.50", "44.90", "45.50"));
    // IBKR refuses the cancel of the stop: skim must not sell on top of it.
    app.world.sim.faults().push(
        "/iserver/account/DU1234567/order/",
        ibkr_sim::Fault::Status(400, "{\"error\":\"cannot cancel\"}".into()),
    );
    let started = std::time::Instant::now();
    let outcome = skimd::jobs::run_recorded(&app.ctx, &app.locks, JobKind::Exits).await;
    assert!(outcome.is_err(), "the failure is reported: {outcome:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a refused cancel is not waited out"
    );
    assert!(
        sim_sales(&app, BHP).is_empty(),
        "nothing sold over a live stop"
    );
    let stops = working_stops(&app, BHP);
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].quantity, d("109"));
    // The next run, with IBKR cancelling again, does the half exit.
    app.job(JobKind::Exits).await;
    assert_half_exited(&app, week(0), &[week(0), week(3)]).await;
    watch.finish().await;
}

/// Monday entry and the Thursday half exit (55 BHP left under a STP 44.80).
async fn half_exited_bhp(env: &[(&str, &str)]) -> (TestApp, Watch, store::Position) {
    let mut app = fast_app(env, week(0)).await;
    let watch = Watch::start(&app, BHP);
    enter_bhp(&mut app, week(0)).await;
    exits_at(&mut app, week(3), "46.50").await;
    assert_half_exited(&app, week(0), &[week(0), week(3)]).await;
    let p = position(&app, "BHP", week(0)).await;
    (app, watch, p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sma_trail_sells_the_rest_below_the_average_and_holds_above_it() {
    let (mut app, watch, p) = half_exited_bhp(&[]).await;
    let m = app.world.sim.market();

    // Friday: ten daily closes of 46.00 (SMA10 46.00); last 47.00 is above it → nothing.
    m.set_history(BHP, closes_before(&app, week(4), 10, "46.00"));
    exits_at(&mut app, week(4), "47.00").await;
    assert_eq!(sim_orders(&app, BHP).len(), 4, "above the SMA: held");
    assert_eq!(working_stops(&app, BHP).len(), 1);
    assert_eq!(
        position(&app, "BHP", week(0)).await.state,
        PositionState::HalfExited
    );

    // Monday: the same average, last 45.00 (above the stop 44.80, below the SMA) → the STP is
    // cancelled and the 55 left are sold; the position closes with its exact P&L.
    m.set_history(BHP, closes_before(&app, week(7), 10, "46.00"));
    exits_at(&mut app, week(7), "45.00").await;
    let orders = sim_orders(&app, BHP);
    assert_eq!(orders.len(), 5, "{orders:#?}");
    assert_eq!(orders[3].order_type, OrderType::Stop);
    assert_eq!(orders[3].status, OrderStatus::Cancelled);
    assert_eq!(orders[4].order_type, OrderType::Market);
    assert_eq!(orders[4].quantity, d("55"));
    assert_eq!(orders[4].status, OrderStatus::Filled);
    assert!(working_stops(&app, BHP).is_empty());
    assert_eq!(sim_held(&app, BHP), Decimal::ZERO);

    let closed = position(&app, "BHP", week(0)).await;
    assert_eq!(closed.state, PositionState::Closed);
    assert_eq!(closed.quantity, 0);
    assert_eq!(closed.close_reason.as_deref(), Some("trail_exit"));
    assert_eq!(closed.exit_day, Some(week(7)));
    let execs = executions(&app, BHP);
    assert_eq!(execs.len(), 3, "buy, half, rest: {execs:?}");
    // 54 × 46.49 + 55 × 44.99 − 109 × 45.31 − 3 × 6.00
    assert_eq!(broker_pnl(&execs), d("28.12"));
    assert_eq!(closed.realised_pnl, broker_pnl(&execs));
    assert_eq!(closed.commissions, d("18"));
    let journal = store_orders(&app, p.id, &[week(0), week(3), week(4), week(7)]).await;
    let trail: Vec<_> = journal
        .iter()
        .filter(|o| o.purpose == OrderPurpose::TrailExit)
        .collect();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].state, OrderState::Filled);
    assert!(
        store_stops(&journal)
            .iter()
            .all(|s| s.state == OrderState::Cancelled)
    );

    // Closed: later runs do nothing.
    app.job(JobKind::Exits).await;
    app.job(JobKind::Manage).await;
    assert_eq!(sim_orders(&app, BHP).len(), 5);
    watch.finish().await;
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_stop_that_fires_between_runs_is_recorded_once_and_not_sold_again() {
    let (mut app, watch, _) = half_exited_bhp(&[]).await;
    // Friday 11:00, skim not looking: the price falls through 44.80; IBKR's STP sells the 55.
    at(&mut app, week(4), 11, 0);
    app.world
        .sim
        .market()
        .set_quote(BHP, quote("44.70", "46.00", "44.70", "46.50"));
    assert_eq!(sim_held(&app, BHP), Decimal::ZERO, "the broker stop fired");
    app.job(JobKind::Manage).await;
    app.job(JobKind::Manage).await;
    app.job(JobKind::Exits).await;
    let p = position(&app, "BHP", week(0)).await;
    assert_eq!(p.state, PositionState::Closed);
    assert_eq!(p.close_reason.as_deref(), Some("protective_stop"));
    assert_eq!(p.exit_day, Some(week(4)));
    assert_eq!(
        sim_sales(&app, BHP).len(),
        1,
        "only the half sale is skim's own"
    );
    let execs = executions(&app, BHP);
    assert_eq!(execs.len(), 3, "buy, half, stop: {execs:?}");
    // 54 × 46.49 + 55 × 44.70 − 109 × 45.31 − 18
    assert_eq!(broker_pnl(&execs), d("12.17"));
    assert_eq!(p.realised_pnl, broker_pnl(&execs));
    let stop_fills: Vec<_> = app
        .ctx
        .store
        .orders_for_day(week(3))
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.purpose == OrderPurpose::ProtectiveStop && o.state == OrderState::Filled)
        .collect();
    assert_eq!(stop_fills.len(), 1);
    assert_eq!(stop_fills[0].filled_quantity, 55);
    watch.finish().await;
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

/// Monday: the standard morning; PLS breaks out and fills 1000 @ 2.56 (stop 2.30).
async fn enter_pls(app: &mut TestApp, on: NaiveDate) -> store::Position {
    at(app, on, 9, 50);
    app.morning().await;
    app.world.set_time(10, 10, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.55", "2.55", "2.30", "2.15"));
    app.job(JobKind::Trade).await;
    app.job(JobKind::Manage).await;
    let p = position(app, "PLS", on).await;
    assert_eq!(p.state, PositionState::Open);
    assert_eq!(p.quantity, 1000);
    assert_eq!(p.stop_price, Some(d("2.30")));
    assert_eq!(sim_held(app, PLS), d("1000"));
    p
}

async fn cancel_at_the_sim(app: &TestApp, order: &SimOrder) {
    app.ctx
        .ibkr
        .session
        .cancel_order(&app.ctx.ibkr.account, &order.order_id.to_string())
        .await
        .expect("cancel at the sim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_broker_stop_is_re_placed_above_it_and_backstopped_through_it() {
    let mut app = fast_app(&[], week(0)).await;
    let watch = Watch::start(&app, PLS);
    let p = enter_pls(&mut app, week(0)).await;

    // The STP disappears behind skim's back; the price is above the stop → re-placed.
    let stops = working_stops(&app, PLS);
    assert_eq!(stops.len(), 1);
    cancel_at_the_sim(&app, &stops[0]).await;
    app.world.set_time(11, 0, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.45", "2.55", "2.30", "2.15"));
    app.job(JobKind::Manage).await;
    let stops = working_stops(&app, PLS);
    assert_eq!(stops.len(), 1, "the stop is back: {stops:?}");
    assert_eq!(stops[0].quantity, d("1000"));
    assert_eq!(stops[0].stop_price(), Some(d("2.30")));
    assert!(sim_sales(&app, PLS).is_empty());

    // Gone again, and this time the price is through it: no stop to re-place over a price
    // already through it; the backstop sells the 1000 once.
    cancel_at_the_sim(&app, &stops[0]).await;
    app.world.set_time(11, 30, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.25", "2.55", "2.25", "2.15"));
    app.job(JobKind::Manage).await;
    app.job(JobKind::Manage).await;
    app.job(JobKind::Manage).await;
    assert_eq!(sim_stops(&app, PLS).len(), 2, "no third stop");
    assert!(working_stops(&app, PLS).is_empty());
    let sales = sim_sales(&app, PLS);
    assert_eq!(sales.len(), 1, "one backstop sale: {sales:?}");
    assert_eq!(sales[0].quantity, d("1000"));
    assert_eq!(sales[0].status, OrderStatus::Filled);
    let closed = position(&app, "PLS", week(0)).await;
    assert_eq!(closed.state, PositionState::Closed);
    assert_eq!(closed.close_reason.as_deref(), Some("stop_backstop"));
    let journal = store_orders(&app, p.id, &[week(0)]).await;
    let backstops: Vec<_> = journal
        .iter()
        .filter(|o| o.purpose == OrderPurpose::StopBackstop)
        .collect();
    assert_eq!(backstops.len(), 1);
    assert_eq!(backstops[0].state, OrderState::Filled);
    assert!(
        store_stops(&journal)
            .iter()
            .all(|s| s.state == OrderState::Cancelled)
    );
    let execs = executions(&app, PLS);
    assert_eq!(closed.realised_pnl, broker_pnl(&execs));
    // 1000 × (2.24 − 2.56) − 12
    assert_eq!(closed.realised_pnl, d("-332"));
    watch.finish().await;
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_broker_stop_the_backstop_sells_once_through_the_stop() {
    let mut app = fast_app(&[("SKIM_STRATEGY__BROKER_STOP", "false")], week(0)).await;
    let watch = Watch::start(&app, PLS);
    enter_pls(&mut app, week(0)).await;
    assert!(sim_stops(&app, PLS).is_empty(), "broker_stop = false");
    app.world.set_time(11, 0, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.31", "2.55", "2.30", "2.15"));
    app.job(JobKind::Manage).await;
    assert!(sim_sales(&app, PLS).is_empty(), "above the stop: held");
    app.world.set_time(11, 30, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.30", "2.55", "2.30", "2.15"));
    app.job(JobKind::Manage).await;
    app.job(JobKind::Manage).await;
    let sales = sim_sales(&app, PLS);
    assert_eq!(
        sales.len(),
        1,
        "one backstop sale at last ≤ stop: {sales:?}"
    );
    assert_eq!(sales[0].quantity, d("1000"));
    assert!(sim_stops(&app, PLS).is_empty());
    let p = position(&app, "PLS", week(0)).await;
    assert_eq!(p.state, PositionState::Closed);
    assert_eq!(p.close_reason.as_deref(), Some("stop_backstop"));
    assert_eq!(p.realised_pnl, broker_pnl(&executions(&app, PLS)));
    watch.finish().await;
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stop_follows_a_rising_low_of_day_and_never_falls() {
    let mut app = fast_app(
        &[("SKIM_STRATEGY__TRAIL_STOP_TO_LOW_OF_DAY", "true")],
        week(0),
    )
    .await;
    let watch = Watch::start(&app, PLS);
    let p = enter_pls(&mut app, week(0)).await;
    assert_eq!(
        sim_stops(&app, PLS).len(),
        1,
        "entry day: the low is the stop"
    );

    // Tuesday: the low of the day is 2.40 → the STP is replaced at 2.40.
    at(&mut app, week(1), 11, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.60", "2.65", "2.40", "2.56"));
    app.job(JobKind::Manage).await;
    app.job(JobKind::Manage).await;
    let stops = sim_stops(&app, PLS);
    assert_eq!(stops.len(), 2, "cancel and replace, once: {stops:#?}");
    assert_eq!(stops[0].status, OrderStatus::Cancelled);
    assert_eq!(stops[1].stop_price(), Some(d("2.40")));
    assert_eq!(stops[1].quantity, d("1000"));
    assert!(stops[1].status.is_working());
    assert_eq!(
        position(&app, "PLS", week(0)).await.stop_price,
        Some(d("2.40"))
    );

    // Wednesday: a lower low (2.35) never lowers it.
    at(&mut app, week(2), 11, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.50", "2.62", "2.35", "2.60"));
    app.job(JobKind::Manage).await;
    let stops = sim_stops(&app, PLS);
    assert_eq!(stops.len(), 2, "no new stop");
    assert!(stops[1].status.is_working());
    assert_eq!(
        position(&app, "PLS", week(0)).await.stop_price,
        Some(d("2.40"))
    );
    let journal = store_orders(&app, p.id, &[week(0), week(1), week(2)]).await;
    let stops = store_stops(&journal);
    assert_eq!(stops.len(), 2);
    assert_eq!(stops[0].state, OrderState::Cancelled);
    assert_eq!(stops[1].state, OrderState::Submitted);
    assert_eq!(stops[1].stop_price, Some(d("2.40")));
    watch.finish().await;
}

/// DRO breaks out (last 1.230 > 1.200) and `trade` runs.
async fn dro_breaks_out(app: &mut TestApp, h: u32, m: u32) {
    app.world.set_time(h, m, 0);
    app.world
        .sim
        .market()
        .set_quote(DRO, quote("1.230", "1.230", "1.100", "1.060"));
    app.job(JobKind::Trade).await;
}

async fn assert_no_dro_entry(app: &TestApp) {
    assert!(
        sim_orders(app, DRO).is_empty(),
        "no DRO order at the broker: {:?}",
        sim_orders(app, DRO)
    );
    let c = app
        .ctx
        .store
        .candidate(app.world.day, "DRO")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, CandidateStatus::Watching);
    assert!(
        app.ctx
            .store
            .entry_order_for(app.world.day, "DRO")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realised_loss_at_the_limit_stops_new_entries_for_the_day() {
    let mut app = fast_app(&[("SKIM_STRATEGY__MAX_DAILY_LOSS", "300")], week(0)).await;
    enter_pls(&mut app, week(0)).await;
    // PLS is stopped out: −322 realised ≥ 300.
    app.world.set_time(11, 0, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.25", "2.55", "2.25", "2.15"));
    app.job(JobKind::Manage).await;
    assert_eq!(
        app.ctx.store.realised_pnl_for_day(week(0)).await.unwrap(),
        d("-322")
    );
    dro_breaks_out(&mut app, 11, 30).await;
    assert_no_dro_entry(&app).await;
    let flags = app.ctx.store.flags().await.unwrap();
    assert!(flags.paused, "latched as a pause");
    assert_eq!(flags.paused_by.as_deref(), Some("loss-limit"));

    // The next trading day starts without it (an operator's pause would stay).
    at(&mut app, week(1), 10, 0);
    app.job(JobKind::Trade).await;
    assert!(
        !app.ctx.store.flags().await.unwrap().paused,
        "lifted on a new day"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_loss_at_the_limit_stops_new_entries() {
    let mut app = fast_app(&[("SKIM_STRATEGY__MAX_DAILY_LOSS", "100")], week(0)).await;
    enter_pls(&mut app, week(0)).await;
    // PLS at 2.45: open −110, realised −6 (the buy's commission): 116 ≥ 100 → no entry.
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.45", "2.55", "2.30", "2.15"));
    dro_breaks_out(&mut app, 11, 0).await;
    assert_no_dro_entry(&app).await;
}

// Realised + open loss is recomputed on every run; once it reached `max_daily_loss` the limit
// must hold even when the open loss shrinks again (it is latched as a loss-limit pause), and the
// next trading day lifts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_loss_limit_holds_for_the_rest_of_the_day() {
    let mut app = fast_app(&[("SKIM_STRATEGY__MAX_DAILY_LOSS", "100")], week(0)).await;
    enter_pls(&mut app, week(0)).await;
    // The loss reaches the limit at 11:00 (116 ≥ 100): no DRO entry…
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.45", "2.55", "2.30", "2.15"));
    dro_breaks_out(&mut app, 11, 0).await;
    assert_no_dro_entry(&app).await;
    // …and PLS recovering at 11:30 does not lift it: "no new entries for the rest of the day
    // once realised + open loss reaches it" (DESIGN.md, Protections).
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.60", "2.60", "2.30", "2.15"));
    dro_breaks_out(&mut app, 11, 30).await;
    assert_no_dro_entry(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_positions_reached_places_no_new_entry() {
    let mut app = fast_app(&[("SKIM_STRATEGY__MAX_POSITIONS", "1")], week(0)).await;
    enter_pls(&mut app, week(0)).await;
    dro_breaks_out(&mut app, 10, 20).await;
    app.job(JobKind::Manage).await;
    dro_breaks_out(&mut app, 10, 30).await;
    assert_no_dro_entry(&app).await;
    // Control: with PLS closed (stopped out), a position is free again and DRO enters.
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.25", "2.55", "2.25", "2.15"));
    app.job(JobKind::Manage).await;
    dro_breaks_out(&mut app, 10, 40).await;
    let buys: Vec<_> = sim_orders(&app, DRO).into_iter().filter(is_buy).collect();
    assert_eq!(buys.len(), 1, "a free slot is used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_exit_filling_in_parts_keeps_the_stop_on_exactly_the_unsold_shares() {
    let mut app = fast_app(&[], week(0)).await;
    let watch = Watch::start(&app, BHP);
    let p = enter_bhp(&mut app, week(0)).await;
    // Thursday: the half sale (54) fills 20 now and 34 on the next market update.
    app.world
        .sim
        .market()
        .set_fill_mode(FillMode::Partial { first_fill_qty: 20 });
    exits_at(&mut app, week(3), "46.50").await;
    let sales = sim_sales(&app, BHP);
    assert_eq!(sales.len(), 1);
    assert_eq!(sales[0].quantity, d("54"));
    assert_eq!(sales[0].filled, d("20"));
    assert_eq!(sim_held(&app, BHP), d("89"));
    // The stop covers what is held and not being sold: 89 − 34 = 55.
    let stops = working_stops(&app, BHP);
    assert_eq!(stops.len(), 1, "{stops:#?}");
    assert_eq!(stops[0].quantity, d("55"));
    assert_eq!(stops[0].stop_price(), Some(d("44.80")));
    let after_first = position(&app, "BHP", week(0)).await;
    assert_eq!(after_first.quantity, 89);
    assert_eq!(after_first.state, PositionState::HalfExited);

    // The rest of the sale fills: 55 held, the same stop for 55, nothing replaced or re-sold.
    app.world.set_time(15, 55, 0);
    app.world
        .sim
        .market()
        .set_quote(BHP, quote("46.40", "46.50", "44.90", "45.50"));
    app.job(JobKind::Manage).await;
    app.job(JobKind::Manage).await;
    assert_eq!(sim_held(&app, BHP), d("55"));
    let stops = working_stops(&app, BHP);
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].quantity, d("55"));
    assert_eq!(sim_stops(&app, BHP).len(), 2, "no churn of stops");
    assert_eq!(sim_sales(&app, BHP).len(), 1);
    let done = position(&app, "BHP", week(0)).await;
    assert_eq!(done.quantity, 55);
    assert_eq!(done.sold_quantity, 54);
    let journal = store_orders(&app, p.id, &[week(0), week(3)]).await;
    let live: Vec<_> = store_stops(&journal)
        .into_iter()
        .filter(|s| s.state.is_open())
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].quantity, 55);
    // A second exits run the same day sells nothing more.
    app.job(JobKind::Exits).await;
    assert_eq!(sim_sales(&app, BHP).len(), 1);
    watch.finish().await;
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

#[test]
fn the_watch_sees_an_over_committed_book() {
    let order = |side, order_type, qty: &str, filled: &str, status| SimOrder {
        order_id: 1,
        coid: None,
        conid: BHP,
        symbol: "BHP".into(),
        side,
        order_type,
        quantity: d(qty),
        price: Some(d("44.80")),
        aux_price: None,
        tif: "GTC".into(),
        outside_rth: false,
        status,
        filled: d(filled),
        avg_price: None,
        triggered: false,
        created_ms: 0,
        last_execution_ms: None,
    };
    use ibkr_sim::Side::{Buy, Sell};
    let buy = order(Buy, OrderType::Limit, "109", "109", OrderStatus::Filled);
    let stop = |q| order(Sell, OrderType::Stop, q, "0", OrderStatus::PreSubmitted);
    let sale = |q, f| order(Sell, OrderType::Market, q, f, OrderStatus::Submitted);
    assert_eq!(book_violation(&[buy.clone(), stop("109")], BHP), None);
    assert!(book_violation(&[buy.clone(), stop("109"), sale("54", "0")], BHP).is_some());
    assert_eq!(
        book_violation(&[buy.clone(), stop("55"), sale("54", "20")], BHP),
        None
    );
    assert!(book_violation(&[buy.clone(), stop("89"), sale("54", "20")], BHP).is_some());
    assert!(
        book_violation(&[stop("1")], BHP).is_some(),
        "a stop over nothing held"
    );
}
