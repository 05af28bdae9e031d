use rust_decimal_macros::dec;
use store::{NewOrder, OrderPurpose, OrderState, OrderType, PositionState, Side, StoreError};

use crate::helpers::{at, d, day, entry, exit, fill, fresh};

/// Entry in two partial fills, a half exit, and a final exit by the stop, with commissions:
/// every number exact to the cent.
#[tokio::test]
async fn pnl_after_partial_fill_half_exit_and_final_exit_is_exact() {
    let db = fresh().await;
    let s = &db.store;
    let e = s
        .create_position_for_entry(&entry("E1", "ABC", 1000, "1.25"), Some(d("1.18")))
        .await
        .unwrap()
        .unwrap();
    let pid = e.position.id;
    assert_eq!(e.position.state, PositionState::PendingEntry);
    assert_eq!(e.order.position_id, Some(pid));
    s.set_order_submitted("E1", "1", "Submitted").await.unwrap();

    // Entry: 600 @ 1.23 + 400 @ 1.245 = 738.00 + 498.00 = 1236.00, avg 1.236.
    let p = s
        .record_fill(&fill("e.1", "E1", 600, "1.23", "3.00"))
        .await
        .unwrap()
        .position
        .unwrap();
    assert_eq!((p.state, p.quantity), (PositionState::Open, 600));
    assert_eq!(p.realised_pnl, dec!(-3.00));
    let p = s
        .record_fill(&fill("e.2", "E1", 400, "1.245", "3.00"))
        .await
        .unwrap()
        .position
        .unwrap();
    assert_eq!(p.quantity, 1000);
    assert_eq!(p.avg_entry_price, Some(dec!(1.236)));

    // Day 3: sell half, 500 @ 1.40 (fills in two parts) → (1.40 − 1.236) × 500 = 82.00.
    s.insert_order(&exit("H1", "ABC", 500, OrderPurpose::HalfExit, pid))
        .await
        .unwrap();
    s.set_order_submitted("H1", "2", "Submitted").await.unwrap();
    let mut f = fill("h.1", "H1", 200, "1.40", "3.00");
    f.trading_day = day(26);
    let p = s.record_fill(&f).await.unwrap().position.unwrap();
    assert_eq!(p.state, PositionState::HalfExited);
    assert!(p.half_exit_done);
    let mut f = fill("h.2", "H1", 300, "1.40", "3.00");
    f.trading_day = day(26);
    let p = s.record_fill(&f).await.unwrap().position.unwrap();
    assert_eq!(p.quantity, 500);
    assert_eq!(p.realised_pnl, dec!(82.00) - dec!(12.00));

    // Stop fires: 500 @ 1.19 → (1.19 − 1.236) × 500 = −23.00.
    let stop = NewOrder {
        order_type: OrderType::Stop,
        stop_price: Some(dec!(1.19)),
        ..exit("S1", "ABC", 500, OrderPurpose::ProtectiveStop, pid)
    };
    s.insert_order(&stop).await.unwrap();
    s.set_order_submitted("S1", "3", "PreSubmitted")
        .await
        .unwrap();
    let mut f = fill("s.1", "S1", 500, "1.19", "3.00");
    f.trading_day = day(27);
    f.filled_at = at(5, 0, 0);
    let r = s.record_fill(&f).await.unwrap();
    assert_eq!(r.order.state, OrderState::Filled);
    let p = r.position.unwrap();
    assert_eq!(p.state, PositionState::Closed);
    assert_eq!(p.quantity, 0);
    assert_eq!(p.original_quantity, 1000);
    assert_eq!(p.sold_quantity, 1000);
    assert_eq!(p.commissions, dec!(15.00));
    // 82.00 − 23.00 − 15.00 = 44.00 = proceeds 1295.00 − cost 1236.00 − 15.00
    assert_eq!(p.realised_pnl, dec!(44.00));
    assert_eq!(
        p.exit_proceeds - p.entry_cost - p.commissions,
        p.realised_pnl
    );
    assert_eq!(p.exit_price, Some(dec!(1.295)));
    assert_eq!(p.exit_at, Some(at(5, 0, 0)));
    assert_eq!(p.exit_day, Some(day(27)));
    assert_eq!(p.close_reason.as_deref(), Some("protective_stop"));
    assert_eq!(p.cost_basis, dec!(0));

    // The same P&L, split by the day each fill happened.
    assert_eq!(s.realised_pnl_for_day(day(23)).await.unwrap(), dec!(-6.00));
    assert_eq!(s.realised_pnl_for_day(day(26)).await.unwrap(), dec!(76.00));
    assert_eq!(s.realised_pnl_for_day(day(27)).await.unwrap(), dec!(-26.00));

    // Stored exactly: reread from a new pool.
    s.close().await;
    let again = db
        .reopen()
        .await
        .position_by_id(pid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, p);
    assert_eq!(again.realised_pnl, dec!(44));
}

#[tokio::test]
async fn selling_more_than_held_is_refused() {
    let db = fresh().await;
    let s = &db.store;
    let pid = s
        .create_position_for_entry(&entry("E1", "ABC", 100, "1.00"), None)
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    s.record_fill(&fill("e", "E1", 100, "1.00", "0"))
        .await
        .unwrap();
    s.insert_order(&exit("X1", "ABC", 150, OrderPurpose::TrailExit, pid))
        .await
        .unwrap();
    let err = s
        .record_fill(&fill("x", "X1", 150, "1.10", "0"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::FillRefused { .. }), "{err:?}");
    assert_eq!(s.position_by_id(pid).await.unwrap().unwrap().quantity, 100);
    assert_eq!(
        s.get_order_by_coid("X1")
            .await
            .unwrap()
            .unwrap()
            .filled_quantity,
        0
    );
}

#[tokio::test]
async fn create_position_for_entry_validates_and_refuses_a_second_entry() {
    let db = fresh().await;
    let s = &db.store;
    let not_entry = NewOrder {
        purpose: OrderPurpose::Manual,
        ..entry("E0", "ABC", 10, "1")
    };
    assert!(matches!(
        s.create_position_for_entry(&not_entry, None).await,
        Err(StoreError::Invalid { .. })
    ));
    let sell = NewOrder {
        side: Side::Sell,
        ..entry("E0", "ABC", 10, "1")
    };
    assert!(matches!(
        s.create_position_for_entry(&sell, None).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        s.create_position_for_entry(&entry("E0", "ABC", 10, "1"), Some(d("0")))
            .await,
        Err(StoreError::Invalid { .. })
    ));
    let with_pos = NewOrder {
        position_id: Some(1),
        ..entry("E0", "ABC", 10, "1")
    };
    assert!(matches!(
        s.create_position_for_entry(&with_pos, None).await,
        Err(StoreError::Invalid { .. })
    ));

    let first = s
        .create_position_for_entry(&entry("E1", "ABC", 10, "1"), Some(d("0.95")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.position.stop_price, Some(d("0.95")));
    assert_eq!(first.position.trading_day, day(23));
    assert!(
        s.create_position_for_entry(&entry("E2", "ABC", 10, "1"), None)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.open_positions().await.unwrap().len(), 1);

    // A duplicate cOID rolls the whole decision back: no orphan position.
    let err = s
        .create_position_for_entry(&entry("E1", "DEF", 10, "1"), None)
        .await
        .unwrap_err();
    assert!(err.is_duplicate());
    assert_eq!(s.open_positions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn stops_only_go_up() {
    let db = fresh().await;
    let s = &db.store;
    let pid = s
        .create_position_for_entry(&entry("E1", "ABC", 10, "1"), None)
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    let p = s.raise_stop(pid, d("0.90")).await.unwrap();
    assert_eq!(p.stop_price, Some(d("0.90")));
    let p = s.raise_stop(pid, d("0.95")).await.unwrap();
    assert_eq!(p.stop_price, Some(d("0.95")));
    let same = s.raise_stop(pid, d("0.950")).await.unwrap();
    assert_eq!(same.stop_price, Some(d("0.95")));
    let err = s.raise_stop(pid, d("0.945")).await.unwrap_err();
    assert!(matches!(err, StoreError::StopLowered { .. }), "{err:?}");
    assert_eq!(
        s.position_by_id(pid).await.unwrap().unwrap().stop_price,
        Some(d("0.95"))
    );
    assert!(matches!(
        s.raise_stop(pid, d("-1")).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(s.raise_stop(9999, d("1")).await.unwrap_err().is_not_found());

    // A closed position's stop does not move.
    s.record_fill(&fill("e", "E1", 10, "1", "0")).await.unwrap();
    s.insert_order(&exit("X", "ABC", 10, OrderPurpose::TrailExit, pid))
        .await
        .unwrap();
    s.record_fill(&fill("x", "X", 10, "1.1", "0"))
        .await
        .unwrap();
    assert!(matches!(
        s.raise_stop(pid, d("1.05")).await,
        Err(StoreError::Invalid { .. })
    ));
}

#[tokio::test]
async fn set_stop_order_and_notes() {
    let db = fresh().await;
    let s = &db.store;
    let pid = s
        .create_position_for_entry(&entry("E1", "ABC", 10, "1"), None)
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    let p = s.set_stop_order(pid, "STP-1", None).await.unwrap();
    assert_eq!(p.stop_order_coid.as_deref(), Some("STP-1"));
    assert_eq!(p.stop_ibkr_order_id, None);
    let p = s.set_stop_order(pid, "STP-1", Some("555")).await.unwrap();
    assert_eq!(p.stop_ibkr_order_id.as_deref(), Some("555"));
    let p = s
        .set_position_notes(pid, Some("watch the 1.30 resistance"))
        .await
        .unwrap();
    assert_eq!(p.notes.as_deref(), Some("watch the 1.30 resistance"));
    let p = s.set_position_notes(pid, None).await.unwrap();
    assert_eq!(p.notes, None);
    assert!(
        s.set_stop_order(42, "x", None)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        s.set_position_notes(42, None)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn mark_half_exit_moves_open_to_half_exited_once() {
    let db = fresh().await;
    let s = &db.store;
    let pid = s
        .create_position_for_entry(&entry("E1", "ABC", 10, "1"), None)
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    let err = s.mark_half_exit(pid).await.unwrap_err();
    assert!(err.is_illegal_transition(), "pending entry: {err:?}");
    s.record_fill(&fill("e", "E1", 10, "1", "0")).await.unwrap();
    let p = s.mark_half_exit(pid).await.unwrap();
    assert_eq!(p.state, PositionState::HalfExited);
    assert!(p.half_exit_done);
    assert_eq!(s.mark_half_exit(pid).await.unwrap(), p, "idempotent");
    // A later half_exit fill keeps it half exited.
    s.insert_order(&exit("H", "ABC", 5, OrderPurpose::HalfExit, pid))
        .await
        .unwrap();
    let p = s
        .record_fill(&fill("h", "H", 5, "1.2", "0"))
        .await
        .unwrap()
        .position
        .unwrap();
    assert_eq!((p.state, p.quantity), (PositionState::HalfExited, 5));
    s.insert_order(&exit("T", "ABC", 5, OrderPurpose::TrailExit, pid))
        .await
        .unwrap();
    let p = s
        .record_fill(&fill("t", "T", 5, "1.3", "0"))
        .await
        .unwrap()
        .position
        .unwrap();
    assert_eq!(p.state, PositionState::Closed);
    assert_eq!(p.realised_pnl, d("2.5"));
    assert!(
        s.mark_half_exit(pid)
            .await
            .unwrap_err()
            .is_illegal_transition()
    );
}

#[tokio::test]
async fn abandon_closes_an_entry_that_never_filled() {
    let db = fresh().await;
    let s = &db.store;
    let pid = s
        .create_position_for_entry(&entry("E1", "ABC", 10, "1"), None)
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    // Its entry may still trade: refused.
    assert!(matches!(
        s.abandon_position(pid, "x").await,
        Err(StoreError::Invalid { .. })
    ));
    s.set_order_submitted("E1", "1", "Submitted").await.unwrap();
    s.transition_order("E1", OrderState::Rejected, Some("price outside band"))
        .await
        .unwrap();
    let p = s.abandon_position(pid, "entry rejected").await.unwrap();
    assert_eq!(p.state, PositionState::Closed);
    assert_eq!(p.close_reason.as_deref(), Some("entry rejected"));
    assert!(s.open_positions().await.unwrap().is_empty());
    assert!(
        s.positions_closed_on(day(23)).await.unwrap().is_empty(),
        "nothing was traded"
    );
    assert!(
        s.abandon_position(pid, "again")
            .await
            .unwrap_err()
            .is_illegal_transition()
    );

    // An entry with shares cannot be abandoned.
    let e = s
        .create_position_for_entry(&entry("E2", "ABC", 10, "1"), None)
        .await
        .unwrap()
        .unwrap();
    s.record_fill(&fill("e2", "E2", 10, "1", "0"))
        .await
        .unwrap();
    assert!(
        s.abandon_position(e.position.id, "x")
            .await
            .unwrap_err()
            .is_illegal_transition()
    );
}

#[tokio::test]
async fn listing_positions_by_state_and_day() {
    let db = fresh().await;
    let s = &db.store;
    let a = s
        .create_position_for_entry(&entry("A", "AAA", 10, "1"), None)
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    let b = s
        .create_position_for_entry(&entry("B", "BBB", 10, "1"), None)
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    let c = s
        .create_position_for_entry(
            &NewOrder {
                trading_day: day(24),
                ..entry("C", "CCC", 10, "1")
            },
            None,
        )
        .await
        .unwrap()
        .unwrap()
        .position
        .id;
    s.record_fill(&fill("a", "A", 10, "1", "0")).await.unwrap();
    s.insert_order(&exit("AX", "AAA", 10, OrderPurpose::StopBackstop, a))
        .await
        .unwrap();
    let mut f = fill("ax", "AX", 10, "0.9", "0");
    f.trading_day = day(24);
    s.record_fill(&f).await.unwrap();

    let ids = |v: Vec<store::Position>| v.into_iter().map(|p| p.id).collect::<Vec<_>>();
    assert_eq!(ids(s.open_positions().await.unwrap()), [b, c]);
    assert_eq!(ids(s.positions_entered_on(day(23)).await.unwrap()), [a, b]);
    assert_eq!(ids(s.positions_entered_on(day(24)).await.unwrap()), [c]);
    assert_eq!(ids(s.positions_closed_on(day(24)).await.unwrap()), [a]);
    assert!(s.positions_closed_on(day(23)).await.unwrap().is_empty());
    assert_eq!(
        s.position_by_id(a).await.unwrap().unwrap().realised_pnl,
        d("-1.0")
    );
    assert_eq!(s.position_by_id(777).await.unwrap(), None);
}
