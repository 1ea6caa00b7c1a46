//! Companies and their API tokens in SQL.

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use debrief_core::tenancy::{LicenseTier, NewCompany, Role};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::people::PeopleStore;
use crate::sql::{from_micros, micros, new_id, SqlStore};
use crate::tokens::{hash_secret, TokenSecret};
use crate::{
    Authentication, Company, CompanyId, CompanyStore, CreatedCompany, IssuedToken, NewToken,
    Principal, Result, StoreError, TokenInfo,
};

fn company_from_row(row: &AnyRow) -> Result<Company> {
    let tier: String = row.try_get("company_tier")?;
    let term_start: String = row.try_get("company_term_start")?;
    Ok(Company {
        id: CompanyId(row.try_get("company_id")?),
        name: row.try_get("company_name")?,
        tier: LicenseTier::from_str(&tier)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?,
        time_zone: row.try_get("company_time_zone")?,
        term_start: NaiveDate::parse_from_str(&term_start, "%Y-%m-%d")
            .map_err(|error| StoreError::Corrupt(format!("term_start {term_start:?}: {error}")))?,
        created_at: from_micros(row.try_get("company_created_at")?)?,
    })
}

fn token_from_row(row: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        label: row.try_get("label")?,
        role: row.try_get("role")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_micros)
            .transpose()?,
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(from_micros)
            .transpose()?,
    })
}

const COMPANY_COLUMNS: &str =
    "c.id as company_id, c.name as company_name, c.tier as company_tier, \
     c.time_zone as company_time_zone, c.term_start as company_term_start, \
     c.created_at as company_created_at";

#[async_trait]
impl CompanyStore for SqlStore {
    async fn create_company_at(
        &self,
        company: &NewCompany,
        admin_name: &str,
        now: DateTime<Utc>,
    ) -> Result<CreatedCompany> {
        let company_id = new_id();
        let admin_user_id = new_id();
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "insert into companies (id, name, tier, time_zone, term_start, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&company_id)
        .bind(company.name.as_str())
        .bind(company.tier.as_str())
        .bind(company.time_zone.as_str())
        .bind(company.term_start.format("%Y-%m-%d").to_string())
        .bind(micros(now))
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "insert into users (id, company_id, name, role, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&admin_user_id)
        .bind(&company_id)
        .bind(admin_name)
        .bind(Role::Admin.as_str())
        .bind(micros(now))
        .execute(&mut *transaction)
        .await?;
        let company_id = CompanyId(company_id);
        let admin_token = insert_token(
            &mut transaction,
            &company_id,
            &NewToken {
                user_id: &admin_user_id,
                label: "admin",
                role: None,
                created_by: &admin_user_id,
                lifetime: None,
            },
            now,
        )
        .await?;
        transaction.commit().await?;
        Ok(CreatedCompany {
            company: Company {
                id: company_id,
                name: company.name.as_str().to_string(),
                tier: company.tier,
                time_zone: company.time_zone.as_str().to_string(),
                term_start: company.term_start,
                created_at: from_micros(micros(now))?,
            },
            admin_user_id,
            admin_token,
        })
    }

    async fn company_by_name(&self, name: &str) -> Result<Company> {
        let row = sqlx::query(&format!(
            "select {COMPANY_COLUMNS} from companies c where c.name = $1"
        ))
        .bind(name)
        .fetch_one(&self.pool)
        .await?;
        company_from_row(&row)
    }

    async fn company(&self, id: &CompanyId) -> Result<Company> {
        let row = sqlx::query(&format!(
            "select {COMPANY_COLUMNS} from companies c where c.id = $1"
        ))
        .bind(&id.0)
        .fetch_one(&self.pool)
        .await?;
        company_from_row(&row)
    }

    async fn companies(&self) -> Result<Vec<Company>> {
        sqlx::query(&format!(
            "select {COMPANY_COLUMNS} from companies c order by c.name"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(company_from_row)
        .collect()
    }

    async fn admin_user_id(&self, company: &CompanyId) -> Result<String> {
        let row = sqlx::query(
            "select id from users where company_id = $1 and role = $2 \
             order by created_at, id limit 1",
        )
        .bind(&company.0)
        .bind(Role::Admin.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    async fn authenticate(&self, secret: &str, now: DateTime<Utc>) -> Result<Authentication> {
        let row = sqlx::query(&format!(
            "select t.id as token_id, t.user_id as user_id, coalesce(t.role, u.role) as role, \
             creator.role as creator_role, t.created_at as token_created_at, t.expires_at, \
             t.idle_seconds, t.last_used_at, {COMPANY_COLUMNS} \
             from api_tokens t \
             join users u on u.id = t.user_id and u.company_id = t.company_id \
             join companies c on c.id = t.company_id \
             left join users creator on creator.id = t.created_by \
             and creator.company_id = t.company_id \
             where t.token_hash = $1 and t.revoked_at is null"
        ))
        .bind(hash_secret(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Authentication::Unknown);
        };
        let now_micros = micros(now);
        if row
            .try_get::<Option<i64>, _>("expires_at")?
            .is_some_and(|expires| expires <= now_micros)
        {
            return Ok(Authentication::Expired(
                "this sign-in has passed its time limit: sign in again",
            ));
        }
        let token_id: String = row.try_get("token_id")?;
        if let Some(idle) = row.try_get::<Option<i64>, _>("idle_seconds")? {
            let last_used = row
                .try_get::<Option<i64>, _>("last_used_at")?
                .unwrap_or(row.try_get("token_created_at")?);
            if last_used.saturating_add(idle.saturating_mul(1_000_000)) <= now_micros {
                return Ok(Authentication::Expired(
                    "this sign-in was idle too long: sign in again",
                ));
            }
            // At most one write a minute per token (a tenth of the idle limit when shorter).
            let write_every = idle.saturating_mul(100_000).min(60_000_000);
            sqlx::query(
                "update api_tokens set last_used_at = $1 where id = $2 \
                 and (last_used_at is null or last_used_at <= $3)",
            )
            .bind(now_micros)
            .bind(&token_id)
            .bind(now_micros - write_every)
            .execute(&self.pool)
            .await?;
        }
        let role: String = row.try_get("role")?;
        let company = company_from_row(&row)?;
        let mut permissions = self.role_permissions(&company.id, &role).await?;
        if let Some(creator_role) = row.try_get::<Option<String>, _>("creator_role")? {
            permissions =
                permissions.intersection(self.role_permissions(&company.id, &creator_role).await?);
        }
        Ok(Authentication::Valid(Principal {
            company,
            user_id: row.try_get("user_id")?,
            role,
            permissions,
            token_id,
        }))
    }

    async fn create_token(
        &self,
        company: &CompanyId,
        token: &NewToken<'_>,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("select id from users where company_id = $1 and id = $2")
            .bind(&company.0)
            .bind(token.user_id)
            .fetch_one(&mut *transaction)
            .await?;
        let issued = insert_token(&mut transaction, company, token, now).await?;
        transaction.commit().await?;
        Ok(issued)
    }

    async fn list_tokens(&self, company: &CompanyId) -> Result<Vec<TokenInfo>> {
        sqlx::query(
            "select id, user_id, label, role, created_at, revoked_at, expires_at from api_tokens \
             where company_id = $1 order by created_at desc, id desc",
        )
        .bind(&company.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    async fn revoke_token(&self, company: &CompanyId, token_id: &str) -> Result<()> {
        let result = sqlx::query(
            "update api_tokens set revoked_at = coalesce(revoked_at, $3) \
             where company_id = $1 and id = $2",
        )
        .bind(&company.0)
        .bind(token_id)
        .bind(micros(Utc::now()))
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

async fn insert_token(
    transaction: &mut sqlx::Transaction<'_, sqlx::Any>,
    company: &CompanyId,
    token: &NewToken<'_>,
    now: DateTime<Utc>,
) -> Result<IssuedToken> {
    let secret = TokenSecret::generate()
        .map_err(|error| StoreError::Invalid(format!("no random source: {error}")))?;
    let id = new_id();
    let expires_at = token
        .lifetime
        .map(|lifetime| micros(now).saturating_add(lifetime.max_seconds.saturating_mul(1_000_000)));
    sqlx::query(
        "insert into api_tokens (id, company_id, user_id, label, token_hash, created_at, role, \
         created_by, expires_at, idle_seconds) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&company.0)
    .bind(token.user_id)
    .bind(token.label)
    .bind(hash_secret(secret.expose()))
    .bind(micros(now))
    .bind(token.role)
    .bind(token.created_by)
    .bind(expires_at)
    .bind(token.lifetime.map(|lifetime| lifetime.idle_seconds))
    .execute(&mut **transaction)
    .await?;
    Ok(IssuedToken {
        info: TokenInfo {
            id,
            user_id: token.user_id.to_string(),
            label: token.label.to_string(),
            role: token.role.map(str::to_string),
            created_at: from_micros(micros(now))?,
            revoked_at: None,
            expires_at: expires_at.map(from_micros).transpose()?,
        },
        secret,
    })
}
