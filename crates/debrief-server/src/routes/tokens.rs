//! `/api/v1/tokens`: an admin lists, creates and revokes the company's API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use debrief_store::{NewToken, TokenInfo};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{check_grant, need, Caller, Permitted};
use crate::error::{ApiError, ApiResult};
use crate::routes::records::json_body;
use crate::AppState;

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    label: String,
    /// An integration token's role: it acts with that role's permissions, not its user's.
    #[serde(default)]
    role: Option<String>,
    /// The user the token is for (default: the caller).
    #[serde(default)]
    user_id: Option<String>,
}

/// A user missing from the company is a 422 on `user_id`.
fn unknown_user(error: debrief_store::StoreError) -> ApiError {
    match error {
        debrief_store::StoreError::NotFound => ApiError::InvalidRecord(
            debrief_core::RecordError::invalid("user_id", "no such user in the company"),
        ),
        other => other.into(),
    }
}

/// `GET /api/v1/tokens`.
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "tokens", operation_id = "tokens_list_tokens",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage")),
    security(("bearer" = []))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    Ok(Json(state.store.list_tokens(&principal.company.id).await?))
}

/// `POST /api/v1/tokens`: a new token for the calling user (or `user_id`), or with `role` an
/// integration token; its secret is in this answer only. It never holds a permission its
/// creator lacks (403), now or later: it acts with at most its creator's current rights.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "tokens", operation_id = "tokens_create_token",
    request_body(content = serde_json::Value, content_type = "application/json"),
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage"), (status = 422, description = "a field is invalid: details name it")),
    security(("bearer" = []))
)]
pub async fn create_token(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: NewTokenRequest = json_body(&body)?;
    let label = request.label.trim();
    if label.is_empty() || label.len() > 100 {
        return Err(ApiError::InvalidRecord(debrief_core::RecordError::invalid(
            "label",
            "must be 1 to 100 characters",
        )));
    }
    let company = &principal.company.id;
    let user_id = request.user_id.as_deref().unwrap_or(&principal.user_id);
    // The token acts with its role's permissions, else its user's: none beyond the caller's.
    let role = match &request.role {
        Some(role) => {
            crate::routes::people::check_role_exists(&state, company, role).await?;
            role.clone()
        }
        None => {
            state
                .store
                .get_user(company, user_id)
                .await
                .map_err(unknown_user)?
                .role
        }
    };
    let granted = state.store.role_permissions(company, &role).await?;
    check_grant(
        &principal,
        granted,
        &format!("a token with the role {role}"),
    )?;
    if user_id != principal.user_id {
        // A token acting as another user (their name on edits and audits) only for one who
        // holds all that user holds.
        let target = state
            .store
            .get_user(company, user_id)
            .await
            .map_err(unknown_user)?;
        let held = state.store.role_permissions(company, &target.role).await?;
        check_grant(&principal, held, &format!("user {}", target.name))?;
    }
    let issued = state
        .store
        .create_token(
            company,
            &NewToken {
                user_id,
                label,
                role: request.role.as_deref(),
                created_by: &principal.user_id,
                lifetime: None,
            },
            state.clock.now(),
        )
        .await
        .map_err(unknown_user)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": issued.secret.expose(), "info": issued.info})),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: another company's token is a 404.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "tokens", operation_id = "tokens_revoke_token",
    params(("id" = String, Path)),
    responses((status = 204, description = "success"), (status = 401, description = "no valid bearer token"), (status = 403, description = "missing permission roles.manage")),
    security(("bearer" = []))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Permitted(principal, _): Permitted<need::RolesManage>,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    let company = &principal.company.id;
    // Revoking the tokens of one who holds more than the caller is managing them.
    let owner = state
        .store
        .list_tokens(company)
        .await?
        .into_iter()
        .find(|token| token.id == token_id)
        .ok_or(ApiError::NotFound)?;
    if owner.user_id != principal.user_id {
        let user = state.store.get_user(company, &owner.user_id).await?;
        let held = state.store.role_permissions(company, &user.role).await?;
        check_grant(&principal, held, &format!("a token of user {}", user.name))?;
    }
    state.store.revoke_token(company, &token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/company`: the caller's company.
#[utoipa::path(
    get, path = "/api/v1/company", tag = "tokens", operation_id = "tokens_get_company",
    responses((status = 200, description = "success"), (status = 401, description = "no valid bearer token")),
    security(("bearer" = []))
)]
pub async fn get_company(Caller(principal): Caller) -> Json<debrief_store::Company> {
    Json(principal.company)
}
