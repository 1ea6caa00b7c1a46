//! Webhooks: a company's endpoints and the outbox. An event's deliveries are written by
//! [`enqueue`] inside the transaction of the event itself (a summary stored, edited or
//! deleted, a counted resolution, a threshold alert), so none is lost when Debrief or the
//! receiver is down; the server's deliverer claims due deliveries with a lease and records each
//! attempt.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::sql::{from_micros, micros, new_id, SqlStore};
use crate::{CompanyId, Result, Store, StoreError};

/// The events a webhook can receive.
pub const WEBHOOK_EVENTS: [&str; 6] = [
    "summary.created",
    "summary.updated",
    "summary.deleted",
    "credits.threshold",
    "resolutions.threshold",
    "resolution.counted",
];

/// A registered endpoint (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A delivery claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub company: CompanyId,
    pub url: String,
    pub secret: String,
    pub event: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: DateTime<Utc>,
    pub status: Option<i64>,
    pub error: Option<String>,
}

/// A delivery as listed, with its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<DeliveryAttempt>,
}

/// Webhook endpoints and deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers an endpoint for `events` (names of [`WEBHOOK_EVENTS`]).
    async fn create_webhook(
        &self,
        company: &CompanyId,
        url: &str,
        secret: &str,
        events: &[String],
    ) -> Result<Webhook>;

    /// The company's endpoints, oldest first.
    async fn list_webhooks(&self, company: &CompanyId) -> Result<Vec<Webhook>>;

    /// Removes an endpoint and its pending deliveries.
    async fn delete_webhook(&self, company: &CompanyId, id: &str) -> Result<()>;

    /// An endpoint's deliveries, newest first, with their attempts; an endpoint not in the
    /// company is [`StoreError::NotFound`].
    async fn webhook_deliveries(
        &self,
        company: &CompanyId,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>>;

    /// Claims up to `limit` deliveries due at `now`, for `lease_seconds`: for each endpoint
    /// only its oldest pending delivery, so that an endpoint receives its events in order (a
    /// newer one waits while an older one is retried or in flight).
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<ClaimedDelivery>>;

    /// Records an attempt: delivered, retried at `retry_at`, or given up (neither).
    async fn record_delivery_attempt(
        &self,
        delivery: &ClaimedDelivery,
        at: DateTime<Utc>,
        status: Option<u16>,
        error: Option<&str>,
        delivered: bool,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()>;

    /// Sends a delivery again now, whatever became of it.
    async fn redeliver(&self, company: &CompanyId, delivery_id: i64) -> Result<()>;
}

/// Writes the deliveries of `event` for every endpoint of the company that receives it, on
/// the caller's transaction.
pub(crate) async fn enqueue<'c, E>(
    executor: E,
    company: &CompanyId,
    event: &str,
    data: serde_json::Value,
) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let now = Utc::now();
    let payload = serde_json::json!({
        "event": event,
        "company_id": company.0,
        "occurred_at": now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    });
    sqlx::query(
        "insert into webhook_outbox (company_id, endpoint_id, event, payload, created_at, next_attempt_at) \
         select company_id, id, $2, $3, $4, $4 from webhook_endpoints \
         where company_id = $1 and (' ' || events || ' ') like $5",
    )
    .bind(&company.0)
    .bind(event)
    .bind(payload.to_string())
    .bind(micros(now))
    .bind(format!("% {event} %"))
    .execute(executor)
    .await?;
    Ok(())
}

/// A threshold alert: the table it is kept in, the names of its two figures, and the webhook
/// event it raises.
pub(crate) struct ThresholdAlert {
    pub table: &'static str,
    pub figures: [&'static str; 2],
    pub event: &'static str,
}

/// Records a threshold alert once per (company, period, threshold) and, when new, its webhook
/// deliveries, in one transaction; whether it is new.
pub(crate) async fn record_threshold_alert(
    store: &SqlStore,
    alert: &ThresholdAlert,
    company: &CompanyId,
    period: &str,
    threshold: i64,
    figures: [i64; 2],
) -> Result<bool> {
    let [first, second] = alert.figures;
    let mut transaction = store.pool().begin().await?;
    let inserted = sqlx::query(&format!(
        "insert into {} (company_id, period, threshold, {first}, {second}, created_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict (company_id, period, threshold) do nothing",
        alert.table
    ))
    .bind(&company.0)
    .bind(period)
    .bind(threshold)
    .bind(figures[0])
    .bind(figures[1])
    .bind(micros(Utc::now()))
    .execute(&mut *transaction)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        let mut data = serde_json::json!({"period": period, "threshold": threshold});
        data[first] = figures[0].into();
        data[second] = figures[1].into();
        enqueue(&mut *transaction, company, alert.event, data).await?;
    }
    transaction.commit().await?;
    Ok(inserted)
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_webhook(
        &self,
        company: &CompanyId,
        url: &str,
        secret: &str,
        events: &[String],
    ) -> Result<Webhook> {
        let id = new_id();
        let now = Utc::now();
        sqlx::query(
            "insert into webhook_endpoints (company_id, id, url, secret, events, created_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&company.0)
        .bind(&id)
        .bind(url)
        .bind(secret)
        .bind(events.join(" "))
        .bind(micros(now))
        .execute(self.pool())
        .await?;
        Ok(Webhook {
            id,
            url: url.to_string(),
            events: events.to_vec(),
            created_at: from_micros(micros(now))?,
        })
    }

    async fn list_webhooks(&self, company: &CompanyId) -> Result<Vec<Webhook>> {
        sqlx::query(
            "select id, url, events, created_at from webhook_endpoints where company_id = $1 \
             order by created_at, id",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(Webhook {
                id: row.try_get("id")?,
                url: row.try_get("url")?,
                events: row
                    .try_get::<String, _>("events")?
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                created_at: from_micros(row.try_get("created_at")?)?,
            })
        })
        .collect()
    }

    async fn delete_webhook(&self, company: &CompanyId, id: &str) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        let deleted =
            sqlx::query("delete from webhook_endpoints where company_id = $1 and id = $2")
                .bind(&company.0)
                .bind(id)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "delete from webhook_outbox where company_id = $1 and endpoint_id = $2 and state = 'pending'",
        )
        .bind(&company.0)
        .bind(id)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn webhook_deliveries(
        &self,
        company: &CompanyId,
        webhook_id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        sqlx::query("select id from webhook_endpoints where company_id = $1 and id = $2")
            .bind(&company.0)
            .bind(webhook_id)
            .fetch_one(self.pool())
            .await?;
        let rows = sqlx::query(
            "select id, event, payload, state, created_at, next_attempt_at from webhook_outbox \
             where company_id = $1 and endpoint_id = $2 order by id desc limit $3",
        )
        .bind(&company.0)
        .bind(webhook_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let attempts = sqlx::query(
                "select attempt, at, status, error from webhook_attempts where delivery_id = $1 \
                 order by attempt",
            )
            .bind(id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|attempt| {
                Ok(DeliveryAttempt {
                    attempt: attempt.try_get("attempt")?,
                    at: from_micros(attempt.try_get("at")?)?,
                    status: attempt.try_get("status")?,
                    error: attempt.try_get("error")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            let state: String = row.try_get("state")?;
            let payload: String = row.try_get("payload")?;
            deliveries.push(Delivery {
                id,
                event: row.try_get("event")?,
                payload: serde_json::from_str(&payload)
                    .map_err(|error| StoreError::Corrupt(format!("webhook payload: {error}")))?,
                next_attempt_at: (state == "pending")
                    .then(|| from_micros(row.try_get("next_attempt_at")?))
                    .transpose()?,
                state,
                created_at: from_micros(row.try_get("created_at")?)?,
                attempts,
            });
        }
        Ok(deliveries)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        let now = micros(now);
        let sql = format!(
            "update webhook_outbox set lease_until = $1 where id in (\
             select w.id from webhook_outbox w where w.state = 'pending' and w.next_attempt_at <= $2 \
             and (w.lease_until is null or w.lease_until < $2) \
             and not exists (select 1 from webhook_outbox o where o.company_id = w.company_id \
             and o.endpoint_id = w.endpoint_id and o.state = 'pending' and o.id < w.id) \
             order by w.next_attempt_at, w.id limit $3{}) \
             returning id, company_id, endpoint_id, event, payload, attempts, created_at",
            self.backend().claim_lock()
        );
        let rows = sqlx::query(&sql)
            .bind(now + lease_seconds * 1_000_000)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let company = CompanyId(row.try_get("company_id")?);
            let endpoint_id: String = row.try_get("endpoint_id")?;
            let Some(endpoint) = sqlx::query(
                "select url, secret from webhook_endpoints where company_id = $1 and id = $2",
            )
            .bind(&company.0)
            .bind(&endpoint_id)
            .fetch_optional(self.pool())
            .await?
            else {
                continue;
            };
            claimed.push(ClaimedDelivery {
                id: row.try_get("id")?,
                company,
                url: endpoint.try_get("url")?,
                secret: endpoint.try_get("secret")?,
                event: row.try_get("event")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
                created_at: from_micros(row.try_get("created_at")?)?,
            });
        }
        Ok(claimed)
    }

    async fn record_delivery_attempt(
        &self,
        delivery: &ClaimedDelivery,
        at: DateTime<Utc>,
        status: Option<u16>,
        error: Option<&str>,
        delivered: bool,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let state = match (delivered, retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        let mut transaction = self.pool().begin().await?;
        sqlx::query(
            "insert into webhook_attempts (delivery_id, attempt, at, status, error) \
             values ($1, $2, $3, $4, $5)",
        )
        .bind(delivery.id)
        .bind(delivery.attempts + 1)
        .bind(micros(at))
        .bind(status.map(i64::from))
        .bind(error)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "update webhook_outbox set attempts = attempts + 1, state = $2, next_attempt_at = $3, \
             lease_until = null, last_status = $4, last_error = $5 where id = $1",
        )
        .bind(delivery.id)
        .bind(state)
        .bind(retry_at.map_or(micros(at), micros))
        .bind(status.map(i64::from))
        .bind(error)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn redeliver(&self, company: &CompanyId, delivery_id: i64) -> Result<()> {
        let updated = sqlx::query(
            "update webhook_outbox set state = 'pending', next_attempt_at = $3, lease_until = null, \
             created_at = $3 where company_id = $1 and id = $2",
        )
        .bind(&company.0)
        .bind(delivery_id)
        .bind(micros(Utc::now()))
        .execute(self.pool())
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
