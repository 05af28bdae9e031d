use std::sync::Arc;

use crate::helpers::{at, fresh};

#[tokio::test]
async fn flags_start_safe_and_record_who_paused() {
    let db = fresh().await;
    let s = db.store.clone().with_clock(Arc::new(|| at(1, 2, 3)));
    let f = s.flags().await.unwrap();
    assert!(!f.paused);
    assert!(!f.trading_enabled, "trading starts disabled");

    let f = s.set_paused(true, "cli", Some("news day")).await.unwrap();
    assert!(f.paused);
    assert_eq!(f.paused_by.as_deref(), Some("cli"));
    assert_eq!(f.paused_at, Some(at(1, 2, 3)));
    assert_eq!(f.paused_reason.as_deref(), Some("news day"));
    assert_eq!(s.flags().await.unwrap(), f);

    let f = s.set_paused(false, "cli", None).await.unwrap();
    assert!(!f.paused);
    assert_eq!(
        (f.paused_by, f.paused_at, f.paused_reason),
        (None, None, None)
    );

    let f = s
        .set_trading_enabled(true, "reconciliation ok: 0 differences")
        .await
        .unwrap();
    assert!(f.trading_enabled);
    assert_eq!(f.trading_changed_at, Some(at(1, 2, 3)));
    assert_eq!(
        f.trading_reason.as_deref(),
        Some("reconciliation ok: 0 differences")
    );
    s.close().await;
    let reopened = db.reopen().await;
    assert!(
        reopened.flags().await.unwrap().trading_enabled,
        "survives a restart"
    );
    let f = reopened
        .set_trading_enabled(false, "reconciliation failed")
        .await
        .unwrap();
    assert!(!f.trading_enabled);
}

#[tokio::test]
async fn refused_handshakes_are_counted_across_restarts() {
    let db = fresh().await;
    assert_eq!(db.store.flags().await.unwrap().auth_failures, 0);
    assert_eq!(
        db.store.set_auth_failures(2).await.unwrap().auth_failures,
        2
    );
    db.store.close().await;
    let reopened = db.reopen().await;
    assert_eq!(
        reopened.flags().await.unwrap().auth_failures,
        2,
        "survives a restart"
    );
    assert_eq!(
        reopened.set_auth_failures(0).await.unwrap().auth_failures,
        0
    );
}
