//! `/api/v1/tokens`: an admin lists, creates and revokes the company's API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use debrief_store::TokenInfo;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{AdminCaller, Caller};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
pub struct NewTokenRequest {
    label: String,
}

/// `GET /api/v1/tokens`.
pub async fn list_tokens(
    State(state): State<AppState>,
    AdminCaller(principal): AdminCaller,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    Ok(Json(state.store.list_tokens(&principal.company.id).await?))
}

/// `POST /api/v1/tokens`: a new token for the calling user; its secret is in this answer only.
pub async fn create_token(
    State(state): State<AppState>,
    AdminCaller(principal): AdminCaller,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: NewTokenRequest = serde_json::from_slice(&body).map_err(|error| {
        if error.is_data() {
            ApiError::InvalidRecord(debrief_core::RecordError::from_serde(error, None))
        } else {
            ApiError::malformed_json(&error)
        }
    })?;
    let label = request.label.trim();
    if label.is_empty() || label.len() > 100 {
        return Err(ApiError::InvalidRecord(debrief_core::RecordError::invalid(
            "label",
            "must be 1 to 100 characters",
        )));
    }
    let issued = state
        .store
        .create_token(&principal.company.id, &principal.user_id, label)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": issued.secret.expose(), "info": issued.info})),
    ))
}

/// `DELETE /api/v1/tokens/{id}`: another company's token is a 404.
pub async fn revoke_token(
    State(state): State<AppState>,
    AdminCaller(principal): AdminCaller,
    Path(token_id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .revoke_token(&principal.company.id, &token_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/company`: the caller's company.
pub async fn get_company(Caller(principal): Caller) -> Json<debrief_store::Company> {
    Json(principal.company)
}
