//! The cost of the journal: 1,000 `insert_order` calls, each its own transaction, on a temp
//! FILE with `synchronous=FULL` and WAL — as the daemon writes an order before sending it.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use rust_decimal::Decimal;
use store::{NewOrder, OrderPurpose, OrderType, Side, Store};

const INSERTS: usize = 1_000;

fn new_order(batch: u64, i: usize) -> NewOrder {
    NewOrder {
        coid: format!("bench-{batch}-{i}"),
        trading_day: NaiveDate::from_ymd_opt(2025, 6, 23).unwrap_or_default(),
        ticker: "ABC".into(),
        conid: 4036812,
        side: Side::Sell,
        order_type: OrderType::Stop,
        quantity: 1000,
        limit_price: None,
        stop_price: Some(Decimal::new(1185, 3)),
        purpose: OrderPurpose::ProtectiveStop,
        position_id: None,
    }
}

fn journal(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let store = rt
        .block_on(Store::open(path.to_str().expect("utf-8 temp path")))
        .expect("open store");
    let settings = rt.block_on(store.connection_settings()).expect("settings");
    assert_eq!(
        settings.synchronous, 2,
        "bench must run with synchronous=FULL"
    );
    assert_eq!(settings.journal_mode, "wal");

    let mut group = c.benchmark_group("journal");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(15));
    let mut batch = 0u64;
    group.bench_function("insert_order x1000 (synchronous=FULL, one tx each)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                batch += 1;
                let orders: Vec<NewOrder> = (0..INSERTS).map(|i| new_order(batch, i)).collect();
                let start = Instant::now();
                rt.block_on(async {
                    for o in &orders {
                        store.insert_order(o).await.expect("insert_order");
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    rt.block_on(store.close());
}

criterion_group!(benches, journal);
criterion_main!(benches);
