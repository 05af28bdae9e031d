use store::{OrderPurpose, OrderState, PositionState, Side, StoreError};

use crate::helpers::{d, day, entry, fill, fresh, order};

#[tokio::test]
async fn the_same_execution_seen_twice_is_stored_once() {
    let db = fresh().await;
    let s = &db.store;
    let e = s
        .create_position_for_entry(&entry("E1", "ABC", 1000, "1.25"), None)
        .await
        .unwrap()
        .unwrap();
    s.set_order_submitted("E1", "1", "Submitted").await.unwrap();

    let first = s
        .record_fill(&fill("0001.01", "E1", 400, "1.24", "3.00"))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let second = s
        .record_fill(&fill("0001.01", "E1", 400, "1.24", "3.00"))
        .await
        .unwrap();
    assert!(second.duplicate);
    assert_eq!(second.fill, first.fill);
    assert_eq!(second.order, first.order);
    assert_eq!(second.position, first.position);

    assert_eq!(s.fills_for_order("E1").await.unwrap().len(), 1);
    let o = s.get_order_by_coid("E1").await.unwrap().unwrap();
    assert_eq!(o.filled_quantity, 400);
    let p = s.position_by_id(e.position.id).await.unwrap().unwrap();
    assert_eq!(p.quantity, 400);
    assert_eq!(p.commissions, d("3.00"));
}

#[tokio::test]
async fn partial_fills_move_the_order_and_average_its_price() {
    let db = fresh().await;
    let s = &db.store;
    s.create_position_for_entry(&entry("E1", "ABC", 1000, "1.25"), None)
        .await
        .unwrap()
        .unwrap();
    s.set_order_submitted("E1", "1", "Submitted").await.unwrap();

    let a = s
        .record_fill(&fill("x1", "E1", 600, "1.23", "3.00"))
        .await
        .unwrap();
    assert_eq!(a.order.state, OrderState::PartiallyFilled);
    assert_eq!(a.order.filled_quantity, 600);
    assert_eq!(a.order.avg_fill_price, Some(d("1.23")));
    let b = s
        .record_fill(&fill("x2", "E1", 300, "1.24", "2.00"))
        .await
        .unwrap();
    assert_eq!(b.order.state, OrderState::PartiallyFilled);
    let c = s
        .record_fill(&fill("x3", "E1", 100, "1.25", "1.00"))
        .await
        .unwrap();
    assert_eq!(c.order.state, OrderState::Filled);
    assert_eq!(c.order.filled_quantity, 1000);
    // (738 + 372 + 125) / 1000
    assert_eq!(c.order.avg_fill_price, Some(d("1.235")));
    let p = c.position.unwrap();
    assert_eq!(p.state, PositionState::Open);
    assert_eq!(p.quantity, 1000);
    assert_eq!(p.original_quantity, 1000);
    assert_eq!(p.avg_entry_price, Some(d("1.235")));
    assert_eq!(p.entry_cost, d("1235.00"));
    assert_eq!(p.commissions, d("6.00"));
    assert_eq!(p.realised_pnl, d("-6.00"));
    assert_eq!(p.entry_at, Some(crate::helpers::at(0, 10, 0)));

    let fills = s.fills_for_order("E1").await.unwrap();
    assert_eq!(
        fills.iter().map(|f| f.exec_id.as_str()).collect::<Vec<_>>(),
        ["x1", "x2", "x3"]
    );
    assert_eq!(fills[0].realised_pnl, d("-3.00"));
    assert_eq!(fills[0].price.to_string(), "1.23");
}

#[tokio::test]
async fn an_overfill_is_refused_and_writes_nothing() {
    let db = fresh().await;
    let s = &db.store;
    let e = s
        .create_position_for_entry(&entry("E1", "ABC", 100, "1.00"), None)
        .await
        .unwrap()
        .unwrap();
    s.set_order_submitted("E1", "1", "Submitted").await.unwrap();
    s.record_fill(&fill("x1", "E1", 60, "1.00", "1"))
        .await
        .unwrap();
    let err = s
        .record_fill(&fill("x2", "E1", 41, "1.00", "1"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::FillRefused { .. }), "{err:?}");
    assert_eq!(s.fills_for_order("E1").await.unwrap().len(), 1);
    assert_eq!(
        s.get_order_by_coid("E1")
            .await
            .unwrap()
            .unwrap()
            .filled_quantity,
        60
    );
    assert_eq!(
        s.position_by_id(e.position.id)
            .await
            .unwrap()
            .unwrap()
            .quantity,
        60
    );
}

#[tokio::test]
async fn bad_fills_are_refused() {
    let db = fresh().await;
    let s = &db.store;
    s.insert_order(&order("M", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();
    for f in [
        fill("", "M", 1, "1", "0"),
        fill("a", "M", 0, "1", "0"),
        fill("b", "M", 1, "0", "0"),
        fill("c", "M", 1, "1", "-0.01"),
    ] {
        assert!(
            matches!(s.record_fill(&f).await, Err(StoreError::FillRefused { .. })),
            "{f:?}"
        );
    }
    assert!(
        s.record_fill(&fill("d", "unknown", 1, "1", "0"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(s.fills_for_order("M").await.unwrap().is_empty());
}

#[tokio::test]
async fn a_fill_before_the_order_was_adopted_proves_it_reached_the_broker() {
    let db = fresh().await;
    db.store
        .insert_order(&order("M", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();
    let r = db
        .store
        .record_fill(&fill("x", "M", 10, "2.00", "1.50"))
        .await
        .unwrap();
    assert_eq!(r.order.state, OrderState::Filled);
    assert!(!r.late);
    assert_eq!(r.position, None, "a manual order has no position");
    assert_eq!(r.fill.realised_pnl, d("-1.50"));
}

#[tokio::test]
async fn a_fill_that_raced_a_cancel_is_recorded_without_changing_the_state() {
    let db = fresh().await;
    let s = &db.store;
    let e = s
        .create_position_for_entry(&entry("E1", "ABC", 100, "1.00"), None)
        .await
        .unwrap()
        .unwrap();
    s.set_order_submitted("E1", "1", "Submitted").await.unwrap();
    s.record_fill(&fill("x1", "E1", 40, "1.00", "1"))
        .await
        .unwrap();
    s.transition_order("E1", OrderState::Cancelled, Some("cutoff"))
        .await
        .unwrap();
    let r = s
        .record_fill(&fill("x2", "E1", 10, "1.00", "1"))
        .await
        .unwrap();
    assert!(r.late);
    assert_eq!(r.order.state, OrderState::Cancelled);
    assert_eq!(r.order.filled_quantity, 50);
    let p = s.position_by_id(e.position.id).await.unwrap().unwrap();
    assert_eq!(
        p.quantity, 50,
        "positions come from fills, whatever the order's state"
    );
}

#[tokio::test]
async fn fills_are_booked_to_their_trading_day() {
    let db = fresh().await;
    let s = &db.store;
    s.insert_order(&order("M", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();
    let mut f = fill("x", "M", 10, "2.00", "1.25");
    f.trading_day = day(24);
    s.record_fill(&f).await.unwrap();
    assert_eq!(s.realised_pnl_for_day(day(24)).await.unwrap(), d("-1.25"));
    assert_eq!(s.realised_pnl_for_day(day(23)).await.unwrap(), d("0"));
}
