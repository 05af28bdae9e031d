use store::{OrderPurpose, Side, Store, StoreError};

use crate::helpers::{day, fresh, order};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_is_a_consistent_copy_taken_while_writing() {
    let db = fresh().await;
    let s = db.store.clone();
    s.put_contract("ABC", 7).await.unwrap();
    s.insert_order(&order("BEFORE", "ABC", Side::Buy, OrderPurpose::Manual, 1))
        .await
        .unwrap();

    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                s.insert_order(&order(
                    &format!("W{i}"),
                    "ABC",
                    Side::Buy,
                    OrderPurpose::Manual,
                    1,
                ))
                .await
                .unwrap();
            }
        })
    };
    let target = db.dir.path().join("backups").join("copy.db");
    s.backup(&target).await.unwrap();
    writer.await.unwrap();

    let copy = Store::open(target.to_str().unwrap()).await.unwrap();
    assert_eq!(
        copy.schema_version().await.unwrap(),
        crate::open::latest_version()
    );
    assert_eq!(copy.contract_conid("ABC").await.unwrap(), Some(7));
    assert!(copy.get_order_by_coid("BEFORE").await.unwrap().is_some());
    // Consistent: a prefix of the writer's rows, with no gap.
    let n = copy.orders_for_day(day(23)).await.unwrap().len();
    assert!((1..=201).contains(&n));
    for i in 0..(n - 1) {
        assert!(
            copy.get_order_by_coid(&format!("W{i}"))
                .await
                .unwrap()
                .is_some(),
            "W{i}"
        );
    }
    assert_eq!(
        s.orders_for_day(day(23)).await.unwrap().len(),
        201,
        "the source is untouched"
    );
}

#[tokio::test]
async fn backup_refuses_to_overwrite() {
    let db = fresh().await;
    let target = db.dir.path().join("copy.db");
    std::fs::write(&target, b"precious").unwrap();
    let err = db.store.backup(&target).await.unwrap_err();
    assert!(matches!(err, StoreError::BackupExists { .. }), "{err:?}");
    assert!(err.to_string().contains("copy.db"));
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");

    let fresh_target = db.dir.path().join("copy2.db");
    db.store.backup(&fresh_target).await.unwrap();
    assert!(matches!(
        db.store.backup(&fresh_target).await,
        Err(StoreError::BackupExists { .. })
    ));
}
