//! Conversations metered for automated resolutions: their documents, the due-evaluation
//! queue, verdicts with their audit trail, and the counted resolutions (at most one per
//! conversation, recorded in the same transaction as the monthly counters).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::sql::{from_micros, micros, Backend, SqlStore};
use crate::{CompanyId, Result, Store, StoreError};

/// A conversation document to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationWrite {
    pub id: String,
    pub agent: String,
    pub channel: Option<String>,
    /// The whole conversation as JSON (events merged).
    pub body: String,
    /// When the rules can first decide; `None` while there are no events.
    pub decidable_at: Option<DateTime<Utc>>,
}

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// Waiting for its evaluation.
    Pending,
    /// Its verdict is recorded; later events do not change it (an admin can).
    Final,
}

/// A recorded verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedVerdict {
    pub verdict: String,
    pub rule: String,
    pub reason: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub judge: String,
    /// The model behind the judge (`builtin-1` for the built-in one).
    pub judge_model: String,
    /// The version of the judge's prompt or heuristic.
    pub prompt_version: String,
    pub judge_rationale: String,
    pub evaluated_by: String,
    pub evaluated_at: DateTime<Utc>,
}

/// One entry of a conversation's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// `evaluated` or `override`.
    pub action: String,
    pub verdict: String,
    pub rule: String,
    pub reason: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A stored conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConversation {
    pub body: String,
    pub version: i64,
    pub state: ConversationState,
    pub verdict: Option<RecordedVerdict>,
    pub audit: Vec<AuditEntry>,
}

/// A due conversation claimed for evaluation by one evaluator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedConversation {
    pub seq: i64,
    pub company: CompanyId,
    pub time_zone: String,
    pub id: String,
    pub channel: Option<String>,
    pub body: String,
    pub version: i64,
}

/// A verdict to record, with the month (company time zone) a counted one belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerdictWrite {
    pub verdict: RecordedVerdict,
    pub counted: bool,
    /// `YYYY-MM` of `decided_at` in the company's time zone.
    pub month: String,
}

/// Counted resolutions of one month and channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthCount {
    pub month: String,
    pub channel: String,
    pub counted: i64,
}

/// A conversation's verdict in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerdictListing {
    pub id: String,
    pub channel: Option<String>,
    pub verdict: String,
    pub rule: String,
    pub reason: String,
    pub decided_at: Option<DateTime<Utc>>,
    pub judge: String,
}

/// A usage threshold crossed in a period, raised once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageAlert {
    pub period: String,
    /// Percent of what the period makes available.
    pub threshold: i64,
    pub used: i64,
    pub available: i64,
    pub created_at: DateTime<Utc>,
}

/// How a company's conversations stand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerdictSummary {
    pub pending: i64,
    pub counted: i64,
    pub not_counted: i64,
    /// Evaluations recorded in the audit trail (overrides not included).
    pub evaluations: i64,
    /// Evaluations by evaluator name.
    pub evaluators: Vec<(String, i64)>,
}

/// Conversations and their verdicts.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// A conversation with its verdict and audit trail.
    async fn get_conversation(&self, company: &CompanyId, id: &str) -> Result<StoredConversation>;

    /// Creates (`expected_version` `None`) or replaces (the version read) a conversation. A
    /// version that moved on, or a create that finds one, is a [`StoreError::Conflict`]: read
    /// again and retry. Returns the new version.
    async fn save_conversation(
        &self,
        company: &CompanyId,
        conversation: &ConversationWrite,
        expected_version: Option<i64>,
    ) -> Result<i64>;

    /// Claims up to `limit` pending conversations decidable at `now` that no other evaluator
    /// holds, for `lease_seconds`.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
        evaluator: &str,
    ) -> Result<Vec<ClaimedConversation>>;

    /// Records the verdict of a claimed conversation if it is still at the claimed version
    /// and pending; a counted one is inserted once into the counted resolutions with its
    /// monthly counter, in the same transaction. Returns whether it was recorded.
    async fn record_verdict(
        &self,
        claimed: &ClaimedConversation,
        verdict: &VerdictWrite,
    ) -> Result<bool>;

    /// Replaces a conversation's verdict (an admin's override, or a re-run of the judge:
    /// `action`), keeping the old one in the audit trail and moving the counted resolution
    /// and counters with it.
    async fn replace_verdict(
        &self,
        company: &CompanyId,
        id: &str,
        verdict: &VerdictWrite,
        action: &str,
    ) -> Result<()>;

    /// The verdicts that belong to `month` (`YYYY-MM`, company time zone), oldest first.
    async fn list_verdicts(&self, company: &CompanyId, month: &str) -> Result<Vec<VerdictListing>>;

    /// Records that a usage threshold was crossed in a period; false when it already was.
    async fn record_usage_alert(
        &self,
        company: &CompanyId,
        period: &str,
        threshold: i64,
        used: i64,
        available: i64,
    ) -> Result<bool>;

    /// The company's usage alerts, newest first.
    async fn usage_alerts(&self, company: &CompanyId) -> Result<Vec<UsageAlert>>;

    /// Counted resolutions by month and channel, oldest month first.
    async fn resolution_counts(&self, company: &CompanyId) -> Result<Vec<MonthCount>>;

    /// How many resolutions are counted in all (the rows, not the counters).
    async fn counted_resolutions(&self, company: &CompanyId) -> Result<i64>;

    /// Conversations by state and verdict, and who evaluated them.
    async fn verdict_summary(&self, company: &CompanyId) -> Result<VerdictSummary>;
}

fn state_from(text: &str) -> Result<ConversationState> {
    match text {
        "pending" => Ok(ConversationState::Pending),
        "final" => Ok(ConversationState::Final),
        other => Err(StoreError::Corrupt(format!("conversation state {other:?}"))),
    }
}

/// A nullable text column, empty when null.
fn text(row: &AnyRow, column: &str) -> Result<String> {
    Ok(row
        .try_get::<Option<String>, _>(column)?
        .unwrap_or_default())
}

fn verdict_from_row(row: &AnyRow) -> Result<Option<RecordedVerdict>> {
    let Some(verdict) = row.try_get::<Option<String>, _>("verdict")? else {
        return Ok(None);
    };
    Ok(Some(RecordedVerdict {
        verdict,
        rule: text(row, "rule")?,
        reason: text(row, "reason")?,
        decided_at: row
            .try_get::<Option<i64>, _>("decided_at")?
            .map(from_micros)
            .transpose()?,
        judge: text(row, "judge")?,
        judge_model: text(row, "judge_model")?,
        prompt_version: text(row, "prompt_version")?,
        judge_rationale: text(row, "judge_rationale")?,
        evaluated_by: text(row, "evaluated_by")?,
        evaluated_at: from_micros(row.try_get::<Option<i64>, _>("evaluated_at")?.unwrap_or(0))?,
    }))
}

impl Backend {
    /// Row locking for the claim: PostgreSQL skips rows another transaction holds; SQLite
    /// has one writer at a time and needs none.
    pub(crate) fn claim_lock(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " for update skip locked",
        }
    }
}

async fn write_verdict(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    company: &CompanyId,
    id: &str,
    channel: &str,
    write: &VerdictWrite,
    action: &str,
) -> Result<()> {
    let verdict = &write.verdict;
    let now = micros(Utc::now());
    sqlx::query(
        "insert into verdict_audit (company_id, conversation_id, action, verdict, rule, reason, actor, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&company.0)
    .bind(id)
    .bind(action)
    .bind(verdict.verdict.as_str())
    .bind(verdict.rule.as_str())
    .bind(verdict.reason.as_str())
    .bind(verdict.evaluated_by.as_str())
    .bind(now)
    .execute(&mut **transaction)
    .await?;
    if write.counted {
        let inserted = sqlx::query(
            "insert into counted_resolutions (company_id, conversation_id, channel, month, decided_at, created_at) \
             values ($1, $2, $3, $4, $5, $6) on conflict (company_id, conversation_id) do nothing",
        )
        .bind(&company.0)
        .bind(id)
        .bind(channel)
        .bind(write.month.as_str())
        .bind(verdict.decided_at.map(micros).unwrap_or(now))
        .bind(now)
        .execute(&mut **transaction)
        .await?;
        if inserted.rows_affected() == 1 {
            let decided = verdict.decided_at.unwrap_or_else(Utc::now);
            crate::billing::record_line(
                transaction,
                company,
                decided,
                "resolution",
                &serde_json::json!({"at": debrief_core::billing::timeline_time(decided), "type": "resolution"})
                    .to_string(),
                Some(id),
            )
            .await?;
            sqlx::query(
                "insert into resolution_month_counters (company_id, month, channel, counted) values ($1, $2, $3, 1) \
                 on conflict (company_id, month, channel) do update set counted = resolution_month_counters.counted + 1",
            )
            .bind(&company.0)
            .bind(write.month.as_str())
            .bind(channel)
            .execute(&mut **transaction)
            .await?;
            crate::webhooks::enqueue(
                &mut **transaction,
                company,
                "resolution.counted",
                serde_json::json!({"conversation_id": id, "channel": channel,
                                   "month": write.month.as_str(), "decided_at": decided}),
            )
            .await?;
        }
    } else {
        let removed = sqlx::query(
            "delete from counted_resolutions where company_id = $1 and conversation_id = $2 \
             returning month, channel",
        )
        .bind(&company.0)
        .bind(id)
        .fetch_optional(&mut **transaction)
        .await?;
        if let Some(removed) = removed {
            sqlx::query(
                "delete from billing_events where company_id = $1 and conversation_id = $2",
            )
            .bind(&company.0)
            .bind(id)
            .execute(&mut **transaction)
            .await?;
            // History is rewritten: the meter is rebuilt from the timeline.
            crate::billing::reset_meter(transaction, company).await?;
            sqlx::query(
                "update resolution_month_counters set counted = counted - 1 \
                 where company_id = $1 and month = $2 and channel = $3",
            )
            .bind(&company.0)
            .bind(removed.try_get::<String, _>("month")?)
            .bind(removed.try_get::<String, _>("channel")?)
            .execute(&mut **transaction)
            .await?;
        }
    }
    Ok(())
}

const VERDICT_COLUMNS: &str =
    "verdict = $1, rule = $2, reason = $3, decided_at = $4, judge = $5, judge_rationale = $6, \
     evaluated_by = $7, evaluated_at = $8, judge_model = $9, prompt_version = $10, \
     verdict_month = $11, state = 'final', lease_until = null, updated_at = $8";

fn bind_verdict<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    write: &'q VerdictWrite,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let verdict = &write.verdict;
    query
        .bind(verdict.verdict.as_str())
        .bind(verdict.rule.as_str())
        .bind(verdict.reason.as_str())
        .bind(verdict.decided_at.map(micros))
        .bind(verdict.judge.as_str())
        .bind(verdict.judge_rationale.as_str())
        .bind(verdict.evaluated_by.as_str())
        .bind(micros(verdict.evaluated_at))
        .bind(verdict.judge_model.as_str())
        .bind(verdict.prompt_version.as_str())
        .bind(write.month.as_str())
}

#[async_trait]
impl ConversationStore for SqlStore {
    async fn get_conversation(&self, company: &CompanyId, id: &str) -> Result<StoredConversation> {
        let row = sqlx::query(
            "select body, version, state, verdict, rule, reason, decided_at, judge, judge_rationale, \
             judge_model, prompt_version, evaluated_by, evaluated_at from conversations \
             where company_id = $1 and external_id = $2",
        )
        .bind(&company.0)
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        let audit = sqlx::query(
            "select action, verdict, rule, reason, actor, created_at from verdict_audit \
             where company_id = $1 and conversation_id = $2 order by seq",
        )
        .bind(&company.0)
        .bind(id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(AuditEntry {
                action: row.try_get("action")?,
                verdict: row.try_get("verdict")?,
                rule: row.try_get("rule")?,
                reason: row.try_get("reason")?,
                actor: row.try_get("actor")?,
                at: from_micros(row.try_get("created_at")?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let state: String = row.try_get("state")?;
        Ok(StoredConversation {
            body: row.try_get("body")?,
            version: row.try_get("version")?,
            state: state_from(&state)?,
            verdict: verdict_from_row(&row)?,
            audit,
        })
    }

    async fn save_conversation(
        &self,
        company: &CompanyId,
        conversation: &ConversationWrite,
        expected_version: Option<i64>,
    ) -> Result<i64> {
        let now = micros(Utc::now());
        let decidable_at = conversation.decidable_at.map(micros);
        match expected_version {
            None => {
                sqlx::query(
                    "insert into conversations (company_id, external_id, agent, channel, body, decidable_at, \
                     version, state, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, 1, 'pending', $7, $7)",
                )
                .bind(&company.0)
                .bind(conversation.id.as_str())
                .bind(conversation.agent.as_str())
                .bind(conversation.channel.as_deref())
                .bind(conversation.body.as_str())
                .bind(decidable_at)
                .bind(now)
                .execute(self.pool())
                .await?;
                Ok(1)
            }
            Some(version) => {
                let updated = sqlx::query(
                    "update conversations set agent = $1, channel = $2, body = $3, decidable_at = $4, \
                     version = version + 1, updated_at = $5 \
                     where company_id = $6 and external_id = $7 and version = $8",
                )
                .bind(conversation.agent.as_str())
                .bind(conversation.channel.as_deref())
                .bind(conversation.body.as_str())
                .bind(decidable_at)
                .bind(now)
                .bind(&company.0)
                .bind(conversation.id.as_str())
                .bind(version)
                .execute(self.pool())
                .await?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::Conflict {
                        constraint: "conversations.version".into(),
                    });
                }
                Ok(version + 1)
            }
        }
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_seconds: i64,
        evaluator: &str,
    ) -> Result<Vec<ClaimedConversation>> {
        let now = micros(now);
        let sql = format!(
            "update conversations set lease_until = $1, evaluated_by = $2 where seq in (\
             select seq from conversations where state = 'pending' and decidable_at <= $3 \
             and (lease_until is null or lease_until < $3) order by decidable_at limit $4{}) \
             returning seq, company_id, external_id, channel, body, version",
            self.backend().claim_lock()
        );
        let rows = sqlx::query(&sql)
            .bind(now + lease_seconds * 1_000_000)
            .bind(evaluator)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let company: String = row.try_get("company_id")?;
            let time_zone: String = sqlx::query("select time_zone from companies where id = $1")
                .bind(&company)
                .fetch_one(self.pool())
                .await?
                .try_get("time_zone")?;
            claimed.push(ClaimedConversation {
                seq: row.try_get("seq")?,
                company: CompanyId(company),
                time_zone,
                id: row.try_get("external_id")?,
                channel: row.try_get("channel")?,
                body: row.try_get("body")?,
                version: row.try_get("version")?,
            });
        }
        Ok(claimed)
    }

    async fn record_verdict(
        &self,
        claimed: &ClaimedConversation,
        verdict: &VerdictWrite,
    ) -> Result<bool> {
        let mut transaction = self.pool().begin().await?;
        let sql = format!(
            "update conversations set {VERDICT_COLUMNS} where seq = $12 and version = $13 and state = 'pending'"
        );
        let updated = bind_verdict(sqlx::query(&sql), verdict)
            .bind(claimed.seq)
            .bind(claimed.version)
            .execute(&mut *transaction)
            .await?;
        if updated.rows_affected() == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        let channel = claimed.channel.as_deref().unwrap_or("unknown");
        write_verdict(
            &mut transaction,
            &claimed.company,
            &claimed.id,
            channel,
            verdict,
            "evaluated",
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn replace_verdict(
        &self,
        company: &CompanyId,
        id: &str,
        verdict: &VerdictWrite,
        action: &str,
    ) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        let sql = format!(
            "update conversations set {VERDICT_COLUMNS} where company_id = $12 and external_id = $13 \
             returning channel"
        );
        let row = bind_verdict(sqlx::query(&sql), verdict)
            .bind(&company.0)
            .bind(id)
            .fetch_optional(&mut *transaction)
            .await?
            .ok_or(StoreError::NotFound)?;
        let channel = row
            .try_get::<Option<String>, _>("channel")?
            .unwrap_or_else(|| "unknown".into());
        write_verdict(&mut transaction, company, id, &channel, verdict, action).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn resolution_counts(&self, company: &CompanyId) -> Result<Vec<MonthCount>> {
        sqlx::query(
            "select month, channel, counted from resolution_month_counters \
             where company_id = $1 and counted <> 0 order by month, channel",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(MonthCount {
                month: row.try_get("month")?,
                channel: row.try_get("channel")?,
                counted: row.try_get("counted")?,
            })
        })
        .collect()
    }

    async fn list_verdicts(&self, company: &CompanyId, month: &str) -> Result<Vec<VerdictListing>> {
        sqlx::query(
            "select external_id, channel, verdict, rule, reason, decided_at, judge from conversations \
             where company_id = $1 and verdict_month = $2 and verdict is not null \
             order by decided_at, external_id",
        )
        .bind(&company.0)
        .bind(month)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(VerdictListing {
                id: row.try_get("external_id")?,
                channel: row.try_get("channel")?,
                verdict: text(row, "verdict")?,
                rule: text(row, "rule")?,
                reason: text(row, "reason")?,
                decided_at: row
                    .try_get::<Option<i64>, _>("decided_at")?
                    .map(from_micros)
                    .transpose()?,
                judge: text(row, "judge")?,
            })
        })
        .collect()
    }

    async fn record_usage_alert(
        &self,
        company: &CompanyId,
        period: &str,
        threshold: i64,
        used: i64,
        available: i64,
    ) -> Result<bool> {
        crate::webhooks::record_threshold_alert(
            self,
            &crate::webhooks::ThresholdAlert {
                table: "usage_alerts",
                figures: ["used", "available"],
                event: "resolutions.threshold",
            },
            company,
            period,
            threshold,
            [used, available],
        )
        .await
    }

    async fn usage_alerts(&self, company: &CompanyId) -> Result<Vec<UsageAlert>> {
        sqlx::query(
            "select period, threshold, used, available, created_at from usage_alerts \
             where company_id = $1 order by created_at desc, threshold desc",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(UsageAlert {
                period: row.try_get("period")?,
                threshold: row.try_get("threshold")?,
                used: row.try_get("used")?,
                available: row.try_get("available")?,
                created_at: from_micros(row.try_get("created_at")?)?,
            })
        })
        .collect()
    }

    async fn verdict_summary(&self, company: &CompanyId) -> Result<VerdictSummary> {
        let mut summary = VerdictSummary::default();
        let rows = sqlx::query(
            "select state, coalesce(verdict, '') as verdict, count(*) as conversations from conversations \
             where company_id = $1 group by state, verdict",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?;
        for row in rows {
            let state: String = row.try_get("state")?;
            let verdict: String = row.try_get("verdict")?;
            let count: i64 = row.try_get("conversations")?;
            match (state.as_str(), verdict.as_str()) {
                ("pending", _) => summary.pending += count,
                (_, "counted") => summary.counted += count,
                _ => summary.not_counted += count,
            }
        }
        let evaluators = sqlx::query(
            "select actor, count(*) as evaluations from verdict_audit \
             where company_id = $1 and action = 'evaluated' group by actor order by actor",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?;
        for row in evaluators {
            let count: i64 = row.try_get("evaluations")?;
            summary.evaluations += count;
            summary.evaluators.push((row.try_get("actor")?, count));
        }
        Ok(summary)
    }

    async fn counted_resolutions(&self, company: &CompanyId) -> Result<i64> {
        Ok(
            sqlx::query(
                "select count(*) as counted from counted_resolutions where company_id = $1",
            )
            .bind(&company.0)
            .fetch_one(self.pool())
            .await?
            .try_get("counted")?,
        )
    }
}
