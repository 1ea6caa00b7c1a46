//! The evaluator: claims the conversations that have become decidable, evaluates them with the
//! configured judge, and records each verdict once. Every server process runs one; claims are
//! leased, so two processes never evaluate the same conversation at the same time, and a
//! verdict is recorded only for the version that was evaluated.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use debrief_core::resolution::{evaluate, Conversation, Evaluation, Verdict, VerdictKind};
use debrief_llm::configure::Backends;
use debrief_llm::engine::ResolutionCheck;
use debrief_store::{ClaimedConversation, CompanyId, RecordedVerdict, Store, VerdictWrite};

use crate::metrics::{JobOutcome, Metrics};
use crate::{WorkflowError, WorkflowResult};

/// Conversations claimed per round.
const CLAIM_BATCH: u32 = 200;

/// How long a claim holds before another evaluator may take the conversation.
const LEASE_SECONDS: i64 = 60;

/// Evaluates due conversations.
#[derive(Clone)]
pub struct Evaluator {
    pub store: Arc<dyn Store>,
    /// The check of companies that chose none.
    pub judge: ResolutionCheck,
    /// The LLM engines the operator configured.
    pub llm: Backends,
    /// This process's name in the verdicts it records.
    pub name: String,
    /// Where verdicts and model calls are counted.
    pub metrics: Arc<Metrics>,
}

/// `YYYY-MM` of `at` in the time zone named `zone` (UTC when the name is unknown).
pub fn month_of(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(zone) => at.with_timezone(&zone).format("%Y-%m").to_string(),
        Err(_) => at.format("%Y-%m").to_string(),
    }
}

/// Who and what decided a verdict.
pub struct Decision<'a> {
    pub judge: &'a str,
    pub model: &'a str,
    pub prompt_version: &'a str,
    pub rationale: &'a str,
    /// The evaluator process, or `user:ID` for an admin.
    pub actor: &'a str,
}

/// Usage thresholds (percent of what the month makes available) raised once per month.
pub const ALERT_THRESHOLDS: [i64; 2] = [80, 100];

/// The write for a verdict.
pub fn verdict_write(
    verdict: &Verdict,
    decision: &Decision<'_>,
    zone: &str,
    now: DateTime<Utc>,
) -> VerdictWrite {
    let decided = verdict.decided_at.unwrap_or(now);
    VerdictWrite {
        verdict: RecordedVerdict {
            verdict: serde_json::to_value(verdict.verdict)
                .ok()
                .and_then(|value| value.as_str().map(str::to_string))
                .unwrap_or_default(),
            rule: verdict.rule.as_str().to_string(),
            reason: verdict.reason.to_string(),
            decided_at: verdict.decided_at,
            judge: decision.judge.to_string(),
            judge_model: decision.model.to_string(),
            prompt_version: decision.prompt_version.to_string(),
            judge_rationale: decision.rationale.to_string(),
            evaluated_by: decision.actor.to_string(),
            evaluated_at: now,
        },
        counted: verdict.verdict == VerdictKind::Counted,
        month: month_of(decided, zone),
    }
}

/// The verdict on `conversation` at `now` with `check` asked only when the rules need it, and
/// the write that records it for `actor`. The judge, model and prompt version recorded are
/// those that answered (the built-in judge's, with the reason in the rationale, when an LLM
/// check fell back). A model asked is counted in `metrics`.
pub async fn decide(
    conversation: &Conversation,
    check: &ResolutionCheck,
    actor: &str,
    zone: &str,
    now: DateTime<Utc>,
    metrics: &Metrics,
) -> (Verdict, VerdictWrite) {
    let (judge, model, prompt_version) = check.describe();
    let (verdict, judge, model, prompt_version, rationale) = match evaluate(conversation, now) {
        Evaluation::Final(verdict) => (
            verdict,
            judge,
            model,
            prompt_version,
            String::from("the rules decided without the LLM check"),
        ),
        Evaluation::NeedsJudge(awaiting) => {
            let checked = check.check(conversation, &awaiting).await;
            if matches!(check, ResolutionCheck::Llm(_)) {
                metrics.model_call("check", checked.fallback.is_some());
                metrics.redacted(
                    checked
                        .redactions
                        .0
                        .iter()
                        .map(|(class, count)| (class.as_str(), *count)),
                );
            }
            let rationale = match &checked.fallback {
                Some(reason) => format!(
                    "{} (LLM check unavailable: {reason})",
                    checked.judgement.rationale
                ),
                None => checked.judgement.rationale,
            };
            (
                awaiting.decide(checked.judgement.resolved),
                checked.judge,
                checked.model,
                checked.prompt_version,
                rationale,
            )
        }
    };
    let decision = Decision {
        judge: &judge,
        model: &model,
        prompt_version: &prompt_version,
        rationale: &rationale,
        actor,
    };
    let write = verdict_write(&verdict, &decision, zone, now);
    (verdict, write)
}

/// Raises the usage alerts the company's current month has crossed (each once).
pub async fn raise_usage_alerts(
    store: &dyn Store,
    company: &CompanyId,
    now: DateTime<Utc>,
) -> WorkflowResult<()> {
    let stored = store.company(company).await?;
    let Some(simulator) = crate::timeline::meter(store, &stored, now).await? else {
        return Ok(());
    };
    let month = simulator.open_month();
    let used = month.resolutions.from_allowance + month.resolutions.from_commitment;
    let available = used + simulator.allowance_left() + simulator.commitment_left();
    if available <= 0 {
        return Ok(());
    }
    for threshold in ALERT_THRESHOLDS {
        if used * 100 >= threshold * available
            && store
                .record_usage_alert(company, &month.month, threshold, used, available)
                .await?
        {
            tracing::warn!(tenant.id = %company, threshold, used, available, "usage alert");
        }
    }
    Ok(())
}

impl Evaluator {
    /// Evaluates one claimed conversation at `now`: `Some(counted)` when a verdict was
    /// recorded, `None` when none was.
    async fn evaluate_claimed(
        &self,
        claimed: &ClaimedConversation,
        check: &ResolutionCheck,
        now: DateTime<Utc>,
    ) -> WorkflowResult<Option<bool>> {
        let conversation = Conversation::parse_json(&claimed.body).map_err(|error| {
            WorkflowError::Internal(format!(
                "stored conversation {} is invalid: {error}",
                claimed.id
            ))
        })?;
        let (verdict, write) = decide(
            &conversation,
            check,
            &self.name,
            &claimed.time_zone,
            now,
            &self.metrics,
        )
        .await;
        if verdict.verdict == VerdictKind::Pending {
            return Ok(None);
        }
        let recorded = self.store.record_verdict(claimed, &write).await?;
        Ok(recorded.then_some(write.counted))
    }

    /// One round: claims what is due at `now` and evaluates it. Returns the verdicts recorded.
    pub async fn run_once(&self, now: DateTime<Utc>) -> WorkflowResult<usize> {
        let mut recorded = 0;
        let mut counted_for = std::collections::BTreeSet::new();
        loop {
            let claimed = self
                .store
                .claim_due(now, CLAIM_BATCH, LEASE_SECONDS, &self.name)
                .await?;
            if claimed.is_empty() {
                for company in &counted_for {
                    raise_usage_alerts(self.store.as_ref(), company, now).await?;
                }
                return Ok(recorded);
            }
            // Each company's resolution check, read once per batch.
            let mut checks: std::collections::HashMap<CompanyId, ResolutionCheck> =
                std::collections::HashMap::new();
            for conversation in &claimed {
                if !checks.contains_key(&conversation.company) {
                    let check = crate::engines::resolution_check_for(
                        self.store.as_ref(),
                        &self.llm,
                        &self.judge,
                        &conversation.company,
                    )
                    .await?;
                    checks.insert(conversation.company.clone(), check);
                }
                let check = &checks[&conversation.company];
                let evaluated =
                    crate::worker::isolated(self.evaluate_claimed(conversation, check, now)).await;
                let (outcome, error) = match evaluated {
                    Ok(Ok(verdict)) => {
                        if let Some(counted) = verdict {
                            recorded += 1;
                            if counted {
                                counted_for.insert(conversation.company.clone());
                            }
                        }
                        (JobOutcome::Done, None)
                    }
                    Ok(Err(error)) => (JobOutcome::Failed, Some(error.to_string())),
                    // Left claimed: the lease runs out and a later round tries again.
                    Err(panic) => (JobOutcome::Panicked, Some(panic)),
                };
                if let Some(error) = error {
                    tracing::error!(
                        tenant.id = %conversation.company,
                        conversation.id = %conversation.id,
                        error = %error,
                        "evaluation failed"
                    );
                }
                self.metrics.job("evaluation", outcome);
            }
        }
    }

    /// Runs a round every `interval` until `shutdown` completes.
    pub async fn run(self, interval: Duration, shutdown: tokio::sync::watch::Receiver<bool>) {
        let metrics = Arc::clone(&self.metrics);
        let this = Arc::new(self);
        crate::worker::every("evaluation", interval, shutdown, metrics, move |now| {
            let this = Arc::clone(&this);
            async move { this.run_once(now).await.map(drop) }
        })
        .await;
    }
}
