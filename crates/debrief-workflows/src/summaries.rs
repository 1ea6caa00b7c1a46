//! The summarizer worker: claims the sessions that wait for a summary (leased, so two server
//! processes never take the same one), decides with the company's AI settings, devices,
//! modules, policies and consent whether each gets one (SPEC section 2; a skip is stored with
//! its reason), charges each eligible session's AI credit (one per session, ever; with none
//! left under the `stop` rule the skip says so), summarizes the eligible ones in the company's
//! language with the company's engine (built-in, or an LLM engine with the built-in one as its
//! fallback) and stores each summary once. A failure is retried with exponential backoff, then
//! given up with its error recorded.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use debrief_core::governance::{
    eligibility, AiSettings, ConsentMode, Device, Eligibility, Module, Policy, SessionFacts,
    SkipReason,
};
use debrief_core::summary::Summary;
use debrief_core::Session;
use debrief_engine::applications::CompanyApplications;
use debrief_engine::classify::{IssueClassifier, Taxonomy};
use debrief_engine::language::Language;
use debrief_engine::summarize::BuiltinEngine;
use debrief_llm::configure::{Backends, EngineKind, EngineSettings};
use debrief_llm::engine::LlmSummarizer;
use debrief_store::{
    get_typed, Company, CompanyId, Consumption, ObjectKind, Store, SummaryJob, SINGLETON,
};
use std::collections::HashMap;

use crate::metrics::{JobOutcome, Metrics};
use crate::{WorkflowError, WorkflowResult};

/// Sessions claimed per round: few enough that an LLM engine summarizes them well within the
/// lease.
const CLAIM_BATCH: u32 = 25;

/// How long a claim holds: 25 summaries by a slow local model fit in it.
const LEASE_SECONDS: i64 = 600;

/// How often the credit calendar runs for every company.
const CALENDAR_SECONDS: i64 = 600;

/// Attempts before a summary is given up.
const MAX_ATTEMPTS: i64 = 5;

/// Summarizes stored sessions in the background, with each company's taxonomy (or the
/// built-in one).
#[derive(Clone)]
pub struct Summarizer {
    pub store: Arc<dyn Store>,
    /// The engine of companies without a taxonomy of their own.
    pub engine: Arc<BuiltinEngine>,
    /// The LLM engines the operator configured, for companies that chose one.
    pub llm: Backends,
    /// Where jobs, model calls and redactions are counted.
    pub metrics: Arc<Metrics>,
}

/// When to retry after `attempts` failures: 2, 4, 8 … seconds; `None` to give up.
pub fn retry_at(now: DateTime<Utc>, attempts: i64) -> Option<DateTime<Utc>> {
    (attempts + 1 < MAX_ATTEMPTS).then(|| now + TimeDelta::seconds(2_i64.pow(attempts as u32 + 1)))
}

/// What a round knows of one company: its engine, settings, plan and name.
struct CompanyContext {
    engine: Arc<BuiltinEngine>,
    engines: EngineSettings,
    settings: AiSettings,
    company: Company,
}

/// What the worker decided for one session.
enum Decision {
    Summarize { language: Language },
    Skip(SkipReason),
}

impl Summarizer {
    /// The company's context for this round.
    async fn context_for(&self, company: &CompanyId) -> WorkflowResult<CompanyContext> {
        let stored = self.store.company(company).await?;
        let settings = get_typed::<AiSettings>(
            self.store.as_ref(),
            company,
            ObjectKind::AiSettings,
            SINGLETON,
        )
        .await?
        .unwrap_or_default();
        Ok(CompanyContext {
            engine: self.engine_for(company).await?,
            engines: crate::engines::engine_settings(self.store.as_ref(), company).await?,
            settings,
            company: stored,
        })
    }

    /// The session's device from the company's registry, registered from what the session
    /// says of it when unknown; what this session observed (full client, signed-in account)
    /// counts for it.
    async fn device_of(
        &self,
        company: &CompanyId,
        context: &CompanyContext,
        seen: &debrief_core::session::Device,
        id: &str,
    ) -> WorkflowResult<Device> {
        let signed_in = seen
            .signed_in_company
            .as_deref()
            .map(|name| name.eq_ignore_ascii_case(&context.company.name));
        let registered =
            get_typed::<Device>(self.store.as_ref(), company, ObjectKind::Device, id).await?;
        let mut device = match registered {
            Some(device) => device,
            None => {
                let policy = match (&seen.policy, seen.managed) {
                    (Some(policy), Some(true)) => self
                        .store
                        .get_object(company, ObjectKind::Policy, policy)
                        .await?
                        .map(|_| policy.clone()),
                    _ => None,
                };
                let device = Device {
                    name: None,
                    platform: seen.platform,
                    managed: seen.managed.unwrap_or(false),
                    full_client: seen.full_client.unwrap_or(false),
                    signed_in_company_account: signed_in.unwrap_or(false),
                    consent_mode: ConsentMode::default(),
                    policy,
                    user_opted_out: false,
                };
                self.store
                    .insert_object_if_absent(
                        company,
                        ObjectKind::Device,
                        id,
                        &serde_json::to_string(&device)
                            .map_err(|error| WorkflowError::Internal(error.to_string()))?,
                    )
                    .await?;
                device
            }
        };
        device.full_client |= seen.full_client == Some(true);
        if let Some(signed_in) = signed_in {
            device.signed_in_company_account = signed_in;
        }
        Ok(device)
    }

    /// The session's support module from the registry, registered when unknown (with
    /// insights disabled until an admin enables them).
    async fn module_of(
        &self,
        company: &CompanyId,
        seen: &debrief_core::session::Module,
        id: &str,
    ) -> WorkflowResult<Module> {
        if let Some(module) =
            get_typed::<Module>(self.store.as_ref(), company, ObjectKind::Module, id).await?
        {
            return Ok(module);
        }
        let module = Module {
            name: None,
            custom: seen.custom,
            insights_enabled: false,
        };
        self.store
            .insert_object_if_absent(
                company,
                ObjectKind::Module,
                id,
                &serde_json::to_string(&module)
                    .map_err(|error| WorkflowError::Internal(error.to_string()))?,
            )
            .await?;
        Ok(module)
    }

    /// Whether the session gets a summary now (SPEC section 2), and the device's consent mode
    /// to record with the answer.
    async fn decide(
        &self,
        job: &SummaryJob,
        session: &Session,
        context: &CompanyContext,
    ) -> WorkflowResult<(Decision, ConsentMode)> {
        let company = &job.company;
        let seen_device = session.device.as_ref();
        let device_id = seen_device.and_then(|device| device.id.clone());
        let device = match (seen_device, &device_id) {
            (Some(seen), Some(id)) => Some(self.device_of(company, context, seen, id).await?),
            _ => None,
        };
        let module_id = session.module.as_ref().and_then(|module| module.id.clone());
        let module = match (&session.module, &module_id) {
            (Some(seen), Some(id)) => Some(self.module_of(company, seen, id).await?),
            _ => None,
        };
        let policy_id = device.as_ref().and_then(|device| device.policy.clone());
        let policy = match &policy_id {
            Some(id) => {
                get_typed::<Policy>(self.store.as_ref(), company, ObjectKind::Policy, id).await?
            }
            None => None,
        };
        let consent_mode = job.consent_mode.unwrap_or_else(|| {
            device
                .as_ref()
                .map_or(ConsentMode::default(), |device| device.consent_mode)
        });
        let consent = job.consent;
        let supporter_logs_sessions = match session.supporter_id() {
            Some(id) => self.store.supporter_logs_sessions(company, id).await?,
            None => true,
        };
        let device_facts = device
            .as_ref()
            .zip(device_id.as_deref())
            .map(|(device, id)| device.facts(id));
        let module_facts = module
            .as_ref()
            .zip(module_id.as_deref())
            .map(|(module, id)| module.facts(id));
        let policy_facts = policy
            .as_ref()
            .zip(policy_id.as_deref())
            .map(|(policy, id)| policy.facts(id));
        let facts = SessionFacts {
            settings: &context.settings,
            tier: context.company.tier,
            channel: session.channel,
            direction: session.direction,
            platform: session.platform(),
            device: device_facts.as_ref(),
            module: module_facts.as_ref(),
            policy: policy_facts.as_ref(),
            consent_mode,
            consent,
            supporter_logs_sessions,
        };
        let decision = match eligibility(&facts) {
            Eligibility::Eligible => Decision::Summarize {
                language: Language::from_code(&context.settings.insights.language)
                    .unwrap_or(Language::English),
            },
            Eligibility::Skipped(reason) => Decision::Skip(reason),
        };
        Ok((decision, consent_mode))
    }

    /// Decides and, when eligible, summarizes one claimed session; whether a summary was
    /// stored.
    async fn handle(
        &self,
        job: &SummaryJob,
        context: &CompanyContext,
        now: DateTime<Utc>,
    ) -> WorkflowResult<bool> {
        let session = match Session::parse_json(&job.session) {
            Ok(session) => session,
            Err(error) => {
                let error = format!("stored session {} is invalid: {error}", job.session_id);
                self.store
                    .fail_summary_job(job, &error, retry_at(now, job.attempts))
                    .await?;
                return Ok(false);
            }
        };
        let (decision, consent_mode) = self.decide(job, &session, context).await?;
        match decision {
            Decision::Skip(reason) => {
                self.store
                    .skip_summary_job(job, &reason, consent_mode)
                    .await?;
                Ok(false)
            }
            Decision::Summarize { language } => {
                let consumption = crate::credits::charge(
                    self.store.as_ref(),
                    &context.company,
                    &job.session_id,
                    now,
                )
                .await?;
                if consumption == Consumption::Refused {
                    self.store
                        .skip_summary_job(job, &SkipReason::NoCredits, consent_mode)
                        .await?;
                    return Ok(false);
                }
                let summary = self.summarize(&session, language, context).await;
                Ok(self
                    .store
                    .complete_summary_job(job, &summary, consent_mode)
                    .await?)
            }
        }
    }

    /// A summary with the company's engine: the built-in one, or an LLM engine (which falls
    /// back to the built-in one, saying why, when its answer cannot be used or it is not
    /// configured on this server).
    async fn summarize(
        &self,
        session: &Session,
        language: Language,
        context: &CompanyContext,
    ) -> Summary {
        let kind = context.engines.summaries;
        if kind == EngineKind::Builtin {
            return context.engine.summarize_in(session, language);
        }
        match self.llm.get_model(kind, context.engines.model.as_deref()) {
            Ok(backend) => {
                let summary = LlmSummarizer::new(backend, context.engines.limits.clone())
                    .summarize(session, language, &context.engine)
                    .await;
                self.metrics
                    .model_call("summary", summary.fallback.is_some());
                self.metrics.redacted(
                    summary
                        .redactions
                        .iter()
                        .map(|(class, count)| (class.as_str(), *count)),
                );
                summary
            }
            Err(error) => {
                let mut summary = context.engine.summarize_in(session, language);
                summary.fallback = Some(error.to_string());
                summary
            }
        }
    }

    /// The engine for a company: with its own taxonomy and applications where it set valid
    /// ones (an unusable file is logged and the built-in one used).
    async fn engine_for(&self, company: &CompanyId) -> WorkflowResult<Arc<BuiltinEngine>> {
        let taxonomy = self
            .store
            .get_object(company, ObjectKind::Taxonomy, SINGLETON)
            .await?;
        let applications = self
            .store
            .get_object(company, ObjectKind::Applications, SINGLETON)
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

    /// Brings every company's credits to `now`.
    pub async fn open_all_months(&self, now: DateTime<Utc>) -> WorkflowResult<()> {
        for company in self.store.companies().await? {
            crate::credits::open_months(self.store.as_ref(), &company, now).await?;
        }
        Ok(())
    }

    /// One round at `now`: returns the summaries stored.
    pub async fn run_once(&self, now: DateTime<Utc>) -> WorkflowResult<usize> {
        let mut stored = 0;
        loop {
            let jobs = self
                .store
                .claim_summary_jobs(now, CLAIM_BATCH, LEASE_SECONDS)
                .await?;
            if jobs.is_empty() {
                return Ok(stored);
            }
            let mut contexts: HashMap<CompanyId, CompanyContext> = HashMap::new();
            for job in &jobs {
                if !contexts.contains_key(&job.company) {
                    let context = self.context_for(&job.company).await?;
                    contexts.insert(job.company.clone(), context);
                }
                let Some(context) = contexts.get(&job.company) else {
                    continue;
                };
                let (outcome, error) =
                    match crate::worker::isolated(self.handle(job, context, now)).await {
                        Ok(Ok(summarized)) => {
                            stored += usize::from(summarized);
                            (JobOutcome::Done, None)
                        }
                        Ok(Err(error)) => (JobOutcome::Failed, Some(error.to_string())),
                        Err(panic) => (JobOutcome::Panicked, Some(panic)),
                    };
                if let Some(error) = error {
                    tracing::warn!(tenant.id = %job.company, session.id = %job.session_id, error = %error, "summary failed");
                    self.store
                        .fail_summary_job(job, &error, retry_at(now, job.attempts))
                        .await?;
                }
                self.metrics.job("summaries", outcome);
            }
        }
    }

    /// Runs a round every `interval` until `shutdown` changes.
    pub async fn run(self, interval: Duration, shutdown: tokio::sync::watch::Receiver<bool>) {
        let metrics = Arc::clone(&self.metrics);
        let this = Arc::new(self);
        let calendar_due = Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN));
        crate::worker::every("summaries", interval, shutdown, metrics, move |now| {
            let (this, calendar_due) = (Arc::clone(&this), Arc::clone(&calendar_due));
            async move {
                let due = calendar_due.load(std::sync::atomic::Ordering::Relaxed);
                if now.timestamp() >= due {
                    // Free credits of the month and renewals, also for companies with no
                    // activity (a server that was down on the 1st grants them now, once).
                    if let Err(error) = this.open_all_months(now).await {
                        tracing::warn!(error = %error, "credit calendar failed");
                    }
                    calendar_due.store(
                        now.timestamp() + CALENDAR_SECONDS,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
                this.run_once(now).await.map(drop)
            }
        })
        .await;
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
