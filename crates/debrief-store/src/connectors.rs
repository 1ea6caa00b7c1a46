//! Connectors (ServiceNow, Salesforce): a company's settings for each, the events each pushes,
//! how each is doing, and the incidents or cases a connector opened. A connector's pushes go
//! through the webhook outbox (`crate::webhooks`): written in the transaction of the summary,
//! edit or deletion they announce, delivered one at a time per connector in the order they
//! were written.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::sql::{from_micros, micros, SqlStore};
use crate::webhooks::{event_payload, Delivery};
use crate::{CompanyId, Result, StoreError};

/// The events a connector can push.
pub const CONNECTOR_EVENTS: [&str; 3] = ["summary.created", "summary.updated", "summary.deleted"];

/// The event of a push asked for by hand (`POST …/summary/push`).
pub const PUSHED_BY_HAND: &str = "summary.pushed";

/// A connector as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredConnector {
    /// `servicenow` or `salesforce`.
    pub kind: String,
    /// Its JSON document, the secret sealed.
    #[serde(skip)]
    pub settings: String,
    /// The events it pushes (names of [`CONNECTOR_EVENTS`]).
    pub events: Vec<String>,
    /// The first failed attempt since the last delivered one.
    pub failing_since: Option<DateTime<Utc>>,
    /// When `connector.failing` was raised for this stretch of failures.
    pub alerted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A company's connectors and their pushes.
#[async_trait]
pub trait ConnectorStore: Send + Sync {
    /// Sets the connector `kind`: its settings (secret sealed) and the events it pushes. A
    /// connector saved again starts with a clean record of failures.
    async fn put_connector(
        &self,
        company: &CompanyId,
        kind: &str,
        settings: &str,
        events: &[String],
    ) -> Result<()>;

    /// The company's connectors, by kind.
    async fn connectors(&self, company: &CompanyId) -> Result<Vec<StoredConnector>>;

    /// The connector `kind`, when set.
    async fn connector(&self, company: &CompanyId, kind: &str) -> Result<Option<StoredConnector>>;

    /// Removes the connector and its pending pushes; [`StoreError::NotFound`] when none is set.
    async fn delete_connector(&self, company: &CompanyId, kind: &str) -> Result<()>;

    /// Writes a push asked for by hand ([`PUSHED_BY_HAND`], `data` as its payload's data) to
    /// the connector's line in the outbox, whatever events it pushes by itself; its id.
    async fn push_by_hand(
        &self,
        company: &CompanyId,
        kind: &str,
        data: serde_json::Value,
    ) -> Result<i64>;

    /// The connector's pushes, newest first, with their attempts.
    async fn connector_deliveries(
        &self,
        company: &CompanyId,
        kind: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>>;

    /// The incident or case the connector opened for the session, when it opened one.
    async fn opened_record(
        &self,
        company: &CompanyId,
        kind: &str,
        session_id: &str,
    ) -> Result<Option<String>>;
}

fn stored_connector(row: &sqlx::any::AnyRow) -> Result<StoredConnector> {
    let optional_time = |column: &str| {
        row.try_get::<Option<i64>, _>(column)?
            .map(from_micros)
            .transpose()
    };
    Ok(StoredConnector {
        kind: row.try_get("kind")?,
        settings: row.try_get("settings")?,
        events: row
            .try_get::<String, _>("events")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        failing_since: optional_time("failing_since")?,
        alerted_at: optional_time("alerted_at")?,
        updated_at: from_micros(row.try_get("updated_at")?)?,
    })
}

const CONNECTOR_COLUMNS: &str = "kind, settings, events, failing_since, alerted_at, updated_at";

#[async_trait]
impl ConnectorStore for SqlStore {
    async fn put_connector(
        &self,
        company: &CompanyId,
        kind: &str,
        settings: &str,
        events: &[String],
    ) -> Result<()> {
        sqlx::query(
            "insert into connectors (company_id, kind, settings, events, updated_at) \
             values ($1, $2, $3, $4, $5) on conflict (company_id, kind) do update set \
             settings = excluded.settings, events = excluded.events, updated_at = excluded.updated_at, \
             failing_since = null, alerted_at = null",
        )
        .bind(&company.0)
        .bind(kind)
        .bind(settings)
        .bind(events.join(" "))
        .bind(micros(Utc::now()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn connectors(&self, company: &CompanyId) -> Result<Vec<StoredConnector>> {
        sqlx::query(&format!(
            "select {CONNECTOR_COLUMNS} from connectors where company_id = $1 order by kind"
        ))
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(stored_connector)
        .collect()
    }

    async fn connector(&self, company: &CompanyId, kind: &str) -> Result<Option<StoredConnector>> {
        sqlx::query(&format!(
            "select {CONNECTOR_COLUMNS} from connectors where company_id = $1 and kind = $2"
        ))
        .bind(&company.0)
        .bind(kind)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(stored_connector)
        .transpose()
    }

    async fn delete_connector(&self, company: &CompanyId, kind: &str) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        let deleted = sqlx::query("delete from connectors where company_id = $1 and kind = $2")
            .bind(&company.0)
            .bind(kind)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "delete from webhook_outbox where company_id = $1 and target = 'connector' \
             and endpoint_id = $2 and state = 'pending'",
        )
        .bind(&company.0)
        .bind(kind)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn push_by_hand(
        &self,
        company: &CompanyId,
        kind: &str,
        data: serde_json::Value,
    ) -> Result<i64> {
        let now = Utc::now();
        let payload = event_payload(company, PUSHED_BY_HAND, now, data);
        sqlx::query(
            "insert into webhook_outbox (company_id, endpoint_id, target, event, payload, created_at, next_attempt_at) \
             select company_id, kind, 'connector', $3, $4, $5, $5 from connectors \
             where company_id = $1 and kind = $2 returning id",
        )
        .bind(&company.0)
        .bind(kind)
        .bind(PUSHED_BY_HAND)
        .bind(payload.to_string())
        .bind(micros(now))
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get("id")
        .map_err(StoreError::from)
    }

    async fn connector_deliveries(
        &self,
        company: &CompanyId,
        kind: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        self.connector(company, kind)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.receiver_deliveries(company, "connector", kind, limit)
            .await
    }

    async fn opened_record(
        &self,
        company: &CompanyId,
        kind: &str,
        session_id: &str,
    ) -> Result<Option<String>> {
        sqlx::query(
            "select record_id from connector_records \
             where company_id = $1 and kind = $2 and session_id = $3",
        )
        .bind(&company.0)
        .bind(kind)
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?
        .map(|row| row.try_get("record_id"))
        .transpose()
        .map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::StoreBefore;
    use crate::testing::{create_test_company, TestDatabase};

    /// The migration that moves connectors out of `company_objects` keeps their settings and
    /// turns no automatic push on: they were pushed by hand before.
    #[tokio::test]
    async fn connectors_set_up_before_the_outbox_keep_their_settings_and_push_nothing_by_themselves(
    ) {
        let database = TestDatabase::sqlite();
        let before = StoreBefore::open(&database.url, 16).await;
        let store = &before.store;
        let company = create_test_company(store, "acme").await.company.id;
        let settings = r#"{"kind":"servicenow","instance_url":"https://acme.service-now.com","username":"debrief","password":"sealed"}"#;
        sqlx::query(
            "insert into company_objects (company_id, kind, id, body, updated_at) \
             values ($1, 'connector', 'servicenow', $2, 1700000000000000)",
        )
        .bind(&company.0)
        .bind(settings)
        .execute(store.pool())
        .await
        .expect("a connector as stored before");
        before.migrate().await;

        let moved = store
            .connector(&company, "servicenow")
            .await
            .expect("read")
            .expect("moved");
        let left: i64 = sqlx::query(
            "select count(*) as left_over from company_objects where kind = 'connector'",
        )
        .fetch_one(store.pool())
        .await
        .expect("count")
        .try_get("left_over")
        .expect("count");
        assert_eq!(
            (moved.settings.as_str(), moved.events.len(), left),
            (settings, 0, 0)
        );
        database.remove().await;
    }
}
