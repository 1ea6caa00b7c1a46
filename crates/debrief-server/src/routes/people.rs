//! Roles, users and sign-in: `/api/v1/roles`, `/api/v1/users`, `POST /api/v1/sign-in`.
//! Built-in roles (`admin`, `supporter`, `viewer`) are fixed; a company's own role starts as
//! a copy of one and can be edited. Passwords are stored as argon2id hashes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use debrief_core::access::{builtin_role, check_role_name, PermissionSet, BUILTIN_ROLES};
use debrief_core::RecordError;
use debrief_engine::language::Language;
use debrief_store::{
    list_typed, put_typed, CompanyId, CustomRole, NewUser, ObjectKind, StoreError, User, UserChange,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{check_grant, need, Caller, Permitted};
use debrief_workflows::passwords::{hash_password, password_matches};

use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;

/// A 422 unless `role` is a built-in role or one of the company's own.
pub async fn check_role_exists(state: &AppState, company: &CompanyId, role: &str) -> ApiResult<()> {
    let known = builtin_role(role).is_some()
        || state
            .store
            .get_object(company, ObjectKind::Role, role)
            .await?
            .is_some();
    if known {
        Ok(())
    } else {
        Err(ApiError::InvalidRecord(RecordError::invalid(
            "role",
            format!("no role {role:?} in the company"),
        )))
    }
}

/// `GET /api/v1/roles`: built-in and custom roles with their permissions.
#[utoipa::path(
    get, path = "/api/v1/roles", tag = "people", operation_id = "people_list_roles",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage")),
    security(("bearer" = []))
)]
pub async fn list_roles(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
) -> ApiResult<Json<Value>> {
    let mut roles: Vec<Value> = BUILTIN_ROLES
        .iter()
        .filter_map(|name| builtin_role(name).map(|permissions| (name, permissions)))
        .map(|(name, permissions)| json!({"name": name, "builtin": true, "permissions": permissions}))
        .collect();
    for (name, role) in list_typed::<CustomRole>(
        state.store.as_ref(),
        &principal.company.id,
        ObjectKind::Role,
    )
    .await?
    {
        roles.push(json!({"name": name, "builtin": false, "permissions": role.permissions}));
    }
    Ok(Json(json!({ "items": roles })))
}

/// Body of `POST /api/v1/roles`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRoleRequest {
    name: String,
    /// The built-in role it starts as a copy of (needed when `permissions` is absent).
    #[serde(default)]
    copy_from: Option<String>,
    /// Its permissions instead of the copied ones.
    #[serde(default)]
    permissions: Option<PermissionSet>,
}

fn invalid(field: &str, error: debrief_core::Error) -> ApiError {
    let debrief_core::Error::Invalid { reason, .. } = error;
    ApiError::InvalidRecord(RecordError::invalid(field, reason))
}

/// `POST /api/v1/roles`: a company role copied from a built-in one, optionally with other
/// permissions.
#[utoipa::path(
    post, path = "/api/v1/roles", tag = "people", operation_id = "people_create_role",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn create_role(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: NewRoleRequest = json_body(&body)?;
    check_role_name(&request.name).map_err(|error| invalid("name", error))?;
    let copied = match request.copy_from.as_deref() {
        Some(name) => Some(builtin_role(name).ok_or_else(|| {
            ApiError::InvalidRecord(RecordError::invalid(
                "copy_from",
                "expected a built-in role: admin, supporter or viewer",
            ))
        })?),
        None => None,
    };
    let Some(permissions) = request.permissions.or(copied) else {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "permissions",
            "give the role's permissions, or copy_from: a built-in role to copy",
        )));
    };
    let company = &principal.company.id;
    if state
        .store
        .get_object(company, ObjectKind::Role, &request.name)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(format!("role {} exists", request.name)));
    }
    let role = CustomRole { permissions };
    check_grant(
        &principal,
        role.permissions,
        &format!("role {}", request.name),
    )?;
    put_typed(
        state.store.as_ref(),
        company,
        ObjectKind::Role,
        &request.name,
        &role,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": request.name, "builtin": false, "permissions": role.permissions})),
    ))
}

/// Body of `PUT /api/v1/roles/{name}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    permissions: PermissionSet,
}

/// `PUT /api/v1/roles/{name}`: a custom role's permissions (built-in roles are fixed).
#[utoipa::path(
    put, path = "/api/v1/roles/{name}", tag = "people", operation_id = "people_put_role",
    params(("name" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_role(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let request: RoleRequest = json_body(&body)?;
    if builtin_role(&name).is_some() {
        return Err(ApiError::Conflict(format!(
            "{name} is a built-in role: copy it to change it"
        )));
    }
    let company = &principal.company.id;
    let Some(current) = debrief_store::get_typed::<CustomRole>(
        state.store.as_ref(),
        company,
        ObjectKind::Role,
        &name,
    )
    .await?
    else {
        return Err(ApiError::NotFound);
    };
    // Neither a role above the caller nor a right the caller lacks.
    check_grant(&principal, current.permissions, &format!("role {name}"))?;
    check_grant(&principal, request.permissions, "the changed role")?;
    let role = CustomRole {
        permissions: request.permissions,
    };
    put_typed(
        state.store.as_ref(),
        company,
        ObjectKind::Role,
        &name,
        &role,
    )
    .await?;
    Ok(Json(
        json!({"name": name, "builtin": false, "permissions": role.permissions}),
    ))
}

/// `DELETE /api/v1/roles/{name}`: 409 while a user or token has it.
#[utoipa::path(
    delete, path = "/api/v1/roles/{name}", tag = "people", operation_id = "people_delete_role",
    params(("name" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage")),
    security(("bearer" = []))
)]
pub async fn delete_role(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    if builtin_role(&name).is_some() {
        return Err(ApiError::Conflict(format!("{name} is a built-in role")));
    }
    let company = &principal.company.id;
    if state.store.role_in_use(company, &name).await? {
        return Err(ApiError::Conflict(format!(
            "role {name} is held by a user or token"
        )));
    }
    state
        .store
        .delete_object(company, ObjectKind::Role, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/users`.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "people", operation_id = "people_list_users",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage")),
    security(("bearer" = []))
)]
pub async fn list_users(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
) -> ApiResult<Json<Value>> {
    let users = state.store.list_users(&principal.company.id).await?;
    Ok(Json(json!({ "items": users })))
}

/// Body of `POST /api/v1/users`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    name: String,
    role: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    supporter_id: Option<String>,
    #[serde(default = "default_on")]
    log_sessions: bool,
}

fn default_on() -> bool {
    true
}

fn conflict_as_field(field: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |error| match error {
        StoreError::Conflict { .. } => ApiError::Conflict(format!("{field} is taken")),
        other => other.into(),
    }
}

/// `POST /api/v1/users`: a user with a role; with an e-mail and password they can sign in,
/// with a supporter id their sessions are matched to them.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "people", operation_id = "people_create_user",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn create_user(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<User>)> {
    let request: NewUserRequest = json_body(&body)?;
    let company = &principal.company.id;
    check_user_name(&request.name)?;
    if let Some(email) = &request.email {
        if !email.contains('@') || email.len() > 320 {
            return Err(ApiError::InvalidRecord(RecordError::invalid(
                "email",
                "is not an e-mail address",
            )));
        }
    }
    if let Some(supporter_id) = &request.supporter_id {
        debrief_core::error::check_id("supporter_id", supporter_id)
            .map_err(ApiError::InvalidRecord)?;
    }
    check_role_exists(&state, company, &request.role).await?;
    let granted = state.store.role_permissions(company, &request.role).await?;
    check_grant(&principal, granted, &format!("role {}", request.role))?;
    let password_hash = request.password.as_deref().map(hash_password).transpose()?;
    let user = state
        .store
        .create_user(
            company,
            &NewUser {
                name: request.name.trim().to_string(),
                role: request.role,
                email: request.email.map(|email| email.trim().to_lowercase()),
                supporter_id: request.supporter_id,
                log_sessions: request.log_sessions,
                password_hash,
            },
        )
        .await
        .map_err(conflict_as_field("email or supporter_id"))?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// A 422 unless a user's name is 1 to 200 characters.
fn check_user_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(ApiError::InvalidRecord(RecordError::invalid(
            "name",
            "must be 1 to 200 characters",
        )));
    }
    Ok(())
}

/// Body of `PATCH /api/v1/users/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChangeRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    log_sessions: Option<bool>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

/// `language` as one of the supported codes, or a 422 naming the field.
fn language_code(language: &str) -> ApiResult<String> {
    Language::from_code(language)
        .map(|language| language.code().to_string())
        .ok_or_else(|| {
            ApiError::InvalidRecord(RecordError::invalid(
                "language",
                "must be one of en, pt-BR, es, de, fr",
            ))
        })
}

/// `PATCH /api/v1/users/{id}`: name, role, password, language or "log sessions for connection
/// reports".
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "people", operation_id = "people_update_user",
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn update_user(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<User>> {
    let request: UserChangeRequest = json_body(&body)?;
    let company = &principal.company.id;
    if let Some(name) = &request.name {
        check_user_name(name)?;
    }
    // Nobody manages a user who holds more than they do (their password included).
    let target = state.store.get_user(company, &id).await?;
    let held = state.store.role_permissions(company, &target.role).await?;
    check_grant(&principal, held, &format!("user {}", target.name))?;
    if let Some(role) = &request.role {
        check_role_exists(&state, company, role).await?;
        let granted = state.store.role_permissions(company, role).await?;
        check_grant(&principal, granted, &format!("role {role}"))?;
    }
    let change = UserChange {
        name: request.name,
        role: request.role,
        log_sessions: request.log_sessions,
        password_hash: request.password.as_deref().map(hash_password).transpose()?,
        language: request.language.as_deref().map(language_code).transpose()?,
    };
    Ok(Json(state.store.update_user(company, &id, &change).await?))
}

/// `GET /api/v1/me`: who the token acts as — company, user, role, permissions —, the
/// language they chose for their pages (`null` until they choose: the pages follow the
/// browser's language; it never follows the company's summary language) and, for one who may
/// see usage, the AI-credit balance (`null` otherwise).
#[utoipa::path(
    get, path = "/api/v1/me", tag = "people", operation_id = "people_get_me",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token")),
    security(("bearer" = []))
)]
pub async fn get_me(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> ApiResult<Json<Value>> {
    let company = &principal.company.id;
    let user = state.store.get_user(company, &principal.user_id).await?;
    // The AI-credit balance, for whoever may see usage (the pages show it in their header).
    let credit_balance = if principal
        .permissions
        .contains(debrief_core::access::Permission::UsageView)
    {
        let balance = state
            .store
            .credit_balance(company, state.clock.now())
            .await?;
        Some(balance.balance)
    } else {
        None
    };
    Ok(Json(json!({
        "company": principal.company.name,
        "user": {"id": user.id, "name": user.name, "email": user.email},
        "role": principal.role,
        "permissions": principal.permissions,
        "language": user.language,
        "credit_balance": credit_balance,
    })))
}

/// Body of `PUT /api/v1/me/language`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageRequest {
    language: String,
}

/// `PUT /api/v1/me/language`: the caller's own language for pages and exports.
#[utoipa::path(
    put, path = "/api/v1/me/language", tag = "people", operation_id = "people_put_my_language",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn put_my_language(
    State(state): State<AppState>,
    Caller(principal): Caller,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let request: LanguageRequest = json_body(&body)?;
    let change = UserChange {
        language: Some(language_code(&request.language)?),
        ..UserChange::default()
    };
    let user = state
        .store
        .update_user(&principal.company.id, &principal.user_id, &change)
        .await?;
    Ok(Json(json!({"language": user.language})))
}

/// `POST /api/v1/sign-out`: revokes the token the request carries.
#[utoipa::path(
    post, path = "/api/v1/sign-out", tag = "people", operation_id = "people_sign_out",
    responses((status = 204, description = "signed out"), (status = 401, description = "no valid bearer token")),
    security(("bearer" = []))
)]
pub async fn sign_out(
    State(state): State<AppState>,
    Caller(principal): Caller,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    crate::routes::records::no_body(&body)?;
    state
        .store
        .revoke_token(&principal.company.id, &principal.token_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /api/v1/sign-in`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    company: String,
    email: String,
    password: String,
}

/// `POST /api/v1/sign-in`: a user's e-mail and password at a company give a new API token
/// (labelled `sign-in`) that expires when idle or after its absolute limit (`sign_in_idle_minutes`,
/// `sign_in_max_hours`). A wrong company, e-mail or password is the same 401.
#[utoipa::path(
    post, path = "/api/v1/sign-in", tag = "people", operation_id = "people_sign_in",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 422, description = "a field is invalid: details name it"))
)]
pub async fn sign_in(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: SignInRequest = json_body(&body)?;
    let candidate = state
        .store
        .sign_in_candidate(&request.company, &request.email.trim().to_lowercase())
        .await?
        .ok_or(ApiError::SignInRefused)?;
    if !password_matches(&request.password, &candidate.password_hash)? {
        return Err(ApiError::SignInRefused);
    }
    let issued = state
        .store
        .create_token(
            &candidate.company,
            &debrief_store::NewToken {
                user_id: &candidate.user_id,
                label: "sign-in",
                role: None,
                created_by: &candidate.user_id,
                lifetime: Some(state.limits.sign_in),
            },
            state.clock.now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": issued.secret.expose(), "info": issued.info})),
    ))
}
