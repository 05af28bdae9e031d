use store::{JobOutcome, StoreError};

use crate::helpers::{at, fresh};

#[tokio::test]
async fn job_runs_are_recorded_and_the_last_of_each_is_listed() {
    let db = fresh().await;
    let s = &db.store;
    let a = s.job_started("scan", at(0, 0, 30)).await.unwrap();
    s.job_finished(
        a,
        at(0, 0, 33),
        JobOutcome::Error,
        "asx page: 503\nretrying",
    )
    .await
    .unwrap();
    let b = s.job_started("scan", at(0, 1, 30)).await.unwrap();
    let purge = s.job_started("purge", at(23, 55, 0)).await.unwrap();
    let done = s
        .job_finished(purge, at(23, 55, 1), JobOutcome::Ok, "expired 2")
        .await
        .unwrap();
    assert_eq!(done.outcome, Some(JobOutcome::Ok));
    assert_eq!(done.finished_at, Some(at(23, 55, 1)));

    let last = s.last_job_runs().await.unwrap();
    assert_eq!(
        last.iter()
            .map(|r| (r.job.as_str(), r.id))
            .collect::<Vec<_>>(),
        [("purge", purge), ("scan", b)]
    );
    let running = &last[1];
    assert_eq!(
        (running.finished_at, running.outcome),
        (None, None),
        "still running"
    );

    let first = s.last_job_run("scan").await.unwrap().unwrap();
    assert_eq!(first.id, b);
    let finished = s
        .job_finished(b, at(0, 1, 31), JobOutcome::Skipped, "no candidates")
        .await
        .unwrap();
    assert_eq!(s.last_job_run("scan").await.unwrap(), Some(finished));
    assert_eq!(s.last_job_run("never").await.unwrap(), None);

    // The error's detail was flattened to one line.
    let erred = s.last_job_runs().await.unwrap();
    assert!(
        erred
            .iter()
            .all(|r| r.detail.as_deref().is_none_or(|d| !d.contains('\n')))
    );
    assert!(
        s.job_finished(9999, at(1, 0, 0), JobOutcome::Ok, "")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(matches!(
        s.job_started(" ", at(1, 0, 0)).await,
        Err(StoreError::Invalid { .. })
    ));
}
