//! The daemon under `run` with a fast schedule: one handshake, tickles, no rate-limit
//! violations, a healthy /healthz, a prompt clean shutdown.

use std::time::{Duration, Instant};

use skimd::startup::Application;

use crate::helpers::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_runs_a_fast_schedule_and_stops_cleanly() {
    let mut world = skimd::demo::World::start().await.unwrap();
    world.load_market();
    for (k, v) in [
        ("SKIM_SCHEDULE__MANAGE", "*/2 * * * * *"),
        ("SKIM_SCHEDULE__TRADE", "1/2 * * * * *"),
        ("SKIM_IBKR__TICKLE_INTERVAL_SECS", "1"),
    ] {
        world.env.insert(k.into(), v.into());
    }
    world.set_time(10, 30, 0);
    let ctx = world
        .context(skimd::notify::Notifier::disabled())
        .await
        .unwrap();
    let app = Application::from_context(ctx);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(app.run_until_stopped(
        async {
            let _ = stop_rx.await;
        },
        Some(tx),
    ));
    let addr = rx.await.expect("health address");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let res = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let stopping = Instant::now();
    let _ = stop_tx.send(());
    run.await.unwrap().unwrap();
    assert!(
        stopping.elapsed() < Duration::from_secs(15),
        "shutdown took {:?}",
        stopping.elapsed()
    );
    let stats = world.sim.stats();
    assert_eq!(stats.handshakes, 1, "one handshake for the daemon's life");
    assert!(stats.tickles >= 2, "tickles: {}", stats.tickles);
    assert_eq!(
        stats.violations_total(),
        0,
        "{:?}",
        stats.rate_limit_violations
    );
    assert_eq!(stats.logouts, 1);
    let _ = spawn_app; // the helper is shared with the other modules
}

/// `skimd run` waits out an IBKR outage at start instead of exiting (a supervisor's restart
/// limit must not leave the daemon dead after a maintenance window), but fails at once on
/// refused credentials, and stops cleanly when told to while waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_waits_out_an_ibkr_outage_at_start_but_not_refused_credentials() {
    skimd::telemetry::init_for_tests();
    let world = skimd::demo::World::start().await.unwrap();
    // Five 503s: more than one start's worth of the client's own retries.
    world.sim.faults().push_n(
        "/oauth/live_session_token",
        ibkr_sim::Fault::Status(503, r#"{"error":"Service Unavailable"}"#.into()),
        5,
    );
    let app = Application::build_waiting_for_ibkr(
        world.settings().unwrap(),
        std::future::pending(),
        Duration::from_millis(100),
    )
    .await
    .expect("waits, then starts")
    .expect("not shut down");
    assert_eq!(world.sim.stats().faults_fired, 5);
    assert_eq!(world.sim.stats().handshakes, 1);
    assert!(app.context().ibkr.session.state().authenticated);

    // Shut down while waiting: a clean `None`, promptly.
    world.sim.faults().push_n(
        "/oauth/live_session_token",
        ibkr_sim::Fault::Status(503, r#"{"error":"Service Unavailable"}"#.into()),
        100,
    );
    let started = Instant::now();
    let stopped = Application::build_waiting_for_ibkr(
        world.settings().unwrap(),
        tokio::time::sleep(Duration::from_secs(2)),
        Duration::from_secs(60),
    )
    .await
    .expect("no error");
    assert!(stopped.is_none());
    assert!(started.elapsed() < Duration::from_secs(30));

    // Refused credentials are not waited for.
    let mut world = world;
    world
        .env
        .insert("OAUTH_CONSUMER_KEY".into(), "NOTACTIVE".into());
    let refused = tokio::time::timeout(
        Duration::from_secs(30),
        Application::build_waiting_for_ibkr(
            world.settings().unwrap(),
            std::future::pending(),
            Duration::from_millis(100),
        ),
    )
    .await
    .expect("fails at once, no waiting loop");
    let Err(e) = refused else {
        panic!("refused credentials must fail the start")
    };
    assert!(format!("{e:#}").contains("not active yet"), "{e:#}");
}
