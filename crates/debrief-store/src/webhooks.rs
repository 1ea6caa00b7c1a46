//! Webhooks: a company's endpoints, and the outbox they share with the connectors' pushes
//! (`crate::connectors`). An event's deliveries are written by [`enqueue`] inside the
//! transaction of the event itself (a summary stored, edited or deleted, a counted resolution,
//! a threshold alert, a connector failing), so none is lost when Debrief or the receiver is
//! down; the server's deliverer claims due deliveries with a lease — each receiver's oldest
//! pending one — and records each attempt.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::sql::{from_micros, micros, new_id, SqlStore};
use crate::{CompanyId, Result, Store, StoreError};

/// The events a webhook can receive.
pub const WEBHOOK_EVENTS: [&str; 7] = [
    "summary.created",
    "summary.updated",
    "summary.deleted",
    "credits.threshold",
    "resolutions.threshold",
    "resolution.counted",
    "connector.failing",
];

/// A registered endpoint (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// Where a claimed delivery goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryTarget {
    /// A webhook endpoint: its URL and signing secret.
    Webhook { url: String, secret: String },
    /// A connector: its kind and its stored settings (the secret sealed).
    Connector { kind: String, settings: String },
}

impl DeliveryTarget {
    /// `webhook` or `connector`, as the outbox names it.
    fn kind(&self) -> &'static str {
        match self {
            DeliveryTarget::Webhook { .. } => "webhook",
            DeliveryTarget::Connector { .. } => "connector",
        }
    }
}

/// A delivery claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub company: CompanyId,
    pub target: DeliveryTarget,
    /// The receiver's id: the endpoint's, or the connector's kind.
    pub receiver: String,
    pub event: String,
    pub payload: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver took it.
    Delivered,
    /// It failed and is tried again at this time.
    RetryAt(DateTime<Utc>),
    /// It failed for good: the retry window passed, or the receiver refused in a way that will
    /// not change.
    GaveUp,
    /// Nothing was sent, for a reason that will not change (a connector with no ticket to
    /// write into).
    Skipped,
}

impl AttemptResult {
    /// The delivery's state after the attempt.
    fn state(self) -> &'static str {
        match self {
            AttemptResult::Delivered => "delivered",
            AttemptResult::RetryAt(_) => "pending",
            AttemptResult::GaveUp => "failed",
            AttemptResult::Skipped => "skipped",
        }
    }
}

/// One attempt at a delivery, as the deliverer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt<'a> {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// The receiver's answer, cut short.
    pub answer: Option<&'a str>,
    /// What went wrong, or why nothing was sent.
    pub error: Option<&'a str>,
    pub result: AttemptResult,
    /// The incident or case a connector opened for the delivery's session: (session id,
    /// record id), recorded with the attempt so that later pushes go to the same one.
    pub opened: Option<(&'a str, &'a str)>,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: DateTime<Utc>,
    pub status: Option<i64>,
    /// The receiver's answer, cut short (connectors).
    pub answer: Option<String>,
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

    /// Claims the delivery `id` of `company` when it is due at `now` and first in its
    /// receiver's line, as [`WebhookStore::claim_deliveries`] would take it; `None` otherwise.
    async fn claim_delivery(
        &self,
        company: &CompanyId,
        id: i64,
        now: DateTime<Utc>,
        lease_seconds: i64,
    ) -> Result<Option<ClaimedDelivery>>;

    /// Claims the next delivery in `after`'s receiver's line (the same company's endpoint or
    /// connector) when it is due at `now` and first in line: what follows `after` once its
    /// attempt is recorded.
    async fn claim_next(
        &self,
        after: &ClaimedDelivery,
        now: DateTime<Utc>,
        lease_seconds: i64,
    ) -> Result<Option<ClaimedDelivery>>;

    /// Records an attempt and what became of the delivery. For a connector it also records
    /// how the connector is doing: a delivered push ends a stretch of failures, a failed one
    /// starts one, and the first failure an hour or more into a stretch raises
    /// `connector.failing` (once per stretch) in the same transaction.
    async fn record_delivery_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &Attempt<'_>,
    ) -> Result<()>;

    /// One delivery of the company, with its attempts.
    async fn delivery(&self, company: &CompanyId, id: i64) -> Result<Delivery>;

    /// Sends a delivery again now, whatever became of it: one of the company's deliveries to
    /// `target` (`webhook` or `connector`) and, when given, to that receiver (an endpoint's id,
    /// a connector's kind); another is [`StoreError::NotFound`].
    async fn redeliver(
        &self,
        company: &CompanyId,
        delivery_id: i64,
        target: &str,
        receiver: Option<&str>,
    ) -> Result<()>;
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
    let payload = event_payload(company, event, now, data);
    sqlx::query(
        "insert into webhook_outbox (company_id, endpoint_id, target, event, payload, created_at, next_attempt_at) \
         select company_id, id, 'webhook', $2, $3, $4, $4 from webhook_endpoints \
         where company_id = $1 and (' ' || events || ' ') like $5 \
         union all \
         select company_id, kind, 'connector', $2, $3, $4, $4 from connectors \
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

/// The payload of an event as the outbox keeps it.
pub(crate) fn event_payload(
    company: &CompanyId,
    event: &str,
    at: DateTime<Utc>,
    data: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "event": event,
        "company_id": company.0,
        "occurred_at": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": data,
    })
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
        self.receiver_deliveries(company, "webhook", webhook_id, limit)
            .await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        self.claim("", &[], now, lease_seconds, i64::from(limit))
            .await
    }

    async fn claim_delivery(
        &self,
        company: &CompanyId,
        id: i64,
        now: DateTime<Utc>,
        lease_seconds: i64,
    ) -> Result<Option<ClaimedDelivery>> {
        let narrow = [ClaimKey::Text(&company.0), ClaimKey::Number(id)];
        let extra = "and w.company_id = $4 and w.id = $5";
        Ok(self
            .claim(extra, &narrow, now, lease_seconds, 1)
            .await?
            .pop())
    }

    async fn claim_next(
        &self,
        after: &ClaimedDelivery,
        now: DateTime<Utc>,
        lease_seconds: i64,
    ) -> Result<Option<ClaimedDelivery>> {
        let narrow = [
            ClaimKey::Text(&after.company.0),
            ClaimKey::Text(after.target.kind()),
            ClaimKey::Text(&after.receiver),
        ];
        let extra = "and w.company_id = $4 and w.target = $5 and w.endpoint_id = $6";
        Ok(self
            .claim(extra, &narrow, now, lease_seconds, 1)
            .await?
            .pop())
    }

    async fn record_delivery_attempt(
        &self,
        delivery: &ClaimedDelivery,
        attempt: &Attempt<'_>,
    ) -> Result<()> {
        let at = micros(attempt.at);
        let mut transaction = self.pool().begin().await?;
        sqlx::query(
            "insert into webhook_attempts (delivery_id, attempt, at, status, error, body) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(delivery.id)
        .bind(delivery.attempts + 1)
        .bind(at)
        .bind(attempt.status.map(i64::from))
        .bind(attempt.error)
        .bind(attempt.answer)
        .execute(&mut *transaction)
        .await?;
        let next_attempt_at = match attempt.result {
            AttemptResult::RetryAt(retry_at) => micros(retry_at),
            _ => at,
        };
        sqlx::query(
            "update webhook_outbox set attempts = attempts + 1, state = $2, next_attempt_at = $3, \
             lease_until = null, last_status = $4, last_error = $5 where id = $1",
        )
        .bind(delivery.id)
        .bind(attempt.result.state())
        .bind(next_attempt_at)
        .bind(attempt.status.map(i64::from))
        .bind(attempt.error)
        .execute(&mut *transaction)
        .await?;
        if let DeliveryTarget::Connector { kind, .. } = &delivery.target {
            record_connector_health(&mut transaction, &delivery.company, kind, attempt).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn delivery(&self, company: &CompanyId, id: i64) -> Result<Delivery> {
        let rows = sqlx::query(&format!(
            "select {DELIVERY_COLUMNS} from webhook_outbox where company_id = $1 and id = $2"
        ))
        .bind(&company.0)
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        self.with_attempts(&rows)
            .await?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    async fn redeliver(
        &self,
        company: &CompanyId,
        delivery_id: i64,
        target: &str,
        receiver: Option<&str>,
    ) -> Result<()> {
        let updated = sqlx::query(
            "update webhook_outbox set state = 'pending', next_attempt_at = $3, lease_until = null, \
             created_at = $3 where company_id = $1 and id = $2 and target = $4 \
             and ($5 = '' or endpoint_id = $5)",
        )
        .bind(&company.0)
        .bind(delivery_id)
        .bind(micros(Utc::now()))
        .bind(target)
        .bind(receiver.unwrap_or_default())
        .execute(self.pool())
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

/// How long a connector fails before `connector.failing` is raised.
pub const FAILING_ALERT_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Records on the attempt's transaction what it says about the connector: a delivered push
/// ends a stretch of failures; a failed one (given up or to be retried) starts one, and the
/// first failure [`FAILING_ALERT_AFTER`] or more into it raises `connector.failing` once; an
/// opened incident or case is kept for the session. A skipped push says nothing either way.
async fn record_connector_health(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    company: &CompanyId,
    kind: &str,
    attempt: &Attempt<'_>,
) -> Result<()> {
    let at = micros(attempt.at);
    if let Some((session_id, record_id)) = attempt.opened {
        sqlx::query(
            "insert into connector_records (company_id, kind, session_id, record_id, created_at) \
             values ($1, $2, $3, $4, $5) on conflict (company_id, kind, session_id) do nothing",
        )
        .bind(&company.0)
        .bind(kind)
        .bind(session_id)
        .bind(record_id)
        .bind(at)
        .execute(&mut **transaction)
        .await?;
    }
    match attempt.result {
        AttemptResult::Skipped => {}
        AttemptResult::Delivered => {
            sqlx::query(
                "update connectors set failing_since = null, alerted_at = null \
                 where company_id = $1 and kind = $2",
            )
            .bind(&company.0)
            .bind(kind)
            .execute(&mut **transaction)
            .await?;
        }
        AttemptResult::RetryAt(_) | AttemptResult::GaveUp => {
            let alert = sqlx::query(
                "update connectors set failing_since = coalesce(failing_since, $3), \
                 alerted_at = case when alerted_at is null and coalesce(failing_since, $3) <= $4 \
                 then $3 else alerted_at end \
                 where company_id = $1 and kind = $2 \
                 returning failing_since, alerted_at",
            )
            .bind(&company.0)
            .bind(kind)
            .bind(at)
            .bind(micros(attempt.at - FAILING_ALERT_AFTER))
            .fetch_optional(&mut **transaction)
            .await?;
            let raised = alert
                .as_ref()
                .map(|row| {
                    Ok::<_, StoreError>((
                        row.try_get::<Option<i64>, _>("failing_since")?,
                        row.try_get::<Option<i64>, _>("alerted_at")? == Some(at),
                    ))
                })
                .transpose()?;
            if let Some((Some(failing_since), true)) = raised {
                enqueue(
                    &mut **transaction,
                    company,
                    "connector.failing",
                    serde_json::json!({
                        "connector": kind,
                        "failing_since": from_micros(failing_since)?
                            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                        "last_status": attempt.status,
                        "last_error": attempt.error,
                    }),
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// A value that narrows a claim.
enum ClaimKey<'a> {
    Text(&'a str),
    Number(i64),
}

/// The columns [`SqlStore::with_attempts`] reads.
const DELIVERY_COLUMNS: &str = "id, event, payload, state, created_at, next_attempt_at";

impl SqlStore {
    /// Claims up to `limit` due deliveries, for each receiver only its oldest pending one;
    /// `extra` narrows the choice with `narrow` bound from `$4` on.
    async fn claim(
        &self,
        extra: &str,
        narrow: &[ClaimKey<'_>],
        now: DateTime<Utc>,
        lease_seconds: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedDelivery>> {
        let sql = self.claim_sql(extra);
        let mut query = sqlx::query(&sql)
            .bind(micros(now) + lease_seconds * 1_000_000)
            .bind(micros(now))
            .bind(limit);
        for key in narrow {
            query = match key {
                ClaimKey::Text(text) => query.bind(*text),
                ClaimKey::Number(number) => query.bind(*number),
            };
        }
        let rows = query.fetch_all(self.pool()).await?;
        self.claimed(&rows).await
    }

    /// The claim of due deliveries, `extra` narrowing it: for each receiver only its oldest
    /// pending delivery. `$1` the lease's end, `$2` now, `$3` the limit.
    fn claim_sql(&self, extra: &str) -> String {
        format!(
            "update webhook_outbox set lease_until = $1 where id in (\
             select w.id from webhook_outbox w where w.state = 'pending' and w.next_attempt_at <= $2 \
             and (w.lease_until is null or w.lease_until < $2) {extra} \
             and not exists (select 1 from webhook_outbox o where o.company_id = w.company_id \
             and o.target = w.target and o.endpoint_id = w.endpoint_id and o.state = 'pending' \
             and o.id < w.id) \
             order by w.next_attempt_at, w.id limit $3{}) \
             returning id, company_id, target, endpoint_id, event, payload, attempts, created_at",
            self.backend().claim_lock()
        )
    }

    /// Claimed outbox rows with where each goes; a row whose receiver was removed meanwhile is
    /// left out.
    async fn claimed(&self, rows: &[sqlx::any::AnyRow]) -> Result<Vec<ClaimedDelivery>> {
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let company = CompanyId(row.try_get("company_id")?);
            let endpoint_id: String = row.try_get("endpoint_id")?;
            let target = match row.try_get::<String, _>("target")?.as_str() {
                "connector" => sqlx::query(
                    "select settings from connectors where company_id = $1 and kind = $2",
                )
                .bind(&company.0)
                .bind(&endpoint_id)
                .fetch_optional(self.pool())
                .await?
                .map(|connector| {
                    Ok::<_, StoreError>(DeliveryTarget::Connector {
                        kind: endpoint_id.clone(),
                        settings: connector.try_get("settings")?,
                    })
                })
                .transpose()?,
                _ => sqlx::query(
                    "select url, secret from webhook_endpoints where company_id = $1 and id = $2",
                )
                .bind(&company.0)
                .bind(&endpoint_id)
                .fetch_optional(self.pool())
                .await?
                .map(|endpoint| {
                    Ok::<_, StoreError>(DeliveryTarget::Webhook {
                        url: endpoint.try_get("url")?,
                        secret: endpoint.try_get("secret")?,
                    })
                })
                .transpose()?,
            };
            let Some(target) = target else {
                continue;
            };
            claimed.push(ClaimedDelivery {
                id: row.try_get("id")?,
                company,
                target,
                receiver: endpoint_id,
                event: row.try_get("event")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
                created_at: from_micros(row.try_get("created_at")?)?,
            });
        }
        Ok(claimed)
    }

    /// A receiver's deliveries (`target` `webhook` or `connector`), newest first.
    pub(crate) async fn receiver_deliveries(
        &self,
        company: &CompanyId,
        target: &str,
        endpoint_id: &str,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(&format!(
            "select {DELIVERY_COLUMNS} from webhook_outbox \
             where company_id = $1 and target = $2 and endpoint_id = $3 order by id desc limit $4"
        ))
        .bind(&company.0)
        .bind(target)
        .bind(endpoint_id)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        self.with_attempts(&rows).await
    }

    /// Outbox rows (of [`DELIVERY_COLUMNS`]) with their attempts.
    async fn with_attempts(&self, rows: &[sqlx::any::AnyRow]) -> Result<Vec<Delivery>> {
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let attempts = sqlx::query(
                "select attempt, at, status, error, body from webhook_attempts \
                 where delivery_id = $1 order by attempt",
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
                    answer: attempt.try_get("body")?,
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
}
