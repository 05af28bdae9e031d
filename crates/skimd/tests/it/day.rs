//! A whole day through the jobs: candidates, ranges, one breakout bought once (even with two
//! concurrent trade runs), its broker stop, the stop-out closing it once, exact P&L.

use rust_decimal::Decimal;
use skimd::demo::{PLS, quote};
use skimd::jobs::JobKind;
use store::{CandidateStatus, PositionState};

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_day_buys_once_protects_and_stops_out_exactly() {
    let app = spawn_app().await;
    app.morning().await;
    let day = app.world.day;

    // Candidates are exactly gap ∩ price-sensitive (BHP: not price-sensitive; XYZ: gap 1.27%).
    let mut names: Vec<String> = app
        .ctx
        .store
        .candidates_for_day(day)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.ticker)
        .collect();
    names.sort();
    assert_eq!(names, ["DRO", "PLS", "WDS"]);
    let pls = app.ctx.store.candidate(day, "PLS").await.unwrap().unwrap();
    assert_eq!(pls.range_high, Some("2.5".parse().unwrap()));
    assert_eq!(pls.range_low, Some("2.3".parse().unwrap()));

    // PLS breaks out; two trade runs at once place ONE order.
    app.world.set_time(10, 10, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.55", "2.55", "2.30", "2.15"));
    let (a, b) = tokio::join!(
        skimd::jobs::trade::run(&app.ctx),
        skimd::jobs::trade::run(&app.ctx)
    );
    a.unwrap();
    b.unwrap();
    app.job(JobKind::Manage).await;
    let orders = app.world.sim.market().orders();
    let buys: Vec<_> = orders
        .iter()
        .filter(|o| o.conid == PLS && format!("{:?}", o.side).contains("Buy"))
        .collect();
    assert_eq!(buys.len(), 1, "one entry order at the broker: {orders:?}");
    let stops: Vec<_> = orders
        .iter()
        .filter(|o| o.conid == PLS && o.stop_price().is_some())
        .collect();
    assert_eq!(stops.len(), 1, "one protective stop at the broker");
    assert_eq!(stops[0].stop_price(), Some("2.30".parse().unwrap()));
    assert_eq!(
        app.ctx
            .store
            .candidate(day, "PLS")
            .await
            .unwrap()
            .unwrap()
            .status,
        CandidateStatus::Entered
    );

    // The price falls through the stop: the broker STP fills; the position closes once.
    app.world.set_time(11, 30, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.25", "2.55", "2.25", "2.15"));
    app.job(JobKind::Manage).await;
    app.job(JobKind::Manage).await;
    app.job(JobKind::Trade).await; // no re-entry after a stop-out
    let positions = app.ctx.store.positions_entered_on(day).await.unwrap();
    let p = positions.iter().find(|p| p.ticker == "PLS").unwrap();
    assert_eq!(p.state, PositionState::Closed);
    assert_eq!(p.close_reason.as_deref(), Some("protective_stop"));
    let execs: Vec<_> = app
        .world
        .sim
        .market()
        .executions()
        .into_iter()
        .filter(|e| e.conid == PLS)
        .collect();
    assert_eq!(
        execs.len(),
        2,
        "one buy and one stop sale, no extra sell: {execs:?}"
    );
    let stats = app.world.sim.stats();
    assert_eq!(stats.short_positions_seen, 0);
    assert_eq!(stats.handshakes, 1);
    // P&L exact: sells − buys − commissions, from the broker's own executions.
    let mut expected = Decimal::ZERO;
    for e in &execs {
        let value = e.price * e.size;
        expected += if format!("{:?}", e.side).contains("Sell") {
            value
        } else {
            -value
        };
        expected -= e.commission;
    }
    assert_eq!(p.realised_pnl, expected);
    assert_eq!(p.realised_pnl, "-322".parse::<Decimal>().unwrap());
    assert!(
        app.world
            .sim
            .market()
            .positions()
            .iter()
            .all(|(c, q, _)| *c != PLS || q.is_zero())
    );
}
