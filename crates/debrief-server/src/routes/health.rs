//! Liveness and readiness probes (no authentication).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// `GET /healthz`: the process answers.
#[utoipa::path(
    get, path = "/healthz", tag = "health", operation_id = "health_healthz",
    responses((status = 200, description = "success"))
)]
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the store answers too.
#[utoipa::path(
    get, path = "/readyz", tag = "health", operation_id = "health_readyz",
    responses((status = 200, description = "success"))
)]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.ping().await.map_err(|error| {
        tracing::warn!(error = %error, "store is not reachable");
        ApiError::NotReady
    })?;
    Ok(Json(
        json!({"status": "ready", "backend": state.store.backend().as_str()}),
    ))
}
