//! The session against `ibkr-sim` over real HTTP: handshake, renewal, recovery, the keeper,
//! competing sessions and the auth-failure cap.

use std::time::Duration;

use ibkr_oauth::pacer::PacerConfig;
use ibkr_oauth::{Error, Session, SessionConfig, SessionEvent};
use ibkr_sim::{Fault, SimConfig};

use crate::helpers::*;

#[tokio::test]
async fn handshake_then_ssodh_init() {
    let (sim, session) = sim_and_session(SimConfig::default()).await;
    let mut events = session.subscribe();
    session.authenticate().await.unwrap();
    let state = session.state();
    assert!(
        state.authenticated && state.connected && !state.competing,
        "{state:?}"
    );
    assert_eq!(state.handshakes, 1);
    let expires = state.lst_expires_at.unwrap();
    assert!(
        expires > chrono::Utc::now() + chrono::Duration::hours(23),
        "{expires}"
    );
    let stats = sim.stats();
    assert_eq!((stats.handshakes, stats.ssodh_inits), (1, 1));
    assert_eq!(stats.rejected_total(), 0, "{stats:?}");
    assert!(matches!(
        drain(&mut events).as_slice(),
        [SessionEvent::Authenticated { .. }]
    ));
    // The first call of a fresh session handshakes by itself.
    let (sim2, lazy) = sim_and_session(SimConfig::default()).await;
    let status = lazy.auth_status().await.unwrap();
    assert!(status.authenticated, "{status:?}");
    assert_eq!(sim2.stats().handshakes, 1);
}

#[tokio::test]
async fn expired_token_is_renewed_once_and_the_call_retried() {
    let (sim, session) = connected().await;
    let mut events = session.subscribe();
    sim.faults().expire_token_now();
    let accounts = session.accounts().await.unwrap();
    assert_eq!(accounts.accounts, vec![sim.config().account_id.clone()]);
    let stats = sim.stats();
    assert_eq!(stats.handshakes, 2);
    assert_eq!(stats.ssodh_inits, 2);
    assert_eq!(stats.requests_to("GET /iserver/accounts"), 2, "{stats:?}");
    let evs = drain(&mut events);
    assert!(
        evs.iter()
            .any(|e| matches!(e, SessionEvent::Renewed { .. })),
        "{evs:?}"
    );
}

#[tokio::test]
async fn revoked_token_recovers_with_one_renewal() {
    let (sim, session) = connected().await;
    sim.faults().revoke_token();
    session.accounts().await.unwrap();
    assert_eq!(sim.stats().handshakes, 2);
    assert_eq!(session.state().handshakes, 2);
}

#[tokio::test]
async fn concurrent_401s_cause_one_handshake() {
    let (sim, session) = connected().await;
    sim.faults().expire_token_now();
    let calls = (0..5).map(|_| {
        let s = session.clone();
        tokio::spawn(async move { s.auth_status().await })
    });
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(sim.stats().handshakes, 2, "{:?}", sim.stats());
}

#[tokio::test]
async fn a_401_that_renewal_does_not_fix_surfaces() {
    let (sim, session) = connected().await;
    sim.faults().push_n(
        "/iserver/accounts",
        Fault::Status(401, r#"{"error":"not authorized"}"#.into()),
        2,
    );
    let err = session.accounts().await.unwrap_err();
    assert!(err.is_auth_expired(), "{err}");
    assert_eq!(sim.stats().handshakes, 2, "renewed exactly once");
}

#[tokio::test]
async fn short_lived_token_is_renewed_by_the_keeper() {
    let config = SimConfig {
        lst_ttl: Duration::from_secs(3),
        ..SimConfig::default()
    };
    let (sim, session) = sim_and_session(config).await;
    session.authenticate().await.unwrap();
    let mut events = session.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let keeper = session.spawn_keeper(async move {
        let _ = stopped.await;
    });
    // Margin is capped at half the lifetime: renewal about 1.5 s in.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    stop.send(()).unwrap();
    keeper.await.unwrap();
    assert!(sim.stats().handshakes >= 2, "{:?}", sim.stats());
    let evs = drain(&mut events);
    assert!(
        evs.iter()
            .any(|e| matches!(e, SessionEvent::Renewed { .. })),
        "{evs:?}"
    );
    // The renewed token works.
    session.accounts().await.unwrap();
}

#[tokio::test]
async fn keeper_tickles_and_reinits_a_dropped_bridge() {
    let sim = start_sim(SimConfig::default()).await;
    let config = SessionConfig {
        tickle_interval: Duration::from_millis(150),
        pacer: PacerConfig { enabled: false },
        ..test_config(&sim)
    };
    let session = Session::new(credentials_of(sim.credentials()), config).unwrap();
    session.authenticate().await.unwrap();
    let mut events = session.subscribe();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let keeper = session.spawn_keeper(async move {
        let _ = stopped.await;
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    sim.faults().drop_bridge();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(()).unwrap();
    keeper.await.unwrap();
    let stats = sim.stats();
    assert!(stats.tickles >= 3, "{stats:?}");
    assert!(stats.ssodh_inits >= 2, "{stats:?}");
    assert!(session.state().last_tickle.is_some());
    assert!(session.state().authenticated);
    let evs = drain(&mut events);
    assert!(evs.contains(&SessionEvent::ReInitialised), "{evs:?}");
}

#[tokio::test]
async fn competing_session_is_detected_and_taken_back() {
    let (sim, session) = connected().await;
    let mut events = session.subscribe();
    sim.faults().set_competing(true);
    let status = session.keep_alive().await.unwrap();
    assert!(!status.competing && status.authenticated, "{status:?}");
    let evs = drain(&mut events);
    assert!(evs.contains(&SessionEvent::Competing), "{evs:?}");
    assert!(evs.contains(&SessionEvent::ReInitialised), "{evs:?}");
    assert_eq!(sim.stats().ssodh_inits, 2);
}

#[tokio::test]
async fn no_bridge_reinits_once_and_retries() {
    let (sim, session) = connected().await;
    sim.faults().drop_bridge();
    session.accounts().await.unwrap();
    assert_eq!(sim.stats().ssodh_inits, 2);
    assert_eq!(sim.stats().handshakes, 1);
}

#[tokio::test]
async fn wrong_consumer_key_is_capped_at_max_auth_failures() {
    let sim = start_sim(SimConfig::default()).await;
    let mut tc = sim.credentials().clone();
    tc.consumer_key = "WRONGKEY1".into();
    let session = Session::new(credentials_of(&tc), test_config(&sim)).unwrap();
    let mut events = session.subscribe();
    for attempt in 1..=3 {
        let err = session.authenticate().await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidConsumer),
            "attempt {attempt}: {err}"
        );
        assert!(err.to_string().contains("two weeks"));
    }
    let refused = sim.stats().rejected_total();
    assert_eq!(refused, 3, "{:?}", sim.stats());
    for _ in 0..3 {
        let err = session.authenticate().await.unwrap_err();
        assert!(matches!(err, Error::AuthLockedOut { failures: 3 }), "{err}");
        // Calls are refused too, without touching IBKR.
        assert!(matches!(
            session.accounts().await,
            Err(Error::AuthLockedOut { .. })
        ));
    }
    assert_eq!(
        sim.stats().rejected_total(),
        refused,
        "no handshake after lockout"
    );
    assert_eq!(sim.stats().handshakes, 0);
    let state = session.state();
    assert!(state.locked_out && !state.authenticated, "{state:?}");
    let evs = drain(&mut events);
    let failed = evs
        .iter()
        .filter(|e| matches!(e, SessionEvent::AuthFailed { .. }))
        .count();
    assert_eq!(failed, 3, "{evs:?}");
    assert!(
        evs.contains(&SessionEvent::LockedOut { failures: 3 }),
        "{evs:?}"
    );
    session.reset_auth_failures();
    assert!(matches!(
        session.authenticate().await,
        Err(Error::InvalidConsumer)
    ));
    assert_eq!(sim.stats().rejected_total(), refused + 1);
}

#[tokio::test]
async fn transient_handshake_failures_do_not_count_toward_lockout() {
    let (sim, session) = sim_and_session(SimConfig::default()).await;
    sim.faults().push_n(
        "/oauth/live_session_token",
        Fault::Status(503, "busy".into()),
        4,
    );
    for _ in 0..4 {
        assert!(session.authenticate().await.unwrap_err().is_transient());
    }
    assert_eq!(session.state().auth_failures, 0);
    session.authenticate().await.unwrap();
}

#[tokio::test]
async fn logout_ends_the_session() {
    let (sim, session) = connected().await;
    let mut events = session.subscribe();
    session.logout().await.unwrap();
    assert_eq!(sim.stats().logouts, 1);
    assert!(!session.state().authenticated);
    assert_eq!(drain(&mut events), vec![SessionEvent::LoggedOut]);
}

#[tokio::test]
async fn keeper_stays_idle_after_logout() {
    let sim = start_sim(SimConfig::default()).await;
    let config = SessionConfig {
        tickle_interval: Duration::from_millis(100),
        pacer: PacerConfig { enabled: false },
        ..test_config(&sim)
    };
    let session = Session::new(credentials_of(sim.credentials()), config).unwrap();
    session.authenticate().await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let keeper = session.spawn_keeper(async move {
        let _ = stopped.await;
    });
    session.logout().await.unwrap();
    let tickles = sim.stats().tickles;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sim.stats().handshakes, 1, "the keeper did not log back in");
    assert_eq!(sim.stats().tickles, tickles);
    session.authenticate().await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        sim.stats().tickles > tickles,
        "ticking again after authenticate"
    );
    stop.send(()).unwrap();
    keeper.await.unwrap();
}

#[tokio::test]
async fn a_restored_failure_count_holds_across_restarts() {
    let (sim, session) = sim_and_session(SimConfig::default()).await;
    session.restore_auth_failures(3);
    assert!(matches!(
        session.authenticate().await,
        Err(Error::AuthLockedOut { failures: 3 })
    ));
    assert_eq!(sim.stats().handshakes + sim.stats().rejected_total(), 0);
    session.reset_auth_failures();
    session.authenticate().await.unwrap();
}
