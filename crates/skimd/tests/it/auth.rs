//! The handshake cap holds across restarts: a supervisor restarting skimd over and over with
//! bad credentials must not keep handshaking until IBKR locks the account.

use std::sync::Arc;

use skimd::clock::Clock;
use skimd::context::AppContext;
use skimd::demo::World;
use skimd::notify::Notifier;

async fn start_once(world: &World) -> anyhow::Result<AppContext> {
    let clock: Arc<dyn Clock> = world.clock.clone();
    AppContext::connect(world.settings()?, clock, Notifier::disabled()).await
}

#[tokio::test]
async fn refused_handshakes_stop_after_the_cap_even_across_restarts() {
    skimd::telemetry::init_for_tests();
    let mut world = World::start().await.expect("sim starts");
    // A consumer key IBKR does not know: every handshake is refused with 401 invalid consumer.
    world
        .env
        .insert("OAUTH_CONSUMER_KEY".into(), "NOTACTIVE".into());
    world
        .env
        .insert("SKIM_IBKR__MAX_AUTH_FAILURES".into(), "2".into());

    for restart in 1..=2 {
        let Err(err) = start_once(&world).await else {
            panic!("restart {restart}: a refused handshake must fail the start");
        };
        let err = format!("{err:#}");
        assert!(
            err.contains("consumer key is not active yet"),
            "restart {restart}: {err}"
        );
    }
    let refused = world.sim.stats().rejected_total();
    assert_eq!(refused, 2, "one refused handshake per start");

    // The third start does not even try: the count survived the restarts.
    let Err(err) = start_once(&world).await else {
        panic!("the third start must refuse without handshaking");
    };
    let err = format!("{err:#}");
    assert!(err.contains("will not try again"), "{err}");
    assert!(err.contains("skimd doctor"), "{err}");
    assert_eq!(
        world.sim.stats().rejected_total(),
        refused,
        "no handshake reached IBKR"
    );

    // Credentials fixed, and `skimd doctor` succeeds: the count is cleared and skimd starts.
    world.env.insert(
        "OAUTH_CONSUMER_KEY".into(),
        world.sim.credentials().consumer_key.clone(),
    );
    let settings = world.settings().unwrap();
    let checks = skimd::commands::doctor::live_checks(&settings).await;
    assert!(
        checks
            .iter()
            .any(|c| format!("{c:?}").contains("cleared the count of 2 refused handshakes")),
        "{checks:?}"
    );
    let ctx = start_once(&world)
        .await
        .expect("starts after doctor cleared the count");
    assert_eq!(ctx.store.flags().await.unwrap().auth_failures, 0);
}
