//! A company's billing timeline — the lines of FORMATS.md section 6 that the billing rules of
//! debrief-core replay into statements and the AI agents' status — and its **meter**: the
//! rules' state after the last line, kept in the transaction of every line, so that reading the
//! status, the month's usage or a statement never replays the history.
//!
//! The meter (`billing_meters`) is a serialized [`Simulator`] fed the timeline's stored lines
//! (plan, seats, commitments, settings, the AI-agent switch, counted resolutions, credit
//! settings, tier changes, add-on cancellations; not purchases and AI actions, which the credit
//! ledger keeps). Each line locks the company's meter row first — an upsert, which waits for
//! another writer on both backends — applies itself, and stores each month the meter closes
//! (`billing_months`), once. A line dated before the meter's last one is applied, and stored,
//! at the meter's time: a replay of the stored timeline gives exactly the meter. The meter is
//! null until the server builds it from the timeline ([`BillingStore::install_billing_meter`]),
//! and reset to null when history is rewritten (the plan set, a counted resolution withdrawn
//! by an admin).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use debrief_core::billing::{timeline_time, MonthStatement, Simulator, TimedEvent};
use debrief_core::tenancy::LicenseTier;
use sqlx::Row;

use crate::objects::ObjectKind;
use crate::sql::{micros, SqlStore};
use crate::{CompanyId, Result, StoreError};

/// One stored timeline line with its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingLine {
    pub seq: i64,
    pub line: String,
}

/// A timeline line to append: its time, kind (the line's `type`) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBillingLine {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub line: String,
}

/// What changes together with the timeline lines that record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedChange<'a> {
    /// The company object of this kind and id gets this body.
    Object {
        kind: ObjectKind,
        id: &'a str,
        body: &'a str,
    },
    /// The company's license tier.
    Tier(LicenseTier),
}

/// The billing timeline and meter of each company.
#[async_trait]
pub trait BillingStore: Send + Sync {
    /// Appends a timeline line of type `kind` at `at`, applied to the company's meter in the
    /// same transaction. A second `account` line is a [`crate::StoreError::Conflict`].
    async fn append_billing_event(
        &self,
        company: &CompanyId,
        at: DateTime<Utc>,
        kind: &str,
        line: &str,
    ) -> Result<()>;

    /// Makes `change` and appends `lines` (each applied to the meter) in one transaction: a
    /// setting and the history that records it are written together or not at all.
    async fn record_change(
        &self,
        company: &CompanyId,
        change: RecordedChange<'_>,
        lines: &[NewBillingLine],
    ) -> Result<()>;

    /// The company's timeline lines in the order they were appended.
    async fn billing_events(&self, company: &CompanyId) -> Result<Vec<BillingLine>>;

    /// The company's timeline lines of these kinds, in the order they were appended.
    async fn billing_events_of_kinds(
        &self,
        company: &CompanyId,
        kinds: &[&str],
    ) -> Result<Vec<String>>;

    /// The company's meter (a serialized [`Simulator`]); `None` until it is built.
    async fn billing_meter(&self, company: &CompanyId) -> Result<Option<String>>;

    /// Installs a meter built from the timeline lines up to `through_seq`, with the months it
    /// closed, unless another one was installed meanwhile; lines appended after `through_seq`
    /// are applied to it first. Returns the meter now installed. A plan set meanwhile is a
    /// [`StoreError::Conflict`]: build again.
    async fn install_billing_meter(
        &self,
        company: &CompanyId,
        meter: &Simulator,
        closed: &[MonthStatement],
        through_seq: i64,
    ) -> Result<String>;

    /// The months the company's meter closed, oldest first.
    async fn billing_months(&self, company: &CompanyId) -> Result<Vec<MonthStatement>>;
}

type Transaction<'t> = sqlx::Transaction<'t, sqlx::Any>;

/// Locks the company's meter row (creating it, null, when missing) and returns its state.
async fn lock_meter(
    transaction: &mut Transaction<'_>,
    company: &CompanyId,
) -> Result<Option<String>> {
    Ok(sqlx::query(
        "insert into billing_meters (company_id, version, updated_at) values ($1, 1, $2) \
         on conflict (company_id) do update set version = billing_meters.version + 1, updated_at = $2 \
         returning state",
    )
    .bind(&company.0)
    .bind(micros(Utc::now()))
    .fetch_one(&mut **transaction)
    .await?
    .try_get("state")?)
}

/// Forgets the company's meter and its stored months: rebuilt from the timeline on next use.
pub(crate) async fn reset_meter(
    transaction: &mut Transaction<'_>,
    company: &CompanyId,
) -> Result<()> {
    lock_meter(transaction, company).await?;
    sqlx::query("update billing_meters set state = null where company_id = $1")
        .bind(&company.0)
        .execute(&mut **transaction)
        .await?;
    sqlx::query("delete from billing_months where company_id = $1")
        .bind(&company.0)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}

fn corrupt(error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("billing meter: {error}"))
}

/// Applies one line to a meter: at the meter's position when it is dated before it, in which
/// case the line's text says that time. Returns the line's time and text as applied.
fn apply_line(meter: &mut Simulator, line: &str) -> Result<(DateTime<Utc>, String)> {
    let mut event = TimedEvent::parse_json(line)
        .map_err(|error| StoreError::Invalid(format!("timeline line: {error}")))?;
    let mut text = line.to_string();
    if event.at < meter.position() {
        event.at = meter.position();
        let mut value: serde_json::Value = serde_json::from_str(line).map_err(corrupt)?;
        value["at"] = serde_json::Value::String(timeline_time(event.at));
        text = value.to_string();
    }
    meter.apply(&event).map_err(corrupt)?;
    Ok((event.at, text))
}

/// Writes the meter and the months it closed (each month once).
async fn save_meter(
    transaction: &mut Transaction<'_>,
    company: &CompanyId,
    meter: &mut Simulator,
    earlier_closed: &[MonthStatement],
) -> Result<String> {
    let closed = meter.take_closed_months();
    for month in earlier_closed.iter().chain(&closed) {
        sqlx::query(
            "insert into billing_months (company_id, month, statement) values ($1, $2, $3) \
             on conflict (company_id, month) do nothing",
        )
        .bind(&company.0)
        .bind(&month.month)
        .bind(serde_json::to_string(month).map_err(corrupt)?)
        .execute(&mut **transaction)
        .await?;
    }
    let state = serde_json::to_string(&meter).map_err(corrupt)?;
    sqlx::query("update billing_meters set state = $2 where company_id = $1")
        .bind(&company.0)
        .bind(&state)
        .execute(&mut **transaction)
        .await?;
    Ok(state)
}

/// Appends a timeline line in `transaction`, through the company's meter (see the module
/// documentation). `conversation` is set on a counted resolution's line.
pub(crate) async fn record_line(
    transaction: &mut Transaction<'_>,
    company: &CompanyId,
    at: DateTime<Utc>,
    kind: &str,
    line: &str,
    conversation: Option<&str>,
) -> Result<()> {
    let state = lock_meter(transaction, company).await?;
    let (at, text) = match state {
        _ if kind == "account" => {
            reset_meter(transaction, company).await?;
            (at, line.to_string())
        }
        Some(state) => {
            let mut meter: Simulator = serde_json::from_str(&state).map_err(corrupt)?;
            let applied = apply_line(&mut meter, line)?;
            save_meter(transaction, company, &mut meter, &[]).await?;
            applied
        }
        None => (at, line.to_string()),
    };
    sqlx::query(
        "insert into billing_events (company_id, at, kind, line, conversation_id, created_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&company.0)
    .bind(micros(at))
    .bind(kind)
    .bind(text)
    .bind(conversation)
    .bind(micros(Utc::now()))
    .execute(&mut **transaction)
    .await?;
    Ok(())
}

#[async_trait]
impl BillingStore for SqlStore {
    async fn append_billing_event(
        &self,
        company: &CompanyId,
        at: DateTime<Utc>,
        kind: &str,
        line: &str,
    ) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        record_line(&mut transaction, company, at, kind, line, None).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn record_change(
        &self,
        company: &CompanyId,
        change: RecordedChange<'_>,
        lines: &[NewBillingLine],
    ) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        match change {
            RecordedChange::Object { kind, id, body } => {
                crate::objects::upsert_object(&mut *transaction, company, kind, id, body).await?;
            }
            RecordedChange::Tier(tier) => {
                sqlx::query("update companies set tier = $2, updated_at = $3 where id = $1")
                    .bind(&company.0)
                    .bind(tier.as_str())
                    .bind(micros(Utc::now()))
                    .execute(&mut *transaction)
                    .await?;
            }
        }
        for line in lines {
            record_line(
                &mut transaction,
                company,
                line.at,
                &line.kind,
                &line.line,
                None,
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn billing_events(&self, company: &CompanyId) -> Result<Vec<BillingLine>> {
        sqlx::query("select seq, line from billing_events where company_id = $1 order by seq")
            .bind(&company.0)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(BillingLine {
                    seq: row.try_get("seq")?,
                    line: row.try_get("line")?,
                })
            })
            .collect()
    }

    async fn billing_events_of_kinds(
        &self,
        company: &CompanyId,
        kinds: &[&str],
    ) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        for kind in kinds {
            let rows = sqlx::query(
                "select seq, line from billing_events where company_id = $1 and kind = $2",
            )
            .bind(&company.0)
            .bind(*kind)
            .fetch_all(self.pool())
            .await?;
            for row in rows {
                lines.push((
                    row.try_get::<i64, _>("seq")?,
                    row.try_get::<String, _>("line")?,
                ));
            }
        }
        lines.sort_unstable_by_key(|(seq, _)| *seq);
        Ok(lines.into_iter().map(|(_, line)| line).collect())
    }

    async fn billing_meter(&self, company: &CompanyId) -> Result<Option<String>> {
        Ok(
            sqlx::query("select state from billing_meters where company_id = $1")
                .bind(&company.0)
                .fetch_optional(self.pool())
                .await?
                .map(|row| row.try_get::<Option<String>, _>("state"))
                .transpose()?
                .flatten(),
        )
    }

    async fn install_billing_meter(
        &self,
        company: &CompanyId,
        meter: &Simulator,
        closed: &[MonthStatement],
        through_seq: i64,
    ) -> Result<String> {
        let mut transaction = self.pool().begin().await?;
        if let Some(installed) = lock_meter(&mut transaction, company).await? {
            transaction.commit().await?;
            return Ok(installed);
        }
        let later = sqlx::query(
            "select kind, line from billing_events where company_id = $1 and seq > $2 order by seq",
        )
        .bind(&company.0)
        .bind(through_seq)
        .fetch_all(&mut *transaction)
        .await?;
        let mut meter: Simulator =
            serde_json::from_str(&serde_json::to_string(meter).map_err(corrupt)?)
                .map_err(corrupt)?;
        for row in &later {
            if row.try_get::<String, _>("kind")? == "account" {
                return Err(StoreError::Conflict {
                    constraint: "billing_meters: the plan was set meanwhile".into(),
                });
            }
            apply_line(&mut meter, &row.try_get::<String, _>("line")?)?;
        }
        let state = save_meter(&mut transaction, company, &mut meter, closed).await?;
        transaction.commit().await?;
        Ok(state)
    }

    async fn billing_months(&self, company: &CompanyId) -> Result<Vec<MonthStatement>> {
        sqlx::query("select statement from billing_months where company_id = $1 order by month")
            .bind(&company.0)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                serde_json::from_str(&row.try_get::<String, _>("statement")?).map_err(corrupt)
            })
            .collect()
    }
}
