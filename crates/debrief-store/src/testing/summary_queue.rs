//! Conformance cases: The summary queue: one summary per session, retries, skips and consent.

use super::*;

pub(super) async fn each_session_gets_one_summary_with_retries(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    store
        .insert_sessions(
            &company,
            &[
                test_session("s-1", 1, "windows", "u-1"),
                test_session("s-2", 2, "macos", "u-1"),
            ],
        )
        .await
        .expect("insert");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 20, 12, 0, 0)
        .single()
        .expect("time");

    let claimed = store.claim_summary_jobs(now, 10, 60).await.expect("claim");
    let again = store.claim_summary_jobs(now, 10, 60).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    assert!(again.is_empty(), "leased jobs are not claimed twice");
    assert!(claimed[0].session.contains("\"id\""));
    assert_eq!(
        store.summary_state(&company, "s-1").await.expect("state"),
        crate::SummaryState::Pending
    );

    let first = claimed
        .iter()
        .find(|job| job.session_id == "s-1")
        .expect("s-1");
    let second = claimed
        .iter()
        .find(|job| job.session_id == "s-2")
        .expect("s-2");
    let written = test_summary("s-1", "x", "Ana reset it.", &[], &[]);
    assert!(store
        .complete_summary_job(first, &written, ConsentMode::Allowed)
        .await
        .expect("complete"));
    assert!(
        !store
            .complete_summary_job(
                first,
                &test_summary("s-1", "y", "Again.", &[], &[]),
                ConsentMode::Allowed
            )
            .await
            .expect("complete"),
        "never two summaries"
    );
    assert_eq!(
        store.summary_state(&company, "s-1").await.expect("state"),
        crate::SummaryState::Ready(Box::new(written))
    );

    store
        .fail_summary_job(
            second,
            "engine failed",
            Some(now + chrono::TimeDelta::seconds(30)),
        )
        .await
        .expect("fail");
    assert!(store
        .claim_summary_jobs(now + chrono::TimeDelta::seconds(10), 10, 60)
        .await
        .expect("claim")
        .is_empty());
    let retried = store
        .claim_summary_jobs(now + chrono::TimeDelta::seconds(31), 10, 60)
        .await
        .expect("claim");
    assert_eq!((retried.len(), retried[0].attempts), (1, 1));
    store
        .fail_summary_job(&retried[0], "gave up", None)
        .await
        .expect("fail");
    assert_eq!(
        store.summary_state(&company, "s-2").await.expect("state"),
        crate::SummaryState::Failed("gave up".into())
    );
    let other = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    assert!(matches!(
        store.summary_state(&other, "s-1").await,
        Err(StoreError::NotFound)
    ));
}

pub(super) async fn skipped_sessions_return_to_the_queue_unless_final(store: Arc<dyn Store>) {
    use crate::{get_typed, put_typed, ConsentChange, ObjectKind, SINGLETON};
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let records: Vec<SessionRecord> = ["a", "b", "c"]
        .iter()
        .map(|id| test_session(id, 0, "windows", "u-1"))
        .collect();
    store
        .insert_sessions(&company, &records)
        .await
        .expect("insert");
    let now = Utc::now();
    let claimed = store.claim_summary_jobs(now, 10, 60).await.expect("claim");
    assert_eq!(claimed.len(), 3);
    assert!(claimed.iter().all(|job| job.consent == ConsentAnswer::None));
    let job = |id: &str| {
        claimed
            .iter()
            .find(|job| job.session_id == id)
            .expect("claimed")
    };
    store
        .skip_summary_job(
            job("a"),
            &SkipReason::AiDisabled,
            ConsentMode::AfterConfirmation,
        )
        .await
        .expect("skip");
    store
        .skip_summary_job(
            job("b"),
            &SkipReason::ConsentDenied,
            ConsentMode::AfterConfirmation,
        )
        .await
        .expect("skip");
    store
        .skip_summary_job(
            job("c"),
            &SkipReason::AwaitingConsent,
            ConsentMode::AfterConfirmation,
        )
        .await
        .expect("skip");
    assert_eq!(
        store.summary_state(&company, "b").await.expect("state"),
        crate::SummaryState::Skipped {
            reason: "remote user denied consent".into(),
            is_final: true
        }
    );

    // A consent answer requeues only its session; another company cannot answer it.
    let globex = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    assert!(matches!(
        store.record_consent(&globex, "c", true).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .record_consent(&company, "c", true)
            .await
            .expect("consent"),
        ConsentChange::Recorded
    );
    assert_eq!(
        store
            .record_consent(&company, "c", false)
            .await
            .expect("consent"),
        ConsentChange::AlreadyAnswered(ConsentAnswer::Allowed)
    );
    let requeued = store.claim_summary_jobs(now, 10, 60).await.expect("claim");
    assert_eq!(
        requeued
            .iter()
            .map(|job| (job.session_id.as_str(), job.consent))
            .collect::<Vec<_>>(),
        vec![("c", ConsentAnswer::Allowed)]
    );

    // Settings change: every non-final skip comes back, the final one stays.
    let mut settings = debrief_core::governance::AiSettings::default();
    settings.ai.enabled = true;
    put_typed(
        store.as_ref(),
        &globex,
        ObjectKind::AiSettings,
        SINGLETON,
        &settings,
    )
    .await
    .expect("put");
    assert!(
        store
            .claim_summary_jobs(now, 10, 60)
            .await
            .expect("claim")
            .is_empty(),
        "another company's settings requeue nothing here"
    );
    put_typed(
        store.as_ref(),
        &company,
        ObjectKind::AiSettings,
        SINGLETON,
        &settings,
    )
    .await
    .expect("put");
    let after_settings = store.claim_summary_jobs(now, 10, 60).await.expect("claim");
    assert_eq!(
        after_settings
            .iter()
            .map(|job| job.session_id.as_str())
            .collect::<Vec<_>>(),
        vec!["a"]
    );
    let stored: Option<debrief_core::governance::AiSettings> =
        get_typed(store.as_ref(), &company, ObjectKind::AiSettings, SINGLETON)
            .await
            .expect("get");
    assert_eq!(stored, Some(settings));
    assert_eq!(
        get_typed::<debrief_core::governance::AiSettings>(
            store.as_ref(),
            &globex,
            ObjectKind::Device,
            "a"
        )
        .await
        .expect("get"),
        None
    );
}
