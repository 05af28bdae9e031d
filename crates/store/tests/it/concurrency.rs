use std::sync::Arc;

use store::{NewOrder, Store};

use crate::helpers::{day, entry, fill, fresh};

/// The daemon's duplicate test in miniature: two `trade` runs decide the same entry at the
/// same moment; exactly one entry (order and position) is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_entries_for_the_same_ticker_yield_exactly_one() {
    let db = fresh().await;
    for round in 0..20 {
        let ticker = format!("T{round}");
        let spawn = |side: &str| {
            let s = db.store.clone();
            let o = entry(&format!("{ticker}-{side}"), &ticker, 100, "1");
            tokio::spawn(async move { s.create_position_for_entry(&o, None).await })
        };
        let (a, b) = tokio::join!(spawn("a"), spawn("b"));
        let (a, b) = (a.unwrap(), b.unwrap());
        let made = [a.unwrap(), b.unwrap()].into_iter().flatten().count();
        assert_eq!(made, 1, "round {round}");
    }
    assert_eq!(db.store.orders_for_day(day(23)).await.unwrap().len(), 20);
    assert_eq!(db.store.open_positions().await.unwrap().len(), 20);
}

/// Two processes (two pools on the same file) racing: still one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_entries_from_two_pools_yield_exactly_one() {
    let db = fresh().await;
    let other = db.reopen().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = if i % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            s.create_position_for_entry(&entry(&format!("E{i}"), "ABC", 100, "1"), None)
                .await
        }));
    }
    let mut made = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_some() {
            made += 1;
        }
    }
    assert_eq!(made, 1);
    assert_eq!(db.store.orders_for_day(day(23)).await.unwrap().len(), 1);
    assert_eq!(db.store.open_positions().await.unwrap().len(), 1);
}

/// Even a plain `insert_order` of two entries cannot get past the unique index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_plain_entry_inserts_are_stopped_by_the_index() {
    let db = fresh().await;
    let s = Arc::new(db.store.clone());
    let orders: Vec<NewOrder> = (0..6)
        .map(|i| entry(&format!("E{i}"), "ABC", 100, "1"))
        .collect();
    let results = futures_join_all(s, orders).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e.is_duplicate())
    );
    assert_eq!(db.store.orders_for_day(day(23)).await.unwrap().len(), 1);
}

async fn futures_join_all(
    s: Arc<Store>,
    orders: Vec<NewOrder>,
) -> Vec<store::Result<store::Order>> {
    let handles: Vec<_> = orders
        .into_iter()
        .map(|o| {
            let s = s.clone();
            tokio::spawn(async move { s.insert_order(&o).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// The same execution reported by two `manage` passes at once is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicate_fills_are_stored_once() {
    let db = fresh().await;
    let e = db
        .store
        .create_position_for_entry(&entry("E1", "ABC", 100, "1.50"), None)
        .await
        .unwrap()
        .unwrap();
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let s = db.store.clone();
            tokio::spawn(async move {
                s.record_fill(&fill("exec-1", "E1", 100, "1.50", "2.00"))
                    .await
            })
        })
        .collect();
    let mut fresh_count = 0;
    for h in handles {
        if !h.await.unwrap().unwrap().duplicate {
            fresh_count += 1;
        }
    }
    assert_eq!(fresh_count, 1);
    assert_eq!(db.store.fills_for_order("E1").await.unwrap().len(), 1);
    let p = db
        .store
        .position_by_id(e.position.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.quantity, 100);
}
