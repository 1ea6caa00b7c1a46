//! Conformance cases: Stored summaries: counts by state, search, filters and tag counts.

use super::*;

pub(super) async fn summary_counts_group_sessions_by_state_and_reason(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let records: Vec<SessionRecord> = ["a", "b", "c", "d"]
        .iter()
        .map(|id| test_session(id, 0, "windows", "u-1"))
        .collect();
    store
        .insert_sessions(&company, &records)
        .await
        .expect("insert");
    let jobs = store
        .claim_summary_jobs(Utc::now(), 10, 60)
        .await
        .expect("claim");
    for job in &jobs {
        match job.session_id.as_str() {
            "a" => {
                store
                    .complete_summary_job(
                        job,
                        &test_summary("a", "t", "s", &[], &[]),
                        ConsentMode::Allowed,
                    )
                    .await
                    .expect("complete");
            }
            "b" | "c" => store
                .skip_summary_job(job, &SkipReason::AiDisabled, ConsentMode::Allowed)
                .await
                .expect("skip"),
            _ => {}
        }
    }
    let counts = store
        .summary_counts(&company, &crate::SummaryRange::default())
        .await
        .expect("counts");
    assert_eq!(
        (counts.sessions, counts.summarized, counts.pending),
        (4, 1, 1)
    );
    assert_eq!(
        counts.skipped,
        vec![("ai.enabled is off for the company".to_string(), 2)]
    );
}

pub(super) async fn summaries_are_searched_filtered_and_counted_by_tag(store: Arc<dyn Store>) {
    let acme = create_test_company(store.as_ref(), "acme").await;
    let other = create_test_company(store.as_ref(), "other")
        .await
        .company
        .id;
    let company = acme.company.id;
    let bodies = [
        (
            "a",
            1,
            "u-1",
            test_summary(
                "a",
                "Outlook asks for the password",
                "Ana reset the CRÉDENTIALS 100%.",
                &["email", "login"],
                &["Outlook"],
            ),
        ),
        (
            "b",
            2,
            "u-2",
            test_summary(
                "b",
                "Printer offline",
                "Spooler restarted.",
                &["printing"],
                &["Windows"],
            ),
        ),
        (
            "c",
            3,
            "u-1",
            test_summary(
                "c",
                "VPN drops",
                "Outlook could not sync over the VPN.",
                &["network"],
                &["Outlook", "FortiClient"],
            ),
        ),
    ];
    for target in [&company, &other] {
        let records: Vec<SessionRecord> = bodies
            .iter()
            .map(|(id, minute, supporter, _)| test_session(id, *minute, "windows", supporter))
            .collect();
        store
            .insert_sessions(target, &records)
            .await
            .expect("insert");
    }
    for job in store
        .claim_summary_jobs(Utc::now(), 10, 60)
        .await
        .expect("claim")
    {
        if job.company != company {
            continue;
        }
        let summary = &bodies
            .iter()
            .find(|(id, ..)| *id == job.session_id)
            .expect("known")
            .3;
        store
            .complete_summary_job(&job, summary, ConsentMode::Allowed)
            .await
            .expect("complete");
    }
    let ids = |page: crate::SummaryListPage| -> (u64, Vec<String>) {
        (
            page.total,
            page.items.into_iter().map(|item| item.session_id).collect(),
        )
    };
    let search = |text: Option<&str>,
                  issue_type: Option<&str>,
                  application: Option<&str>,
                  supporter: Option<&str>| crate::SummarySearch {
        text: text.map(str::to_string),
        issue_type: issue_type.map(str::to_string),
        application: application.map(str::to_string),
        supporter_id: supporter.map(str::to_string),
        limit: 10,
        ..Default::default()
    };
    let all = store
        .search_summaries(&company, &search(None, None, None, None))
        .await
        .expect("list");
    assert_eq!(
        ids(all.clone()),
        (3, vec!["c".into(), "b".into(), "a".into()]),
        "newest first"
    );
    assert_eq!(all.items[2].supporter_id.as_deref(), Some("u-1"));
    let store_ref = store.as_ref();
    let company_ref = &company;
    let found = |query| async move {
        ids(store_ref
            .search_summaries(company_ref, &query)
            .await
            .expect("search"))
    };
    let sorted = |(total, mut ids): (u64, Vec<String>)| {
        ids.sort();
        (total, ids)
    };
    assert_eq!(
        sorted(found(search(Some("outlook"), None, None, None)).await),
        (2, vec!["a".into(), "c".into()])
    );
    assert_eq!(
        sorted(found(search(Some("outl"), None, None, None)).await),
        (2, vec!["a".into(), "c".into()]),
        "a word being typed finds the longer words it starts"
    );
    assert_eq!(
        found(search(Some("printers"), None, None, None)).await,
        (1, vec!["b".into()]),
        "stemmed"
    );
    for partial in ["restarte", "restar", "spoo", "RESTARTED"] {
        assert_eq!(
            found(search(Some(partial), None, None, None)).await,
            (1, vec!["b".into()]),
            "{partial}: any beginning of a word, longer or shorter than its stem"
        );
    }
    assert_eq!(
        found(search(
            Some("\"spooler\" NEAR* -restarted"),
            None,
            None,
            None
        ))
        .await
        .0,
        0,
        "no operators: every word must match"
    );
    assert_eq!(
        found(search(Some("vpn -"), None, None, None)).await,
        (1, vec!["c".into()])
    );
    assert_eq!(
        found(search(Some("OUTLOOK vpn"), None, None, None)).await,
        (1, vec!["c".into()]),
        "every word"
    );
    assert_eq!(
        found(search(Some("crédentials"), None, None, None)).await,
        (1, vec!["a".into()]),
        "any case"
    );
    assert_eq!(found(search(Some("100%"), None, None, None)).await.0, 1);
    assert_eq!(
        found(search(Some("1_0"), None, None, None)).await.0,
        0,
        "wildcards are literal"
    );
    assert_eq!(
        found(search(None, Some("printing"), None, None)).await,
        (1, vec!["b".into()])
    );
    assert_eq!(
        found(search(None, None, Some("Outlook"), Some("u-1")))
            .await
            .0,
        2
    );
    assert_eq!(
        found(search(None, Some("email"), Some("FortiClient"), None))
            .await
            .0,
        0
    );
    let second_page = crate::SummarySearch {
        offset: 2,
        limit: 2,
        ..search(None, None, None, None)
    };
    assert_eq!(found(second_page).await, (3, vec!["a".into()]));

    let counts = store
        .summary_tag_counts(&company, &crate::SummaryRange::default())
        .await
        .expect("counts");
    assert_eq!(counts.applications[0], ("Outlook".to_string(), 2));
    assert_eq!(counts.issue_types.len(), 4);

    let mut edited = test_summary("c", "Wi-Fi drops", "Reconnected.", &["network"], &[]);
    edited.edited = Some(debrief_core::summary::Edited {
        by: "u-1".into(),
        at: Utc::now(),
    });
    store
        .edit_summary(&company, "c", &edited)
        .await
        .expect("edit");
    assert_eq!(
        found(search(Some("vpn"), None, None, None)).await.0,
        0,
        "the edit is what is searched"
    );
    assert_eq!(found(search(Some("wi-fi"), None, None, None)).await.0, 1);
    let counts = store
        .summary_tag_counts(&company, &crate::SummaryRange::default())
        .await
        .expect("counts");
    assert_eq!(
        counts.applications,
        vec![("Outlook".to_string(), 1), ("Windows".to_string(), 1)]
    );

    store.delete_summary(&company, "a").await.expect("delete");
    assert_eq!(found(search(None, None, None, None)).await.0, 2);
    let counts = store
        .summary_tag_counts(&company, &crate::SummaryRange::default())
        .await
        .expect("counts");
    assert_eq!(counts.applications, vec![("Windows".to_string(), 1)]);

    let others = store
        .search_summaries(&other, &search(None, None, None, None))
        .await
        .expect("other");
    assert_eq!(others.total, 0, "another company's summaries never show");
    let counts = store
        .summary_tag_counts(&other, &crate::SummaryRange::default())
        .await
        .expect("counts");
    assert_eq!(counts, crate::TagCounts::default());
}
