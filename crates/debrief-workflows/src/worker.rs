//! The supervision of every background worker (evaluator, summarizer, webhook deliverer): a
//! round now, then again after `interval`, until shutdown. A failed round is logged and the next
//! one runs; a round that panics is counted as a restart and the next one runs in a new task; a
//! job that panics inside a round fails alone ([`isolated`]). Each finished round and job is
//! progress for `/readyz`.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;

use crate::metrics::Metrics;
use crate::WorkflowResult;

/// Runs `round` at once and then every `interval` until `shutdown` changes, each round in a task
/// of its own.
pub async fn every<F, Fut>(
    name: &'static str,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    metrics: Arc<Metrics>,
    round: F,
) where
    F: Fn(DateTime<Utc>) -> Fut,
    Fut: Future<Output = WorkflowResult<()>> + Send + 'static,
{
    metrics.started(name);
    loop {
        match tokio::spawn(round(Utc::now())).await {
            Ok(Ok(())) => metrics.progressed(name),
            Ok(Err(error)) => {
                tracing::warn!(worker = name, error = %error, "background round failed");
            }
            Err(died) => {
                let reason = if died.is_panic() {
                    panic_text(died.into_panic().as_ref())
                } else {
                    String::from("cancelled")
                };
                tracing::error!(worker = name, reason = %reason, "background round died; starting the worker again");
                metrics.restarted(name);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Runs one job of a round: `Err` with the panic's message when it panicked, so that the job
/// fails alone and the round goes on.
pub async fn isolated<T>(job: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(job)
        .catch_unwind()
        .await
        .map_err(|payload| panic_text(payload.as_ref()))
}

/// A panic's message.
fn panic_text(payload: &(dyn Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| String::from("a panic without a message"));
    format!("panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_panicking_job_fails_alone() {
        let failed = isolated(async { panic!("index out of range") }).await;
        assert_eq!(
            failed.err().as_deref(),
            Some("panicked: index out of range")
        );
        assert_eq!(isolated(async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_round_that_panics_is_restarted() {
        let metrics = Arc::new(Metrics::default());
        let rounds = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let counted = Arc::clone(&rounds);
        let worker = tokio::spawn(every(
            "test",
            Duration::from_millis(5),
            stopped,
            Arc::clone(&metrics),
            move |_| {
                let counted = Arc::clone(&counted);
                async move {
                    if counted.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
                        panic!("boom");
                    }
                    Ok(())
                }
            },
        ));
        while rounds.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = stop.send(true);
        worker.await.expect("the supervisor itself never panics");
        let text = metrics.render(&debrief_store::QueueDepths::default());
        assert!(
            text.contains(r#"debrief_worker_restarts_total{worker="test"} "#),
            "{text}"
        );
    }
}
