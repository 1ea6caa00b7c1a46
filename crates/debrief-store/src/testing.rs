//! Test support (feature `testing`): throw-away databases and the store conformance suite that
//! every backend must pass.
//!
//! PostgreSQL tests run when `DEBRIEF_TEST_DATABASE_URL` names a server; each test gets a fresh
//! database on it, dropped afterwards.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use debrief_core::session::{Channel, Platform};
use debrief_core::tenancy::{CompanyName, LicenseTier, NewCompany, TimeZoneName};
use debrief_core::SessionRecord;
use sqlx::Connection;

use crate::{
    CompanyId, InsertOutcome, NewToken, SessionQuery, SqlStore, Store, StoreError, MAX_PAGE_SIZE,
};

/// The environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL_VAR: &str = "DEBRIEF_TEST_DATABASE_URL";

/// The PostgreSQL server for tests, if one is configured.
pub fn postgres_test_url() -> Option<String> {
    std::env::var(TEST_DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// A database that exists for one test.
pub struct TestDatabase {
    /// The URL to hand to [`crate::connect`].
    pub url: String,
    location: Location,
}

enum Location {
    SqliteFile(PathBuf),
    Postgres { server_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite file in the temporary directory.
    pub fn sqlite() -> TestDatabase {
        let path = std::env::temp_dir().join(format!("debrief-test-{}.db", uuid::Uuid::now_v7()));
        TestDatabase {
            url: format!("sqlite://{}", path.display()),
            location: Location::SqliteFile(path),
        }
    }

    /// A new, empty database on the PostgreSQL server at `server_url`.
    pub async fn postgres(server_url: &str) -> Result<TestDatabase, StoreError> {
        let name = format!("debrief_test_{}", uuid::Uuid::now_v7().simple());
        let mut connection = sqlx::PgConnection::connect(server_url).await?;
        sqlx::raw_sql(&format!("create database {name}"))
            .execute(&mut connection)
            .await?;
        connection.close().await?;
        Ok(TestDatabase {
            url: with_database_name(server_url, &name),
            location: Location::Postgres {
                server_url: server_url.to_string(),
                name,
            },
        })
    }

    /// Deletes the database. Best effort: a leftover is harmless.
    pub async fn remove(self) {
        match self.location {
            Location::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Location::Postgres { server_url, name } => {
                if let Ok(mut connection) = sqlx::PgConnection::connect(&server_url).await {
                    let _ = sqlx::raw_sql(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut connection)
                        .await;
                    let _ = connection.close().await;
                }
            }
        }
    }
}

/// `postgres://user@host:5432/test?x=y` with its database name replaced.
fn with_database_name(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_end = base
        .find("://")
        .map(|index| index + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

/// One conformance case: it gets a migrated, empty store and panics on failure.
pub type Case = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// Every conformance case, by name.
        pub fn conformance_cases() -> Vec<(&'static str, Case)> {
            vec![$((stringify!($name), |store| Box::pin($name(store)))),*]
        }
    };
}

cases!(
    creating_a_company_issues_a_working_admin_token,
    company_names_are_unique,
    revoked_tokens_stop_authenticating,
    tokens_of_another_company_cannot_be_listed_or_revoked,
    inserting_is_idempotent_on_company_and_id,
    sessions_round_trip_every_field,
    companies_never_see_each_others_sessions,
    listing_filters_and_pages_through_every_session_once,
    unknown_sessions_are_not_found,
    concurrent_inserts_store_each_session_once,
    conversation_writes_check_the_version,
    due_conversations_are_claimed_once_per_lease,
    a_verdict_is_recorded_once_and_counted_once,
    overrides_move_the_count_and_keep_the_audit,
    each_session_gets_one_summary_with_retries,
    skipped_sessions_return_to_the_queue_unless_final,
    users_roles_and_integration_tokens_grant_their_permissions,
    webhook_deliveries_go_out_in_order_and_retry,
    summary_counts_group_sessions_by_state_and_reason,
    summaries_are_searched_filtered_and_counted_by_tag,
);

/// A new company named `name` on the premium tier.
pub async fn create_test_company(store: &dyn Store, name: &str) -> crate::CreatedCompany {
    let company = NewCompany {
        name: CompanyName::parse(name).expect("valid test company name"),
        tier: LicenseTier::Premium,
        time_zone: TimeZoneName::parse("Europe/Berlin").expect("valid zone"),
        term_start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
    };
    store
        .create_company(&company, "Admin")
        .await
        .expect("company is created")
}

/// A session with the given id, start minute and platform, built through the public parser.
pub fn test_session(id: &str, minute: u32, platform: &str, supporter: &str) -> SessionRecord {
    let started = Utc
        .with_ymd_and_hms(2026, 11, 20, 10, minute % 60, 0)
        .single()
        .expect("valid time");
    let text = serde_json::json!({
        "id": id,
        "channel": "remote_session",
        "direction": "outgoing",
        "started_at": started.to_rfc3339(),
        "supporter": {"id": supporter, "name": "Ana Souza"},
        "device": {"id": "d-1", "platform": platform},
        "turns": [{"speaker": "customer", "speaker_name": "Bob", "text": "Outlook keeps asking for my password"}],
        "events": [{"at": started.to_rfc3339(), "type": "app_focus", "app": "OUTLOOK.EXE"}]
    });
    SessionRecord::parse(&text.to_string()).expect("valid test session")
}

fn ids(sessions: &[crate::StoredSession]) -> Vec<String> {
    sessions
        .iter()
        .map(|stored| stored.session.id.clone())
        .collect()
}

async fn creating_a_company_issues_a_working_admin_token(store: Arc<dyn Store>) {
    let created = create_test_company(store.as_ref(), "acme").await;

    let principal = store
        .authenticate(created.admin_token.secret.expose(), chrono::Utc::now())
        .await
        .expect("authenticate")
        .principal()
        .expect("the admin token is valid");

    assert_eq!(principal.company.id, created.company.id);
    assert_eq!(principal.company.tier, LicenseTier::Premium);
    assert_eq!(principal.user_id, created.admin_user_id);
    assert_eq!(
        store
            .admin_user_id(&created.company.id)
            .await
            .expect("admin"),
        created.admin_user_id
    );
    assert_eq!(
        store.company_by_name("acme").await.expect("found").id,
        created.company.id
    );
    assert!(store
        .authenticate("dbf_not-a-real-token", chrono::Utc::now())
        .await
        .expect("authenticate")
        .principal()
        .is_none());
}

async fn company_names_are_unique(store: Arc<dyn Store>) {
    create_test_company(store.as_ref(), "acme").await;
    let company = NewCompany {
        name: CompanyName::parse("acme").expect("name"),
        tier: LicenseTier::Business,
        time_zone: TimeZoneName::parse("UTC").expect("zone"),
        term_start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
    };

    let second = store.create_company(&company, "Other admin").await;

    assert!(
        matches!(second, Err(StoreError::Conflict { .. })),
        "{second:?}"
    );
}

async fn revoked_tokens_stop_authenticating(store: Arc<dyn Store>) {
    let created = create_test_company(store.as_ref(), "acme").await;
    let extra = store
        .create_token(
            &created.company.id,
            &NewToken {
                user_id: &created.admin_user_id,
                label: "ci",
                role: None,
                created_by: &created.admin_user_id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await
        .expect("token");
    assert!(store
        .authenticate(extra.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_some());

    store
        .revoke_token(&created.company.id, &extra.info.id)
        .await
        .expect("revoke");

    assert!(store
        .authenticate(extra.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_none());
    assert!(store
        .authenticate(created.admin_token.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_some());
    let listed = store.list_tokens(&created.company.id).await.expect("list");
    let revoked = listed
        .iter()
        .find(|token| token.id == extra.info.id)
        .expect("listed");
    assert!(revoked.revoked_at.is_some());
}

async fn tokens_of_another_company_cannot_be_listed_or_revoked(store: Arc<dyn Store>) {
    let acme = create_test_company(store.as_ref(), "acme").await;
    let globex = create_test_company(store.as_ref(), "globex").await;

    let revoke = store
        .revoke_token(&globex.company.id, &acme.admin_token.info.id)
        .await;
    let create = store
        .create_token(
            &globex.company.id,
            &NewToken {
                user_id: &acme.admin_user_id,
                label: "steal",
                role: None,
                created_by: &acme.admin_user_id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await;

    assert!(matches!(revoke, Err(StoreError::NotFound)), "{revoke:?}");
    assert!(matches!(create, Err(StoreError::NotFound)), "{create:?}");
    let globex_tokens = store.list_tokens(&globex.company.id).await.expect("list");
    assert_eq!(globex_tokens.len(), 1);
    assert_eq!(globex_tokens[0].id, globex.admin_token.info.id);
    assert!(store
        .authenticate(acme.admin_token.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_some());
}

async fn inserting_is_idempotent_on_company_and_id(store: Arc<dyn Store>) {
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

async fn sessions_round_trip_every_field(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let session = test_session("tv-000123", 5, "windows", "u-17");

    store
        .insert_sessions(&company, std::slice::from_ref(&session))
        .await
        .expect("insert");
    let stored = store.get_session(&company, "tv-000123").await.expect("get");

    assert_eq!(&stored.session, session.session());
}

async fn companies_never_see_each_others_sessions(store: Arc<dyn Store>) {
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

async fn listing_filters_and_pages_through_every_session_once(store: Arc<dyn Store>) {
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

async fn unknown_sessions_are_not_found(store: Arc<dyn Store>) {
    let company = create_test_company(store.as_ref(), "acme").await.company.id;

    let missing = store.get_session(&company, "nope").await;
    let other_company = store
        .get_session(&CompanyId("no-such-company".into()), "nope")
        .await;

    assert!(matches!(missing, Err(StoreError::NotFound)));
    assert!(matches!(other_company, Err(StoreError::NotFound)));
}

async fn concurrent_inserts_store_each_session_once(store: Arc<dyn Store>) {
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

async fn conversation_writes_check_the_version(store: Arc<dyn Store>) {
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

async fn due_conversations_are_claimed_once_per_lease(store: Arc<dyn Store>) {
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

async fn a_verdict_is_recorded_once_and_counted_once(store: Arc<dyn Store>) {
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

async fn overrides_move_the_count_and_keep_the_audit(store: Arc<dyn Store>) {
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

async fn each_session_gets_one_summary_with_retries(store: Arc<dyn Store>) {
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
    assert!(store
        .complete_summary_job(first, "{\"title\": \"x\"}", "builtin-1", "en", "allowed")
        .await
        .expect("complete"));
    assert!(
        !store
            .complete_summary_job(first, "{\"title\": \"y\"}", "builtin-1", "en", "allowed")
            .await
            .expect("complete"),
        "never two summaries"
    );
    assert_eq!(
        store.summary_state(&company, "s-1").await.expect("state"),
        crate::SummaryState::Ready("{\"title\": \"x\"}".into())
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

async fn skipped_sessions_return_to_the_queue_unless_final(store: Arc<dyn Store>) {
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
    assert!(claimed.iter().all(|job| job.consent == "none"));
    let job = |id: &str| {
        claimed
            .iter()
            .find(|job| job.session_id == id)
            .expect("claimed")
    };
    store
        .skip_summary_job(
            job("a"),
            "ai.enabled is off for the company",
            false,
            "after_confirmation",
        )
        .await
        .expect("skip");
    store
        .skip_summary_job(
            job("b"),
            "remote user denied consent",
            true,
            "after_confirmation",
        )
        .await
        .expect("skip");
    store
        .skip_summary_job(
            job("c"),
            "waiting for the remote user's consent",
            false,
            "after_confirmation",
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
        ConsentChange::AlreadyAnswered("allowed".into())
    );
    let requeued = store.claim_summary_jobs(now, 10, 60).await.expect("claim");
    assert_eq!(
        requeued
            .iter()
            .map(|job| (job.session_id.as_str(), job.consent.as_str()))
            .collect::<Vec<_>>(),
        vec![("c", "allowed")]
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

async fn users_roles_and_integration_tokens_grant_their_permissions(store: Arc<dyn Store>) {
    use crate::{put_typed, CustomRole, NewUser, ObjectKind, UserChange};
    use debrief_core::access::{Permission, PermissionSet};
    let created = create_test_company(store.as_ref(), "acme").await;
    let company = created.company.id.clone();
    let auditor = CustomRole {
        permissions: PermissionSet::from_iter([Permission::UsageView]),
    };
    put_typed(
        store.as_ref(),
        &company,
        ObjectKind::Role,
        "auditor",
        &auditor,
    )
    .await
    .expect("role");
    let user = store
        .create_user(
            &company,
            &NewUser {
                name: "Ana".into(),
                role: "supporter".into(),
                email: Some("ana@acme.test".into()),
                supporter_id: Some("u-ana".into()),
                log_sessions: false,
                password_hash: Some("$argon2id$stand-in".into()),
            },
        )
        .await
        .expect("user");
    assert!(matches!(
        store
            .create_user(
                &company,
                &NewUser {
                    name: "Other Ana".into(),
                    role: "viewer".into(),
                    supporter_id: Some("u-ana".into()),
                    ..NewUser::default()
                },
            )
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(!store
        .supporter_logs_sessions(&company, "u-ana")
        .await
        .expect("setting"));
    assert!(store
        .supporter_logs_sessions(&company, "u-stranger")
        .await
        .expect("setting"));
    let changed = store
        .update_user(
            &company,
            &user.id,
            &UserChange {
                log_sessions: Some(true),
                ..UserChange::default()
            },
        )
        .await
        .expect("update");
    assert!(changed.log_sessions && changed.has_password);

    let as_user = store
        .create_token(
            &company,
            &NewToken {
                user_id: &user.id,
                label: "ana",
                role: None,
                created_by: &user.id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await
        .expect("token");
    let integration = store
        .create_token(
            &company,
            &NewToken {
                user_id: &user.id,
                label: "reports",
                role: Some("auditor"),
                created_by: &created.admin_user_id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await
        .expect("token");
    let principal = |secret: String| {
        let store = Arc::clone(&store);
        async move {
            store
                .authenticate(&secret, chrono::Utc::now())
                .await
                .expect("auth")
                .principal()
                .expect("valid")
        }
    };
    let ana = principal(as_user.secret.expose().to_string()).await;
    let reports = principal(integration.secret.expose().to_string()).await;
    assert_eq!(ana.role, "supporter");
    assert!(ana.permissions.contains(Permission::InsightsEdit));
    assert_eq!(reports.role, "auditor");
    assert_eq!(reports.permissions, auditor.permissions);
    assert!(store
        .role_in_use(&company, "auditor")
        .await
        .expect("in use"));

    let candidate = store
        .sign_in_candidate("acme", "ana@acme.test")
        .await
        .expect("candidate")
        .expect("has a password");
    assert_eq!(candidate.user_id, user.id);
    assert!(store
        .sign_in_candidate("globex", "ana@acme.test")
        .await
        .expect("candidate")
        .is_none());
    let globex = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    assert!(matches!(
        store.get_user(&globex, &user.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .role_permissions(&globex, "auditor")
        .await
        .expect("role")
        .iter()
        .next()
        .is_none());
}

async fn webhook_deliveries_go_out_in_order_and_retry(store: Arc<dyn Store>) {
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
        let body = serde_json::json!({"session": job.session_id}).to_string();
        store
            .complete_summary_job(job, &body, "builtin-1", "en", "allowed")
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

async fn summary_counts_group_sessions_by_state_and_reason(store: Arc<dyn Store>) {
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
                    .complete_summary_job(job, "{}", "builtin-1", "en", "allowed")
                    .await
                    .expect("complete");
            }
            "b" | "c" => store
                .skip_summary_job(job, "ai.enabled is off for the company", false, "allowed")
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

async fn summaries_are_searched_filtered_and_counted_by_tag(store: Arc<dyn Store>) {
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
            r#"{"title": "Outlook asks for the password", "summary": "Ana reset the CRÉDENTIALS 100%.", "issue_types": ["email", "login"], "applications": ["Outlook"]}"#,
        ),
        (
            "b",
            2,
            "u-2",
            r#"{"title": "Printer offline", "summary": "Spooler restarted.", "issue_types": ["printing"], "applications": ["Windows"]}"#,
        ),
        (
            "c",
            3,
            "u-1",
            r#"{"title": "VPN drops", "summary": "Outlook could not sync over the VPN.", "issue_types": ["network"], "applications": ["Outlook", "FortiClient"]}"#,
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
        let body = bodies
            .iter()
            .find(|(id, ..)| *id == job.session_id)
            .expect("known")
            .3;
        store
            .complete_summary_job(&job, body, "builtin-1", "en", "allowed")
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
    assert_eq!(
        found(search(Some("outlook"), None, None, None)).await,
        (2, vec!["c".into(), "a".into()])
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

    store
        .edit_summary(&company, "c", r#"{"title": "Wi-Fi drops", "summary": "Reconnected.", "issue_types": ["network"], "applications": []}"#, "u-1", Utc::now())
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

/// Opens a fresh store on `url`, for a conformance case.
pub async fn open_test_store(url: &str) -> Arc<dyn Store> {
    Arc::new(SqlStore::connect(url).await.expect("test store opens"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_is_replaced_keeping_the_query() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database_name("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database_name("postgres://h", "x"), "postgres://h/x");
    }
}
