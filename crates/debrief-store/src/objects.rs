//! A company's own objects, each a JSON document by kind and id (`company_objects`): its
//! taxonomy and applications files, AI settings, support modules, devices, policies and custom
//! roles. Changing an object that eligibility reads puts the company's sessions that were
//! skipped for a reason that can change back in the summary queue, in the same transaction.

use async_trait::async_trait;
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::Row;

use crate::sql::{micros, SqlStore};
use crate::{CompanyId, Result, StoreError};

/// The kinds of company object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// Its issue-type taxonomy (FORMATS.md section 5), instead of the built-in one; one per
    /// company, id `""`.
    Taxonomy,
    /// Its own applications, added to the built-in catalogue; id `""`.
    Applications,
    /// Its AI settings; id `""`.
    AiSettings,
    Module,
    Device,
    Policy,
    /// A custom role: its permissions.
    Role,
    /// Its credit settings (add-on pack, out-of-credits mode, alert thresholds); id `""`.
    CreditSettings,
    /// Its engine settings (summary engine, resolution check, model, limits); id `""`.
    EngineSettings,
}

impl ObjectKind {
    /// The kind as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Taxonomy => "taxonomy",
            ObjectKind::Applications => "applications",
            ObjectKind::AiSettings => "ai_settings",
            ObjectKind::Module => "module",
            ObjectKind::Device => "device",
            ObjectKind::Policy => "policy",
            ObjectKind::Role => "role",
            ObjectKind::CreditSettings => "credit_settings",
            ObjectKind::EngineSettings => "engine_settings",
        }
    }

    /// Whether eligibility for summaries reads objects of this kind.
    fn decides_eligibility(self) -> bool {
        matches!(
            self,
            ObjectKind::AiSettings
                | ObjectKind::Module
                | ObjectKind::Device
                | ObjectKind::Policy
                | ObjectKind::CreditSettings
        )
    }
}

/// The id of a kind that has one object per company.
pub const SINGLETON: &str = "";

/// Company objects as JSON text.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// One object's JSON, if it exists.
    async fn get_object(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
        id: &str,
    ) -> Result<Option<String>>;

    /// Every object of a kind, as (id, JSON), by id.
    async fn list_objects(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
    ) -> Result<Vec<(String, String)>>;

    /// Creates or replaces an object.
    async fn put_object(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
        id: &str,
        body: &str,
    ) -> Result<()>;

    /// Creates an object unless one exists; whether it was created.
    async fn insert_object_if_absent(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
        id: &str,
        body: &str,
    ) -> Result<bool>;

    /// Removes an object; [`StoreError::NotFound`] if there is none.
    async fn delete_object(&self, company: &CompanyId, kind: ObjectKind, id: &str) -> Result<()>;
}

/// Creates or replaces one company object.
pub(crate) async fn upsert_object<'c, E>(
    executor: E,
    company: &CompanyId,
    kind: ObjectKind,
    id: &str,
    body: &str,
) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "insert into company_objects (company_id, kind, id, body, updated_at) \
         values ($1, $2, $3, $4, $5) on conflict (company_id, kind, id) \
         do update set body = excluded.body, updated_at = excluded.updated_at",
    )
    .bind(&company.0)
    .bind(kind.as_str())
    .bind(id)
    .bind(body)
    .bind(micros(Utc::now()))
    .execute(executor)
    .await?;
    Ok(())
}

/// Puts the company's sessions skipped for a reason that can change back in the queue.
pub(crate) async fn requeue_skipped<'c, E>(executor: E, company: &CompanyId) -> Result<u64>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query(
        "update sessions set summary_state = 'pending', summary_next_at = 0, skip_reason = null \
         where company_id = $1 and summary_state = 'skipped' and skip_final = 0",
    )
    .bind(&company.0)
    .execute(executor)
    .await?
    .rows_affected())
}

#[async_trait]
impl ObjectStore for SqlStore {
    async fn get_object(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
        id: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query(
            "select body from company_objects where company_id = $1 and kind = $2 and id = $3",
        )
        .bind(&company.0)
        .bind(kind.as_str())
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .map(|row| row.try_get("body"))
        .transpose()?)
    }

    async fn list_objects(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
    ) -> Result<Vec<(String, String)>> {
        sqlx::query(
            "select id, body from company_objects where company_id = $1 and kind = $2 order by id",
        )
        .bind(&company.0)
        .bind(kind.as_str())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("body")?)))
        .collect()
    }

    async fn put_object(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
        id: &str,
        body: &str,
    ) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        upsert_object(&mut *transaction, company, kind, id, body).await?;
        if kind.decides_eligibility() {
            requeue_skipped(&mut *transaction, company).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn insert_object_if_absent(
        &self,
        company: &CompanyId,
        kind: ObjectKind,
        id: &str,
        body: &str,
    ) -> Result<bool> {
        let result = sqlx::query(
            "insert into company_objects (company_id, kind, id, body, updated_at) \
             values ($1, $2, $3, $4, $5) on conflict (company_id, kind, id) do nothing",
        )
        .bind(&company.0)
        .bind(kind.as_str())
        .bind(id)
        .bind(body)
        .bind(micros(Utc::now()))
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_object(&self, company: &CompanyId, kind: ObjectKind, id: &str) -> Result<()> {
        let mut transaction = self.pool().begin().await?;
        let deleted = sqlx::query(
            "delete from company_objects where company_id = $1 and kind = $2 and id = $3",
        )
        .bind(&company.0)
        .bind(kind.as_str())
        .bind(id)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        if kind.decides_eligibility() {
            requeue_skipped(&mut *transaction, company).await?;
        }
        transaction.commit().await?;
        Ok(())
    }
}

/// One object, read as `T`.
pub async fn get_typed<T: DeserializeOwned>(
    store: &(impl ObjectStore + ?Sized),
    company: &CompanyId,
    kind: ObjectKind,
    id: &str,
) -> Result<Option<T>> {
    store
        .get_object(company, kind, id)
        .await?
        .map(|body| parse(kind, id, &body))
        .transpose()
}

/// Every object of a kind, read as `T`, by id.
pub async fn list_typed<T: DeserializeOwned>(
    store: &(impl ObjectStore + ?Sized),
    company: &CompanyId,
    kind: ObjectKind,
) -> Result<Vec<(String, T)>> {
    store
        .list_objects(company, kind)
        .await?
        .into_iter()
        .map(|(id, body)| Ok((id.clone(), parse(kind, &id, &body)?)))
        .collect()
}

/// Stores `value` as an object.
pub async fn put_typed<T: Serialize + Sync>(
    store: &(impl ObjectStore + ?Sized),
    company: &CompanyId,
    kind: ObjectKind,
    id: &str,
    value: &T,
) -> Result<()> {
    let body = serde_json::to_string(value)
        .map_err(|error| StoreError::Invalid(format!("{} {id}: {error}", kind.as_str())))?;
    store.put_object(company, kind, id, &body).await
}

fn parse<T: DeserializeOwned>(kind: ObjectKind, id: &str, body: &str) -> Result<T> {
    serde_json::from_str(body)
        .map_err(|error| StoreError::Corrupt(format!("stored {} {id:?}: {error}", kind.as_str())))
}
