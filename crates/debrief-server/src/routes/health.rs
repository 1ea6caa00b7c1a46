//! Liveness and readiness probes (no authentication).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the store answers too.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.ping().await.map_err(|error| {
        tracing::warn!(error = %error, "store is not reachable");
        ApiError::NotReady
    })?;
    Ok(Json(
        json!({"status": "ready", "backend": state.store.backend().as_str()}),
    ))
}
