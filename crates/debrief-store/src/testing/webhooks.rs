//! Conformance cases: the webhook outbox (order per endpoint and retries) and the connectors'
//! pushes through it (order per connector, the opened record, the failing alert).

use super::*;
use crate::{Attempt, AttemptResult, DeliveryTarget};

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
            &Attempt {
                at: later,
                status: Some(503),
                answer: Some("down for maintenance"),
                error: Some("down"),
                result: AttemptResult::RetryAt(retry),
                opened: None,
            },
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
        .record_delivery_attempt(
            &again[0],
            &Attempt {
                at: retry,
                status: Some(200),
                answer: None,
                error: None,
                result: AttemptResult::Delivered,
                opened: None,
            },
        )
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

pub(super) async fn connector_pushes_share_the_outbox_and_raise_one_failing_alert(
    store: Arc<dyn Store>,
) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let globex = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    store
        .put_connector(
            &company,
            "servicenow",
            r#"{"kind":"servicenow"}"#,
            &["summary.created".into(), "summary.deleted".into()],
        )
        .await
        .expect("connector");
    store
        .create_webhook(
            &company,
            "http://127.0.0.1:9/hook",
            "secret-secret-secret",
            &["connector.failing".into()],
        )
        .await
        .expect("webhook");
    for (id, minute) in [("a", 0), ("b", 1)] {
        store
            .insert_sessions(&company, &[test_session(id, minute, "windows", "u-1")])
            .await
            .expect("insert");
    }
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
    let start = Utc::now() + chrono::TimeDelta::seconds(1);
    let first = store.claim_deliveries(start, 10, 60).await.expect("claim");
    assert_eq!(
        first.len(),
        1,
        "one push at a time per connector: {first:?}"
    );
    assert_eq!(
        first[0].target,
        DeliveryTarget::Connector {
            kind: "servicenow".into(),
            settings: r#"{"kind":"servicenow"}"#.into()
        }
    );
    assert!(first[0].payload.contains("\"session_id\":\"a\""));
    let failure = |at, retry| Attempt {
        at,
        status: Some(503),
        answer: Some("{\"error\":\"maintenance\"}"),
        error: Some("ServiceNow answered 503"),
        result: AttemptResult::RetryAt(retry),
        opened: None,
    };
    // Failures for an hour and more: one alert, when the hour has passed.
    let mut at = start;
    let mut alerts_seen = Vec::new();
    let mut claimed = first[0].clone();
    for minutes in [1, 30, 31, 10] {
        if at != start {
            claimed = store.claim_deliveries(at, 10, 60).await.expect("claim")[0].clone();
            assert_eq!(claimed.id, first[0].id, "a is retried before b");
        }
        let retry = at + chrono::TimeDelta::minutes(minutes);
        store
            .record_delivery_attempt(&claimed, &failure(at, retry))
            .await
            .expect("attempt");
        let hooks = store.list_webhooks(&company).await.expect("hooks");
        let alerts = store
            .webhook_deliveries(&company, &hooks[0].id, 10)
            .await
            .expect("alerts")
            .len();
        alerts_seen.push(alerts);
        at = retry;
    }
    assert_eq!(alerts_seen, [0, 0, 0, 1], "raised once, after an hour");
    let connector = store
        .connector(&company, "servicenow")
        .await
        .expect("read")
        .expect("set");
    assert_eq!(connector.failing_since, Some(from_micros_now(start)));
    assert!(connector.alerted_at.is_some());
    // Delivered at last, opening an incident: the stretch ends and the record is kept.
    let due: Vec<_> = store
        .claim_deliveries(at, 10, 60)
        .await
        .expect("claim")
        .into_iter()
        .filter(|claimed| matches!(claimed.target, DeliveryTarget::Connector { .. }))
        .collect();
    assert_eq!(
        due.len(),
        1,
        "the push (beside the alert's webhook delivery)"
    );
    store
        .record_delivery_attempt(
            &due[0],
            &Attempt {
                at,
                status: Some(201),
                answer: Some("{}"),
                error: None,
                result: AttemptResult::Delivered,
                opened: Some(("a", "inc-1")),
            },
        )
        .await
        .expect("attempt");
    let connector = store
        .connector(&company, "servicenow")
        .await
        .expect("read")
        .expect("set");
    assert_eq!(
        (connector.failing_since, connector.alerted_at),
        (None, None)
    );
    assert_eq!(
        store
            .opened_record(&company, "servicenow", "a")
            .await
            .expect("record")
            .as_deref(),
        Some("inc-1")
    );
    let listed = store
        .connector_deliveries(&company, "servicenow", 10)
        .await
        .expect("list");
    assert_eq!(listed.len(), 2, "one push per summary");
    let delivered = listed
        .iter()
        .find(|push| push.id == first[0].id)
        .expect("a");
    assert_eq!(
        (delivered.state.as_str(), delivered.attempts.len()),
        ("delivered", 5)
    );
    assert_eq!(
        delivered.attempts[0].answer.as_deref(),
        Some("{\"error\":\"maintenance\"}")
    );
    // What follows a in its line is b, and only b.
    let next = store
        .claim_next(&due[0], at, 60)
        .await
        .expect("claim")
        .expect("b is next");
    assert!(next.payload.contains("\"session_id\":\"b\""));
    assert!(
        store
            .claim_next(&due[0], at, 60)
            .await
            .expect("claim")
            .is_none(),
        "b is claimed already"
    );
    // A push by hand joins the same line, after b's.
    let by_hand = store
        .push_by_hand(
            &company,
            "servicenow",
            serde_json::json!({"session_id": "a"}),
        )
        .await
        .expect("push");
    assert!(
        store
            .claim_delivery(&company, by_hand, at, 60)
            .await
            .expect("claim")
            .is_none(),
        "b is ahead of it"
    );
    // Another company sees none of it.
    assert!(store.connectors(&globex).await.expect("list").is_empty());
    assert!(matches!(
        store.connector_deliveries(&globex, "servicenow", 10).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delivery(&globex, by_hand).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .push_by_hand(&globex, "servicenow", serde_json::json!({}))
            .await,
        Err(StoreError::NotFound)
    ));
    // Removed, its pending pushes go with it.
    store
        .delete_connector(&company, "servicenow")
        .await
        .expect("delete");
    assert!(matches!(
        store.delivery(&company, by_hand).await,
        Err(StoreError::NotFound)
    ));
}

/// `at` as the store keeps it: whole microseconds.
fn from_micros_now(at: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_micros(at.timestamp_micros()).expect("in range")
}
