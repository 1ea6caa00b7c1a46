//! The loop of every background worker (evaluator, summarizer, webhook deliverer): a round now,
//! then again after `interval`, until shutdown. A failed round is logged and the next one runs.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Runs `round` at once and then every `interval` until `shutdown` changes.
pub async fn every<F, Fut>(
    name: &'static str,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut round: F,
) where
    F: FnMut(DateTime<Utc>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    loop {
        if let Err(error) = round(Utc::now()).await {
            tracing::warn!(worker = name, error = %error, "background round failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}
