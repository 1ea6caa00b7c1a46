//! The evaluator: claims the conversations that have become decidable, evaluates them with the
//! configured judge, and records each verdict once. Every server process runs one; claims are
//! leased, so two processes never evaluate the same conversation at the same time, and a
//! verdict is recorded only for the version that was evaluated.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use debrief_core::resolution::{evaluate, Conversation, Verdict, VerdictKind};
use debrief_engine::judge::Judge;
use debrief_store::{ClaimedConversation, RecordedVerdict, Store, VerdictWrite};

/// Conversations claimed per round.
const CLAIM_BATCH: u32 = 200;

/// How long a claim holds before another evaluator may take the conversation.
const LEASE_SECONDS: i64 = 60;

/// Evaluates due conversations.
#[derive(Clone)]
pub struct Evaluator {
    pub store: Arc<dyn Store>,
    pub judge: Judge,
    /// This process's name in the verdicts it records.
    pub name: String,
}

/// `YYYY-MM` of `at` in the time zone named `zone` (UTC when the name is unknown).
pub fn month_of(at: DateTime<Utc>, zone: &str) -> String {
    match zone.parse::<chrono_tz::Tz>() {
        Ok(zone) => at.with_timezone(&zone).format("%Y-%m").to_string(),
        Err(_) => at.format("%Y-%m").to_string(),
    }
}

/// The write for a verdict decided by `actor` with the judge's rationale.
pub fn verdict_write(
    verdict: &Verdict,
    judge: &str,
    rationale: &str,
    actor: &str,
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
            judge: judge.to_string(),
            judge_rationale: rationale.to_string(),
            evaluated_by: actor.to_string(),
            evaluated_at: now,
        },
        counted: verdict.verdict == VerdictKind::Counted,
        month: month_of(decided, zone),
    }
}

impl Evaluator {
    /// Evaluates one claimed conversation at `now`; returns whether a verdict was recorded.
    async fn evaluate_claimed(
        &self,
        claimed: &ClaimedConversation,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let conversation = Conversation::parse_json(&claimed.body).map_err(|error| {
            anyhow::anyhow!("stored conversation {} is invalid: {error}", claimed.id)
        })?;
        let mut rationale = String::from("the rules decided without the LLM check");
        let verdict = evaluate(&conversation, now).resolve_with(|| {
            let judgement = self.judge.judge_conversation(&conversation);
            rationale = judgement.rationale;
            judgement.resolved
        });
        if verdict.verdict == VerdictKind::Pending {
            return Ok(false);
        }
        let write = verdict_write(
            &verdict,
            self.judge.name(),
            &rationale,
            &self.name,
            &claimed.time_zone,
            now,
        );
        Ok(self.store.record_verdict(claimed, &write).await?)
    }

    /// One round: claims what is due at `now` and evaluates it. Returns the verdicts recorded.
    pub async fn run_once(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let mut recorded = 0;
        loop {
            let claimed = self
                .store
                .claim_due(now, CLAIM_BATCH, LEASE_SECONDS, &self.name)
                .await?;
            if claimed.is_empty() {
                return Ok(recorded);
            }
            for conversation in &claimed {
                match self.evaluate_claimed(conversation, now).await {
                    Ok(true) => recorded += 1,
                    Ok(false) => {}
                    Err(error) => tracing::error!(
                        tenant.id = %conversation.company,
                        conversation.id = %conversation.id,
                        error = %error,
                        "evaluation failed"
                    ),
                }
            }
        }
    }

    /// Runs a round every `interval` until `shutdown` completes.
    pub async fn run(self, interval: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.run_once(Utc::now()).await {
                tracing::warn!(error = %error, "evaluation round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
