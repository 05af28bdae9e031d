use store::StoreError;

use crate::helpers::fresh;

#[tokio::test]
async fn contract_cache_gets_puts_and_replaces() {
    let db = fresh().await;
    let s = &db.store;
    assert_eq!(s.contract_conid("BHP").await.unwrap(), None);
    s.put_contract("BHP", 4036812).await.unwrap();
    assert_eq!(s.contract_conid("BHP").await.unwrap(), Some(4036812));
    s.put_contract("BHP", 4036813).await.unwrap();
    assert_eq!(s.contract_conid("BHP").await.unwrap(), Some(4036813));
    assert_eq!(
        s.contract_conid("bhp").await.unwrap(),
        None,
        "tickers are exact"
    );
    assert!(matches!(
        s.put_contract("", 1).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        s.put_contract("X", 0).await,
        Err(StoreError::Invalid { .. })
    ));
}
