//! The SQL implementation of the store traits, shared by SQLite and PostgreSQL.
//!
//! Both backends run the same statements through sqlx's `Any` driver: the SQL here is the
//! common subset (numbered `$n` parameters, `on conflict … do nothing`, `returning`), values
//! are text and 64-bit integers (timestamps are unix microseconds in UTC). What differs — the
//! schema's identity column and the connection set-up — lives in each backend's `migrations/`
//! directory and in [`Backend`].

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use debrief_core::session::ConsentAnswer;
use debrief_core::tenancy::{LicenseTier, NewCompany, Role};
use debrief_core::{Session, SessionRecord};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

use crate::people::PeopleStore;
use crate::tokens::{hash_secret, TokenSecret};
use crate::{
    Authentication, Company, CompanyId, CompanyStore, CreatedCompany, InsertOutcome, IssuedToken,
    NewToken, Principal, QueueDepths, Result, SessionCursor, SessionPage, SessionQuery,
    SessionStore, Store, StoreError, StoredSession, TokenInfo, MAX_PAGE_SIZE,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

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
    fn insert_chunk_rows(self) -> usize {
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
    pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Inserts session rows in one transaction; the ids newly stored.
    async fn write_session_rows(
        &self,
        company: &CompanyId,
        rows: &[&SessionRow<'_>],
        now: i64,
    ) -> Result<HashSet<String>> {
        let mut stored_ids: HashSet<String> = HashSet::with_capacity(rows.len());
        let mut transaction = self.pool.begin().await?;
        for chunk in rows.chunks(self.backend.insert_chunk_rows()) {
            let sql = insert_sessions_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for row in chunk {
                query = query
                    .bind(&company.0)
                    .bind(row.session.id.as_str())
                    .bind(row.session.channel.as_str())
                    .bind(row.session.platform().map(|platform| platform.as_str()))
                    .bind(row.session.supporter_id())
                    .bind(row.started_at)
                    .bind(row.sort_at)
                    .bind(row.body.as_slice())
                    .bind(now)
                    .bind(consent_text(row.session.consent));
            }
            for returned in query.fetch_all(&mut *transaction).await? {
                stored_ids.insert(returned.try_get("external_id")?);
            }
        }
        transaction.commit().await?;
        Ok(stored_ids)
    }

    /// Connects to `url` (a SQLite file is created when missing) and applies the migrations.
    pub async fn connect(url: &str) -> Result<SqlStore> {
        let store = SqlStore::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema.
    async fn connect_without_migrating(url: &str) -> Result<SqlStore> {
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

fn company_from_row(row: &AnyRow) -> Result<Company> {
    let tier: String = row.try_get("company_tier")?;
    let term_start: String = row.try_get("company_term_start")?;
    Ok(Company {
        id: CompanyId(row.try_get("company_id")?),
        name: row.try_get("company_name")?,
        tier: LicenseTier::from_str(&tier)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?,
        time_zone: row.try_get("company_time_zone")?,
        term_start: NaiveDate::parse_from_str(&term_start, "%Y-%m-%d")
            .map_err(|error| StoreError::Corrupt(format!("term_start {term_start:?}: {error}")))?,
        created_at: from_micros(row.try_get("company_created_at")?)?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        label: row.try_get("label")?,
        role: row.try_get("role")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_micros)
            .transpose()?,
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(from_micros)
            .transpose()?,
    })
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

/// A session body as stored: its JSON, lz4-compressed (a quarter of the bytes to write, on
/// either backend).
fn encode_body(json: &str) -> Vec<u8> {
    lz4_flex::compress_prepend_size(json.as_bytes())
}

pub(crate) fn decode_body(row: &AnyRow) -> Result<String> {
    let compressed: Vec<u8> = row.try_get("body")?;
    let bytes = lz4_flex::decompress_size_prepended(&compressed)
        .map_err(|error| StoreError::Corrupt(format!("session body: {error}")))?;
    String::from_utf8(bytes).map_err(|error| StoreError::Corrupt(format!("session body: {error}")))
}

fn stored_session_from_row(row: &AnyRow) -> Result<StoredSession> {
    let body = decode_body(row)?;
    let session: Session = serde_json::from_str(&body)
        .map_err(|error| StoreError::Corrupt(format!("session body: {error}")))?;
    Ok(StoredSession {
        session,
        received_at: from_micros(row.try_get("created_at")?)?,
    })
}

const COMPANY_COLUMNS: &str =
    "c.id as company_id, c.name as company_name, c.tier as company_tier, \
     c.time_zone as company_time_zone, c.term_start as company_term_start, \
     c.created_at as company_created_at";

#[async_trait]
impl CompanyStore for SqlStore {
    async fn create_company_at(
        &self,
        company: &NewCompany,
        admin_name: &str,
        now: DateTime<Utc>,
    ) -> Result<CreatedCompany> {
        let company_id = new_id();
        let admin_user_id = new_id();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "insert into companies (id, name, tier, time_zone, term_start, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&company_id)
        .bind(company.name.as_str())
        .bind(company.tier.as_str())
        .bind(company.time_zone.as_str())
        .bind(company.term_start.format("%Y-%m-%d").to_string())
        .bind(micros(now))
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "insert into users (id, company_id, name, role, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&admin_user_id)
        .bind(&company_id)
        .bind(admin_name)
        .bind(Role::Admin.as_str())
        .bind(micros(now))
        .execute(&mut *transaction)
        .await?;
        let company_id = CompanyId(company_id);
        let admin_token = insert_token(
            &mut transaction,
            &company_id,
            &NewToken {
                user_id: &admin_user_id,
                label: "admin",
                role: None,
                created_by: &admin_user_id,
                lifetime: None,
            },
            now,
        )
        .await?;
        transaction.commit().await?;
        Ok(CreatedCompany {
            company: Company {
                id: company_id,
                name: company.name.as_str().to_string(),
                tier: company.tier,
                time_zone: company.time_zone.as_str().to_string(),
                term_start: company.term_start,
                created_at: from_micros(micros(now))?,
            },
            admin_user_id,
            admin_token,
        })
    }

    async fn company_by_name(&self, name: &str) -> Result<Company> {
        let row = sqlx::query(&format!(
            "select {COMPANY_COLUMNS} from companies c where c.name = $1"
        ))
        .bind(name)
        .fetch_one(&self.pool)
        .await?;
        company_from_row(&row)
    }

    async fn company(&self, id: &CompanyId) -> Result<Company> {
        let row = sqlx::query(&format!(
            "select {COMPANY_COLUMNS} from companies c where c.id = $1"
        ))
        .bind(&id.0)
        .fetch_one(&self.pool)
        .await?;
        company_from_row(&row)
    }

    async fn companies(&self) -> Result<Vec<Company>> {
        sqlx::query(&format!(
            "select {COMPANY_COLUMNS} from companies c order by c.name"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(company_from_row)
        .collect()
    }

    async fn admin_user_id(&self, company: &CompanyId) -> Result<String> {
        let row = sqlx::query(
            "select id from users where company_id = $1 and role = $2 \
             order by created_at, id limit 1",
        )
        .bind(&company.0)
        .bind(Role::Admin.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    async fn authenticate(&self, secret: &str, now: DateTime<Utc>) -> Result<Authentication> {
        let row = sqlx::query(&format!(
            "select t.id as token_id, t.user_id as user_id, coalesce(t.role, u.role) as role, \
             creator.role as creator_role, t.created_at as token_created_at, t.expires_at, \
             t.idle_seconds, t.last_used_at, {COMPANY_COLUMNS} \
             from api_tokens t \
             join users u on u.id = t.user_id and u.company_id = t.company_id \
             join companies c on c.id = t.company_id \
             left join users creator on creator.id = t.created_by \
             and creator.company_id = t.company_id \
             where t.token_hash = $1 and t.revoked_at is null"
        ))
        .bind(hash_secret(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Authentication::Unknown);
        };
        let now_micros = micros(now);
        if row
            .try_get::<Option<i64>, _>("expires_at")?
            .is_some_and(|expires| expires <= now_micros)
        {
            return Ok(Authentication::Expired(
                "this sign-in has passed its time limit: sign in again",
            ));
        }
        let token_id: String = row.try_get("token_id")?;
        if let Some(idle) = row.try_get::<Option<i64>, _>("idle_seconds")? {
            let last_used = row
                .try_get::<Option<i64>, _>("last_used_at")?
                .unwrap_or(row.try_get("token_created_at")?);
            if last_used.saturating_add(idle.saturating_mul(1_000_000)) <= now_micros {
                return Ok(Authentication::Expired(
                    "this sign-in was idle too long: sign in again",
                ));
            }
            // At most one write a minute per token (a tenth of the idle limit when shorter).
            let write_every = idle.saturating_mul(100_000).min(60_000_000);
            sqlx::query(
                "update api_tokens set last_used_at = $1 where id = $2 \
                 and (last_used_at is null or last_used_at <= $3)",
            )
            .bind(now_micros)
            .bind(&token_id)
            .bind(now_micros - write_every)
            .execute(&self.pool)
            .await?;
        }
        let role: String = row.try_get("role")?;
        let company = company_from_row(&row)?;
        let mut permissions = self.role_permissions(&company.id, &role).await?;
        if let Some(creator_role) = row.try_get::<Option<String>, _>("creator_role")? {
            permissions =
                permissions.intersection(self.role_permissions(&company.id, &creator_role).await?);
        }
        Ok(Authentication::Valid(Principal {
            company,
            user_id: row.try_get("user_id")?,
            role,
            permissions,
            token_id,
        }))
    }

    async fn create_token(
        &self,
        company: &CompanyId,
        token: &NewToken<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("select id from users where company_id = $1 and id = $2")
            .bind(&company.0)
            .bind(token.user_id)
            .fetch_one(&mut *transaction)
            .await?;
        let issued = insert_token(&mut transaction, company, token, now).await?;
        transaction.commit().await?;
        Ok(issued)
    }

    async fn list_tokens(&self, company: &CompanyId) -> Result<Vec<TokenInfo>> {
        sqlx::query(
            "select id, user_id, label, role, created_at, revoked_at, expires_at from api_tokens \
             where company_id = $1 order by created_at desc, id desc",
        )
        .bind(&company.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn revoke_token(&self, company: &CompanyId, token_id: &str) -> Result<()> {
        let result = sqlx::query(
            "update api_tokens set revoked_at = coalesce(revoked_at, $3) \
             where company_id = $1 and id = $2",
        )
        .bind(&company.0)
        .bind(token_id)
        .bind(micros(Utc::now()))
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

async fn insert_token(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    company: &CompanyId,
    token: &NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<IssuedToken> {
    let secret = TokenSecret::generate()
        .map_err(|error| StoreError::Invalid(format!("no random source: {error}")))?;
    let id = new_id();
    let expires_at = token
        .lifetime
        .map(|lifetime| micros(now).saturating_add(lifetime.max_seconds.saturating_mul(1_000_000)));
    sqlx::query(
        "insert into api_tokens (id, company_id, user_id, label, token_hash, created_at, role, \
         created_by, expires_at, idle_seconds) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&company.0)
    .bind(token.user_id)
    .bind(token.label)
    .bind(hash_secret(secret.expose()))
    .bind(micros(now))
    .bind(token.role)
    .bind(token.created_by)
    .bind(expires_at)
    .bind(token.lifetime.map(|lifetime| lifetime.idle_seconds))
    .execute(&mut **transaction)
    .await?;
    Ok(IssuedToken {
        info: TokenInfo {
            id,
            user_id: token.user_id.to_string(),
            label: token.label.to_string(),
            role: token.role.map(str::to_string),
            created_at: from_micros(micros(now))?,
            revoked_at: None,
            expires_at: expires_at.map(from_micros).transpose()?,
        },
        secret,
    })
}

/// A session reduced to its stored columns.
struct SessionRow<'a> {
    session: &'a Session,
    body: Vec<u8>,
    started_at: Option<i64>,
    sort_at: i64,
}

#[async_trait]
impl SessionStore for SqlStore {
    async fn insert_sessions(
        &self,
        company: &CompanyId,
        sessions: &[SessionRecord],
    ) -> Result<Vec<InsertOutcome>> {
        let now = micros(Utc::now());
        let mut outcomes = vec![InsertOutcome::Duplicate; sessions.len()];
        let mut seen_in_batch = HashSet::with_capacity(sessions.len());
        let mut rows = Vec::with_capacity(sessions.len());
        let mut row_positions = Vec::with_capacity(sessions.len());
        for (position, record) in sessions.iter().enumerate() {
            let session = record.session();
            if !seen_in_batch.insert(session.id.as_str()) {
                continue;
            }
            let started_at = session.started_at_utc().map(micros);
            rows.push(SessionRow {
                session,
                body: encode_body(record.json()),
                started_at,
                sort_at: started_at.unwrap_or(now),
            });
            row_positions.push(position);
        }

        // In key order, so that two servers storing overlapping batches lock the same rows in
        // the same order (no deadlock); a deadlock or serialization failure all the same is
        // retried.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by(|left, right| rows[*left].session.id.cmp(&rows[*right].session.id));
        let sorted: Vec<&SessionRow<'_>> = order.iter().map(|index| &rows[*index]).collect();
        let stored_ids =
            retry_on_conflict(|| self.write_session_rows(company, &sorted, now)).await?;

        for (row, position) in rows.iter().zip(row_positions) {
            if stored_ids.contains(row.session.id.as_str()) {
                outcomes[position] = InsertOutcome::Stored;
            }
        }
        Ok(outcomes)
    }

    async fn get_session(&self, company: &CompanyId, id: &str) -> Result<StoredSession> {
        let row = sqlx::query(
            "select body, created_at from sessions where company_id = $1 and external_id = $2",
        )
        .bind(&company.0)
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        stored_session_from_row(&row)
    }

    async fn list_sessions(
        &self,
        company: &CompanyId,
        query: &SessionQuery,
    ) -> Result<SessionPage> {
        let limit = query.limit.clamp(1, MAX_PAGE_SIZE);
        let mut filter = Filter::default();
        filter.push_text("company_id = $", company.0.clone());
        if let Some(from) = query.from {
            filter.push_int("sort_at >= $", micros(from));
        }
        if let Some(to) = query.to {
            filter.push_int("sort_at < $", micros(to));
        }
        if let Some(supporter_id) = &query.supporter_id {
            filter.push_text("supporter_id = $", supporter_id.clone());
        }
        if let Some(channel) = query.channel {
            filter.push_text("channel = $", channel.as_str().to_string());
        }
        if let Some(platform) = query.platform {
            filter.push_text("platform = $", platform.as_str().to_string());
        }
        if let Some(reason) = &query.skip_reason {
            filter.push_text(
                "summary_state = 'skipped' and skip_reason = $",
                reason.clone(),
            );
        }

        let count_sql = format!(
            "select count(*) as total from sessions where {}",
            filter.sql()
        );
        let total: i64 = filter
            .bind_all(sqlx::query(&count_sql))
            .fetch_one(&self.pool)
            .await?
            .try_get("total")?;

        let mut page_filter = filter;
        if let Some(cursor) = query.cursor {
            let sort_at = page_filter.next_parameter();
            page_filter.binds.push(Bind::Int(cursor.sort_at));
            let seq = page_filter.next_parameter();
            page_filter.binds.push(Bind::Int(cursor.seq));
            page_filter.clauses.push(format!(
                "(sort_at < ${sort_at} or (sort_at = ${sort_at} and seq < ${seq}))"
            ));
        }
        let page_sql = format!(
            "select seq, sort_at, body, created_at from sessions where {} \
             order by sort_at desc, seq desc limit {}",
            page_filter.sql(),
            limit + 1
        );
        let rows = page_filter
            .bind_all(sqlx::query(&page_sql))
            .fetch_all(&self.pool)
            .await?;
        let has_more = rows.len() > limit as usize;
        let mut sessions = Vec::with_capacity(rows.len().min(limit as usize));
        let mut next_cursor = None;
        for row in rows.iter().take(limit as usize) {
            sessions.push(stored_session_from_row(row)?);
            next_cursor = Some(SessionCursor {
                sort_at: row.try_get("sort_at")?,
                seq: row.try_get("seq")?,
            });
        }
        Ok(SessionPage {
            sessions,
            next_cursor: if has_more { next_cursor } else { None },
            total: u64::try_from(total).unwrap_or_default(),
        })
    }
}

fn insert_sessions_sql(rows: usize) -> String {
    const COLUMNS: usize = 10;
    let mut sql = String::from(
        "insert into sessions (company_id, external_id, channel, platform, supporter_id, \
         started_at, sort_at, body, created_at, consent) values ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push('(');
        for column in 0..COLUMNS {
            if column > 0 {
                sql.push(',');
            }
            sql.push('$');
            sql.push_str(&(row * COLUMNS + column + 1).to_string());
        }
        sql.push(')');
    }
    sql.push_str(" on conflict (company_id, external_id) do nothing returning external_id");
    sql
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

    #[test]
    fn insert_sql_numbers_every_parameter() {
        let sql = insert_sessions_sql(2);
        assert!(sql.contains("($1,$2,$3,$4,$5,$6,$7,$8,$9,$10),($11,"));
        assert!(sql.ends_with("($11,$12,$13,$14,$15,$16,$17,$18,$19,$20) on conflict (company_id, external_id) do nothing returning external_id"));
    }
}
