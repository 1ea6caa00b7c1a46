//! A company's billing timeline: the lines of FORMATS.md section 6 that the billing rules of
//! debrief-core replay into statements and the AI agents' status.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::sql::{micros, SqlStore};
use crate::{CompanyId, Result};

/// The billing timeline of each company.
#[async_trait]
pub trait BillingStore: Send + Sync {
    /// Appends a timeline line of type `kind` at `at`. A second `account` line is a
    /// [`crate::StoreError::Conflict`].
    async fn append_billing_event(
        &self,
        company: &CompanyId,
        at: DateTime<Utc>,
        kind: &str,
        line: &str,
    ) -> Result<()>;

    /// The company's timeline lines in the order they were appended.
    async fn billing_events(&self, company: &CompanyId) -> Result<Vec<String>>;
}

#[async_trait]
impl BillingStore for SqlStore {
    async fn append_billing_event(
        &self,
        company: &CompanyId,
        at: DateTime<Utc>,
        kind: &str,
        line: &str,
    ) -> Result<()> {
        sqlx::query(
            "insert into billing_events (company_id, at, kind, line, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&company.0)
        .bind(micros(at))
        .bind(kind)
        .bind(line)
        .bind(micros(Utc::now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn billing_events(&self, company: &CompanyId) -> Result<Vec<String>> {
        sqlx::query("select line from billing_events where company_id = $1 order by seq")
            .bind(&company.0)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| Ok(row.try_get("line")?))
            .collect()
    }
}
