//! The SQL implementation of the store traits, shared by SQLite and PostgreSQL.
//!
//! Both backends run the same statements through sqlx's `Any` driver: the SQL here is the
//! common subset (numbered `$n` parameters, `on conflict … do nothing`, `returning`), values
//! are text and 64-bit integers (timestamps are unix microseconds in UTC). What differs — the
//! schema's identity column and the connection set-up — lives in each backend's `migrations/`
//! directory and in [`Backend`].

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use debrief_core::session::ConsentAnswer;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

use crate::{QueueDepths, Result, Store, StoreError};

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// A SQLite store on `url` with the migrations before `version` applied, for a test of what
/// migration `version` does to data stored before it; runs that one migration when asked.
#[cfg(test)]
pub(crate) struct StoreBefore {
    pub(crate) store: SqlStore,
    version: i64,
}

#[cfg(test)]
impl StoreBefore {
    pub(crate) async fn open(url: &str, version: i64) -> StoreBefore {
        let store = SqlStore::connect_without_migrating(url)
            .await
            .expect("connects");
        for migration in SQLITE_MIGRATIONS
            .iter()
            .filter(|migration| migration.version < version)
        {
            sqlx::raw_sql(&migration.sql)
                .execute(store.pool())
                .await
                .expect("earlier migration");
        }
        StoreBefore { store, version }
    }

    /// Runs migration `version`.
    pub(crate) async fn migrate(&self) {
        let migration = SQLITE_MIGRATIONS
            .iter()
            .find(|migration| migration.version == self.version)
            .expect("the migration exists");
        sqlx::raw_sql(&migration.sql)
            .execute(self.store.pool())
            .await
            .expect("the migration under test");
    }
}

/// Set on every SQLite connection: 16 KiB pages (taking effect when the file is created: a
/// session body of a few KiB then shares a page instead of spilling to overflow pages),
/// write-ahead log, enforced foreign keys, waiting (not failing) while another connection
/// writes, and reads through a memory map with a 16 MiB page cache per connection (a scan of
/// 100,000 summaries took 40 ms on one pooled connection and 250 ms on another with the
/// default 2 MiB cache and no map; both take 40 ms with them).
const SQLITE_PRAGMAS: [&str; 7] = [
    "pragma page_size = 16384",
    "pragma journal_mode = wal",
    "pragma synchronous = normal",
    "pragma foreign_keys = on",
    "pragma busy_timeout = 30000",
    "pragma mmap_size = 1073741824",
    "pragma cache_size = -16384",
];

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names, from its scheme.
    pub fn from_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Invalid(format!(
                "unsupported database url scheme in {:?}: use sqlite://FILE or postgres://…",
                redact_url(url)
            )))
        }
    }

    /// The backend's name, for logs and `/readyz`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Rows per multi-row session `insert`. SQLite looks numbered parameters up by name, at a
    /// cost that grows with their count, so its statements stay short; PostgreSQL gains from
    /// long ones (9 parameters a row stays far below its 65,535).
    pub(crate) fn insert_chunk_rows(self) -> usize {
        match self {
            Backend::Sqlite => 16,
            Backend::Postgres => 500,
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// A database URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The store on a SQLite or PostgreSQL database.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
}

impl SqlStore {
    /// Connects to `url` (a SQLite file is created when missing) and applies the migrations.
    pub async fn connect(url: &str) -> Result<SqlStore> {
        let store = SqlStore::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    pub(crate) async fn connect_without_migrating(url: &str) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let (url, max_connections) = match backend {
            Backend::Sqlite => (sqlite_url_creating_file(url), 4),
            Backend::Postgres => (url.to_string(), 10),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |connection, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in SQLITE_PRAGMAS {
                            sqlx::query(pragma).execute(&mut *connection).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(SqlStore { pool, backend })
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> Result<()> {
        self.backend.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// The connection pool, for the other aggregates' implementations.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// `sqlite://debrief.db` opens read-write and creates the file unless the URL sets a mode.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn from_micros(value: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(value)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {value} is out of range")))
}

/// The remote user's consent answer as stored (`none` until they answer).
pub(crate) fn consent_text(answer: Option<ConsentAnswer>) -> &'static str {
    match answer {
        Some(ConsentAnswer::Allowed) => "allowed",
        Some(ConsentAnswer::Denied) => "denied",
        Some(ConsentAnswer::None) | None => "none",
    }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Attempts of a transaction that a deadlock or serialization failure rolled back.
const CONFLICT_ATTEMPTS: u32 = 4;

/// Runs `transaction` again (after a short, growing pause) when the database rolled it back
/// for a deadlock (`40P01`) or a serialization failure (`40001`); other errors and the last
/// attempt's are returned.
pub(crate) async fn retry_on_conflict<T, F, Fut>(mut transaction: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match transaction().await {
            Err(StoreError::Database(sqlx::Error::Database(error)))
                if attempt < CONFLICT_ATTEMPTS
                    && matches!(error.code().as_deref(), Some("40P01" | "40001")) =>
            {
                tracing::debug!(attempt, error = %error, "transaction rolled back: running it again");
                tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// A session body as stored: its JSON, lz4-compressed; read back.
pub(crate) fn decode_body(row: &AnyRow) -> Result<String> {
    let compressed: Vec<u8> = row.try_get("body")?;
    let bytes = lz4_flex::decompress_size_prepended(&compressed)
        .map_err(|error| StoreError::Corrupt(format!("session body: {error}")))?;
    String::from_utf8(bytes).map_err(|error| StoreError::Corrupt(format!("session body: {error}")))
}

/// A parameter value of a dynamically built `where` clause.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// `where` clauses joined by `and`, with their numbered parameters.
#[derive(Default)]
pub(crate) struct Filter {
    pub(crate) clauses: Vec<String>,
    pub(crate) binds: Vec<Bind>,
}

impl Filter {
    pub(crate) fn next_parameter(&self) -> usize {
        self.binds.len() + 1
    }

    /// Adds `condition` (ending in `$`) with the next parameter number appended.
    fn push(&mut self, condition: &str, bind: Bind) {
        self.clauses
            .push(format!("{condition}{}", self.next_parameter()));
        self.binds.push(bind);
    }

    pub(crate) fn push_text(&mut self, condition: &str, value: String) {
        self.push(condition, Bind::Text(value));
    }

    pub(crate) fn push_int(&mut self, condition: &str, value: i64) {
        self.push(condition, Bind::Int(value));
    }

    pub(crate) fn sql(&self) -> String {
        self.clauses.join(" and ")
    }

    pub(crate) fn bind_all<'q>(
        &'q self,
        mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for bind in &self.binds {
            query = match bind {
                Bind::Text(text) => query.bind(text.as_str()),
                Bind::Int(number) => query.bind(*number),
            };
        }
        query
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> crate::Backend {
        self.backend
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn queue_depths(&self, now: DateTime<Utc>) -> Result<QueueDepths> {
        let row = sqlx::query(
            "select (select count(*) from sessions where summary_state = 'pending'), \
             (select count(*) from conversations where state = 'pending' and decidable_at <= $1), \
             (select count(*) from webhook_outbox where state = 'pending')",
        )
        .bind(micros(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(QueueDepths {
            pending_summaries: row.try_get(0)?,
            due_conversations: row.try_get(1)?,
            webhook_outbox: row.try_get(2)?,
        })
    }

    async fn settle(&self) -> Result<()> {
        let statements: &[&str] = match self.backend {
            Backend::Sqlite => &["pragma wal_checkpoint(truncate)", "pragma optimize"],
            // Vacuum marks the pages all-visible, so index-only scans stay index-only.
            Backend::Postgres => &["vacuum (analyze)"],
        };
        for statement in statements {
            sqlx::query(statement).execute(&self.pool).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://x.db").ok(),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").ok(),
            Some(Backend::Postgres)
        );
        assert!(Backend::from_url("mysql://h/db").is_err());
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://debrief.db"), "sqlite://debrief.db");
    }

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db"),
            "sqlite://a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite://a.db?mode=ro"),
            "sqlite://a.db?mode=ro"
        );
    }
}
