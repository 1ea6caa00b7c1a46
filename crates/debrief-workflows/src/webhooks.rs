//! The webhook deliverer: sends what the outbox holds, signed, and retries with exponential
//! backoff for 24 hours.
//!
//! Each delivery is a `POST` of the event's JSON with these headers:
//! - `Debrief-Event`: the event name (`summary.created`, …);
//! - `Debrief-Delivery`: the delivery's id (the same on every retry: receivers deduplicate on it);
//! - `Debrief-Signature: t=UNIX_SECONDS,v1=HEX` where `HEX` is the HMAC-SHA256, keyed by the
//!   endpoint's secret, of `UNIX_SECONDS`, a `.`, and the body's bytes. A receiver recomputes it
//!   and rejects old timestamps to stop replays.
//!
//! Endpoints are served side by side (up to 32 deliveries in flight, each with its own timeout),
//! so a slow receiver delays only its own deliveries.
//!
//! A 2xx answer is delivered; anything else (or no answer within 10 s) is retried after 1, 2, 4 …
//! minutes (at most an hour apart) until 24 hours after the event, then given up. Every
//! attempt is recorded and listed by the API; a delivery can be sent again by hand.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use debrief_store::{ClaimedDelivery, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::metrics::{JobOutcome, Metrics};
use crate::{WorkflowError, WorkflowResult};

/// Deliveries claimed per round.
const CLAIM_BATCH: u32 = 50;

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
    /// Deliveries being sent now, across endpoints.
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Deliverer {
    /// A deliverer with its own HTTP client.
    pub fn new(
        store: std::sync::Arc<dyn Store>,
        metrics: std::sync::Arc<Metrics>,
    ) -> WorkflowResult<Deliverer> {
        Ok(Deliverer {
            store,
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .map_err(|error| WorkflowError::Internal(format!("HTTP client: {error}")))?,
            metrics,
            in_flight: std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    async fn send(
        &self,
        delivery: &ClaimedDelivery,
        now: DateTime<Utc>,
    ) -> (Option<u16>, Option<String>) {
        let response = self
            .client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("debrief-event", &delivery.event)
            .header("debrief-delivery", delivery.id.to_string())
            .header(
                "debrief-signature",
                signature(&delivery.secret, now.timestamp(), &delivery.payload),
            )
            .body(delivery.payload.clone())
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => {
                (Some(response.status().as_u16()), None)
            }
            Ok(response) => (
                Some(response.status().as_u16()),
                Some(format!("the receiver answered {}", response.status())),
            ),
            Err(error) => (None, Some(error.to_string())),
        }
    }

    /// Sends what is due at `now`, each endpoint's deliveries in order, until nothing more is
    /// due, and waits for the answers; the deliveries attempted.
    pub async fn run_once(&self, now: DateTime<Utc>) -> WorkflowResult<usize> {
        let mut attempted = 0;
        loop {
            let sending = self.start_due(now).await?;
            if sending.is_empty() {
                return Ok(attempted);
            }
            attempted += sending.len();
            for delivery in sending {
                // A delivery task that died left its claim: the lease runs out and it is sent
                // again.
                let _ = delivery.await;
            }
        }
    }

    /// Claims what is due at `now` (at most as many as may be in flight) and starts sending
    /// each in a task of its own, bounded by its own timeout. The claim holds at most one
    /// delivery per endpoint (the oldest pending), so endpoints never wait for each other and
    /// each endpoint's deliveries stay in order.
    async fn start_due(
        &self,
        now: DateTime<Utc>,
    ) -> WorkflowResult<Vec<tokio::task::JoinHandle<()>>> {
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
                let outcome = match this.deliver(&delivery, now).await {
                    Ok(true) => JobOutcome::Done,
                    Ok(false) => JobOutcome::Failed,
                    Err(error) => {
                        tracing::warn!(tenant.id = %delivery.company, delivery = delivery.id, error = %error, "recording a webhook attempt failed");
                        JobOutcome::Failed
                    }
                };
                this.metrics.job("webhooks", outcome);
                drop(permit);
            }));
        }
        Ok(sending)
    }

    /// Sends one claimed delivery and records the attempt; whether it was delivered.
    async fn deliver(
        &self,
        delivery: &ClaimedDelivery,
        now: DateTime<Utc>,
    ) -> WorkflowResult<bool> {
        let (status, error) = self.send(delivery, now).await;
        let delivered = error.is_none();
        let next = (!delivered)
            .then(|| retry_at(delivery.created_at, now, delivery.attempts))
            .flatten();
        if let Some(error) = &error {
            tracing::warn!(tenant.id = %delivery.company, delivery = delivery.id, error = %error, "webhook delivery failed");
        }
        self.store
            .record_delivery_attempt(delivery, now, status, error.as_deref(), delivered, next)
            .await?;
        Ok(delivered)
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
