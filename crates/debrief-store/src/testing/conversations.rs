//! Conformance cases: Conversations and their verdicts: versioned writes, leases, counting once, overrides.

use super::*;

fn conversation_write(
    id: &str,
    decidable_at: Option<chrono::DateTime<Utc>>,
) -> crate::ConversationWrite {
    crate::ConversationWrite {
        id: id.to_string(),
        agent: "advanced_ticket".into(),
        channel: Some("ticket".into()),
        body: format!(r#"{{"id": "{id}", "agent": "advanced_ticket_agent"}}"#),
        decidable_at,
    }
}

fn verdict_write(counted: bool, actor: &str) -> crate::VerdictWrite {
    let at = Utc
        .with_ymd_and_hms(2026, 6, 4, 9, 0, 0)
        .single()
        .expect("time");
    crate::VerdictWrite {
        verdict: crate::RecordedVerdict {
            verdict: if counted { "counted" } else { "not_counted" }.into(),
            rule: "advanced_ticket.replied".into(),
            reason: "test".into(),
            decided_at: Some(at),
            judge: "always-pass".into(),
            judge_model: "none".into(),
            prompt_version: "fixed-1".into(),
            judge_rationale: "test".into(),
            evaluated_by: actor.into(),
            evaluated_at: at,
        },
        counted,
        month: "2026-06".into(),
    }
}

pub(super) async fn conversation_writes_check_the_version(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let write = conversation_write("c-1", None);

    let first = store
        .save_conversation(&company, &write, None)
        .await
        .expect("created");
    let again = store.save_conversation(&company, &write, None).await;
    let second = store
        .save_conversation(&company, &write, Some(first))
        .await
        .expect("updated");
    let stale = store.save_conversation(&company, &write, Some(first)).await;

    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    assert_eq!(second, first + 1);
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "{stale:?}"
    );
    let stored = store.get_conversation(&company, "c-1").await.expect("get");
    assert_eq!(
        (stored.version, stored.state),
        (second, crate::ConversationState::Pending)
    );
    let other = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    assert!(matches!(
        store.get_conversation(&other, "c-1").await,
        Err(StoreError::NotFound)
    ));
}

pub(super) async fn due_conversations_are_claimed_once_per_lease(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let due = Utc
        .with_ymd_and_hms(2026, 6, 4, 9, 0, 0)
        .single()
        .expect("time");
    store
        .save_conversation(&company, &conversation_write("due", Some(due)), None)
        .await
        .expect("save");
    store
        .save_conversation(
            &company,
            &conversation_write("later", Some(due + chrono::TimeDelta::days(2))),
            None,
        )
        .await
        .expect("save");
    store
        .save_conversation(&company, &conversation_write("no-events", None), None)
        .await
        .expect("save");

    let first = store.claim_due(due, 10, 60, "a").await.expect("claim");
    let second = store.claim_due(due, 10, 60, "b").await.expect("claim");
    let after_lease = store
        .claim_due(due + chrono::TimeDelta::seconds(61), 10, 60, "b")
        .await
        .expect("claim");

    assert_eq!(
        first.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["due"]
    );
    assert_eq!(first[0].time_zone, "Europe/Berlin");
    assert!(
        second.is_empty(),
        "a leased conversation is not claimed twice"
    );
    assert_eq!(after_lease.len(), 1, "an expired lease frees it");
}

pub(super) async fn a_verdict_is_recorded_once_and_counted_once(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let due = Utc
        .with_ymd_and_hms(2026, 6, 4, 9, 0, 0)
        .single()
        .expect("time");
    store
        .save_conversation(&company, &conversation_write("c", Some(due)), None)
        .await
        .expect("save");
    let claimed = store
        .claim_due(due, 10, 60, "a")
        .await
        .expect("claim")
        .remove(0);
    let stale_claim = crate::ClaimedConversation {
        version: claimed.version + 1,
        ..claimed.clone()
    };

    let stale = store
        .record_verdict(&stale_claim, &verdict_write(true, "a"))
        .await
        .expect("record");
    let recorded = store
        .record_verdict(&claimed, &verdict_write(true, "a"))
        .await
        .expect("record");
    let twice = store
        .record_verdict(&claimed, &verdict_write(true, "b"))
        .await
        .expect("record");

    assert!(!stale, "a verdict on an older version is not recorded");
    assert!(recorded);
    assert!(!twice, "a final conversation takes no second verdict");
    assert_eq!(store.counted_resolutions(&company).await.expect("count"), 1);
    let counts = store.resolution_counts(&company).await.expect("counts");
    assert_eq!(
        counts,
        vec![crate::MonthCount {
            month: "2026-06".into(),
            channel: "ticket".into(),
            counted: 1
        }]
    );
    let summary = store.verdict_summary(&company).await.expect("summary");
    assert_eq!(
        (summary.counted, summary.evaluations, summary.pending),
        (1, 1, 0)
    );
    assert_eq!(
        store
            .billing_events(&company)
            .await
            .expect("timeline")
            .len(),
        1,
        "one resolution line"
    );
    assert_eq!(
        store
            .list_verdicts(&company, "2026-06")
            .await
            .expect("list")
            .len(),
        1
    );
}

pub(super) async fn overrides_move_the_count_and_keep_the_audit(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let due = Utc
        .with_ymd_and_hms(2026, 6, 4, 9, 0, 0)
        .single()
        .expect("time");
    store
        .save_conversation(&company, &conversation_write("c", Some(due)), None)
        .await
        .expect("save");
    let claimed = store
        .claim_due(due, 10, 60, "a")
        .await
        .expect("claim")
        .remove(0);
    store
        .record_verdict(&claimed, &verdict_write(true, "a"))
        .await
        .expect("record");

    store
        .replace_verdict(&company, "c", &verdict_write(false, "user:1"), "override")
        .await
        .expect("override");
    let missing = store
        .replace_verdict(
            &company,
            "nope",
            &verdict_write(false, "user:1"),
            "override",
        )
        .await;

    assert!(matches!(missing, Err(StoreError::NotFound)));
    assert_eq!(store.counted_resolutions(&company).await.expect("count"), 0);
    assert!(store
        .resolution_counts(&company)
        .await
        .expect("counts")
        .is_empty());
    assert!(store
        .billing_events(&company)
        .await
        .expect("timeline")
        .is_empty());
    let stored = store.get_conversation(&company, "c").await.expect("get");
    let actions: Vec<&str> = stored
        .audit
        .iter()
        .map(|entry| entry.action.as_str())
        .collect();
    assert_eq!(actions, ["evaluated", "override"]);
    assert_eq!(
        stored.verdict.map(|verdict| verdict.verdict),
        Some("not_counted".to_string())
    );
    assert!(store
        .record_usage_alert(&company, "2026-06", 80, 4, 5)
        .await
        .expect("alert"));
    assert!(!store
        .record_usage_alert(&company, "2026-06", 80, 5, 5)
        .await
        .expect("alert"));
    assert_eq!(store.usage_alerts(&company).await.expect("alerts").len(), 1);
}
