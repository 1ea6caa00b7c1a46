//! The summarizer worker: claims the sessions that wait for a summary (leased, so two server
//! processes never take the same one), summarizes them with the built-in engine and stores
//! each summary once. A failure is retried with exponential backoff, then given up with its
//! error recorded.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use debrief_core::Session;
use debrief_engine::applications::CompanyApplications;
use debrief_engine::classify::{IssueClassifier, Taxonomy};
use debrief_engine::summarize::BuiltinEngine;
use debrief_store::{CompanyFile, CompanyId, Store, SummaryJob};
use std::collections::HashMap;

/// Sessions claimed per round.
const CLAIM_BATCH: u32 = 100;

/// How long a claim holds.
const LEASE_SECONDS: i64 = 120;

/// Attempts before a summary is given up.
const MAX_ATTEMPTS: i64 = 5;

/// Summarizes stored sessions in the background, with each company's taxonomy (or the
/// built-in one).
#[derive(Clone)]
pub struct Summarizer {
    pub store: Arc<dyn Store>,
    /// The engine of companies without a taxonomy of their own.
    pub engine: Arc<BuiltinEngine>,
}

/// When to retry after `attempts` failures: 2, 4, 8 … seconds; `None` to give up.
pub fn retry_at(now: DateTime<Utc>, attempts: i64) -> Option<DateTime<Utc>> {
    (attempts + 1 < MAX_ATTEMPTS).then(|| now + TimeDelta::seconds(2_i64.pow(attempts as u32 + 1)))
}

impl Summarizer {
    fn summarize(
        &self,
        engine: &BuiltinEngine,
        job: &SummaryJob,
    ) -> anyhow::Result<(String, String)> {
        let session = Session::parse_json(&job.session).map_err(|error| {
            anyhow::anyhow!("stored session {} is invalid: {error}", job.session_id)
        })?;
        let summary = engine.summarize(&session);
        Ok((serde_json::to_string(&summary)?, summary.language))
    }

    /// The engine for a company: with its own taxonomy and applications where it set valid
    /// ones (an unusable file is logged and the built-in one used).
    async fn engine_for(&self, company: &CompanyId) -> anyhow::Result<Arc<BuiltinEngine>> {
        let taxonomy = self
            .store
            .company_file(company, CompanyFile::Taxonomy)
            .await?;
        let applications = self
            .store
            .company_file(company, CompanyFile::Applications)
            .await?;
        if taxonomy.is_none() && applications.is_none() {
            return Ok(Arc::clone(&self.engine));
        }
        let taxonomy = taxonomy.and_then(|text| {
            Taxonomy::parse_json(&text)
                .inspect_err(|error| {
                    tracing::warn!(tenant.id = %company, error = %error, "stored taxonomy unusable: built-in one used");
                })
                .ok()
        });
        let applications = applications.and_then(|text| {
            CompanyApplications::parse_json(&text)
                .inspect_err(|error| {
                    tracing::warn!(tenant.id = %company, error = %error, "stored applications unusable: built-in ones used");
                })
                .ok()
        });
        let classifier = match &taxonomy {
            Some(taxonomy) => IssueClassifier::new(taxonomy),
            None => IssueClassifier::new(&Taxonomy::builtin()),
        };
        let applications = match &applications {
            Some(company) => self.engine.applications.with_company(company),
            None => self.engine.applications.clone(),
        };
        Ok(Arc::new(BuiltinEngine {
            classifier,
            applications,
        }))
    }

    /// One round at `now`: returns the summaries stored.
    pub async fn run_once(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut stored = 0;
        loop {
            let jobs = self
                .store
                .claim_summary_jobs(now, CLAIM_BATCH, LEASE_SECONDS)
                .await?;
            if jobs.is_empty() {
                return Ok(stored);
            }
            let mut engines: HashMap<CompanyId, Arc<BuiltinEngine>> = HashMap::new();
            for job in &jobs {
                let engine = match engines.get(&job.company) {
                    Some(engine) => Arc::clone(engine),
                    None => {
                        let engine = self.engine_for(&job.company).await?;
                        engines.insert(job.company.clone(), Arc::clone(&engine));
                        engine
                    }
                };
                match self.summarize(&engine, job) {
                    Ok((summary, language)) => {
                        if self
                            .store
                            .complete_summary_job(
                                job,
                                &summary,
                                debrief_engine::summarize::ENGINE,
                                &language,
                            )
                            .await?
                        {
                            stored += 1;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(tenant.id = %job.company, session.id = %job.session_id, error = %error, "summary failed");
                        self.store
                            .fail_summary_job(job, &error.to_string(), retry_at(now, job.attempts))
                            .await?;
                    }
                }
            }
        }
    }

    /// Runs a round every `interval` until `shutdown` changes.
    pub async fn run(self, interval: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.run_once(Utc::now()).await {
                tracing::warn!(error = %error, "summary round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_then_give_up() {
        let now = Utc::now();
        assert_eq!(retry_at(now, 0), Some(now + TimeDelta::seconds(2)));
        assert_eq!(retry_at(now, 2), Some(now + TimeDelta::seconds(8)));
        assert_eq!(retry_at(now, MAX_ATTEMPTS - 1), None);
    }
}
