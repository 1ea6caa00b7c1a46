//! The AI-credit ledger (SPEC section 6). Grants carry what is left of them, so the balance is
//! a read of the few grants valid now (never a scan of the ledger); every change writes its
//! append-only ledger entry in the same transaction. A session is charged at most once: its
//! row in `charged_sessions` is the first write of the charging transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use debrief_core::credits::OutOfCredits;
use debrief_core::credits::{debt_repaid, may_borrow, pick_grant, GrantView};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::objects::requeue_skipped;
use crate::sql::{from_micros, micros, SqlStore};
use crate::{CompanyId, Result, StoreError};

/// Where credits come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditSource {
    /// The tier's monthly credits.
    Free,
    AddonPurchase,
    AddonRenewal,
    /// A correction by hand.
    Adjustment,
}

impl CreditSource {
    /// The source as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditSource::Free => "free",
            CreditSource::AddonPurchase => "addon_purchase",
            CreditSource::AddonRenewal => "addon_renewal",
            CreditSource::Adjustment => "adjustment",
        }
    }
}

/// Credits to grant, once per (source, period).
#[derive(Debug, Clone)]
pub struct NewGrant {
    pub source: CreditSource,
    /// What makes it unique: the month of free credits, the date of a renewal, a purchase id.
    pub period: String,
    pub amount: i64,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reason: String,
    /// Add-on packs that renew at the next term start from now on (a purchase adds them).
    pub renewing_packs_added: i64,
    /// The add-on packs the grant is for (0 for free credits and adjustments).
    pub packs: i64,
}

/// What the billing timeline needs of a company's credit history, each list in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditHistory {
    /// Add-on purchases: when and how many packs.
    pub purchases: Vec<(DateTime<Utc>, i64)>,
    /// AI actions that charged a session or were refused: when, and the session.
    pub actions: Vec<(DateTime<Utc>, String)>,
}

/// What a session's AI action cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Consumption {
    /// This action charged the session's credit.
    Charged,
    /// The session was charged before: this action is free.
    AlreadyCharged,
    /// No credit was left and the company's rule says stop.
    Refused,
}

/// Credits valid now from one grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalancePart {
    pub source: CreditSource,
    pub remaining: i64,
    pub granted: i64,
    pub expires_at: DateTime<Utc>,
}

/// A company's credits at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditBalance {
    /// Credits left minus debt.
    pub balance: i64,
    pub debt: i64,
    /// What each valid grant still holds, soonest expiry first.
    pub parts: Vec<BalancePart>,
    /// Add-on packs that renew at the next term start.
    pub renewing_packs: i64,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// grant, purchase, consume, expire or adjust.
    pub kind: String,
    /// Signed: credits in are positive.
    pub amount: i64,
    pub source: String,
    pub session_id: Option<String>,
    pub valid_until: Option<DateTime<Utc>>,
    pub reason: String,
}

/// A credit threshold alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreditAlert {
    pub period: String,
    /// Percent of the credits granted for the period.
    pub threshold: i64,
    pub balance: i64,
    pub granted: i64,
    pub created_at: DateTime<Utc>,
}

/// The credit ledger.
#[async_trait]
pub trait CreditStore: Send + Sync {
    /// Grants credits once per (source, period): false when already granted. Debt is repaid
    /// first; sessions skipped for lack of credits go back in the queue.
    async fn grant_credits(&self, company: &CompanyId, grant: &NewGrant) -> Result<bool>;

    /// Expires what grants ending by `now` still hold; the credits expired.
    async fn expire_credits(&self, company: &CompanyId, now: DateTime<Utc>) -> Result<i64>;

    /// Charges a session's credit for an AI action at `at` (month key `month` for the use
    /// counters), once per session ever.
    async fn consume_credit(
        &self,
        company: &CompanyId,
        session_id: &str,
        at: DateTime<Utc>,
        month: &str,
        policy: OutOfCredits,
    ) -> Result<Consumption>;

    /// The balance at `at`.
    async fn credit_balance(&self, company: &CompanyId, at: DateTime<Utc>)
        -> Result<CreditBalance>;

    /// Credits consumed and actions refused in a month (`YYYY-MM`).
    async fn credit_month_usage(&self, company: &CompanyId, month: &str) -> Result<(i64, i64)>;

    /// Ledger entries after `after_seq`, oldest first.
    async fn credit_ledger(
        &self,
        company: &CompanyId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>>;

    /// The company's newest `limit` ledger entries, newest first.
    async fn latest_credit_ledger(
        &self,
        company: &CompanyId,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>>;

    /// Add-on packs stop renewing from `at` (recorded as an `addon_cancel` line of the
    /// company's billing timeline in the same transaction).
    async fn cancel_addon_renewal(&self, company: &CompanyId, at: DateTime<Utc>) -> Result<()>;

    /// Records a threshold alert once per period: whether it is new.
    async fn record_credit_alert(
        &self,
        company: &CompanyId,
        period: &str,
        threshold: i64,
        balance: i64,
        granted: i64,
    ) -> Result<bool>;

    /// The company's credit alerts, newest first.
    async fn credit_alerts(&self, company: &CompanyId) -> Result<Vec<CreditAlert>>;

    /// Purchases and charged or refused AI actions, for the company's billing timeline.
    async fn credit_history(&self, company: &CompanyId) -> Result<CreditHistory>;
}

async fn ensure_account<'c, E>(executor: E, company: &CompanyId) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "insert into credit_accounts (company_id) values ($1) on conflict (company_id) do nothing",
    )
    .bind(&company.0)
    .execute(executor)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn write_ledger<'c, E>(
    executor: E,
    company: &CompanyId,
    at: DateTime<Utc>,
    kind: &str,
    amount: i64,
    source: &str,
    grant_id: Option<i64>,
    session_id: Option<&str>,
    valid_until: Option<DateTime<Utc>>,
    reason: &str,
) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "insert into credit_ledger (company_id, at, kind, amount, source, grant_id, session_id, \
         valid_until, reason) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&company.0)
    .bind(micros(at))
    .bind(kind)
    .bind(amount)
    .bind(source)
    .bind(grant_id)
    .bind(session_id)
    .bind(valid_until.map(micros))
    .bind(reason)
    .execute(executor)
    .await?;
    Ok(())
}

fn source_from(text: &str) -> Result<CreditSource> {
    Ok(match text {
        "free" => CreditSource::Free,
        "addon_purchase" => CreditSource::AddonPurchase,
        "addon_renewal" => CreditSource::AddonRenewal,
        "adjustment" => CreditSource::Adjustment,
        other => return Err(StoreError::Corrupt(format!("credit source {other:?}"))),
    })
}

fn entry_from_row(row: &AnyRow) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        seq: row.try_get("seq")?,
        at: from_micros(row.try_get("at")?)?,
        kind: row.try_get("kind")?,
        amount: row.try_get("amount")?,
        source: row.try_get("source")?,
        session_id: row.try_get("session_id")?,
        valid_until: row
            .try_get::<Option<i64>, _>("valid_until")?
            .map(from_micros)
            .transpose()?,
        reason: row.try_get("reason")?,
    })
}

/// Attempts at charging a grant before giving up on a very busy company.
const CHARGE_ATTEMPTS: usize = 20;

#[async_trait]
impl CreditStore for SqlStore {
    async fn grant_credits(&self, company: &CompanyId, grant: &NewGrant) -> Result<bool> {
        let mut transaction = self.pool().begin().await?;
        ensure_account(&mut *transaction, company).await?;
        let debt: i64 = sqlx::query("select debt from credit_accounts where company_id = $1")
            .bind(&company.0)
            .fetch_one(&mut *transaction)
            .await?
            .try_get("debt")?;
        let repaid = debt_repaid(debt, grant.amount);
        let inserted = sqlx::query(
            "insert into credit_grants (company_id, source, period, amount, remaining, granted_at, \
             expires_at, packs) values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict (company_id, source, period) do nothing returning id",
        )
        .bind(&company.0)
        .bind(grant.source.as_str())
        .bind(&grant.period)
        .bind(grant.amount)
        .bind(grant.amount - repaid)
        .bind(micros(grant.granted_at))
        .bind(micros(grant.expires_at))
        .bind(grant.packs)
        .fetch_optional(&mut *transaction)
        .await?;
        let Some(inserted) = inserted else {
            return Ok(false);
        };
        let repaid_now = sqlx::query(
            "update credit_accounts set debt = debt - $2, renewing_packs = renewing_packs + $3 \
             where company_id = $1 and debt >= $2",
        )
        .bind(&company.0)
        .bind(repaid)
        .bind(grant.renewing_packs_added)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if repaid_now == 0 {
            // The debt changed under us: nothing was written; the caller may try again.
            return Err(StoreError::Conflict {
                constraint: "credit_accounts.debt".into(),
            });
        }
        let kind = match grant.source {
            CreditSource::AddonPurchase => "purchase",
            CreditSource::Adjustment => "adjust",
            CreditSource::Free | CreditSource::AddonRenewal => "grant",
        };
        write_ledger(
            &mut *transaction,
            company,
            grant.granted_at,
            kind,
            grant.amount,
            grant.source.as_str(),
            Some(inserted.try_get("id")?),
            None,
            Some(grant.expires_at),
            &grant.reason,
        )
        .await?;
        requeue_skipped(&mut *transaction, company).await?;
        transaction.commit().await?;
        Ok(true)
    }

    async fn expire_credits(&self, company: &CompanyId, now: DateTime<Utc>) -> Result<i64> {
        let mut transaction = self.pool().begin().await?;
        let ended = sqlx::query(
            "update credit_grants set expired = 1 \
             where company_id = $1 and expired = 0 and expires_at <= $2 \
             returning id, source, remaining, expires_at",
        )
        .bind(&company.0)
        .bind(micros(now))
        .fetch_all(&mut *transaction)
        .await?;
        let mut expired = 0;
        for row in &ended {
            let remaining: i64 = row.try_get("remaining")?;
            if remaining <= 0 {
                continue;
            }
            let expires_at = from_micros(row.try_get("expires_at")?)?;
            let source: String = row.try_get("source")?;
            write_ledger(
                &mut *transaction,
                company,
                expires_at,
                "expire",
                -remaining,
                &source,
                Some(row.try_get("id")?),
                None,
                None,
                "unused credits expire at the end of their validity",
            )
            .await?;
            expired += remaining;
        }
        transaction.commit().await?;
        Ok(expired)
    }

    async fn consume_credit(
        &self,
        company: &CompanyId,
        session_id: &str,
        at: DateTime<Utc>,
        month: &str,
        policy: OutOfCredits,
    ) -> Result<Consumption> {
        let mut transaction = self.pool().begin().await?;
        let first = sqlx::query(
            "insert into charged_sessions (company_id, session_id, charged_at) values ($1, $2, $3) \
             on conflict (company_id, session_id) do nothing",
        )
        .bind(&company.0)
        .bind(session_id)
        .bind(micros(at))
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if first == 0 {
            return Ok(Consumption::AlreadyCharged);
        }
        ensure_account(&mut *transaction, company).await?;
        let mut charged: Option<(String, Option<i64>)> = None;
        for _ in 0..CHARGE_ATTEMPTS {
            let rows = sqlx::query(
                "select id, source, granted_at, expires_at, remaining from credit_grants \
                 where company_id = $1 and expired = 0 and remaining > 0 \
                 and granted_at <= $2 and expires_at > $2",
            )
            .bind(&company.0)
            .bind(micros(at))
            .fetch_all(&mut *transaction)
            .await?;
            let mut grants = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                grants.push(GrantView {
                    sequence: id as u64,
                    granted_at: from_micros(row.try_get("granted_at")?)?,
                    expires_at: from_micros(row.try_get("expires_at")?)?,
                    remaining: row.try_get("remaining")?,
                });
            }
            let Some(index) = pick_grant(&grants, at) else {
                break;
            };
            let id: i64 = rows[index].try_get("id")?;
            let taken = sqlx::query(
                "update credit_grants set remaining = remaining - 1 where id = $1 and remaining > 0",
            )
            .bind(id)
            .execute(&mut *transaction)
            .await?
            .rows_affected();
            if taken == 1 {
                charged = Some((rows[index].try_get("source")?, Some(id)));
                break;
            }
        }
        if charged.is_none() {
            let debt: i64 = sqlx::query("select debt from credit_accounts where company_id = $1")
                .bind(&company.0)
                .fetch_one(&mut *transaction)
                .await?
                .try_get("debt")?;
            if let (true, OutOfCredits::AllowNegative { limit }) =
                (may_borrow(policy, debt), policy)
            {
                let borrowed = sqlx::query(
                    "update credit_accounts set debt = debt + 1 where company_id = $1 and debt < $2",
                )
                .bind(&company.0)
                .bind(limit)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if borrowed == 1 {
                    charged = Some(("debt".into(), None));
                }
            }
        }
        let Some((source, grant_id)) = charged else {
            transaction.rollback().await?;
            sqlx::query(
                "insert into credit_refusals (company_id, session_id, refused_at) values ($1, $2, $3)",
            )
            .bind(&company.0)
            .bind(session_id)
            .bind(micros(at))
            .execute(self.pool())
            .await?;
            sqlx::query(
                "insert into credit_month_usage (company_id, month, refused) values ($1, $2, 1) \
                 on conflict (company_id, month) do update set refused = credit_month_usage.refused + 1",
            )
            .bind(&company.0)
            .bind(month)
            .execute(self.pool())
            .await?;
            return Ok(Consumption::Refused);
        };
        write_ledger(
            &mut *transaction,
            company,
            at,
            "consume",
            -1,
            &source,
            grant_id,
            Some(session_id),
            None,
            "the session's first AI action",
        )
        .await?;
        sqlx::query(
            "insert into credit_month_usage (company_id, month, consumed) values ($1, $2, 1) \
             on conflict (company_id, month) do update set consumed = credit_month_usage.consumed + 1",
        )
        .bind(&company.0)
        .bind(month)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Consumption::Charged)
    }

    async fn credit_balance(
        &self,
        company: &CompanyId,
        at: DateTime<Utc>,
    ) -> Result<CreditBalance> {
        let rows = sqlx::query(
            "select source, amount, remaining, expires_at from credit_grants \
             where company_id = $1 and expired = 0 and granted_at <= $2 and expires_at > $2 \
             order by expires_at, granted_at, id",
        )
        .bind(&company.0)
        .bind(micros(at))
        .fetch_all(self.pool())
        .await?;
        let mut parts = Vec::with_capacity(rows.len());
        for row in &rows {
            parts.push(BalancePart {
                source: source_from(&row.try_get::<String, _>("source")?)?,
                remaining: row.try_get("remaining")?,
                granted: row.try_get("amount")?,
                expires_at: from_micros(row.try_get("expires_at")?)?,
            });
        }
        let account =
            sqlx::query("select debt, renewing_packs from credit_accounts where company_id = $1")
                .bind(&company.0)
                .fetch_optional(self.pool())
                .await?;
        let (debt, renewing_packs) = match account {
            Some(row) => (row.try_get("debt")?, row.try_get("renewing_packs")?),
            None => (0, 0),
        };
        Ok(CreditBalance {
            balance: parts.iter().map(|part| part.remaining).sum::<i64>() - debt,
            debt,
            parts,
            renewing_packs,
        })
    }

    async fn credit_month_usage(&self, company: &CompanyId, month: &str) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "select consumed, refused from credit_month_usage where company_id = $1 and month = $2",
        )
        .bind(&company.0)
        .bind(month)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(row) => (row.try_get("consumed")?, row.try_get("refused")?),
            None => (0, 0),
        })
    }

    async fn credit_ledger(
        &self,
        company: &CompanyId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>> {
        sqlx::query(
            "select seq, at, kind, amount, source, session_id, valid_until, reason from credit_ledger \
             where company_id = $1 and seq > $2 order by seq limit $3",
        )
        .bind(&company.0)
        .bind(after_seq.unwrap_or(0))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
    }

    async fn latest_credit_ledger(
        &self,
        company: &CompanyId,
        limit: u32,
    ) -> Result<Vec<LedgerEntry>> {
        sqlx::query(
            "select seq, at, kind, amount, source, session_id, valid_until, reason from credit_ledger \
             where company_id = $1 order by seq desc limit $2",
        )
        .bind(&company.0)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
    }

    async fn cancel_addon_renewal(&self, company: &CompanyId, at: DateTime<Utc>) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        ensure_account(&mut *transaction, company).await?;
        sqlx::query("update credit_accounts set renewing_packs = 0 where company_id = $1")
            .bind(&company.0)
            .execute(&mut *transaction)
            .await?;
        let line = serde_json::json!({
            "at": debrief_core::billing::timeline_time(at),
            "type": "addon_cancel",
        });
        crate::billing::record_line(
            &mut transaction,
            company,
            at,
            "addon_cancel",
            &line.to_string(),
            None,
        )
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn record_credit_alert(
        &self,
        company: &CompanyId,
        period: &str,
        threshold: i64,
        balance: i64,
        granted: i64,
    ) -> Result<bool> {
        crate::webhooks::record_threshold_alert(
            self,
            &crate::webhooks::ThresholdAlert {
                table: "credit_alerts",
                figures: ["balance", "granted"],
                event: "credits.threshold",
            },
            company,
            period,
            threshold,
            [balance, granted],
        )
        .await
    }

    async fn credit_history(&self, company: &CompanyId) -> Result<CreditHistory> {
        let mut history = CreditHistory::default();
        for row in sqlx::query(
            "select granted_at, packs from credit_grants \
             where company_id = $1 and source = 'addon_purchase' order by granted_at, id",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        {
            history.purchases.push((
                from_micros(row.try_get("granted_at")?)?,
                row.try_get("packs")?,
            ));
        }
        for row in sqlx::query(
            "select charged_at as at, session_id from charged_sessions where company_id = $1 \
             union all select refused_at as at, session_id from credit_refusals where company_id = $1 \
             order by at",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        {
            history
                .actions
                .push((from_micros(row.try_get("at")?)?, row.try_get("session_id")?));
        }
        Ok(history)
    }

    async fn credit_alerts(&self, company: &CompanyId) -> Result<Vec<CreditAlert>> {
        sqlx::query(
            "select period, threshold, balance, granted, created_at from credit_alerts \
             where company_id = $1 order by created_at desc, threshold desc",
        )
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(CreditAlert {
                period: row.try_get("period")?,
                threshold: row.try_get("threshold")?,
                balance: row.try_get("balance")?,
                granted: row.try_get("granted")?,
                created_at: from_micros(row.try_get("created_at")?)?,
            })
        })
        .collect()
    }
}
