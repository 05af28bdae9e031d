use store::{CandidateStatus, NewCandidate, StoreError};

use crate::helpers::{at, d, day, fresh};

fn cand(n: u32, ticker: &str, gap: &str) -> NewCandidate {
    NewCandidate {
        trading_day: day(n),
        ticker: ticker.into(),
        conid: 42,
        gap_pct: d(gap),
        headline: Some("Quarterly activities report".into()),
        announced_at: Some(at(22, 30, 0)),
        price_sensitive: true,
        scanned_at: at(0, 0, 30),
        last_price: Some(d("1.255")),
        prev_close: Some(d("1.10")),
    }
}

#[tokio::test]
async fn upsert_inserts_then_refreshes_scan_fields_keeping_range_and_status() {
    let db = fresh().await;
    let s = &db.store;
    let c = s.upsert_candidate(&cand(23, "ABC", "14.09")).await.unwrap();
    assert_eq!(c.status, CandidateStatus::Watching);
    assert_eq!(c.gap_pct, d("14.09"));
    assert_eq!(c.headline.as_deref(), Some("Quarterly activities report"));
    assert_eq!(c.announced_at, Some(at(22, 30, 0)));
    assert!(c.price_sensitive);
    assert_eq!(c.range_high, None);

    let r = s
        .set_opening_range(day(23), "ABC", d("1.30"), d("1.20"), at(0, 5, 0))
        .await
        .unwrap();
    assert_eq!(
        (r.range_high, r.range_low),
        (Some(d("1.30")), Some(d("1.20")))
    );
    assert_eq!(r.range_measured_at, Some(at(0, 5, 0)));
    s.set_candidate_status(day(23), "ABC", CandidateStatus::Skipped, Some("paused"))
        .await
        .unwrap();

    let mut again = cand(23, "ABC", "15.5");
    again.price_sensitive = false;
    again.scanned_at = at(0, 1, 0);
    let c2 = s.upsert_candidate(&again).await.unwrap();
    assert_eq!(c2.id, c.id);
    assert_eq!(c2.gap_pct, d("15.5"));
    assert!(!c2.price_sensitive);
    assert_eq!(c2.scanned_at, at(0, 1, 0));
    assert_eq!(c2.range_high, Some(d("1.30")), "range kept");
    assert_eq!(c2.status, CandidateStatus::Skipped, "status kept");
    assert_eq!(s.candidate(day(23), "ABC").await.unwrap(), Some(c2));
    assert_eq!(s.candidate(day(24), "ABC").await.unwrap(), None);
    assert!(matches!(
        s.upsert_candidate(&cand(23, "", "1")).await,
        Err(StoreError::Invalid { .. })
    ));
}

#[tokio::test]
async fn candidates_for_day_lists_that_day_by_ticker() {
    let db = fresh().await;
    let s = &db.store;
    for (n, t) in [(23, "ZZZ"), (23, "AAA"), (24, "MMM")] {
        s.upsert_candidate(&cand(n, t, "10")).await.unwrap();
    }
    let tickers = |v: Vec<store::Candidate>| v.into_iter().map(|c| c.ticker).collect::<Vec<_>>();
    assert_eq!(
        tickers(s.candidates_for_day(day(23)).await.unwrap()),
        ["AAA", "ZZZ"]
    );
    assert_eq!(
        tickers(s.candidates_for_day(day(24)).await.unwrap()),
        ["MMM"]
    );
    assert!(s.candidates_for_day(day(25)).await.unwrap().is_empty());
}

#[tokio::test]
async fn opening_range_is_validated() {
    let db = fresh().await;
    let s = &db.store;
    s.upsert_candidate(&cand(23, "ABC", "10")).await.unwrap();
    for (h, l) in [("1.19", "1.20"), ("1", "0"), ("1", "-1")] {
        let err = s
            .set_opening_range(day(23), "ABC", d(h), d(l), at(0, 5, 0))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{h}/{l}");
    }
    // A flat range is a range.
    s.set_opening_range(day(23), "ABC", d("1.2"), d("1.2"), at(0, 5, 0))
        .await
        .unwrap();
    let err = s
        .set_opening_range(day(23), "NOPE", d("1.2"), d("1.1"), at(0, 5, 0))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn status_changes_follow_the_rules() {
    let db = fresh().await;
    let s = &db.store;
    s.upsert_candidate(&cand(23, "ABC", "10")).await.unwrap();
    let err = s
        .set_candidate_status(day(23), "ABC", CandidateStatus::Skipped, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid { .. }));
    let c = s
        .set_candidate_status(
            day(23),
            "ABC",
            CandidateStatus::Skipped,
            Some("max positions"),
        )
        .await
        .unwrap();
    assert_eq!(c.status_reason.as_deref(), Some("max positions"));
    s.set_candidate_status(day(23), "ABC", CandidateStatus::Watching, None)
        .await
        .unwrap();
    let c = s
        .set_candidate_status(day(23), "ABC", CandidateStatus::Entered, None)
        .await
        .unwrap();
    assert_eq!(c.status, CandidateStatus::Entered);
    let err = s
        .set_candidate_status(day(23), "ABC", CandidateStatus::Watching, None)
        .await
        .unwrap_err();
    assert!(err.is_illegal_transition(), "{err:?}");
    assert_eq!(
        s.candidate(day(23), "ABC").await.unwrap().unwrap().status,
        CandidateStatus::Entered
    );
    let err = s
        .set_candidate_status(day(23), "NOPE", CandidateStatus::Entered, None)
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn purge_expires_earlier_watching_candidates_and_keeps_every_row() {
    let db = fresh().await;
    let s = &db.store;
    s.upsert_candidate(&cand(20, "OLD", "10")).await.unwrap();
    s.upsert_candidate(&cand(20, "ENT", "10")).await.unwrap();
    s.set_candidate_status(day(20), "ENT", CandidateStatus::Entered, None)
        .await
        .unwrap();
    s.upsert_candidate(&cand(20, "SKP", "10")).await.unwrap();
    s.set_candidate_status(day(20), "SKP", CandidateStatus::Skipped, Some("no range"))
        .await
        .unwrap();
    s.upsert_candidate(&cand(23, "NEW", "10")).await.unwrap();

    assert_eq!(s.purge(day(23)).await.unwrap(), 1);
    let old = s.candidates_for_day(day(20)).await.unwrap();
    assert_eq!(old.len(), 3, "history kept");
    let status = |t: &str| old.iter().find(|c| c.ticker == t).unwrap().status;
    assert_eq!(status("OLD"), CandidateStatus::Expired);
    assert_eq!(status("ENT"), CandidateStatus::Entered);
    assert_eq!(status("SKP"), CandidateStatus::Skipped);
    assert_eq!(
        s.candidate(day(23), "NEW").await.unwrap().unwrap().status,
        CandidateStatus::Watching
    );
    assert_eq!(s.purge(day(23)).await.unwrap(), 0, "idempotent");
}

#[tokio::test]
async fn retention_deletes_only_candidates_older_than_the_window() {
    let db = fresh().await;
    let s = &db.store;
    for n in [1, 10, 20, 23] {
        s.upsert_candidate(&cand(n, "ABC", "10")).await.unwrap();
    }
    assert_eq!(
        s.delete_candidates_older_than(day(23), 0).await.unwrap(),
        0,
        "0 keeps all"
    );
    // Cutoff 13 June: 1 and 10 June go.
    assert_eq!(
        s.delete_candidates_older_than(day(23), 10).await.unwrap(),
        2
    );
    assert!(s.candidates_for_day(day(10)).await.unwrap().is_empty());
    assert_eq!(s.candidates_for_day(day(20)).await.unwrap().len(), 1);
    assert_eq!(s.candidates_for_day(day(23)).await.unwrap().len(), 1);
}
