//! Debrief's storage: per-aggregate traits and one SQL implementation that runs on SQLite
//! (the embedded default) and PostgreSQL (scale-out), each with its own migrations.
//!
//! [`connect`] picks the backend from the URL scheme and applies the migrations. Every method
//! that reads or writes tenant data takes the [`CompanyId`] it is scoped to: no query crosses
//! companies.

mod billing;
mod companies;
mod connectors;
mod conversations;
mod credits;
mod error;
mod objects;
mod people;
mod search;
mod sessions;
mod sql;
mod summaries;
pub mod tokens;
mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use debrief_core::access::PermissionSet;
use debrief_core::session::{Channel, Platform};
use debrief_core::tenancy::{LicenseTier, NewCompany};
use debrief_core::{Session, SessionRecord};
use serde::Serialize;

pub use billing::{BillingLine, BillingStore, NewBillingLine, RecordedChange};
pub use connectors::{ConnectorStore, StoredConnector, CONNECTOR_EVENTS, PUSHED_BY_HAND};
pub use conversations::{
    AuditEntry, ClaimedConversation, ConversationState, ConversationStore, ConversationWrite,
    MonthCount, RecordedVerdict, StoredConversation, UsageAlert, VerdictListing, VerdictSummary,
    VerdictWrite,
};
pub use credits::{
    BalancePart, Consumption, CreditAlert, CreditBalance, CreditHistory, CreditSource, CreditStore,
    LedgerEntry, NewGrant,
};
pub use error::{Result, StoreError};
pub use objects::{get_typed, list_typed, put_typed, ObjectKind, ObjectStore, SINGLETON};
pub use people::{CustomRole, NewUser, PeopleStore, SignInCandidate, User, UserChange};
pub use sql::{redact_url, Backend, SqlStore};
pub use summaries::{
    ConsentChange, SummaryJob, SummaryListItem, SummaryListPage, SummaryRange, SummaryRevision,
    SummarySearch, SummaryState, SummaryStore, TagCounts,
};
pub use tokens::TokenSecret;
pub use webhooks::{
    Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryAttempt, DeliveryTarget, Webhook,
    WebhookStore, FAILING_ALERT_AFTER, WEBHOOK_EVENTS,
};

/// A company's internal id (UUIDv7 text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct CompanyId(pub String);

impl fmt::Display for CompanyId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A stored company (tenant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub tier: LicenseTier,
    pub time_zone: String,
    pub term_start: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// Who is calling: the owner of a valid, unrevoked API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub company: Company,
    pub user_id: String,
    /// The token's role (an integration token's own) or else its user's.
    pub role: String,
    pub permissions: PermissionSet,
    pub token_id: String,
}

/// What a token secret is worth at a moment.
#[derive(Debug, Clone)]
pub enum Authentication {
    Valid(Principal),
    /// The token exists but has passed its idle or absolute limit: why.
    Expired(&'static str),
    /// No such token, or it was revoked.
    Unknown,
}

impl Authentication {
    /// Who a valid token acts as; `None` for an expired or unknown one.
    pub fn principal(self) -> Option<Principal> {
        match self {
            Authentication::Valid(principal) => Some(principal),
            Authentication::Expired(_) | Authentication::Unknown => None,
        }
    }
}

/// A token to issue.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    /// The user it acts as.
    pub user_id: &'a str,
    pub label: &'a str,
    /// An integration token's own role (it acts with that role's permissions).
    pub role: Option<&'a str>,
    /// The user who made it: it never acts with more than their permissions.
    pub created_by: &'a str,
    /// Its idle and absolute limits; `None` for a token that lasts until revoked.
    pub lifetime: Option<TokenLifetime>,
}

/// How long a token works: unused for `idle_seconds`, or `max_seconds` after it was made, it
/// stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetime {
    pub idle_seconds: i64,
    pub max_seconds: i64,
}

/// An API token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub user_id: String,
    pub label: String,
    /// An integration token's own role; `None` when it acts as its user.
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it stops working whatever its use; `None`: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A freshly created token: the only moment its secret is known.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub info: TokenInfo,
    pub secret: TokenSecret,
}

/// A new company with its first admin user and that admin's token.
#[derive(Debug, Clone)]
pub struct CreatedCompany {
    pub company: Company,
    pub admin_user_id: String,
    pub admin_token: IssuedToken,
}

/// What happened to one session handed to [`SessionStore::insert_sessions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsertOutcome {
    /// Newly stored.
    Stored,
    /// The company already had a session with this id (or an earlier one in the same batch):
    /// nothing was changed.
    Duplicate,
}

/// A session as stored, with when it was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredSession {
    #[serde(flatten)]
    pub session: Session,
    pub received_at: DateTime<Utc>,
}

/// Position in the session list, newest first. Opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    sort_at: i64,
    seq: i64,
}

impl SessionCursor {
    /// The cursor as the text handed to clients.
    pub fn encode(&self) -> String {
        format!("{:x}.{:x}", self.sort_at as u64, self.seq as u64)
    }

    /// Reads a cursor produced by [`SessionCursor::encode`].
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = || StoreError::Invalid(format!("{text:?} is not a session cursor"));
        let (sort_at, seq) = text.split_once('.').ok_or_else(invalid)?;
        Ok(SessionCursor {
            sort_at: u64::from_str_radix(sort_at, 16).map_err(|_| invalid())? as i64,
            seq: u64::from_str_radix(seq, 16).map_err(|_| invalid())? as i64,
        })
    }
}

/// Filters and page of a session listing. The time range applies to the session's start
/// (or, for a session without `started_at`, to when it was received); `to` is exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub supporter_id: Option<String>,
    pub channel: Option<Channel>,
    pub platform: Option<Platform>,
    /// Only the sessions skipped for this reason (as the summary worker stored it).
    pub skip_reason: Option<String>,
    pub cursor: Option<SessionCursor>,
    /// Page size, 1 to [`MAX_PAGE_SIZE`].
    pub limit: u32,
}

/// Largest page a listing returns.
pub const MAX_PAGE_SIZE: u32 = 500;

/// One page of sessions, newest first, with the number of sessions matching the filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPage {
    pub sessions: Vec<StoredSession>,
    pub next_cursor: Option<SessionCursor>,
    pub total: u64,
}

/// Companies, their users and API tokens.
#[async_trait]
pub trait CompanyStore: Send + Sync {
    /// Creates a company, its admin user and that admin's first API token, atomically.
    /// A company of the same name is a [`StoreError::Conflict`].
    async fn create_company(
        &self,
        company: &NewCompany,
        admin_name: &str,
    ) -> Result<CreatedCompany> {
        self.create_company_at(company, admin_name, chrono::Utc::now())
            .await
    }

    /// [`CompanyStore::create_company`] as if at `created_at` (a company with a history, for
    /// benchmarks and imports of an existing account).
    async fn create_company_at(
        &self,
        company: &NewCompany,
        admin_name: &str,
        created_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<CreatedCompany>;

    /// Finds a company by its unique name.
    async fn company_by_name(&self, name: &str) -> Result<Company>;

    /// One company by its id.
    async fn company(&self, id: &CompanyId) -> Result<Company>;

    /// Every company, by name.
    async fn companies(&self) -> Result<Vec<Company>>;

    /// The company's first admin user.
    async fn admin_user_id(&self, company: &CompanyId) -> Result<String>;

    /// Who this token secret acts as at `now`: its permissions are its role's (an integration
    /// token's own, else its user's) and never more than its creator's. A use counts for the
    /// idle limit.
    async fn authenticate(&self, secret: &str, now: DateTime<Utc>) -> Result<Authentication>;

    /// Issues a new API token for a user of the company at `now`.
    async fn create_token(
        &self,
        company: &CompanyId,
        token: &NewToken<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken>;

    /// The company's tokens, newest first.
    async fn list_tokens(&self, company: &CompanyId) -> Result<Vec<TokenInfo>>;

    /// Revokes one of the company's tokens; another company's token is [`StoreError::NotFound`].
    async fn revoke_token(&self, company: &CompanyId, token_id: &str) -> Result<()>;
}

/// Ingested sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a batch of sessions in one transaction, idempotent on (company, id). The result
    /// has one outcome per input, in input order.
    async fn insert_sessions(
        &self,
        company: &CompanyId,
        sessions: &[SessionRecord],
    ) -> Result<Vec<InsertOutcome>>;

    /// One session by its external id.
    async fn get_session(&self, company: &CompanyId, id: &str) -> Result<StoredSession>;

    /// A page of the company's sessions, newest first.
    async fn list_sessions(&self, company: &CompanyId, query: &SessionQuery)
        -> Result<SessionPage>;
}

/// Work waiting for the background workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepths {
    /// Sessions whose summary (or skip) is still to be decided.
    pub pending_summaries: i64,
    /// Conversations that have become decidable and wait for a verdict.
    pub due_conversations: i64,
    /// Webhook deliveries not yet delivered or given up.
    pub webhook_outbox: i64,
}

/// Everything the server and the CLI need from storage.
#[async_trait]
pub trait Store:
    CompanyStore
    + SessionStore
    + ConversationStore
    + BillingStore
    + SummaryStore
    + ObjectStore
    + PeopleStore
    + CreditStore
    + WebhookStore
    + ConnectorStore
{
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<()>;

    /// How much background work waits at `now`, over every company (counts only: the
    /// operator's metrics, never shown to a tenant).
    async fn queue_depths(&self, now: DateTime<Utc>) -> Result<QueueDepths>;

    /// Readies the database for reading after a bulk load: SQLite folds its write-ahead log
    /// into the database file and refreshes the planner's statistics; PostgreSQL vacuums and
    /// analyzes.
    async fn settle(&self) -> Result<()>;
}

/// Opens the store named by `url` (`sqlite://…` or `postgres://…`) and applies its migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::connect(url).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let cursor = SessionCursor {
            sort_at: 1_763_000_000_000_000,
            seq: 42,
        };
        assert_eq!(SessionCursor::parse(&cursor.encode()).ok(), Some(cursor));
        assert!(SessionCursor::parse("nope").is_err());
        assert!(SessionCursor::parse("zz.1").is_err());
        let before_1970 = SessionCursor {
            sort_at: -5,
            seq: 1,
        };
        assert_eq!(
            SessionCursor::parse(&before_1970.encode()).ok(),
            Some(before_1970)
        );
    }
}
