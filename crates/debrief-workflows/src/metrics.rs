//! The process's metrics, served at `GET /metrics` in the OpenMetrics text format (which
//! Prometheus scrapes), and the background workers' heartbeats that `/readyz` reads.
//!
//! Counters: requests by method, route template and status; each worker's jobs by outcome
//! (`done`, `failed`, `panicked`) and its restarts (a round that panicked); model calls by purpose
//! and outcome (`answered`, `fallback`); redactions by class. Gauges, read from the store at each
//! scrape: pending summaries, due conversations and the webhook outbox. The figures are this
//! process's own: with several servers, Prometheus sums them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// How long a worker may go without progress before `/readyz` reports it, by default.
pub const DEFAULT_STALL_AFTER: Duration = Duration::from_secs(900);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    worker: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkerLabels {
    worker: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabels {
    queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    purpose: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RedactionLabels {
    class: String,
}

/// How one job of a worker ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    Failed,
    Panicked,
}

impl JobOutcome {
    fn as_str(self) -> &'static str {
        match self {
            JobOutcome::Done => "done",
            JobOutcome::Failed => "failed",
            JobOutcome::Panicked => "panicked",
        }
    }
}

/// A worker that has made no progress for longer than the stall limit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StalledWorker {
    pub worker: &'static str,
    /// Seconds since its last progress.
    pub idle_seconds: u64,
}

/// The metrics of one server process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    jobs: Family<JobLabels, Counter>,
    restarts: Family<WorkerLabels, Counter>,
    queues: Family<QueueLabels, Gauge>,
    model_calls: Family<ModelLabels, Counter>,
    redactions: Family<RedactionLabels, Counter>,
    progress: Mutex<BTreeMap<&'static str, Instant>>,
    stall_after: Duration,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(DEFAULT_STALL_AFTER)
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Metrics")
            .field("stall_after", &self.stall_after)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Empty metrics; a worker without progress for `stall_after` makes `/readyz` fail.
    pub fn new(stall_after: Duration) -> Metrics {
        let mut registry = Registry::with_prefix("debrief");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "worker_jobs",
            "Background jobs by worker and outcome",
            jobs.clone(),
        );
        let restarts = Family::<WorkerLabels, Counter>::default();
        registry.register(
            "worker_restarts",
            "Background rounds that panicked and were started again",
            restarts.clone(),
        );
        let queues = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "queue_depth",
            "Work waiting: pending summaries, due conversations, webhook outbox",
            queues.clone(),
        );
        let model_calls = Family::<ModelLabels, Counter>::default();
        registry.register(
            "model_calls",
            "Answers asked of an LLM engine, by purpose and outcome",
            model_calls.clone(),
        );
        let redactions = Family::<RedactionLabels, Counter>::default();
        registry.register(
            "redactions",
            "Values replaced by a placeholder before a model saw them, by class",
            redactions.clone(),
        );
        Metrics {
            registry,
            requests,
            jobs,
            restarts,
            queues,
            model_calls,
            redactions,
            progress: Mutex::new(BTreeMap::new()),
            stall_after,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status: status.to_string(),
            })
            .inc();
    }

    /// Counts one job of `worker`; a job that ended (well or not) is progress.
    pub fn job(&self, worker: &'static str, outcome: JobOutcome) {
        self.jobs
            .get_or_create(&JobLabels {
                worker: worker.to_string(),
                outcome: outcome.as_str().to_string(),
            })
            .inc();
        self.progressed(worker);
    }

    /// Counts a round of `worker` that panicked.
    pub fn restarted(&self, worker: &'static str) {
        self.restarts
            .get_or_create(&WorkerLabels {
                worker: worker.to_string(),
            })
            .inc();
    }

    /// Counts one answer asked of a model for `purpose` (`summary`, `judge`, `check`), and
    /// whether the built-in engine had to answer instead.
    pub fn model_call(&self, purpose: &str, fallback: bool) {
        self.model_calls
            .get_or_create(&ModelLabels {
                purpose: purpose.to_string(),
                outcome: if fallback { "fallback" } else { "answered" }.to_string(),
            })
            .inc();
    }

    /// Counts values redacted by class.
    pub fn redacted<'a>(&self, classes: impl IntoIterator<Item = (&'a str, u32)>) {
        for (class, count) in classes {
            self.redactions
                .get_or_create(&RedactionLabels {
                    class: class.to_string(),
                })
                .inc_by(u64::from(count));
        }
    }

    /// Starts counting `worker`: its restarts show as 0 until one happens, and it has made
    /// progress now.
    pub fn started(&self, worker: &'static str) {
        self.restarts
            .get_or_create(&WorkerLabels {
                worker: worker.to_string(),
            })
            .inc_by(0);
        self.progressed(worker);
    }

    /// Records that `worker` finished a round or a job now.
    pub fn progressed(&self, worker: &'static str) {
        if let Ok(mut progress) = self.progress.lock() {
            progress.insert(worker, Instant::now());
        }
    }

    /// The workers whose last progress is older than the stall limit at `now`.
    pub fn stalled(&self, now: Instant) -> Vec<StalledWorker> {
        let Ok(progress) = self.progress.lock() else {
            return Vec::new();
        };
        progress
            .iter()
            .filter_map(|(worker, at)| {
                let idle = now.saturating_duration_since(*at);
                (idle > self.stall_after).then_some(StalledWorker {
                    worker,
                    idle_seconds: idle.as_secs(),
                })
            })
            .collect()
    }

    /// The text exposition with the queue depths given.
    pub fn render(&self, queues: &debrief_store::QueueDepths) -> String {
        for (queue, depth) in [
            ("pending_summaries", queues.pending_summaries),
            ("due_conversations", queues.due_conversations),
            ("webhook_outbox", queues.webhook_outbox),
        ] {
            self.queues
                .get_or_create(&QueueLabels {
                    queue: queue.to_string(),
                })
                .set(depth);
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_appear_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.request("GET", "/api/v1/sessions/{id}", 404);
        metrics.request("GET", "/api/v1/sessions/{id}", 404);
        metrics.job("summaries", JobOutcome::Panicked);
        metrics.restarted("evaluation");
        metrics.model_call("summary", true);
        metrics.redacted([("phone", 2), ("password", 1)]);
        let text = metrics.render(&debrief_store::QueueDepths {
            pending_summaries: 7,
            due_conversations: 0,
            webhook_outbox: 3,
        });
        for line in [
            r#"debrief_http_requests_total{method="GET",route="/api/v1/sessions/{id}",status="404"} 2"#,
            r#"debrief_worker_jobs_total{worker="summaries",outcome="panicked"} 1"#,
            r#"debrief_worker_restarts_total{worker="evaluation"} 1"#,
            r#"debrief_model_calls_total{purpose="summary",outcome="fallback"} 1"#,
            r#"debrief_redactions_total{class="phone"} 2"#,
            r#"debrief_queue_depth{queue="pending_summaries"} 7"#,
            r#"debrief_queue_depth{queue="webhook_outbox"} 3"#,
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }

    #[test]
    fn a_worker_without_progress_is_stalled() {
        let metrics = Metrics::new(Duration::from_secs(60));
        let start = Instant::now();
        metrics.progressed("summaries");
        assert!(metrics.stalled(start).is_empty());
        let later = start + Duration::from_secs(120);
        let stalled = metrics.stalled(later);
        assert_eq!(stalled.len(), 1);
        assert_eq!(stalled[0].worker, "summaries");
        metrics.job("summaries", JobOutcome::Done);
        assert!(metrics.stalled(Instant::now()).is_empty());
    }
}
