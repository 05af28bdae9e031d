//! Crash safety and faults during a cycle.

use ibkr_sim::Fault;
use skimd::demo::{PLS, quote};
use skimd::jobs::JobKind;
use store::{OrderState, PositionState};

use crate::helpers::{TestApp, spawn_app};

/// The morning, then PLS breaking out at 10:10 with `fault` waiting for the entry's order POST
/// (and no confirmation questions, so that POST itself places the order).
async fn pls_breaks_out_with_order_fault(fault: Fault) -> TestApp {
    let app = spawn_app().await;
    app.morning().await;
    app.world.set_time(10, 10, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.55", "2.55", "2.30", "2.15"));
    app.world.sim.market().set_reply_questions(vec![]);
    app.world
        .sim
        .faults()
        .push("/iserver/account/DU1234567/orders", fault);
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_whose_answer_is_lost_is_adopted_not_resent() {
    // The order POST places the order; its answer is lost.
    let app = pls_breaks_out_with_order_fault(Fault::DropAfterProcessing).await;
    skimd::jobs::trade::run(&app.ctx).await.unwrap();
    // Either still in flight (pending) or already settled by cOID: never failed, never twice.
    let entries: Vec<_> = app
        .ctx
        .store
        .orders_for_day(app.world.day)
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.purpose == store::OrderPurpose::Entry)
        .collect();
    assert_eq!(entries.len(), 1);
    assert!(
        matches!(
            entries[0].state,
            OrderState::Pending | OrderState::Submitted | OrderState::Filled
        ),
        "{:?}",
        entries[0].state
    );
    // "Restart": a new context over the same database, startup reconciliation.
    let ctx2 = app
        .world
        .context(skimd::notify::Notifier::disabled())
        .await
        .unwrap();
    skimd::broker::startup_reconcile(&ctx2).await.unwrap();
    skimd::jobs::trade::run(&ctx2).await.unwrap();
    skimd::jobs::manage::run(&ctx2).await.unwrap();
    let buys = app
        .world
        .sim
        .market()
        .orders()
        .into_iter()
        .filter(|o| o.conid == PLS && format!("{:?}", o.side).contains("Buy"))
        .count();
    assert_eq!(buys, 1, "exactly one order at the broker");
    let open = ctx2.store.open_positions().await.unwrap();
    let p = open
        .iter()
        .find(|p| p.ticker == "PLS")
        .expect("position adopted");
    assert_eq!(p.state, PositionState::Open);
    assert_eq!(p.quantity, 1000);
    assert!(ctx2.store.flags().await.unwrap().trading_enabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_during_a_cycle_do_not_crash_and_the_cycle_completes() {
    let app = spawn_app().await;
    app.morning().await;
    app.world.set_time(10, 10, 0);
    app.world
        .sim
        .market()
        .set_quote(PLS, quote("2.55", "2.55", "2.30", "2.15"));
    let f = app.world.sim.faults();
    f.push(
        "/iserver/marketdata/snapshot",
        Fault::Status(503, "{\"error\":\"busy\"}".into()),
    );
    f.push(
        "/iserver/marketdata/snapshot",
        Fault::Status(429, String::new()),
    );
    f.push("/iserver/account/trades", Fault::DropConnection);
    f.revoke_token();
    let outcome = skimd::jobs::run_recorded(&app.ctx, &app.locks, JobKind::Trade).await;
    // Whatever the faults did, nothing panicked; the next cycles complete and place one order.
    let _ = outcome;
    app.job(JobKind::Manage).await;
    app.job(JobKind::Trade).await;
    app.job(JobKind::Manage).await;
    let buys = app
        .world
        .sim
        .market()
        .orders()
        .into_iter()
        .filter(|o| o.conid == PLS && format!("{:?}", o.side).contains("Buy"))
        .count();
    assert_eq!(buys, 1);
    assert_eq!(app.world.sim.stats().short_positions_seen, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_disabled_by_a_failed_startup_reconciliation_come_back_once_manage_agrees() {
    let app = spawn_app().await;
    app.world.set_time(10, 10, 0);
    // A restart during an IBKR outage: the positions call keeps failing (more than the retries).
    let ctx2 = app
        .world
        .context(skimd::notify::Notifier::disabled())
        .await
        .unwrap();
    app.world.sim.faults().push_n(
        "/portfolio/DU1234567/positions",
        Fault::Status(503, r#"{"error":"Service Unavailable"}"#.into()),
        8,
    );
    assert!(skimd::broker::startup_reconcile(&ctx2).await.is_err());
    let flags = ctx2.store.flags().await.unwrap();
    assert!(!flags.trading_enabled, "entries stay disabled");
    assert!(
        flags
            .trading_reason
            .as_deref()
            .is_some_and(|r| r.contains("startup reconciliation failed")),
        "{flags:?}"
    );
    // IBKR is back: the next manage reconciles, finds agreement and enables entries.
    for _ in 0..8 {
        if app.world.sim.stats().faults_fired >= 8 {
            break;
        }
        let _ = skimd::jobs::manage::run(&ctx2).await;
    }
    assert_eq!(app.world.sim.stats().faults_fired, 8);
    skimd::jobs::manage::run(&ctx2).await.unwrap();
    let flags = ctx2.store.flags().await.unwrap();
    assert!(flags.trading_enabled, "{flags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_order_reached_ibkr_leaves_one_order_and_the_position_adopted() {
    // The order is placed at the broker; its answer takes 30 s, and skimd dies meanwhile.
    let app = pls_breaks_out_with_order_fault(Fault::DelayAfterProcessing(
        std::time::Duration::from_secs(30),
    ))
    .await;
    let ctx = app.ctx.clone();
    let trade = tokio::spawn(async move { skimd::jobs::trade::run(&ctx).await });
    let sim = app.world.sim.clone();
    let reached = async {
        while !sim.market().orders().iter().any(|o| o.conid == PLS) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), reached)
        .await
        .expect("the order reaches the broker");
    trade.abort(); // the crash: skimd never hears the answer
    let _ = trade.await;
    let journal = app.ctx.store.orders_for_day(app.world.day).await.unwrap();
    assert_eq!(journal.len(), 1, "written before it was sent");
    assert_eq!(
        journal[0].state,
        OrderState::Pending,
        "the answer was never recorded"
    );

    // Restart: a new context over the same database, startup reconciliation, the next cycles.
    let ctx2 = app
        .world
        .context(skimd::notify::Notifier::disabled())
        .await
        .unwrap();
    skimd::broker::startup_reconcile(&ctx2).await.unwrap();
    let adopted = ctx2
        .store
        .get_order_by_coid(&journal[0].coid)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(adopted.state, OrderState::Submitted | OrderState::Filled),
        "adopted by cOID, not failed: {:?}",
        adopted.state
    );
    assert!(adopted.ibkr_order_id.is_some());
    skimd::jobs::trade::run(&ctx2).await.unwrap();
    skimd::jobs::manage::run(&ctx2).await.unwrap();
    let at_broker: Vec<_> = app
        .world
        .sim
        .market()
        .orders()
        .into_iter()
        .filter(|o| o.conid == PLS)
        .collect();
    let buys = at_broker
        .iter()
        .filter(|o| format!("{:?}", o.side).contains("Buy"))
        .count();
    assert_eq!(buys, 1, "exactly one entry at the broker: {at_broker:?}");
    let p = ctx2
        .store
        .open_positions()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.ticker == "PLS")
        .expect("position adopted");
    assert_eq!((p.state, p.quantity), (PositionState::Open, 1000));
}
