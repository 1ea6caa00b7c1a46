//! `/api/v1/taxonomy`: the issue types a company's summaries are tagged with — its own
//! taxonomy file (FORMATS.md section 5), or the built-in IT taxonomy.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use debrief_core::RecordError;
use debrief_engine::classify::Taxonomy;
use serde_json::{json, Value};

use crate::auth::{AdminCaller, Caller};
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// `GET /api/v1/taxonomy`: `{"source": "company" | "builtin", "issue_types": […]}`.
pub async fn get_taxonomy(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> ApiResult<Json<Value>> {
    let (source, taxonomy) = match state.store.taxonomy(&principal.company.id).await? {
        Some(text) => (
            "company",
            serde_json::from_str::<Value>(&text)
                .map_err(|error| ApiError::Internal(format!("stored taxonomy: {error}")))?,
        ),
        None => (
            "builtin",
            serde_json::to_value(Taxonomy::builtin().issue_types)
                .map(|types| json!({"issue_types": types}))
                .map_err(|error| ApiError::Internal(format!("built-in taxonomy: {error}")))?,
        ),
    };
    Ok(Json(
        json!({"source": source, "issue_types": taxonomy["issue_types"]}),
    ))
}

/// `PUT /api/v1/taxonomy`: replaces the company's taxonomy; summaries written from now on use
/// it.
pub async fn put_taxonomy(
    State(state): State<AppState>,
    AdminCaller(principal): AdminCaller,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the taxonomy is not UTF-8 text".into()))?;
    Taxonomy::parse_json(text).map_err(|error| {
        ApiError::InvalidRecord(RecordError::invalid("issue_types", error.to_string()))
    })?;
    state
        .store
        .set_taxonomy(&principal.company.id, Some(text))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/taxonomy`: back to the built-in taxonomy.
pub async fn delete_taxonomy(
    State(state): State<AppState>,
    AdminCaller(principal): AdminCaller,
) -> ApiResult<StatusCode> {
    state
        .store
        .set_taxonomy(&principal.company.id, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
