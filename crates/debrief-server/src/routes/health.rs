//! Liveness and readiness probes (no authentication).

use axum::extract::State;
use axum::response::IntoResponse;
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

/// `GET /readyz`: the store answers too, and every background worker has made progress
/// within the stall limit (`worker_stall_seconds`).
#[utoipa::path(
    get, path = "/readyz", tag = "health", operation_id = "health_readyz",
    responses((status = 200, description = "success"), (status = 503, description = "not ready"))
)]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.ping().await.map_err(|error| {
        tracing::warn!(error = %error, "store is not reachable");
        ApiError::NotReady(String::from("the store is not reachable"))
    })?;
    let stalled = state.metrics.stalled(std::time::Instant::now());
    if let Some(worker) = stalled.first() {
        return Err(ApiError::NotReady(format!(
            "the {} worker has made no progress for {} s",
            worker.worker, worker.idle_seconds
        )));
    }
    Ok(Json(
        json!({"status": "ready", "backend": state.store.backend().as_str()}),
    ))
}

/// `GET /metrics`: this process's metrics in the OpenMetrics text format (no authentication,
/// like the probes: counts and queue depths, no tenant's data).
#[utoipa::path(
    get, path = "/metrics", tag = "health", operation_id = "health_metrics",
    responses((status = 200, description = "success"))
)]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let queues = state.store.queue_depths(state.clock.now()).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&queues),
    ))
}
