//! The outbox deliverer: sends what the outbox holds — webhook events, signed, and connector
//! pushes (`crate::connectors`) — and retries with exponential backoff for 24 hours.
//!
//! Each webhook delivery is a `POST` of the event's JSON with these headers:
//! - `Debrief-Event`: the event name (`summary.created`, …);
//! - `Debrief-Delivery`: the delivery's id (the same on every retry: receivers deduplicate on it);
//! - `Debrief-Signature: t=UNIX_SECONDS,v1=HEX` where `HEX` is the HMAC-SHA256, keyed by the
//!   endpoint's secret, of `UNIX_SECONDS`, a `.`, and the body's bytes. A receiver recomputes it
//!   and rejects old timestamps to stop replays.
//!
//! Receivers (endpoints and connectors) are served side by side (up to 32 deliveries in flight,
//! each with its own timeout), so a slow receiver delays only its own deliveries; each
//! receiver's deliveries go one at a time, in the order they were written.
//!
//! A 2xx answer is delivered; anything else (or no answer within 10 s) is retried after 1, 2, 4 …
//! minutes (at most an hour apart) until 24 hours after the event, then given up — except a
//! connector's refusal that cannot change (a 4xx other than 408, 409, 425, 429), given up at
//! once. Every attempt is recorded, with the remote status and answer, and listed by the API; a
//! delivery can be sent again by hand.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use debrief_store::{Attempt, AttemptResult, ClaimedDelivery, DeliveryTarget, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::connectors::{send_push, SendOutcome, Sent};
use crate::metrics::{JobOutcome, Metrics};
use crate::outbound::Reach;
use crate::secrets::SecretBox;
use crate::{WorkflowError, WorkflowResult};

/// Deliveries claimed per round.
const CLAIM_BATCH: u32 = 50;

/// Deliveries one receiver's task sends in a row within a round.
const DRAIN_PER_ROUND: usize = 100;

/// Deliveries sent at the same time (each to a different endpoint).
const MAX_IN_FLIGHT: usize = 32;

/// How long a claim holds.
const LEASE_SECONDS: i64 = 60;

/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How long after its event a delivery is still tried.
const RETRY_WINDOW_HOURS: i64 = 24;

/// Longest wait between two attempts, in minutes.
const MAX_BACKOFF_MINUTES: i64 = 60;

/// `t=…,v1=…` for `body` sent at `timestamp` with `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// When to try again after `attempts` failed attempts of a delivery made at `created_at`;
/// `None` once 24 hours have passed.
pub fn retry_at(
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    attempts: i64,
) -> Option<DateTime<Utc>> {
    let wait = 2_i64
        .checked_pow(attempts.clamp(0, 30) as u32)
        .unwrap_or(i64::MAX)
        .min(MAX_BACKOFF_MINUTES);
    let next = now + TimeDelta::minutes(wait);
    (next <= created_at + TimeDelta::hours(RETRY_WINDOW_HOURS)).then_some(next)
}

/// Sends the outbox's due deliveries.
#[derive(Clone)]
pub struct Deliverer {
    pub store: std::sync::Arc<dyn Store>,
    pub client: reqwest::Client,
    /// Where deliveries are counted.
    pub metrics: std::sync::Arc<Metrics>,
    /// Opens connectors' credentials; `None` when the server has no `secret_key`.
    pub secrets: Option<SecretBox>,
    /// What the receivers' addresses may be.
    pub reach: Reach,
    /// Deliveries being sent now, across endpoints.
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Deliverer {
    /// A deliverer with its own HTTP client, which reaches only what `reach` allows and follows
    /// no redirects (`crate::outbound`).
    pub fn new(
        store: std::sync::Arc<dyn Store>,
        metrics: std::sync::Arc<Metrics>,
        secrets: Option<SecretBox>,
        reach: Reach,
    ) -> WorkflowResult<Deliverer> {
        Ok(Deliverer {
            store,
            client: crate::outbound::client(TIMEOUT, reach)
                .map_err(|error| WorkflowError::Internal(format!("HTTP client: {error}")))?,
            metrics,
            secrets,
            reach,
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// Posts a webhook event, signed with the endpoint's secret.
    async fn send_webhook(
        &self,
        delivery: &ClaimedDelivery,
        url: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Sent {
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("debrief-event", &delivery.event)
            .header("debrief-delivery", delivery.id.to_string())
            .header(
                "debrief-signature",
                signature(secret, now.timestamp(), &delivery.payload),
            )
            .body(delivery.payload.clone())
            .send()
            .await;
        let (status, error) = match response {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                Some(format!("the receiver answered {}", response.status())),
            ),
            Err(error) => (None, Some(error.to_string())),
        };
        Sent {
            status,
            answer: None,
            outcome: if error.is_none() {
                SendOutcome::Delivered
            } else {
                SendOutcome::Failed { permanent: false }
            },
            error,
            opened: None,
        }
    }

    /// Sends what is due at `now`, each receiver's deliveries in order, until nothing more is
    /// due, and waits for the answers; the deliveries attempted.
    pub async fn run_once(&self, now: DateTime<Utc>) -> WorkflowResult<usize> {
        let mut attempted = 0;
        loop {
            let sending = self.start_due(now).await?;
            if sending.is_empty() {
                return Ok(attempted);
            }
            for receiver in sending {
                // A delivery task that died left its claim: the lease runs out and it is sent
                // again.
                attempted += receiver.await.unwrap_or(1);
            }
        }
    }

    /// Claims what is due at `now` (at most as many as may be in flight) and starts serving
    /// each receiver in a task of its own, each request bounded by its own timeout. The claim
    /// holds at most one delivery per receiver (its oldest pending), so receivers never wait
    /// for each other and each receiver's deliveries stay in order; once one is delivered the
    /// task claims that receiver's next due one, up to [`DRAIN_PER_ROUND`], so a backlog after an
    /// outage drains at the receiver's pace rather than one delivery per round.
    async fn start_due(
        &self,
        now: DateTime<Utc>,
    ) -> WorkflowResult<Vec<tokio::task::JoinHandle<usize>>> {
        let free = self.in_flight.available_permits().min(CLAIM_BATCH as usize);
        if free == 0 {
            return Ok(Vec::new());
        }
        let due = self
            .store
            .claim_deliveries(now, free as u32, LEASE_SECONDS)
            .await?;
        let mut sending = Vec::with_capacity(due.len());
        for delivery in due {
            let permit = std::sync::Arc::clone(&self.in_flight)
                .acquire_owned()
                .await
                .map_err(|error| WorkflowError::Internal(error.to_string()))?;
            let this = self.clone();
            sending.push(tokio::spawn(async move {
                let mut attempted = 0;
                let mut next = Some(delivery);
                while let Some(delivery) = next.take() {
                    attempted += 1;
                    if this.deliver_counted(&delivery, now).await && attempted < DRAIN_PER_ROUND {
                        next = this
                            .store
                            .claim_next(&delivery, now, LEASE_SECONDS)
                            .await
                            .unwrap_or_else(|error| {
                                tracing::warn!(tenant.id = %delivery.company, error = %error, "claiming a receiver's next delivery failed");
                                None
                            });
                    }
                }
                drop(permit);
                attempted
            }));
        }
        Ok(sending)
    }

    /// Sends the delivery `id` of `company` now if it is due and first in its receiver's line
    /// (a push asked for by hand), and records the attempt; whether it was attempted.
    pub async fn deliver_now(
        &self,
        company: &debrief_store::CompanyId,
        id: i64,
        now: DateTime<Utc>,
    ) -> WorkflowResult<bool> {
        let Some(delivery) = self
            .store
            .claim_delivery(company, id, now, LEASE_SECONDS)
            .await?
        else {
            return Ok(false);
        };
        self.deliver_counted(&delivery, now).await;
        Ok(true)
    }

    /// [`Deliverer::deliver`], counted in the metrics; whether it was delivered (a failure to
    /// record the attempt is logged: the lease runs out and the delivery is sent again).
    async fn deliver_counted(&self, delivery: &ClaimedDelivery, now: DateTime<Utc>) -> bool {
        let delivered = match self.deliver(delivery, now).await {
            Ok(delivered) => delivered,
            Err(error) => {
                tracing::warn!(tenant.id = %delivery.company, delivery = delivery.id, error = %error, "recording a delivery attempt failed");
                false
            }
        };
        self.metrics.job(
            "webhooks",
            if delivered {
                JobOutcome::Done
            } else {
                JobOutcome::Failed
            },
        );
        delivered
    }

    /// Sends one claimed delivery and records the attempt; whether it was delivered.
    async fn deliver(
        &self,
        delivery: &ClaimedDelivery,
        now: DateTime<Utc>,
    ) -> WorkflowResult<bool> {
        let sent = match &delivery.target {
            DeliveryTarget::Webhook { url, secret } => {
                self.send_webhook(delivery, url, secret, now).await
            }
            DeliveryTarget::Connector { settings, .. } => {
                send_push(
                    self.store.as_ref(),
                    self.secrets.as_ref(),
                    &self.client,
                    &delivery.company,
                    settings,
                    &delivery.payload,
                )
                .await
            }
        };
        let result = match sent.outcome {
            SendOutcome::Delivered => AttemptResult::Delivered,
            SendOutcome::Skipped => AttemptResult::Skipped,
            SendOutcome::Failed { permanent: true } => AttemptResult::GaveUp,
            SendOutcome::Failed { permanent: false } => {
                retry_at(delivery.created_at, now, delivery.attempts)
                    .map_or(AttemptResult::GaveUp, AttemptResult::RetryAt)
            }
        };
        match (&sent.error, sent.outcome) {
            (Some(why), SendOutcome::Skipped) => {
                tracing::info!(tenant.id = %delivery.company, delivery = delivery.id, event = %delivery.event, reason = %why, "delivery skipped");
            }
            (Some(error), _) => {
                tracing::warn!(tenant.id = %delivery.company, delivery = delivery.id, event = %delivery.event, error = %error, "delivery failed");
            }
            (None, _) => {}
        }
        let attempt = Attempt {
            at: now,
            status: sent.status,
            answer: sent.answer.as_deref(),
            error: sent.error.as_deref(),
            result,
            opened: sent
                .opened
                .as_ref()
                .map(|(session, record)| (session.as_str(), record.as_str())),
        };
        self.store
            .record_delivery_attempt(delivery, &attempt)
            .await?;
        Ok(result == AttemptResult::Delivered)
    }

    /// Every `interval` until `shutdown` changes, starts sending what is due without waiting
    /// for slow receivers.
    pub async fn run(self, interval: Duration, shutdown: tokio::sync::watch::Receiver<bool>) {
        let metrics = std::sync::Arc::clone(&self.metrics);
        crate::worker::every("webhooks", interval, shutdown, metrics, move |now| {
            let this = self.clone();
            async move { this.start_due(now).await.map(drop) }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let signed = signature("s3cret", 1_700_000_000, r#"{"a":1}"#);
        assert!(signed.starts_with("t=1700000000,v1="));
        assert_eq!(signed.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(signed, signature("s3cret", 1_700_000_001, r#"{"a":1}"#));
        assert_ne!(signed, signature("other", 1_700_000_000, r#"{"a":1}"#));
        assert_eq!(signed, signature("s3cret", 1_700_000_000, r#"{"a":1}"#));
    }

    #[test]
    fn retries_back_off_and_stop_after_a_day() {
        let start = Utc::now();
        assert_eq!(
            retry_at(start, start, 0),
            Some(start + TimeDelta::minutes(1))
        );
        assert_eq!(
            retry_at(start, start, 3),
            Some(start + TimeDelta::minutes(8))
        );
        assert_eq!(
            retry_at(start, start, 20),
            Some(start + TimeDelta::minutes(60))
        );
        assert_eq!(retry_at(start, start + TimeDelta::hours(24), 5), None);
    }
}
