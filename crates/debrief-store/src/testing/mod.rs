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
use debrief_core::governance::{ConsentMode, SkipReason};
use debrief_core::session::{Channel, ConsentAnswer, Platform};
use debrief_core::summary::Summary;
use debrief_core::tenancy::{CompanyName, LicenseTier, NewCompany, TimeZoneName};
use debrief_core::SessionRecord;
use sqlx::Connection;

mod companies;
mod conversations;
mod people;
mod sessions;
mod summaries;
mod summary_queue;
mod webhooks;

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
    ($($module:ident::$name:ident),* $(,)?) => {
        /// Every conformance case, by name.
        pub fn conformance_cases() -> Vec<(&'static str, Case)> {
            vec![$((stringify!($name), |store| Box::pin($module::$name(store)))),*]
        }
    };
}

cases!(
    companies::creating_a_company_issues_a_working_admin_token,
    companies::company_names_are_unique,
    companies::revoked_tokens_stop_authenticating,
    companies::tokens_of_another_company_cannot_be_listed_or_revoked,
    sessions::inserting_is_idempotent_on_company_and_id,
    sessions::sessions_round_trip_every_field,
    sessions::companies_never_see_each_others_sessions,
    sessions::listing_filters_and_pages_through_every_session_once,
    sessions::unknown_sessions_are_not_found,
    sessions::concurrent_inserts_store_each_session_once,
    conversations::conversation_writes_check_the_version,
    conversations::due_conversations_are_claimed_once_per_lease,
    conversations::a_verdict_is_recorded_once_and_counted_once,
    conversations::overrides_move_the_count_and_keep_the_audit,
    summary_queue::each_session_gets_one_summary_with_retries,
    summary_queue::skipped_sessions_return_to_the_queue_unless_final,
    people::users_roles_and_integration_tokens_grant_their_permissions,
    webhooks::webhook_deliveries_go_out_in_order_and_retry,
    webhooks::connector_pushes_share_the_outbox_and_raise_one_failing_alert,
    summaries::summary_counts_group_sessions_by_state_and_reason,
    summaries::summaries_are_searched_filtered_and_counted_by_tag,
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

/// A summary of session `id` with the given title, text and tags, as an engine writes it.
pub fn test_summary(
    id: &str,
    title: &str,
    text: &str,
    issue_types: &[&str],
    applications: &[&str],
) -> Summary {
    Summary {
        id: id.into(),
        title: title.into(),
        summary: text.into(),
        issue_types: issue_types.iter().map(|name| name.to_string()).collect(),
        applications: applications.iter().map(|name| name.to_string()).collect(),
        language: "en".into(),
        engine: "builtin-1".into(),
        ..Summary::default()
    }
}

fn ids(sessions: &[crate::StoredSession]) -> Vec<String> {
    sessions
        .iter()
        .map(|stored| stored.session.id.clone())
        .collect()
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
