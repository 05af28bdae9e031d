use store::{NewOrder, OrderPurpose, OrderState, OrderType, Side, StoreError};

use crate::helpers::{d, day, entry, fill, fresh, order};

#[tokio::test]
async fn insert_order_journals_pending_and_reads_back() {
    let db = fresh().await;
    let new = NewOrder {
        order_type: OrderType::Stop,
        stop_price: Some(d("1.185")),
        ..order(
            "STP-1",
            "ABC",
            Side::Sell,
            OrderPurpose::ProtectiveStop,
            500,
        )
    };
    let o = db.store.insert_order(&new).await.unwrap();
    assert_eq!(o.state, OrderState::Pending);
    assert_eq!(o.coid, "STP-1");
    assert_eq!(o.stop_price, Some(d("1.185")));
    assert_eq!(o.stop_price.unwrap().to_string(), "1.185");
    assert_eq!(o.limit_price, None);
    assert_eq!(o.filled_quantity, 0);
    assert_eq!(o.remaining_quantity(), 500);
    assert_eq!(o.trading_day, day(23));
    assert_eq!(
        db.store.get_order_by_coid("STP-1").await.unwrap(),
        Some(o.clone())
    );
    assert_eq!(db.store.order_by_id(o.id).await.unwrap(), Some(o));
    assert_eq!(db.store.get_order_by_coid("nope").await.unwrap(), None);
    assert_eq!(db.store.order_by_id(999).await.unwrap(), None);
}

#[tokio::test]
async fn insert_order_validates_prices_and_quantity() {
    let db = fresh().await;
    let base = order("X", "ABC", Side::Buy, OrderPurpose::Manual, 10);
    let bad = [
        NewOrder {
            quantity: 0,
            ..base.clone()
        },
        NewOrder {
            coid: " ".into(),
            ..base.clone()
        },
        NewOrder {
            ticker: "".into(),
            ..base.clone()
        },
        NewOrder {
            limit_price: Some(d("1")),
            ..base.clone()
        },
        NewOrder {
            order_type: OrderType::Limit,
            ..base.clone()
        },
        NewOrder {
            order_type: OrderType::Limit,
            limit_price: Some(d("0")),
            ..base.clone()
        },
        NewOrder {
            order_type: OrderType::Stop,
            ..base.clone()
        },
        NewOrder {
            order_type: OrderType::Stop,
            stop_price: Some(d("1")),
            limit_price: Some(d("1")),
            ..base.clone()
        },
    ];
    for o in bad {
        let err = db.store.insert_order(&o).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{o:?}: {err:?}");
    }
    assert!(db.store.orders_for_day(day(23)).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_duplicate_coid_is_refused() {
    let db = fresh().await;
    let o = order("SAME", "ABC", Side::Buy, OrderPurpose::Manual, 10);
    db.store.insert_order(&o).await.unwrap();
    let err = db
        .store
        .insert_order(&NewOrder {
            ticker: "DEF".into(),
            ..o
        })
        .await
        .unwrap_err();
    assert!(err.is_duplicate(), "{err:?}");
    assert_eq!(db.store.orders_for_day(day(23)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_second_live_entry_for_the_same_ticker_and_day_is_refused_by_the_index() {
    let db = fresh().await;
    db.store
        .insert_order(&entry("E1", "ABC", 100, "1.00"))
        .await
        .unwrap();
    let err = db
        .store
        .insert_order(&entry("E2", "ABC", 100, "1.00"))
        .await
        .unwrap_err();
    assert!(err.is_duplicate(), "{err:?}");
    // Another ticker, or another day, is fine.
    db.store
        .insert_order(&entry("E3", "DEF", 100, "1.00"))
        .await
        .unwrap();
    db.store
        .insert_order(&NewOrder {
            trading_day: day(24),
            ..entry("E4", "ABC", 100, "1.00")
        })
        .await
        .unwrap();
    // A failed entry does not count: a new one may be written.
    db.store
        .transition_order("E1", OrderState::Failed, Some("send failed"))
        .await
        .unwrap();
    db.store
        .insert_order(&entry("E5", "ABC", 100, "1.00"))
        .await
        .unwrap();
    let live = db
        .store
        .entry_order_for(day(23), "ABC")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.coid, "E5");
    assert_eq!(
        db.store.entry_order_for(day(23), "ZZZ").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn set_order_submitted_records_the_broker_id_once() {
    let db = fresh().await;
    db.store
        .insert_order(&entry("E1", "ABC", 100, "1.00"))
        .await
        .unwrap();
    let o = db
        .store
        .set_order_submitted("E1", "123456", "PreSubmitted")
        .await
        .unwrap();
    assert_eq!(o.state, OrderState::Submitted);
    assert_eq!(o.ibkr_order_id.as_deref(), Some("123456"));
    assert_eq!(o.broker_status.as_deref(), Some("PreSubmitted"));
    // submitted -> submitted is not a transition.
    let err = db
        .store
        .set_order_submitted("E1", "999", "Submitted")
        .await
        .unwrap_err();
    assert!(err.is_illegal_transition(), "{err:?}");
    let again = db.store.get_order_by_coid("E1").await.unwrap().unwrap();
    assert_eq!(
        again.ibkr_order_id.as_deref(),
        Some("123456"),
        "refused change wrote nothing"
    );
    let err = db
        .store
        .set_order_submitted("missing", "1", "x")
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn set_broker_status_changes_text_not_state() {
    let db = fresh().await;
    db.store
        .insert_order(&entry("E1", "ABC", 100, "1.00"))
        .await
        .unwrap();
    let o = db
        .store
        .set_broker_status("E1", "PendingSubmit", Some("77"))
        .await
        .unwrap();
    assert_eq!(o.state, OrderState::Pending);
    assert_eq!(o.broker_status.as_deref(), Some("PendingSubmit"));
    assert_eq!(o.ibkr_order_id.as_deref(), Some("77"));
    // An id already known is not overwritten.
    let o = db
        .store
        .set_broker_status("E1", "Submitted", Some("78"))
        .await
        .unwrap();
    assert_eq!(o.ibkr_order_id.as_deref(), Some("77"));
    assert_eq!(o.broker_status.as_deref(), Some("Submitted"));
}

#[tokio::test]
async fn the_state_machine_refuses_illegal_transitions_and_leaves_the_row_alone() {
    let db = fresh().await;
    let s = &db.store;
    s.insert_order(&order("A", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();
    s.set_order_submitted("A", "1", "Submitted").await.unwrap();
    let cancelled = s
        .transition_order("A", OrderState::Cancelled, Some("cutoff"))
        .await
        .unwrap();
    assert_eq!(cancelled.state, OrderState::Cancelled);
    assert_eq!(cancelled.detail.as_deref(), Some("cutoff"));

    for to in OrderState::ALL {
        let err = s
            .transition_order("A", *to, Some("again"))
            .await
            .unwrap_err();
        assert!(err.is_illegal_transition(), "cancelled -> {to}: {err:?}");
    }
    assert_eq!(s.get_order_by_coid("A").await.unwrap().unwrap(), cancelled);

    // submitted -> failed is not in the table.
    s.insert_order(&order("B", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();
    s.set_order_submitted("B", "2", "Submitted").await.unwrap();
    let err = s
        .transition_order("B", OrderState::Failed, None)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::IllegalTransition {
            from: OrderState::Submitted,
            to: OrderState::Failed,
            ..
        }
    ));
    // submitted -> pending is refused too.
    assert!(
        s.transition_order("B", OrderState::Pending, None)
            .await
            .unwrap_err()
            .is_illegal_transition()
    );
    // pending -> rejected is legal.
    s.insert_order(&order("C", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();
    let c = s
        .transition_order("C", OrderState::Rejected, Some("no permissions"))
        .await
        .unwrap();
    assert_eq!(c.state, OrderState::Rejected);
    assert!(
        s.transition_order("missing", OrderState::Cancelled, None)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn filled_is_reached_only_through_fills() {
    let db = fresh().await;
    db.store
        .insert_order(&order("A", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();
    db.store
        .set_order_submitted("A", "1", "Submitted")
        .await
        .unwrap();
    let err = db
        .store
        .transition_order("A", OrderState::Filled, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }), "{err:?}");
    assert_eq!(
        db.store
            .get_order_by_coid("A")
            .await
            .unwrap()
            .unwrap()
            .state,
        OrderState::Submitted
    );
    db.store
        .record_fill(&fill("x1", "A", 10, "1.00", "0"))
        .await
        .unwrap();
    // filled -> filled through transition_order is reported as illegal, not as invalid.
    let err = db
        .store
        .transition_order("A", OrderState::Filled, None)
        .await
        .unwrap_err();
    assert!(err.is_illegal_transition(), "{err:?}");
}

#[tokio::test]
async fn queries_by_state_day_and_position() {
    let db = fresh().await;
    let s = &db.store;
    let e = s
        .create_position_for_entry(&entry("E1", "ABC", 100, "1.00"), Some(d("0.90")))
        .await
        .unwrap()
        .unwrap();
    let pid = e.position.id;
    s.insert_order(&order("M1", "DEF", Side::Buy, OrderPurpose::Manual, 5))
        .await
        .unwrap();
    s.insert_order(&NewOrder {
        trading_day: day(24),
        ..order("M2", "DEF", Side::Buy, OrderPurpose::Manual, 5)
    })
    .await
    .unwrap();
    s.set_order_submitted("E1", "1", "Submitted").await.unwrap();
    s.transition_order("M1", OrderState::Failed, Some("unknown to IBKR"))
        .await
        .unwrap();

    let coids = |v: Vec<store::Order>| v.into_iter().map(|o| o.coid).collect::<Vec<_>>();
    assert_eq!(
        coids(s.orders_in_state(OrderState::Pending).await.unwrap()),
        ["M2"]
    );
    assert_eq!(
        coids(s.orders_in_state(OrderState::Submitted).await.unwrap()),
        ["E1"]
    );
    assert_eq!(
        coids(s.orders_in_state(OrderState::Failed).await.unwrap()),
        ["M1"]
    );
    assert_eq!(coids(s.open_orders().await.unwrap()), ["E1", "M2"]);
    assert_eq!(
        coids(s.orders_for_day(day(23)).await.unwrap()),
        ["E1", "M1"]
    );
    assert_eq!(
        coids(s.open_orders_for_position(pid).await.unwrap()),
        ["E1"]
    );

    s.record_fill(&fill("x1", "E1", 100, "1.00", "0"))
        .await
        .unwrap();
    assert!(s.open_orders_for_position(pid).await.unwrap().is_empty());
}

#[tokio::test]
async fn rows_serialize_with_money_as_exact_strings() {
    let db = fresh().await;
    let o = db
        .store
        .insert_order(&entry("E1", "ABC", 100, "1.235"))
        .await
        .unwrap();
    let v = serde_json::to_value(&o).unwrap();
    assert_eq!(
        v["limit_price"],
        serde_json::json!("1.235"),
        "never a float"
    );
    assert_eq!(v["state"], serde_json::json!("pending"));
    assert_eq!(v["side"], serde_json::json!("BUY"));
    assert_eq!(v["trading_day"], serde_json::json!("2025-06-23"));
}
