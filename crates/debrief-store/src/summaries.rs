//! Session summaries and their queue. Every stored session starts `pending`; a worker claims
//! pending sessions (leased), writes the summary and marks the session `done` in one
//! transaction, so a session never gets two summaries; failures retry with backoff until
//! they give up (`failed`, with the error).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::sql::{decode_body, micros, SqlStore};
use crate::{CompanyId, Result, Store, StoreError};

/// A session claimed for summarizing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryJob {
    pub seq: i64,
    pub company: CompanyId,
    pub session_id: String,
    /// The session's JSON.
    pub session: String,
    pub attempts: i64,
}

/// Where a session's summary stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryState {
    /// The summary's JSON.
    Ready(String),
    Pending,
    /// Given up, with the last error.
    Failed(String),
}

/// Summaries and their queue.
#[async_trait]
pub trait SummaryStore: Send + Sync {
    /// Claims up to `limit` sessions whose summary is due at `now`, for `lease_seconds`.
    async fn claim_summary_jobs(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<SummaryJob>>;

    /// Stores a claimed session's summary and marks it done, once: false when it already
    /// had one.
    async fn complete_summary_job(
        &self,
        job: &SummaryJob,
        summary: &str,
        engine: &str,
        language: &str,
    ) -> Result<bool>;

    /// Records a failed attempt: retried at `retry_at`, or given up when `None`.
    async fn fail_summary_job(
        &self,
        job: &SummaryJob,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()>;

    /// A session's summary state; another company's session is [`StoreError::NotFound`].
    async fn summary_state(&self, company: &CompanyId, session_id: &str) -> Result<SummaryState>;

    /// The company's own file of a kind, if it set one.
    async fn company_file(&self, company: &CompanyId, kind: CompanyFile) -> Result<Option<String>>;

    /// Sets (`Some`) or removes (`None`) the company's own file of a kind.
    async fn set_company_file(
        &self,
        company: &CompanyId,
        kind: CompanyFile,
        body: Option<&str>,
    ) -> Result<()>;
}

/// The kinds of file a company can set to shape its summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompanyFile {
    /// Its issue-type taxonomy (FORMATS.md section 5), instead of the built-in one.
    Taxonomy,
    /// Its own applications, added to the built-in catalogue.
    Applications,
}

impl CompanyFile {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CompanyFile::Taxonomy => "taxonomy",
            CompanyFile::Applications => "applications",
        }
    }
}

#[async_trait]
impl SummaryStore for SqlStore {
    async fn claim_summary_jobs(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<SummaryJob>> {
        let now = micros(now);
        let sql = format!(
            "update sessions set summary_lease_until = $1 where seq in (\
             select seq from sessions where summary_state = 'pending' and summary_next_at <= $2 \
             and (summary_lease_until is null or summary_lease_until < $2) \
             order by summary_next_at, seq limit $3{}) \
             returning seq, company_id, external_id, body, summary_attempts",
            self.backend().claim_lock()
        );
        sqlx::query(&sql)
            .bind(now + lease_seconds * 1_000_000)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(SummaryJob {
                    seq: row.try_get("seq")?,
                    company: CompanyId(row.try_get("company_id")?),
                    session_id: row.try_get("external_id")?,
                    session: decode_body(row)?,
                    attempts: row.try_get("summary_attempts")?,
                })
            })
            .collect()
    }

    async fn complete_summary_job(
        &self,
        job: &SummaryJob,
        summary: &str,
        engine: &str,
        language: &str,
    ) -> Result<bool> {
        let now = micros(Utc::now());
        let mut transaction = self.pool().begin().await?;
        let inserted = sqlx::query(
            "insert into summaries (company_id, session_id, body, engine, language, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6) on conflict (company_id, session_id) do nothing",
        )
        .bind(&job.company.0)
        .bind(job.session_id.as_str())
        .bind(summary)
        .bind(engine)
        .bind(language)
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "update sessions set summary_state = 'done', summary_lease_until = null, summary_error = null \
             where seq = $1",
        )
        .bind(job.seq)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn fail_summary_job(
        &self,
        job: &SummaryJob,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let state = if retry_at.is_some() {
            "pending"
        } else {
            "failed"
        };
        sqlx::query(
            "update sessions set summary_state = $1, summary_attempts = summary_attempts + 1, \
             summary_next_at = $2, summary_lease_until = null, summary_error = $3 where seq = $4",
        )
        .bind(state)
        .bind(retry_at.map(micros).unwrap_or(0))
        .bind(error)
        .bind(job.seq)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn company_file(&self, company: &CompanyId, kind: CompanyFile) -> Result<Option<String>> {
        Ok(
            sqlx::query("select body from company_files where company_id = $1 and kind = $2")
                .bind(&company.0)
                .bind(kind.as_str())
                .fetch_optional(self.pool())
                .await?
                .map(|row| row.try_get("body"))
                .transpose()?,
        )
    }

    async fn set_company_file(
        &self,
        company: &CompanyId,
        kind: CompanyFile,
        body: Option<&str>,
    ) -> Result<()> {
        match body {
            Some(body) => {
                sqlx::query(
                    "insert into company_files (company_id, kind, body, updated_at) values ($1, $2, $3, $4) \
                     on conflict (company_id, kind) do update set body = excluded.body, updated_at = excluded.updated_at",
                )
                .bind(&company.0)
                .bind(kind.as_str())
                .bind(body)
                .bind(micros(Utc::now()))
                .execute(self.pool())
                .await?;
            }
            None => {
                sqlx::query("delete from company_files where company_id = $1 and kind = $2")
                    .bind(&company.0)
                    .bind(kind.as_str())
                    .execute(self.pool())
                    .await?;
            }
        }
        Ok(())
    }

    async fn summary_state(&self, company: &CompanyId, session_id: &str) -> Result<SummaryState> {
        let row = sqlx::query(
            "select s.summary_state as state, s.summary_error as error, m.body as summary \
             from sessions s left join summaries m \
             on m.company_id = s.company_id and m.session_id = s.external_id \
             where s.company_id = $1 and s.external_id = $2",
        )
        .bind(&company.0)
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        if let Some(summary) = row.try_get::<Option<String>, _>("summary")? {
            return Ok(SummaryState::Ready(summary));
        }
        let state: String = row.try_get("state")?;
        Ok(match state.as_str() {
            "failed" => SummaryState::Failed(
                row.try_get::<Option<String>, _>("error")?
                    .unwrap_or_default(),
            ),
            _ => SummaryState::Pending,
        })
    }
}
