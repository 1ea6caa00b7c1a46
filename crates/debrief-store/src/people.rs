//! Users, their roles and settings: who may do what, who signs in, and whose sessions are
//! logged for connection reports.

use async_trait::async_trait;
use chrono::Utc;
use debrief_core::access::{builtin_role, PermissionSet};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::objects::{get_typed, requeue_skipped, ObjectKind};
use crate::sql::{micros, new_id, SqlStore};
use crate::{CompanyId, Result, StoreError};

/// A custom role as stored: the permissions it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRole {
    pub permissions: PermissionSet,
}

/// A user as listed (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: String,
    pub email: Option<String>,
    /// The id sessions name this user by as their supporter.
    pub supporter_id: Option<String>,
    /// "Log sessions for connection reports": off means their sessions are stored but never
    /// summarized.
    pub log_sessions: bool,
    pub has_password: bool,
    /// The language of their web pages (`en`, `pt-BR`, `es`, `de`, `fr`); `None`: the company's.
    pub language: Option<String>,
}

/// A user to create.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub name: String,
    pub role: String,
    pub email: Option<String>,
    pub supporter_id: Option<String>,
    pub log_sessions: bool,
    pub password_hash: Option<String>,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<String>,
    pub log_sessions: Option<bool>,
    pub password_hash: Option<String>,
    pub language: Option<String>,
}

/// What sign-in needs to check a password.
#[derive(Debug, Clone)]
pub struct SignInCandidate {
    pub company: CompanyId,
    pub user_id: String,
    pub password_hash: String,
}

/// Users and roles.
#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// The permissions of a role of the company: a built-in one, or its own (an unknown
    /// role grants nothing).
    async fn role_permissions(&self, company: &CompanyId, role: &str) -> Result<PermissionSet>;

    /// Whether a user or an unrevoked token of the company has the role.
    async fn role_in_use(&self, company: &CompanyId, role: &str) -> Result<bool>;

    /// The company's users, by name.
    async fn list_users(&self, company: &CompanyId) -> Result<Vec<User>>;

    /// One user; another company's is [`StoreError::NotFound`].
    async fn get_user(&self, company: &CompanyId, id: &str) -> Result<User>;

    /// Creates a user; a taken e-mail or supporter id is a [`StoreError::Conflict`].
    async fn create_user(&self, company: &CompanyId, user: &NewUser) -> Result<User>;

    /// Changes a user. Turning "log sessions" back on makes their skipped sessions eligible
    /// again.
    async fn update_user(&self, company: &CompanyId, id: &str, change: &UserChange)
        -> Result<User>;

    /// The "log sessions for connection reports" setting of the supporter a session names
    /// (on for a supporter who is not a user of the company).
    async fn supporter_logs_sessions(
        &self,
        company: &CompanyId,
        supporter_id: &str,
    ) -> Result<bool>;

    /// The user who signs in with this e-mail at this company, if they have a password.
    async fn sign_in_candidate(
        &self,
        company_name: &str,
        email: &str,
    ) -> Result<Option<SignInCandidate>>;
}

const USER_COLUMNS: &str = "id, name, role, email, supporter_id, log_sessions, language, \
     password_hash is not null as has_password";

fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        email: row.try_get("email")?,
        supporter_id: row.try_get("supporter_id")?,
        log_sessions: row.try_get::<i64, _>("log_sessions")? != 0,
        has_password: row.try_get::<bool, _>("has_password").or_else(|_| {
            row.try_get::<i64, _>("has_password")
                .map(|value| value != 0)
        })?,
        language: row.try_get("language")?,
    })
}

#[async_trait]
impl PeopleStore for SqlStore {
    async fn role_permissions(&self, company: &CompanyId, role: &str) -> Result<PermissionSet> {
        if let Some(permissions) = builtin_role(role) {
            return Ok(permissions);
        }
        Ok(
            get_typed::<CustomRole>(self, company, ObjectKind::Role, role)
                .await?
                .map(|role| role.permissions)
                .unwrap_or_default(),
        )
    }

    async fn role_in_use(&self, company: &CompanyId, role: &str) -> Result<bool> {
        let row = sqlx::query(
            "select (select count(*) from users where company_id = $1 and role = $2) \
             + (select count(*) from api_tokens where company_id = $1 and role = $2 \
                and revoked_at is null) as uses",
        )
        .bind(&company.0)
        .bind(role)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<i64, _>("uses")? > 0)
    }

    async fn list_users(&self, company: &CompanyId) -> Result<Vec<User>> {
        sqlx::query(&format!(
            "select {USER_COLUMNS} from users where company_id = $1 order by name, id"
        ))
        .bind(&company.0)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn get_user(&self, company: &CompanyId, id: &str) -> Result<User> {
        let row = sqlx::query(&format!(
            "select {USER_COLUMNS} from users where company_id = $1 and id = $2"
        ))
        .bind(&company.0)
        .bind(id)
        .fetch_one(self.pool())
        .await?;
        user_from_row(&row)
    }

    async fn create_user(&self, company: &CompanyId, user: &NewUser) -> Result<User> {
        let id = new_id();
        let now = micros(Utc::now());
        sqlx::query(
            "insert into users (id, company_id, name, role, email, supporter_id, log_sessions, \
             password_hash, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(&company.0)
        .bind(&user.name)
        .bind(&user.role)
        .bind(user.email.as_deref())
        .bind(user.supporter_id.as_deref())
        .bind(i64::from(user.log_sessions))
        .bind(user.password_hash.as_deref())
        .bind(now)
        .execute(self.pool())
        .await?;
        self.get_user(company, &id).await
    }

    async fn update_user(
        &self,
        company: &CompanyId,
        id: &str,
        change: &UserChange,
    ) -> Result<User> {
        let mut transaction = self.pool().begin().await?;
        let updated = sqlx::query(
            "update users set name = coalesce($3, name), role = coalesce($4, role), \
             log_sessions = coalesce($5, log_sessions), \
             password_hash = coalesce($6, password_hash), updated_at = $7, \
             language = coalesce($8, language) where company_id = $1 and id = $2",
        )
        .bind(&company.0)
        .bind(id)
        .bind(change.name.as_deref())
        .bind(change.role.as_deref())
        .bind(change.log_sessions.map(i64::from))
        .bind(change.password_hash.as_deref())
        .bind(micros(Utc::now()))
        .bind(change.language.as_deref())
        .execute(&mut *transaction)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        if change.log_sessions == Some(true) {
            requeue_skipped(&mut *transaction, company).await?;
        }
        transaction.commit().await?;
        self.get_user(company, id).await
    }

    async fn supporter_logs_sessions(
        &self,
        company: &CompanyId,
        supporter_id: &str,
    ) -> Result<bool> {
        let row = sqlx::query(
            "select log_sessions from users where company_id = $1 and supporter_id = $2",
        )
        .bind(&company.0)
        .bind(supporter_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64, _>("log_sessions")? != 0,
            None => true,
        })
    }

    async fn sign_in_candidate(
        &self,
        company_name: &str,
        email: &str,
    ) -> Result<Option<SignInCandidate>> {
        let row = sqlx::query(
            "select u.company_id as company_id, u.id as id, u.password_hash as password_hash \
             from users u join companies c on c.id = u.company_id \
             where c.name = $1 and u.email = $2 and u.password_hash is not null",
        )
        .bind(company_name)
        .bind(email)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| {
            Ok(SignInCandidate {
                company: CompanyId(row.try_get("company_id")?),
                user_id: row.try_get("id")?,
                password_hash: row.try_get("password_hash")?,
            })
        })
        .transpose()
    }
}
