use store::{OrderPurpose, Side, Store, StoreError, database_path};

use crate::helpers::{fresh, order};

#[test]
fn url_forms_map_to_the_same_path() {
    for s in [
        "sqlite://data/skim.db",
        "sqlite:data/skim.db",
        "data/skim.db",
        "sqlite://data/skim.db?mode=rwc",
    ] {
        assert_eq!(
            database_path(s).unwrap(),
            std::path::Path::new("data/skim.db"),
            "{s}"
        );
    }
    assert_eq!(
        database_path("sqlite:///var/skim.db").unwrap(),
        std::path::Path::new("/var/skim.db")
    );
    for bad in ["", "sqlite://", "sqlite::memory:", ":memory:"] {
        assert!(
            matches!(database_path(bad), Err(StoreError::BadLocation { .. })),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn open_creates_the_file_and_its_folders_with_every_url_form() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_str().unwrap();
    for (i, url) in [
        format!("sqlite://{base}/a/one.db"),
        format!("sqlite:{base}/b/c/two.db"),
        format!("{base}/d/three.db"),
    ]
    .iter()
    .enumerate()
    {
        let store = Store::open(url).await.unwrap();
        assert!(store.path().exists(), "{url}");
        assert_eq!(store.schema_version().await.unwrap(), latest_version());
        store
            .insert_order(&order(
                &format!("C{i}"),
                "ABC",
                Side::Buy,
                OrderPurpose::Manual,
                1,
            ))
            .await
            .unwrap();
        store.close().await;
    }
}

#[tokio::test]
async fn connections_run_wal_full_sync_foreign_keys_and_busy_timeout() {
    let db = fresh().await;
    let s = db.store.connection_settings().await.unwrap();
    assert_eq!(s.journal_mode, "wal");
    assert_eq!(s.synchronous, 2, "FULL");
    assert!(s.foreign_keys);
    assert_eq!(s.busy_timeout_ms, 5000);
}

#[tokio::test]
async fn an_unopenable_path_is_a_clear_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be.
    let target = dir.path().join("is-a-dir.db");
    std::fs::create_dir(&target).unwrap();
    let err = Store::open(target.to_str().unwrap()).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("is-a-dir.db"), "{err}");

    // A folder that cannot be created because a file is in the way.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let err = Store::open(blocker.join("sub").join("skim.db").to_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("blocker"), "{err}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, vec![b'z'; 8192]).unwrap();
    let err = Store::open(path.to_str().unwrap()).await.unwrap_err();
    assert!(err.to_string().contains("garbage.db"), "{err}");
}

#[tokio::test]
async fn journal_row_survives_closing_the_pool_mid_way() {
    let db = fresh().await;
    let store = db.store.clone();
    let first = store
        .insert_order(&order("FIRST", "ABC", Side::Buy, OrderPurpose::Manual, 10))
        .await
        .unwrap();

    // A writer keeps journalling while the pool is closed under it.
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut ok = Vec::new();
            for i in 0..1_000_000 {
                let coid = format!("W{i}");
                match store
                    .insert_order(&order(&coid, "XYZ", Side::Sell, OrderPurpose::Manual, 1))
                    .await
                {
                    Ok(o) => ok.push(o),
                    Err(_) => break,
                }
            }
            ok
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    store.close().await;
    let written = writer.await.unwrap();
    assert!(
        written.len() < 1_000_000,
        "the pool closed before the writer finished"
    );

    let reopened = db.reopen().await;
    assert_eq!(
        reopened.get_order_by_coid("FIRST").await.unwrap(),
        Some(first)
    );
    for o in &written {
        assert_eq!(
            reopened.get_order_by_coid(&o.coid).await.unwrap().as_ref(),
            Some(o)
        );
    }
    let n = reopened
        .orders_for_day(crate::helpers::day(23))
        .await
        .unwrap()
        .len();
    assert_eq!(
        n,
        written.len() + 1,
        "exactly the acknowledged rows are there"
    );
}

/// A writer waits for another writer's lock (busy timeout) instead of failing at once, and
/// reports `is_busy` only after the 5 s timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_wait_for_the_lock_up_to_the_busy_timeout() {
    use sqlx::Connection;
    use std::time::{Duration, Instant};

    let db = fresh().await;
    let url = format!("sqlite://{}", db.path().display());
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();

    // Held briefly: the insert waits, then succeeds.
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let s = db.store.clone();
    let insert = tokio::spawn(async move {
        s.insert_order(&order("WAITED", "ABC", Side::Buy, OrderPurpose::Manual, 1))
            .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!insert.is_finished(), "the insert waits for the lock");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    insert.await.unwrap().unwrap();

    // Held past the timeout: a clear, classifiable error, and nothing written.
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let started = Instant::now();
    let err = db
        .store
        .insert_order(&order("LOCKED", "ABC", Side::Buy, OrderPurpose::Manual, 1))
        .await
        .unwrap_err();
    assert!(err.is_busy(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(4900));
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(db.store.get_order_by_coid("LOCKED").await.unwrap(), None);
}

/// The version of the newest embedded migration.
pub fn latest_version() -> i64 {
    store::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .expect("at least one migration")
}
