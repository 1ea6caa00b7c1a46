//! Conformance cases: The webhook outbox: order per endpoint and retries.

use super::*;

pub(super) async fn webhook_deliveries_go_out_in_order_and_retry(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let globex = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    let hook = store
        .create_webhook(
            &company,
            "http://127.0.0.1:9/hook",
            "secret-secret-secret",
            &["summary.created".into()],
        )
        .await
        .expect("webhook");
    // Two summaries of acme (a summary.created delivery each) and one of globex (none: it has
    // no endpoint).
    store
        .insert_sessions(&company, &[test_session("a", 0, "windows", "u-1")])
        .await
        .expect("insert");
    store
        .insert_sessions(&company, &[test_session("b", 1, "windows", "u-1")])
        .await
        .expect("insert");
    store
        .insert_sessions(&globex, &[test_session("g", 0, "windows", "u-1")])
        .await
        .expect("insert");
    let mut jobs = store
        .claim_summary_jobs(Utc::now(), 10, 60)
        .await
        .expect("claim");
    jobs.sort_by_key(|job| job.seq);
    for job in &jobs {
        let summary = test_summary(&job.session_id, "Printer offline", "Restarted.", &[], &[]);
        store
            .complete_summary_job(job, &summary, ConsentMode::Allowed)
            .await
            .expect("complete");
    }
    let later = Utc::now() + chrono::TimeDelta::seconds(1);
    let first = store.claim_deliveries(later, 10, 60).await.expect("claim");
    assert_eq!(first.len(), 1, "one at a time per endpoint, the oldest");
    assert!(
        first[0].payload.contains("\"session_id\":\"a\""),
        "{}",
        first[0].payload
    );
    assert!(store
        .claim_deliveries(later, 10, 60)
        .await
        .expect("claim")
        .is_empty());
    let retry = later + chrono::TimeDelta::minutes(1);
    store
        .record_delivery_attempt(
            &first[0],
            later,
            Some(503),
            Some("down"),
            false,
            Some(retry),
        )
        .await
        .expect("attempt");
    assert!(
        store
            .claim_deliveries(later, 10, 60)
            .await
            .expect("claim")
            .is_empty(),
        "b waits behind a"
    );
    let again = store.claim_deliveries(retry, 10, 60).await.expect("claim");
    assert_eq!(
        (again.len(), again[0].id, again[0].attempts),
        (1, first[0].id, 1)
    );
    store
        .record_delivery_attempt(&again[0], retry, Some(200), None, true, None)
        .await
        .expect("attempt");
    let next = store.claim_deliveries(retry, 10, 60).await.expect("claim");
    assert!(next.len() == 1 && next[0].payload.contains("\"session_id\":\"b\""));
    let listed = store
        .webhook_deliveries(&company, &hook.id, 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 2, "one delivery per event");
    let delivered = listed
        .iter()
        .find(|delivery| delivery.id == first[0].id)
        .expect("a");
    assert_eq!(
        (delivered.state.as_str(), delivered.attempts.len()),
        ("delivered", 2)
    );
    // Another company's endpoint is not found, so its deliveries are not either.
    assert!(matches!(
        store.webhook_deliveries(&globex, &hook.id, 10).await,
        Err(StoreError::NotFound)
    ));
}
