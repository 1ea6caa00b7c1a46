//! Conformance cases: Sessions: idempotent inserts, round trips, tenancy, listing and concurrent writers.

use super::*;

pub(super) async fn inserting_is_idempotent_on_company_and_id(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let first = test_session("s-1", 1, "windows", "u-1");
    let second = test_session("s-2", 2, "macos", "u-1");

    let outcomes = store
        .insert_sessions(&company, &[first.clone(), second.clone(), first.clone()])
        .await
        .expect("insert");
    let again = store
        .insert_sessions(&company, &[second, test_session("s-3", 3, "linux", "u-2")])
        .await
        .expect("insert");

    assert_eq!(
        outcomes,
        vec![
            InsertOutcome::Stored,
            InsertOutcome::Stored,
            InsertOutcome::Duplicate
        ]
    );
    assert_eq!(again, vec![InsertOutcome::Duplicate, InsertOutcome::Stored]);
    let page = store
        .list_sessions(&company, &query(50))
        .await
        .expect("list");
    assert_eq!(page.total, 3);
}

pub(super) async fn sessions_round_trip_every_field(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let session = test_session("tv-000123", 5, "windows", "u-17");

    store
        .insert_sessions(&company, std::slice::from_ref(&session))
        .await
        .expect("insert");
    let stored = store.get_session(&company, "tv-000123").await.expect("get");

    assert_eq!(&stored.session, session.session());
}

pub(super) async fn companies_never_see_each_others_sessions(store: Arc<dyn Store>) {
    let acme = create_test_company(store.as_ref(), "acme").await.company.id;
    let globex = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    let acme_session = test_session("shared-id", 1, "windows", "u-1");
    store
        .insert_sessions(
            &acme,
            &[
                acme_session.clone(),
                test_session("acme-only", 2, "windows", "u-1"),
            ],
        )
        .await
        .expect("insert");

    let globex_outcome = store
        .insert_sessions(&globex, &[test_session("shared-id", 3, "macos", "u-9")])
        .await
        .expect("insert");

    assert_eq!(globex_outcome, vec![InsertOutcome::Stored]);
    let seen_by_globex = store.get_session(&globex, "shared-id").await.expect("get");
    assert_eq!(seen_by_globex.session.platform(), Some(Platform::Macos));
    assert!(matches!(
        store.get_session(&globex, "acme-only").await,
        Err(StoreError::NotFound)
    ));
    let globex_page = store
        .list_sessions(&globex, &query(50))
        .await
        .expect("list");
    assert_eq!(ids(&globex_page.sessions), vec!["shared-id"]);
    assert_eq!(globex_page.total, 1);
    assert_eq!(
        store
            .get_session(&acme, "shared-id")
            .await
            .expect("get")
            .session,
        *acme_session.session()
    );
}

fn query(limit: u32) -> SessionQuery {
    SessionQuery {
        limit,
        ..SessionQuery::default()
    }
}

pub(super) async fn listing_filters_and_pages_through_every_session_once(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let mut sessions = Vec::new();
    for index in 0..25u32 {
        let platform = if index % 5 == 0 { "macos" } else { "windows" };
        let supporter = if index % 2 == 0 { "u-even" } else { "u-odd" };
        // Minutes repeat so that equal start times are paged by the tiebreaker.
        sessions.push(test_session(
            &format!("s-{index:02}"),
            index / 2,
            platform,
            supporter,
        ));
    }
    store
        .insert_sessions(&company, &sessions)
        .await
        .expect("insert");

    let mut seen = Vec::new();
    let mut page_query = query(7);
    loop {
        let page = store
            .list_sessions(&company, &page_query)
            .await
            .expect("list");
        assert_eq!(page.total, 25);
        seen.extend(page.sessions.into_iter().map(|stored| stored.session));
        match page.next_cursor {
            Some(cursor) => page_query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut unique: Vec<_> = seen.iter().map(|session| session.id.clone()).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25);
    assert!(
        seen.windows(2)
            .all(|pair| pair[0].started_at >= pair[1].started_at),
        "newest first"
    );

    let macos = store
        .list_sessions(
            &company,
            &SessionQuery {
                platform: Some(Platform::Macos),
                ..query(MAX_PAGE_SIZE)
            },
        )
        .await
        .expect("list");
    assert_eq!(macos.total, 5);
    assert!(macos
        .sessions
        .iter()
        .all(|stored| stored.session.platform() == Some(Platform::Macos)));

    let window = store
        .list_sessions(
            &company,
            &SessionQuery {
                from: Utc.with_ymd_and_hms(2026, 11, 20, 10, 3, 0).single(),
                to: Utc.with_ymd_and_hms(2026, 11, 20, 10, 5, 0).single(),
                supporter_id: Some("u-even".into()),
                channel: Some(Channel::RemoteSession),
                ..query(MAX_PAGE_SIZE)
            },
        )
        .await
        .expect("list");
    // Minutes 3 and 4 hold indexes 6..=9; the even ones are 6 and 8.
    let mut window_ids = ids(&window.sessions);
    window_ids.sort();
    assert_eq!(window_ids, vec!["s-06", "s-08"]);
    assert_eq!(window.total, 2);

    let chats = store
        .list_sessions(
            &company,
            &SessionQuery {
                channel: Some(Channel::Chat),
                ..query(10)
            },
        )
        .await
        .expect("list");
    assert_eq!((chats.total, chats.sessions.len()), (0, 0));
}

pub(super) async fn unknown_sessions_are_not_found(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;

    let missing = store.get_session(&company, "nope").await;
    let other_company = store
        .get_session(&CompanyId("no-such-company".into()), "nope")
        .await;

    assert!(matches!(missing, Err(StoreError::NotFound)));
    assert!(matches!(other_company, Err(StoreError::NotFound)));
}

pub(super) async fn concurrent_inserts_store_each_session_once(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let sessions: Vec<SessionRecord> = (0..200)
        .map(|index| test_session(&format!("c-{index}"), index, "windows", "u-1"))
        .collect();

    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = Arc::clone(&store);
        let company = company.clone();
        let sessions = sessions.clone();
        tasks.push(tokio::spawn(async move {
            store.insert_sessions(&company, &sessions).await
        }));
    }
    let mut stored_per_id = vec![0; sessions.len()];
    for task in tasks {
        let outcomes = task.await.expect("task").expect("insert");
        for (index, outcome) in outcomes.into_iter().enumerate() {
            if outcome == InsertOutcome::Stored {
                stored_per_id[index] += 1;
            }
        }
    }

    assert!(
        stored_per_id.iter().all(|&count| count == 1),
        "{stored_per_id:?}"
    );
    let page = store
        .list_sessions(&company, &query(1))
        .await
        .expect("list");
    assert_eq!(page.total, 200);
}
