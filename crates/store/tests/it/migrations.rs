use std::path::{Path, PathBuf};

use rust_decimal_macros::dec;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use store::{CandidateStatus, JobOutcome, MIGRATOR, OrderState, PositionState, Store};

use crate::helpers::{at, day};

fn migrations_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

fn sql_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(migrations_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

const TABLES: [&str; 7] = [
    "contracts",
    "candidates",
    "positions",
    "orders",
    "fills",
    "job_runs",
    "flags",
];

async fn counts(pool: &sqlx::SqlitePool) -> Vec<i64> {
    let mut out = Vec::new();
    for t in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(pool)
            .await
            .unwrap();
        out.push(n);
    }
    out
}

#[test]
fn there_are_at_least_two_migrations_and_the_embedded_set_matches_the_folder() {
    let files = sql_files();
    assert!(files.len() >= 2);
    let versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(versions.len(), files.len());
    assert!(versions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(versions[0], 1);
}

#[test]
fn migrations_only_add() {
    for f in sql_files() {
        let sql: String = std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
            .to_uppercase();
        for banned in ["DROP ", "DELETE ", "RENAME ", "REPLACE INTO", "TRUNCATE"] {
            assert!(!sql.contains(banned), "{} contains {banned}", f.display());
        }
    }
}

/// A database built by migration 1 alone, with rows in every table, migrated to the latest
/// by `Store::open`, keeps every row and reads back through the typed API.
#[tokio::test]
async fn a_version_1_database_keeps_every_row_when_migrated_to_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let only_first = dir.path().join("m1");
    std::fs::create_dir(&only_first).unwrap();
    let first = &sql_files()[0];
    std::fs::copy(first, only_first.join(first.file_name().unwrap())).unwrap();
    let db_path = dir.path().join("old.db");

    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&db_path)
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .unwrap();
    let v1 = Migrator::new(only_first.as_path()).await.unwrap();
    assert_eq!(v1.iter().count(), 1);
    v1.run(&pool).await.unwrap();

    for sql in [
        "INSERT INTO contracts (ticker, conid, updated_at) VALUES ('ABC', 1234, '2025-06-23T00:00:00.000000000Z')",
        "INSERT INTO candidates (trading_day, ticker, conid, gap_pct, headline, price_sensitive, scanned_at,
             range_high, range_low, status, created_at, updated_at)
         VALUES ('2025-06-23', 'ABC', 1234, '14.09', 'Drilling results', 1, '2025-06-23T00:00:30.000000000Z',
             '1.30', '1.20', 'entered', '2025-06-23T00:00:30.000000000Z', '2025-06-23T00:00:30.000000000Z')",
        "INSERT INTO positions (trading_day, ticker, conid, state, quantity, original_quantity, avg_entry_price,
             entry_cost, cost_basis, entry_at, stop_price, realised_pnl, commissions, created_at, updated_at)
         VALUES ('2025-06-23', 'ABC', 1234, 'open', 1000, 1000, '1.235', '1235.000', '1235.000',
             '2025-06-23T00:10:00.000000000Z', '1.20', '-3.00', '3.00',
             '2025-06-23T00:09:00.000000000Z', '2025-06-23T00:10:00.000000000Z')",
        "INSERT INTO orders (coid, trading_day, ticker, conid, side, order_type, quantity, limit_price, purpose,
             state, ibkr_order_id, filled_quantity, avg_fill_price, broker_status, position_id, created_at, updated_at)
         VALUES ('E-ABC-1', '2025-06-23', 'ABC', 1234, 'BUY', 'LMT', 1000, '1.25', 'entry', 'filled', '987',
             1000, '1.235', 'Filled', 1, '2025-06-23T00:09:00.000000000Z', '2025-06-23T00:10:00.000000000Z')",
        "INSERT INTO fills (exec_id, order_id, quantity, price, commission, realised_pnl, filled_at, trading_day, recorded_at)
         VALUES ('0000e1.01', 1, 1000, '1.235', '3.00', '-3.00', '2025-06-23T00:10:00.000000000Z', '2025-06-23',
             '2025-06-23T00:10:01.000000000Z')",
        "INSERT INTO job_runs (job, started_at, finished_at, outcome, detail)
         VALUES ('trade', '2025-06-23T00:09:00.000000000Z', '2025-06-23T00:09:01.000000000Z', 'ok', 'entered ABC')",
        "UPDATE flags SET paused = 1, paused_by = 'cli', paused_at = '2025-06-23T00:11:00.000000000Z' WHERE id = 1",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    let before = counts(&pool).await;
    assert_eq!(before, [1, 1, 1, 1, 1, 1, 1]);
    pool.close().await;

    // The daemon starts on the old file: Store::open applies the rest.
    let store = Store::open(db_path.to_str().unwrap()).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        MIGRATOR.iter().last().unwrap().version
    );
    store.close().await;

    let pool = SqlitePoolOptions::new()
        .connect_with(SqliteConnectOptions::new().filename(&db_path))
        .await
        .unwrap();
    assert_eq!(counts(&pool).await, before, "no row lost");
    pool.close().await;

    let store = Store::open(db_path.to_str().unwrap()).await.unwrap();
    assert_eq!(store.contract_conid("ABC").await.unwrap(), Some(1234));
    let c = store.candidate(day(23), "ABC").await.unwrap().unwrap();
    assert_eq!(
        (c.status, c.gap_pct, c.range_high),
        (CandidateStatus::Entered, dec!(14.09), Some(dec!(1.30)))
    );
    let o = store.get_order_by_coid("E-ABC-1").await.unwrap().unwrap();
    assert_eq!(
        (o.state, o.filled_quantity, o.avg_fill_price),
        (OrderState::Filled, 1000, Some(dec!(1.235)))
    );
    let p = store.position_by_id(1).await.unwrap().unwrap();
    assert_eq!(
        (p.state, p.quantity, p.realised_pnl),
        (PositionState::Open, 1000, dec!(-3.00))
    );
    assert_eq!(
        p.notes, None,
        "the column migration 2 added is empty on old rows"
    );
    assert_eq!(
        p.entry_at.map(|t| t.to_rfc3339()),
        Some(at(0, 10, 0).to_rfc3339())
    );
    let f = store.fills_for_order("E-ABC-1").await.unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].price, dec!(1.235));
    let jobs = store.last_job_runs().await.unwrap();
    assert_eq!(
        (jobs[0].job.as_str(), jobs[0].outcome),
        ("trade", Some(JobOutcome::Ok))
    );
    assert!(store.flags().await.unwrap().paused);
    assert_eq!(
        store.realised_pnl_for_day(day(23)).await.unwrap(),
        dec!(-3.00)
    );

    // And the migrated database works: the new column is writable.
    let p = store.set_position_notes(1, Some("migrated")).await.unwrap();
    assert_eq!(p.notes.as_deref(), Some("migrated"));
}

#[tokio::test]
async fn an_older_binary_still_opens_a_database_a_newer_one_migrated() {
    // A deploy rolled back after the new version added a migration: the old binary must start.
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("newer.db");
    let store = Store::open(db_path.to_str().unwrap()).await.unwrap();
    store.put_contract("ABC", 1234).await.unwrap();
    store.close().await;

    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(&db_path))
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99990101000000, 'from a newer skimd', 1, X'00', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = Store::open(db_path.to_str().unwrap())
        .await
        .expect("a migration this binary does not know is not an error");
    assert_eq!(store.contract_conid("ABC").await.unwrap(), Some(1234));
}
